//! The merge itself: Go's `mergeMap`, `mergeSlice` and helpers (server side:
//! MergeParallelList=true, IgnoreUnmatchedNulls=true).

use serde_json::{Map, Value};

use super::directives::{
    apply_retain_keys, apply_set_element_order, bad_arg_type, extract_key, no_merge_key,
    DELETE_DIRECTIVE, DELETE_FROM_PRIMITIVE_LIST_PREFIX, DIRECTIVE_MARKER, GO_MAP_TYPE,
    MERGE_DIRECTIVE, REPLACE_DIRECTIVE,
};
use super::metadata::{FieldMeta, Schema, Strategy};
use super::order::{
    deduplicate_scalars, delete_from_slice, find_map_by_key, normalize_element_order,
    partition_maps, partition_primitives,
};
use crate::error::PatchError;
use crate::gofmt::{go_kind, go_s, go_v, go_v_slices, GoKind};
use crate::MAX_DEPTH;

/// Go's `mergeMap`.
pub(crate) fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    schema: &Schema,
    depth: usize,
) -> Result<Map<String, Value>, PatchError> {
    if depth > MAX_DEPTH {
        return Err(PatchError::TooDeep(MAX_DEPTH));
    }
    if let Some(directive) = patch.get(DIRECTIVE_MARKER) {
        return match directive.as_str() {
            Some(REPLACE_DIRECTIVE) => {
                patch.remove(DIRECTIVE_MARKER);
                Ok(patch)
            }
            Some(DELETE_DIRECTIVE) => Ok(Map::new()),
            _ => Err(PatchError::BadPatchType {
                directive: go_s(directive),
                map: go_v(&Value::Object(patch.clone())),
            }),
        };
    }

    apply_retain_keys(&mut original, &mut patch)?;
    apply_set_element_order(&mut original, &mut patch, schema, depth)?;

    // Go iterates the patch map in random order; applying plain fields before deletion lists
    // gives the outcome Go produces whenever its result does not depend on that order.
    let (deletion_lists, fields): (Vec<_>, Vec<_>) = patch
        .into_iter()
        .partition(|(k, _)| k.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX));
    for (key, patch_value) in fields.into_iter().chain(deletion_lists) {
        let (key, is_delete_list) = if key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX) {
            (extract_key(&key, DELETE_FROM_PRIMITIVE_LIST_PREFIX)?, true)
        } else {
            (key, false)
        };
        if patch_value.is_null() {
            original.remove(&key);
            continue;
        }
        let type_matches = original
            .get(&key)
            .is_some_and(|o| go_kind(o) == go_kind(&patch_value));
        if !type_matches {
            // New (or retyped) value: taken from the patch minus nulls and directive items; a
            // deletion list for a missing field is ignored.
            if !is_delete_list {
                original.remove(&key);
                let cleaned = remove_directives(discard_nulls(patch_value, depth)?, depth)?;
                if let Some(value) = cleaned {
                    original.insert(key, value);
                }
            }
            continue;
        }
        let Some(original_value) = original.remove(&key) else {
            continue;
        };
        let meta = schema.lookup(&key);
        let merged = match (original_value, patch_value) {
            (Value::Object(o), Value::Object(p)) => {
                if meta.strategy == Strategy::Replace {
                    Value::Object(p)
                } else {
                    Value::Object(merge_map(o, p, meta.child, depth + 1)?)
                }
            }
            (Value::Array(o), Value::Array(p)) => {
                Value::Array(merge_slice_field(o, p, &meta, is_delete_list, depth + 1)?.items)
            }
            (_, p) => p,
        };
        original.insert(key, merged);
    }
    Ok(original)
}

/// A merged list, plus what Go's caller afterwards sees through its (aliased) slice of the
/// original list: Go deletes list items in place and appends new items into the freed slots of
/// the same backing array, and `$setElementOrder` processing then orders server-only items by
/// that view. Upstream's own expected results depend on this, so it is reproduced.
pub(crate) struct MergedList {
    pub items: Vec<Value>,
    pub original_view: Vec<Value>,
}

