//! Patch directives: `$patch`, `$retainKeys`, `$setElementOrder/<field>` and
//! `$deleteFromPrimitiveList/<field>` (strategicpatch/patch.go).

use serde_json::{Map, Value};

use super::merge::{merge_slice_field, remove_directives, slice_element_kind};
use super::metadata::Schema;
use super::order::{normalize_element_order, partition_maps, partition_primitives};
use crate::error::PatchError;
use crate::gofmt::{go_type_name, go_v};

pub(crate) const DIRECTIVE_MARKER: &str = "$patch";
pub(crate) const DELETE_DIRECTIVE: &str = "delete";
pub(crate) const REPLACE_DIRECTIVE: &str = "replace";
pub(crate) const MERGE_DIRECTIVE: &str = "merge";
pub(crate) const RETAIN_KEYS_DIRECTIVE: &str = "$retainKeys";
pub(crate) const DELETE_FROM_PRIMITIVE_LIST_PREFIX: &str = "$deleteFromPrimitiveList";
pub(crate) const SET_ELEMENT_ORDER_PREFIX: &str = "$setElementOrder";

pub(crate) const GO_SLICE_TYPE: &str = "[]interface {}";
pub(crate) const GO_MAP_TYPE: &str = "map[string]interface {}";

/// Go's `extractKey`: `"$prefix/field"` -> `"field"`.
pub(crate) fn extract_key(key: &str, prefix: &str) -> Result<String, PatchError> {
    match key.split_once('/') {
        Some((head, field)) if head == prefix => Ok(field.to_string()),
        _ if prefix == DELETE_FROM_PRIMITIVE_LIST_PREFIX => {
            Err(PatchError::BadPatchFormatForPrimitiveList)
        }
        _ => Err(PatchError::BadPatchFormatForSetElementOrderList),
    }
}

pub(crate) fn bad_arg_type(expected: &str, actual: &Value) -> PatchError {
    PatchError::BadArgType {
        expected: expected.to_string(),
        actual: go_type_name(actual).to_string(),
    }
}

pub(crate) fn no_merge_key(map: &Map<String, Value>, key: &str) -> PatchError {
    PatchError::NoMergeKey {
        map: go_v(&Value::Object(map.clone())),
        key: key.to_string(),
    }
}

/// Go's `applyRetainKeysDirective` (server side, MergeParallelList=true): clear fields of
/// `original` not named in `$retainKeys`, after checking the patch only sets retained fields.
pub(crate) fn apply_retain_keys(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> Result<(), PatchError> {
    let Some(retain) = patch.remove(RETAIN_KEYS_DIRECTIVE) else {
        return Ok(());
    };
    let Value::Array(retained) = retain else {
        return Err(PatchError::BadPatchFormatForRetainKeys);
    };
    let is_retained = |key: &str| retained.iter().any(|v| v.as_str() == Some(key));
    for (key, value) in patch.iter() {
        if value.is_null()
            || key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
            || key.starts_with(SET_ELEMENT_ORDER_PREFIX)
        {
            continue;
        }
        if !is_retained(key) {
            return Err(PatchError::BadPatchFormatForRetainKeys);
        }
    }
    original.retain(|key, _| is_retained(key));
    Ok(())
}

/// Go's `mergePatchIntoOriginal`: merge each list that has a `$setElementOrder/<field>`
/// directive, then order it by that directive (directive > patch order > live order).
pub(crate) fn apply_set_element_order(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    schema: &Schema,
    depth: usize,
) -> Result<(), PatchError> {
    let order_keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER_PREFIX))
        .cloned()
        .collect();
    for order_key in order_keys {
        let Some(order_value) = patch.remove(&order_key) else {
            continue;
        };
        let Value::Array(set_order) = order_value else {
            return Err(bad_arg_type(GO_SLICE_TYPE, &order_value));
        };
        let field = extract_key(&order_key, SET_ELEMENT_ORDER_PREFIX)?;
        let original_list = as_list(original.get(&field))?;
        let original_list_found = original_list.is_some();
        let patch_list = as_list(patch.get(&field))?;
        let meta = schema.lookup(&field);
        let merge_key = meta.merge_key.unwrap_or("");
        validate_patch_with_set_order(patch_list.as_deref().unwrap_or(&[]), &set_order, merge_key)?;

        let original_items = original_list.unwrap_or_default();
        let (merged, server_order) = match (original_list_found, &patch_list) {
            (true, None) => (original_items.clone(), original_items),
            (false, Some(p)) => match remove_directives(Value::Array(p.clone()), depth)? {
                Some(Value::Array(items)) => (items, original_items),
                _ => continue,
            },
            (true, Some(p)) => {
                let merged = merge_slice_field(original_items, p.clone(), &meta, false, depth)?;
                (merged.items, merged.original_view)
            }
            (false, None) => continue,
        };
        let (patch_items, server_only) = if merge_key.is_empty() {
            partition_primitives(merged, &set_order)
        } else {
            partition_maps(merged, &set_order, merge_key)?
        };
        let kind = slice_element_kind(&server_order, patch_list.as_deref().unwrap_or(&[]))?;
        let ordered = normalize_element_order(
            patch_items,
            server_only,
            &set_order,
            &server_order,
            merge_key,
            kind,
        )?;
        original.insert(field.clone(), Value::Array(ordered));
        patch.remove(&field);
    }
    Ok(())
}

