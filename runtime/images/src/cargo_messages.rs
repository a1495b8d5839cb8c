//! Reading cargo's `--message-format=json` output. Shared with `build.rs` (included there
//! with `#[path]`), so it may only use `std` and `serde_json`.

use std::path::PathBuf;

/// The `.wasm` files named by one `compiler-artifact` message (nothing for other lines).
pub fn wasm_artifacts(line: &str) -> Vec<PathBuf> {
    let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
        return Vec::new();
    };
    if message["reason"] != "compiler-artifact" {
        return Vec::new();
    }
    message["filenames"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|name| name.as_str())
        .filter(|name| name.ends_with(".wasm"))
        .map(PathBuf::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_wasm_files_from_artifact_messages() {
        let artifact = r#"{"reason":"compiler-artifact","target":{"kind":["cdylib"]},"filenames":["/t/wasm32-wasip2/release/app.wasm"]}"#;
        assert_eq!(
            wasm_artifacts(artifact),
            vec![PathBuf::from("/t/wasm32-wasip2/release/app.wasm")]
        );
        let rlib =
            r#"{"reason":"compiler-artifact","filenames":["/t/libdep.rlib","/t/libdep.rmeta"]}"#;
        assert!(wasm_artifacts(rlib).is_empty());
        assert!(wasm_artifacts(r#"{"reason":"build-finished","success":true}"#).is_empty());
        assert!(wasm_artifacts("not json").is_empty());
    }
}
