//! Static API-server defaulting (`pkg/apis/core/v1/defaults.go`). Admission-time
//! additions (uid, creationTimestamp, nodeName, tolerations, service-account volume,
//! status) are not done here: the node does those when it admits the pod.
//!
//! Go treats the zero value as "unset", so `Some("")`/`Some(0)` are defaulted like
//! `None` wherever the Go field is not a pointer.

use k8s_openapi::api::core::v1::{
    Container, HTTPGetAction, ObjectFieldSelector, Pod, PodSecurityContext, PodSpec, Probe, Volume,
};

use wasmpod_reference::default_image_pull_policy;

pub const DEFAULT_NAMESPACE: &str = "default";
pub const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS: i64 = 30;
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";
pub const DEFAULT_TERMINATION_MESSAGE_PATH: &str = "/dev/termination-log";
/// `0644`, the default `defaultMode` of configMap/secret/downwardAPI/projected volumes.
const DEFAULT_VOLUME_MODE: i32 = 0o644;
const DEFAULT_TOKEN_EXPIRATION_SECONDS: i64 = 3600;

/// Applies the API server's static defaults. Idempotent.
pub fn apply_defaults(pod: &mut Pod) {
    default_str(&mut pod.metadata.namespace, DEFAULT_NAMESPACE);
    let spec = pod.spec.get_or_insert_with(PodSpec::default);
    default_pod_spec(spec);
    // SetDefaults_Pod (only for Pods, not templates).
    default_bool(&mut spec.enable_service_links, true);
    let host_network = spec.host_network.unwrap_or(false);
    for container in all_containers_mut(spec) {
        default_requests_from_limits(container);
        if host_network {
            default_host_ports(container);
        }
    }
}

/// `SetDefaults_PodSpec` plus the defaults of everything nested in it.
fn default_pod_spec(spec: &mut PodSpec) {
    default_str(&mut spec.dns_policy, "ClusterFirst");
    default_str(&mut spec.restart_policy, "Always");
    if spec.security_context.is_none() {
        spec.security_context = Some(PodSecurityContext::default());
    }
    if spec.termination_grace_period_seconds.is_none() {
        spec.termination_grace_period_seconds = Some(DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS);
    }
    default_str(&mut spec.scheduler_name, DEFAULT_SCHEDULER_NAME);
    for container in all_containers_mut(spec) {
        default_container(container);
    }
    for volume in spec.volumes.iter_mut().flatten() {
        default_volume(volume);
    }
}

fn all_containers_mut(spec: &mut PodSpec) -> impl Iterator<Item = &mut Container> {
    spec.init_containers
        .iter_mut()
        .flatten()
        .chain(spec.containers.iter_mut())
}

/// `SetDefaults_Pod`: a resource with a limit but no request is requested at its limit
/// (which is what makes a limits-only pod Guaranteed or Burstable rather than BestEffort).
fn default_requests_to_limits(container: &mut Container) {
    let Some(resources) = container.resources.as_mut() else {
        return;
    };
    let Some(limits) = resources.limits.clone() else {
        return;
    };
    let requests = resources.requests.get_or_insert_with(Default::default);
    for (name, quantity) in limits {
        requests.entry(name).or_insert(quantity);
    }
}

/// `SetDefaults_Container`, `SetDefaults_ContainerPort`, probe/handler/env defaults.
fn default_container(container: &mut Container) {
    if is_empty(&container.image_pull_policy) {
        let image = container.image.as_deref().unwrap_or("");
        container.image_pull_policy = Some(default_image_pull_policy(image).to_owned());
    }
    default_str(
        &mut container.termination_message_path,
        DEFAULT_TERMINATION_MESSAGE_PATH,
    );
    default_str(&mut container.termination_message_policy, "File");
    for port in container.ports.iter_mut().flatten() {
        default_str(&mut port.protocol, "TCP");
    }
    default_requests_to_limits(container);
    for probe in [
        &mut container.liveness_probe,
        &mut container.readiness_probe,
        &mut container.startup_probe,
    ]
    .into_iter()
    .flatten()
    {
        default_probe(probe);
    }
    if let Some(lifecycle) = &mut container.lifecycle {
        for handler in [&mut lifecycle.post_start, &mut lifecycle.pre_stop]
            .into_iter()
            .flatten()
        {
            if let Some(http_get) = &mut handler.http_get {
                default_http_get(http_get);
            }
        }
    }
    for env in container.env.iter_mut().flatten() {
        if let Some(field_ref) = env.value_from.as_mut().and_then(|v| v.field_ref.as_mut()) {
            default_field_selector(field_ref);
        }
    }
}

