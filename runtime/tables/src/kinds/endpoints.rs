//! `printEndpoints` / `formatEndpoints` (all ports).

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{EndpointSubset, Endpoints};
use serde::Deserialize;
use serde_json::{json, Value};

use super::Row;
use crate::format::{age, text};

/// At most this many addresses are listed, then `+ N more...`.
const MAX_LISTED: usize = 3;

pub fn row(object: &Value, now: Timestamp) -> Result<Row, serde_json::Error> {
    let endpoints = Endpoints::deserialize(object)?;
    Ok(Row::cells(vec![
        json!(text(endpoints.metadata.name.as_ref())),
        json!(format_endpoints(
            endpoints.subsets.as_deref().unwrap_or_default()
        )),
        json!(age(endpoints.metadata.creation_timestamp.as_ref(), now)),
    ]))
}

fn format_endpoints(subsets: &[EndpointSubset]) -> String {
    if subsets.is_empty() {
        return "<none>".to_string();
    }
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0;
    for subset in subsets {
        let addresses = subset.addresses.as_deref().unwrap_or_default();
        let ports = subset.ports.as_deref().unwrap_or_default();
        if ports.is_empty() {
            // Headless services may have no ports.
            count += addresses.len();
            for address in addresses {
                if list.len() == MAX_LISTED {
                    more = true;
                    break;
                }
                list.push(address.ip.clone());
            }
            continue;
        }
        for port in ports {
            count += addresses.len();
            for address in addresses {
                if list.len() == MAX_LISTED {
                    more = true;
                    break;
                }
                list.push(join_host_port(&address.ip, port.port));
            }
        }
    }
    let joined = list.join(",");
    if more {
        format!("{joined} + {} more...", count - MAX_LISTED)
    } else {
        joined
    }
}

/// Go `net.JoinHostPort`: IPv6 literals get brackets.
fn join_host_port(host: &str, port: i32) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}
