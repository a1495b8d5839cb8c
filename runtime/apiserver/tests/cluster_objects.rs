//! What the cluster's controllers rely on: pod binding, garbage-collection finalizers on
//! delete, Service address allocation, and the node/lease/endpoint resources.

mod common;

use std::collections::HashSet;

use common::*;
use serde_json::{json, Value};
use wasmpod_apiserver::{ApiOptions, DeleteOptions, ServiceIpRange};

const PODS: &str = "/api/v1/namespaces/default/pods";
const SERVICES: &str = "/api/v1/namespaces/default/services";

#[tokio::test]
async fn binding_assigns_a_node_once_and_marks_the_pod_scheduled() {
    let t = start(ApiOptions::default()).await;
    let created = json_call(t.address, "POST", PODS, &pod("a", json!({}))).await;
    assert_eq!(created.status, 201, "{}", created.body);

    let binding = json!({"apiVersion": "v1", "kind": "Binding",
        "metadata": {"name": "a"}, "target": {"kind": "Node", "name": "node-1"}});
    let bound = json_call(t.address, "POST", &format!("{PODS}/a/binding"), &binding).await;
    assert_eq!(bound.status, 201, "{}", bound.body);
    let pod = t.server.get_object("pods", "default", "a").await.unwrap();
    assert_eq!(pod["spec"]["nodeName"], "node-1");
    let scheduled: Vec<&Value> = pod["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == "PodScheduled")
        .collect();
    assert_eq!(scheduled.len(), 1);
    assert_eq!(scheduled[0]["status"], "True");

    let again = t
        .server
        .bind_pod("default", "a", "node-2")
        .await
        .unwrap_err();
    assert_eq!(again.code, 409);
    assert_eq!(
        again.message,
        "Operation cannot be fulfilled on pods \"a\": pod a is already assigned to node \"node-1\""
    );
}

fn replica_set(name: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "health_image:latest"}]}
            }
        }
    })
}

#[tokio::test]
async fn foreground_and_orphan_deletes_leave_a_finalized_owner_for_the_collector() {
    let t = start(ApiOptions::default()).await;
    for (name, policy, finalizer) in [
        ("fg", "Foreground", "foregroundDeletion"),
        ("orphan", "Orphan", "orphan"),
    ] {
        t.server
            .create_object("replicasets", "default", replica_set(name))
            .await
            .unwrap();
        let options = DeleteOptions {
            propagation_policy: Some(policy.into()),
            ..DeleteOptions::default()
        };
        t.server
            .delete_object("replicasets", "default", name, options)
            .await
            .unwrap();
        let marked = t
            .server
            .get_object("replicasets", "default", name)
            .await
            .unwrap();
        assert!(marked["metadata"]["deletionTimestamp"].is_string());
        assert_eq!(marked["metadata"]["finalizers"], json!([finalizer]));

        // The collector removes its finalizer once done: that completes the delete.
        let mut finalized = marked.clone();
        finalized["metadata"]["finalizers"] = json!([]);
        t.server
            .update_object("replicasets", "default", name, finalized)
            .await
            .unwrap();
        let gone = t.server.get_object("replicasets", "default", name).await;
        assert_eq!(gone.unwrap_err().code, 404);
    }

    // Background (kubectl's default) deletes at once.
    t.server
        .create_object("replicasets", "default", replica_set("bg"))
        .await
        .unwrap();
    let options = DeleteOptions {
        propagation_policy: Some("Background".into()),
        ..DeleteOptions::default()
    };
    t.server
        .delete_object("replicasets", "default", "bg", options)
        .await
        .unwrap();
    assert_eq!(
        t.server
            .get_object("replicasets", "default", "bg")
            .await
            .unwrap_err()
            .code,
        404
    );

    t.server
        .create_object("replicasets", "default", replica_set("x"))
        .await
        .unwrap();
    let bogus = json_call(
        t.address,
        "DELETE",
        "/apis/apps/v1/namespaces/default/replicasets/x?propagationPolicy=Sideways",
        &json!({}),
    )
    .await;
    assert_eq!(bogus.status, 422, "{}", bogus.body);
    assert!(bogus.json()["message"]
        .as_str()
        .unwrap()
        .contains("propagationPolicy: Unsupported value: \"Sideways\""));
    assert!(t
        .server
        .get_object("replicasets", "default", "x")
        .await
        .is_ok());
}

