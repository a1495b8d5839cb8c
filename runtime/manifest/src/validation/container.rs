//! Container validation (`validateContainers`, `validateInitContainers`,
//! `validateContainerCommon`, `validateContainerPorts`, `checkHostPortConflicts`).

use std::collections::HashSet;

use k8s_openapi::api::core::v1::{Container, ContainerPort};

use super::env::{validate_env, validate_env_from};
use super::names::{is_dns1123_label, is_valid_port_name, is_valid_port_num};
use super::path::FieldPath;
use super::probe::{validate_lifecycle_handler, validate_probe, ProbeKind};
use super::volume::{validate_volume_mounts, ValidVolumes};
use crate::field_error::FieldError;

const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
const TERMINATION_MESSAGE_POLICIES: &[&str] = &["File", "FallbackToLogsOnError"];
/// `sets.List(supportedPortProtocols)`: sorted.
const PORT_PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
const INIT_CONTAINER_RESTART_POLICIES: &[&str] = &["Always"];

pub(crate) fn validate_containers(
    containers: &[Container],
    volumes: &ValidVolumes<'_>,
    path: &FieldPath,
) -> Vec<FieldError> {
    if containers.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    let mut errors = Vec::new();
    let mut names = HashSet::new();
    for (i, container) in containers.iter().enumerate() {
        let container_path = path.index(i);
        errors.extend(validate_container_common(
            container,
            volumes,
            &container_path,
        ));
        if !names.insert(container.name.as_str()) {
            errors.push(FieldError::duplicate(
                container_path.child("name"),
                container.name.as_str(),
            ));
        }
        errors.extend(validate_lifecycle_and_probes(container, &container_path));
        if container.restart_policy.is_some() {
            errors.push(FieldError::forbidden(
                container_path.child("restartPolicy"),
                "may not be set for non-init containers",
            ));
        }
    }
    errors.extend(check_host_port_conflicts(
        containers.iter().enumerate(),
        path,
    ));
    errors
}

pub(crate) fn validate_init_containers(
    init_containers: &[Container],
    regular: &[Container],
    volumes: &ValidVolumes<'_>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut names: HashSet<&str> = regular.iter().map(|c| c.name.as_str()).collect();
    for (i, container) in init_containers.iter().enumerate() {
        let container_path = path.index(i);
        errors.extend(validate_container_common(
            container,
            volumes,
            &container_path,
        ));

        let mut restartable = false;
        if let Some(policy) = &container.restart_policy {
            if policy == "Always" {
                restartable = true;
            } else {
                errors.push(FieldError::not_supported(
                    container_path.child("restartPolicy"),
                    policy.as_str(),
                    INIT_CONTAINER_RESTART_POLICIES,
                ));
            }
        }
        if names.contains(container.name.as_str()) {
            errors.push(FieldError::duplicate(
                container_path.child("name"),
                container.name.as_str(),
            ));
        } else if !container.name.is_empty() {
            names.insert(container.name.as_str());
        }
        // Init containers run one by one, so host ports only conflict within one.
        errors.extend(check_host_port_conflicts(
            std::iter::once((i, container)),
            path,
        ));

        if restartable {
            errors.extend(validate_lifecycle_and_probes(container, &container_path));
        } else {
            for (field, present) in [
                ("lifecycle", container.lifecycle.is_some()),
                ("livenessProbe", container.liveness_probe.is_some()),
                ("readinessProbe", container.readiness_probe.is_some()),
                ("startupProbe", container.startup_probe.is_some()),
            ] {
                if present {
                    errors.push(FieldError::forbidden(
                        container_path.child(field),
                        "may not be set for init containers without restartPolicy=Always",
                    ));
                }
            }
        }
    }
    errors
}

/// `validateContainerCommon` (the parts wasmpod supports).
fn validate_container_common(
    container: &Container,
    volumes: &ValidVolumes<'_>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name_path = path.child("name");
    if container.name.is_empty() {
        errors.push(FieldError::required(name_path, ""));
    } else {
        for message in is_dns1123_label(&container.name) {
            errors.push(FieldError::invalid(
                &name_path,
                container.name.as_str(),
                message,
            ));
        }
    }
    if container.image.as_deref().unwrap_or("").is_empty() {
        errors.push(FieldError::required(path.child("image"), ""));
    }
    errors.extend(validate_enum(
        container.termination_message_policy.as_deref(),
        TERMINATION_MESSAGE_POLICIES,
        &path.child("terminationMessagePolicy"),
    ));
    errors.extend(validate_container_ports(
        container.ports.as_deref().unwrap_or_default(),
        &path.child("ports"),
    ));
    errors.extend(validate_env(
        container.env.as_deref().unwrap_or_default(),
        &path.child("env"),
    ));
    errors.extend(validate_env_from(
        container.env_from.as_deref().unwrap_or_default(),
        &path.child("envFrom"),
    ));
    errors.extend(validate_volume_mounts(
        container,
        volumes,
        &path.child("volumeMounts"),
    ));
    errors.extend(validate_enum(
        container.image_pull_policy.as_deref(),
        PULL_POLICIES,
        &path.child("imagePullPolicy"),
    ));
    errors
}

