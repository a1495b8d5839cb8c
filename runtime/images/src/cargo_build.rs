//! `ImageStore::build`: compile a crate to a wasm32-wasip2 component with cargo.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::cargo_messages::wasm_artifacts;
use crate::error::ImageError;
use crate::toolchain::{wasi_target_installed, WASI_TARGET};

/// Runs the release build in `dir` (cargo's progress and diagnostics go to our stderr)
/// and returns the single `.wasm` artifact it produced.
pub(crate) fn build_component(dir: &Path) -> Result<PathBuf, ImageError> {
    if wasi_target_installed(dir) == Some(false) {
        return Err(ImageError::WasiTargetMissing);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(cargo)
        .args(["build", "--release", "--target", WASI_TARGET])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| ImageError::CargoSpawn {
            dir: dir.to_path_buf(),
            source,
        })?;
    let mut artifacts = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            for artifact in wasm_artifacts(&line) {
                if !artifacts.contains(&artifact) {
                    artifacts.push(artifact);
                }
            }
        }
    }
    let status = child.wait().map_err(|source| ImageError::CargoSpawn {
        dir: dir.to_path_buf(),
        source,
    })?;
    if !status.success() {
        return Err(ImageError::BuildFailed {
            dir: dir.to_path_buf(),
            status,
        });
    }
    match artifacts.len() {
        0 => Err(ImageError::NoBuildArtifact {
            dir: dir.to_path_buf(),
        }),
        1 => Ok(artifacts.remove(0)),
        _ => Err(ImageError::SeveralBuildArtifacts {
            dir: dir.to_path_buf(),
            names: artifacts
                .iter()
                .map(|path| {
                    path.file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect(),
        }),
    }
}
