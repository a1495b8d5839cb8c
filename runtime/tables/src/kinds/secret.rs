//! `printSecret`: DATA counts `data` entries (`stringData` is write-only).

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use serde::Deserialize;
use serde_json::{json, Value};

use super::Row;
use crate::format::{age, text};

pub fn row(object: &Value, now: Timestamp) -> Result<Row, serde_json::Error> {
    let secret = Secret::deserialize(object)?;
    // API defaulting sets an absent type to Opaque.
    let type_ = secret.type_.as_deref().unwrap_or("Opaque");
    Ok(Row::cells(vec![
        json!(text(secret.metadata.name.as_ref())),
        json!(type_),
        json!(secret.data.as_ref().map_or(0, |d| d.len()) as i64),
        json!(age(secret.metadata.creation_timestamp.as_ref(), now)),
    ]))
}
