//! Pod scenarios on simulated time, for tests and scripts: minutes of probes, restarts and
//! back-off play out in milliseconds, with the guests' code running for real.
//!
//! A [`Simulation`] owns a node on a simulated clock and the single-threaded runtime that
//! drives it. Time moves only inside [`Simulation::advance`], [`Simulation::run_until`] and
//! the other calls that wait; whenever every task is idle it jumps straight to the next
//! timer (a probe tick, a back-off expiry, a guest's sleep). Everything the kubelet derives
//! from time — probe periods, timeouts, back-off, grace periods, event ages and `(xN over T)`
//! counts — and everything guests read through `wasi:clocks` follows the simulated clock.
//!
//! Rules of the simulated world:
//! * CPU time is not simulated. A guest busy for a whole epoch tick (10 ms of real CPU)
//!   without waiting is charged [`SIMULATED_COST_PER_BUSY_TICK`] of simulated time, so a
//!   spinning guest slows the simulation down but cannot freeze it.
//! * Pod ports served by wasmpod are on an in-process network ([`crate::network`]). Programs
//!   that open their own sockets use real loopback sockets; while a connection to one is
//!   open, simulated time follows real time instead of jumping ahead.
//! * With the same manifests and seed, the same events come out at the same simulated times.
//!
//! ```
//! use std::time::Duration;
//! use wasmpod::testing::{until, Simulation};
//!
//! // The tutorial's health1: the app answers 200 three times, then 500.
//! let mut sim = Simulation::new()?;
//! sim.apply_yaml(r#"
//! apiVersion: v1
//! kind: Pod
//! metadata: {name: health1}
//! spec:
//!   containers:
//!   - name: health1
//!     image: health_image:latest
//!     imagePullPolicy: IfNotPresent
//!     ports: [{containerPort: 8080}]
//!     livenessProbe: {httpGet: {path: /, port: 8080}}
//! "#)?;
//! // Probes every 10 s: three successes, three failures, then the kubelet restarts it.
//! let took = sim.run_until(Duration::from_secs(120), until::restarts("health1", 1))?;
//! assert!(took >= Duration::from_secs(60), "{took:?}");
//! let unhealthy = sim.events_with_reason("health1", "Unhealthy");
//! assert_eq!(unhealthy[0].count, Some(3));
//! assert_eq!(
//!     unhealthy[0].message.as_deref(),
//!     Some("Liveness probe failed: HTTP probe failed with statuscode: 500")
//! );
//! // The restarted instance is fresh: it answers 200 again.
//! let (status, body) = sim.http_get("health1", 8080, "/")?;
//! assert_eq!((status, body.as_str()), (200, "You've hit health1\n"));
//! # Ok::<(), wasmpod::testing::SimulationError>(())
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use k8s_openapi::api::core::v1::{ContainerStatus, Event, Pod};
use tokio::runtime::Runtime;

pub use wasmpod_engine::SIMULATED_COST_PER_BUSY_TICK;

use crate::node::{Node, NodeConfig, NodeError};

/// The namespace the convenience methods look in.
const NAMESPACE: &str = "default";

/// How long (simulated) [`Simulation::http_get`] waits for an answer.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum SimulationError {
    #[error("{0}")]
    Manifest(Box<wasmpod_manifest::ManifestError>),
    #[error(transparent)]
    Node(#[from] NodeError),
    #[error("cannot start the simulation's runtime: {0}")]
    Runtime(std::io::Error),
    #[error("the condition did not hold within {within:?} of simulated time")]
    Timeout { within: Duration },
    #[error("pods \"{0}\" not found")]
    NoSuchPod(String),
    #[error("GET {url}: {reason}")]
    Http { url: String, reason: String },
}

impl From<wasmpod_manifest::ManifestError> for SimulationError {
    fn from(error: wasmpod_manifest::ManifestError) -> Self {
        SimulationError::Manifest(Box::new(error))
    }
}

/// Options for a [`Simulation`].
#[derive(Debug, Clone)]
pub struct SimulationBuilder {
    home: Option<PathBuf>,
    start: Option<SystemTime>,
    seed: u64,
    allowed_host_paths: Vec<PathBuf>,
}

impl SimulationBuilder {
    /// WASMPOD_HOME of the node (images, compile cache). Default: the CLI's home, so the
    /// compiled images are shared with it.
    pub fn home(mut self, home: impl Into<PathBuf>) -> Self {
        self.home = Some(home.into());
        self
    }

    /// The wall-clock time the simulation starts at (default: now, to the whole second).
    pub fn start_at(mut self, start: SystemTime) -> Self {
        self.start = Some(start);
        self
    }

