//! Service defaulting and address allocation at creation (kube-apiserver's service REST
//! storage): a ClusterIP from `--service-cluster-ip-range` and node ports from
//! `--service-node-port-range`, each chosen at random among the free ones, as upstream's
//! bitmap allocators do (random choice also keeps two clusters on one host apart).

use std::collections::HashSet;
use std::net::Ipv4Addr;

use serde_json::{json, Value};

use crate::status_errors::ApiError;
use crate::ApiServer;

/// `--service-cluster-ip-range`: an IPv4 network. wasmpod's default, 127.0.128.0/17, is on
/// loopback (every host routes 127/8 to `lo`) and apart from pod IPs (127.1.0.1 upward).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceIpRange {
    pub network: Ipv4Addr,
    pub prefix_len: u8,
}

impl Default for ServiceIpRange {
    fn default() -> Self {
        ServiceIpRange {
            network: Ipv4Addr::new(127, 0, 128, 0),
            prefix_len: 17,
        }
    }
}

impl std::str::FromStr for ServiceIpRange {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let (address, prefix) = text
            .split_once('/')
            .ok_or_else(|| format!("{text:?} is not a CIDR (address/prefix)"))?;
        let network: Ipv4Addr = address
            .parse()
            .map_err(|e| format!("{text:?}: bad address: {e}"))?;
        let prefix_len: u8 = prefix
            .parse()
            .ok()
            .filter(|p| (8..=30).contains(p))
            .ok_or_else(|| format!("{text:?}: the prefix must be 8..=30"))?;
        let mask = u32::MAX << (32 - prefix_len);
        Ok(ServiceIpRange {
            network: Ipv4Addr::from(u32::from(network) & mask),
            prefix_len,
        })
    }
}

impl ServiceIpRange {
    fn size(&self) -> u32 {
        1u32 << (32 - self.prefix_len)
    }

    /// Whether `ip` is an allocatable address of the range (not network or broadcast).
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let offset = u32::from(ip).wrapping_sub(u32::from(self.network));
        offset > 0 && offset < self.size() - 1
    }
}

/// `SetDefaults_Service` for the fields wasmpod uses.
fn apply_defaults(service: &mut Value) {
    let spec = &mut service["spec"];
    if !spec.is_object() {
        *spec = json!({});
    }
    if spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty()
    {
        spec["type"] = json!("ClusterIP");
    }
    let service_type = spec["type"].as_str().unwrap_or("ClusterIP").to_string();
    if spec.get("sessionAffinity").is_none() {
        spec["sessionAffinity"] = json!("None");
    }
    if service_type != "ExternalName" {
        if spec.get("internalTrafficPolicy").is_none() {
            spec["internalTrafficPolicy"] = json!("Cluster");
        }
        if spec.get("ipFamilies").is_none() {
            spec["ipFamilies"] = json!(["IPv4"]);
        }
        if spec.get("ipFamilyPolicy").is_none() {
            spec["ipFamilyPolicy"] = json!("SingleStack");
        }
    }
    if (service_type == "NodePort" || service_type == "LoadBalancer")
        && spec.get("externalTrafficPolicy").is_none()
    {
        spec["externalTrafficPolicy"] = json!("Cluster");
    }
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for port in ports {
            if port.get("protocol").is_none() {
                port["protocol"] = json!("TCP");
            }
            if port.get("targetPort").is_none() {
                port["targetPort"] = port.get("port").cloned().unwrap_or(Value::Null);
            }
        }
    }
}

