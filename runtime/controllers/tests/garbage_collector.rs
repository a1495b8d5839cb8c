//! Garbage collection of Deployment → ReplicaSet → Pod chains (and across other kinds).

mod common;

use common::*;
use serde_json::{json, Value};
use wasmpod_apiserver::ApiServer;

/// A Deployment with its ReplicaSet and `replicas` pods; returns (deployment, replica set).
async fn deployment_chain(api: &ApiServer, replicas: i64) -> (Value, Value) {
    let d = api
        .create_object(
            "deployments",
            NS,
            deployment("web", replicas, json!({"type": "RollingUpdate"})),
        )
        .await
        .unwrap();
    let rs = wait_for("ReplicaSet and pods", || async {
        let rs = list(api, "replicasets")
            .await
            .into_iter()
            .find(|rs| controller_uid(rs).as_deref() == Some(uid(&d)))?;
        (pods_of(api, uid(&rs)).await.len() == replicas as usize).then_some(rs)
    })
    .await;
    (d, rs)
}

async fn add_finalizer(api: &ApiServer, resource: &str, name: &str, finalizer: &str) {
    edit(api, resource, name, |o| {
        o["metadata"]["finalizers"] = json!([finalizer])
    })
    .await;
}

async fn gone(api: &ApiServer, resource: &str, name: &str) -> bool {
    matches!(api.get_object(resource, NS, name).await, Err(e) if e.code == 404)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_deletion_removes_replica_sets_then_pods() {
    let c = cluster().await;
    let (_, rs) = deployment_chain(&c.api, 2).await;
    c.api
        .delete_object("deployments", NS, "web", Default::default())
        .await
        .unwrap();
    wait_for("ReplicaSet and pods collected", || async {
        (gone(&c.api, "replicasets", name(&rs)).await && list(&c.api, "pods").await.is_empty())
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreground_deletion_waits_for_dependents() {
    let c = cluster().await;
    let (_, rs) = deployment_chain(&c.api, 2).await;
    let pods = pods_of(&c.api, uid(&rs)).await;
    // Bound pods terminate gracefully: they stay until "the kubelet" finishes them.
    for pod in &pods {
        c.api.bind_pod(NS, name(pod), "node-a").await.unwrap();
    }
    add_finalizer(&c.api, "deployments", "web", "foregroundDeletion").await;
    c.api
        .delete_object("deployments", NS, "web", Default::default())
        .await
        .unwrap();
    wait_for("pods terminating", || async {
        let pods = list(&c.api, "pods").await;
        (pods.len() == 2 && pods.iter().all(is_deleting)).then_some(())
    })
    .await;
    // Owners stay, marked, while their (blocking) dependents exist; nothing is recreated.
    let d = c.api.get_object("deployments", NS, "web").await.unwrap();
    let rs_now = c
        .api
        .get_object("replicasets", NS, name(&rs))
        .await
        .unwrap();
    assert!(is_deleting(&d) && is_deleting(&rs_now));
    assert_eq!(
        rs_now["metadata"]["finalizers"],
        json!(["foregroundDeletion"])
    );
    assert_eq!(list(&c.api, "pods").await.len(), 2);

    for pod in &pods {
        force_delete(&c.api, "pods", name(pod)).await;
    }
    wait_for("the Deployment to go last", || async {
        gone(&c.api, "deployments", "web").await.then_some(())
    })
    .await;
    assert!(gone(&c.api, "replicasets", name(&rs)).await);
    assert!(list(&c.api, "pods").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphan_deletion_keeps_dependents_without_the_owner_reference() {
    let c = cluster().await;
    let (_, rs) = deployment_chain(&c.api, 2).await;
    add_finalizer(&c.api, "deployments", "web", "orphan").await;
    c.api
        .delete_object("deployments", NS, "web", Default::default())
        .await
        .unwrap();
    wait_for("the Deployment gone", || async {
        gone(&c.api, "deployments", "web").await.then_some(())
    })
    .await;
    let orphan = c
        .api
        .get_object("replicasets", NS, name(&rs))
        .await
        .unwrap();
    assert!(orphan["metadata"]["ownerReferences"].is_null(), "{orphan}");
    assert!(!is_deleting(&orphan));
    // The ReplicaSet keeps (and still controls) its pods.
    assert_eq!(pods_of(&c.api, uid(&rs)).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dangling_references_are_dropped_or_collected_across_kinds() {
    let c = cluster().await;
    let config_map = |name: &str, owners: Value| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "ownerReferences": owners}})
    };
    let keeper = c
        .api
        .create_object("configmaps", NS, config_map("keeper", json!([])))
        .await
        .unwrap();
    let missing = json!({"apiVersion": "v1", "kind": "ConfigMap", "name": "missing",
                         "uid": "00000000-0000-0000-0000-000000000000"});
    let kept =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "name": "keeper", "uid": uid(&keeper)});
    c.api
        .create_object(
            "configmaps",
            NS,
            config_map("two-owners", json!([kept, missing])),
        )
        .await
        .unwrap();
    c.api
        .create_object("configmaps", NS, config_map("orphaned", json!([missing])))
        .await
        .unwrap();
    // A pod whose owner has the right name but another UID is dangling too.
    c.api
        .create_object(
            "pods",
            NS,
            json!({"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": "stale", "ownerReferences": [
                       {"apiVersion": "v1", "kind": "ConfigMap", "name": "keeper",
                        "uid": "11111111-1111-1111-1111-111111111111"}]},
                   "spec": {"containers": [{"name": "c", "image": "i"}]}}),
        )
        .await
        .unwrap();
    wait_for("collection", || async {
        let two = c
            .api
            .get_object("configmaps", NS, "two-owners")
            .await
            .ok()?;
        (two["metadata"]["ownerReferences"] == json!([kept])
            && gone(&c.api, "configmaps", "orphaned").await
            && gone(&c.api, "pods", "stale").await)
            .then_some(())
    })
    .await;
    assert!(!gone(&c.api, "configmaps", "keeper").await);
}
