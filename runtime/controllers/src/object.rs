//! Accessors over Kubernetes objects in their JSON form (`metav1.Object` in Go): the
//! controllers read cached `serde_json::Value`s and write them back, so fields they do not
//! know survive untouched.

use jiff::Timestamp;
use serde_json::{json, Value};
use wasmpod_apimachinery::Selector;

pub(crate) fn meta_str<'a>(object: &'a Value, field: &str) -> &'a str {
    object
        .get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub(crate) fn name(object: &Value) -> &str {
    meta_str(object, "name")
}

pub(crate) fn namespace(object: &Value) -> &str {
    meta_str(object, "namespace")
}

pub(crate) fn uid(object: &Value) -> &str {
    meta_str(object, "uid")
}

/// `namespace/name`, the workqueue key of client-go's `MetaNamespaceKeyFunc`.
pub(crate) fn key(object: &Value) -> String {
    match namespace(object) {
        "" => name(object).to_string(),
        ns => format!("{ns}/{}", name(object)),
    }
}

pub(crate) fn resource_version(object: &Value) -> i64 {
    meta_str(object, "resourceVersion").parse().unwrap_or(0)
}

pub(crate) fn is_being_deleted(object: &Value) -> bool {
    !meta_str(object, "deletionTimestamp").is_empty()
}

pub(crate) fn generation(object: &Value) -> i64 {
    object
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

pub(crate) fn creation_timestamp(object: &Value) -> Option<Timestamp> {
    parse_time(meta_str(object, "creationTimestamp"))
}

/// `metadata.labels` (JSON null when absent; selectors treat that as no labels).
pub(crate) fn labels(object: &Value) -> &Value {
    object.pointer("/metadata/labels").unwrap_or(&Value::Null)
}

pub(crate) fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

pub(crate) fn set_annotation(object: &mut Value, key: &str, value: &str) {
    ensure_object(&mut object["metadata"]);
    ensure_object(&mut object["metadata"]["annotations"]);
    object["metadata"]["annotations"][key] = json!(value);
}

pub(crate) fn finalizers(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn has_finalizer(object: &Value, finalizer: &str) -> bool {
    finalizers(object).iter().any(|f| f == finalizer)
}

/// An integer under `pointer`, `default` when absent.
pub(crate) fn int_at(object: &Value, pointer: &str, default: i64) -> i64 {
    object
        .pointer(pointer)
        .and_then(Value::as_i64)
        .unwrap_or(default)
}

/// `spec.replicas` (the API server defaults it to 1).
pub(crate) fn spec_replicas(object: &Value) -> i32 {
    int_at(object, "/spec/replicas", 1) as i32
}

pub(crate) fn status_int(object: &Value, field: &str) -> i32 {
    object
        .get("status")
        .and_then(|s| s.get(field))
        .and_then(Value::as_i64)
        .unwrap_or(0) as i32
}

pub(crate) fn min_ready_seconds(object: &Value) -> i64 {
    int_at(object, "/spec/minReadySeconds", 0)
}

/// One `metadata.ownerReferences` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OwnerRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub uid: String,
    pub controller: bool,
    pub block_owner_deletion: bool,
}

impl OwnerRef {
    fn from_json(value: &Value) -> OwnerRef {
        let text = |field: &str| {
            value
                .get(field)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let flag = |field: &str| value.get(field).and_then(Value::as_bool).unwrap_or(false);
        OwnerRef {
            api_version: text("apiVersion"),
            kind: text("kind"),
            name: text("name"),
            uid: text("uid"),
            controller: flag("controller"),
            block_owner_deletion: flag("blockOwnerDeletion"),
        }
    }

    /// The API group of `apiVersion` ("" for core).
    pub fn group(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map(|(group, _)| group)
            .unwrap_or("")
    }
}

pub(crate) fn owner_references(object: &Value) -> Vec<OwnerRef> {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|refs| refs.iter().map(OwnerRef::from_json).collect())
        .unwrap_or_default()
}

/// `metav1.GetControllerOf`: the owner reference with `controller: true`.
pub(crate) fn controller_of(object: &Value) -> Option<OwnerRef> {
    owner_references(object).into_iter().find(|r| r.controller)
}

/// `metav1.NewControllerRef(owner, gvk)`.
pub(crate) fn controller_ref(owner: &Value, api_version: &str, kind: &str) -> Value {
    json!({
        "apiVersion": api_version,
        "kind": kind,
        "name": name(owner),
        "uid": uid(owner),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// A copy of `object` with `keep` applied to its owner references (the list is dropped
/// when it ends up empty, as the API server would omit it).
pub(crate) fn retain_owner_refs(object: &Value, keep: impl Fn(&Value) -> bool) -> Value {
    let mut copy = object.clone();
    if let Some(Value::Array(refs)) = copy.pointer_mut("/metadata/ownerReferences") {
        refs.retain(|r| keep(r));
        if refs.is_empty() {
            if let Some(Value::Object(meta)) = copy.get_mut("metadata") {
                meta.remove("ownerReferences");
            }
        }
    }
    copy
}

pub(crate) fn push_owner_ref(object: &mut Value, reference: Value) {
    ensure_object(&mut object["metadata"]);
    let refs = &mut object["metadata"]["ownerReferences"];
    if !refs.is_array() {
        *refs = json!([]);
    }
    if let Value::Array(refs) = refs {
        refs.push(reference);
    }
}

pub(crate) fn ensure_object(value: &mut Value) {
    if !value.is_object() {
        *value = json!({});
    }
}

/// The label selector of a workload: `spec.selector` as a `LabelSelector` (apps/v1) or as a
/// plain map (ReplicationController), as `metav1.LabelSelectorAsSelector` reads them.
pub(crate) fn label_selector(object: &Value, map_selector: bool) -> Result<Selector, String> {
    let selector = object.pointer("/spec/selector");
    if map_selector {
        let pairs: Vec<(&str, &str)> = selector
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
                    .collect()
            })
            .unwrap_or_default();
        return Ok(Selector::from_set(pairs));
    }
    Selector::from_label_selector(selector).map_err(|e| e.to_string())
}

pub(crate) fn parse_time(text: &str) -> Option<Timestamp> {
    if text.is_empty() {
        return None;
    }
    text.parse().ok()
}

/// `metav1.Time` as serialized: RFC 3339, whole seconds, UTC.
pub(crate) fn format_time(time: Timestamp) -> String {
    let seconds = Timestamp::from_second(time.as_second()).unwrap_or(time);
    seconds.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub(crate) fn now_string() -> String {
    format_time(Timestamp::now())
}
