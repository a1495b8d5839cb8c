//! Cases ported from k8s.io/apimachinery strategicpatch/patch_test.go (the apply half:
//! Original + TwoWay -> Modified/TwoWayResult, Current + ThreeWay -> Result), using the same
//! `mergeItem` test type.

use serde_json::{json, Value};
use wasmpod_apimachinery::smp::metadata::{
    merge_by, merge_retain_by, merge_scalars, replace, retain_keys, FieldMeta, Schema,
};
use wasmpod_apimachinery::{strategic_merge_patch, PatchError};

static MERGE_ITEM: Schema = Schema {
    fields: &[
        merge_by("mergingList", "name", &MERGE_ITEM),
        merge_scalars("mergingIntList"),
        merge_by("mergeItemPtr", "name", &MERGE_ITEM),
        replace("replacingItem"),
        FieldMeta {
            child: &RETAIN_KEYS_STRUCT,
            ..retain_keys("retainKeysMap")
        },
        merge_retain_by("retainKeysMergingList", "name", &MERGE_ITEM),
    ],
};

static RETAIN_KEYS_STRUCT: Schema = Schema {
    fields: &[
        merge_by("mergingList", "name", &MERGE_ITEM),
        merge_scalars("mergingIntList"),
    ],
};

fn apply(original: Value, patch: Value) -> Result<Value, PatchError> {
    strategic_merge_patch(&original, &patch, &MERGE_ITEM)
}

#[test]
fn set_element_order_with_item_missing_from_the_list() {
    let out = apply(
        json!({"mergingList": [{"name": 1}, {"name": 3}]}),
        json!({
            "$setElementOrder/mergingList": [{"name": 3}, {"name": 2}, {"name": 1}],
            "mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}]
        }),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}]})
    );
}

#[test]
fn set_element_order_on_an_int_list() {
    let out = apply(
        json!({"mergingIntList": [1, 3]}),
        json!({"$setElementOrder/mergingIntList": [3, 2, 1]}),
    )
    .unwrap();
    assert_eq!(out, json!({"mergingIntList": [3, 1]}));
}

#[test]
fn delete_from_primitive_list_with_order() {
    let out = apply(
        json!({"mergingIntList": [1, 2, 3]}),
        json!({"$setElementOrder/mergingIntList": [2, 1], "$deleteFromPrimitiveList/mergingIntList": [3]}),
    )
    .unwrap();
    assert_eq!(out, json!({"mergingIntList": [2, 1]}));
}

#[test]
fn add_and_delete_map_in_merging_list_with_server_only_items() {
    let out = apply(
        json!({"mergingList": [{"name": 1, "other": "a"}, {"name": 4, "other": "c"}]}),
        json!({
            "$setElementOrder/mergingList": [{"name": 2}, {"name": 3}],
            "mergingList": [{"name": 2}, {"name": 3}, {"name": 1, "$patch": "delete"}]
        }),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"mergingList": [{"name": 4, "other": "c"}, {"name": 2}, {"name": 3}]})
    );
}

#[test]
fn add_an_item_and_preserve_order() {
    let out = apply(
        json!({"mergingList": [{"name": 1, "other": "a"}, {"name": 2, "value": 2, "other": "b"}]}),
        json!({
            "$setElementOrder/mergingList": [{"name": 3}, {"name": 1}, {"name": 2}],
            "mergingList": [{"name": 3, "value": 3}]
        }),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"mergingList": [
            {"name": 3, "value": 3},
            {"name": 1, "other": "a"},
            {"name": 2, "value": 2, "other": "b"}
        ]})
    );
}

#[test]
fn delete_and_reorder_in_one_list_reorder_in_another() {
    let out = apply(
        json!({
            "mergingList": [{"name": "a", "value": "a"}, {"name": "b", "value": "b"}],
            "mergeItemPtr": [{"name": "c", "value": "c"}, {"name": "d", "value": "d"}]
        }),
        json!({
            "$setElementOrder/mergingList": [{"name": "b"}],
            "$setElementOrder/mergeItemPtr": [{"name": "d"}, {"name": "c"}],
            "mergingList": [{"$patch": "delete", "name": "a"}]
        }),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({
            "mergingList": [{"name": "b", "value": "b"}],
            "mergeItemPtr": [{"name": "d", "value": "d"}, {"name": "c", "value": "c"}]
        })
    );
}

