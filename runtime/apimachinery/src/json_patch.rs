//! JSON patch (RFC 6902) as kube-apiserver applies it: evanphx/json-patch v4 (`DecodePatch`,
//! `Patch.Apply`), with its error texts and its leniencies (`replace` of a missing object
//! member adds it, negative array indices count from the end, `test` compares objects by the
//! document's members only).

use serde_json::{Map, Value};

use crate::error::JsonPatchError;
use crate::MAX_DEPTH;

/// Apply an RFC 6902 patch (`patch` is the decoded request body) to `doc`.
/// All-or-nothing: on error the caller's document is untouched.
pub fn apply_json_patch(doc: &Value, patch: &Value) -> Result<Value, JsonPatchError> {
    let operations = decode_patch(patch)?;
    let mut doc = match doc {
        Value::Object(_) | Value::Array(_) => doc.clone(),
        other => {
            return Err(JsonPatchError::Apply(format!(
                "json: cannot unmarshal {} into Go value of type jsonpatch.partialDoc",
                json_type_word(other)
            )))
        }
    };
    for op in operations {
        let result = match op_kind(op).as_str() {
            "add" => add(&mut doc, op),
            "remove" => remove(&mut doc, op),
            "replace" => replace(&mut doc, op),
            "move" => move_op(&mut doc, op),
            "test" => test(&mut doc, op),
            "copy" => copy(&mut doc, op),
            other => Err(format!("Unexpected kind: {other}")),
        };
        result.map_err(JsonPatchError::Apply)?;
    }
    Ok(doc)
}

fn decode_patch(patch: &Value) -> Result<Vec<&Map<String, Value>>, JsonPatchError> {
    match patch {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Object(op) => Ok(op),
                Value::Null => Err(JsonPatchError::Decode(
                    "json: cannot unmarshal null into Go value of type jsonpatch.Operation".into(),
                )),
                other => Err(JsonPatchError::Decode(format!(
                    "json: cannot unmarshal {} into Go value of type jsonpatch.Operation",
                    json_type_word(other)
                ))),
            })
            .collect(),
        other => Err(JsonPatchError::Decode(format!(
            "json: cannot unmarshal {} into Go value of type jsonpatch.Patch",
            json_type_word(other)
        ))),
    }
}

/// encoding/json's name for a JSON value's type in `UnmarshalTypeError`s.
fn json_type_word(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

type Op = Map<String, Value>;

fn op_kind(op: &Op) -> String {
    match op.get("op") {
        Some(Value::String(s)) => s.clone(),
        _ => "unknown".into(),
    }
}

/// `Operation.Path()` / `From()`: the string field, or the Go error text.
fn string_field(op: &Op, name: &str, missing: &str) -> Result<String, String> {
    match op.get(name) {
        None | Some(Value::Null) => Err(format!("{missing}: missing value")),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!(
            "json: cannot unmarshal {} into Go value of type string",
            json_type_word(other)
        )),
    }
}

fn path_of(op: &Op) -> Result<String, String> {
    string_field(op, "path", "operation missing path field")
}

fn from_of(op: &Op) -> Result<String, String> {
    string_field(op, "from", "operation, missing from field")
}

/// The operation's value; an absent `value` behaves as JSON null, as in Go.
fn value_of(op: &Op) -> Value {
    op.get("value").cloned().unwrap_or(Value::Null)
}

/// RFC 6901 token decoding.
fn decode_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Go's `findObject`: the container holding the last path token, and that token. Intermediate
/// tokens must resolve to objects or arrays.
fn find_container<'a>(doc: &'a mut Value, path: &str) -> Option<(&'a mut Value, String)> {
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() < 2 {
        return None;
    }
    if parts.len() > MAX_DEPTH + 2 {
        return None;
    }
    let mut current = doc;
    for part in &parts[1..parts.len() - 1] {
        let token = decode_token(part);
        current = match current {
            Value::Object(map) => map.get_mut(&token).filter(|v| !v.is_null())?,
            Value::Array(items) => {
                let idx = go_atoi(&token).ok()?;
                let idx = usize::try_from(idx).ok()?;
                items.get_mut(idx)?
            }
            _ => return None,
        };
        if !matches!(current, Value::Object(_) | Value::Array(_)) {
            return None;
        }
    }
    Some((current, decode_token(parts[parts.len() - 1])))
}

