//! JSON merge patch (RFC 7386, `application/merge-patch+json`).
//! Input: `document` and `patch` JSON texts separated by a 0xFF byte.
//!
//! Invariants beyond "no panic": a merge patch is idempotent (applying it to its own
//! result changes nothing), and errors carry a kube-apiserver status code.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use wasmpod_apimachinery::json_merge_patch;

fuzz_target!(|data: &[u8]| {
    let Some(split) = data.iter().position(|b| *b == 0xFF) else {
        return;
    };
    let (Ok(document), Ok(patch)) = (
        serde_json::from_slice::<Value>(&data[..split]),
        serde_json::from_slice::<Value>(&data[split + 1..]),
    ) else {
        return;
    };
    match json_merge_patch(&document, &patch) {
        Ok(patched) => {
            let twice = json_merge_patch(&patched, &patch)
                .expect("a patch that applied once applies to its own result");
            assert_eq!(twice, patched, "merge patch is not idempotent");
        }
        Err(error) => {
            assert!(matches!(error.http_status(), 400 | 422 | 500));
            assert!(!error.to_string().is_empty());
        }
    }
});
