//! Pod predicates shared by the Endpoints and EndpointSlice controllers
//! (`k8s.io/endpointslice/util`, `pkg/api/v1/pod`).

use std::net::Ipv4Addr;

use k8s_openapi::api::core::v1::{Container, Pod, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::service;

pub(crate) fn name(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or("")
}

pub(crate) fn namespace(pod: &Pod) -> &str {
    pod.metadata.namespace.as_deref().unwrap_or("")
}

pub(crate) fn node_name(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("")
}

pub(crate) fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

/// `podutil.IsPodReady`: the `Ready` condition is `True` (readiness probes and the node
/// controller move it).
pub(crate) fn is_ready(pod: &Pod) -> bool {
    ready_condition(pod).is_some_and(|c| c.status == "True")
}

fn ready_condition(pod: &Pod) -> Option<&k8s_openapi::api::core::v1::PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
}

/// When the pod last changed in a way that matters to endpoints (`getPodTriggerTime`):
/// its Ready condition's lastTransitionTime.
pub(crate) fn trigger_time(pod: &Pod) -> Option<jiff::Timestamp> {
    ready_condition(pod)?
        .last_transition_time
        .as_ref()
        .map(|time| time.0)
}

fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded") | Some("Failed")
    )
}

/// `ShouldPodBeInEndpoints`: not terminal, has an IP, and (unless `include_terminating`)
/// not being deleted.
pub(crate) fn should_be_in_endpoints(pod: &Pod, include_terminating: bool) -> bool {
    if is_terminal(pod) || ipv4(pod).is_none() {
        return false;
    }
    include_terminating || !is_terminating(pod)
}

/// The pod's IPv4 address (`status.podIPs`, falling back to `status.podIP`).
pub(crate) fn ipv4(pod: &Pod) -> Option<Ipv4Addr> {
    let status = pod.status.as_ref()?;
    let listed = status
        .pod_ips
        .iter()
        .flatten()
        .map(|ip| ip.ip.as_str())
        .chain(status.pod_ip.as_deref());
    listed.filter_map(|ip| ip.parse::<Ipv4Addr>().ok()).next()
}

/// `ShouldSetHostname`: the pod asked for a hostname under this service's subdomain.
pub(crate) fn hostname_for(pod: &Pod, svc: &k8s_openapi::api::core::v1::Service) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    let hostname = spec.hostname.as_deref().filter(|h| !h.is_empty())?;
    (spec.subdomain.as_deref() == Some(service::name(svc))
        && namespace(pod) == service::namespace(svc))
    .then(|| hostname.to_string())
}

/// `podutil.FindPort`: a numeric targetPort as is; a named one looked up among the
/// containers' (and restartable init containers') ports of the same protocol.
pub(crate) fn find_port(pod: &Pod, port: &ServicePort) -> Option<i32> {
    match service::target_port(port) {
        IntOrString::Int(number) => Some(number),
        IntOrString::String(name) => {
            let spec = pod.spec.as_ref()?;
            let sidecars = spec
                .init_containers
                .iter()
                .flatten()
                .filter(|c| c.restart_policy.as_deref() == Some("Always"));
            let protocol = service::port_protocol(port);
            spec.containers
                .iter()
                .chain(sidecars)
                .find_map(|container| named_port(container, &name, protocol))
        }
    }
}

fn named_port(container: &Container, name: &str, protocol: &str) -> Option<i32> {
    container
        .ports
        .iter()
        .flatten()
        .find(|p| {
            p.name.as_deref() == Some(name)
                && p.protocol.as_deref().unwrap_or(service::PROTOCOL_TCP) == protocol
        })
        .map(|p| p.container_port)
}
