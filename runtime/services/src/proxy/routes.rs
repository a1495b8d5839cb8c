//! What the proxy should listen on (kube-proxy's service and endpoints change trackers,
//! reduced): for every TCP port of every Service with a ClusterIP, the ClusterIP listener
//! and (NodePort, LoadBalancer) the node port listener, each with the endpoints that may
//! take its traffic.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Endpoints, Service, ServicePort};
use k8s_openapi::api::discovery::v1::EndpointSlice;

use crate::endpointslice_controller::LABEL_SERVICE_NAME;
use crate::service;

/// Which address of a service a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListenerKind {
    /// `spec.clusterIP:port`.
    ClusterIp,
    /// `node_port_address:spec.ports[].nodePort`.
    NodePort,
}

/// One listener the proxy wants, with its backends.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DesiredRoute {
    pub address: SocketAddr,
    pub kind: ListenerKind,
    pub namespace: String,
    pub service: String,
    pub port_name: String,
    pub backends: Vec<SocketAddr>,
    /// `sessionAffinity: ClientIP` with its timeout.
    pub affinity: Option<Duration>,
}

/// `sessionAffinityConfig.clientIP.timeoutSeconds` default (3 hours).
const DEFAULT_AFFINITY_TIMEOUT: Duration = Duration::from_secs(10800);

/// One endpoint of a service port as kube-proxy sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Candidate {
    address: SocketAddr,
    node_name: String,
    ready: bool,
    serving: bool,
    terminating: bool,
}

pub(crate) struct Inputs<'a> {
    pub services: &'a [Service],
    pub slices: &'a [EndpointSlice],
    pub endpoints: &'a [Endpoints],
    pub node_name: &'a str,
    pub node_port_address: IpAddr,
}

pub(crate) fn desired_routes(inputs: &Inputs<'_>) -> Vec<DesiredRoute> {
    let mut slices_by_service: BTreeMap<(&str, &str), Vec<&EndpointSlice>> = BTreeMap::new();
    for slice in inputs.slices {
        let Some(name) = slice
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(LABEL_SERVICE_NAME))
        else {
            continue;
        };
        let namespace = slice.metadata.namespace.as_deref().unwrap_or("");
        slices_by_service
            .entry((namespace, name.as_str()))
            .or_default()
            .push(slice);
    }
    let mut routes: Vec<DesiredRoute> = Vec::new();
    for svc in inputs.services {
        let kind = service::service_type(svc);
        if kind == service::TYPE_EXTERNAL_NAME || !service::is_ip_set(svc) {
            continue;
        }
        let Ok(cluster_ip) = service::cluster_ip(svc).parse::<IpAddr>() else {
            continue;
        };
        let spec = svc.spec.as_ref();
        let affinity =
            (spec.and_then(|s| s.session_affinity.as_deref()) == Some("ClientIP")).then(|| {
                spec.and_then(|s| s.session_affinity_config.as_ref())
                    .and_then(|c| c.client_ip.as_ref())
                    .and_then(|c| c.timeout_seconds)
                    .map_or(DEFAULT_AFFINITY_TIMEOUT, |s| {
                        Duration::from_secs(s.max(0) as u64)
                    })
            });
        let internal_local =
            spec.and_then(|s| s.internal_traffic_policy.as_deref()) == Some("Local");
        let external_local =
            spec.and_then(|s| s.external_traffic_policy.as_deref()) == Some("Local");
        let key = (service::namespace(svc), service::name(svc));
        let slices = slices_by_service
            .get(&key)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let fallback = inputs.endpoints.iter().find(|e| {
            e.metadata.namespace.as_deref() == Some(key.0)
                && e.metadata.name.as_deref() == Some(key.1)
        });
        for port in service::ports(svc) {
            if service::port_protocol(port) != service::PROTOCOL_TCP {
                continue; // UDP and SCTP are not proxied.
            }
            let candidates = if slices.is_empty() {
                endpoints_candidates(fallback, port)
            } else {
                slice_candidates(slices, port)
            };
            let mut route = |address: SocketAddr, listener: ListenerKind, local: bool| {
                if routes.iter().any(|r| r.address == address) {
                    return; // First service wins a clash.
                }
                routes.push(DesiredRoute {
                    address,
                    kind: listener,
                    namespace: key.0.to_string(),
                    service: key.1.to_string(),
                    port_name: service::port_name(port).to_string(),
                    backends: usable(&candidates, local.then_some(inputs.node_name)),
                    affinity,
                });
            };
            let Ok(number) = u16::try_from(port.port) else {
                continue;
            };
            route(
                SocketAddr::new(cluster_ip, number),
                ListenerKind::ClusterIp,
                internal_local,
            );
            if kind == "NodePort" || kind == "LoadBalancer" {
                if let Some(node_port) = port.node_port.and_then(|p| u16::try_from(p).ok()) {
                    if node_port != 0 {
                        route(
                            SocketAddr::new(inputs.node_port_address, node_port),
                            ListenerKind::NodePort,
                            external_local,
                        );
                    }
                }
            }
        }
    }
    routes
}

/// Ready endpoints; failing those, the serving ones that are terminating (kube-proxy's
/// terminating-endpoints fallback). With `local`, only endpoints on that node.
fn usable(candidates: &[Candidate], local: Option<&str>) -> Vec<SocketAddr> {
    let here: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| local.is_none_or(|node| c.node_name == node))
        .collect();
    let mut chosen: Vec<SocketAddr> = here.iter().filter(|c| c.ready).map(|c| c.address).collect();
    if chosen.is_empty() {
        chosen = here
            .iter()
            .filter(|c| c.serving && c.terminating)
            .map(|c| c.address)
            .collect();
    }
    chosen.sort();
    chosen.dedup();
    chosen
}

