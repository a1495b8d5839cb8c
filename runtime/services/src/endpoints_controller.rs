//! The Endpoints controller (`pkg/controller/endpoint`, component `endpoint-controller`):
//! one `Endpoints` object per Service with a selector, named after it, listing the
//! selected pods' addresses (ready ones under `addresses`, the rest under
//! `notReadyAddresses`) with each service port resolved against the pod.

use std::collections::{BTreeMap, HashMap, HashSet};

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Pod, Service,
};
use serde_json::Value;
use wasmpod_apiserver::{
    ApiError, ApiServer, DeleteOptions, EventKind, EventRecorder, Preconditions,
};

use crate::repack::{repack, Contribution};
use crate::trigger_time::{format_rfc3339_nano, TriggerTimeTracker, ANNOTATION as TRIGGER_TIME};
use crate::{pods, service};

pub(crate) const COMPONENT: &str = "endpoint-controller";
/// `endpoints.kubernetes.io/managed-by` (1.33): marks the Endpoints this controller owns,
/// so leftovers can be told apart from hand-made Endpoints.
pub(crate) const LABEL_MANAGED_BY: &str = "endpoints.kubernetes.io/managed-by";
/// `v1.EndpointsOverCapacity`.
const ANNOTATION_OVER_CAPACITY: &str = "endpoints.kubernetes.io/over-capacity";
/// `maxCapacity`: addresses one Endpoints object holds before it is truncated.
const MAX_CAPACITY: usize = 1000;

/// The addresses and ports the Endpoints of `svc` should list (`syncService`).
pub(crate) fn desired_subsets(svc: &Service, selected: &[&Pod]) -> Vec<EndpointSubset> {
    let tolerate_unready = service::publish_not_ready_addresses(svc);
    let headless = service::cluster_ip(svc) == service::CLUSTER_IP_NONE;
    let mut contributions = Vec::new();
    for pod in selected {
        if !pods::should_be_in_endpoints(pod, tolerate_unready) {
            continue;
        }
        let Some(ip) = pods::ipv4(pod) else { continue };
        let address = EndpointAddress {
            ip: ip.to_string(),
            hostname: pods::hostname_for(pod, svc),
            node_name: Some(pods::node_name(pod).to_string()),
            target_ref: Some(pod_reference(pod)),
        };
        let ready = tolerate_unready || pods::is_ready(pod);
        let ports = service::ports(svc);
        if ports.is_empty() {
            // Only a headless service may have no ports.
            if headless {
                contributions.push(Contribution {
                    address,
                    port: None,
                    ready,
                });
            }
            continue;
        }
        for port in ports {
            let Some(number) = pods::find_port(pod, port) else {
                continue;
            };
            contributions.push(Contribution {
                address: address.clone(),
                port: Some(EndpointPort {
                    name: Some(service::port_name(port).to_string()),
                    port: number,
                    protocol: Some(service::port_protocol(port).to_string()),
                    app_protocol: port.app_protocol.clone(),
                }),
                ready,
            });
        }
    }
    repack(contributions)
}

pub(crate) fn pod_reference(pod: &Pod) -> ObjectReference {
    ObjectReference {
        kind: Some("Pod".into()),
        namespace: Some(pods::namespace(pod).to_string()),
        name: Some(pods::name(pod).to_string()),
        uid: pod.metadata.uid.clone(),
        ..Default::default()
    }
}

/// The service's labels plus the headless marker and the managed-by label.
pub(crate) fn desired_labels(svc: &Service) -> BTreeMap<String, String> {
    let mut labels = service::labels(svc);
    if service::is_ip_set(svc) {
        labels.remove(service::LABEL_HEADLESS);
    } else {
        labels.insert(service::LABEL_HEADLESS.into(), String::new());
    }
    labels.insert(LABEL_MANAGED_BY.into(), COMPONENT.into());
    labels
}

/// Subsets as stored, for comparison: `resourceVersion` of target refs ignored.
fn comparable(subsets: &Option<Vec<EndpointSubset>>) -> Vec<EndpointSubset> {
    let mut subsets = subsets.clone().unwrap_or_default();
    for subset in &mut subsets {
        for address in subset
            .addresses
            .iter_mut()
            .flatten()
            .chain(subset.not_ready_addresses.iter_mut().flatten())
        {
            if let Some(reference) = &mut address.target_ref {
                reference.resource_version = None;
            }
        }
    }
    subsets
}