impl ApiServer {
    /// Defaults a new Service and allocates its ClusterIP and node ports.
    pub(crate) async fn prepare_service(&self, mut service: Value) -> Result<Value, ApiError> {
        apply_defaults(&mut service);
        let existing = self.list_objects("services", None).await?.items;
        let spec = &mut service["spec"];
        let service_type = spec["type"].as_str().unwrap_or("ClusterIP").to_string();
        if service_type == "ExternalName" {
            return Ok(service);
        }
        let range = self.options().service_cluster_ip_range;
        let requested = spec
            .get("clusterIP")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let cluster_ip = if requested == "None" {
            requested
        } else {
            let taken: HashSet<Ipv4Addr> = existing
                .iter()
                .filter_map(|s| s.pointer("/spec/clusterIP")?.as_str()?.parse().ok())
                .collect();
            if requested.is_empty() {
                random_free_ip(range, &taken)
                    .ok_or_else(|| {
                        ApiError::internal(
                            "failed to allocate a serviceIP: range is full".to_string(),
                        )
                    })?
                    .to_string()
            } else {
                let ip: Ipv4Addr = requested.parse().map_err(|_| {
                    invalid(
                        &service_name(&service),
                        "spec.clusterIP",
                        &requested,
                        "must be a valid IP address",
                    )
                })?;
                if taken.contains(&ip) {
                    return Err(invalid(
                        &service_name(&service),
                        "spec.clusterIPs",
                        &requested,
                        "failed to allocate IP: provided IP is already allocated",
                    ));
                }
                requested
            }
        };
        let spec = &mut service["spec"];
        spec["clusterIP"] = json!(cluster_ip);
        spec["clusterIPs"] = json!([cluster_ip]);
        if service_type == "NodePort" || service_type == "LoadBalancer" {
            let mut taken: HashSet<u16> = existing
                .iter()
                .flat_map(|s| {
                    s.pointer("/spec/ports")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default()
                })
                .filter_map(|p| p.get("nodePort")?.as_u64())
                .filter_map(|p| u16::try_from(p).ok())
                .collect();
            let node_ports = self.options().service_node_port_range.clone();
            let name = service_name(&service);
            if let Some(ports) = service["spec"]["ports"].as_array_mut() {
                for port in ports {
                    let requested = port.get("nodePort").and_then(Value::as_u64).unwrap_or(0);
                    if requested == 0 {
                        let chosen = random_free_port(&node_ports, &taken).ok_or_else(|| {
                            ApiError::internal("failed to allocate a nodePort: range is full")
                        })?;
                        taken.insert(chosen);
                        port["nodePort"] = json!(chosen);
                    } else {
                        let requested = u16::try_from(requested).unwrap_or(0);
                        if !node_ports.contains(&requested) {
                            return Err(invalid(
                                &name,
                                "spec.ports[0].nodePort",
                                &requested.to_string(),
                                &format!(
                                    "provided port is not in the valid range. The range of valid ports is {}-{}",
                                    node_ports.start(),
                                    node_ports.end()
                                ),
                            ));
                        }
                        if !taken.insert(requested) {
                            return Err(invalid(
                                &name,
                                "spec.ports[0].nodePort",
                                &requested.to_string(),
                                "provided port is already allocated",
                            ));
                        }
                    }
                }
            }
        }
        Ok(service)
    }
}

fn service_name(service: &Value) -> String {
    crate::objects::meta_str(service, "name").to_string()
}

fn invalid(name: &str, field: &str, value: &str, detail: &str) -> ApiError {
    let services = crate::resources::lookup("services").expect("services is registered");
    ApiError::invalid(
        services,
        name,
        &[wasmpod_manifest::FieldError::invalid(field, value, detail)],
    )
}

fn random_u32() -> u32 {
    let bytes = *uuid::Uuid::new_v4().as_bytes();
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

fn random_free_ip(range: ServiceIpRange, taken: &HashSet<Ipv4Addr>) -> Option<Ipv4Addr> {
    let usable = range.size().checked_sub(2)?;
    let start = random_u32() % usable.max(1);
    (0..usable)
        .map(|i| Ipv4Addr::from(u32::from(range.network) + 1 + (start + i) % usable))
        .find(|ip| !taken.contains(ip))
}

fn random_free_port(range: &std::ops::RangeInclusive<u16>, taken: &HashSet<u16>) -> Option<u16> {
    let size = u32::from(range.end() - range.start()) + 1;
    let start = random_u32() % size;
    (0..size)
        .map(|i| range.start() + ((start + i) % size) as u16)
        .find(|port| !taken.contains(port))
}
