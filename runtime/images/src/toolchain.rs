//! Toolchain checks shared by the library and `build.rs` (which includes this file with
//! `#[path]`), so it must only use `std`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const WASI_TARGET: &str = "wasm32-wasip2";
pub const TARGET_MISSING_MESSAGE: &str =
    "the wasm32-wasip2 target is not installed: run 'rustup target add wasm32-wasip2'";

/// The rustc cargo would use: `$RUSTC`, else `rustc` from PATH (a rustup proxy that honours
/// the toolchain selected for `dir`).
pub fn rustc_program() -> OsString {
    std::env::var_os("RUSTC")
        .filter(|rustc| !rustc.is_empty())
        .unwrap_or_else(|| OsString::from("rustc"))
}

/// Whether the standard library for wasm32-wasip2 is installed for the toolchain used in
/// `dir`. `None` when rustc itself could not be asked (cargo will report that better).
pub fn wasi_target_installed(dir: &Path) -> Option<bool> {
    let output = Command::new(rustc_program())
        .args(["--print", "target-libdir", "--target", WASI_TARGET])
        .current_dir(dir)
        .output()
        .ok()?;
    if !output.status.success() {
        return Some(false);
    }
    let libdir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    Some(libdir.is_dir())
}
