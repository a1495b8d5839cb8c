//! wasmpod's cluster control plane over the in-process [`ApiServer`], reproducing
//! Kubernetes 1.33:
//!
//! - [`start_scheduler`]: `default-scheduler` — binds pending pods (filters, spreading,
//!   least-allocated), `Scheduled` / `FailedScheduling` events, back-off retries;
//! - [`start_node_lifecycle_controller`]: `node-controller` — heartbeat/Lease monitoring,
//!   Unknown conditions, `NodeNotReady`, pod Ready=False, not-ready/unreachable taints, zone
//!   disruption;
//! - [`start_taint_eviction_controller`]: `taint-eviction-controller` — NoExecute evictions
//!   honouring `tolerationSeconds`;
//! - [`start_pod_gc`]: `pod-garbage-collector` — pods of deleted or out-of-service nodes.
//!
//! [`start`] runs all four. Every handle aborts its task when dropped; controllers keep no
//! state that the API cannot rebuild, so they can be stopped and started elsewhere (leader
//! election). Starting needs a Tokio runtime.

mod changes;
mod error;
mod handle;
mod node_lifecycle;
mod objects;
mod options;
mod pod_gc;
pub mod quantity;
mod scheduler;
mod taint_eviction;
pub mod taints;

use wasmpod_apiserver::{ApiServer, Informer};

pub use error::ClusterError;
pub use handle::{ClusterControllers, ControllerHandle};
pub use node_lifecycle::NODE_CONTROLLER_NAME;
pub use options::{ClusterOptions, NodeLifecycleOptions, PodGcOptions, SchedulerOptions};
pub use pod_gc::POD_GC_CONTROLLER_NAME;
pub use scheduler::SCHEDULER_NAME;
pub use taint_eviction::TAINT_EVICTION_CONTROLLER_NAME;

/// Informers the controllers share.
struct Caches {
    pods: Informer,
    nodes: Informer,
    leases: Informer,
}

impl Caches {
    fn new(api: &ApiServer) -> Caches {
        let informer = |resource: &str| {
            api.informer(resource)
                .unwrap_or_else(|_| panic!("{resource} is a served resource"))
        };
        Caches {
            pods: informer("pods"),
            nodes: informer("nodes"),
            leases: informer("leases"),
        }
    }
}

/// Starts the scheduler, node lifecycle controller, taint eviction controller and pod GC.
pub fn start(api: ApiServer, options: ClusterOptions) -> ClusterControllers {
    let caches = Caches::new(&api);
    ClusterControllers {
        controllers: vec![
            scheduler_with(&api, &caches, options.scheduler),
            node_lifecycle_with(&api, &caches, options.node_lifecycle),
            taint_eviction_with(&api, &caches),
            pod_gc_with(&api, &caches, options.pod_gc),
        ],
    }
}

/// Starts `default-scheduler` alone.
pub fn start_scheduler(api: ApiServer, options: SchedulerOptions) -> ControllerHandle {
    let caches = Caches::new(&api);
    scheduler_with(&api, &caches, options)
}

/// Starts the node lifecycle controller (`node-controller`) alone.
pub fn start_node_lifecycle_controller(
    api: ApiServer,
    options: NodeLifecycleOptions,
) -> ControllerHandle {
    let caches = Caches::new(&api);
    node_lifecycle_with(&api, &caches, options)
}

/// Starts the taint eviction controller alone.
pub fn start_taint_eviction_controller(api: ApiServer) -> ControllerHandle {
    let caches = Caches::new(&api);
    taint_eviction_with(&api, &caches)
}

/// Starts the pod garbage collector alone.
pub fn start_pod_gc(api: ApiServer, options: PodGcOptions) -> ControllerHandle {
    let caches = Caches::new(&api);
    pod_gc_with(&api, &caches, options)
}

fn scheduler_with(api: &ApiServer, caches: &Caches, options: SchedulerOptions) -> ControllerHandle {
    ControllerHandle::spawn(
        SCHEDULER_NAME,
        scheduler::run(
            api.clone(),
            caches.pods.clone(),
            caches.nodes.clone(),
            options,
        ),
    )
}

fn node_lifecycle_with(
    api: &ApiServer,
    caches: &Caches,
    options: NodeLifecycleOptions,
) -> ControllerHandle {
    ControllerHandle::spawn(
        NODE_CONTROLLER_NAME,
        node_lifecycle::run(
            api.clone(),
            caches.nodes.clone(),
            caches.leases.clone(),
            caches.pods.clone(),
            options,
        ),
    )
}

fn taint_eviction_with(api: &ApiServer, caches: &Caches) -> ControllerHandle {
    ControllerHandle::spawn(
        TAINT_EVICTION_CONTROLLER_NAME,
        taint_eviction::run(api.clone(), caches.nodes.clone(), caches.pods.clone()),
    )
}

fn pod_gc_with(api: &ApiServer, caches: &Caches, options: PodGcOptions) -> ControllerHandle {
    ControllerHandle::spawn(
        POD_GC_CONTROLLER_NAME,
        pod_gc::run(
            api.clone(),
            caches.nodes.clone(),
            caches.pods.clone(),
            options,
        ),
    )
}
