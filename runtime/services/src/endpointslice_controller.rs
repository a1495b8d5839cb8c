//! The EndpointSlice controller (`pkg/controller/endpointslice` with the reconciler of
//! `k8s.io/endpointslice`, component `endpointslice-controller`): IPv4 EndpointSlices for
//! every Service with a selector, one per distinct set of resolved ports (split at
//! `max_endpoints_per_slice`), with a placeholder slice when there are no endpoints.
//! Unlike the Endpoints controller it keeps terminating pods, marked `terminating`.

use std::collections::{BTreeMap, HashMap, HashSet};

use k8s_openapi::api::core::v1::{Node, Pod, Service};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use wasmpod_apiserver::{
    ApiError, ApiServer, DeleteOptions, EventKind, EventRecorder, Preconditions,
};

use crate::endpoints_controller::pod_reference;
use crate::trigger_time::{format_rfc3339_nano, TriggerTimeTracker, ANNOTATION as TRIGGER_TIME};
use crate::{pods, service};

pub(crate) const COMPONENT: &str = "endpointslice-controller";
/// `discovery.LabelServiceName`.
pub const LABEL_SERVICE_NAME: &str = "kubernetes.io/service-name";
/// `discovery.LabelManagedBy`.
pub const LABEL_MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
/// The controller's value of [`LABEL_MANAGED_BY`].
pub const CONTROLLER_NAME: &str = "endpointslice-controller.k8s.io";
const ADDRESS_TYPE_IPV4: &str = "IPv4";
const LABEL_ZONE: &str = "topology.kubernetes.io/zone";

/// The content of one slice the service should have.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DesiredSlice {
    pub ports: Vec<EndpointPort>,
    pub endpoints: Vec<Endpoint>,
}

/// What the slices of one service should hold, plus the pods left out because their
/// node does not exist (upstream reports these as an error and retries).
pub(crate) struct Desired {
    pub slices: Vec<DesiredSlice>,
    pub skipped: Vec<String>,
}

pub(crate) fn desired_slices(
    svc: &Service,
    selected: &[&Pod],
    nodes: &HashMap<String, Node>,
    max_per_slice: usize,
) -> Desired {
    let publish_not_ready = service::publish_not_ready_addresses(svc);
    let mut by_ports: Vec<(Vec<EndpointPort>, Vec<Endpoint>)> = Vec::new();
    let mut skipped = Vec::new();
    for pod in selected {
        if !pods::should_be_in_endpoints(pod, true) {
            continue;
        }
        let node = match pods::node_name(pod) {
            "" => None,
            name => match nodes.get(name) {
                Some(node) => Some(node),
                None if publish_not_ready => None,
                None => {
                    skipped.push(format!(
                        "skipping Pod {} for Service {}/{}: Node {name} Not Found",
                        pods::name(pod),
                        service::namespace(svc),
                        service::name(svc)
                    ));
                    continue;
                }
            },
        };
        let Some(endpoint) = pod_endpoint(pod, node, svc) else {
            continue;
        };
        let ports = endpoint_ports(svc, pod);
        match by_ports.iter_mut().find(|(p, _)| *p == ports) {
            Some((_, endpoints)) => endpoints.push(endpoint),
            None => by_ports.push((ports, vec![endpoint])),
        }
    }
    let max_per_slice = max_per_slice.max(1);
    let mut slices = Vec::new();
    for (ports, endpoints) in by_ports {
        for chunk in endpoints.chunks(max_per_slice) {
            slices.push(DesiredSlice {
                ports: ports.clone(),
                endpoints: chunk.to_vec(),
            });
        }
    }
    if slices.is_empty() {
        // The placeholder: a service with no endpoints still has one (empty) slice.
        slices.push(DesiredSlice {
            ports: Vec::new(),
            endpoints: Vec::new(),
        });
    }
    Desired { slices, skipped }
}

/// `getEndpointPorts`: every service port that resolves on this pod.
fn endpoint_ports(svc: &Service, pod: &Pod) -> Vec<EndpointPort> {
    service::ports(svc)
        .iter()
        .filter_map(|port| {
            let number = pods::find_port(pod, port)?;
            Some(EndpointPort {
                name: Some(service::port_name(port).to_string()),
                port: Some(number),
                protocol: Some(service::port_protocol(port).to_string()),
                app_protocol: port.app_protocol.clone(),
            })
        })
        .collect()
}

/// `podToEndpoint`.
fn pod_endpoint(pod: &Pod, node: Option<&Node>, svc: &Service) -> Option<Endpoint> {
    let ip = pods::ipv4(pod)?;
    let serving = pods::is_ready(pod);
    let terminating = pods::is_terminating(pod);
    // A terminating pod is never "ready" unless the service publishes unready addresses.
    let ready = service::publish_not_ready_addresses(svc) || (serving && !terminating);
    let zone = node
        .and_then(|n| n.metadata.labels.as_ref())
        .and_then(|labels| labels.get(LABEL_ZONE))
        .filter(|zone| !zone.is_empty())
        .cloned();
    Some(Endpoint {
        addresses: vec![ip.to_string()],
        conditions: Some(EndpointConditions {
            ready: Some(ready),
            serving: Some(serving),
            terminating: Some(terminating),
        }),
        hostname: pods::hostname_for(pod, svc),
        node_name: Some(pods::node_name(pod).to_string()).filter(|n| !n.is_empty()),
        target_ref: Some(pod_reference(pod)),
        zone,
        ..Default::default()
    })
}