/// Go's `mergeSliceHandler`: merge lists tagged `merge`, replace all others.
pub(crate) fn merge_slice_field(
    original: Vec<Value>,
    patch: Vec<Value>,
    meta: &FieldMeta,
    is_delete_list: bool,
    depth: usize,
) -> Result<MergedList, PatchError> {
    if meta.strategy != Strategy::Merge {
        return Ok(MergedList {
            items: patch,
            original_view: original,
        });
    }
    merge_slice(
        original,
        patch,
        meta.child,
        meta.merge_key.unwrap_or(""),
        is_delete_list,
        depth,
    )
}

/// Go's `mergeSlice`.
fn merge_slice(
    original: Vec<Value>,
    patch: Vec<Value>,
    elem_schema: &Schema,
    merge_key: &str,
    is_delete_list: bool,
    depth: usize,
) -> Result<MergedList, PatchError> {
    if depth > MAX_DEPTH {
        return Err(PatchError::TooDeep(MAX_DEPTH));
    }
    if original.is_empty() && patch.is_empty() {
        return Ok(MergedList {
            items: original.clone(),
            original_view: original,
        });
    }
    let kind = slice_element_kind(&original, &patch)?;
    let (merged, original, patch, original_view) = if kind != GoKind::Map {
        if is_delete_list {
            let items = delete_from_slice(original.clone(), &patch);
            return Ok(MergedList {
                items,
                original_view: original,
            });
        }
        let mut both = original.clone();
        both.extend(patch.iter().cloned());
        (deduplicate_scalars(both), original.clone(), patch, original)
    } else {
        if merge_key.is_empty() {
            // elemType.Kind() of a tagged Go list of objects is always a struct.
            return Err(PatchError::NoMergeKeyForType {
                kind: "struct".into(),
            });
        }
        let directives = apply_list_directives(original, patch, merge_key)?;
        let merged = merge_list_items(
            directives.original.clone(),
            &directives.patch,
            merge_key,
            elem_schema,
            depth,
        )?;
        let mut view = directives.backing;
        if !directives.replaced {
            // Appends land in the slots deletions freed, up to the original length.
            let live = directives.original.len();
            for (slot, item) in view.iter_mut().skip(live).zip(merged.iter().skip(live)) {
                *slot = item.clone();
            }
            for (slot, item) in view.iter_mut().zip(merged.iter()).take(live) {
                *slot = item.clone();
            }
        }
        (merged, directives.original, directives.patch, view)
    };
    let (patch_items, server_only) = if merge_key.is_empty() {
        partition_primitives(merged, &patch)
    } else {
        partition_maps(merged, &patch, merge_key)?
    };
    let items =
        normalize_element_order(patch_items, server_only, &patch, &original, merge_key, kind)?;
    Ok(MergedList {
        items,
        original_view,
    })
}

struct ListDirectives {
    /// The original list after deletions (or the replacement list).
    original: Vec<Value>,
    /// Patch items left to merge.
    patch: Vec<Value>,
    /// Go's backing array of the original list after in-place deletions.
    backing: Vec<Value>,
    replaced: bool,
}

/// Go's `mergeSliceWithSpecialElements`: handle list items carrying `$patch`.
fn apply_list_directives(
    original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: &str,
) -> Result<ListDirectives, PatchError> {
    let mut backing = original;
    let mut live = backing.len();
    let mut plain_items = Vec::new();
    let mut replaced = false;
    for item in patch {
        let Value::Object(map) = &item else {
            return Err(bad_arg_type(GO_MAP_TYPE, &item));
        };
        let Some(directive) = map.get(DIRECTIVE_MARKER) else {
            plain_items.push(item);
            continue;
        };
        match directive.as_str() {
            Some(DELETE_DIRECTIVE) => {
                let key_value = map
                    .get(merge_key)
                    .ok_or_else(|| no_merge_key(map, merge_key))?;
                // `append(original[:k], original[k+1:]...)`: shift left in place.
                while let Some(k) = find_map_by_key(&backing[..live], merge_key, key_value)? {
                    for i in k..live - 1 {
                        backing[i] = backing[i + 1].clone();
                    }
                    live -= 1;
                }
            }
            // Keep scanning: the remaining `$patch` items are dropped.
            Some(REPLACE_DIRECTIVE) => replaced = true,
            Some(MERGE_DIRECTIVE) => return Err(PatchError::MergingListsNotSupported),
            _ => {
                return Err(PatchError::BadPatchType {
                    directive: go_s(directive),
                    map: go_v(&item),
                })
            }
        }
    }
    if replaced {
        return Ok(ListDirectives {
            original: plain_items,
            patch: Vec::new(),
            backing,
            replaced,
        });
    }
    Ok(ListDirectives {
        original: backing[..live].to_vec(),
        patch: plain_items,
        backing,
        replaced,
    })
}

