//! `printReplicationController`.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::ReplicationController;
use serde::Deserialize;
use serde_json::{json, Value};

use wasmpod_apimachinery::format_labels;

use super::{desired_replicas, Row};
use crate::format::{age, container_cells, text};

pub fn row(object: &Value, now: Timestamp) -> Result<Row, serde_json::Error> {
    let rc = ReplicationController::deserialize(object)?;
    let spec = rc.spec.unwrap_or_default();
    let status = rc.status.unwrap_or_default();
    let containers = spec
        .template
        .and_then(|t| t.spec)
        .map(|s| s.containers)
        .unwrap_or_default();
    let (names, images) = container_cells(&containers);
    Ok(Row::cells(vec![
        json!(text(rc.metadata.name.as_ref())),
        json!(desired_replicas(spec.replicas)),
        json!(i64::from(status.replicas)),
        json!(i64::from(status.ready_replicas.unwrap_or(0))),
        json!(age(rc.metadata.creation_timestamp.as_ref(), now)),
        json!(names),
        json!(images),
        json!(format_labels(object.pointer("/spec/selector"))),
    ]))
}