fn validate_lifecycle_and_probes(container: &Container, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(lifecycle) = &container.lifecycle {
        let lifecycle_path = path.child("lifecycle");
        if let Some(handler) = &lifecycle.post_start {
            errors.extend(validate_lifecycle_handler(
                handler,
                &lifecycle_path.child("postStart"),
            ));
        }
        if let Some(handler) = &lifecycle.pre_stop {
            errors.extend(validate_lifecycle_handler(
                handler,
                &lifecycle_path.child("preStop"),
            ));
        }
    }
    let ports = container.ports.as_deref().unwrap_or_default();
    for (kind, field, probe) in [
        (
            ProbeKind::Liveness,
            "livenessProbe",
            &container.liveness_probe,
        ),
        (
            ProbeKind::Readiness,
            "readinessProbe",
            &container.readiness_probe,
        ),
        (ProbeKind::Startup, "startupProbe", &container.startup_probe),
    ] {
        if let Some(probe) = probe {
            errors.extend(validate_probe(kind, probe, ports, &path.child(field)));
        }
    }
    errors
}

/// `validateContainerPorts`.
fn validate_container_ports(ports: &[ContainerPort], path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut names = HashSet::new();
    for (i, port) in ports.iter().enumerate() {
        let port_path = path.index(i);
        let name = port.name.as_deref().unwrap_or("");
        if !name.is_empty() {
            let messages = is_valid_port_name(name);
            if !messages.is_empty() {
                for message in messages {
                    errors.push(FieldError::invalid(port_path.child("name"), name, message));
                }
            } else if !names.insert(name) {
                errors.push(FieldError::duplicate(port_path.child("name"), name));
            }
        }
        if port.container_port == 0 {
            errors.push(FieldError::required(port_path.child("containerPort"), ""));
        } else {
            for message in is_valid_port_num(i64::from(port.container_port)) {
                errors.push(FieldError::invalid(
                    port_path.child("containerPort"),
                    port.container_port,
                    message,
                ));
            }
        }
        let host_port = port.host_port.unwrap_or(0);
        if host_port != 0 {
            for message in is_valid_port_num(i64::from(host_port)) {
                errors.push(FieldError::invalid(
                    port_path.child("hostPort"),
                    host_port,
                    message,
                ));
            }
        }
        let protocol = port.protocol.as_deref().unwrap_or("");
        if protocol.is_empty() {
            errors.push(FieldError::required(port_path.child("protocol"), ""));
        } else if !PORT_PROTOCOLS.contains(&protocol) {
            errors.push(FieldError::not_supported(
                port_path.child("protocol"),
                protocol,
                PORT_PROTOCOLS,
            ));
        }
    }
    errors
}

/// `AccumulateUniqueHostPorts`: `hostIP/protocol/hostPort` must be unique.
fn check_host_port_conflicts<'a>(
    containers: impl Iterator<Item = (usize, &'a Container)>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for (ci, container) in containers {
        for (pi, port) in container.ports.iter().flatten().enumerate() {
            let host_port = port.host_port.unwrap_or(0);
            if host_port == 0 {
                continue;
            }
            let key = format!(
                "{}/{}/{}",
                port.host_ip.as_deref().unwrap_or(""),
                port.protocol.as_deref().unwrap_or(""),
                host_port
            );
            if seen.contains(&key) {
                errors.push(FieldError::duplicate(
                    path.index(ci).child("ports").index(pi).child("hostPort"),
                    key,
                ));
            } else {
                seen.insert(key);
            }
        }
    }
    errors
}

/// Required when empty, NotSupported when not one of `supported`.
pub(crate) fn validate_enum(
    value: Option<&str>,
    supported: &[&str],
    path: &FieldPath,
) -> Vec<FieldError> {
    match value.unwrap_or("") {
        "" => vec![FieldError::required(path, "")],
        value if supported.contains(&value) => Vec::new(),
        value => vec![FieldError::not_supported(path, value, supported)],
    }
}