/// Go's `mergeSliceWithoutSpecialElements`: merge each patch item into the original item with
/// the same merge key value, or append it.
fn merge_list_items(
    mut original: Vec<Value>,
    patch: &[Value],
    merge_key: &str,
    elem_schema: &Schema,
    depth: usize,
) -> Result<Vec<Value>, PatchError> {
    for item in patch {
        let Value::Object(patch_map) = item else {
            return Err(bad_arg_type(GO_MAP_TYPE, item));
        };
        let key_value = patch_map
            .get(merge_key)
            .ok_or_else(|| no_merge_key(patch_map, merge_key))?;
        match find_map_by_key(&original, merge_key, key_value)? {
            Some(i) => {
                let Value::Object(original_map) = std::mem::take(&mut original[i]) else {
                    return Err(PatchError::ValueNotAMap(i));
                };
                let merged = merge_map(original_map, patch_map.clone(), elem_schema, depth + 1)?;
                original[i] = Value::Object(merged);
            }
            None => original.push(item.clone()),
        }
    }
    Ok(original)
}

/// Go's `sliceElementType`: all elements of all lists must share one Go type, not a list.
pub(crate) fn slice_element_kind(
    original: &[Value],
    patch: &[Value],
) -> Result<GoKind, PatchError> {
    let mut seen: Option<GoKind> = None;
    for item in original.iter().chain(patch) {
        let kind = go_kind(item);
        match seen {
            None => {
                if kind == GoKind::Slice {
                    return Err(PatchError::NoListOfLists);
                }
                if kind == GoKind::Nil {
                    // Go dereferences a nil reflect.Type here and panics; report it as a
                    // type mismatch instead.
                    return Err(PatchError::ListElementTypesNotIdentical(go_v_slices(&[
                        original, patch,
                    ])));
                }
                seen = Some(kind);
            }
            Some(previous) if previous != kind => {
                return Err(PatchError::ListElementTypesNotIdentical(go_v_slices(&[
                    original, patch,
                ])));
            }
            Some(_) => {}
        }
    }
    seen.ok_or(PatchError::NoElements)
}

/// Go's `discardNullValuesFromPatch`: drop null members of objects, recursively.
pub(crate) fn discard_nulls(value: Value, depth: usize) -> Result<Value, PatchError> {
    if depth > MAX_DEPTH {
        return Err(PatchError::TooDeep(MAX_DEPTH));
    }
    Ok(match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| Ok((k, discard_nulls(v, depth + 1)?)))
                .collect::<Result<_, PatchError>>()?,
        ),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| discard_nulls(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        other => other,
    })
}

/// Go's `removeDirectives`: objects carrying `$patch` are dropped (`None`), recursively.
pub(crate) fn remove_directives(value: Value, depth: usize) -> Result<Option<Value>, PatchError> {
    if depth > MAX_DEPTH {
        return Err(PatchError::TooDeep(MAX_DEPTH));
    }
    Ok(match value {
        Value::Object(map) if map.contains_key(DIRECTIVE_MARKER) => None,
        Value::Object(map) => {
            let mut kept = Map::new();
            for (k, v) in map {
                if let Some(v) = remove_directives(v, depth + 1)? {
                    kept.insert(k, v);
                }
            }
            Some(Value::Object(kept))
        }
        Value::Array(items) => {
            let mut kept = Vec::with_capacity(items.len());
            for v in items {
                kept.extend(remove_directives(v, depth + 1)?);
            }
            Some(Value::Array(kept))
        }
        other => Some(other),
    })
}
