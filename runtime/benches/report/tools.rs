//! The outside programs the report compares with or measures through: found on PATH, or
//! (wasmtime-cli) built once into `target/bench-tools`.

use std::path::PathBuf;
use std::process::{Command, Stdio};

pub const WASMTIME_CLI_VERSION: &str = "48.0.8";

pub fn installed(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::repo_file("target"))
}

/// `wasmtime` of the same major version as wasmpod's engine: built with `cargo install` into
/// `target/bench-tools` the first time (~15 min on two cores; `WASMPOD_BENCH_WASMTIME=PATH`
/// uses another binary, `WASMPOD_BENCH_WASMTIME=skip` skips the comparison).
pub fn wasmtime_cli() -> Option<PathBuf> {
    match std::env::var("WASMPOD_BENCH_WASMTIME") {
        Ok(value) if value == "skip" => return None,
        Ok(path) => return Some(PathBuf::from(path)),
        Err(_) => {}
    }
    let root = target_dir().join("bench-tools");
    let binary = root.join("bin/wasmtime");
    if binary.exists() {
        return Some(binary);
    }
    println!(
        "building wasmtime-cli {WASMTIME_CLI_VERSION} into {} for the `wasmtime serve` comparison (once, ~15 min)…",
        root.display()
    );
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "install",
            "--locked",
            &format!("wasmtime-cli@{WASMTIME_CLI_VERSION}"),
            "--root",
        ])
        .arg(&root)
        .status();
    match status {
        Ok(status) if status.success() && binary.exists() => Some(binary),
        _ => {
            println!("could not build wasmtime-cli: the `wasmtime serve` rows are skipped");
            None
        }
    }
}
