//! `ValidateObjectMeta` (`k8s.io/apimachinery/pkg/api/validation/objectmeta.go`)
//! for namespaced objects.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::names::{
    is_qualified_name, is_valid_label_value, name_is_dns_label, name_is_dns_subdomain,
};
use super::path::FieldPath;
use crate::field_error::FieldError;

/// `TotalAnnotationSizeLimitB`.
const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES: usize = 256 * 1024;

/// A function checking a (possibly prefix) name, like `ValidateNameFunc`.
pub(crate) type NameCheck = fn(&str, bool) -> Vec<String>;

pub(crate) fn validate_object_meta(
    meta: &ObjectMeta,
    name_check: NameCheck,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name = meta.name.as_deref().unwrap_or("");
    let generate_name = meta.generate_name.as_deref().unwrap_or("");

    if !generate_name.is_empty() {
        for message in name_check(generate_name, true) {
            errors.push(FieldError::invalid(
                path.child("generateName"),
                generate_name,
                message,
            ));
        }
    }
    if name.is_empty() {
        // The API server generates the name from generateName before validating; the
        // node does that here, so an empty name is fine when a prefix is given.
        if generate_name.is_empty() {
            errors.push(FieldError::required(
                path.child("name"),
                "name or generateName is required",
            ));
        }
    } else {
        for message in name_check(name, false) {
            errors.push(FieldError::invalid(path.child("name"), name, message));
        }
    }

    let namespace = meta.namespace.as_deref().unwrap_or("");
    if namespace.is_empty() {
        errors.push(FieldError::required(path.child("namespace"), ""));
    } else {
        for message in name_is_dns_label(namespace, false) {
            errors.push(FieldError::invalid(
                path.child("namespace"),
                namespace,
                message,
            ));
        }
    }

    if let Some(generation) = meta.generation {
        if generation < 0 {
            errors.push(FieldError::invalid(
                path.child("generation"),
                generation,
                "must be greater than or equal to 0",
            ));
        }
    }
    if let Some(labels) = &meta.labels {
        errors.extend(validate_labels(labels, &path.child("labels")));
    }
    if let Some(annotations) = &meta.annotations {
        errors.extend(validate_annotations(
            annotations,
            &path.child("annotations"),
        ));
    }
    errors
}

/// `ValidateLabels`: keys are qualified names, values label values; errors point at
/// the map itself, not the key.
pub(crate) fn validate_labels(
    labels: &BTreeMap<String, String>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (key, value) in labels {
        for message in is_qualified_name(key) {
            errors.push(FieldError::invalid(path, key.as_str(), message));
        }
        for message in is_valid_label_value(value) {
            errors.push(FieldError::invalid(path, value.as_str(), message));
        }
    }
    errors
}

/// `ValidateAnnotations`: keys are case-insensitive qualified names; total size is capped.
fn validate_annotations(
    annotations: &BTreeMap<String, String>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut total_size = 0;
    for (key, value) in annotations {
        for message in is_qualified_name(&key.to_lowercase()) {
            errors.push(FieldError::invalid(path, key.as_str(), message));
        }
        total_size += key.len() + value.len();
    }
    if total_size > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES {
        errors.push(FieldError::too_long(
            path,
            TOTAL_ANNOTATION_SIZE_LIMIT_BYTES,
        ));
    }
    errors
}

/// `ValidatePodName`.
pub(crate) fn pod_name_check(name: &str, prefix: bool) -> Vec<String> {
    name_is_dns_subdomain(name, prefix)
}
