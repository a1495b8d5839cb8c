//! Strategic merge patch as kube-apiserver applies a `kubectl patch`/`apply` body.
//! Input: one selector byte (which kind's patch metadata), then `original` and `patch`
//! JSON texts separated by a 0xFF byte (never valid inside UTF-8 JSON).
//!
//! Invariants beyond "no panic":
//! * an accepted patch yields a JSON object, and stripping directives from it terminates;
//! * the empty patch `{}` changes nothing;
//! * errors carry an HTTP status kube-apiserver would answer with (400/422/500).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use wasmpod_apimachinery::{strategic_merge_patch, strip_patch_directives, PatchKind};

const KINDS: &[&str] = &[
    "Pod",
    "PodTemplate",
    "ReplicaSet",
    "ReplicationController",
    "Deployment",
    "Service",
    "ConfigMap",
    "Secret",
    "Event",
    "Other",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Some(split) = rest.iter().position(|b| *b == 0xFF) else {
        return;
    };
    let (Ok(original), Ok(patch)) = (
        serde_json::from_slice::<Value>(&rest[..split]),
        serde_json::from_slice::<Value>(&rest[split + 1..]),
    ) else {
        return;
    };
    let kind = KINDS[selector as usize % KINDS.len()];
    let schema = PatchKind::from_kind(kind).schema();
    match strategic_merge_patch(&original, &patch, schema) {
        Ok(mut patched) => {
            assert!(
                patched.is_object(),
                "patch result is not an object: {patched}"
            );
            strip_patch_directives(&mut patched);
        }
        Err(error) => {
            assert!(matches!(error.http_status(), 400 | 422 | 500));
            assert!(!error.to_string().is_empty());
        }
    }
    if original.is_object() {
        let unchanged = strategic_merge_patch(&original, &json!({}), schema)
            .expect("the empty patch applies to any object");
        assert_eq!(unchanged, original, "the empty patch changed the object");
    }
});
