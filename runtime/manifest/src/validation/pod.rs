//! `ValidatePodCreate` → `ValidatePodSpec` (the parts wasmpod supports).

use k8s_openapi::api::core::v1::{Pod, PodSpec};

use super::container::{validate_containers, validate_enum, validate_init_containers};
use super::meta::{pod_name_check, validate_labels, validate_object_meta};
use super::names::{inclusive_range_error, is_dns1123_label, name_is_dns_subdomain};
use super::path::FieldPath;
use super::volume::validate_volumes;
use crate::field_error::FieldError;

const RESTART_POLICIES: &[&str] = &["Always", "OnFailure", "Never"];
/// `sets.List(validDNSPolicies)`: sorted.
const DNS_POLICIES: &[&str] = &["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"];

/// Validates a (defaulted) Pod as the API server does on create. Returns every
/// problem found, in the API server's order; empty means valid.
pub fn validate(pod: &Pod) -> Vec<FieldError> {
    let mut errors =
        validate_object_meta(&pod.metadata, pod_name_check, &FieldPath::new("metadata"));
    let empty_spec = PodSpec::default();
    let spec = pod.spec.as_ref().unwrap_or(&empty_spec);
    let spec_path = FieldPath::new("spec");
    errors.extend(validate_pod_spec(spec, &spec_path));
    if spec
        .ephemeral_containers
        .as_ref()
        .is_some_and(|c| !c.is_empty())
    {
        errors.push(FieldError::forbidden(
            spec_path.child("ephemeralContainers"),
            "cannot be set on create",
        ));
    }
    errors
}

fn validate_pod_spec(spec: &PodSpec, path: &FieldPath) -> Vec<FieldError> {
    // Volumes first: containers may only mount volumes that are valid.
    let (volumes, mut errors) = validate_volumes(
        spec.volumes.as_deref().unwrap_or_default(),
        &path.child("volumes"),
    );
    errors.extend(validate_containers(
        &spec.containers,
        &volumes,
        &path.child("containers"),
    ));
    errors.extend(validate_init_containers(
        spec.init_containers.as_deref().unwrap_or_default(),
        &spec.containers,
        &volumes,
        &path.child("initContainers"),
    ));
    errors.extend(validate_enum(
        spec.restart_policy.as_deref(),
        RESTART_POLICIES,
        &path.child("restartPolicy"),
    ));
    errors.extend(validate_enum(
        spec.dns_policy.as_deref(),
        DNS_POLICIES,
        &path.child("dnsPolicy"),
    ));
    if let Some(node_selector) = &spec.node_selector {
        errors.extend(validate_labels(node_selector, &path.child("nodeSelector")));
    }
    errors.extend(validate_dns_config(spec, &path.child("dnsConfig")));

    if let Some(account) = spec
        .service_account_name
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        for message in name_is_dns_subdomain(account, false) {
            errors.push(FieldError::invalid(
                path.child("serviceAccountName"),
                account,
                message,
            ));
        }
    }
    if let Some(deadline) = spec.active_deadline_seconds {
        if deadline < 1 || deadline > i64::from(i32::MAX) {
            errors.push(FieldError::invalid(
                path.child("activeDeadlineSeconds"),
                deadline,
                inclusive_range_error(1, i64::from(i32::MAX)),
            ));
        }
    }
    for (field, value) in [("hostname", &spec.hostname), ("subdomain", &spec.subdomain)] {
        if let Some(value) = value.as_deref().filter(|s| !s.is_empty()) {
            for message in is_dns1123_label(value) {
                errors.push(FieldError::invalid(path.child(field), value, message));
            }
        }
    }
    if let Some(grace) = spec.termination_grace_period_seconds {
        if grace < 0 {
            errors.push(FieldError::invalid(
                path.child("terminationGracePeriodSeconds"),
                grace,
                "must be greater than or equal to 0",
            ));
        }
    }
    errors
}

/// `validatePodDNSConfig`: the part that concerns `dnsPolicy: None`.
fn validate_dns_config(spec: &PodSpec, path: &FieldPath) -> Vec<FieldError> {
    if spec.dns_policy.as_deref() != Some("None") {
        return Vec::new();
    }
    match &spec.dns_config {
        None => vec![FieldError::required(
            path,
            "must provide `dnsConfig` when `dnsPolicy` is None",
        )],
        Some(config) if config.nameservers.as_ref().is_none_or(Vec::is_empty) => {
            vec![FieldError::required(
                path.child("nameservers"),
                "must provide at least one DNS nameserver when `dnsPolicy` is None",
            )]
        }
        Some(_) => Vec::new(),
    }
}
