//! `printReplicaSet`.

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::ReplicaSet;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{desired_replicas, Row};
use crate::format::{age, container_cells, text};
use wasmpod_apimachinery::format_label_selector;

pub fn row(object: &Value, now: Timestamp) -> Result<Row, serde_json::Error> {
    let rs = ReplicaSet::deserialize(object)?;
    let spec = rs.spec.unwrap_or_default();
    let status = rs.status.unwrap_or_default();
    let containers = spec
        .template
        .and_then(|t| t.spec)
        .map(|s| s.containers)
        .unwrap_or_default();
    let (names, images) = container_cells(&containers);
    Ok(Row::cells(vec![
        json!(text(rs.metadata.name.as_ref())),
        json!(desired_replicas(spec.replicas)),
        json!(i64::from(status.replicas)),
        json!(i64::from(status.ready_replicas.unwrap_or(0))),
        json!(age(rs.metadata.creation_timestamp.as_ref(), now)),
        json!(names),
        json!(images),
        json!(format_label_selector(object.pointer("/spec/selector"))),
    ]))
}
