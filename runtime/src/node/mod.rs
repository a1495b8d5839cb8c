//! A node: the store, the image store, the wasm engine, and a worker per pod.
//!
//! This is the library's main entry point: [`Node::new`], [`Node::apply`], then read pods,
//! events and logs, and [`Node::delete_all`] to stop.

mod backoff;
mod container;
mod env;
pub mod exec;
mod hooks;
mod listener;
mod pod_status;
mod pod_worker;
mod pull;
pub mod puller;
mod start;
mod stop;
mod volumes;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::{Pod, PodCondition, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use tokio::sync::mpsc;
use wasmpod_engine::{Engine, ExitStatus, Image, SimulatedTime};
use wasmpod_images::{ImageRecord, ImageStore};

use self::listener::PortListeners;
use self::pod_worker::PodWorker;
use crate::clock::{SharedClock, SystemClock};
use crate::events::{EventRecorder, ObjectRef};
use crate::logs::ContainerLogs;
use crate::network::NodeNetwork;
use crate::prober::{ProbeType, ResultValue};
use crate::store::ObjectStore;

/// What reaches a pod worker.
/// Whether a pod is new to the cluster or one a previous node process ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admission {
    New,
    Existing,
}

pub(crate) enum PodMessage {
    /// The pod's containers now want these images (`kubectl apply` of a new image): each
    /// changed container is killed and started again with it, as the kubelet does when a
    /// container's definition changes.
    ImagesChanged(Vec<(String, String)>),
    Listening {
        container: String,
        id: String,
        result: Result<PortListeners, String>,
    },
    Exited {
        container: String,
        id: String,
        status: ExitStatus,
    },
    Probe {
        container: String,
        id: String,
        probe: ProbeType,
        value: ResultValue,
    },
    Delete {
        grace: Option<i64>,
    },
    Exec(exec::ExecRequest),
    /// The postStart hook of this instance failed with this message.
    PostStartFailed {
        container: String,
        id: String,
        message: String,
    },
    Resync,
}

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Images(#[from] wasmpod_images::ImageError),
    #[error(transparent)]
    Engine(#[from] wasmpod_engine::LoadError),
    #[error(transparent)]
    Ip(#[from] crate::ip::IpError),
    #[error("pods \"{name}\" already exists")]
    AlreadyExists { name: String },
    #[error("pods \"{name}\" not found")]
    NotFound { name: String },
    #[error("container {container} is not valid for pod {pod}")]
    NoSuchContainer { pod: String, container: String },
    #[error("a container name must be specified for pod {pod}, choose one of: [{choices}]")]
    ContainerNameRequired { pod: String, choices: String },
}

pub struct NodeConfig {
    /// WASMPOD_HOME: the image store and the compile cache live here.
    pub home: PathBuf,
    /// The node name pods are assigned to (default: this machine's host name).
    pub node_name: Option<String>,
    pub clock: SharedClock,
    /// Host directories pods may mount as hostPath volumes (`--allow-host-path`).
    pub allowed_host_paths: Vec<PathBuf>,
    /// Set for a node on simulated time (see [`NodeConfig::simulated`]).
    pub simulated_time: Option<SimulatedTime>,
    /// Pod UIDs, container IDs and generated names come from this seed instead of the OS's
    /// randomness: the same manifests then give the same texts.
    pub seed: Option<u64>,
    /// Benchmarks only: restart crashed containers at once, without the kubelet's crash
    /// back-off, so restart latency can be measured many times in a row. Not reachable from
    /// manifests or the command line.
    pub benchmark_without_crash_backoff: bool,
    /// Plain-HTTP registries and the node's own registry credentials.
    pub registry: puller::RegistrySettings,
}

impl NodeConfig {
    pub fn new(home: PathBuf) -> Self {
        NodeConfig {
            home,
            node_name: None,
            clock: Arc::new(SystemClock),
            allowed_host_paths: Vec::new(),
            simulated_time: None,
            seed: None,
            benchmark_without_crash_backoff: false,
            registry: puller::RegistrySettings::default(),
        }
    }

    /// A node on simulated time starting now at `wall_at_start`: its clock, the guests'
    /// clocks and its pod network are simulated. Run it on a current-thread tokio runtime
    /// with a paused clock (`Builder::new_current_thread().enable_all().start_paused(true)`);
    /// [`crate::testing::Simulation`] does all of that.
    pub fn simulated(home: PathBuf, wall_at_start: std::time::SystemTime) -> Self {
        let time = SimulatedTime::starting_at(wall_at_start);
        NodeConfig {
            clock: Arc::new(crate::clock::SimulatedClock::new(time)),
            simulated_time: Some(time),
            ..NodeConfig::new(home)
        }
    }
}

pub(crate) struct NodeShared {
    pub(crate) store: Arc<ObjectStore>,
    pub(crate) events: Arc<EventRecorder>,
    pub(crate) clock: SharedClock,
    pub(crate) engine: Engine,
    pub(crate) images: Arc<ImageStore>,
    pub(crate) puller: Arc<puller::ImagePuller>,
    pub(crate) node_name: String,
    pub(crate) host_ip: String,
    pub(crate) allowed_host_paths: Vec<PathBuf>,
    pub(crate) network: NodeNetwork,
    pub(crate) simulated_time: Option<SimulatedTime>,
    pub(crate) ids: crate::ids::IdSource,
    pub(crate) without_crash_backoff: bool,
    pods_dir: PathBuf,
    /// Compiled images by content digest; concurrent starts of one image compile it once.
    loaded: Mutex<HashMap<String, Arc<tokio::sync::OnceCell<Image>>>>,
    logs: Mutex<HashMap<(String, String, String), Arc<ContainerLogs>>>,
    workers: Mutex<HashMap<(String, String), mpsc::UnboundedSender<PodMessage>>>,
}

impl NodeShared {
    pub(crate) fn logs_for(&self, pod: &ObjectRef, container: &str) -> Arc<ContainerLogs> {
        let key = (
            pod.namespace.clone(),
            pod.name.clone(),
            container.to_string(),
        );
        lock(&self.logs)
            .entry(key)
            .or_insert_with(|| ContainerLogs::new(self.clock.clone()))
            .clone()
    }

    /// The compiled image, from memory, the on-disk cache, or a fresh compile.
    pub(crate) async fn load_image(
        &self,
        record: &ImageRecord,
    ) -> Result<Image, wasmpod_engine::LoadError> {
        let cell = lock(&self.loaded)
            .entry(record.digest.clone())
            .or_default()
            .clone();
        let image = cell
            .get_or_try_init(|| async {
                let engine = self.engine.clone();
                let digest = record.digest.clone();
                let path = record.path.clone();
                let cache_dir = self.images.compile_cache_dir();
                tokio::task::spawn_blocking(move || engine.load(&digest, &path, &cache_dir))
                    .await
                    .map_err(|e| wasmpod_engine::LoadError::Compile(e.to_string()))?
            })
            .await?;
        Ok(image.clone())
    }

    /// Where this node's pods keep their volumes and container roots: a directory of its own,
    /// since pod UIDs repeat between nodes started with the same seed and several nodes may
    /// share a WASMPOD_HOME (parallel simulations, say).
    pub(crate) fn pods_dir(&self) -> PathBuf {
        self.pods_dir.clone()
    }

    /// The worker is done: the pod leaves the store and its logs go with it.
    pub(crate) fn forget_pod(&self, pod: &ObjectRef) {
        self.store.delete_pod(&pod.namespace, &pod.name);
        lock(&self.workers).remove(&(pod.namespace.clone(), pod.name.clone()));
        lock(&self.logs).retain(|(ns, name, _), _| !(ns == &pod.namespace && name == &pod.name));
    }
}

impl Drop for NodeShared {
    fn drop(&mut self) {
        // Each pod removes its own directory; this removes what a crash left behind.
        let _ = std::fs::remove_dir_all(&self.pods_dir);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Clone)]
pub struct Node {
    shared: Arc<NodeShared>,
}

impl Node {
    /// Opens the image store under `config.home` and creates the engine. Call inside a tokio
    /// runtime.
    pub fn new(config: NodeConfig) -> Result<Node, NodeError> {
        let images = Arc::new(ImageStore::open(&config.home)?);
        let puller = Arc::new(puller::ImagePuller::new(&config.registry));
        let engine = Engine::new()?;
        let store = Arc::new(ObjectStore::new());
        let node_name = config.node_name.unwrap_or_else(default_node_name);
        let events = Arc::new(EventRecorder::new(
            store.clone(),
            config.clock.clone(),
            node_name.clone(),
        ));
        Ok(Node {
            shared: Arc::new(NodeShared {
                store,
                events,
                clock: config.clock,
                engine,
                images,
                puller,
                node_name,
                host_ip: "127.0.0.1".into(),
                allowed_host_paths: config.allowed_host_paths,
                network: if config.simulated_time.is_some() {
                    NodeNetwork::simulated()
                } else {
                    NodeNetwork::Host
                },
                simulated_time: config.simulated_time,
                ids: match config.seed {
                    Some(seed) => crate::ids::IdSource::seeded(seed),
                    None => crate::ids::IdSource::random(),
                },
                without_crash_backoff: config.benchmark_without_crash_backoff,
                pods_dir: config.home.join("pods").join(format!(
                    "node-{}-{}",
                    std::process::id(),
                    uuid::Uuid::new_v4().simple()
                )),
                loaded: Mutex::new(HashMap::new()),
                logs: Mutex::new(HashMap::new()),
                workers: Mutex::new(HashMap::new()),
            }),
        })
    }

    pub fn store(&self) -> &Arc<ObjectStore> {
        &self.shared.store
    }

    pub fn clock(&self) -> &SharedClock {
        &self.shared.clock
    }

    /// The network the pods' ports are on (the host's, or a simulated node's own).
    pub fn network(&self) -> &NodeNetwork {
        &self.shared.network
    }

    /// The simulated clock's origin, on a simulated node.
    pub fn simulated_time(&self) -> Option<SimulatedTime> {
        self.shared.simulated_time
    }

    pub fn images(&self) -> &ImageStore {
        &self.shared.images
    }

    pub fn name(&self) -> &str {
        &self.shared.node_name
    }

    /// Stores the set's ConfigMaps and Secrets, then admits its pods (so their env and
    /// volumes find them).
    pub fn apply_set(&self, set: wasmpod_manifest::ManifestSet) -> Result<Vec<Pod>, NodeError> {
        for config_map in set.config_maps {
            self.shared.store.put_config_map(config_map);
        }
        for secret in set.secrets {
            self.shared.store.put_secret(secret);
        }
        self.apply(set.pods)
    }

    /// Admits validated, defaulted pods (as from `wasmpod_manifest::load_paths`): assigns uid,
    /// creation time, node and pod IP, records `Scheduled`, and starts each pod's worker.
    pub fn apply(&self, pods: Vec<Pod>) -> Result<Vec<Pod>, NodeError> {
        pods.into_iter()
            .map(|pod| self.admit(pod, Admission::New))
            .collect()
    }

    /// Runs pods that already exist in the cluster's state (they keep their uid and creation
    /// time), as a kubelet does when it starts and finds pods bound to its node. A container
    /// the previous status shows as run before is treated as found dead: it starts again with
    /// its `restartCount` continued and `lastState` terminated (exit 255, `Unknown`, what
    /// containerd reports for a container lost with its host).
    pub fn adopt(&self, pods: Vec<Pod>) -> Result<Vec<Pod>, NodeError> {
        pods.into_iter()
            .map(|pod| self.admit(pod, Admission::Existing))
            .collect()
    }

    fn admit(&self, mut pod: Pod, admission: Admission) -> Result<Pod, NodeError> {
        let shared = &self.shared;
        let previous = match admission {
            Admission::New => None,
            Admission::Existing => pod.status.take(),
        };
        {
            let namespace = pod
                .metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".into());
            if pod.metadata.name.as_deref().unwrap_or_default().is_empty() {
                let prefix = pod.metadata.generate_name.clone().unwrap_or_default();
                pod.metadata.name = Some(format!("{prefix}{}", random_suffix(&shared.ids)));
            }
            let name = pod.metadata.name.clone().unwrap_or_default();
            if shared.store.pod(&namespace, &name).is_some() {
                return Err(NodeError::AlreadyExists { name });
            }
            let ip = crate::ip::allocate()?;
            let now = shared.clock.now();
            pod.metadata.namespace = Some(namespace.clone());
            if admission == Admission::New || pod.metadata.uid.is_none() {
                pod.metadata.uid = Some(shared.ids.uuid().to_string());
            }
            if admission == Admission::New || pod.metadata.creation_timestamp.is_none() {
                pod.metadata.creation_timestamp = Some(Time(now));
            }
            wasmpod_manifest::admit(&mut pod);
            if let Some(spec) = pod.spec.as_mut() {
                spec.node_name = Some(shared.node_name.clone());
            }
            pod.status = Some(PodStatus {
                phase: Some("Pending".into()),
                conditions: Some(vec![PodCondition {
                    type_: "PodScheduled".into(),
                    status: "True".into(),
                    last_transition_time: Some(Time(now)),
                    ..Default::default()
                }]),
                qos_class: Some(wasmpod_printers::compute_pod_qos(&pod).to_string()),
                ..Default::default()
            });
            if !shared.store.create_pod(pod.clone()) {
                return Err(NodeError::AlreadyExists { name });
            }
            let object = ObjectRef {
                namespace: namespace.clone(),
                name: name.clone(),
                uid: pod.metadata.uid.clone().unwrap_or_default(),
                field_path: None,
            };
            // The scheduler's event, unless an earlier status shows the pod already bound.
            let scheduled_before = previous
                .as_ref()
                .and_then(|status| status.conditions.as_ref())
                .is_some_and(|conditions| {
                    conditions
                        .iter()
                        .any(|c| c.type_ == "PodScheduled" && c.status == "True")
                });
            if !scheduled_before {
                shared.events.scheduled(&object);
            }
            let (tx, rx) = mpsc::unbounded_channel();
            lock(&shared.workers).insert((namespace, name), tx.clone());
            let mut worker = PodWorker::new(shared.clone(), pod.clone(), ip, tx, rx);
            if let Some(previous) = &previous {
                worker.resume_from(previous, now);
            }
            tokio::spawn(worker.run());
            Ok(pod)
        }
    }

    /// Graceful deletion: containers get `Stopping container …` and the grace period (the
    /// pod's terminationGracePeriodSeconds unless `grace` overrides it); the pod leaves the
    /// store once they are all gone.
    pub fn delete_pod(
        &self,
        namespace: &str,
        name: &str,
        grace: Option<i64>,
    ) -> Result<(), NodeError> {
        self.send_to_worker(namespace, name, PodMessage::Delete { grace })
    }

    /// Gives the pod's containers new images (container name, image); see
    /// `PodMessage::ImagesChanged`.
    pub fn update_images(
        &self,
        namespace: &str,
        name: &str,
        images: Vec<(String, String)>,
    ) -> Result<(), NodeError> {
        self.send_to_worker(namespace, name, PodMessage::ImagesChanged(images))
    }

    fn send_to_worker(
        &self,
        namespace: &str,
        name: &str,
        message: PodMessage,
    ) -> Result<(), NodeError> {
        let workers = lock(&self.shared.workers);
        let worker = workers
            .get(&(namespace.to_string(), name.to_string()))
            .ok_or_else(|| NodeError::NotFound { name: name.into() })?;
        let _ = worker.send(message);
        Ok(())
    }

    /// Deletes every pod and waits until all are gone.
    pub async fn delete_all(&self, grace: Option<i64>) {
        let mut changes = self.shared.store.subscribe();
        for pod in self.shared.store.pods(None) {
            let (namespace, name) = crate::store::key_of(&pod.metadata);
            let _ = self.delete_pod(&namespace, &name, grace);
        }
        while !self.shared.store.pods(None).is_empty() {
            if changes.recv().await.is_err() {
                changes = self.shared.store.subscribe();
            }
        }
    }

    /// The logs of a container (the only one when `container` is `None`).
    pub fn logs(
        &self,
        namespace: &str,
        pod: &str,
        container: Option<&str>,
    ) -> Result<Arc<ContainerLogs>, NodeError> {
        let stored = self
            .shared
            .store
            .pod(namespace, pod)
            .ok_or_else(|| NodeError::NotFound { name: pod.into() })?;
        let names: Vec<String> = stored
            .spec
            .iter()
            .flat_map(|s| {
                s.init_containers
                    .iter()
                    .flatten()
                    .chain(s.containers.iter())
            })
            .map(|c| c.name.clone())
            .collect();
        let app_names: Vec<String> = stored
            .spec
            .iter()
            .flat_map(|s| s.containers.iter().map(|c| c.name.clone()))
            .collect();
        let name = match container {
            Some(name) if names.iter().any(|n| n == name) => name.to_string(),
            Some(name) => {
                return Err(NodeError::NoSuchContainer {
                    pod: pod.into(),
                    container: name.into(),
                })
            }
            None if app_names.len() == 1 => app_names[0].clone(),
            None => {
                return Err(NodeError::ContainerNameRequired {
                    pod: pod.into(),
                    choices: app_names.join(" "),
                })
            }
        };
        let object = ObjectRef {
            namespace: namespace.into(),
            name: pod.into(),
            uid: String::new(),
            field_path: None,
        };
        Ok(self.shared.logs_for(&object, &name))
    }
}

fn random_suffix(ids: &crate::ids::IdSource) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let bytes = ids.uuid().into_bytes();
    bytes[..5]
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

fn default_node_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "wasmpod".into())
}
