//! `printConfigMap`: DATA counts `data` and `binaryData` entries.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::ConfigMap;
use serde::Deserialize;
use serde_json::{json, Value};

use super::Row;
use crate::format::{age, text};

pub fn row(object: &Value, now: Timestamp) -> Result<Row, serde_json::Error> {
    let cm = ConfigMap::deserialize(object)?;
    let entries =
        cm.data.as_ref().map_or(0, |d| d.len()) + cm.binary_data.as_ref().map_or(0, |d| d.len());
    Ok(Row::cells(vec![
        json!(text(cm.metadata.name.as_ref())),
        json!(entries as i64),
        json!(age(cm.metadata.creation_timestamp.as_ref(), now)),
    ]))
}
