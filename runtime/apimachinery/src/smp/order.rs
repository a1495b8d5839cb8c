//! Element ordering of merged lists (`normalizeElementOrder`, `mergeSortedSlice`,
//! `normalizeSliceOrder`, `deduplicateScalars` of strategicpatch/patch.go). Go's comparison
//! functions are not strict weak orders, so its `sort.SliceStable` algorithm is reproduced
//! exactly rather than using Rust's sort.

use std::collections::HashMap;

use serde_json::Value;

use super::directives::{
    bad_arg_type, no_merge_key, DELETE_DIRECTIVE, DIRECTIVE_MARKER, GO_MAP_TYPE,
};
use crate::error::PatchError;
use crate::gofmt::GoKind;

/// The value `index()` compares for an item: its merge key value for maps (nil when absent),
/// the item itself otherwise.
fn lookup_value(item: &Value, merge_key: &str, kind: GoKind) -> Value {
    if kind == GoKind::Map {
        item.as_object()
            .and_then(|m| m.get(merge_key))
            .cloned()
            .unwrap_or(Value::Null)
    } else {
        item.clone()
    }
}

/// Go's `index(list, item, mergeKey, kind)` precomputed for a whole order list: first position
/// of each lookup value. Values are keyed by their JSON text, which distinguishes exactly what
/// Go's interface equality distinguishes for JSON scalars (`1` vs `1.0`, `"1"` vs `1`).
struct OrderIndex {
    first_position: HashMap<String, usize>,
}

impl OrderIndex {
    fn new(order: &[Value], merge_key: &str, kind: GoKind) -> Self {
        let mut first_position = HashMap::with_capacity(order.len());
        for (i, item) in order.iter().enumerate() {
            first_position
                .entry(lookup_value(item, merge_key, kind).to_string())
                .or_insert(i);
        }
        OrderIndex { first_position }
    }

    fn position(&self, item: &Value, merge_key: &str, kind: GoKind) -> Option<usize> {
        self.first_position
            .get(&lookup_value(item, merge_key, kind).to_string())
            .copied()
    }
}

/// Go's `normalizeElementOrder`.
pub(crate) fn normalize_element_order(
    patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
    kind: GoKind,
) -> Result<Vec<Value>, PatchError> {
    let patch = normalize_slice_order(patch, patch_order, merge_key, kind)?;
    let server_only = normalize_slice_order(server_only, server_order, merge_key, kind)?;
    Ok(merge_sorted_slice(
        server_only,
        patch,
        server_order,
        merge_key,
        kind,
    ))
}

/// Go's `normalizeSliceOrder`: stable-sort `to_sort` by position in `order`; for maps, items
/// carrying `$patch: delete` go last.
fn normalize_slice_order(
    to_sort: Vec<Value>,
    order: &[Value],
    merge_key: &str,
    kind: GoKind,
) -> Result<Vec<Value>, PatchError> {
    let (mut kept, to_delete) = if kind == GoKind::Map {
        validate_merge_key_in_lists(merge_key, &[&to_sort, order])?;
        extract_to_delete_items(to_sort)?
    } else {
        (to_sort, Vec::new())
    };
    let index = OrderIndex::new(order, merge_key, kind);
    let mut keyed: Vec<(Option<usize>, Value)> = kept
        .drain(..)
        .map(|v| (index.position(&v, merge_key, kind), v))
        .collect();
    go_stable_sort(&mut keyed, |a, b| match (a.0, b.0) {
        (Some(x), Some(y)) => x < y,
        _ => true,
    });
    let mut sorted: Vec<Value> = keyed.into_iter().map(|(_, v)| v).collect();
    sorted.extend(to_delete);
    Ok(sorted)
}

fn validate_merge_key_in_lists(merge_key: &str, lists: &[&[Value]]) -> Result<(), PatchError> {
    for list in lists {
        for item in list.iter() {
            let Value::Object(map) = item else {
                return Err(bad_arg_type(GO_MAP_TYPE, item));
            };
            if !map.contains_key(merge_key) {
                return Err(no_merge_key(map, merge_key));
            }
        }
    }
    Ok(())
}

