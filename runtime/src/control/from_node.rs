//! node → API: pod statuses, events, and the final delete of a stopped pod, in the order the
//! node produced them.

use serde_json::Value;
use tokio::sync::broadcast;
use wasmpod_apiserver::{ApiServer, DeleteOptions, Preconditions};

use crate::store::Change;
use crate::Node;

pub(super) async fn run(api: ApiServer, node: Node, mut changes: broadcast::Receiver<Change>) {
    loop {
        match changes.recv().await {
            Ok(change) => apply(&api, change).await,
            Err(broadcast::error::RecvError::Lagged(_)) => {
                // Missed changes: publish every pod's current status again.
                for pod in node.store().pods(None) {
                    apply(&api, Change::PodModified(pod)).await;
                }
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

async fn apply(api: &ApiServer, change: Change) {
    match change {
        Change::PodAdded(pod) | Change::PodModified(pod) => {
            let (namespace, name) = crate::store::key_of(&pod.metadata);
            // Gone from the API already (deleted meanwhile): nothing to report to.
            if let Some(object) = unversioned(&pod) {
                let _ = api.update_status("pods", &namespace, &name, object).await;
            }
        }
        Change::PodDeleted(pod) => {
            let (namespace, name) = crate::store::key_of(&pod.metadata);
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            final_delete(api, &namespace, &name, &uid).await;
        }
        Change::EventAdded(event) => {
            let (namespace, _) = crate::store::key_of(&event.metadata);
            if let Some(object) = unversioned(&event) {
                let _ = api.create_object("events", &namespace, object).await;
            }
        }
        // A repeat of an event (its count and lastTimestamp moved on).
        Change::EventModified(event) => {
            let (namespace, name) = crate::store::key_of(&event.metadata);
            if let Some(object) = unversioned(&event) {
                let _ = api.update_object("events", &namespace, &name, object).await;
            }
        }
    }
}

/// The kubelet's last word on a pod: delete it for good, but only the incarnation it ran.
pub(super) async fn final_delete(api: &ApiServer, namespace: &str, name: &str, uid: &str) {
    let options = DeleteOptions {
        grace_period_seconds: Some(0),
        preconditions: Preconditions {
            uid: Some(uid.to_string()),
            resource_version: None,
        },
        ..DeleteOptions::default()
    };
    let _ = api.delete_object("pods", namespace, name, options).await;
}

/// The object as JSON without the node's own resourceVersion, which means nothing to the
/// API: the write is unconditional.
fn unversioned(object: &impl serde::Serialize) -> Option<Value> {
    let mut value = serde_json::to_value(object).ok()?;
    if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("resourceVersion");
    }
    Some(value)
}
