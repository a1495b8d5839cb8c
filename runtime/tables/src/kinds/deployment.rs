//! `printDeployment`.

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::Deployment;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{desired_replicas, Row};
use crate::format::{age, container_cells, text};
use wasmpod_apimachinery::Selector;

pub fn row(object: &Value, now: Timestamp) -> Result<Row, serde_json::Error> {
    let deployment = Deployment::deserialize(object)?;
    let spec = deployment.spec.unwrap_or_default();
    let status = deployment.status.unwrap_or_default();
    let (names, images) =
        container_cells(&spec.template.spec.map(|s| s.containers).unwrap_or_default());
    // Unlike the other printers, an empty selector prints as "" (no `<none>`).
    let selector = Selector::from_label_selector(object.pointer("/spec/selector"))
        .map_or_else(|_| "<invalid>".to_string(), |s| s.to_string());
    let ready = i64::from(status.ready_replicas.unwrap_or(0));
    Ok(Row::cells(vec![
        json!(text(deployment.metadata.name.as_ref())),
        json!(format!("{ready}/{}", desired_replicas(spec.replicas))),
        json!(i64::from(status.updated_replicas.unwrap_or(0))),
        json!(i64::from(status.available_replicas.unwrap_or(0))),
        json!(age(deployment.metadata.creation_timestamp.as_ref(), now)),
        json!(names),
        json!(images),
        json!(selector),
    ]))
}
