//! Small cell formatters shared by the printers (`printers.go` helpers).

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Container;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use wasmpod_printers::duration::human_duration;

/// `translateTimestampSince`: `<unknown>` for an unset time.
pub fn age(time: Option<&Time>, now: Timestamp) -> String {
    match time {
        Some(t) => human_duration(now.duration_since(t.0)),
        None => "<unknown>".to_string(),
    }
}

/// `translateMicroTimestampSince`.
pub fn micro_age(time: Option<&MicroTime>, now: Timestamp) -> String {
    match time {
        Some(t) => human_duration(now.duration_since(t.0)),
        None => "<unknown>".to_string(),
    }
}

/// `layoutContainerCells`: container names and images, each comma separated.
pub fn container_cells(containers: &[Container]) -> (String, String) {
    let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    let images: Vec<&str> = containers
        .iter()
        .map(|c| c.image.as_deref().unwrap_or(""))
        .collect();
    (names.join(","), images.join(","))
}

/// `labels.FormatLabels`: `k=v` pairs sorted by key, `<none>` when empty.
pub fn format_labels(labels: Option<&BTreeMap<String, String>>) -> String {
    let pairs: Vec<String> = labels
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if pairs.is_empty() {
        "<none>".to_string()
    } else {
        pairs.join(",")
    }
}

/// A string field, Go-style: unset reads as empty.
pub fn text(value: Option<&String>) -> &str {
    value.map(String::as_str).unwrap_or("")
}
