//! The pod garbage collector: pods of deleted nodes and terminating pods of out-of-service
//! nodes are force-deleted.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use wasmpod_apiserver::{DeleteOptions, DeleteOutcome};
use wasmpod_cluster::{start_pod_gc, PodGcOptions};

const WAIT: Duration = Duration::from_secs(10);

fn options() -> PodGcOptions {
    PodGcOptions {
        gc_check_period: Duration::from_millis(100),
        quarantine_time: Duration::from_millis(500),
        ..PodGcOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_of_a_deleted_node_are_removed_after_the_quarantine() {
    let api = api();
    create_node(&api, node("gone", "4", "8Gi")).await;
    create_node(&api, node("stays", "4", "8Gi")).await;
    for (name, node) in [("orphan", "gone"), ("kept", "stays")] {
        let mut pod = pod(name, json!({}));
        pod["spec"]["nodeName"] = json!(node);
        create_pod(&api, pod).await;
        set_pod_running(&api, name).await;
    }
    let _gc = start_pod_gc(api.clone(), options());
    api.delete_object("nodes", "", "gone", DeleteOptions::default())
        .await
        .expect("delete node");
    let deleted_at = tokio::time::Instant::now();
    eventually("orphan removed", WAIT, || async {
        get_pod(&api, "orphan").await.is_none().then_some(())
    })
    .await;
    assert!(
        deleted_at.elapsed() >= Duration::from_millis(500),
        "the quarantine is respected"
    );
    assert!(get_pod(&api, "kept").await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminating_pods_on_out_of_service_nodes_are_force_deleted() {
    let api = api();
    let mut dead = node("dead", "4", "8Gi");
    dead["status"]["conditions"][0]["status"] = json!("False");
    create_node(&api, dead).await;
    let mut pod = pod("stuck", json!({}));
    pod["spec"]["nodeName"] = json!("dead");
    create_pod(&api, pod).await;
    set_pod_running(&api, "stuck").await;
    let outcome = api
        .delete_object("pods", "default", "stuck", DeleteOptions::default())
        .await
        .expect("graceful delete");
    assert!(
        matches!(outcome, DeleteOutcome::Pending(_)),
        "no kubelet finishes it"
    );
    let _gc = start_pod_gc(api.clone(), options());
    // Still there while the node is merely not ready.
    holds_for(
        "terminating pod kept",
        Duration::from_millis(400),
        || async { get_pod(&api, "stuck").await.is_some() },
    )
    .await;

    let mut node = api.get_object("nodes", "", "dead").await.expect("node");
    node["spec"]["taints"] = json!([{
        "key": "node.kubernetes.io/out-of-service", "value": "nodeshutdown", "effect": "NoExecute"
    }]);
    api.update_object("nodes", "", "dead", node)
        .await
        .expect("taint");
    eventually("stuck pod removed", WAIT, || async {
        get_pod(&api, "stuck").await.is_none().then_some(())
    })
    .await;
}
