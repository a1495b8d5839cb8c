//! Deployment helpers: kubectl's rollout status, "kubelet" loops, invariant monitors.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use tokio::task::JoinHandle;
use wasmpod_apiserver::ApiServer;

use super::*;

pub fn rolling(surge: Value, unavailable: Value) -> Value {
    json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}})
}

pub async fn get_deployment(api: &ApiServer, name: &str) -> Value {
    api.get_object("deployments", NS, name).await.unwrap()
}

/// The ReplicaSets a Deployment controls, oldest first.
pub async fn replica_sets_of(api: &ApiServer, d: &Value) -> Vec<Value> {
    let mut sets: Vec<Value> = list(api, "replicasets")
        .await
        .into_iter()
        .filter(|rs| controller_uid(rs).as_deref() == Some(uid(d)))
        .collect();
    sets.sort_by_key(|rs| {
        rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
            .as_str()
            .and_then(|r| r.parse::<i64>().ok())
    });
    sets
}

pub fn condition<'a>(d: &'a Value, kind: &str) -> Option<&'a Value> {
    d["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

/// kubectl's `DeploymentStatusViewer.Status` (rollout status), message and done flag.
pub fn rollout_status(d: &Value) -> (String, bool) {
    let count = |field: &str| d["status"][field].as_i64().unwrap_or(0);
    let name = name(d);
    let generation = d["metadata"]["generation"].as_i64().unwrap_or(0);
    if generation > count("observedGeneration") {
        return (
            "Waiting for deployment spec update to be observed...".into(),
            false,
        );
    }
    if condition(d, "Progressing").is_some_and(|c| c["reason"] == "ProgressDeadlineExceeded") {
        return (
            format!("deployment {name:?} exceeded its progress deadline"),
            false,
        );
    }
    let replicas = d["spec"]["replicas"].as_i64().unwrap_or(1);
    let (updated, total, available) = (
        count("updatedReplicas"),
        count("replicas"),
        count("availableReplicas"),
    );
    if updated < replicas {
        return (format!("Waiting for deployment {name:?} rollout to finish: {updated} out of {replicas} new replicas have been updated..."), false);
    }
    if total > updated {
        return (format!("Waiting for deployment {name:?} rollout to finish: {} old replicas are pending termination...", total - updated), false);
    }
    if available < updated {
        return (format!("Waiting for deployment {name:?} rollout to finish: {available} of {updated} updated replicas are available..."), false);
    }
    (format!("deployment {name:?} successfully rolled out"), true)
}

/// Marks every active, unready pod of `d`'s ReplicaSets Ready until the rollout is done.
pub async fn finish_rollout(api: &ApiServer, deployment_name: &str) -> Value {
    wait_for("rollout to finish", || async {
        let d = get_deployment(api, deployment_name).await;
        for rs in replica_sets_of(api, &d).await {
            for pod in active_pods_of(api, uid(&rs)).await {
                if !is_ready(&pod) {
                    mark_ready(api, name(&pod)).await;
                }
            }
        }
        rollout_status(&d).1.then_some(d)
    })
    .await
}

pub fn scaling_events(events: &[(String, String, String, String)]) -> Vec<String> {
    events
        .iter()
        .filter(|(kind, reason, _, component)| {
            kind == "Normal"
                && reason == "ScalingReplicaSet"
                && component == "deployment-controller"
        })
        .map(|(_, _, message, _)| message.clone())
        .collect()
}

/// Every active pod of `d` exists and its ReplicaSets and the Deployment reflect them: the
/// controllers have nothing left to do until a pod changes.
pub async fn settled(api: &ApiServer, d: &Value) -> bool {
    let count = |o: &Value, field: &str| o["status"][field].as_i64().unwrap_or(0);
    if count(d, "observedGeneration") != d["metadata"]["generation"].as_i64().unwrap_or(0) {
        return false;
    }
    let (mut replicas, mut available) = (0, 0);
    for rs in replica_sets_of(api, d).await {
        let pods = active_pods_of(api, uid(&rs)).await;
        let ready = pods.iter().filter(|p| is_ready(p)).count() as i64;
        let spec = rs["spec"]["replicas"].as_i64().unwrap_or(0);
        if count(&rs, "observedGeneration") != rs["metadata"]["generation"].as_i64().unwrap_or(0)
            || count(&rs, "replicas") != spec
            || pods.len() as i64 != spec
            || count(&rs, "readyReplicas") != ready
            || count(&rs, "availableReplicas") != ready
        {
            return false;
        }
        replicas += spec;
        available += ready;
    }
    count(d, "replicas") == replicas && count(d, "availableReplicas") == available
}

/// Watches pods and ReplicaSets on every change and records broken invariants.
pub async fn monitor(
    api: &ApiServer,
    check: impl Fn(&[Value], &[Value]) -> Option<String> + Send + 'static,
) -> (Arc<Mutex<Vec<String>>>, JoinHandle<()>) {
    let violations = Arc::new(Mutex::new(Vec::new()));
    let pods = api.informer("pods").unwrap();
    let sets = api.informer("replicasets").unwrap();
    let found = violations.clone();
    // Synced before the test goes on, so no change escapes the check.
    pods.synced().await;
    sets.synced().await;
    let task = tokio::spawn(async move {
        let (mut pod_changes, mut set_changes) = (pods.changes(), sets.changes());
        loop {
            if let Some(violation) = check(&pods.snapshot(), &sets.snapshot()) {
                found.lock().unwrap().push(violation);
            }
            tokio::select! {
                _ = pod_changes.changed() => {}
                _ = set_changes.changed() => {}
            }
        }
    });
    (violations, task)
}