fn extract_to_delete_items(items: Vec<Value>) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut kept = Vec::new();
    let mut to_delete = Vec::new();
    for item in items {
        let Value::Object(map) = &item else {
            return Err(bad_arg_type(GO_MAP_TYPE, &item));
        };
        if map.get(DIRECTIVE_MARKER).and_then(Value::as_str) == Some(DELETE_DIRECTIVE) {
            to_delete.push(item);
        } else {
            kept.push(item);
        }
    }
    Ok((kept, to_delete))
}

/// Go's `mergeSortedSlice`: interleave server-only items (`left`) into the patch items
/// (`right`) following their relative order in the live list.
fn merge_sorted_slice(
    left: Vec<Value>,
    right: Vec<Value>,
    server_order: &[Value],
    merge_key: &str,
    kind: GoKind,
) -> Vec<Value> {
    let index = OrderIndex::new(server_order, merge_key, kind);
    let left_pos: Vec<Option<usize>> = left
        .iter()
        .map(|v| index.position(v, merge_key, kind))
        .collect();
    let right_pos: Vec<Option<usize>> = right
        .iter()
        .map(|v| index.position(v, merge_key, kind))
        .collect();
    let mut left_iter = left.into_iter();
    let mut right_iter = right.into_iter();
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(left_pos.len() + right_pos.len());
    loop {
        let take_left = match (i < left_pos.len(), j < right_pos.len()) {
            (false, false) => break,
            (true, false) => true,
            (false, true) => false,
            (true, true) => matches!((left_pos[i], right_pos[j]), (Some(l), Some(r)) if l < r),
        };
        if take_left {
            out.extend(left_iter.next());
            i += 1;
        } else {
            out.extend(right_iter.next());
            j += 1;
        }
    }
    out
}

/// Go's `partitionPrimitivesByPresentInList`.
pub(crate) fn partition_primitives(
    items: Vec<Value>,
    partition_by: &[Value],
) -> (Vec<Value>, Vec<Value>) {
    let present: std::collections::HashSet<String> =
        partition_by.iter().map(Value::to_string).collect();
    items
        .into_iter()
        .partition(|v| present.contains(&v.to_string()))
}

/// Go's `partitionMapsByPresentInList`.
pub(crate) fn partition_maps(
    items: Vec<Value>,
    partition_by: &[Value],
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut in_patch = Vec::new();
    let mut server_only = Vec::new();
    for item in items {
        let Value::Object(map) = &item else {
            return Err(bad_arg_type(GO_MAP_TYPE, &item));
        };
        let key_value = map
            .get(merge_key)
            .ok_or_else(|| no_merge_key(map, merge_key))?;
        if find_map_by_key(partition_by, merge_key, key_value)?.is_some() {
            in_patch.push(item);
        } else {
            server_only.push(item);
        }
    }
    Ok((in_patch, server_only))
}

