//! The service environment variables the kubelet gives every container
//! (`pkg/kubelet/envvars/envvars.go` `FromServices`, `kubelet_pods.go`
//! `getServiceEnvVarMap`).
//!
//! Upstream collects the variables in a Go map, so containers see them in no defined order;
//! here services come in name order and each service's variables in `FromServices` order.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{EnvVar, Service};

use crate::service;

/// The namespace and name of the API server's service, whose variables every pod gets.
const MASTER_SERVICE_NAMESPACE: &str = "default";
const MASTER_SERVICE: &str = "kubernetes";

/// The variables for a pod in `namespace` with `enableServiceLinks` left at its default
/// (true): every service of its namespace that has a ClusterIP, plus `default/kubernetes`.
pub fn service_env(services: &[Service], namespace: &str) -> Vec<EnvVar> {
    service_env_with_links(services, namespace, true)
}

/// [`service_env`] for a pod's `enableServiceLinks`: when false only the
/// `default/kubernetes` service's variables remain.
pub fn service_env_with_links(
    services: &[Service],
    namespace: &str,
    enable_service_links: bool,
) -> Vec<EnvVar> {
    // By service name: a service of the pod's own namespace shadows `default/kubernetes`.
    let mut chosen: BTreeMap<&str, &Service> = BTreeMap::new();
    let mut master: Option<&Service> = None;
    for svc in services {
        if !service::is_ip_set(svc) {
            continue;
        }
        let name = service::name(svc);
        if service::namespace(svc) == MASTER_SERVICE_NAMESPACE && name == MASTER_SERVICE {
            master = Some(svc);
        } else if service::namespace(svc) == namespace && enable_service_links {
            chosen.insert(name, svc);
        }
    }
    if let Some(master) = master {
        chosen.entry(MASTER_SERVICE).or_insert(master);
    }
    let ordered: Vec<Service> = chosen.into_values().cloned().collect();
    // The kubelet keeps them in a map: a repeated name keeps its last value.
    let mut result: Vec<EnvVar> = Vec::new();
    for var in env_from_services(&ordered) {
        match result.iter_mut().find(|v| v.name == var.name) {
            Some(existing) => existing.value = var.value,
            None => result.push(var),
        }
    }
    result
}

/// `FromServices`: the variables of each service with a ClusterIP, in the given order.
pub fn env_from_services(services: &[Service]) -> Vec<EnvVar> {
    let mut result = Vec::new();
    for svc in services {
        if !service::is_ip_set(svc) {
            continue;
        }
        let ports = service::ports(svc);
        let Some(first) = ports.first() else { continue };
        let prefix = env_name(service::name(svc));
        let cluster_ip = service::cluster_ip(svc);
        result.push(var(
            format!("{prefix}_SERVICE_HOST"),
            cluster_ip.to_string(),
        ));
        let port_var = format!("{prefix}_SERVICE_PORT");
        result.push(var(port_var.clone(), first.port.to_string()));
        for port in ports {
            if let Some(name) = port.name.as_deref().filter(|n| !n.is_empty()) {
                result.push(var(
                    format!("{port_var}_{}", env_name(name)),
                    port.port.to_string(),
                ));
            }
        }
        result.extend(link_variables(&prefix, cluster_ip, svc));
    }
    result
}

/// `makeEnvVariableName`.
fn env_name(name: &str) -> String {
    name.replace('-', "_").to_uppercase()
}

fn var(name: String, value: String) -> EnvVar {
    EnvVar {
        name,
        value: Some(value),
        value_from: None,
    }
}

/// `makeLinkVariables`: the Docker-links style variables.
fn link_variables(prefix: &str, cluster_ip: &str, svc: &Service) -> Vec<EnvVar> {
    // net.JoinHostPort: an IPv6 host goes in brackets.
    let host = if cluster_ip.contains(':') {
        format!("[{cluster_ip}]")
    } else {
        cluster_ip.to_string()
    };
    let mut all = Vec::new();
    for (index, port) in service::ports(svc).iter().enumerate() {
        let protocol = port
            .protocol
            .as_deref()
            .filter(|p| !p.is_empty())
            .unwrap_or(service::PROTOCOL_TCP);
        let lower = protocol.to_lowercase();
        let url = format!("{lower}://{host}:{}", port.port);
        if index == 0 {
            // Docker special-cases the first port.
            all.push(var(format!("{prefix}_PORT"), url.clone()));
        }
        let port_prefix = format!("{prefix}_PORT_{}_{}", port.port, protocol.to_uppercase());
        all.push(var(port_prefix.clone(), url));
        all.push(var(format!("{port_prefix}_PROTO"), lower));
        all.push(var(format!("{port_prefix}_PORT"), port.port.to_string()));
        all.push(var(format!("{port_prefix}_ADDR"), cluster_ip.to_string()));
    }
    all
}
