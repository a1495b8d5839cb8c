//! Strict decoding. k8s-openapi's `Deserialize` silently skips fields it does not
//! know, so unknown fields are found by walking the input and checking that every
//! key survived a decode/re-encode round trip. Only keys are compared (values may be
//! re-formatted, e.g. timestamps), and `null` inputs are skipped because the typed
//! value drops them just like Go's decoder does.

use serde_json::Value;

/// Paths (API-server notation, e.g. `spec.containers[0].livenessProbe.httpGet.pth`)
/// of every field present in `input` but absent from `reencoded`, sorted.
pub fn unknown_fields(input: &Value, reencoded: &Value) -> Vec<String> {
    let mut found = Vec::new();
    collect(input, reencoded, String::new(), &mut found);
    found.sort();
    found
}

fn collect(input: &Value, reencoded: &Value, path: String, found: &mut Vec<String>) {
    match (input, reencoded) {
        (Value::Object(input), Value::Object(reencoded)) => {
            for (key, value) in input {
                if value.is_null() {
                    continue;
                }
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match reencoded.get(key) {
                    Some(known) => collect(value, known, child, found),
                    None => found.push(child),
                }
            }
        }
        (Value::Array(input), Value::Array(reencoded)) => {
            for (index, (value, known)) in input.iter().zip(reencoded).enumerate() {
                collect(value, known, format!("{path}[{index}]"), found);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_missing_keys_with_paths_sorted() {
        let input = json!({
            "z": 1,
            "spec": {"containers": [{"name": "a"}, {"name": "b", "imagee": "x"}], "n": null},
            "a": {"b": 1}
        });
        let reencoded = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        assert_eq!(
            unknown_fields(&input, &reencoded),
            vec!["a", "spec.containers[1].imagee", "z"]
        );
    }
}
