//! `printPod`: the cell values come from wasmpod-printers' `pod_row`.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use serde::Deserialize;
use serde_json::{json, Value};
use wasmpod_printers::pod_row;

use super::Row;

pub fn row(object: &Value, now: Timestamp) -> Result<Row, serde_json::Error> {
    let pod = Pod::deserialize(object)?;
    let r = pod_row(&pod, now);
    let cells = vec![
        json!(r.name),
        json!(r.ready),
        json!(r.status),
        // A string since v1.22: "3 (5m ago)" or "0".
        json!(r.restarts),
        json!(r.age),
        json!(r.ip),
        json!(r.node),
        json!(r.nominated_node),
        json!(r.readiness_gates),
    ];
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    Ok(Row {
        cells,
        conditions: completed_condition(phase).into_iter().collect(),
    })
}

/// `podSuccessConditions` / `podFailedConditions`.
fn completed_condition(phase: Option<&str>) -> Option<Value> {
    let message = match phase? {
        "Succeeded" => "The pod has completed successfully.",
        "Failed" => "The pod failed.",
        _ => return None,
    };
    Some(json!({
        "type": "Completed",
        "status": "True",
        "reason": phase,
        "message": message,
    }))
}
