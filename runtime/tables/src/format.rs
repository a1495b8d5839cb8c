//! Small cell formatters shared by the printers (`printers.go` helpers).

use k8s_openapi::api::core::v1::Container;
pub use wasmpod_printers::{age_since as age, micro_age_since as micro_age};

/// `layoutContainerCells`: container names and images, each comma separated.
pub fn container_cells(containers: &[Container]) -> (String, String) {
    let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    let images: Vec<&str> = containers
        .iter()
        .map(|c| c.image.as_deref().unwrap_or(""))
        .collect();
    (names.join(","), images.join(","))
}

/// A string field, Go-style: unset reads as empty.
pub fn text(value: Option<&String>) -> &str {
    value.map(String::as_str).unwrap_or("")
}
