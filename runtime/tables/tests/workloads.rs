//! ReplicaSet, Deployment and ReplicationController tables.

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
        ("9".to_string(), None),
    )
    .expect("table")
}

fn shapes(list: &[(&str, &str, i64)]) -> Vec<(String, String, i64)> {
    list.iter()
        .map(|(n, t, p)| (n.to_string(), t.to_string(), *p))
        .collect()
}

fn template() -> serde_json::Value {
    json!({"metadata": {"labels": {"app": "web"}},
           "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}, {"name": "sidecar", "image": "envoy"}]}})
}

#[test]
fn replica_set_row() {
    let rs = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web-6f7c9d8b5", "creationTimestamp": "2026-07-06T08:00:00Z"},
        "spec": {"replicas": 3,
                 "selector": {"matchLabels": {"pod-template-hash": "6f7c9d8b5", "app": "web"},
                              "matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]}]},
                 "template": template()},
        "status": {"replicas": 3, "readyReplicas": 2, "availableReplicas": 2},
    });
    let t = table(ResourceKind::ReplicaSet, &[rs]);
    assert_eq!(
        column_shapes(&t),
        shapes(&[
            ("Name", "string", 0),
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0),
            ("Age", "string", 0),
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ])
    );
    assert_eq!(
        cells(&t),
        vec![json!([
            "web-6f7c9d8b5",
            3,
            3,
            2,
            "123m",
            "web,sidecar",
            "nginx:1.27,envoy",
            "app=web,pod-template-hash=6f7c9d8b5,tier in (be,fe)"
        ])]
    );
}

#[test]
fn deployment_row() {
    let deploy = json!({
        "metadata": {"name": "web", "creationTimestamp": "2026-07-04T10:03:35Z"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": template()},
        "status": {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 1, "availableReplicas": 1},
    });
    // No replicas in spec: API defaulting makes it 1; no status yet.
    let fresh = json!({
        "metadata": {"name": "fresh", "creationTimestamp": "2026-07-06T10:03:34Z"},
        "spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "c"}]}}},
    });
    let t = table(ResourceKind::Deployment, &[deploy, fresh]);
    assert_eq!(
        column_shapes(&t),
        shapes(&[
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Up-to-date", "string", 0),
            ("Available", "string", 0),
            ("Age", "string", 0),
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ])
    );
    assert_eq!(
        cells(&t),
        vec![
            json!([
                "web",
                "1/3",
                3,
                1,
                "2d",
                "web,sidecar",
                "nginx:1.27,envoy",
                "app=web"
            ]),
            json!(["fresh", "0/1", 0, 0, "1s", "c", "", ""]),
        ]
    );
}

#[test]
fn replication_controller_row() {
    let rc = json!({
        "metadata": {"name": "legacy", "creationTimestamp": "2026-07-06T10:00:00Z"},
        "spec": {"replicas": 2, "selector": {"app": "legacy", "tier": "be"}, "template": template()},
        "status": {"replicas": 2, "readyReplicas": 2},
    });
    let no_template = json!({"metadata": {"name": "bare"}, "spec": {}, "status": {"replicas": 0}});
    let t = table(ResourceKind::ReplicationController, &[rc, no_template]);
    assert_eq!(
        column_shapes(&t)[1],
        ("Desired".to_string(), "integer".to_string(), 0)
    );
    assert_eq!(
        cells(&t),
        vec![
            json!([
                "legacy",
                2,
                2,
                2,
                "3m35s",
                "web,sidecar",
                "nginx:1.27,envoy",
                "app=legacy,tier=be"
            ]),
            json!(["bare", 1, 0, 0, "<unknown>", "", "", "<none>"]),
        ]
    );
}