/// `truncateEndpoints`: keep at most [`MAX_CAPACITY`] addresses, ready ones first, spread
/// over the subsets in proportion. Returns whether anything was cut.
fn truncate(subsets: &mut [EndpointSubset]) -> bool {
    let count = |list: &Option<Vec<EndpointAddress>>| list.as_ref().map_or(0, Vec::len);
    let total_ready: usize = subsets.iter().map(|s| count(&s.addresses)).sum();
    let total_not_ready: usize = subsets.iter().map(|s| count(&s.not_ready_addresses)).sum();
    if total_ready + total_not_ready <= MAX_CAPACITY {
        return false;
    }
    let truncate_ready = total_ready > MAX_CAPACITY;
    let (max, total) = if truncate_ready {
        (MAX_CAPACITY, total_ready)
    } else {
        (MAX_CAPACITY - total_ready, total_not_ready)
    };
    let mut can_be_added = max;
    for subset in subsets.iter_mut() {
        let in_subset = if truncate_ready {
            count(&subset.addresses)
        } else {
            count(&subset.not_ready_addresses)
        };
        let share = ((in_subset as f64 / total as f64) * max as f64).ceil() as usize;
        let to_be_added = share.min(can_be_added);
        let list = if truncate_ready {
            subset.not_ready_addresses = None;
            &mut subset.addresses
        } else {
            &mut subset.not_ready_addresses
        };
        if let Some(addresses) = list {
            addresses.truncate(to_be_added);
            can_be_added -= addresses.len();
        }
    }
    true
}

/// The controller's state between rounds.
pub(crate) struct EndpointsController {
    pub api: ApiServer,
    pub events: EventRecorder,
    pub tracker: TriggerTimeTracker,
}

impl EndpointsController {
    pub(crate) fn new(api: ApiServer) -> Self {
        EndpointsController {
            events: EventRecorder::new(api.clone(), COMPONENT),
            api,
            tracker: TriggerTimeTracker::default(),
        }
    }

    /// One level-triggered pass over every service. The Endpoints are read fresh from the
    /// API (not a cache) so a write of the previous pass is never repeated. Returns false if
    /// something failed and a retry is due.
    pub(crate) async fn sync_all(&mut self, services: &[Service], all_pods: &[Pod]) -> bool {
        let current = match self.api.list_objects("endpoints", None).await {
            Ok(list) => list.items,
            Err(_) => return false,
        };
        let mut by_key: HashMap<(String, String), Value> = HashMap::new();
        for object in current {
            let key = (meta(&object, "namespace"), meta(&object, "name"));
            by_key.insert(key, object);
        }
        let mut clean = true;
        for svc in services {
            if service::service_type(svc) == service::TYPE_EXTERNAL_NAME {
                continue;
            }
            let Some(selector) = service::selector(svc) else {
                continue;
            };
            let selected: Vec<&Pod> = all_pods
                .iter()
                .filter(|pod| {
                    pods::namespace(pod) == service::namespace(svc)
                        && service::selects(selector, pod.metadata.labels.as_ref())
                })
                .collect();
            let key = (
                service::namespace(svc).to_string(),
                service::name(svc).to_string(),
            );
            if self
                .sync_service(svc, &selected, by_key.get(&key))
                .await
                .is_err()
            {
                clean = false;
            }
        }
        let alive: HashSet<(String, String)> = services
            .iter()
            .map(|s| {
                (
                    service::namespace(s).to_string(),
                    service::name(s).to_string(),
                )
            })
            .collect();
        self.tracker.retain(|key| alive.contains(key));
        for (key, object) in &by_key {
            let ours = object
                .pointer("/metadata/labels")
                .and_then(|l| l.get(LABEL_MANAGED_BY))
                .and_then(Value::as_str)
                == Some(COMPONENT);
            if ours && !alive.contains(key) && !self.delete_leftover(object).await {
                clean = false;
            }
        }
        clean
    }

    async fn delete_leftover(&self, object: &Value) -> bool {
        let options = DeleteOptions {
            preconditions: Preconditions {
                uid: Some(meta(object, "uid")),
                resource_version: None,
            },
            ..DeleteOptions::default()
        };
        let outcome = self
            .api
            .delete_object(
                "endpoints",
                &meta(object, "namespace"),
                &meta(object, "name"),
                options,
            )
            .await;
        matches!(outcome, Ok(_) | Err(ApiError { code: 404, .. }))
    }

