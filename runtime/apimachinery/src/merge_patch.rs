//! JSON merge patch (RFC 7386) as kube-apiserver applies it: `jsonpatch.MergePatch` of
//! evanphx/json-patch v4, including its treatment of non-object documents and nulls.

use serde_json::{Map, Value};

use crate::error::MergePatchError;
use crate::MAX_DEPTH;

/// Apply `patch` to `doc`. An object patch merges recursively (`null` deletes); a patch that
/// is an array replaces the document (nulls nested in its objects pruned); a `null` or scalar
/// patch is rejected as Go rejects it.
pub fn json_merge_patch(doc: &Value, patch: &Value) -> Result<Value, MergePatchError> {
    match (doc, patch) {
        (_, Value::Null) => Err(MergePatchError::BadJsonPatch),
        (Value::Null, _) => Err(MergePatchError::BadJsonDoc),
        (Value::Object(doc), Value::Object(patch)) => {
            let mut merged = doc.clone();
            merge_docs(&mut merged, patch, 0)?;
            Ok(Value::Object(merged))
        }
        // Not an object document: the result is the patch itself, nulls pruned.
        (_, Value::Object(patch)) => Ok(Value::Object(pruned_doc(patch, 0)?)),
        (_, Value::Array(items)) => Ok(Value::Array(pruned_array(items, 0)?)),
        _ => Err(MergePatchError::BadJsonPatch),
    }
}

fn merge_docs(
    doc: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    depth: usize,
) -> Result<(), MergePatchError> {
    if depth > MAX_DEPTH {
        return Err(MergePatchError::TooDeep(MAX_DEPTH));
    }
    for (key, patch_value) in patch {
        if patch_value.is_null() {
            doc.remove(key);
            continue;
        }
        match (doc.get_mut(key), patch_value) {
            (Some(Value::Object(current)), Value::Object(patch_map)) => {
                merge_docs(current, patch_map, depth + 1)?;
            }
            // Go's `merge` returns a non-object patch over an object unpruned.
            (Some(Value::Object(_)), _) => {
                doc.insert(key.clone(), patch_value.clone());
            }
            _ => {
                doc.insert(key.clone(), pruned(patch_value, depth + 1)?);
            }
        }
    }
    Ok(())
}

/// Go's `pruneNulls`: drop null members of objects, recursively (array elements stay).
fn pruned(value: &Value, depth: usize) -> Result<Value, MergePatchError> {
    Ok(match value {
        Value::Object(map) => Value::Object(pruned_doc(map, depth)?),
        Value::Array(items) => Value::Array(pruned_array(items, depth)?),
        other => other.clone(),
    })
}

fn pruned_doc(
    map: &Map<String, Value>,
    depth: usize,
) -> Result<Map<String, Value>, MergePatchError> {
    if depth > MAX_DEPTH {
        return Err(MergePatchError::TooDeep(MAX_DEPTH));
    }
    let mut out = Map::new();
    for (k, v) in map {
        if !v.is_null() {
            out.insert(k.clone(), pruned(v, depth + 1)?);
        }
    }
    Ok(out)
}

fn pruned_array(items: &[Value], depth: usize) -> Result<Vec<Value>, MergePatchError> {
    if depth > MAX_DEPTH {
        return Err(MergePatchError::TooDeep(MAX_DEPTH));
    }
    items.iter().map(|v| pruned(v, depth + 1)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc7386_appendix_a_examples() {
        let cases = [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (
                json!({"a":"b","b":"c"}),
                json!({"a":null}),
                json!({"b":"c"}),
            ),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
            (
                json!({"a":{"b":"c"}}),
                json!({"a":{"b":"d","c":null}}),
                json!({"a":{"b":"d"}}),
            ),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (
                json!({}),
                json!({"a":{"bb":{"ccc":null}}}),
                json!({"a":{"bb":{}}}),
            ),
        ];
        for (doc, patch, want) in cases {
            assert_eq!(
                json_merge_patch(&doc, &patch).unwrap(),
                want,
                "{doc} + {patch}"
            );
        }
    }

    #[test]
    fn array_and_scalar_documents() {
        assert_eq!(
            json_merge_patch(&json!(["a", "b"]), &json!(["c", "d"])).unwrap(),
            json!(["c", "d"])
        );
        assert_eq!(
            json_merge_patch(&json!(["a"]), &json!({"a":"b","c":null})).unwrap(),
            json!({"a":"b"})
        );
        assert_eq!(
            json_merge_patch(&json!({"a":"b"}), &json!("x"))
                .unwrap_err()
                .to_string(),
            "Invalid JSON Patch"
        );
        assert_eq!(
            json_merge_patch(&json!({"a":"b"}), &Value::Null)
                .unwrap_err()
                .to_string(),
            "Invalid JSON Patch"
        );
        assert_eq!(
            json_merge_patch(&Value::Null, &json!({}))
                .unwrap_err()
                .to_string(),
            "Invalid JSON Document"
        );
    }

    #[test]
    fn a_scale_patch_sets_replicas() {
        let doc = json!({"spec": {"replicas": 1, "selector": {"matchLabels": {"app": "x"}}}});
        let out = json_merge_patch(&doc, &json!({"spec": {"replicas": 3}})).unwrap();
        assert_eq!(
            out,
            json!({"spec": {"replicas": 3, "selector": {"matchLabels": {"app": "x"}}}})
        );
    }
}
