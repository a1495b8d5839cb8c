//! API → node: list, then watch pods, ConfigMaps and Secrets from the list's revision.

use std::collections::HashSet;

use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret};
use serde_json::Value;
use tokio::task::JoinHandle;
use wasmpod_apiserver::{decode_object, ApiError, ApiServer};
use wasmpod_storage::{Bytes, KeyValue, WatchEvent};

use crate::Node;

const PODS: &str = "/registry/pods/";
const CONFIG_MAPS: &str = "/registry/configmaps/";
const SECRETS: &str = "/registry/secrets/";

/// Mirrors ConfigMaps and Secrets, then runs the pods already bound here (a restarted node
/// finds its pods) and follows every later change.
pub(super) async fn start(api: ApiServer, node: Node) -> Result<Vec<JoinHandle<()>>, ApiError> {
    let mut tasks = Vec::new();
    for prefix in [CONFIG_MAPS, SECRETS] {
        let revision = list_then(&api, prefix, |kv| mirror_config(&node, kv)).await?;
        let (api, node) = (api.clone(), node.clone());
        tasks.push(tokio::spawn(async move {
            follow(&api, prefix, revision, |event| {
                if let WatchEvent::Put { kv, .. } = event {
                    mirror_config(&node, &kv);
                }
            })
            .await;
        }));
    }
    let mut pods = PodSync {
        api: api.clone(),
        node,
        stopping: HashSet::new(),
    };
    let mut existing = Vec::new();
    let revision = list_then(&api, PODS, |kv| existing.push(kv.clone())).await?;
    for kv in existing {
        pods.put(&kv).await;
    }
    tasks.push(tokio::spawn(async move {
        let mut watch = match pods.api.storage().watch(PODS, revision).await {
            Ok(watch) => watch,
            Err(error) => {
                eprintln!("wasmpod: cannot watch pods: {error}");
                return;
            }
        };
        while let Some(event) = watch.next().await {
            match event {
                Ok(WatchEvent::Put { kv, .. }) => pods.put(&kv).await,
                Ok(WatchEvent::Delete { prev, .. }) => pods.deleted(&prev),
                Err(error) => {
                    eprintln!("wasmpod: the pod watch ended: {error}");
                    return;
                }
            }
        }
    }));
    Ok(tasks)
}

/// Calls `each` for every object under `prefix`; the revision the list was read at.
async fn list_then(
    api: &ApiServer,
    prefix: &str,
    mut each: impl FnMut(&KeyValue),
) -> Result<i64, ApiError> {
    let list = api
        .storage()
        .list(prefix, None, 0)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    for kv in &list.items {
        each(kv);
    }
    Ok(list.revision)
}

async fn follow(api: &ApiServer, prefix: &str, after: i64, mut each: impl FnMut(WatchEvent)) {
    let Ok(mut watch) = api.storage().watch(prefix, after).await else {
        return;
    };
    while let Some(Ok(event)) = watch.next().await {
        each(event);
    }
}

fn mirror_config(node: &Node, kv: &KeyValue) {
    let Ok(object) = decode_object(kv) else {
        return;
    };
    if kv.key.starts_with(CONFIG_MAPS) {
        if let Ok(config_map) = serde_json::from_value::<ConfigMap>(object) {
            node.store().put_config_map(config_map);
        }
    } else if let Ok(secret) = serde_json::from_value::<Secret>(object) {
        node.store().put_secret(secret);
    }
}

struct PodSync {
    api: ApiServer,
    node: Node,
    /// Pods (namespace, name, uid) whose deletion was passed to the node.
    stopping: HashSet<(String, String, String)>,
}

impl PodSync {
    async fn put(&mut self, kv: &KeyValue) {
        let Ok(object) = decode_object(kv) else {
            return;
        };
        let node_name = object
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if node_name.is_empty() {
            // The only node: bind it here, as the scheduler's binding would. The watch brings
            // the bound pod back.
            bind(&self.api, kv, &object, self.node.name()).await;
            return;
        }
        if node_name != self.node.name() {
            return;
        }
        let Ok(pod) = serde_json::from_value::<Pod>(object) else {
            return;
        };
        let (namespace, name) = crate::store::key_of(&pod.metadata);
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        // The node's copy of this incarnation of the pod, if it runs it.
        let running = self.running(&namespace, &name, &uid);
        if pod.metadata.deletion_timestamp.is_some() {
            if running.is_none() {
                // Nothing runs it (a node restarted mid-deletion): finish the deletion.
                super::from_node::final_delete(&self.api, &namespace, &name, &uid).await;
                return;
            }
            if self.stopping.insert((namespace.clone(), name.clone(), uid)) {
                let grace = pod.metadata.deletion_grace_period_seconds;
                let _ = self.node.delete_pod(&namespace, &name, grace);
            }
            return;
        }
        let Some(running) = running else {
            if let Err(error) = self.node.adopt(vec![pod]) {
                eprintln!("wasmpod: cannot run pod {namespace}/{name}: {error}");
            }
            return;
        };
        // The only spec change a pod allows that a kubelet acts on: container images.
        let wanted = container_images(&pod);
        if container_images(&running) != wanted {
            let _ = self.node.update_images(&namespace, &name, wanted);
        }
    }

    fn running(&self, namespace: &str, name: &str, uid: &str) -> Option<Pod> {
        self.node
            .store()
            .pod(namespace, name)
            .filter(|p| p.metadata.uid.as_deref() == Some(uid))
    }

    /// The pod left the API (a forced delete, or the final delete after its stop).
    fn deleted(&mut self, prev: &KeyValue) {
        let Ok(object) = decode_object(prev) else {
            return;
        };
        let Ok(pod) = serde_json::from_value::<Pod>(object) else {
            return;
        };
        let (namespace, name) = crate::store::key_of(&pod.metadata);
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        self.stopping
            .remove(&(namespace.clone(), name.clone(), uid.clone()));
        if self.running(&namespace, &name, &uid).is_some() {
            let _ = self.node.delete_pod(&namespace, &name, Some(0));
        }
    }
}

/// (container name, image) of every container and init container.
fn container_images(pod: &Pod) -> Vec<(String, String)> {
    pod.spec
        .iter()
        .flat_map(|s| {
            s.containers
                .iter()
                .chain(s.init_containers.iter().flatten())
        })
        .filter_map(|c| Some((c.name.clone(), c.image.clone()?)))
        .collect()
}

/// Sets `spec.nodeName` with a compare-and-swap on the stored pod (the binding subresource's
/// effect). A lost race is fine: the watch delivers the winner's version.
async fn bind(api: &ApiServer, kv: &KeyValue, object: &Value, node_name: &str) {
    let mut stored = object.clone();
    if let Some(metadata) = stored.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("resourceVersion");
    }
    if let Some(spec) = stored.get_mut("spec").and_then(Value::as_object_mut) {
        spec.insert("nodeName".into(), Value::String(node_name.to_string()));
    }
    let Ok(bytes) = serde_json::to_vec(&stored) else {
        return;
    };
    let _ = api
        .storage()
        .update(&kv.key, Bytes::from(bytes), Some(kv.mod_revision))
        .await;
}
