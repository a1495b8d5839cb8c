//! Builds the guest components in `<repo>/guest-apps` (a separate cargo workspace) for
//! wasm32-wasip2 and writes `$OUT_DIR/builtin_images.rs`, which embeds them, so the normal
//! host `cargo build` is all it takes to get the built-in images.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{exit, Command, Stdio};

#[path = "src/cargo_messages.rs"]
mod cargo_messages;
#[path = "src/toolchain.rs"]
mod toolchain;

use cargo_messages::wasm_artifacts;
use toolchain::{wasi_target_installed, TARGET_MISSING_MESSAGE, WASI_TARGET};

/// Variables cargo sets for build scripts (or that configure the outer build) which would
/// otherwise redirect or reconfigure the nested guest build. The jobserver
/// (`CARGO_MAKEFLAGS`) is deliberately kept so the nested build shares our job slots.
const LEAKING_VARS: &[&str] = &[
    "RUSTFLAGS",
    "RUSTDOCFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_ENCODED_RUSTDOCFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_BUILD_RUSTDOCFLAGS",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CLIPPY_ARGS",
    "CLIPPY_CONF_DIR",
    "RUSTC_LINKER",
    "RUSTDOC",
    "TARGET",
    "HOST",
    "OUT_DIR",
    "OPT_LEVEL",
    "PROFILE",
    "DEBUG",
    "NUM_JOBS",
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_MANIFEST_LINKS",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_CRATE_NAME",
    "CARGO_RUSTC_CURRENT_DIR",
];
const LEAKING_PREFIXES: &[&str] = &[
    "CARGO_PKG_",
    "CARGO_CFG_",
    "CARGO_FEATURE_",
    "DEP_",
    "__CARGO",
];

fn main() {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let repo = manifest_dir
        .ancestors()
        .nth(2)
        .unwrap_or_else(|| fail("runtime/images is not two levels below the repository root"))
        .to_path_buf();
    let guests = repo.join("guest-apps");
    emit_rerun_triggers(&guests, &repo.join("wit"));

    if wasi_target_installed(&guests) == Some(false) {
        fail(TARGET_MISSING_MESSAGE);
    }
    let components = build_guests(&guests, &repo.join("target").join("guest-apps"));
    if components.is_empty() {
        fail("building guest-apps produced no .wasm components");
    }
    let out_dir = PathBuf::from(env("OUT_DIR"));
    write_embedding(&out_dir, &components);
}

fn emit_rerun_triggers(guests: &Path, wit: &Path) {
    // Directories make cargo rescan everything below them.
    let mut watched = vec![
        guests.join("Cargo.toml"),
        guests.join("Cargo.lock"),
        wit.to_path_buf(),
    ];
    let members = std::fs::read_dir(guests)
        .unwrap_or_else(|error| fail(&format!("cannot read {}: {error}", guests.display())));
    for member in members.flatten().map(|entry| entry.path()) {
        if member.join("Cargo.toml").is_file() {
            watched.push(member.join("Cargo.toml"));
            watched.push(member.join("src"));
        }
    }
    for path in watched {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// Runs the nested release build and returns the `.wasm` files it reports.
fn build_guests(guests: &Path, target_dir: &Path) -> Vec<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["build", "--release", "--target", WASI_TARGET])
        .arg("--manifest-path")
        .arg(guests.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir)
        .arg("--message-format=json-render-diagnostics")
        .current_dir(guests)
        .stdin(Stdio::null())
        // Our stdout is read by cargo as directives, so capture the JSON messages.
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (name, _) in std::env::vars_os() {
        let name_text = name.to_string_lossy();
        let leaks = LEAKING_VARS.contains(&name_text.as_ref())
            || LEAKING_PREFIXES
                .iter()
                .any(|prefix| name_text.starts_with(prefix));
        if leaks {
            command.env_remove(&name);
        }
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|error| fail(&format!("cannot run cargo for guest-apps: {error}")));
    let mut components = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            components.extend(wasm_artifacts(&line));
        }
    }
    let status = child
        .wait()
        .unwrap_or_else(|error| fail(&format!("waiting for cargo: {error}")));
    if !status.success() {
        fail(&format!(
            "building guest-apps for {WASI_TARGET} failed ({status})"
        ));
    }
    components.sort();
    components.dedup();
    components
}

/// Copies the components next to the generated source so that `include_bytes!` never reads
/// a file another build could be rewriting.
/// Guests that ship inside wasmpod (see src/builtin.rs for the references they answer to);
/// the others (test guests) stay build artifacts.
const SEEDED_IMAGES: &[&str] = &[
    "health_image",
    "httpd",
    "busybox",
    "agnhost",
    "goproxy",
    "nginx",
    "grpc_health",
    "redis",
];

fn write_embedding(out_dir: &Path, components: &[PathBuf]) {
    let mut source = String::from("static BUILTIN_IMAGES: &[(&str, &[u8])] = &[\n");
    for component in components {
        let stem = component
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or_else(|| fail(&format!("odd artifact name {}", component.display())));
        if let Some(dir) = component.parent().and_then(|d| d.to_str()) {
            println!("cargo:rustc-env=WASMPOD_GUEST_ARTIFACTS={dir}");
        }
        if !SEEDED_IMAGES.contains(&stem) {
            continue;
        }
        let copy = out_dir.join(format!("{stem}.wasm"));
        std::fs::copy(component, &copy).unwrap_or_else(|error| {
            fail(&format!(
                "copying {} to {}: {error}",
                component.display(),
                copy.display()
            ))
        });
        let reference = stem.to_string();
        let copy_text = copy
            .to_str()
            .unwrap_or_else(|| fail("OUT_DIR is not UTF-8"));
        let _ = writeln!(
            source,
            "    ({reference:?}, include_bytes!({copy_text:?})),"
        );
    }
    source.push_str("];\n");
    let target = out_dir.join("builtin_images.rs");
    std::fs::write(&target, source)
        .unwrap_or_else(|error| fail(&format!("writing {}: {error}", target.display())));
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| fail(&format!("cargo did not set {name}")))
}

/// Build scripts report failure through stderr and a non-zero exit; cargo shows both.
fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    exit(1)
}