/// `SetDefaults_Probe` and the handler defaults.
fn default_probe(probe: &mut Probe) {
    default_i32(&mut probe.timeout_seconds, 1);
    default_i32(&mut probe.period_seconds, 10);
    default_i32(&mut probe.success_threshold, 1);
    default_i32(&mut probe.failure_threshold, 3);
    if let Some(http_get) = &mut probe.http_get {
        default_http_get(http_get);
    }
    // gRPC `service` has `+default=""` but no defaulting function: left as given.
}

/// `SetDefaults_HTTPGetAction`.
fn default_http_get(action: &mut HTTPGetAction) {
    default_str(&mut action.path, "/");
    default_str(&mut action.scheme, "HTTP");
}

/// `SetDefaults_ObjectFieldSelector`.
fn default_field_selector(selector: &mut ObjectFieldSelector) {
    default_str(&mut selector.api_version, "v1");
}

/// `SetDefaults_Volume` and the per-source defaults.
fn default_volume(volume: &mut Volume) {
    let without_source = Volume {
        name: volume.name.clone(),
        ..Volume::default()
    };
    if *volume == without_source {
        volume.empty_dir = Some(Default::default());
    }
    if let Some(source) = &mut volume.config_map {
        default_mode(&mut source.default_mode);
    }
    if let Some(source) = &mut volume.secret {
        default_mode(&mut source.default_mode);
    }
    if let Some(source) = &mut volume.host_path {
        if source.type_.is_none() {
            source.type_ = Some(String::new());
        }
    }
    if let Some(source) = &mut volume.downward_api {
        default_mode(&mut source.default_mode);
        for item in source.items.iter_mut().flatten() {
            if let Some(field_ref) = &mut item.field_ref {
                default_field_selector(field_ref);
            }
        }
    }
    if let Some(source) = &mut volume.projected {
        default_mode(&mut source.default_mode);
        for projection in source.sources.iter_mut().flatten() {
            if let Some(token) = &mut projection.service_account_token {
                if token.expiration_seconds.is_none() {
                    token.expiration_seconds = Some(DEFAULT_TOKEN_EXPIRATION_SECONDS);
                }
            }
            if let Some(downward) = &mut projection.downward_api {
                for item in downward.items.iter_mut().flatten() {
                    if let Some(field_ref) = &mut item.field_ref {
                        default_field_selector(field_ref);
                    }
                }
            }
        }
    }
}

/// `SetDefaults_Pod`: requests default to limits for resources that have no request.
fn default_requests_from_limits(container: &mut Container) {
    let Some(resources) = &mut container.resources else {
        return;
    };
    let Some(limits) = &resources.limits else {
        return;
    };
    let requests = resources.requests.get_or_insert_with(Default::default);
    for (name, quantity) in limits {
        requests
            .entry(name.clone())
            .or_insert_with(|| quantity.clone());
    }
}

/// `defaultHostNetworkPorts`: with host networking the host port is the container port.
fn default_host_ports(container: &mut Container) {
    for port in container.ports.iter_mut().flatten() {
        if port.host_port.unwrap_or(0) == 0 {
            port.host_port = Some(port.container_port);
        }
    }
}

fn is_empty(value: &Option<String>) -> bool {
    value.as_deref().is_none_or(str::is_empty)
}

fn default_str(value: &mut Option<String>, default: &str) {
    if is_empty(value) {
        *value = Some(default.to_owned());
    }
}

fn default_i32(value: &mut Option<i32>, default: i32) {
    if value.unwrap_or(0) == 0 {
        *value = Some(default);
    }
}

fn default_bool(value: &mut Option<bool>, default: bool) {
    if value.is_none() {
        *value = Some(default);
    }
}

fn default_mode(value: &mut Option<i32>) {
    if value.is_none() {
        *value = Some(DEFAULT_VOLUME_MODE);
    }
}
