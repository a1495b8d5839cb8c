//! ConfigMap, Secret and Namespace tables.

mod common;

use common::{cells, column_shapes, now};
use serde_json::json;
use wasmpod_tables::{table_for, IncludeObject, ResourceKind};

fn table(kind: ResourceKind, objects: &[serde_json::Value]) -> serde_json::Value {
    table_for(
        kind,
        objects,
        now(),
        IncludeObject::Metadata,
        ("3".to_string(), None),
    )
    .expect("table")
}

#[test]
fn config_map_counts_data_and_binary_data() {
    let cm = json!({
        "metadata": {"name": "kube-root-ca.crt", "creationTimestamp": "2026-06-06T10:03:35Z"},
        "data": {"ca.crt": "x", "other": "y"},
        "binaryData": {"blob": "AAE="},
    });
    let t = table(ResourceKind::ConfigMap, &[cm]);
    let names: Vec<String> = column_shapes(&t).into_iter().map(|c| c.0).collect();
    assert_eq!(names, ["Name", "Data", "Age"]);
    assert_eq!(t["columnDefinitions"][1]["type"], "string");
    assert_eq!(cells(&t), vec![json!(["kube-root-ca.crt", 3, "30d"])]);
}

#[test]
fn secret_type_and_data_count() {
    let tls = json!({
        "metadata": {"name": "tls", "creationTimestamp": "2026-07-06T10:03:00Z"},
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "YQ==", "tls.key": "Yg=="},
    });
    let opaque =
        json!({"metadata": {"name": "empty", "creationTimestamp": "2026-07-06T10:03:00Z"}});
    let t = table(ResourceKind::Secret, &[tls, opaque]);
    let names: Vec<String> = column_shapes(&t).into_iter().map(|c| c.0).collect();
    assert_eq!(names, ["Name", "Type", "Data", "Age"]);
    assert_eq!(
        cells(&t),
        vec![
            json!(["tls", "kubernetes.io/tls", 2, "35s"]),
            json!(["empty", "Opaque", 0, "35s"])
        ]
    );
}

#[test]
fn namespace_phase() {
    let default_ns = json!({
        "metadata": {"name": "default", "creationTimestamp": "2025-07-06T10:03:35Z"},
        "status": {"phase": "Active"},
    });
    let going = json!({
        "metadata": {"name": "old", "creationTimestamp": "2026-07-06T07:03:35Z",
                     "deletionTimestamp": "2026-07-06T10:03:00Z"},
        "status": {"phase": "Terminating"},
    });
    let t = table(ResourceKind::Namespace, &[default_ns, going]);
    assert_eq!(
        t["columnDefinitions"][1]["description"],
        "The status of the namespace"
    );
    assert_eq!(
        cells(&t),
        vec![
            json!(["default", "Active", "365d"]),
            json!(["old", "Terminating", "3h"])
        ]
    );
}
