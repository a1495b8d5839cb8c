//! The node's object store: pods and events, with a change feed for watchers.

use std::collections::BTreeMap;
use std::sync::Mutex;

use k8s_openapi::api::core::v1::{ConfigMap, Event, Pod, Secret};
use tokio::sync::broadcast;

/// What changed, in the order it happened.
#[derive(Debug, Clone)]
pub enum Change {
    PodAdded(Pod),
    PodModified(Pod),
    PodDeleted(Pod),
    EventAdded(Event),
    EventModified(Event),
}

pub struct ObjectStore {
    state: Mutex<State>,
    changes: broadcast::Sender<Change>,
}

#[derive(Default)]
struct State {
    pods: BTreeMap<(String, String), Pod>,
    events: BTreeMap<(String, String), Event>,
    config_maps: BTreeMap<(String, String), ConfigMap>,
    secrets: BTreeMap<(String, String), Secret>,
    resource_version: u64,
}

impl State {
    fn next_version(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }
}

/// Namespace and name of an object, as the store keys it.
pub fn key_of(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> (String, String) {
    (
        meta.namespace.clone().unwrap_or_else(|| "default".into()),
        meta.name.clone().unwrap_or_default(),
    )
}

impl Default for ObjectStore {
    fn default() -> Self {
        Self::new()
    }
}

impl ObjectStore {
    pub fn new() -> Self {
        let (changes, _) = broadcast::channel(4096);
        ObjectStore {
            state: Mutex::new(State::default()),
            changes,
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a pod; `false` if one with the same namespace/name exists.
    pub fn create_pod(&self, mut pod: Pod) -> bool {
        let mut state = self.lock();
        let key = key_of(&pod.metadata);
        if state.pods.contains_key(&key) {
            return false;
        }
        pod.metadata.resource_version = Some(state.next_version());
        state.pods.insert(key, pod.clone());
        let _ = self.changes.send(Change::PodAdded(pod));
        true
    }

    /// Applies `change` to the stored pod, if it exists, and publishes the result.
    pub fn update_pod(
        &self,
        namespace: &str,
        name: &str,
        change: impl FnOnce(&mut Pod),
    ) -> Option<Pod> {
        let mut state = self.lock();
        let version = state.next_version();
        let pod = state
            .pods
            .get_mut(&(namespace.to_string(), name.to_string()))?;
        let before = pod.clone();
        change(pod);
        if *pod == before {
            return Some(pod.clone());
        }
        pod.metadata.resource_version = Some(version);
        let pod = pod.clone();
        let _ = self.changes.send(Change::PodModified(pod.clone()));
        Some(pod)
    }

    pub fn delete_pod(&self, namespace: &str, name: &str) -> Option<Pod> {
        let mut state = self.lock();
        let pod = state
            .pods
            .remove(&(namespace.to_string(), name.to_string()))?;
        let _ = self.changes.send(Change::PodDeleted(pod.clone()));
        Some(pod)
    }

    pub fn pod(&self, namespace: &str, name: &str) -> Option<Pod> {
        self.lock()
            .pods
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    /// Pods in `namespace` (all namespaces when `None`), ordered by namespace and name.
    pub fn pods(&self, namespace: Option<&str>) -> Vec<Pod> {
        self.lock()
            .pods
            .iter()
            .filter(|((ns, _), _)| namespace.is_none_or(|wanted| wanted == ns))
            .map(|(_, pod)| pod.clone())
            .collect()
    }

    /// Creates or replaces an event (keyed by namespace and name).
    pub fn put_event(&self, mut event: Event) {
        let mut state = self.lock();
        let key = key_of(&event.metadata);
        event.metadata.resource_version = Some(state.next_version());
        let existed = state.events.insert(key, event.clone()).is_some();
        let _ = self.changes.send(if existed {
            Change::EventModified(event)
        } else {
            Change::EventAdded(event)
        });
    }

    /// Creates or replaces a ConfigMap.
    pub fn put_config_map(&self, mut config_map: ConfigMap) {
        let mut state = self.lock();
        config_map.metadata.resource_version = Some(state.next_version());
        state
            .config_maps
            .insert(key_of(&config_map.metadata), config_map);
    }

    pub fn config_map(&self, namespace: &str, name: &str) -> Option<ConfigMap> {
        self.lock()
            .config_maps
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    /// Creates or replaces a Secret.
    pub fn put_secret(&self, mut secret: Secret) {
        let mut state = self.lock();
        secret.metadata.resource_version = Some(state.next_version());
        state.secrets.insert(key_of(&secret.metadata), secret);
    }

    pub fn secret(&self, namespace: &str, name: &str) -> Option<Secret> {
        self.lock()
            .secrets
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    pub fn events(&self, namespace: Option<&str>) -> Vec<Event> {
        self.lock()
            .events
            .iter()
            .filter(|((ns, _), _)| namespace.is_none_or(|wanted| wanted == ns))
            .map(|(_, event)| event.clone())
            .collect()
    }
}