/// `strconv.Atoi` with its error text.
fn go_atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.Atoi: parsing {s:?}: invalid syntax"));
    }
    s.parse::<i64>()
        .map_err(|_| format!("strconv.Atoi: parsing {s:?}: value out of range"))
}

fn invalid_index(idx: i64) -> String {
    format!("Unable to access invalid index: {idx}: invalid index referenced")
}

/// Container `get`: `Ok(None)` for a missing (or null) object member.
fn container_get(container: &Value, key: &str) -> Result<Option<Value>, String> {
    match container {
        Value::Object(map) => Ok(map.get(key).filter(|v| !v.is_null()).cloned()),
        Value::Array(items) => {
            let idx = go_atoi(key)?;
            match usize::try_from(idx) {
                Ok(i) if i < items.len() => Ok(Some(items[i].clone()).filter(|v| !v.is_null())),
                _ => Err(invalid_index(idx)),
            }
        }
        _ => Err("invalid state detected".into()),
    }
}

fn container_add(container: &mut Value, key: &str, value: Value) -> Result<(), String> {
    match container {
        Value::Object(map) => {
            map.insert(key.to_string(), value);
            Ok(())
        }
        Value::Array(items) => {
            if key == "-" {
                items.push(value);
                return Ok(());
            }
            let idx = go_atoi(key)
                .map_err(|e| format!("value was not a proper array index: '{key}': {e}"))?;
            let size = items.len() as i64 + 1;
            if idx >= size || idx < -size {
                return Err(invalid_index(idx));
            }
            let at = if idx < 0 { idx + size } else { idx };
            items.insert(at as usize, value);
            Ok(())
        }
        _ => Err("invalid state detected".into()),
    }
}

fn container_set(container: &mut Value, key: &str, value: Value) -> Result<(), String> {
    match container {
        Value::Object(map) => {
            map.insert(key.to_string(), value);
            Ok(())
        }
        Value::Array(items) => {
            let idx = go_atoi(key)?;
            match usize::try_from(idx) {
                Ok(i) if i < items.len() => {
                    items[i] = value;
                    Ok(())
                }
                _ => Err(invalid_index(idx)),
            }
        }
        _ => Err("invalid state detected".into()),
    }
}

fn container_remove(container: &mut Value, key: &str) -> Result<(), String> {
    match container {
        Value::Object(map) => match map.remove(key) {
            Some(_) => Ok(()),
            None => Err(format!(
                "Unable to remove nonexistent key: {key}: missing value"
            )),
        },
        Value::Array(items) => {
            let idx = go_atoi(key)?;
            let len = items.len() as i64;
            if idx >= len || idx < -len {
                return Err(invalid_index(idx));
            }
            let at = if idx < 0 { idx + len } else { idx };
            items.remove(at as usize);
            Ok(())
        }
        _ => Err("invalid state detected".into()),
    }
}

fn add(doc: &mut Value, op: &Op) -> Result<(), String> {
    let path = path_of(op)
        .map_err(|_| "add operation failed to decode path: missing value".to_string())?;
    let Some((container, key)) = find_container(doc, &path) else {
        return Err(format!(
            "add operation does not apply: doc is missing path: \"{path}\": missing value"
        ));
    };
    container_add(container, &key, value_of(op))
        .map_err(|e| format!("error in add for path: '{path}': {e}"))
}

fn remove(doc: &mut Value, op: &Op) -> Result<(), String> {
    let path = path_of(op)
        .map_err(|_| "remove operation failed to decode path: missing value".to_string())?;
    let Some((container, key)) = find_container(doc, &path) else {
        return Err(format!(
            "remove operation does not apply: doc is missing path: \"{path}\": missing value"
        ));
    };
    container_remove(container, &key)
        .map_err(|e| format!("error in remove for path: '{path}': {e}"))
}

