//! Watch events: headers only with the first event (`watchEmbeddedEncoder`).

mod common;

use common::now;
use serde_json::{json, Value};
use wasmpod_tables::{watch_event_table, IncludeObject, ResourceKind, WatchTables};

fn pod(name: &str, rv: &str) -> Value {
    json!({
        "metadata": {"name": name, "resourceVersion": rv, "creationTimestamp": "2026-07-06T10:03:30Z"},
        "spec": {"containers": [{"name": "c"}]},
        "status": {"phase": "Pending"},
    })
}

#[test]
fn only_the_first_event_carries_column_definitions() {
    let mut tables = WatchTables::new(ResourceKind::Pod, IncludeObject::Metadata, false);
    let first = tables.next_event(&pod("a", "10"), now()).expect("first");
    let second = tables.next_event(&pod("b", "11"), now()).expect("second");
    assert_eq!(first["columnDefinitions"].as_array().map(Vec::len), Some(9));
    assert_eq!(first["metadata"], json!({"resourceVersion": "10"}));
    assert_eq!(
        second,
        json!({
            "kind": "Table",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": "11"},
            "columnDefinitions": null,
            "rows": [{
                "cells": ["b", "0/1", "Pending", "0", "5s", "<none>", "<none>", "<none>", "<none>"],
                "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                           "metadata": {"name": "b", "resourceVersion": "11",
                                        "creationTimestamp": "2026-07-06T10:03:30Z"}},
            }],
        })
    );
}

#[test]
fn no_headers_request_never_gets_columns() {
    let mut tables = WatchTables::new(ResourceKind::Pod, IncludeObject::None, true);
    let first = tables.next_event(&pod("a", "10"), now()).expect("first");
    assert_eq!(first["columnDefinitions"], Value::Null);
    assert_eq!(first["rows"][0]["object"], Value::Null);
}

#[test]
fn single_event_function() {
    let with = watch_event_table(
        ResourceKind::Pod,
        &pod("a", "1"),
        now(),
        IncludeObject::Metadata,
        true,
    )
    .expect("table");
    let without = watch_event_table(
        ResourceKind::Pod,
        &pod("a", "1"),
        now(),
        IncludeObject::Metadata,
        false,
    )
    .expect("table");
    assert!(with["columnDefinitions"].is_array());
    assert!(without["columnDefinitions"].is_null());
    assert_eq!(with["rows"], without["rows"]);
}
