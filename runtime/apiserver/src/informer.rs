//! In-process list+watch caches for controllers (client-go's shared informers, reduced):
//! an [`Informer`] lists one resource, follows its watch from the list's revision, and keeps
//! a snapshot plus a change counter. Controllers wait for any counter to move, then reconcile
//! from snapshots (level-triggered), so a missed or coalesced notification costs nothing.
//! A watch that ends (compaction, a restarted etcd member) is replaced by a fresh list.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use wasmpod_storage::WatchEvent;

use crate::objects::decode_object;
use crate::status_errors::ApiError;
use crate::ApiServer;

/// A consistent list of one resource plus the revision to watch it from.
#[derive(Debug, Clone)]
pub struct ObjectList {
    pub items: Vec<Value>,
    pub revision: i64,
}

/// After a failed list or a broken watch, wait this long before listing again.
const RELIST_DELAY: Duration = Duration::from_millis(200);

impl ApiServer {
    /// Every object of `resource` (in `namespace`, or everywhere), read from one snapshot.
    pub async fn list_objects(
        &self,
        resource: &str,
        namespace: Option<&str>,
    ) -> Result<ObjectList, ApiError> {
        let resource = Self::resolve(resource)?;
        let page = self
            .list_in(
                resource,
                namespace,
                &crate::list::Filter::everything(),
                0,
                None,
            )
            .await?;
        Ok(ObjectList {
            items: page.items,
            revision: page.revision,
        })
    }

    /// Starts an informer over every object of `resource` (all namespaces). It stops when
    /// the last handle is dropped.
    pub fn informer(&self, resource: &str) -> Result<Informer, ApiError> {
        let resource_info = Self::resolve(resource)?;
        let shared = Arc::new(Shared {
            objects: RwLock::new(BTreeMap::new()),
            version: AtomicU64::new(0),
            snapshot: Mutex::new(None),
        });
        let (generation, _) = watch::channel(0u64);
        let generation = Arc::new(generation);
        let prefix = resource_info.list_prefix(None);
        let task = tokio::spawn(follow(
            self.clone(),
            resource_info.plural,
            prefix.clone(),
            shared.clone(),
            generation.clone(),
        ));
        Ok(Informer {
            prefix,
            shared,
            generation,
            task: Arc::new(AbortOnDrop(task)),
        })
    }
}

struct Shared {
    /// By storage key, so snapshots come out in key (namespace/name) order.
    objects: RwLock<BTreeMap<String, Value>>,
    /// Moves on every write, under the write lock: a snapshot built under the read lock is
    /// exactly the objects of the version read with it.
    version: AtomicU64,
    /// The last snapshot and its version: every controller woken by one change shares one copy
    /// of the objects instead of cloning them all itself.
    snapshot: Mutex<Option<(u64, Arc<Vec<Value>>)>>,
}

impl Shared {
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Value>> {
        let objects = self.objects.write().unwrap_or_else(|e| e.into_inner());
        self.version.fetch_add(1, Ordering::Relaxed);
        objects
    }
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A cache of one resource, kept current from storage; cheap to clone.
#[derive(Clone)]
pub struct Informer {
    /// The resource's storage prefix; cache keys are storage keys.
    prefix: String,
    shared: Arc<Shared>,
    generation: Arc<watch::Sender<u64>>,
    task: Arc<AbortOnDrop>,
}

impl Informer {
    /// Every cached object, in namespace/name order (shared until the next change).
    pub fn snapshot(&self) -> Arc<Vec<Value>> {
        let objects = self.read();
        let version = self.shared.version.load(Ordering::Relaxed);
        let mut cached = self
            .shared
            .snapshot
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some((cached_version, snapshot)) = cached.as_ref() {
            if *cached_version == version {
                return snapshot.clone();
            }
        }
        let snapshot = Arc::new(objects.values().cloned().collect::<Vec<_>>());
        *cached = Some((version, snapshot.clone()));
        snapshot
    }

    /// The cached object with this namespace (empty for cluster-scoped) and name.
    pub fn get(&self, namespace: &str, name: &str) -> Option<Value> {
        self.read()
            .get(&storage_key(&self.prefix, namespace, name))
            .cloned()
    }

    /// Objects matching `keep`, in namespace/name order.
    pub fn filtered(&self, keep: impl Fn(&Value) -> bool) -> Vec<Value> {
        self.read().values().filter(|o| keep(o)).cloned().collect()
    }

    /// A receiver whose value moves on every change (and on each fresh list); the first
    /// list has landed once it is non-zero.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.generation.subscribe()
    }

    /// Waits until the first list has landed.
    pub async fn synced(&self) {
        let mut changes = self.changes();
        let _ = changes.wait_for(|generation| *generation > 0).await;
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Value>> {
        let _ = &self.task;
        self.shared
            .objects
            .read()
            .unwrap_or_else(|e| e.into_inner())
    }
}

fn meta<'a>(object: &'a Value, field: &str) -> &'a str {
    object
        .get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The key an object of this prefix is stored under (as `Resource::key` builds it).
fn storage_key(prefix: &str, namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        format!("{prefix}{name}")
    } else {
        format!("{prefix}{namespace}/{name}")
    }
}

async fn follow(
    api: ApiServer,
    resource: &'static str,
    prefix: String,
    shared: Arc<Shared>,
    generation: Arc<watch::Sender<u64>>,
) {
    let bump = || generation.send_modify(|g| *g += 1);
    loop {
        let list = match api.list_objects(resource, None).await {
            Ok(list) => list,
            Err(_) => {
                tokio::time::sleep(RELIST_DELAY).await;
                continue;
            }
        };
        {
            let mut objects = shared.write();
            objects.clear();
            for object in list.items {
                let key = storage_key(&prefix, meta(&object, "namespace"), meta(&object, "name"));
                objects.insert(key, object);
            }
        }
        bump();
        let mut stream = match api.storage().watch(&prefix, list.revision).await {
            Ok(stream) => stream,
            Err(_) => {
                tokio::time::sleep(RELIST_DELAY).await;
                continue;
            }
        };
        while let Some(event) = stream.next().await {
            let Ok(event) = event else { break };
            {
                let mut objects = shared.write();
                match event {
                    WatchEvent::Put { kv, .. } => {
                        if let Ok(object) = decode_object(&kv) {
                            objects.insert(kv.key.clone(), object);
                        }
                    }
                    WatchEvent::Delete { prev, .. } => {
                        objects.remove(&prev.key);
                    }
                }
            }
            bump();
        }
        tokio::time::sleep(RELIST_DELAY).await;
    }
}
