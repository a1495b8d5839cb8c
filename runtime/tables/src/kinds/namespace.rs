//! `printNamespace`.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Namespace;
use serde::Deserialize;
use serde_json::{json, Value};

use super::Row;
use crate::format::{age, text};

pub fn row(object: &Value, now: Timestamp) -> Result<Row, serde_json::Error> {
    let ns = Namespace::deserialize(object)?;
    // The namespace strategy sets phase Active on create.
    let phase = ns
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Active");
    Ok(Row::cells(vec![
        json!(text(ns.metadata.name.as_ref())),
        json!(phase),
        json!(age(ns.metadata.creation_timestamp.as_ref(), now)),
    ]))
}
