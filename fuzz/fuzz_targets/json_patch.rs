//! JSON patch (RFC 6902, `application/json-patch+json`).
//! Input: `document` and `patch` JSON texts separated by a 0xFF byte.
//!
//! Invariants beyond "no panic":
//! * the empty patch `[]` returns an object or array document unchanged;
//! * after a successful patch, a `test` of each top-level member of the result against
//!   its own value passes (a `test` of path "" fails in json-patch v4, as here);
//! * errors carry a kube-apiserver status code and a message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use wasmpod_apimachinery::apply_json_patch;

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
    match apply_json_patch(&document, &patch) {
        Ok(patched) => {
            let tests: Vec<Value> = patched
                .as_object()
                .into_iter()
                .flatten()
                .map(|(key, value)| {
                    let pointer = format!("/{}", key.replace('~', "~0").replace('/', "~1"));
                    json!({"op": "test", "path": pointer, "value": value})
                })
                .collect();
            let tested = apply_json_patch(&patched, &Value::Array(tests))
                .unwrap_or_else(|e| panic!("{patched} does not test equal to itself: {e}"));
            assert_eq!(tested, patched);
        }
        Err(error) => {
            assert!(matches!(error.http_status(), 400 | 422 | 500));
            assert!(!error.to_string().is_empty());
        }
    }
    // json-patch v4 only decodes objects and arrays as documents (a bare number is
    // "cannot unmarshal number into Go value of type jsonpatch.partialDoc").
    if document.is_object() || document.is_array() {
        let unchanged = apply_json_patch(&document, &json!([])).expect("the empty patch applies");
        assert_eq!(unchanged, document);
    }
});
