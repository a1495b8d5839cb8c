//! Test cluster: a real ApiServer over MemoryStorage with the controllers running; the tests
//! play the kubelet by writing pod status.

#![allow(dead_code)]

pub mod deployments;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use wasmpod_apiserver::{ApiOptions, ApiServer, DeleteOptions};
use wasmpod_controllers::{ControllerOptions, WorkloadControllers};
use wasmpod_storage::MemoryStorage;

pub const NS: &str = "default";
pub const DEADLINE: Duration = Duration::from_secs(15);

pub struct Cluster {
    pub api: ApiServer,
    pub controllers: WorkloadControllers,
}

pub async fn cluster() -> Cluster {
    let api = ApiServer::new(Arc::new(MemoryStorage::new()), ApiOptions::default());
    api.ensure_builtin_namespaces().await.unwrap();
    let controllers = wasmpod_controllers::start(api.clone(), ControllerOptions::default());
    Cluster { api, controllers }
}

/// Polls `check` until it yields a value or `DEADLINE` passes (then panics with `what`).
pub async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn name(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap_or("")
}

pub fn uid(object: &Value) -> &str {
    object["metadata"]["uid"].as_str().unwrap_or("")
}

pub fn is_deleting(object: &Value) -> bool {
    object["metadata"]["deletionTimestamp"].is_string()
}

pub fn controller_uid(object: &Value) -> Option<String> {
    object["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"] == json!(true))
        .and_then(|r| r["uid"].as_str())
        .map(str::to_string)
}

pub fn is_ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

pub fn is_active(pod: &Value) -> bool {
    !is_deleting(pod)
        && !matches!(
            pod["status"]["phase"].as_str(),
            Some("Succeeded" | "Failed")
        )
}

pub async fn list(api: &ApiServer, resource: &str) -> Vec<Value> {
    api.list_objects(resource, Some(NS)).await.unwrap().items
}

/// Pods controlled by the object with `owner_uid`.
pub async fn pods_of(api: &ApiServer, owner_uid: &str) -> Vec<Value> {
    list(api, "pods")
        .await
        .into_iter()
        .filter(|p| controller_uid(p).as_deref() == Some(owner_uid))
        .collect()
}

pub async fn active_pods_of(api: &ApiServer, owner_uid: &str) -> Vec<Value> {
    pods_of(api, owner_uid)
        .await
        .into_iter()
        .filter(is_active)
        .collect()
}

/// Plays the kubelet: the pod runs and is Ready since now.
pub async fn mark_ready(api: &ApiServer, pod_name: &str) {
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let mut pod = api.get_object("pods", NS, pod_name).await.unwrap();
    pod["status"]["phase"] = json!("Running");
    pod["status"]["conditions"] = json!([
        {"type": "Initialized", "status": "True", "lastTransitionTime": now},
        {"type": "Ready", "status": "True", "lastTransitionTime": now},
        {"type": "ContainersReady", "status": "True", "lastTransitionTime": now},
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
    ]);
    api.update_status("pods", NS, pod_name, pod).await.unwrap();
}

pub async fn set_phase(api: &ApiServer, pod_name: &str, phase: &str) {
    let mut pod = api.get_object("pods", NS, pod_name).await.unwrap();
    pod["status"]["phase"] = json!(phase);
    api.update_status("pods", NS, pod_name, pod).await.unwrap();
}

pub async fn force_delete(api: &ApiServer, resource: &str, name: &str) {
    let options = DeleteOptions {
        grace_period_seconds: Some(0),
        ..DeleteOptions::default()
    };
    let _ = api.delete_object(resource, NS, name, options).await;
}

/// Events about the object named `involved`, as (type, reason, message, component).
pub async fn events_for(api: &ApiServer, involved: &str) -> Vec<(String, String, String, String)> {
    let mut events: Vec<Value> = list(api, "events")
        .await
        .into_iter()
        .filter(|e| e["involvedObject"]["name"] == involved)
        .collect();
    events.sort_by_key(|e| {
        e["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("")
            .parse::<i64>()
            .unwrap_or(0)
    });
    events
        .iter()
        .map(|e| {
            let text = |v: &Value| v.as_str().unwrap_or("").to_string();
            (
                text(&e["type"]),
                text(&e["reason"]),
                text(&e["message"]),
                text(&e["source"]["component"]),
            )
        })
        .collect()
}

/// Read-modify-write of an object's main resource.
pub async fn edit(
    api: &ApiServer,
    resource: &str,
    name: &str,
    change: impl Fn(&mut Value),
) -> Value {
    loop {
        let mut object = api.get_object(resource, NS, name).await.unwrap();
        change(&mut object);
        match api.update_object(resource, NS, name, object).await {
            Ok(updated) => return updated,
            Err(error) if error.code == 409 => continue,
            Err(error) => panic!("update {resource}/{name}: {error}"),
        }
    }
}

pub fn pod_template(app: &str, image: &str) -> Value {
    json!({
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": "app", "image": image}]},
    })
}

pub fn replica_set(name: &str, app: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": app}},
            "template": pod_template(app, "app:1"),
        },
    })
}

pub fn deployment(name: &str, replicas: i64, strategy: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": strategy,
            "template": pod_template(name, "app:1"),
        },
    })
}