    /// Seeds pod UIDs, container IDs and generated names (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Host directories pods may mount as hostPath volumes.
    pub fn allowed_host_paths(mut self, paths: Vec<PathBuf>) -> Self {
        self.allowed_host_paths = paths;
        self
    }

    pub fn build(self) -> Result<Simulation, SimulationError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .map_err(SimulationError::Runtime)?;
        let start = self.start.unwrap_or_else(whole_second_now);
        let home = self.home.unwrap_or_else(wasmpod_images::default_home);
        let node = runtime.block_on(async {
            let mut config = NodeConfig::simulated(home, start);
            config.seed = Some(self.seed);
            config.allowed_host_paths = self.allowed_host_paths;
            Node::new(config)
        })?;
        Ok(Simulation { runtime, node })
    }
}

fn whole_second_now() -> SystemTime {
    let since_epoch = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    SystemTime::UNIX_EPOCH + Duration::from_secs(since_epoch.as_secs())
}

/// A node on simulated time. See the [module documentation](self).
pub struct Simulation {
    // Field order matters: the node's tasks live on the runtime, dropped after it.
    node: Node,
    runtime: Runtime,
}

impl Simulation {
    /// A simulation with the default options.
    pub fn new() -> Result<Simulation, SimulationError> {
        Simulation::builder().build()
    }

    pub fn builder() -> SimulationBuilder {
        SimulationBuilder {
            home: None,
            start: None,
            seed: 0,
            allowed_host_paths: Vec::new(),
        }
    }

    /// The node, for everything this wrapper does not cover. Its async methods must run
    /// through [`Simulation::block_on`].
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Runs `future` on the simulation's runtime (simulated time moves while it waits).
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Enters the simulation's runtime, e.g. to `tokio::spawn` a task that then runs
    /// whenever the simulation does.
    pub fn enter(&self) -> tokio::runtime::EnterGuard<'_> {
        self.runtime.enter()
    }

    /// Simulated time since the simulation started.
    pub fn elapsed(&self) -> Duration {
        let _entered = self.runtime.enter();
        self.node
            .simulated_time()
            .map(|time| time.elapsed())
            .unwrap_or_default()
    }

    /// Applies manifests (YAML or JSON, several documents, Pods, ConfigMaps and Secrets).
    pub fn apply_yaml(&mut self, text: &str) -> Result<Vec<Pod>, SimulationError> {
        let set = wasmpod_manifest::parse_set("<yaml>", text)?;
        self.apply_set(set)
    }

    /// Applies manifest files, as `wasmpod run FILE...` does.
    pub fn apply_files(&mut self, files: &[PathBuf]) -> Result<Vec<Pod>, SimulationError> {
        let set = wasmpod_manifest::load_set(files)?;
        self.apply_set(set)
    }

    /// Applies one manifest file.
    pub fn apply_file(&mut self, file: impl AsRef<Path>) -> Result<Vec<Pod>, SimulationError> {
        self.apply_files(&[file.as_ref().to_path_buf()])
    }

    /// Applies an already loaded manifest set.
    pub fn apply_set(
        &mut self,
        set: wasmpod_manifest::ManifestSet,
    ) -> Result<Vec<Pod>, SimulationError> {
        let _entered = self.runtime.enter();
        Ok(self.node.apply_set(set)?)
    }

    /// Lets `duration` of simulated time pass.
    pub fn advance(&mut self, duration: Duration) {
        // The timer must be made inside the runtime: it belongs to its (simulated) clock.
        self.runtime
            .block_on(async move { tokio::time::sleep(duration).await });
    }

    /// Runs until `condition` holds (checked after every change to pods or events, and every
    /// simulated 100 ms), for at most `within` of simulated time. Returns the simulated time
    /// it took.
    pub fn run_until(
        &mut self,
        within: Duration,
        mut condition: impl FnMut(&Node) -> bool,
    ) -> Result<Duration, SimulationError> {
        let node = self.node.clone();
        let waited = self.runtime.block_on(async move {
            let started = tokio::time::Instant::now();
            let deadline = started + within;
            let mut changes = node.store().subscribe();
            loop {
                if condition(&node) {
                    return Some(started.elapsed());
                }
                if tokio::time::Instant::now() >= deadline {
                    return None;
                }
                let recheck =
                    (tokio::time::Instant::now() + Duration::from_millis(100)).min(deadline);
                tokio::select! {
                    _ = changes.recv() => {}
                    _ = tokio::time::sleep_until(recheck) => {}
                }
            }
        });
        waited.ok_or(SimulationError::Timeout { within })
    }

    /// A pod in the `default` namespace.
    pub fn pod(&self, name: &str) -> Option<Pod> {
        self.node.store().pod(NAMESPACE, name)
    }

    /// The status of one container of a pod in the `default` namespace.
    pub fn container_status(&self, pod: &str, container: &str) -> Option<ContainerStatus> {
        self.pod(pod)?
            .status?
            .container_statuses?
            .into_iter()
            .find(|c| c.name == container)
    }

    /// All events, oldest first.
    pub fn events(&self) -> Vec<Event> {
        let mut events = self.node.store().events(None);
        events.sort_by_key(|e| e.first_timestamp.as_ref().map(|t| t.0));
        events
    }

    /// The events about pod `pod` with `reason` (aggregated as the kubelet records them:
    /// repeats raise `count`).
    pub fn events_with_reason(&self, pod: &str, reason: &str) -> Vec<Event> {
        self.events()
            .into_iter()
            .filter(|e| e.involved_object.name.as_deref() == Some(pod))
            .filter(|e| e.reason.as_deref() == Some(reason))
            .collect()
    }

    /// A container's log, one line per line written (the pod's only container when
    /// `container` is `None`); `previous` reads the instance before the last restart.
    pub fn logs(
        &self,
        pod: &str,
        container: Option<&str>,
        previous: bool,
    ) -> Result<String, SimulationError> {
        let logs = self.node.logs(NAMESPACE, pod, container)?;
        Ok(logs
            .lines(previous)
            .unwrap_or_default()
            .into_iter()
            .map(|line| line.text + "\n")
            .collect())
    }

    /// `GET path` on the pod's `port`, over the simulated network: status and body.
    pub fn http_get(
        &mut self,
        pod: &str,
        port: u16,
        path: &str,
    ) -> Result<(u16, String), SimulationError> {
        let ip = self
            .pod(pod)
            .and_then(|p| p.status?.pod_ip)
            .ok_or_else(|| SimulationError::NoSuchPod(pod.into()))?;
        let url = format!("http://{ip}:{port}{path}");
        let address = std::net::SocketAddr::new(
            ip.parse()
                .map_err(|_| SimulationError::NoSuchPod(pod.into()))?,
            port,
        );
        let network = self.node.network().clone();
        let exchange = async move { network.http_get(address, path).await };
        let answer = self
            .runtime
            .block_on(async { tokio::time::timeout(HTTP_TIMEOUT, exchange).await });
        match answer {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(reason)) => Err(SimulationError::Http { url, reason }),
            Err(_) => Err(SimulationError::Http {
                url,
                reason: format!("no answer within {HTTP_TIMEOUT:?} (simulated)"),
            }),
        }
    }

    /// Deletes every pod gracefully and waits (in simulated time) until all are gone.
    pub fn delete_all(&mut self) {
        let node = self.node.clone();
        self.runtime.block_on(node.delete_all(None));
    }
}

