//! The service proxy, one per node (kube-proxy's role, in user space): for every TCP port
//! of every Service with a ClusterIP it listens on `clusterIP:port` and, for NodePort and
//! LoadBalancer services, on `node_port_address:nodePort`, and splices each accepted
//! connection to a ready endpoint (round-robin, or by client IP with
//! `sessionAffinity: ClientIP`), moving on to the next endpoint when a connect fails.
//!
//! A service port without usable endpoints has no listener, so connections are refused,
//! as kube-proxy's REJECT rule refuses them; a connection whose every endpoint refuses is
//! reset. Only TCP is proxied (UDP and SCTP ports are ignored).

mod balancer;
mod listener;
mod routes;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Endpoints, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use wasmpod_apiserver::ApiServer;

use crate::controllers::{open_informers, typed, Waiter};
use balancer::Route;
pub use routes::ListenerKind;
use routes::{desired_routes, DesiredRoute, Inputs};

/// How the proxy behaves; see the field docs for the defaults.
#[derive(Debug, Clone)]
pub struct ProxyOptions {
    /// This node's name (for `internalTrafficPolicy`/`externalTrafficPolicy: Local`).
    pub node_name: String,
    /// Where node ports listen (kube-proxy's `--nodeport-addresses`; default all, 0.0.0.0).
    pub node_port_address: IpAddr,
    /// Longest wait for a backend to accept before trying the next one (5s).
    pub connect_timeout: Duration,
    /// Delay before binding a listener again after it failed (1s).
    pub bind_retry_interval: Duration,
    /// Full re-sync even without changes (kube-proxy's `--config-sync-period`, 15m).
    pub resync_interval: Duration,
}

impl Default for ProxyOptions {
    fn default() -> Self {
        ProxyOptions {
            node_name: String::new(),
            node_port_address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            connect_timeout: Duration::from_secs(5),
            bind_retry_interval: Duration::from_secs(1),
            resync_interval: Duration::from_secs(15 * 60),
        }
    }
}

/// Whether a wanted listener is serving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenerState {
    /// Bound and accepting.
    Open,
    /// No usable endpoint: not bound, so connections are refused.
    NoEndpoints,
    /// Binding failed (retried every `bind_retry_interval`).
    Failed(String),
}

/// One service port address the proxy handles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerInfo {
    pub address: SocketAddr,
    pub kind: ListenerKind,
    pub namespace: String,
    pub service: String,
    /// The service port's name ("" when unnamed).
    pub port_name: String,
    pub state: ListenerState,
    /// The endpoints connections go to.
    pub backends: Vec<SocketAddr>,
    /// Connections accepted so far by this proxy on this address.
    pub accepted: u64,
}

struct Entry {
    desired: DesiredRoute,
    route: Arc<Route>,
    state: ListenerState,
    task: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    entries: Mutex<BTreeMap<SocketAddr, Entry>>,
    stopped: AtomicBool,
}

impl Shared {
    fn entries(&self) -> std::sync::MutexGuard<'_, BTreeMap<SocketAddr, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stops every listener; returns their tasks so a caller can wait for the sockets to close.
    fn close_all(&self) -> Vec<JoinHandle<()>> {
        self.stopped.store(true, Ordering::SeqCst);
        let mut entries = self.entries();
        let tasks: Vec<JoinHandle<()>> =
            entries.values_mut().filter_map(|e| e.task.take()).collect();
        entries.clear();
        for task in &tasks {
            task.abort();
        }
        tasks
    }
}

/// A running proxy; dropping it (or [`ServiceProxy::stop`]) closes its listeners and
/// connections.
pub struct ServiceProxy {
    shared: Arc<Shared>,
    task: Option<JoinHandle<()>>,
    changes: watch::Receiver<u64>,
    _shutdown: watch::Sender<()>,
}

impl ServiceProxy {
    /// Starts the proxy over `api` (inside a tokio runtime).
    pub fn start(api: ApiServer, options: ProxyOptions) -> ServiceProxy {
        let shared = Arc::new(Shared::default());
        let (shutdown, shutdown_rx) = watch::channel(());
        let (changes_tx, changes) = watch::channel(0u64);
        let task = tokio::spawn(run(api, options, shared.clone(), shutdown_rx, changes_tx));
        ServiceProxy {
            shared,
            task: Some(task),
            changes,
            _shutdown: shutdown,
        }
    }