    async fn sync_service(
        &mut self,
        svc: &Service,
        selected: &[&Pod],
        current: Option<&Value>,
    ) -> Result<(), ApiError> {
        let subsets = desired_subsets(svc, selected);
        let trigger_time = self.tracker.compute(svc, selected);
        let labels = desired_labels(svc);
        let current: Option<Endpoints> =
            current.and_then(|object| serde_json::from_value(object.clone()).ok());
        if let Some(current) = &current {
            let over_capacity = current
                .metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(ANNOTATION_OVER_CAPACITY));
            let current_count: usize = comparable(&current.subsets)
                .iter()
                .map(|s| {
                    s.addresses.as_ref().map_or(0, Vec::len)
                        + s.not_ready_addresses.as_ref().map_or(0, Vec::len)
                })
                .sum();
            let capacity_ok = current_count <= MAX_CAPACITY && !over_capacity;
            if comparable(&current.subsets) == subsets
                && current.metadata.labels.clone().unwrap_or_default() == labels
                && capacity_ok
            {
                return Ok(());
            }
        }
        let creating = current.is_none();
        let mut endpoints = current.unwrap_or_else(|| Endpoints {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some(service::name(svc).to_string()),
                namespace: Some(service::namespace(svc).to_string()),
                ..Default::default()
            },
            ..Default::default()
        });
        let mut subsets = subsets;
        let mut annotations = endpoints.metadata.annotations.take().unwrap_or_default();
        match trigger_time {
            Some(time) => {
                annotations.insert(TRIGGER_TIME.into(), format_rfc3339_nano(time));
            }
            None => {
                annotations.remove(TRIGGER_TIME);
            }
        }
        if truncate(&mut subsets) {
            annotations.insert(ANNOTATION_OVER_CAPACITY.into(), "truncated".into());
        } else {
            annotations.remove(ANNOTATION_OVER_CAPACITY);
        }
        endpoints.metadata.annotations = (!annotations.is_empty()).then_some(annotations);
        endpoints.metadata.labels = Some(labels);
        endpoints.subsets = (!subsets.is_empty()).then_some(subsets);
        let object = serde_json::to_value(&endpoints).map_err(ApiError::internal)?;
        let namespace = service::namespace(svc);
        let written = if creating {
            self.api
                .create_object("endpoints", namespace, object.clone())
                .await
        } else {
            self.api
                .update_object("endpoints", namespace, service::name(svc), object.clone())
                .await
        };
        if let Err(error) = &written {
            let (reason, message) = if creating {
                (
                    "FailedToCreateEndpoint",
                    format!(
                        "Failed to create endpoint for service {namespace}/{}: {error}",
                        service::name(svc)
                    ),
                )
            } else {
                (
                    "FailedToUpdateEndpoint",
                    format!(
                        "Failed to update endpoint {namespace}/{}: {error}",
                        service::name(svc)
                    ),
                )
            };
            self.events
                .record(&object, EventKind::Warning, reason, &message)
                .await;
        }
        written.map(|_| ())
    }
}

pub(crate) fn meta(object: &Value, field: &str) -> String {
    object
        .get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(spec: Value) -> Service {
        serde_json::from_value(
            json!({"metadata": {"name": "db", "namespace": "default"}, "spec": spec}),
        )
        .unwrap()
    }

    fn pod(name: &str, ip: &str, ready: bool, extra_spec: Value) -> Pod {
        let mut spec = json!({"nodeName": "n1", "containers": [{"name": "c", "image": "i"}]});
        spec.as_object_mut()
            .unwrap()
            .extend(extra_spec.as_object().unwrap().clone());
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}")},
            "spec": spec,
            "status": {
                "phase": "Running",
                "podIP": ip,
                "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]
            }
        }))
        .unwrap()
    }

    #[test]
    fn headless_service_without_ports_lists_addresses_with_hostnames() {
        let svc = service(json!({"clusterIP": "None", "selector": {"app": "db"}}));
        let db0 = pod(
            "db-0",
            "127.1.0.5",
            true,
            json!({"hostname": "db-0", "subdomain": "db"}),
        );
        let db1 = pod("db-1", "127.1.0.6", false, json!({}));
        let subsets = desired_subsets(&svc, &[&db0, &db1]);
        assert_eq!(subsets.len(), 1);
        let ready = subsets[0].addresses.as_ref().unwrap();
        assert_eq!(ready[0].hostname.as_deref(), Some("db-0"));
        assert_eq!(
            subsets[0].not_ready_addresses.as_ref().unwrap()[0].ip,
            "127.1.0.6"
        );
        assert!(subsets[0].ports.is_none());
        assert_eq!(
            desired_labels(&svc)
                .get(service::LABEL_HEADLESS)
                .map(String::as_str),
            Some("")
        );
    }

    #[test]
    fn publish_not_ready_addresses_lists_every_pod_as_ready() {
        let svc = service(json!({
            "clusterIP": "127.0.128.9",
            "publishNotReadyAddresses": true,
            "ports": [{"port": 5432}]
        }));
        let pods = [
            pod("a", "127.1.0.7", false, json!({})),
            pod("b", "127.1.0.8", true, json!({})),
        ];
        let subsets = desired_subsets(&svc, &[&pods[0], &pods[1]]);
        let ready: Vec<_> = subsets[0]
            .addresses
            .iter()
            .flatten()
            .map(|a| a.ip.as_str())
            .collect();
        assert_eq!(ready, ["127.1.0.7", "127.1.0.8"]);
        assert!(subsets[0].not_ready_addresses.is_none());
        assert_eq!(
            subsets[0].ports.as_ref().unwrap()[0].port,
            5432,
            "targetPort defaults to port"
        );
        assert!(!desired_labels(&svc).contains_key(service::LABEL_HEADLESS));
    }

    #[test]
    fn truncates_past_capacity_keeping_ready_addresses() {
        let address = |i: usize| EndpointAddress {
            ip: format!("127.1.{}.{}", i / 250, i % 250),
            ..Default::default()
        };
        let mut subsets = vec![EndpointSubset {
            addresses: Some((0..900).map(address).collect()),
            not_ready_addresses: Some((900..1200).map(address).collect()),
            ports: None,
        }];
        assert!(truncate(&mut subsets));
        assert_eq!(subsets[0].addresses.as_ref().unwrap().len(), 900);
        assert_eq!(subsets[0].not_ready_addresses.as_ref().unwrap().len(), 100);
    }
}
