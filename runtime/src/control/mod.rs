//! The node as a kubelet of wasmpod's API server: the control plane (`wasmpod-apiserver` over
//! `wasmpod-storage`) holds the desired state, and this bridge runs what it holds.
//!
//! - API → node ([`to_node`]): pods without a node are bound here (single-node scheduling);
//!   pods bound here are run (`Node::adopt`, so a restarted `wasmpod serve` continues restart
//!   counts); a `deletionTimestamp` becomes a graceful stop; ConfigMaps and Secrets are
//!   mirrored for env and volumes.
//! - node → API ([`from_node`]): every pod status change is written to `pods/status`, every
//!   event to `events`, and once a deleted pod's containers are gone the kubelet's final
//!   delete (grace 0, uid precondition) removes it.
//! - `pods/log` is answered from the node's log buffers ([`logs`]).

mod from_node;
mod logs;
mod to_node;

use std::sync::Arc;

use tokio::task::JoinHandle;
use wasmpod_apiserver::{ApiOptions, ApiServer};
use wasmpod_storage::Storage;

use crate::Node;

pub use logs::NodeLogs;

/// The API server and the node, kept in step until dropped.
pub struct ControlPlane {
    pub api: ApiServer,
    pub node: Node,
    tasks: Vec<JoinHandle<()>>,
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
        mut options: ApiOptions,
    ) -> Result<ControlPlane, wasmpod_apiserver::ApiError> {
        options.node_name = node.name().to_string();
        options.log_source = Some(Arc::new(NodeLogs::new(node.clone())));
        let api = ApiServer::new(storage, options);
        api.ensure_builtin_namespaces().await?;
        // Node changes first: nothing the node does from here on is missed.
        let changes = node.store().subscribe();
        let mut tasks = vec![tokio::spawn(from_node::run(
            api.clone(),
            node.clone(),
            changes,
        ))];
        tasks.extend(to_node::start(api.clone(), node.clone()).await?);
        Ok(ControlPlane { api, node, tasks })
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