fn as_list(value: Option<&Value>) -> Result<Option<Vec<Value>>, PatchError> {
    match value {
        None => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items.clone())),
        Some(other) => Err(bad_arg_type(GO_SLICE_TYPE, other)),
    }
}

/// Go's `validatePatchWithSetOrderList`: the patch items (deletions aside) must appear in the
/// `$setElementOrder` list, in the same relative order.
fn validate_patch_with_set_order(
    patch_list: &[Value],
    set_order: &[Value],
    merge_key: &str,
) -> Result<(), PatchError> {
    if set_order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let non_delete: Vec<&Value> = if merge_key.is_empty() {
        patch_list.iter().collect()
    } else {
        let mut kept = Vec::new();
        for item in patch_list {
            let Value::Object(map) = item else {
                return Err(bad_arg_type(GO_MAP_TYPE, item));
            };
            if map.get(DIRECTIVE_MARKER).and_then(Value::as_str) != Some(DELETE_DIRECTIVE) {
                kept.push(item);
            }
        }
        kept
    };
    let (mut patch_index, mut order_index) = (0, 0);
    while patch_index < non_delete.len() && order_index < set_order.len() {
        let item = non_delete[patch_index];
        if item
            .as_object()
            .is_some_and(|m| m.contains_key(DIRECTIVE_MARKER))
        {
            patch_index += 1;
            continue;
        }
        if merge_key_value_equal(item, &set_order[order_index], merge_key)? {
            patch_index += 1;
        }
        order_index += 1;
    }
    if patch_index < non_delete.len() && order_index >= set_order.len() {
        return Err(PatchError::SetElementOrderMismatch {
            patch: go_v(&Value::Array(patch_list.to_vec())),
            order: go_v(&Value::Array(set_order.to_vec())),
        });
    }
    Ok(())
}

fn merge_key_value_equal(left: &Value, right: &Value, merge_key: &str) -> Result<bool, PatchError> {
    if merge_key.is_empty() {
        return Ok(left == right);
    }
    let Value::Object(l) = left else {
        return Err(bad_arg_type(GO_MAP_TYPE, left));
    };
    let Value::Object(r) = right else {
        return Err(bad_arg_type(GO_MAP_TYPE, right));
    };
    let lv = l.get(merge_key).ok_or_else(|| no_merge_key(l, merge_key))?;
    let rv = r.get(merge_key).ok_or_else(|| no_merge_key(r, merge_key))?;
    Ok(lv == rv)
}