fn slice_candidates(slices: &[&EndpointSlice], port: &ServicePort) -> Vec<Candidate> {
    let mut candidates = Vec::new();
    for slice in slices {
        let Some(number) = slice
            .ports
            .iter()
            .flatten()
            .find(|p| {
                p.name.as_deref().unwrap_or("") == service::port_name(port)
                    && p.protocol.as_deref().unwrap_or(service::PROTOCOL_TCP)
                        == service::PROTOCOL_TCP
            })
            .and_then(|p| p.port)
            .and_then(|p| u16::try_from(p).ok())
        else {
            continue;
        };
        for endpoint in &slice.endpoints {
            let Some(ip) = endpoint
                .addresses
                .first()
                .and_then(|a| a.parse::<IpAddr>().ok())
            else {
                continue;
            };
            let conditions = endpoint.conditions.clone().unwrap_or_default();
            // Unset conditions: ready and serving unless said otherwise (API docs).
            let ready = conditions.ready.unwrap_or(true);
            candidates.push(Candidate {
                address: SocketAddr::new(ip, number),
                node_name: endpoint.node_name.clone().unwrap_or_default(),
                ready,
                serving: conditions.serving.unwrap_or(ready),
                terminating: conditions.terminating.unwrap_or(false),
            });
        }
    }
    candidates
}

/// For services without EndpointSlices (hand-made Endpoints of a selectorless service):
/// the ready addresses of the Endpoints object.
fn endpoints_candidates(endpoints: Option<&Endpoints>, port: &ServicePort) -> Vec<Candidate> {
    let mut candidates = Vec::new();
    for subset in endpoints
        .and_then(|e| e.subsets.as_ref())
        .into_iter()
        .flatten()
    {
        let Some(number) = subset
            .ports
            .iter()
            .flatten()
            .find(|p| {
                p.name.as_deref().unwrap_or("") == service::port_name(port)
                    && p.protocol.as_deref().unwrap_or(service::PROTOCOL_TCP)
                        == service::PROTOCOL_TCP
            })
            .and_then(|p| u16::try_from(p.port).ok())
        else {
            continue;
        };
        for address in subset.addresses.iter().flatten() {
            let Ok(ip) = address.ip.parse::<IpAddr>() else {
                continue;
            };
            candidates.push(Candidate {
                address: SocketAddr::new(ip, number),
                node_name: address.node_name.clone().unwrap_or_default(),
                ready: true,
                serving: true,
                terminating: false,
            });
        }
    }
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(spec: serde_json::Value) -> Service {
        serde_json::from_value(json!({"metadata": {"name": "s", "namespace": "ns"}, "spec": spec}))
            .unwrap()
    }

    fn slice(endpoints: serde_json::Value) -> EndpointSlice {
        serde_json::from_value(json!({
            "metadata": {"name": "s-x", "namespace": "ns", "labels": {LABEL_SERVICE_NAME: "s"}},
            "addressType": "IPv4",
            "ports": [{"name": "", "port": 8080, "protocol": "TCP"}],
            "endpoints": endpoints
        }))
        .unwrap()
    }

    fn routes(services: &[Service], slices: &[EndpointSlice]) -> Vec<DesiredRoute> {
        desired_routes(&Inputs {
            services,
            slices,
            endpoints: &[],
            node_name: "n1",
            node_port_address: "0.0.0.0".parse().unwrap(),
        })
    }

    #[test]
    fn terminating_serving_endpoints_are_used_only_when_none_is_ready() {
        let svc = service(json!({"clusterIP": "127.0.128.5", "ports": [{"port": 80}]}));
        let terminating = json!({"addresses": ["127.1.0.1"], "conditions": {"ready": false, "serving": true, "terminating": true}});
        let ready = json!({"addresses": ["127.1.0.2"], "conditions": {"ready": true}});
        let only_terminating = routes(
            std::slice::from_ref(&svc),
            &[slice(json!([terminating.clone()]))],
        );
        assert_eq!(
            only_terminating[0].backends,
            ["127.1.0.1:8080".parse().unwrap()]
        );
        let both = routes(&[svc], &[slice(json!([terminating, ready]))]);
        assert_eq!(both[0].backends, ["127.1.0.2:8080".parse().unwrap()]);
    }

    #[test]
    fn local_policies_udp_ports_and_headless_services() {
        let svc = service(json!({
            "type": "NodePort",
            "clusterIP": "127.0.128.5",
            "externalTrafficPolicy": "Local",
            "ports": [{"port": 80, "nodePort": 30080}, {"name": "dns", "port": 53, "protocol": "UDP"}]
        }));
        let endpoints = json!([
            {"addresses": ["127.1.0.1"], "nodeName": "n1"},
            {"addresses": ["127.1.0.2"], "nodeName": "n2"}
        ]);
        let headless = serde_json::from_value::<Service>(json!({
            "metadata": {"name": "h", "namespace": "ns"},
            "spec": {"clusterIP": "None", "ports": [{"port": 80}]}
        }))
        .unwrap();
        let found = routes(&[svc, headless], &[slice(endpoints)]);
        assert_eq!(
            found.len(),
            2,
            "no UDP listener, nothing for the headless service"
        );
        assert_eq!(found[0].kind, ListenerKind::ClusterIp);
        assert_eq!(found[0].backends.len(), 2);
        assert_eq!(found[1].kind, ListenerKind::NodePort);
        assert_eq!(found[1].address, "0.0.0.0:30080".parse().unwrap());
        assert_eq!(
            found[1].backends,
            ["127.1.0.1:8080".parse().unwrap()],
            "Local: this node's only"
        );
    }
}
