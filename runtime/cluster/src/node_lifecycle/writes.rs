//! The node controller's writes: taint swaps on nodes (`SwapNodeControllerTaint`) and pod
//! Ready=False (`MarkPodsNotReady`).

use k8s_openapi::api::core::v1::Taint;
use serde_json::{json, Value};
use wasmpod_apiserver::{ApiServer, EventKind, EventRecorder};

use crate::error::ClusterError;
use crate::objects::{self, Edit, Part};

fn taint_matches(taint: &Value, wanted: &Taint) -> bool {
    taint.get("key").and_then(Value::as_str) == Some(wanted.key.as_str())
        && taint.get("effect").and_then(Value::as_str) == Some(wanted.effect.as_str())
}

/// Adds `add` (with `timeAdded` now) and removes `remove` from the node's taints in one
/// write. A taint already present keeps its `timeAdded` (a stale cache must not restart the
/// pods' toleration clocks).
pub(crate) async fn swap_taints(
    api: &ApiServer,
    node: &str,
    add: &[Taint],
    remove: &[Taint],
) -> Result<(), ClusterError> {
    let result = objects::read_modify_write(api, "nodes", "", node, Part::Main, |node| {
        let mut taints: Vec<Value> = node
            .pointer("/spec/taints")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let before = taints.clone();
        taints.retain(|t| !remove.iter().any(|r| taint_matches(t, r)));
        for wanted in add {
            if !taints.iter().any(|t| taint_matches(t, wanted)) {
                let mut taint = json!({
                    "key": wanted.key,
                    "effect": wanted.effect,
                    "timeAdded": objects::now_time(),
                });
                if let Some(value) = wanted.value.as_deref().filter(|v| !v.is_empty()) {
                    taint["value"] = json!(value);
                }
                taints.push(taint);
            }
        }
        if taints == before {
            return Edit::Skip;
        }
        if !node["spec"].is_object() {
            node["spec"] = json!({});
        }
        if taints.is_empty() {
            if let Some(spec) = node["spec"].as_object_mut() {
                spec.remove("taints");
            }
        } else {
            node["spec"]["taints"] = Value::Array(taints);
        }
        Edit::Write
    })
    .await;
    match result {
        Err(error) if error.is_not_found() => Ok(()),
        other => other.map(|_| ()),
    }
}

/// True when the node (as cached) carries a taint with this key and effect.
pub(crate) fn has_taint(node: &Value, wanted: &Taint) -> bool {
    node.pointer("/spec/taints")
        .and_then(Value::as_array)
        .is_some_and(|taints| taints.iter().any(|t| taint_matches(t, wanted)))
}

/// `MarkPodsNotReady`: the Ready condition of each pod on `node` becomes False (nothing
/// else changes) and the pod gets `Warning NodeNotReady "Node is not ready"`.
pub(crate) async fn mark_pods_not_ready(
    api: &ApiServer,
    recorder: &EventRecorder,
    pods: &[Value],
    node: &str,
) -> Result<(), ClusterError> {
    let mut failure = None;
    for pod in pods.iter().filter(|p| objects::pod_node_name(p) == node) {
        let uid = objects::uid(pod).to_string();
        let written = objects::read_modify_write(
            api,
            "pods",
            objects::namespace(pod),
            objects::name(pod),
            Part::Status,
            |pod| {
                if objects::uid(pod) != uid {
                    return Edit::Skip;
                }
                let Some(ready) = objects::condition(pod, "Ready").cloned() else {
                    return Edit::Skip;
                };
                let mut ready = ready;
                ready["status"] = json!("False");
                ready["lastTransitionTime"] = json!(objects::now_time());
                if objects::set_condition_keeping_transition(pod, ready) {
                    Edit::Write
                } else {
                    Edit::Skip
                }
            },
        )
        .await;
        match written {
            Ok(Some(updated)) => {
                recorder
                    .record(
                        &updated,
                        EventKind::Warning,
                        "NodeNotReady",
                        "Node is not ready",
                    )
                    .await;
            }
            Ok(None) => {}
            Err(error) if error.is_not_found() => {}
            Err(error) => failure = Some(error),
        }
    }
    failure.map_or(Ok(()), Err)
}
