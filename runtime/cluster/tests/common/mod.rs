//! Test fixtures: a real API server over memory storage, and helpers that play the nodes
//! (Node objects, Lease renewals, pod status as a kubelet writes it).

#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use wasmpod_apiserver::{ApiOptions, ApiServer};
use wasmpod_storage::MemoryStorage;

pub fn api() -> ApiServer {
    ApiServer::new(Arc::new(MemoryStorage::new()), ApiOptions::default())
}

fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn micro_now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// A Ready node with `cpu`, `memory` and 110 pods allocatable.
pub fn node(name: &str, cpu: &str, memory: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
        }},
        "spec": {},
        "status": {
            "capacity": {"cpu": cpu, "memory": memory, "pods": "110"},
            "allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
            "conditions": [{
                "type": "Ready",
                "status": "True",
                "reason": "KubeletReady",
                "message": "kubelet is posting ready status",
                "lastHeartbeatTime": now(),
                "lastTransitionTime": now(),
            }],
        },
    })
}

pub async fn create_node(api: &ApiServer, node: Value) -> Value {
    api.create_object("nodes", "", node)
        .await
        .expect("create node")
}

/// Writes the node's Ready condition as its kubelet would.
pub async fn set_node_ready(api: &ApiServer, name: &str, status: &str) {
    for _ in 0..10 {
        let mut node = api.get_object("nodes", "", name).await.expect("get node");
        let conditions = node["status"]["conditions"]
            .as_array_mut()
            .expect("conditions");
        for condition in conditions.iter_mut() {
            if condition["type"] == "Ready" {
                if condition["status"] != status {
                    condition["lastTransitionTime"] = json!(now());
                }
                condition["status"] = json!(status);
                condition["reason"] = json!("KubeletReady");
                condition["message"] = json!("kubelet is posting ready status");
                condition["lastHeartbeatTime"] = json!(now());
            }
        }
        match api.update_status("nodes", "", name, node).await {
            Ok(_) => return,
            Err(error) if error.code == 409 => continue,
            Err(error) => panic!("update node status: {error:?}"),
        }
    }
    panic!("node {name} status kept conflicting");
}

/// Creates or renews the node's Lease in `kube-node-lease`.
pub async fn renew_lease(api: &ApiServer, name: &str) {
    match api.get_object("leases", "kube-node-lease", name).await {
        Ok(mut lease) => {
            lease["spec"]["renewTime"] = json!(micro_now());
            let _ = api
                .update_object("leases", "kube-node-lease", name, lease)
                .await;
        }
        Err(_) => {
            let lease = json!({
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": name, "namespace": "kube-node-lease"},
                "spec": {
                    "holderIdentity": name,
                    "leaseDurationSeconds": 40,
                    "renewTime": micro_now(),
                },
            });
            let _ = api.create_object("leases", "kube-node-lease", lease).await;
        }
    }
}

/// A node's heartbeat: renews its Lease every `every` until dropped.
pub struct Heartbeat(JoinHandle<()>);

impl Heartbeat {
    pub async fn start(api: &ApiServer, name: &str, every: Duration) -> Heartbeat {
        renew_lease(api, name).await;
        let (api, name) = (api.clone(), name.to_string());
        Heartbeat(tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                renew_lease(&api, &name).await;
            }
        }))
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A pod with one container; `extra` is merged into its spec.
pub fn pod(name: &str, extra: Value) -> Value {
    let mut spec = json!({"containers": [{"name": "app", "image": "app:1"}]});
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            spec.insert(key.clone(), value.clone());
        }
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
    })
}

pub fn with_owner(mut pod: Value, owner_uid: &str) -> Value {
    pod["metadata"]["ownerReferences"] = json!([{
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": "web",
        "uid": owner_uid,
        "controller": true,
        "blockOwnerDeletion": true,
    }]);
    pod
}

pub fn requesting(mut pod: Value, cpu: &str) -> Value {
    pod["spec"]["containers"][0]["resources"] = json!({"requests": {"cpu": cpu}});
    pod
}

pub async fn create_pod(api: &ApiServer, pod: Value) -> Value {
    api.create_object("pods", "default", pod)
        .await
        .expect("create pod")
}

pub async fn get_pod(api: &ApiServer, name: &str) -> Option<Value> {
    api.get_object("pods", "default", name).await.ok()
}

/// Writes the status a kubelet reports for a running, ready pod.
pub async fn set_pod_running(api: &ApiServer, name: &str) {
    let mut pod = api
        .get_object("pods", "default", name)
        .await
        .expect("get pod");
    let condition = |kind: &str| json!({"type": kind, "status": "True", "lastProbeTime": null, "lastTransitionTime": now()});
    pod["status"]["phase"] = json!("Running");
    pod["status"]["conditions"] = json!([
        condition("PodReadyToStartContainers"),
        condition("Initialized"),
        condition("Ready"),
        condition("ContainersReady"),
        condition("PodScheduled"),
    ]);
    api.update_status("pods", "default", name, pod)
        .await
        .expect("update pod status");
}

pub fn condition<'a>(object: &'a Value, kind: &str) -> Option<&'a Value> {
    object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

pub fn taint<'a>(node: &'a Value, key: &str, effect: &str) -> Option<&'a Value> {
    node["spec"]["taints"]
        .as_array()?
        .iter()
        .find(|t| t["key"] == key && t["effect"] == effect)
}

/// Events in `default` with this reason.
pub async fn events(api: &ApiServer, reason: &str) -> Vec<Value> {
    api.list_objects("events", Some("default"))
        .await
        .expect("list events")
        .items
        .into_iter()
        .filter(|e| e["reason"] == reason)
        .collect()
}

/// Polls `check` until it yields a value; panics after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Asserts that `check` holds at every poll during `window`.
pub async fn holds_for<F, Fut>(what: &str, window: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + window;
    while Instant::now() < deadline {
        assert!(check().await, "{what} stopped holding");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
