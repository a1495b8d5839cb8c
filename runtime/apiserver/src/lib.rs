//! wasmpod's Kubernetes API server: the kube-apiserver 1.33 REST subset the real kubectl uses
//! (discovery, OpenAPI v3 stub, CRUD + patch + watch + Table for pods, events, configmaps,
//! secrets, namespaces, services, replicasets, deployments, replicationcontrollers, plus
//! `pods/status`, `pods/log` and `*/scale`), stored in [`wasmpod_storage`] with
//! kube-apiserver's etcd key layout.
//!
//! [`ApiServer::serve`] speaks plain HTTP (for loopback); [`ApiServer::serve_tls`] speaks HTTPS
//! with a self-signed [`ServingIdentity`], needed whenever a bearer token is configured because
//! client-go only sends tokens over TLS. [`kubeconfig`] writes the matching kubeconfig.
//!
//! The node bridge (the kubelet) works through the same object layer the HTTP handlers use:
//! [`ApiServer::create_object`], [`ApiServer::update_object`], [`ApiServer::update_status`],
//! [`ApiServer::delete_object`], plus [`object_key`] and [`decode_object`] for watching storage.

mod auth;
mod binding;
mod body;
mod discovery;
mod event_recorder;
mod handlers;
mod informer;
mod kubeconfig;
mod list;
mod logs;
mod negotiate;
mod objects;
mod openapi;
mod patch;
mod protobuf;
mod query;
mod resources;
mod routes;
mod scale;
mod server;
mod service_addresses;
mod status_errors;
mod tables;
mod tls;
mod ttl;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use wasmpod_storage::Storage;

pub use body::BoxBody;
pub use event_recorder::{EventKind, EventRecorder};
pub use informer::{Informer, ObjectList};
pub use kubeconfig::kubeconfig;
pub use logs::{LogOptions, LogSource, LogStream};
pub use objects::{decode_object, object_key, DeleteOptions, DeleteOutcome, Preconditions};
pub use resources::{Resource, RESOURCES};
pub use service_addresses::ServiceIpRange;
pub use status_errors::{ApiError, StatusCause, StatusDetails};
pub use tls::{load_or_create_token, ServingIdentity, TlsError};

/// Largest request body accepted (kube-apiserver's 3 MiB JSON limit).
pub const MAX_REQUEST_BODY_BYTES: usize = 3 * 1024 * 1024;

/// How the server behaves; see the field docs for the defaults.
#[derive(Clone)]
pub struct ApiOptions {
    /// When set, every request needs `Authorization: Bearer <token>`.
    pub bearer_token: Option<String>,
    /// Where `pods/log` reads container logs (the kubelet's role); `None` answers like an API
    /// server that cannot reach the kubelet.
    pub log_source: Option<Arc<dyn LogSource>>,
    /// The node's name (used in messages about the kubelet).
    pub node_name: String,
    /// The minor version served at `/version`; the kubectl dispatcher picks `kubectl.1.<minor>`.
    pub minor_version: u32,
    /// Events expire this long after their creation (kube-apiserver's `--event-ttl`, 1h).
    pub event_ttl: Duration,
    /// How often expired events are swept.
    pub event_sweep_interval: Duration,
    /// How often a watch with `allowWatchBookmarks=true` gets a BOOKMARK.
    pub bookmark_interval: Duration,
    /// Watch length when the client gives no `timeoutSeconds` (kube: 30–60 min).
    pub default_watch_timeout: Duration,
    /// Where Service ClusterIPs come from (`--service-cluster-ip-range`).
    pub service_cluster_ip_range: ServiceIpRange,
    /// The DefaultTolerationSeconds admission plugin's `tolerationSeconds` for the
    /// not-ready/unreachable NoExecute taints (kube-apiserver's
    /// `--default-unreachable-toleration-seconds`, 300).
    pub default_toleration_seconds: i64,
    /// Where NodePorts come from (`--service-node-port-range`, 30000-32767).
    pub service_node_port_range: std::ops::RangeInclusive<u16>,
}

impl Default for ApiOptions {
    fn default() -> Self {
        ApiOptions {
            bearer_token: None,
            log_source: None,
            node_name: "wasmpod".into(),
            minor_version: 33,
            event_ttl: Duration::from_secs(3600),
            event_sweep_interval: Duration::from_secs(60),
            bookmark_interval: Duration::from_secs(60),
            default_watch_timeout: Duration::from_secs(1800),
            service_cluster_ip_range: ServiceIpRange::default(),
            service_node_port_range: 30000..=32767,
            default_toleration_seconds: wasmpod_manifest::DEFAULT_TOLERATION_SECONDS,
        }
    }
}

impl std::fmt::Debug for ApiOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiOptions")
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<redacted>"),
            )
            .field("log_source", &self.log_source.is_some())
            .field("node_name", &self.node_name)
            .field("minor_version", &self.minor_version)
            .field("event_ttl", &self.event_ttl)
            .finish()
    }
}

/// The API server; a cheap-to-clone handle.
#[derive(Clone)]
pub struct ApiServer {
    inner: Arc<Inner>,
}

struct Inner {
    storage: Arc<dyn Storage>,
    options: ApiOptions,
    /// Set once the built-in namespaces exist.
    namespaces_ready: tokio::sync::OnceCell<()>,
}

impl ApiServer {
    /// A server over `storage`. Inside a tokio runtime this also starts the event-TTL sweeper
    /// (it stops when the last handle is dropped). The built-in namespaces are created on
    /// first use (see [`ApiServer::ensure_builtin_namespaces`]).
    pub fn new(storage: Arc<dyn Storage>, options: ApiOptions) -> ApiServer {
        let server = ApiServer {
            inner: Arc::new(Inner {
                storage,
                options,
                namespaces_ready: tokio::sync::OnceCell::new(),
            }),
        };
        ttl::spawn_event_sweeper(&server);
        server
    }

    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.inner.storage
    }

    pub fn options(&self) -> &ApiOptions {
        &self.inner.options
    }
}