    /// Every service port address the proxy handles, in address order.
    pub fn listeners(&self) -> Vec<ListenerInfo> {
        self.shared
            .entries()
            .values()
            .map(|entry| ListenerInfo {
                address: entry.desired.address,
                kind: entry.desired.kind,
                namespace: entry.desired.namespace.clone(),
                service: entry.desired.service.clone(),
                port_name: entry.desired.port_name.clone(),
                state: entry.state.clone(),
                backends: entry.route.backends(),
                accepted: entry.route.accepted(),
            })
            .collect()
    }

    /// A receiver that moves after every pass that changed the listeners.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.clone()
    }

    /// Stops the proxy and waits until its listening sockets are closed.
    pub async fn stop(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
        for task in self.shared.close_all() {
            let _ = task.await;
        }
    }
}

impl Drop for ServiceProxy {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
        self.shared.close_all();
    }
}

async fn run(
    api: ApiServer,
    options: ProxyOptions,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<()>,
    changes: watch::Sender<u64>,
) {
    let informers = open_informers(&api, &["services", "endpointslices", "endpoints"]).await;
    let mut waiter = Waiter::with_intervals(
        &informers,
        options.resync_interval,
        options.bind_retry_interval,
    );
    loop {
        waiter.mark_seen();
        let services: Vec<Service> = typed(&informers[0]);
        let slices: Vec<EndpointSlice> = typed(&informers[1]);
        let endpoints: Vec<Endpoints> = typed(&informers[2]);
        let routes = desired_routes(&Inputs {
            services: &services,
            slices: &slices,
            endpoints: &endpoints,
            node_name: &options.node_name,
            node_port_address: options.node_port_address,
        });
        let (changed, clean) = apply(&shared, routes, &options, &shutdown);
        if changed {
            changes.send_modify(|n| *n += 1);
        }
        waiter.wait(clean).await;
    }
}

/// Brings the listeners in line with `routes`; returns (anything changed, no bind failed).
fn apply(
    shared: &Shared,
    routes: Vec<DesiredRoute>,
    options: &ProxyOptions,
    shutdown: &watch::Receiver<()>,
) -> (bool, bool) {
    let mut entries = shared.entries();
    if shared.stopped.load(Ordering::SeqCst) {
        return (false, true);
    }
    let mut changed = false;
    let mut clean = true;
    let wanted: BTreeMap<SocketAddr, DesiredRoute> =
        routes.into_iter().map(|r| (r.address, r)).collect();
    entries.retain(|address, entry| {
        let keep = wanted.contains_key(address);
        if !keep {
            if let Some(task) = entry.task.take() {
                task.abort();
            }
            changed = true;
        }
        keep
    });
    for (address, desired) in wanted {
        let entry = entries.entry(address).or_insert_with(|| {
            changed = true;
            Entry {
                route: Arc::new(Route::new(desired.backends.clone(), desired.affinity)),
                desired: desired.clone(),
                state: ListenerState::NoEndpoints,
                task: None,
            }
        });
        if entry.desired != desired {
            changed = true;
        }
        entry
            .route
            .update(desired.backends.clone(), desired.affinity);
        entry.desired = desired;
        if entry.desired.backends.is_empty() {
            if let Some(task) = entry.task.take() {
                task.abort();
            }
            if entry.state != ListenerState::NoEndpoints {
                entry.state = ListenerState::NoEndpoints;
                changed = true;
            }
            continue;
        }
        if entry.task.is_some() {
            continue;
        }
        let state = match listener::bind(address) {
            Ok(socket) => {
                entry.task = Some(tokio::spawn(listener::serve(
                    socket,
                    entry.route.clone(),
                    options.connect_timeout,
                    shutdown.clone(),
                )));
                ListenerState::Open
            }
            Err(error) => {
                clean = false;
                ListenerState::Failed(error.to_string())
            }
        };
        if entry.state != state {
            entry.state = state;
            changed = true;
        }
    }
    (changed, clean)
}