fn replace(doc: &mut Value, op: &Op) -> Result<(), String> {
    let path = path_of(op).map_err(|e| format!("replace operation failed to decode path: {e}"))?;
    let Some((container, key)) = find_container(doc, &path) else {
        return Err(format!(
            "replace operation does not apply: doc is missing path: {path}: missing value"
        ));
    };
    if container_get(container, &key).is_err() {
        return Err(format!(
            "replace operation does not apply: doc is missing key: {path}: missing value"
        ));
    }
    container_set(container, &key, value_of(op))
        .map_err(|e| format!("error in remove for path: '{path}': {e}"))
}

fn move_op(doc: &mut Value, op: &Op) -> Result<(), String> {
    let from = from_of(op).map_err(|e| format!("move operation failed to decode from: {e}"))?;
    let Some((container, key)) = find_container(doc, &from) else {
        return Err(format!(
            "move operation does not apply: doc is missing from path: {from}: missing value"
        ));
    };
    let value = container_get(container, &key)
        .map_err(|e| format!("error in move for path: '{key}': {e}"))?;
    container_remove(container, &key)
        .map_err(|e| format!("error in move for path: '{key}': {e}"))?;
    let path = path_of(op).map_err(|e| format!("move operation failed to decode path: {e}"))?;
    let Some((container, key)) = find_container(doc, &path) else {
        return Err(format!(
            "move operation does not apply: doc is missing destination path: {path}: missing value"
        ));
    };
    container_add(container, &key, value.unwrap_or(Value::Null))
        .map_err(|e| format!("error in move for path: '{path}': {e}"))
}

fn copy(doc: &mut Value, op: &Op) -> Result<(), String> {
    let from = from_of(op).map_err(|e| format!("copy operation failed to decode from: {e}"))?;
    let Some((container, key)) = find_container(doc, &from) else {
        return Err(format!(
            "copy operation does not apply: doc is missing from path: {from}: missing value"
        ));
    };
    let value = container_get(container, &key)
        .map_err(|e| format!("error in copy for from: '{from}': {e}"))?;
    let path = path_of(op)
        .map_err(|_| "copy operation failed to decode path: missing value".to_string())?;
    let Some((container, key)) = find_container(doc, &path) else {
        return Err(format!(
            "copy operation does not apply: doc is missing destination path: {path}: missing value"
        ));
    };
    container_add(container, &key, value.unwrap_or(Value::Null))
        .map_err(|e| format!("error while adding value during copy: {e}"))
}

fn test(doc: &mut Value, op: &Op) -> Result<(), String> {
    let path = path_of(op).map_err(|e| format!("test operation failed to decode path: {e}"))?;
    let Some((container, key)) = find_container(doc, &path) else {
        return Err(format!(
            "test operation does not apply: is missing path: {path}: missing value"
        ));
    };
    let actual = container_get(container, &key)
        .map_err(|e| format!("error in test for path: '{path}': {e}"))?;
    let failed = || format!("testing value {path} failed: test failed");
    let expected = op.get("value");
    match (actual, expected) {
        // Go decodes `"value": null` into a nil `*json.RawMessage`, so `op.value().raw == nil`
        // holds and a missing or null member passes (a v4 quirk kube-apiserver keeps).
        (None, Some(Value::Null)) => Ok(()),
        (None, _) | (Some(_), None) => Err(failed()),
        (Some(actual), Some(expected)) if lazy_equal(&actual, expected, 0) => Ok(()),
        _ => Err(failed()),
    }
}