/// `setEndpointSliceLabels`: the service's labels (minus the reserved ones), the headless
/// marker, the service name and the managing controller.
pub(crate) fn desired_labels(svc: &Service) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = service::labels(svc)
        .into_iter()
        .filter(|(key, _)| {
            key != LABEL_SERVICE_NAME && key != LABEL_MANAGED_BY && key != service::LABEL_HEADLESS
        })
        .collect();
    if !service::is_ip_set(svc) {
        labels.insert(service::LABEL_HEADLESS.into(), String::new());
    }
    labels.insert(LABEL_SERVICE_NAME.into(), service::name(svc).to_string());
    labels.insert(LABEL_MANAGED_BY.into(), CONTROLLER_NAME.into());
    labels
}

fn owner_reference(svc: &Service) -> OwnerReference {
    OwnerReference {
        api_version: "v1".into(),
        kind: "Service".into(),
        name: service::name(svc).to_string(),
        uid: service::uid(svc).to_string(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

fn slice_ports(slice: &EndpointSlice) -> &[EndpointPort] {
    slice.ports.as_deref().unwrap_or(&[])
}

fn owned_by(slice: &EndpointSlice, svc: &Service) -> bool {
    slice
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|r| r.kind == "Service" && r.uid == service::uid(svc))
}

/// Endpoints as stored, for comparison (`resourceVersion` of target refs ignored).
fn comparable_endpoints(slice: &EndpointSlice) -> Vec<Endpoint> {
    let mut endpoints = slice.endpoints.clone();
    for endpoint in &mut endpoints {
        if let Some(reference) = &mut endpoint.target_ref {
            reference.resource_version = None;
        }
    }
    endpoints
}

/// The writes that bring one service's slices to the desired state.
#[derive(Default)]
struct Plan {
    create: Vec<EndpointSlice>,
    update: Vec<EndpointSlice>,
    delete: Vec<EndpointSlice>,
}

fn plan(
    svc: &Service,
    desired: Vec<DesiredSlice>,
    existing: Vec<EndpointSlice>,
    trigger_time: Option<&str>,
) -> Plan {
    let labels = desired_labels(svc);
    let mut plan = Plan::default();
    let (mut candidates, foreign): (Vec<_>, Vec<_>) = existing
        .into_iter()
        .partition(|s| owned_by(s, svc) && s.address_type == ADDRESS_TYPE_IPV4);
    plan.delete.extend(foreign);
    let set_trigger = |slice: &mut EndpointSlice| {
        let mut annotations = slice.metadata.annotations.take().unwrap_or_default();
        match trigger_time {
            Some(time) => {
                annotations.insert(TRIGGER_TIME.into(), time.to_string());
            }
            None => {
                annotations.remove(TRIGGER_TIME);
            }
        }
        slice.metadata.annotations = (!annotations.is_empty()).then_some(annotations);
    };
    let mut unmatched = Vec::new();
    // First keep slices that already hold exactly what is wanted.
    for want in desired {
        let exact = candidates.iter().position(|s| {
            slice_ports(s) == want.ports.as_slice() && comparable_endpoints(s) == want.endpoints
        });
        match exact {
            Some(index) => {
                let mut slice = candidates.swap_remove(index);
                if slice.metadata.labels.as_ref() != Some(&labels) {
                    slice.metadata.labels = Some(labels.clone());
                    set_trigger(&mut slice);
                    plan.update.push(slice);
                }
            }
            None => unmatched.push(want),
        }
    }
    // Then reuse slices with the same ports; create the rest.
    for want in unmatched {
        let reusable = candidates
            .iter()
            .position(|s| slice_ports(s) == want.ports.as_slice());
        let mut slice = match reusable {
            Some(index) => candidates.swap_remove(index),
            None => EndpointSlice {
                metadata: ObjectMeta {
                    generate_name: Some(format!("{}-", service::name(svc))),
                    namespace: Some(service::namespace(svc).to_string()),
                    owner_references: Some(vec![owner_reference(svc)]),
                    ..Default::default()
                },
                address_type: ADDRESS_TYPE_IPV4.into(),
                ..Default::default()
            },
        };
        slice.metadata.labels = Some(labels.clone());
        slice.ports = (!want.ports.is_empty()).then_some(want.ports);
        slice.endpoints = want.endpoints;
        set_trigger(&mut slice);
        if slice.metadata.name.is_some() {
            plan.update.push(slice);
        } else {
            plan.create.push(slice);
        }
    }
    plan.delete.extend(candidates);
    plan
}

pub(crate) struct EndpointSliceController {
    pub api: ApiServer,
    pub events: EventRecorder,
    pub tracker: TriggerTimeTracker,
    pub max_endpoints_per_slice: usize,
}

impl EndpointSliceController {
    pub(crate) fn new(api: ApiServer, max_endpoints_per_slice: usize) -> Self {
        EndpointSliceController {
            events: EventRecorder::new(api.clone(), COMPONENT),
            api,
            tracker: TriggerTimeTracker::default(),
            max_endpoints_per_slice,
        }
    }

    /// One level-triggered pass; slices are read fresh from the API so the previous pass's
    /// creations (generated names) are never repeated. Returns false if a retry is due.
    pub(crate) async fn sync_all(
        &mut self,
        services: &[Service],
        all_pods: &[Pod],
        nodes: &HashMap<String, Node>,
    ) -> bool {
        let current = match self.api.list_objects("endpointslices", None).await {
            Ok(list) => list.items,
            Err(_) => return false,
        };
        let mut ours: HashMap<(String, String), Vec<EndpointSlice>> = HashMap::new();
        for object in current {
            let Ok(slice) = serde_json::from_value::<EndpointSlice>(object) else {
                continue;
            };
            let labels = slice.metadata.labels.clone().unwrap_or_default();
            if labels.get(LABEL_MANAGED_BY).map(String::as_str) != Some(CONTROLLER_NAME) {
                continue;
            }
            let Some(service_name) = labels.get(LABEL_SERVICE_NAME) else {
                continue;
            };
            let key = (
                slice.metadata.namespace.clone().unwrap_or_default(),
                service_name.clone(),
            );
            ours.entry(key).or_default().push(slice);
        }
        let mut clean = true;
        let mut handled = HashSet::new();
        for svc in services {
            let key = (
                service::namespace(svc).to_string(),
                service::name(svc).to_string(),
            );
            handled.insert(key.clone());
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
            let existing = ours.remove(&key).unwrap_or_default();
            clean &= self.sync_service(svc, &selected, nodes, existing).await;
        }
        self.tracker.retain(|key| handled.contains(key));
        // Slices of services that are gone (the garbage collector would get them through
        // their owner reference; deleting them here does not depend on it).
        for (key, slices) in ours {
            if handled.contains(&key) {
                continue;
            }
            for slice in slices {
                clean &= self.delete(&slice).await.is_ok();
            }
        }
        clean
    }

    async fn sync_service(
        &mut self,
        svc: &Service,
        selected: &[&Pod],
        nodes: &HashMap<String, Node>,
        existing: Vec<EndpointSlice>,
    ) -> bool {
        let desired = desired_slices(svc, selected, nodes, self.max_endpoints_per_slice);
        let trigger_time = self.tracker.compute(svc, selected).map(format_rfc3339_nano);
        let plan = plan(svc, desired.slices, existing, trigger_time.as_deref());
        let mut errors = desired.skipped;
        let namespace = service::namespace(svc).to_string();
        // Creations first, deletions last, so the service is never without its slices.
        for slice in plan.create {
            let written = match serde_json::to_value(&slice) {
                Ok(object) => {
                    self.api
                        .create_object("endpointslices", &namespace, object)
                        .await
                }
                Err(error) => Err(ApiError::internal(error)),
            };
            if let Err(error) = written {
                errors.push(error.to_string());
            }
        }
        for slice in plan.update {
            let name = slice.metadata.name.clone().unwrap_or_default();
            let written = match serde_json::to_value(&slice) {
                Ok(object) => {
                    self.api
                        .update_object("endpointslices", &namespace, &name, object)
                        .await
                }
                Err(error) => Err(ApiError::internal(error)),
            };
            if let Err(error) = written {
                errors.push(error.to_string());
            }
        }
        for slice in plan.delete {
            if let Err(error) = self.delete(&slice).await {
                errors.push(error.to_string());
            }
        }
        if errors.is_empty() {
            return true;
        }
        let message = format!(
            "Error updating Endpoint Slices for Service {namespace}/{}: {}",
            service::name(svc),
            aggregate(&errors)
        );
        self.events
            .record(
                &service::as_object(svc),
                EventKind::Warning,
                "FailedToUpdateEndpointSlices",
                &message,
            )
            .await;
        false
    }

    async fn delete(&self, slice: &EndpointSlice) -> Result<(), ApiError> {
        let options = DeleteOptions {
            preconditions: Preconditions {
                uid: slice.metadata.uid.clone(),
                resource_version: None,
            },
            ..DeleteOptions::default()
        };
        let outcome = self
            .api
            .delete_object(
                "endpointslices",
                slice.metadata.namespace.as_deref().unwrap_or(""),
                slice.metadata.name.as_deref().unwrap_or(""),
                options,
            )
            .await;
        match outcome {
            Ok(_) | Err(ApiError { code: 404, .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }
}

/// `utilerrors.NewAggregate(errs).Error()`: one error as is, several as `[a, b]`.
fn aggregate(errors: &[String]) -> String {
    let mut unique: Vec<&String> = Vec::new();
    for error in errors {
        if !unique.contains(&error) {
            unique.push(error);
        }
    }
    match unique.as_slice() {
        [one] => one.to_string(),
        many => format!(
            "[{}]",
            many.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
