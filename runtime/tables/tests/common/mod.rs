//! Shared test helpers: a fixed clock and kubectl's client-side rendering of a Table.

#![allow(dead_code)]

use jiff::Timestamp;
use serde_json::Value;
use wasmpod_printers::tabwriter::TabWriter;

pub fn now() -> Timestamp {
    "2026-07-06T10:03:35Z".parse().expect("timestamp")
}

/// The cells of every row of a Table.
pub fn cells(table: &Value) -> Vec<Value> {
    table["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["cells"].clone())
        .collect()
}

/// `(name, type, priority)` of each column definition.
pub fn column_shapes(table: &Value) -> Vec<(String, String, i64)> {
    table["columnDefinitions"]
        .as_array()
        .expect("columnDefinitions")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().expect("name").to_string(),
                c["type"].as_str().expect("type").to_string(),
                c["priority"].as_i64().expect("priority"),
            )
        })
        .collect()
}

/// What kubectl's table printer (`cli-runtime/pkg/printers/tableprinter.go`) prints for a
/// Table: priority > 0 columns only when `wide`, upper-cased headers, cells `fmt.Sprint`ed,
/// through the `kubectl get` tabwriter.
pub fn kubectl_render(table: &Value, wide: bool) -> String {
    let columns = table["columnDefinitions"].as_array().expect("columns");
    let shown: Vec<usize> = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| wide || c["priority"].as_i64() == Some(0))
        .map(|(i, _)| i)
        .collect();
    let mut tw = TabWriter::for_get();
    let header: Vec<String> = shown
        .iter()
        .map(|&i| columns[i]["name"].as_str().expect("name").to_uppercase())
        .collect();
    tw.write_str(&header.join("\t"));
    tw.write_str("\n");
    for row in table["rows"].as_array().expect("rows") {
        let cells: Vec<String> = shown
            .iter()
            .map(|&i| match &row["cells"][i] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        tw.write_str(&cells.join("\t"));
        tw.write_str("\n");
    }
    tw.finish()
}
