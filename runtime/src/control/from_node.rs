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
            let Ok(mut object) = serde_json::to_value(&pod) else {
                return;
            };
            unversioned(&mut object);
            // Gone from the API already (deleted meanwhile): nothing to report to.
            let _ = api.update_status("pods", &namespace, &name, object).await;
        }
        Change::PodDeleted(pod) => {
            let (namespace, name) = crate::store::key_of(&pod.metadata);
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            final_delete(api, &namespace, &name, &uid).await;
        }
        Change::EventAdded(event) | Change::EventModified(event) => {
            let (namespace, name) = crate::store::key_of(&event.metadata);
            let Ok(mut object) = serde_json::to_value(&event) else {
                return;
            };
            unversioned(&mut object);
            if api
                .create_object("events", &namespace, object.clone())
                .await
                .is_err()
            {
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

/// The node's own resourceVersion means nothing to the API: write unconditionally.
fn unversioned(object: &mut Value) {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("resourceVersion");
    }
}