fn service(name: &str, service_type: &str, extra: Value) -> Value {
    let mut service = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name},
        "spec": {"type": service_type, "selector": {"app": name}, "ports": [{"port": 80}]}
    });
    if let (Some(spec), Some(extra)) = (service["spec"].as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    service
}

#[tokio::test]
async fn services_get_defaults_and_unique_addresses_from_the_configured_ranges() {
    let range: ServiceIpRange = "127.0.200.0/29".parse().unwrap();
    let options = ApiOptions {
        service_cluster_ip_range: range,
        service_node_port_range: 31000..=31003,
        ..ApiOptions::default()
    };
    let t = start(options).await;
    let mut ips = HashSet::new();
    let mut node_ports = HashSet::new();
    // A /29 has 6 usable addresses; 4 node ports in the range.
    for i in 0..4 {
        let created = json_call(
            t.address,
            "POST",
            SERVICES,
            &service(&format!("s{i}"), "NodePort", json!({})),
        )
        .await;
        assert_eq!(created.status, 201, "{}", created.body);
        let object = created.json();
        let spec = &object["spec"];
        let ip: std::net::Ipv4Addr = spec["clusterIP"].as_str().unwrap().parse().unwrap();
        assert!(range.contains(ip), "{ip} outside {range:?}");
        assert_eq!(spec["clusterIPs"], json!([ip.to_string()]));
        assert!(ips.insert(ip), "{ip} allocated twice");
        let node_port = spec["ports"][0]["nodePort"].as_u64().unwrap();
        assert!((31000..=31003).contains(&node_port));
        assert!(node_ports.insert(node_port), "{node_port} allocated twice");
        assert_eq!(spec["ports"][0]["protocol"], "TCP");
        assert_eq!(spec["ports"][0]["targetPort"], 80);
        assert_eq!(spec["sessionAffinity"], "None");
        assert_eq!(spec["externalTrafficPolicy"], "Cluster");
    }
    let full = json_call(
        t.address,
        "POST",
        SERVICES,
        &service("s9", "NodePort", json!({})),
    )
    .await;
    assert_eq!(full.status, 500, "{}", full.body);
    assert!(full.json()["message"]
        .as_str()
        .unwrap()
        .contains("nodePort"));

    let taken = ips.iter().next().unwrap().to_string();
    let clash = json_call(
        t.address,
        "POST",
        SERVICES,
        &service("dup", "ClusterIP", json!({"clusterIP": taken})),
    )
    .await;
    assert_eq!(clash.status, 422, "{}", clash.body);
    assert!(clash.json()["message"]
        .as_str()
        .unwrap()
        .contains("provided IP is already allocated"));

    let headless = json_call(
        t.address,
        "POST",
        SERVICES,
        &service("headless", "ClusterIP", json!({"clusterIP": "None"})),
    )
    .await;
    assert_eq!(headless.status, 201, "{}", headless.body);
    assert_eq!(headless.json()["spec"]["clusterIP"], "None");
}

#[tokio::test]
async fn nodes_leases_and_endpoint_slices_are_served() {
    let t = start(ApiOptions::default()).await;
    let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
    let created = json_call(t.address, "POST", "/api/v1/nodes", &node).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let stored = call(t.address, "GET", "/api/v1/nodes/node-1", &[], "").await;
    assert_eq!(stored.status, 200);
    assert_eq!(stored.json()["metadata"]["name"], "node-1");
    assert!(t
        .server
        .storage()
        .get("/registry/minions/node-1")
        .await
        .unwrap()
        .is_some());

    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "node-1", "namespace": "kube-node-lease"},
        "spec": {"holderIdentity": "node-1", "leaseDurationSeconds": 40}});
    let created = json_call(
        t.address,
        "POST",
        "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
        &lease,
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);

    let slice = json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"generateName": "web-"}, "addressType": "IPv4",
        "endpoints": [{"addresses": ["127.1.0.5"], "conditions": {"ready": true}}]});
    let created = json_call(
        t.address,
        "POST",
        "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
        &slice,
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.json()["metadata"]["name"]
        .as_str()
        .unwrap()
        .starts_with("web-"));
}
