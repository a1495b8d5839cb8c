//! Services for wasmpod:
//! - the Endpoints and EndpointSlice controllers ([`start_endpoint_controllers`]), which
//!   keep each selector Service's `Endpoints` and `EndpointSlice`s listing its pods;
//! - the per-node service proxy ([`ServiceProxy`], kube-proxy's role) that serves
//!   ClusterIPs and node ports on loopback by forwarding to ready endpoints;
//! - the kubelet's service environment variables ([`service_env`]).

mod controllers;
mod endpoints_controller;
mod endpointslice_controller;
mod env;
mod pods;
mod proxy;
mod repack;
mod service;
mod task;
mod trigger_time;

pub use controllers::{start_endpoint_controllers, EndpointControllerOptions, EndpointControllers};
pub use endpointslice_controller::{CONTROLLER_NAME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME};
pub use env::{env_from_services, service_env, service_env_with_links};
pub use proxy::{ListenerInfo, ListenerKind, ListenerState, ProxyOptions, ServiceProxy};

/// The label the Endpoints controller puts on the Endpoints it manages
/// (`endpoints.kubernetes.io/managed-by: endpoint-controller`).
pub const ENDPOINTS_LABEL_MANAGED_BY: &str = endpoints_controller::LABEL_MANAGED_BY;