#[test]
fn set_element_order_with_duplicates_in_the_live_list() {
    let out = apply(
        json!({"mergingList": [
            {"name": 1}, {"name": 2, "value": "dup1"}, {"name": 3}, {"name": 2, "value": "dup2"}, {"name": 4}
        ]}),
        json!({"$setElementOrder/mergingList": [{"name": 2}, {"name": 1}, {"name": 4}, {"name": 3}, {"name": 2}]}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"mergingList": [
            {"name": 2, "value": "dup1"}, {"name": 2, "value": "dup2"}, {"name": 1}, {"name": 4}, {"name": 3}
        ]})
    );
}

#[test]
fn nested_patch_merge_with_empty_list() {
    // Two-way: the list is new, so the delete directive item is dropped.
    let out = apply(
        json!({"name": "hi"}),
        json!({"mergingList": [{"name": "hello"}, {"$patch": "delete", "name": "doesntexist"}]}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"name": "hi", "mergingList": [{"name": "hello"}]})
    );
    // Three-way against a live list with a server-only item.
    let out = apply(
        json!({"name": "hi", "mergingList": [{"name": "hello2"}]}),
        json!({
            "$setElementOrder/mergingList": [{"name": "hello"}, {"name": "doesntexist"}],
            "mergingList": [{"name": "hello"}]
        }),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"name": "hi", "mergingList": [{"name": "hello"}, {"name": "hello2"}]})
    );
}

#[test]
fn replace_strategy_and_merge_list_with_server_only_item() {
    let out = apply(
        json!({
            "name": "my-object", "value": "some-value", "other": "current-other",
            "mergingList": [{"name": 1}, {"name": 3}],
            "replacingItem": {"Some": "Generic", "Yaml": "Inside", "The": "RawExtension", "Field": "Period"}
        }),
        json!({
            "$setElementOrder/mergingList": [{"name": 1}, {"name": 2}],
            "mergingList": [{"name": 2}],
            "replacingItem": {"Newly": "Modified", "Yaml": "Inside", "The": "RawExtension"}
        }),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({
            "name": "my-object", "value": "some-value", "other": "current-other",
            "mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
            "replacingItem": {"Newly": "Modified", "Yaml": "Inside", "The": "RawExtension"}
        })
    );
}

#[test]
fn retain_keys_map_keeps_nested_merging_list() {
    let out = apply(
        json!({"retainKeysMap": {"name": "foo", "mergingList": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}}),
        json!({"retainKeysMap": {
            "$retainKeys": ["mergingList", "name", "value"],
            "$setElementOrder/mergingList": [{"name": "a"}, {"name": "b"}],
            "value": "bar"
        }}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"retainKeysMap": {"name": "foo", "value": "bar", "mergingList": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}})
    );
}

#[test]
fn retain_keys_clears_fields_not_listed() {
    let out = apply(
        json!({"retainKeysMap": {"name": "foo", "value": "v", "other": "o"}}),
        json!({"retainKeysMap": {"$retainKeys": ["name", "other"], "other": "x"}}),
    )
    .unwrap();
    assert_eq!(out, json!({"retainKeysMap": {"name": "foo", "other": "x"}}));
    let err = apply(
        json!({"retainKeysMap": {"name": "foo"}}),
        json!({"retainKeysMap": {"$retainKeys": ["name"], "value": "x"}}),
    )
    .unwrap_err();
    assert_eq!(err, PatchError::BadPatchFormatForRetainKeys);
    assert_eq!(err.http_status(), 400);
}

#[test]
fn map_directives() {
    let original = json!({"mergeItemPtr": [{"name": "a"}], "simpleMap": {"k1": "v1", "k2": "v2"}});
    let out = apply(
        original.clone(),
        json!({"simpleMap": {"$patch": "replace", "k3": "v3"}}),
    )
    .unwrap();
    assert_eq!(out["simpleMap"], json!({"k3": "v3"}));
    let out = apply(original.clone(), json!({"simpleMap": {"$patch": "delete"}})).unwrap();
    assert_eq!(out["simpleMap"], json!({}));
    let out = apply(
        original.clone(),
        json!({"simpleMap": {"k1": null, "k3": "v3"}}),
    )
    .unwrap();
    assert_eq!(out["simpleMap"], json!({"k2": "v2", "k3": "v3"}));
    let err = apply(original, json!({"simpleMap": {"$patch": "merge"}})).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown patch type: merge in map: map[$patch:merge]"
    );
}

