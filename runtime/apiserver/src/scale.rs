//! The `*/scale` subresource: an `autoscaling/v1` `Scale` view of a workload's replicas.

use serde_json::{json, Value};
use wasmpod_apimachinery::{format_label_selector, format_labels};
use wasmpod_manifest::FieldError;

use crate::status_errors::ApiError;

/// The Scale of `object` (a ReplicaSet, Deployment or ReplicationController).
pub(crate) fn scale_of(kind: &str, object: &Value) -> Value {
    let metadata = object.get("metadata").cloned().unwrap_or(json!({}));
    let pick = |field: &str| metadata.get(field).cloned().unwrap_or(Value::Null);
    let selector = if kind == "ReplicationController" {
        format_labels(object.pointer("/spec/selector"))
    } else {
        format_label_selector(object.pointer("/spec/selector"))
    };
    let mut scale_meta = json!({
        "name": pick("name"),
        "namespace": pick("namespace"),
        "uid": pick("uid"),
        "resourceVersion": pick("resourceVersion"),
        "creationTimestamp": pick("creationTimestamp"),
    });
    if let Value::Object(map) = &mut scale_meta {
        map.retain(|_, v| !v.is_null());
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_meta,
        "spec": {"replicas": object.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0)},
        "status": {
            "replicas": object.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(0),
            "selector": selector,
        }
    })
}

/// `object` with the replicas of `scale`; the Scale's resourceVersion (if any) becomes the
/// object's precondition.
pub(crate) fn apply_scale(object: &Value, scale: &Value) -> Result<Value, ApiError> {
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let replicas = match scale.pointer("/spec/replicas") {
        None | Some(Value::Null) => 0,
        Some(value) => value.as_i64().ok_or_else(|| {
            ApiError::bad_request(format!(
                "Scale in version \"v1\" cannot be handled as a Scale: json: cannot unmarshal {value} into Go struct field ScaleSpec.spec.replicas of type int32"
            ))
        })?,
    };
    if replicas < 0 {
        let scale_resource = crate::resources::Resource::scale();
        return Err(ApiError::invalid(
            &scale_resource,
            name,
            &[FieldError::invalid(
                "spec.replicas",
                replicas,
                "must be greater than or equal to 0",
            )],
        ));
    }
    let mut updated = object.clone();
    updated["spec"]["replicas"] = json!(replicas);
    if let Some(rv) = scale
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .filter(|rv| !rv.is_empty())
    {
        updated["metadata"]["resourceVersion"] = json!(rv);
    }
    Ok(updated)
}
