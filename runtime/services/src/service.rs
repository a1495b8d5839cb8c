//! Reading Services the way the controllers and kube-proxy do, with the API server's
//! defaults applied where a stored object may lack them (type ClusterIP, protocol TCP,
//! targetPort = port).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Service, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

pub(crate) const CLUSTER_IP_NONE: &str = "None";
pub(crate) const TYPE_EXTERNAL_NAME: &str = "ExternalName";
pub(crate) const PROTOCOL_TCP: &str = "TCP";
/// `v1.IsHeadlessService`.
pub(crate) const LABEL_HEADLESS: &str = "service.kubernetes.io/headless";

pub(crate) fn name(service: &Service) -> &str {
    service.metadata.name.as_deref().unwrap_or("")
}

pub(crate) fn namespace(service: &Service) -> &str {
    service.metadata.namespace.as_deref().unwrap_or("")
}

pub(crate) fn uid(service: &Service) -> &str {
    service.metadata.uid.as_deref().unwrap_or("")
}

pub(crate) fn cluster_ip(service: &Service) -> &str {
    service
        .spec
        .as_ref()
        .and_then(|s| s.cluster_ip.as_deref())
        .unwrap_or("")
}

/// `helper.IsServiceIPSet`: a ClusterIP that is neither empty nor "None".
pub(crate) fn is_ip_set(service: &Service) -> bool {
    let ip = cluster_ip(service);
    !ip.is_empty() && ip != CLUSTER_IP_NONE
}

pub(crate) fn service_type(service: &Service) -> &str {
    service
        .spec
        .as_ref()
        .and_then(|s| s.type_.as_deref())
        .unwrap_or("ClusterIP")
}

pub(crate) fn ports(service: &Service) -> &[ServicePort] {
    service
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_deref())
        .unwrap_or(&[])
}

/// The selector the controllers act on. An empty selector counts as none: etcd's
/// protobuf encoding turns `{}` into nil, so upstream controllers never see it.
pub(crate) fn selector(service: &Service) -> Option<&BTreeMap<String, String>> {
    service
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .filter(|selector| !selector.is_empty())
}

pub(crate) fn publish_not_ready_addresses(service: &Service) -> bool {
    service
        .spec
        .as_ref()
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false)
}

pub(crate) fn labels(service: &Service) -> BTreeMap<String, String> {
    service.metadata.labels.clone().unwrap_or_default()
}

pub(crate) fn port_name(port: &ServicePort) -> &str {
    port.name.as_deref().unwrap_or("")
}

pub(crate) fn port_protocol(port: &ServicePort) -> &str {
    port.protocol.as_deref().unwrap_or(PROTOCOL_TCP)
}

/// The port's targetPort, defaulted to the port itself as the API server does.
pub(crate) fn target_port(port: &ServicePort) -> IntOrString {
    match &port.target_port {
        None | Some(IntOrString::Int(0)) => IntOrString::Int(port.port),
        Some(IntOrString::String(name)) if name.is_empty() => IntOrString::Int(port.port),
        Some(target) => target.clone(),
    }
}

/// Whether `labels` satisfy the equality-based `selector`.
pub(crate) fn selects(
    selector: &BTreeMap<String, String>,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    selector
        .iter()
        .all(|(key, value)| labels.and_then(|l| l.get(key)) == Some(value))
}

/// The Service as an API object (for event records).
pub(crate) fn as_object(service: &Service) -> serde_json::Value {
    let mut object = serde_json::to_value(service).unwrap_or_default();
    object["apiVersion"] = "v1".into();
    object["kind"] = "Service".into();
    object
}
