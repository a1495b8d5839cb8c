//! `printEndpointSlice`: NAME, ADDRESSTYPE, PORTS, ENDPOINTS (at most 3, then `+ N more...`), AGE.

use jiff::Timestamp;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde::Deserialize;
use serde_json::{json, Value};

use super::Row;
use crate::format::{age, text};

const MAX_LISTED: usize = 3;

pub fn row(object: &Value, now: Timestamp) -> Result<Row, serde_json::Error> {
    let slice = EndpointSlice::deserialize(object)?;
    let ports = match slice.ports.as_deref() {
        None => "<unset>".to_string(),
        Some([]) => "<unset>".to_string(),
        Some(ports) => {
            let listed: Vec<String> = ports
                .iter()
                .take(MAX_LISTED)
                .map(|p| {
                    p.port
                        .map_or_else(|| "<unset>".to_string(), |p| p.to_string())
                })
                .collect();
            with_more(listed.join(","), ports.len())
        }
    };
    let addresses: Vec<&String> = slice
        .endpoints
        .iter()
        .flat_map(|e| e.addresses.iter())
        .collect();
    let endpoints = if addresses.is_empty() {
        "<unset>".to_string()
    } else {
        let listed: Vec<&str> = addresses
            .iter()
            .take(MAX_LISTED)
            .map(|a| a.as_str())
            .collect();
        with_more(listed.join(","), addresses.len())
    };
    Ok(Row::cells(vec![
        json!(text(slice.metadata.name.as_ref())),
        json!(slice.address_type),
        json!(ports),
        json!(endpoints),
        json!(age(slice.metadata.creation_timestamp.as_ref(), now)),
    ]))
}

fn with_more(listed: String, total: usize) -> String {
    if total > MAX_LISTED {
        format!("{listed} + {} more...", total - MAX_LISTED)
    } else {
        listed
    }
}
