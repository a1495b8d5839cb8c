//! Strategic merge patch as applied by kube-apiserver (`strategicpatch.StrategicMergeMapPatch`).

mod directives;
mod merge;
pub mod metadata;
mod order;

use serde_json::{Map, Value};

pub use metadata::{FieldMeta, PatchKind, Schema, Strategy};

use crate::error::PatchError;

/// Apply a strategic merge patch to `original` using the patch metadata in `schema`
/// (e.g. `PatchKind::Pod.schema()`).
///
/// Like Go, values the patch adds wholesale lose `$patch` items and nulls but keep other
/// directives nested in them (e.g. a `$retainKeys` inside a newly added map); kube-apiserver
/// drops those when it decodes the result into a typed object, which
/// [`strip_patch_directives`] reproduces.
pub fn strategic_merge_patch(
    original: &Value,
    patch: &Value,
    schema: &Schema,
) -> Result<Value, PatchError> {
    let original = as_json_map(original)?;
    let patch = as_json_map(patch)?;
    merge::merge_map(original, patch, schema, 0).map(Value::Object)
}

/// A JSON document as Go's `json.Unmarshal` into `map[string]interface{}` accepts it.
fn as_json_map(value: &Value) -> Result<Map<String, Value>, PatchError> {
    match value {
        Value::Object(map) => Ok(map.clone()),
        Value::Null => Ok(Map::new()),
        _ => Err(PatchError::BadJsonDoc),
    }
}

/// Remove patch directives (`$patch`, `$retainKeys`, `$setElementOrder/…`,
/// `$deleteFromPrimitiveList/…`) left anywhere in a patched object, as decoding into the typed
/// Go struct does. Iterative, so arbitrarily deep values are fine.
pub fn strip_patch_directives(value: &mut Value) {
    let mut stack: Vec<&mut Value> = vec![value];
    while let Some(current) = stack.pop() {
        match current {
            Value::Object(map) => {
                map.retain(|k, _| !is_directive_key(k));
                stack.extend(map.values_mut());
            }
            Value::Array(items) => stack.extend(items.iter_mut()),
            _ => {}
        }
    }
}

fn is_directive_key(key: &str) -> bool {
    key == directives::DIRECTIVE_MARKER
        || key == directives::RETAIN_KEYS_DIRECTIVE
        || key.starts_with(&format!("{}/", directives::SET_ELEMENT_ORDER_PREFIX))
        || key.starts_with(&format!(
            "{}/",
            directives::DELETE_FROM_PRIMITIVE_LIST_PREFIX
        ))
}
