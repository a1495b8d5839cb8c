//! API → node: list, then watch pods, ConfigMaps and Secrets from the list's revision.

use std::collections::HashSet;

use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret, Service};
use serde_json::Value;
use tokio::task::JoinHandle;
use wasmpod_apiserver::{decode_object, ApiError, ApiServer};
use wasmpod_storage::{KeyValue, WatchEvent};

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
    let revision = pods.resync().await?;
    tasks.push(tokio::spawn(async move {
        let mut revision = revision;
        loop {
            pods.follow(revision).await;
            // The watch broke (an etcd member died, history was compacted, the store was
            // unreachable): list again, stop what left the API meanwhile, and go on.
            loop {
                tokio::time::sleep(RELIST_DELAY).await;
                match pods.resync().await {
                    Ok(listed) => {
                        revision = listed;
                        break;
                    }
                    Err(error) => eprintln!("wasmpod: cannot list pods: {}", error.message),
                }
            }
        }
    }));
    Ok(tasks)
}

/// Wait before listing again after a broken watch or a failed list.
const RELIST_DELAY: std::time::Duration = std::time::Duration::from_millis(500);

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

/// Follows `prefix` from `after`, listing again whenever the watch breaks.
async fn follow(api: &ApiServer, prefix: &str, after: i64, mut each: impl FnMut(WatchEvent)) {
    let mut after = after;
    loop {
        if let Ok(mut watch) = api.storage().watch(prefix, after).await {
            while let Some(Ok(event)) = watch.next().await {
                after = event.revision();
                each(event);
            }
        }
        tokio::time::sleep(RELIST_DELAY).await;
        if let Ok(list) = api.storage().list(prefix, None, 0).await {
            for kv in list.items {
                each(WatchEvent::Put { kv, prev: None });
            }
            after = list.revision;
        }
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
    /// Lists every pod: runs those bound here, stops those this node runs that are gone
    /// from the API (deleted while the node could not see it); the revision listed at.
    async fn resync(&mut self) -> Result<i64, ApiError> {
        let mut listed = Vec::new();
        let revision = list_then(&self.api, PODS, |kv| listed.push(kv.clone())).await?;
        let mut present = HashSet::new();
        for kv in &listed {
            if let Ok(object) = decode_object(kv) {
                present.insert(object_identity(&object));
            }
            self.put(kv).await;
        }
        for pod in self.node.store().pods(None) {
            let (namespace, name) = crate::store::key_of(&pod.metadata);
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            if !present.contains(&(namespace.clone(), name.clone(), uid.clone())) {
                self.stopping
                    .remove(&(namespace.clone(), name.clone(), uid));
                let _ = self.node.delete_pod(&namespace, &name, Some(0));
            }
        }
        Ok(revision)
    }

    async fn follow(&mut self, revision: i64) {
        let mut watch = match self.api.storage().watch(PODS, revision).await {
            Ok(watch) => watch,
            Err(error) => {
                eprintln!("wasmpod: cannot watch pods: {error}");
                return;
            }
        };
        while let Some(event) = watch.next().await {
            match event {
                Ok(WatchEvent::Put { kv, .. }) => self.put(&kv).await,
                Ok(WatchEvent::Delete { prev, .. }) => self.deleted(&prev),
                Err(error) => {
                    eprintln!("wasmpod: the pod watch ended: {error}; listing again");
                    return;
                }
            }
        }
    }

    async fn put(&mut self, kv: &KeyValue) {
        let Ok(object) = decode_object(kv) else {
            return;
        };
        let node_name = object
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // Unbound pods wait for the scheduler; other nodes' pods are theirs.
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
            let pod = with_service_links(&self.api, pod).await;
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

/// (namespace, name, uid) of an API object.
fn object_identity(object: &Value) -> (String, String, String) {
    let meta = |field: &str| {
        object
            .pointer(&format!("/metadata/{field}"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    (meta("namespace"), meta("name"), meta("uid"))
}

/// The kubelet's service links: every Service of the pod's namespace as `<SVC>_SERVICE_HOST`
/// etc. (unless `enableServiceLinks: false`), under the container's own env, which wins.
async fn with_service_links(api: &ApiServer, mut pod: Pod) -> Pod {
    let Some(spec) = pod.spec.as_mut() else {
        return pod;
    };
    if spec.enable_service_links == Some(false) {
        return pod;
    }
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let Ok(list) = api.list_objects("services", Some(&namespace)).await else {
        return pod;
    };
    let services: Vec<Service> = list
        .items
        .into_iter()
        .filter_map(|s| serde_json::from_value(s).ok())
        .collect();
    let links = wasmpod_services::service_env(&services, &namespace);
    if links.is_empty() {
        return pod;
    }
    for container in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten())
    {
        let own = container.env.take().unwrap_or_default();
        let mut env: Vec<_> = links
            .iter()
            .filter(|link| !own.iter().any(|e| e.name == link.name))
            .cloned()
            .collect();
        env.extend(own);
        container.env = Some(env);
    }
    pod
}
