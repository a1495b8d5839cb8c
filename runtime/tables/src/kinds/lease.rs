//! `printLease`: NAME, HOLDER, AGE.

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use serde::Deserialize;
use serde_json::{json, Value};

use super::Row;
use crate::format::{age, text};

pub fn row(object: &Value, now: Timestamp) -> Result<Row, serde_json::Error> {
    let lease = Lease::deserialize(object)?;
    let holder = lease
        .spec
        .as_ref()
        .and_then(|s| s.holder_identity.clone())
        .unwrap_or_else(|| "<none>".into());
    Ok(Row::cells(vec![
        json!(text(lease.metadata.name.as_ref())),
        json!(holder),
        json!(age(lease.metadata.creation_timestamp.as_ref(), now)),
    ]))
}
