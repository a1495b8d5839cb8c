//! kube-controller-manager 1.33's workload controllers over wasmpod's in-process
//! [`ApiServer`]:
//!
//! - the ReplicaSet controller (`replicaset-controller`) and the ReplicationController
//!   controller (`replication-controller`), one implementation behind an adapter as upstream;
//! - the Deployment controller (`deployment-controller`): RollingUpdate and Recreate,
//!   revision history, progress deadlines, pausing, proportional scaling;
//! - the garbage collector (`garbage-collector-controller`): background, foreground and
//!   orphan deletion across kinds.
//!
//! Each controller is level-triggered: it waits for any of its informers to change (or for
//! a time it asked to be woken at, such as a pod passing `minReadySeconds`), then
//! reconciles every object from the caches. All state lives in the API, so a controller can
//! be aborted at any point and started again elsewhere (leader election).

mod claim;
mod deployment;
mod error;
mod expectations;
mod gc;
mod object;
mod options;
mod pods;
mod replicaset;
mod runner;
mod time;

use std::future::Future;

use tokio::task::JoinHandle;
use wasmpod_apiserver::{ApiServer, Informer};

pub use options::ControllerOptions;

/// Running controllers; dropping the handle stops them.
#[derive(Debug, Default)]
pub struct WorkloadControllers {
    tasks: Vec<JoinHandle<()>>,
}

impl WorkloadControllers {
    fn spawn(&mut self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.push(tokio::spawn(task));
    }

    /// Adds the tasks of `other` to this handle.
    pub fn merge(&mut self, mut other: WorkloadControllers) {
        self.tasks.append(&mut other.tasks);
    }

    /// Stops every controller now.
    pub fn stop(self) {}
}

impl Drop for WorkloadControllers {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Informers shared by the controllers started together.
struct Caches {
    pods: Informer,
    replica_sets: Informer,
    replication_controllers: Informer,
    deployments: Informer,
}

impl Caches {
    fn new(api: &ApiServer) -> Option<Caches> {
        Some(Caches {
            pods: api.informer("pods").ok()?,
            replica_sets: api.informer("replicasets").ok()?,
            replication_controllers: api.informer("replicationcontrollers").ok()?,
            deployments: api.informer("deployments").ok()?,
        })
    }
}

/// Starts all workload controllers and the garbage collector; must be called inside a tokio
/// runtime. They share one set of informers. (The resources watched are built into the API
/// server, so their informers always start; were one missing, its controllers would not.)
pub fn start(api: ApiServer, options: ControllerOptions) -> WorkloadControllers {
    let mut handle = WorkloadControllers::default();
    let Some(caches) = Caches::new(&api) else {
        return handle;
    };
    handle.spawn(replicaset::run(
        api.clone(),
        &replicaset::REPLICA_SETS,
        caches.pods.clone(),
        caches.replica_sets.clone(),
        options.clone(),
    ));
    handle.spawn(replicaset::run(
        api.clone(),
        &replicaset::REPLICATION_CONTROLLERS,
        caches.pods.clone(),
        caches.replication_controllers.clone(),
        options.clone(),
    ));
    handle.spawn(deployment::run(
        api.clone(),
        caches.deployments.clone(),
        caches.replica_sets.clone(),
        caches.pods.clone(),
        options.clone(),
    ));
    handle.merge(start_gc_with(api, options, &caches));
    handle
}

/// Starts only the ReplicaSet controller.
pub fn start_replica_set_controller(
    api: ApiServer,
    options: ControllerOptions,
) -> WorkloadControllers {
    let mut handle = WorkloadControllers::default();
    if let (Ok(pods), Ok(owners)) = (api.informer("pods"), api.informer("replicasets")) {
        handle.spawn(replicaset::run(
            api,
            &replicaset::REPLICA_SETS,
            pods,
            owners,
            options,
        ));
    }
    handle
}

/// Starts only the ReplicationController controller.
pub fn start_replication_controller(
    api: ApiServer,
    options: ControllerOptions,
) -> WorkloadControllers {
    let mut handle = WorkloadControllers::default();
    if let (Ok(pods), Ok(owners)) = (api.informer("pods"), api.informer("replicationcontrollers")) {
        handle.spawn(replicaset::run(
            api,
            &replicaset::REPLICATION_CONTROLLERS,
            pods,
            owners,
            options,
        ));
    }
    handle
}

/// Starts only the Deployment controller (it needs the ReplicaSet controller to get pods).
pub fn start_deployment_controller(
    api: ApiServer,
    options: ControllerOptions,
) -> WorkloadControllers {
    let mut handle = WorkloadControllers::default();
    if let (Ok(deployments), Ok(replica_sets), Ok(pods)) = (
        api.informer("deployments"),
        api.informer("replicasets"),
        api.informer("pods"),
    ) {
        handle.spawn(deployment::run(
            api,
            deployments,
            replica_sets,
            pods,
            options,
        ));
    }
    handle
}

/// Starts only the garbage collector.
pub fn start_garbage_collector(api: ApiServer, options: ControllerOptions) -> WorkloadControllers {
    match Caches::new(&api) {
        Some(caches) => start_gc_with(api, options, &caches),
        None => WorkloadControllers::default(),
    }
}

fn start_gc_with(
    api: ApiServer,
    options: ControllerOptions,
    caches: &Caches,
) -> WorkloadControllers {
    let mut handle = WorkloadControllers::default();
    let monitors = gc::monitored()
        .filter_map(|resource| {
            let informer = match resource.plural {
                "pods" => caches.pods.clone(),
                "replicasets" => caches.replica_sets.clone(),
                "replicationcontrollers" => caches.replication_controllers.clone(),
                "deployments" => caches.deployments.clone(),
                plural => api.informer(plural).ok()?,
            };
            Some((resource, informer))
        })
        .collect();
    handle.spawn(gc::run(api, monitors, options));
    handle
}

/// The `source.component` names of the controllers' events.
pub mod components {
    pub const REPLICA_SET: &str = "replicaset-controller";
    pub const REPLICATION_CONTROLLER: &str = "replication-controller";
    pub const DEPLOYMENT: &str = super::deployment::COMPONENT;
    pub const GARBAGE_COLLECTOR: &str = super::gc::COMPONENT;
}
