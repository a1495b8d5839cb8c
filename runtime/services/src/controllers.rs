//! Running the Endpoints and EndpointSlice controllers: each waits for its informers to
//! move (or a retry/resync tick) and then reconciles every service from the snapshots.

use std::collections::HashMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod, Service};
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use wasmpod_apiserver::{ApiServer, Informer};

use crate::endpoints_controller::EndpointsController;
use crate::endpointslice_controller::EndpointSliceController;
use crate::task::AbortOnDrop;

/// How the endpoint controllers behave; see the field docs for the defaults.
#[derive(Debug, Clone)]
pub struct EndpointControllerOptions {
    /// Full reconcile even without changes (kube-controller-manager's
    /// `--min-resync-period`, 12h).
    pub resync_interval: Duration,
    /// First delay before retrying after a failed write; doubles on each consecutive
    /// failure up to `max_retry_interval` (the workqueue's rate limiter starts at 5ms).
    pub retry_interval: Duration,
    /// Longest retry delay (the workqueue's 1000s).
    pub max_retry_interval: Duration,
    /// Endpoints per EndpointSlice (`--max-endpoints-per-slice`, 100).
    pub max_endpoints_per_slice: usize,
}

impl Default for EndpointControllerOptions {
    fn default() -> Self {
        EndpointControllerOptions {
            resync_interval: Duration::from_secs(12 * 3600),
            retry_interval: Duration::from_millis(5),
            max_retry_interval: Duration::from_secs(1000),
            max_endpoints_per_slice: 100,
        }
    }
}

/// The running `endpoint-controller` and `endpointslice-controller`; dropping the handle
/// stops both.
pub struct EndpointControllers {
    _tasks: Vec<AbortOnDrop>,
}

/// Starts the Endpoints and EndpointSlice controllers over `api` (call inside a tokio
/// runtime). They keep no state that the API does not hold, so they may be stopped at any
/// point and started again elsewhere.
pub fn start_endpoint_controllers(
    api: ApiServer,
    options: EndpointControllerOptions,
) -> EndpointControllers {
    let endpoints = tokio::spawn(run_endpoints(api.clone(), options.clone()));
    let slices = tokio::spawn(run_endpoint_slices(api, options));
    EndpointControllers {
        _tasks: vec![AbortOnDrop(endpoints), AbortOnDrop(slices)],
    }
}

async fn run_endpoints(api: ApiServer, options: EndpointControllerOptions) {
    let informers = open_informers(&api, &["services", "pods"]).await;
    let mut controller = EndpointsController::new(api);
    let mut waiter = Waiter::new(&informers, &options);
    loop {
        waiter.mark_seen();
        let services: Vec<Service> = typed(&informers[0]);
        let pods: Vec<Pod> = typed(&informers[1]);
        let clean = controller.sync_all(&services, &pods).await;
        waiter.wait(clean).await;
    }
}

async fn run_endpoint_slices(api: ApiServer, options: EndpointControllerOptions) {
    let informers = open_informers(&api, &["services", "pods", "nodes"]).await;
    let mut controller = EndpointSliceController::new(api, options.max_endpoints_per_slice);
    let mut waiter = Waiter::new(&informers, &options);
    loop {
        waiter.mark_seen();
        let services: Vec<Service> = typed(&informers[0]);
        let pods: Vec<Pod> = typed(&informers[1]);
        let nodes: HashMap<String, Node> = typed::<Node>(&informers[2])
            .into_iter()
            .map(|node| (node.metadata.name.clone().unwrap_or_default(), node))
            .collect();
        let clean = controller.sync_all(&services, &pods, &nodes).await;
        waiter.wait(clean).await;
    }
}

/// Informers for `resources`, once their first lists have landed.
pub(crate) async fn open_informers(api: &ApiServer, resources: &[&str]) -> Vec<Informer> {
    let mut informers = Vec::new();
    for resource in resources {
        loop {
            match api.informer(resource) {
                Ok(informer) => {
                    informers.push(informer);
                    break;
                }
                // Only an unknown resource fails; wait rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
            }
        }
    }
    for informer in &informers {
        informer.synced().await;
    }
    informers
}

/// The informer's objects that decode as `T` (others are skipped).
pub(crate) fn typed<T: DeserializeOwned>(informer: &Informer) -> Vec<T> {
    informer
        .snapshot()
        .iter()
        .filter_map(|object| T::deserialize(object).ok())
        .collect()
}

/// Waits for the next reason to reconcile: an informer change, a due retry, or a resync.
pub(crate) struct Waiter {
    changes: Vec<watch::Receiver<u64>>,
    resync: Duration,
    retry: Duration,
    max_retry: Duration,
    failures: u32,
}

impl Waiter {
    pub(crate) fn new(informers: &[Informer], options: &EndpointControllerOptions) -> Self {
        Waiter {
            changes: informers.iter().map(Informer::changes).collect(),
            resync: options.resync_interval,
            retry: options.retry_interval,
            max_retry: options.max_retry_interval,
            failures: 0,
        }
    }

    pub(crate) fn with_intervals(
        informers: &[Informer],
        resync: Duration,
        retry: Duration,
    ) -> Self {
        Waiter {
            changes: informers.iter().map(Informer::changes).collect(),
            resync,
            retry,
            max_retry: retry,
            failures: 0,
        }
    }

    /// Marks every change so far as seen (call before reading the snapshots).
    pub(crate) fn mark_seen(&mut self) {
        for changes in &mut self.changes {
            changes.borrow_and_update();
        }
    }

    pub(crate) async fn wait(&mut self, clean: bool) {
        let timeout = if clean {
            self.failures = 0;
            self.resync
        } else {
            self.failures = self.failures.saturating_add(1);
            let factor = 2u32.saturating_pow(self.failures.saturating_sub(1).min(30));
            self.retry.saturating_mul(factor).min(self.max_retry)
        };
        let any_change = async {
            let waits = self.changes.iter_mut().map(|rx| Box::pin(rx.changed()));
            let _ = futures_select_all(waits).await;
        };
        let _ = tokio::time::timeout(timeout, any_change).await;
    }
}

/// Resolves when the first of `futures` does.
async fn futures_select_all<F: std::future::Future + Unpin>(futures: impl Iterator<Item = F>) {
    let mut futures: Vec<F> = futures.collect();
    if futures.is_empty() {
        return std::future::pending().await;
    }
    std::future::poll_fn(|cx| {
        for future in &mut futures {
            if std::pin::Pin::new(future).poll(cx).is_ready() {
                return std::task::Poll::Ready(());
            }
        }
        std::task::Poll::Pending
    })
    .await
}
