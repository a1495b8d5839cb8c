//! Small helpers over objects in Kubernetes JSON: metadata fields, timestamps, conditions and
//! read-modify-write updates with compare-and-swap retries (client-go's `RetryOnConflict`).

use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use wasmpod_apiserver::ApiServer;

use crate::error::ClusterError;

/// Attempts of a read-modify-write whose compare-and-swap keeps losing.
const MAX_WRITE_ATTEMPTS: usize = 5;

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

pub(crate) fn is_deleting(object: &Value) -> bool {
    !meta_str(object, "deletionTimestamp").is_empty()
}

/// `namespace/name`, as `types.NamespacedName.String()` prints it.
pub(crate) fn namespaced_name(object: &Value) -> String {
    format!("{}/{}", namespace(object), name(object))
}

pub(crate) fn str_at<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub(crate) fn pod_node_name(pod: &Value) -> &str {
    str_at(pod, "/spec/nodeName")
}

pub(crate) fn pod_phase(pod: &Value) -> &str {
    str_at(pod, "/status/phase")
}

/// Succeeded or Failed: the pod's containers will not run again.
pub(crate) fn is_pod_terminal(pod: &Value) -> bool {
    matches!(pod_phase(pod), "Succeeded" | "Failed")
}

pub(crate) fn decode<T: DeserializeOwned>(object: &Value) -> Result<T, ClusterError> {
    T::deserialize(object).map_err(|source| ClusterError::Decode {
        what: format!(
            "{} {}",
            object["kind"].as_str().unwrap_or("object"),
            name(object)
        ),
        source,
    })
}

/// `metav1.Time` text (second precision) of `time`.
pub(crate) fn format_time(time: jiff::Timestamp) -> String {
    let seconds = jiff::Timestamp::from_second(time.as_second()).unwrap_or(time);
    seconds.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub(crate) fn now_time() -> String {
    format_time(jiff::Timestamp::now())
}

pub(crate) fn parse_time(text: &str) -> Option<jiff::Timestamp> {
    text.parse().ok()
}

/// The condition of `kind` in a `status.conditions` list.
pub(crate) fn condition<'a>(object: &'a Value, kind: &str) -> Option<&'a Value> {
    object
        .pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

pub(crate) fn condition_status<'a>(object: &'a Value, kind: &str) -> Option<&'a str> {
    condition(object, kind)?
        .get("status")
        .and_then(Value::as_str)
}

/// A pod condition to write (`v1.PodCondition` without probe time).
pub(crate) struct PodCondition<'a> {
    pub kind: &'a str,
    pub status: &'a str,
    pub reason: &'a str,
    pub message: &'a str,
}

/// `podutil.UpdatePodCondition`: sets the condition in `pod.status.conditions`, keeping its
/// `lastTransitionTime` when the status does not change; true when anything changed.
pub(crate) fn update_pod_condition(pod: &mut Value, wanted: &PodCondition<'_>) -> bool {
    let mut condition = json!({
        "type": wanted.kind,
        "status": wanted.status,
        "lastProbeTime": null,
        "lastTransitionTime": now_time(),
    });
    if !wanted.reason.is_empty() {
        condition["reason"] = json!(wanted.reason);
    }
    if !wanted.message.is_empty() {
        condition["message"] = json!(wanted.message);
    }
    set_condition_keeping_transition(pod, condition)
}

/// Replaces (or appends) the condition of the same type; `lastTransitionTime` of the old one
/// survives when `status` is unchanged. True when the stored condition differs afterwards.
pub(crate) fn set_condition_keeping_transition(object: &mut Value, mut condition: Value) -> bool {
    let kind = condition["type"].as_str().unwrap_or("").to_string();
    if !object["status"].is_object() {
        object["status"] = json!({});
    }
    if !object["status"]["conditions"].is_array() {
        object["status"]["conditions"] = json!([]);
    }
    let Some(conditions) = object["status"]["conditions"].as_array_mut() else {
        return false;
    };
    match conditions
        .iter_mut()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind.as_str()))
    {
        None => {
            conditions.push(condition);
            true
        }
        Some(existing) => {
            if existing.get("status") == condition.get("status") {
                condition["lastTransitionTime"] = existing
                    .get("lastTransitionTime")
                    .cloned()
                    .unwrap_or(Value::Null);
            }
            let same = ["status", "reason", "message", "lastTransitionTime"]
                .iter()
                .all(|field| field_text(existing, field) == field_text(&condition, field))
                && field_text(existing, "lastProbeTime") == field_text(&condition, "lastProbeTime");
            *existing = condition;
            !same
        }
    }
}

fn field_text<'a>(object: &'a Value, field: &str) -> &'a str {
    object.get(field).and_then(Value::as_str).unwrap_or("")
}

/// What a read-modify-write callback decided.
pub(crate) enum Edit {
    /// Write the edited object.
    Write,
    /// Nothing to change.
    Skip,
}

/// Which part of the object an edit writes.
#[derive(Clone, Copy)]
pub(crate) enum Part {
    Main,
    Status,
}

/// Reads `resource` `namespace/name` from the API, lets `edit` change it and writes it back
/// with its `resourceVersion` (compare-and-swap), retrying on conflicts. Returns the stored
/// object, or `None` when `edit` skipped.
pub(crate) async fn read_modify_write(
    api: &ApiServer,
    resource: &str,
    namespace: &str,
    name: &str,
    part: Part,
    mut edit: impl FnMut(&mut Value) -> Edit,
) -> Result<Option<Value>, ClusterError> {
    for _ in 0..MAX_WRITE_ATTEMPTS {
        let mut object = api.get_object(resource, namespace, name).await?;
        if let Edit::Skip = edit(&mut object) {
            return Ok(None);
        }
        let written = match part {
            Part::Main => api.update_object(resource, namespace, name, object).await,
            Part::Status => api.update_status(resource, namespace, name, object).await,
        };
        match written {
            Ok(stored) => return Ok(Some(stored)),
            Err(error) if error.code == 409 => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(ClusterError::Conflicts {
        what: format!("{resource} {namespace}/{name}"),
        attempts: MAX_WRITE_ATTEMPTS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condition_update_keeps_transition_time_when_status_is_unchanged() {
        let mut pod = json!({"status": {"conditions": [
            {"type": "Ready", "status": "False", "lastTransitionTime": "2020-01-01T00:00:00Z"}
        ]}});
        let changed = update_pod_condition(
            &mut pod,
            &PodCondition {
                kind: "Ready",
                status: "False",
                reason: "",
                message: "",
            },
        );
        assert!(!changed);
        assert_eq!(
            pod["status"]["conditions"][0]["lastTransitionTime"],
            "2020-01-01T00:00:00Z"
        );
        let changed = update_pod_condition(
            &mut pod,
            &PodCondition {
                kind: "Ready",
                status: "True",
                reason: "",
                message: "",
            },
        );
        assert!(changed);
        assert_ne!(
            pod["status"]["conditions"][0]["lastTransitionTime"],
            "2020-01-01T00:00:00Z"
        );
    }

    #[test]
    fn condition_update_appends_missing_condition() {
        let mut pod = json!({"status": {}});
        assert!(update_pod_condition(
            &mut pod,
            &PodCondition {
                kind: "DisruptionTarget",
                status: "True",
                reason: "DeletionByTaintManager",
                message: "Taint manager: deleting due to NoExecute taint",
            },
        ));
        assert_eq!(
            pod["status"]["conditions"][0]["reason"],
            "DeletionByTaintManager"
        );
    }
}
