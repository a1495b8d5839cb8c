//! `calculateStatus` and `updateReplicaSetStatus` (`pkg/controller/replicaset/replica_set_utils.go`).

use jiff::Timestamp;
use serde_json::{json, Map, Value};
use wasmpod_apimachinery::Selector;
use wasmpod_apiserver::ApiServer;

use super::ReplicaKind;
use crate::error::{ControllerError, Result};
use crate::object;
use crate::pods;

const REPLICA_FAILURE: &str = "ReplicaFailure";

/// The status `pods` (the owner's active pods) give, starting from the current one so
/// fields this controller does not own are kept. Zero counts are omitted as Go's
/// `omitempty` does; `replicas` is always present.
pub(super) fn calculate(
    owner: &Value,
    pods: &[Value],
    manage_error: Option<&ControllerError>,
    now: Timestamp,
) -> Value {
    let mut status = match owner.get("status") {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    let template_labels: Vec<(String, String)> = owner
        .pointer("/spec/template/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let template_selector = Selector::from_set(
        template_labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    let min_ready = object::min_ready_seconds(owner);
    let fully_labeled = pods
        .iter()
        .filter(|p| template_selector.matches(object::labels(p)))
        .count();
    let ready = pods.iter().filter(|p| pods::is_ready(p)).count();
    let available = pods
        .iter()
        .filter(|p| pods::is_available(p, min_ready, now))
        .count();

    let mut conditions: Vec<Value> = status
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let has_failure = conditions
        .iter()
        .any(|c| c.get("type").and_then(Value::as_str) == Some(REPLICA_FAILURE));
    match manage_error {
        Some(error) if !has_failure => {
            let desired = object::spec_replicas(owner) as i64;
            let reason = match (pods.len() as i64 - desired).signum() {
                -1 => "FailedCreate",
                1 => "FailedDelete",
                _ => "",
            };
            conditions.push(json!({
                "type": REPLICA_FAILURE,
                "status": "True",
                "lastTransitionTime": object::format_time(now),
                "reason": reason,
                "message": error.to_string(),
            }));
        }
        None if has_failure => {
            conditions.retain(|c| c.get("type").and_then(Value::as_str) != Some(REPLICA_FAILURE));
        }
        _ => {}
    }

    status.insert("replicas".into(), json!(pods.len()));
    for (field, count) in [
        ("fullyLabeledReplicas", fully_labeled as i64),
        ("readyReplicas", ready as i64),
        ("availableReplicas", available as i64),
        ("observedGeneration", object::generation(owner)),
    ] {
        set_or_omit(&mut status, field, count);
    }
    if conditions.is_empty() {
        status.remove("conditions");
    } else {
        status.insert("conditions".into(), Value::Array(conditions));
    }
    Value::Object(status)
}

fn set_or_omit(status: &mut Map<String, Value>, field: &str, value: i64) {
    if value == 0 {
        status.remove(field);
    } else {
        status.insert(field.into(), json!(value));
    }
}

/// Writes `status` unless it is already current. A conflict is retried once against a
/// fresh read (`statusUpdateRetries = 1`).
pub(super) async fn write(
    api: &ApiServer,
    kind: &ReplicaKind,
    owner: &Value,
    status: Value,
) -> Result<()> {
    if owner.get("status") == Some(&status) {
        return Ok(());
    }
    let (namespace, name) = (object::namespace(owner), object::name(owner));
    let mut updated = owner.clone();
    updated["status"] = status.clone();
    match api
        .update_status(kind.resource, namespace, name, updated)
        .await
    {
        Ok(_) => Ok(()),
        Err(error) if error.code == 404 => Ok(()),
        Err(error) if error.code == 409 => {
            let mut fresh = match api.get_object(kind.resource, namespace, name).await {
                Ok(fresh) if object::uid(&fresh) == object::uid(owner) => fresh,
                Ok(_) => return Ok(()),
                Err(error) if error.code == 404 => return Ok(()),
                Err(error) => return Err(error.into()),
            };
            fresh["status"] = status;
            api.update_status(kind.resource, namespace, name, fresh)
                .await
                .map(|_| ())
                .map_err(Into::into)
        }
        Err(error) => Err(error.into()),
    }
}