#[test]
fn list_directives() {
    let original = json!({"mergingList": [{"name": "a", "value": 1}, {"name": "b", "value": 2}]});
    let out = apply(
        original.clone(),
        json!({"mergingList": [{"name": "c"}, {"$patch": "replace"}]}),
    )
    .unwrap();
    assert_eq!(out, json!({"mergingList": [{"name": "c"}]}));
    let out = apply(
        original.clone(),
        json!({"mergingList": [{"name": "a", "$patch": "delete"}]}),
    )
    .unwrap();
    assert_eq!(out, json!({"mergingList": [{"name": "b", "value": 2}]}));
    let err = apply(
        original.clone(),
        json!({"mergingList": [{"$patch": "merge"}]}),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "merging lists cannot yet be specified in the patch"
    );
    let err = apply(
        original.clone(),
        json!({"mergingList": [{"$patch": "delete"}]}),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "map: map[$patch:delete] does not contain declared merge key: name"
    );
    let err = apply(
        original.clone(),
        json!({"mergingList": [{"$patch": "frob", "name": "a"}]}),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown patch type: frob in map: map[$patch:frob name:a]"
    );
    let err = apply(original, json!({"mergingList": [{"value": 3}]})).unwrap_err();
    assert_eq!(
        err.to_string(),
        "map: map[value:3] does not contain declared merge key: name"
    );
}

#[test]
fn malformed_directives() {
    let original = json!({"mergingIntList": [1]});
    assert_eq!(
        apply(
            original.clone(),
            json!({"$deleteFromPrimitiveListmergingIntList": [1]})
        )
        .unwrap_err(),
        PatchError::BadPatchFormatForPrimitiveList
    );
    assert_eq!(
        apply(
            original.clone(),
            json!({"$setElementOrder-mergingIntList": [1]})
        )
        .unwrap_err(),
        PatchError::BadPatchFormatForSetElementOrderList
    );
    assert_eq!(
        apply(original.clone(), json!({"$retainKeys": "mergingIntList"})).unwrap_err(),
        PatchError::BadPatchFormatForRetainKeys
    );
    assert_eq!(
        apply(
            original.clone(),
            json!({"$setElementOrder/mergingIntList": "x"})
        )
        .unwrap_err()
        .to_string(),
        "expected a []interface {}, but received a string"
    );
    let err = apply(
        json!({"mergingIntList": [[1]]}),
        json!({"mergingIntList": [[2]]}),
    )
    .unwrap_err();
    assert_eq!(err, PatchError::NoListOfLists);
    assert_eq!(err.http_status(), 422);
    assert_eq!(
        apply(original, json!({"mergingIntList": ["a"]}))
            .unwrap_err()
            .to_string(),
        "list element types are not identical: [[1] [a]]"
    );
    assert_eq!(
        apply(json!({"mergingList": [{"name": "a"}]}), json!({
            "$setElementOrder/mergingList": [{"name": "a"}],
            "mergingList": [{"name": "b"}]
        }))
        .unwrap_err()
        .to_string(),
        "the order in patch list:\n[map[name:b]]\n doesn't match $setElementOrder list:\n[map[name:a]]"
    );
    assert_eq!(
        strategic_merge_patch(&json!([1]), &json!({}), &MERGE_ITEM).unwrap_err(),
        PatchError::BadJsonDoc
    );
}

#[test]
fn primitive_merge_list_is_a_union() {
    let out = apply(
        json!({"mergingIntList": [1, 2]}),
        json!({"mergingIntList": [2, 3]}),
    )
    .unwrap();
    assert_eq!(out, json!({"mergingIntList": [1, 2, 3]}));
    // A deletion list for a field the object does not have changes nothing.
    let out = apply(
        json!({}),
        json!({"$deleteFromPrimitiveList/mergingIntList": [1]}),
    )
    .unwrap();
    assert_eq!(out, json!({}));
}

#[test]
fn deep_inputs_error_instead_of_overflowing() {
    let mut original = json!({"leaf": 1});
    let mut patch = json!({"leaf": 2});
    for _ in 0..400 {
        original = json!({"n": original});
        patch = json!({"n": patch});
    }
    assert_eq!(
        apply(original, patch).unwrap_err(),
        PatchError::TooDeep(128)
    );
    let mut list_patch = json!({"name": "x"});
    let mut list_original = json!({"name": "x"});
    for _ in 0..400 {
        list_patch = json!({"name": "x", "mergingList": [list_patch]});
        list_original = json!({"name": "x", "mergingList": [list_original]});
    }
    assert!(matches!(
        apply(list_original, list_patch),
        Err(PatchError::TooDeep(_))
    ));
}