/// Conditions for [`Simulation::run_until`].
pub mod until {
    use crate::node::Node;

    fn pod_status(node: &Node, pod: &str) -> Option<k8s_openapi::api::core::v1::PodStatus> {
        node.store().pod(super::NAMESPACE, pod)?.status
    }

    /// The pod's Ready condition is True.
    pub fn ready(pod: &str) -> impl FnMut(&Node) -> bool + '_ {
        move |node| {
            pod_status(node, pod)
                .and_then(|s| s.conditions)
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        }
    }

    /// Some container of the pod has restarted at least `n` times.
    pub fn restarts(pod: &str, n: i32) -> impl FnMut(&Node) -> bool + '_ {
        move |node| {
            pod_status(node, pod)
                .and_then(|s| s.container_statuses)
                .is_some_and(|c| c.iter().any(|c| c.restart_count >= n))
        }
    }

    /// The pod's phase is `phase` (e.g. `Running`, `Succeeded`, `Failed`).
    pub fn phase<'a>(pod: &'a str, phase: &'a str) -> impl FnMut(&Node) -> bool + 'a {
        move |node| pod_status(node, pod).and_then(|s| s.phase).as_deref() == Some(phase)
    }

    /// An event with `reason` about the pod has been recorded at least `count` times.
    pub fn event<'a>(pod: &'a str, reason: &'a str, count: i32) -> impl FnMut(&Node) -> bool + 'a {
        move |node| {
            node.store()
                .events(None)
                .iter()
                .filter(|e| e.involved_object.name.as_deref() == Some(pod))
                .filter(|e| e.reason.as_deref() == Some(reason))
                .map(|e| e.count.unwrap_or(1))
                .sum::<i32>()
                >= count
        }
    }

    /// The pod is gone from the node.
    pub fn deleted(pod: &str) -> impl FnMut(&Node) -> bool + '_ {
        move |node| node.store().pod(super::NAMESPACE, pod).is_none()
    }
}