/// Go's `findMapInSliceBasedOnKeyValue`: index of the first map whose `key` equals `value`.
pub(crate) fn find_map_by_key(
    list: &[Value],
    key: &str,
    value: &Value,
) -> Result<Option<usize>, PatchError> {
    for (i, item) in list.iter().enumerate() {
        let Value::Object(map) = item else {
            return Err(PatchError::ValueNotAMap(i));
        };
        if map.get(key) == Some(value) {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// Go's `deduplicateScalars`, including the way it reorders (a duplicate is overwritten by
/// the current last element).
pub(crate) fn deduplicate_scalars(mut s: Vec<Value>) -> Vec<Value> {
    let mut length = s.len() as isize - 1;
    let mut i: isize = 0;
    while i < length {
        let mut j = i + 1;
        while j <= length {
            if s[i as usize] == s[j as usize] {
                s[j as usize] = s[length as usize].clone();
                s.truncate(length as usize);
                length -= 1;
                j -= 1;
            }
            j += 1;
        }
        i += 1;
    }
    s
}

/// Go's `deleteFromSlice`.
pub(crate) fn delete_from_slice(current: Vec<Value>, to_delete: &[Value]) -> Vec<Value> {
    current
        .into_iter()
        .filter(|v| !to_delete.contains(v))
        .collect()
}

/// Go's `sort.SliceStable` (insertion-sorted blocks of 20 merged with SymMerge), reproduced so
/// that inconsistent `less` functions give the same result as in Go.
fn go_stable_sort<T>(data: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let n = data.len();
    let mut block = 20;
    let (mut a, mut b) = (0, block);
    while b <= n {
        insertion_sort(data, a, b, &less);
        a = b;
        b += block;
    }
    insertion_sort(data, a, n, &less);
    while block < n {
        let (mut a, mut b) = (0, 2 * block);
        while b <= n {
            sym_merge(data, a, a + block, b, &less);
            a = b;
            b += 2 * block;
        }
        let m = a + block;
        if m < n {
            sym_merge(data, a, m, n, &less);
        }
        block *= 2;
    }
}

fn insertion_sort<T>(data: &mut [T], a: usize, b: usize, less: &impl Fn(&T, &T) -> bool) {
    for i in a + 1..b {
        let mut j = i;
        while j > a && less(&data[j], &data[j - 1]) {
            data.swap(j, j - 1);
            j -= 1;
        }
    }
}

fn sym_merge<T>(data: &mut [T], a: usize, m: usize, b: usize, less: &impl Fn(&T, &T) -> bool) {
    if m - a == 1 {
        let (mut i, mut j) = (m, b);
        while i < j {
            let h = (i + j) / 2;
            if less(&data[h], &data[a]) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        for k in a..i.saturating_sub(1) {
            data.swap(k, k + 1);
        }
        return;
    }
    if b - m == 1 {
        let (mut i, mut j) = (a, m);
        while i < j {
            let h = (i + j) / 2;
            if !less(&data[m], &data[h]) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        let mut k = m;
        while k > i {
            data.swap(k, k - 1);
            k -= 1;
        }
        return;
    }
    let mid = (a + b) / 2;
    let n = mid + m;
    let (mut start, mut r) = if m > mid { (n - b, mid) } else { (a, m) };
    let p = n - 1;
    while start < r {
        let c = (start + r) / 2;
        if !less(&data[p - c], &data[c]) {
            start = c + 1;
        } else {
            r = c;
        }
    }
    let end = n - start;
    if start < m && m < end {
        rotate(data, start, m, end);
    }
    if a < start && start < mid {
        sym_merge(data, a, start, mid, less);
    }
    if mid < end && end < b {
        sym_merge(data, mid, end, b, less);
    }
}

fn rotate<T>(data: &mut [T], a: usize, m: usize, b: usize) {
    let (mut i, mut j) = (m - a, b - m);
    while i != j {
        if i > j {
            swap_range(data, m - i, m, j);
            i -= j;
        } else {
            swap_range(data, m - i, m + j - i, i);
            j -= i;
        }
    }
    swap_range(data, m - i, m, i);
}

fn swap_range<T>(data: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        data.swap(a + i, b + i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stable_sort_matches_a_plain_stable_sort_for_consistent_orders() {
        let mut data: Vec<(u32, usize)> = (0..200).map(|i| ((i * 7919 % 13) as u32, i)).collect();
        let mut expected = data.clone();
        expected.sort_by_key(|x| x.0);
        go_stable_sort(&mut data, |a, b| a.0 < b.0);
        assert_eq!(data, expected);
    }

    #[test]
    fn deduplicate_moves_the_last_element_into_the_hole() {
        let out = deduplicate_scalars(vec![json!("a"), json!("b"), json!("a"), json!("c")]);
        assert_eq!(out, vec![json!("a"), json!("b"), json!("c")]);
        let out = deduplicate_scalars(vec![json!("a"), json!("a"), json!("b"), json!("c")]);
        assert_eq!(out, vec![json!("a"), json!("c"), json!("b")]);
    }
}
