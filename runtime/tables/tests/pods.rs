//! Pod tables: the full JSON of kube-apiserver 1.33 (hand-checked against `printPod`,
//! `AddHandlers` and `asTable`) and what kubectl makes of it.

mod common;

use common::{kubectl_render, now};
use k8s_openapi::api::core::v1::Pod;
use serde_json::{json, Value};
use wasmpod_tables::{table_for, IncludeObject, ResourceKind};

/// `health1` after three liveness restarts, last one finished 25 s ago (spec §4.6.4).
fn restarted_pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "health1",
            "namespace": "default",
            "uid": "5f0c3c36-1111-4a5e-9f00-000000000001",
            "resourceVersion": "812",
            "creationTimestamp": "2026-07-06T10:00:00Z",
            "labels": {"app": "health"},
        },
        "spec": {"nodeName": "worker-1", "containers": [{"name": "app", "image": "health_image:latest"}]},
        "status": {
            "phase": "Running",
            "podIP": "10.244.1.5",
            "podIPs": [{"ip": "10.244.1.5"}],
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{
                "name": "app", "image": "health_image:latest", "imageID": "sha256:1", "ready": true,
                "restartCount": 3, "started": true,
                "state": {"running": {"startedAt": "2026-07-06T10:03:11Z"}},
                "lastState": {"terminated": {"exitCode": 137, "reason": "Error",
                    "startedAt": "2026-07-06T10:02:21Z", "finishedAt": "2026-07-06T10:03:10Z"}},
            }],
        },
    })
}

fn completed_pod() -> Value {
    json!({
        "metadata": {"name": "job-x", "namespace": "default", "resourceVersion": "900",
                     "creationTimestamp": "2026-07-06T09:00:00Z"},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
        "status": {
            "phase": "Succeeded",
            "containerStatuses": [{
                "name": "main", "image": "busybox", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
            }],
        },
    })
}

const NAME_DOC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const AGE_DOC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

#[test]
fn pod_list_table_is_what_kube_apiserver_sends() {
    let table = table_for(
        ResourceKind::Pod,
        &[restarted_pod(), completed_pod()],
        now(),
        IncludeObject::Metadata,
        ("1234".to_string(), None),
    )
    .expect("table");
    let expected = json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": "1234"},
        "columnDefinitions": [
            {"name": "Name", "type": "string", "format": "name", "description": NAME_DOC, "priority": 0},
            {"name": "Ready", "type": "string", "format": "", "description": "The aggregate readiness state of this pod for accepting traffic.", "priority": 0},
            {"name": "Status", "type": "string", "format": "", "description": "The aggregate status of the containers in this pod.", "priority": 0},
            {"name": "Restarts", "type": "string", "format": "", "description": "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", "priority": 0},
            {"name": "Age", "type": "string", "format": "", "description": AGE_DOC, "priority": 0},
            {"name": "IP", "type": "string", "format": "", "description": "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", "priority": 1},
            {"name": "Node", "type": "string", "format": "", "description": "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename", "priority": 1},
            {"name": "Nominated Node", "type": "string", "format": "", "description": "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.", "priority": 1},
            {"name": "Readiness Gates", "type": "string", "format": "", "description": "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates", "priority": 1},
        ],
        "rows": [
            {
                "cells": ["health1", "1/1", "Running", "3 (25s ago)", "3m35s", "10.244.1.5", "worker-1", "<none>", "<none>"],
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": {
                        "name": "health1",
                        "namespace": "default",
                        "uid": "5f0c3c36-1111-4a5e-9f00-000000000001",
                        "resourceVersion": "812",
                        "creationTimestamp": "2026-07-06T10:00:00Z",
                        "labels": {"app": "health"},
                    },
                },
            },
            {
                "cells": ["job-x", "0/1", "Completed", "0", "63m", "<none>", "<none>", "<none>", "<none>"],
                "conditions": [{"type": "Completed", "status": "True", "reason": "Succeeded",
                                "message": "The pod has completed successfully."}],
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": {"name": "job-x", "namespace": "default", "resourceVersion": "900",
                                 "creationTimestamp": "2026-07-06T09:00:00Z"},
                },
            },
        ],
    });
    assert_eq!(table, expected);
}

#[test]
fn kubectl_renders_the_table_like_get_pods() {
    let table = table_for(
        ResourceKind::Pod,
        &[restarted_pod()],
        now(),
        IncludeObject::Metadata,
        ("1".to_string(), None),
    )
    .expect("table");
    let expected = "NAME      READY   STATUS    RESTARTS      AGE\n\
                    health1   1/1     Running   3 (25s ago)   3m35s\n";
    assert_eq!(kubectl_render(&table, false), expected);
    assert_eq!(
        kubectl_render(&table, true),
        "NAME      READY   STATUS    RESTARTS      AGE     IP           NODE       NOMINATED NODE   READINESS GATES\n\
         health1   1/1     Running   3 (25s ago)   3m35s   10.244.1.5   worker-1   <none>           <none>\n"
    );
    // Same text as wasmpod-printers' own `get pods` (which runs its render_table).
    let pod: Pod = serde_json::from_value(restarted_pod()).expect("pod");
    assert_eq!(wasmpod_printers::get_pods(&[pod], now(), false), expected);
}

#[test]
fn include_object_none_and_object() {
    let none = table_for(
        ResourceKind::Pod,
        &[completed_pod()],
        now(),
        IncludeObject::None,
        ("1".to_string(), Some("next-token".to_string())),
    )
    .expect("table");
    assert_eq!(none["rows"][0]["object"], Value::Null);
    assert_eq!(
        none["metadata"],
        json!({"resourceVersion": "1", "continue": "next-token"})
    );

    let full = table_for(
        ResourceKind::Pod,
        &[completed_pod()],
        now(),
        IncludeObject::Object,
        ("1".to_string(), None),
    )
    .expect("table");
    let object = &full["rows"][0]["object"];
    assert_eq!(object["kind"], "Pod");
    assert_eq!(object["apiVersion"], "v1");
    assert_eq!(object["status"]["phase"], "Succeeded");
}

#[test]
fn partial_metadata_drops_empty_fields_and_keeps_null_creation_timestamp() {
    let pod = json!({
        "metadata": {"name": "p", "namespace": "", "labels": {}, "generation": 0, "finalizers": []},
        "spec": {"containers": []},
    });
    let table = table_for(
        ResourceKind::Pod,
        &[pod],
        now(),
        IncludeObject::Metadata,
        (String::new(), None),
    )
    .expect("table");
    assert_eq!(
        table["rows"][0]["object"]["metadata"],
        json!({"name": "p", "creationTimestamp": null})
    );
    assert_eq!(table["metadata"], json!({}));
    assert_eq!(table["rows"][0]["cells"][4], "<unknown>");
}

#[test]
fn empty_list_has_columns_and_no_rows() {
    let table = table_for(
        ResourceKind::Pod,
        &[],
        now(),
        IncludeObject::Metadata,
        ("7".to_string(), None),
    )
    .expect("table");
    assert_eq!(table["rows"], json!([]));
    assert_eq!(table["columnDefinitions"].as_array().map(Vec::len), Some(9));
}

#[test]
fn malformed_object_is_a_typed_error() {
    let bad = json!({"metadata": {"name": "p"}, "spec": {"containers": "nope"}});
    let err = table_for(
        ResourceKind::Pod,
        &[restarted_pod(), bad],
        now(),
        IncludeObject::Metadata,
        ("1".to_string(), None),
    )
    .expect_err("invalid pod");
    assert!(matches!(
        err,
        wasmpod_tables::TableError::InvalidObject { index: 1, .. }
    ));
}
