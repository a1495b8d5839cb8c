//! A wasmpod node as a member of a Kubernetes control plane: the API server
//! (`wasmpod-apiserver` over `wasmpod-storage`, embedded or etcd) holds the desired state; this
//! node is its kubelet and kube-proxy, and — when elected — its controller manager and scheduler.
//!
//! - registration ([`node_object`]): the `Node` object and its `Lease` heartbeat.
//! - API → node ([`to_node`]): pods the scheduler bound here are run (`Node::adopt`, so a
//!   restarted `wasmpod serve` continues restart counts); a `deletionTimestamp` becomes a
//!   graceful stop; pods that left the API while the node could not see it are stopped;
//!   ConfigMaps and Secrets are mirrored for env and volumes.
//! - node → API ([`from_node`]): every pod status change is written to `pods/status`, every
//!   event to `events`, and once a deleted pod's containers are gone the kubelet's final
//!   delete (grace 0, uid precondition) removes it.
//! - `pods/log` is answered from the node's log buffers ([`logs`]).
//! - Services: every node proxies ClusterIPs and NodePorts (`wasmpod-services`).
//! - [`leader`]: one node at a time runs the workload controllers (`wasmpod-controllers`),
//!   the scheduler and node lifecycle (`wasmpod-cluster`) and the endpoint controllers.

mod from_node;
mod leader;
mod lease;
mod logs;
mod node_object;
mod to_node;

use std::sync::Arc;

use tokio::task::JoinHandle;
use wasmpod_apiserver::{ApiOptions, ApiServer};
use wasmpod_storage::election::{Elector, LocalElector};
use wasmpod_storage::Storage;

use crate::Node;

pub use leader::ELECTION;
pub use logs::NodeLogs;
pub use node_object::NodeRegistration;

/// Everything a control plane node needs besides its storage: the API's options, how the
/// node registers, and the leader election among the cluster's nodes.
pub struct ControlPlaneOptions {
    pub api: ApiOptions,
    pub registration: NodeRegistration,
    /// Picks the one node that runs controllers and scheduler (`LocalElector` alone).
    pub elector: Arc<dyn Elector>,
    /// The leader's lease, published in `kube-system/wasmpod-controller-manager`.
    pub leader_lease_duration: std::time::Duration,
    /// Say on stderr when this node starts leading (news in a cluster, noise on one machine).
    pub announce_leadership: bool,
    pub workloads: wasmpod_controllers::ControllerOptions,
    pub cluster: wasmpod_cluster::ClusterOptions,
    pub endpoints: wasmpod_services::EndpointControllerOptions,
    pub proxy: wasmpod_services::ProxyOptions,
}

impl ControlPlaneOptions {
    /// Kubernetes' defaults, with `api` and `elector` as given.
    pub fn new(api: ApiOptions, elector: Arc<dyn Elector>) -> ControlPlaneOptions {
        ControlPlaneOptions {
            api,
            registration: NodeRegistration::default(),
            elector,
            leader_lease_duration: std::time::Duration::from_secs(15),
            announce_leadership: true,
            workloads: Default::default(),
            cluster: Default::default(),
            endpoints: Default::default(),
            proxy: Default::default(),
        }
    }

    /// A single machine: the embedded store's trivial election.
    pub fn single_node(api: ApiOptions) -> ControlPlaneOptions {
        ControlPlaneOptions {
            announce_leadership: false,
            ..ControlPlaneOptions::new(api, Arc::new(LocalElector::new()))
        }
    }

    /// The node lifecycle controller's `--node-monitor-period` and grace period.
    pub fn set_node_monitoring(&mut self, period: std::time::Duration, grace: std::time::Duration) {
        self.cluster.node_lifecycle.node_monitor_period = period;
        self.cluster.node_lifecycle.node_monitor_grace_period = grace;
    }
}

/// The API server and the node, kept in step until dropped.
pub struct ControlPlane {
    pub api: ApiServer,
    pub node: Node,
    tasks: Vec<JoinHandle<()>>,
    _service_proxy: wasmpod_services::ServiceProxy,
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl ControlPlane {
    /// Starts the API over `storage` with `node` as its kubelet. `options.node_name` and
    /// `options.log_source` are filled in from the node.
    pub async fn start(
        node: Node,
        storage: Arc<dyn Storage>,
        options: ControlPlaneOptions,
    ) -> Result<ControlPlane, wasmpod_apiserver::ApiError> {
        let ControlPlaneOptions {
            api: mut api_options,
            registration,
            elector,
            leader_lease_duration,
            announce_leadership,
            workloads,
            cluster,
            endpoints,
            proxy,
        } = options;
        api_options.node_name = node.name().to_string();
        api_options.log_source = Some(Arc::new(NodeLogs::new(node.clone())));
        let api = ApiServer::new(storage, api_options);
        api.ensure_builtin_namespaces().await?;
        let registered =
            node_object::start(api.clone(), node.name().to_string(), registration).await?;
        // Node changes first: nothing the node does from here on is missed.
        let changes = node.store().subscribe();
        let mut tasks = vec![tokio::spawn(from_node::run(
            api.clone(),
            node.clone(),
            changes,
        ))];
        tasks.extend(to_node::start(api.clone(), node.clone()).await?);
        tasks.push(registered);
        // Every node proxies Services (kube-proxy); one node at a time runs the controllers.
        let proxy = wasmpod_services::ProxyOptions {
            node_name: node.name().to_string(),
            ..proxy
        };
        let service_proxy = wasmpod_services::ServiceProxy::start(api.clone(), proxy);
        tasks.push(tokio::spawn(leader::run(
            api.clone(),
            elector,
            node.name().to_string(),
            leader_lease_duration,
            announce_leadership,
            move |api| -> leader::Running {
                Box::new((
                    wasmpod_controllers::start(api.clone(), workloads.clone()),
                    wasmpod_cluster::start(api.clone(), cluster.clone()),
                    wasmpod_services::start_endpoint_controllers(api, endpoints.clone()),
                ))
            },
        )));
        Ok(ControlPlane {
            api,
            node,
            tasks,
            _service_proxy: service_proxy,
        })
    }

    /// Creates the objects of a manifest set through the API (pods reach the node through
    /// the bridge), in the order ConfigMaps, Secrets, pods, as `kubectl apply` of one file
    /// would. Stops at the first error.
    pub async fn create_all(
        &self,
        set: wasmpod_manifest::ManifestSet,
    ) -> Result<Vec<serde_json::Value>, wasmpod_apiserver::ApiError> {
        let mut created = Vec::new();
        let objects = set
            .config_maps
            .iter()
            .map(|c| {
                (
                    "configmaps",
                    c.metadata.namespace.clone(),
                    serde_json::to_value(c),
                )
            })
            .chain(set.secrets.iter().map(|s| {
                (
                    "secrets",
                    s.metadata.namespace.clone(),
                    serde_json::to_value(s),
                )
            }))
            .chain(set.pods.iter().map(|p| {
                (
                    "pods",
                    p.metadata.namespace.clone(),
                    serde_json::to_value(p),
                )
            }));
        for (resource, namespace, value) in objects {
            let value = value.map_err(|e| wasmpod_apiserver::ApiError::internal(e.to_string()))?;
            let namespace = namespace.unwrap_or_else(|| "default".into());
            created.push(self.api.create_object(resource, &namespace, value).await?);
        }
        Ok(created)
    }
}