/// Go's `lazyNode.equal`: objects compare over the *document's* members only.
fn lazy_equal(doc_value: &Value, expected: &Value, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    match (doc_value, expected) {
        (Value::Object(d), Value::Object(e)) => d.iter().all(|(k, v)| match e.get(k) {
            None => false,
            Some(ev) if v.is_null() && ev.is_null() => true,
            Some(ev) => !v.is_null() && !ev.is_null() && lazy_equal(v, ev, depth + 1),
        }),
        (Value::Array(d), Value::Array(e)) => {
            d.len() == e.len() && d.iter().zip(e).all(|(a, b)| lazy_equal(a, b, depth + 1))
        }
        (Value::Object(_), _) | (Value::Array(_), _) => false,
        (a, b) => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apply(doc: Value, patch: Value) -> Result<Value, String> {
        apply_json_patch(&doc, &patch).map_err(|e| e.to_string())
    }

    #[test]
    fn rfc6902_operations() {
        let doc = json!({"foo": ["bar", "baz"], "a": {"b": 1}});
        let out = apply(
            doc,
            json!([
                {"op": "add", "path": "/foo/1", "value": "qux"},
                {"op": "remove", "path": "/foo/0"},
                {"op": "replace", "path": "/a/b", "value": 2},
                {"op": "copy", "from": "/a", "path": "/c"},
                {"op": "move", "from": "/foo", "path": "/moved"},
                {"op": "test", "path": "/c/b", "value": 2},
                {"op": "add", "path": "/moved/-", "value": "end"},
                {"op": "add", "path": "/x~1y", "value": true}
            ]),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"a": {"b": 2}, "c": {"b": 2}, "moved": ["qux", "baz", "end"], "x/y": true})
        );
    }

    #[test]
    fn go_error_texts() {
        let doc = json!({"a": {"b": 1}, "l": [1]});
        assert_eq!(
            apply(
                doc.clone(),
                json!([{"op": "add", "path": "/x/y", "value": 1}])
            )
            .unwrap_err(),
            "add operation does not apply: doc is missing path: \"/x/y\": missing value"
        );
        assert_eq!(
            apply(doc.clone(), json!([{"op": "remove", "path": "/a/zz"}])).unwrap_err(),
            "error in remove for path: '/a/zz': Unable to remove nonexistent key: zz: missing value"
        );
        assert_eq!(
            apply(
                doc.clone(),
                json!([{"op": "test", "path": "/a/b", "value": 2}])
            )
            .unwrap_err(),
            "testing value /a/b failed: test failed"
        );
        assert_eq!(
            apply(doc.clone(), json!([{"op": "add", "path": "/l/5", "value": 2}])).unwrap_err(),
            "error in add for path: '/l/5': Unable to access invalid index: 5: invalid index referenced"
        );
        assert_eq!(
            apply(doc.clone(), json!([{"op": "add", "path": "/l/x", "value": 2}])).unwrap_err(),
            "error in add for path: '/l/x': value was not a proper array index: 'x': strconv.Atoi: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            apply(doc.clone(), json!([{"op": "frob", "path": "/a"}])).unwrap_err(),
            "Unexpected kind: frob"
        );
        let err = apply_json_patch(&doc, &json!({"op": "add"})).unwrap_err();
        assert_eq!(err.http_status(), 400);
        assert_eq!(
            err.to_string(),
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
        );
    }

    #[test]
    fn v4_leniencies() {
        // replace of a missing member adds it; negative index removes from the end.
        let out = apply(
            json!({"l": [1, 2, 3]}),
            json!([
                {"op": "replace", "path": "/new", "value": 1},
                {"op": "remove", "path": "/l/-1"}
            ]),
        )
        .unwrap();
        assert_eq!(out, json!({"l": [1, 2], "new": 1}));
        // test of null passes for a null or missing member.
        apply(
            json!({"a": null}),
            json!([
                {"op": "test", "path": "/a", "value": null},
                {"op": "test", "path": "/missing", "value": null}
            ]),
        )
        .unwrap();
        // test compares over the document's members only.
        apply(
            json!({"a": {"b": 1}}),
            json!([{"op": "test", "path": "/a", "value": {"b": 1, "c": 2}}]),
        )
        .unwrap();
    }
}
