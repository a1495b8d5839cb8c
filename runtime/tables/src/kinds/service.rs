//! `printService` (External-IP computed with `wide = true`, so never clipped).

use std::collections::BTreeSet;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec, ServiceStatus};
use serde::Deserialize;
use serde_json::{json, Value};

use wasmpod_apimachinery::format_labels;

use super::Row;
use crate::format::{age, text};

pub fn row(object: &Value, now: Timestamp) -> Result<Row, serde_json::Error> {
    let service = Service::deserialize(object)?;
    let spec = service.spec.unwrap_or_default();
    let status = service.status.unwrap_or_default();
    // API defaulting: an absent type is ClusterIP.
    let type_ = spec.type_.as_deref().unwrap_or("ClusterIP");
    let cluster_ip = spec
        .cluster_ips
        .as_ref()
        .and_then(|ips| ips.first())
        .or(spec.cluster_ip.as_ref())
        .filter(|ip| !ip.is_empty())
        .cloned()
        .unwrap_or_else(|| "<none>".to_string());
    let ports = port_string(spec.ports.as_deref().unwrap_or_default());
    Ok(Row::cells(vec![
        json!(text(service.metadata.name.as_ref())),
        json!(type_),
        json!(cluster_ip),
        json!(external_ip(type_, &spec, &status)),
        json!(if ports.is_empty() {
            "<none>".to_string()
        } else {
            ports
        }),
        json!(age(service.metadata.creation_timestamp.as_ref(), now)),
        json!(format_labels(object.pointer("/spec/selector"))),
    ]))
}

/// `getServiceExternalIP`.
fn external_ip(type_: &str, spec: &ServiceSpec, status: &ServiceStatus) -> String {
    let external_ips = spec.external_ips.clone().unwrap_or_default();
    match type_ {
        "ClusterIP" | "NodePort" => {
            if external_ips.is_empty() {
                "<none>".to_string()
            } else {
                external_ips.join(",")
            }
        }
        "LoadBalancer" => {
            let lb = load_balancer_addresses(status);
            if !external_ips.is_empty() {
                let mut all = lb;
                all.extend(external_ips);
                return all.join(",");
            }
            if lb.is_empty() {
                "<pending>".to_string()
            } else {
                lb.join(",")
            }
        }
        "ExternalName" => text(spec.external_name.as_ref()).to_string(),
        _ => "<unknown>".to_string(),
    }
}

/// `loadBalancerStatusStringer` (wide): distinct ingress IPs, else hostnames, sorted.
fn load_balancer_addresses(status: &ServiceStatus) -> Vec<String> {
    let ingress = status
        .load_balancer
        .as_ref()
        .and_then(|lb| lb.ingress.clone())
        .unwrap_or_default();
    let addresses: BTreeSet<String> = ingress
        .into_iter()
        .filter_map(|i| {
            i.ip.filter(|ip| !ip.is_empty())
                .or(i.hostname.filter(|h| !h.is_empty()))
        })
        .collect();
    addresses.into_iter().collect()
}

/// `makePortString`: `port[:nodePort]/protocol`, comma separated.
fn port_string(ports: &[ServicePort]) -> String {
    ports
        .iter()
        .map(|p| {
            // API defaulting: an absent protocol is TCP.
            let protocol = p.protocol.as_deref().unwrap_or("TCP");
            match p.node_port.filter(|n| *n > 0) {
                Some(node_port) => format!("{}:{node_port}/{protocol}", p.port),
                None => format!("{}/{protocol}", p.port),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}
