//! Environment validation (`ValidateEnv`, `validateEnvVarValueFrom`, `ValidateEnvFrom`)
//! and the downward-API selectors shared with volumes (`validateObjectFieldSelector`,
//! `validateContainerResourceFieldSelector`).

use k8s_openapi::api::core::v1::{
    ConfigMapKeySelector, EnvFromSource, EnvVar, ObjectFieldSelector, ResourceFieldSelector,
    SecretKeySelector,
};

use super::names::{
    is_config_map_key, is_env_var_name, is_qualified_name, is_relaxed_env_var_name,
    name_is_dns_subdomain,
};
use super::path::FieldPath;
use crate::field_error::FieldError;

/// The `RelaxedEnvironmentVariableValidation` feature gate: beta and on by default since
/// v1.32, so a v1.33 API server accepts any printable ASCII name except `=`.
const RELAXED_ENV_VAR_NAMES: bool = true;

/// `validEnvDownwardAPIFieldPathExpressions`, sorted like `sets.List`.
pub(crate) const ENV_FIELD_PATHS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

/// `validVolumeDownwardAPIFieldPathExpressions`, sorted like `sets.List`.
pub(crate) const VOLUME_FIELD_PATHS: &[&str] = &[
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
];

/// `validContainerResourceFieldPathExpressions`, sorted like `sets.List`.
const RESOURCE_FIELD_PATHS: &[&str] = &[
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
];
/// `validContainerResourceFieldPathPrefixesWithDownwardAPIHugePages`.
const RESOURCE_FIELD_PREFIXES: &[&str] = &["limits.hugepages-", "requests.hugepages-"];

/// `ConvertDownwardAPIFieldLabel`: every label the v1 conversion accepts.
const CONVERTIBLE_FIELD_LABELS: &[&str] = &[
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.serviceAccountName",
    "spec.schedulerName",
    "status.phase",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

fn env_var_name_messages(name: &str) -> Vec<String> {
    if RELAXED_ENV_VAR_NAMES {
        is_relaxed_env_var_name(name)
    } else {
        is_env_var_name(name)
    }
}

/// `ValidateEnv`.
pub(crate) fn validate_env(vars: &[EnvVar], path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, var) in vars.iter().enumerate() {
        let var_path = path.index(i);
        let name_path = var_path.child("name");
        if var.name.is_empty() {
            errors.push(FieldError::required(&name_path, ""));
        }
        for message in env_var_name_messages(&var.name) {
            errors.push(FieldError::invalid(&name_path, var.name.as_str(), message));
        }
        errors.extend(validate_value_from(var, &var_path.child("valueFrom")));
    }
    errors
}

/// `validateEnvVarValueFrom`: exactly one source, and no `value` next to it.
fn validate_value_from(var: &EnvVar, path: &FieldPath) -> Vec<FieldError> {
    let Some(source) = &var.value_from else {
        return Vec::new();
    };
    let mut errors = Vec::new();
    let mut sources = 0;
    if let Some(field_ref) = &source.field_ref {
        sources += 1;
        errors.extend(validate_object_field_selector(
            field_ref,
            ENV_FIELD_PATHS,
            &path.child("fieldRef"),
        ));
    }
    if let Some(resource_ref) = &source.resource_field_ref {
        sources += 1;
        errors.extend(validate_resource_field_selector(
            resource_ref,
            false,
            &path.child("resourceFieldRef"),
        ));
    }
    if let Some(selector) = &source.config_map_key_ref {
        sources += 1;
        errors.extend(validate_config_map_key_selector(
            selector,
            &path.child("configMapKeyRef"),
        ));
    }
    if let Some(selector) = &source.secret_key_ref {
        sources += 1;
        errors.extend(validate_secret_key_selector(
            selector,
            &path.child("secretKeyRef"),
        ));
    }
    if sources == 0 {
        errors.push(FieldError::invalid(
            path,
            "",
            "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
        ));
    } else if !var.value.as_deref().unwrap_or("").is_empty() {
        errors.push(FieldError::invalid(
            path,
            "",
            "may not be specified when `value` is not empty",
        ));
    } else if sources > 1 {
        errors.push(FieldError::invalid(
            path,
            "",
            "may not have more than one field specified at a time",
        ));
    }
    errors
}

/// `validateConfigMapKeySelector` (the name is checked even when empty: no Required).
fn validate_config_map_key_selector(
    selector: &ConfigMapKeySelector,
    path: &FieldPath,
) -> Vec<FieldError> {
    validate_key_selector(&selector.name, &selector.key, path)
}

/// `validateSecretKeySelector`.
fn validate_secret_key_selector(selector: &SecretKeySelector, path: &FieldPath) -> Vec<FieldError> {
    validate_key_selector(&selector.name, &selector.key, path)
}

fn validate_key_selector(name: &str, key: &str, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for message in name_is_dns_subdomain(name, false) {
        errors.push(FieldError::invalid(path.child("name"), name, message));
    }
    if key.is_empty() {
        errors.push(FieldError::required(path.child("key"), ""));
    } else {
        for message in is_config_map_key(key) {
            errors.push(FieldError::invalid(path.child("key"), key, message));
        }
    }
    errors
}

/// `validateObjectFieldSelector`: `supported` lists the paths valid without a subscript.
pub(crate) fn validate_object_field_selector(
    selector: &ObjectFieldSelector,
    supported: &[&str],
    path: &FieldPath,
) -> Vec<FieldError> {
    let api_version = selector.api_version.as_deref().unwrap_or("");
    if api_version.is_empty() {
        return vec![FieldError::required(path.child("apiVersion"), "")];
    }
    let field_path = selector.field_path.as_str();
    if field_path.is_empty() {
        return vec![FieldError::required(path.child("fieldPath"), "")];
    }
    let internal = match convert_downward_api_field_label(api_version, field_path) {
        Ok(internal) => internal,
        Err(message) => {
            return vec![FieldError::invalid(
                path.child("fieldPath"),
                field_path,
                format!("error converting fieldPath: {message}"),
            )]
        }
    };
    let mut errors = Vec::new();
    match split_subscripted_path(&internal) {
        Some((base, subscript)) => match base {
            "metadata.annotations" => {
                for message in is_qualified_name(&subscript.to_lowercase()) {
                    errors.push(FieldError::invalid(path, subscript.to_lowercase(), message));
                }
            }
            "metadata.labels" => {
                for message in is_qualified_name(subscript) {
                    errors.push(FieldError::invalid(path, subscript, message));
                }
            }
            other => errors.push(FieldError::invalid(
                path,
                other,
                "does not support subscript",
            )),
        },
        None if !supported.contains(&internal.as_str()) => {
            errors.push(FieldError::not_supported(
                path.child("fieldPath"),
                internal.as_str(),
                supported,
            ));
        }
        None => {}
    }
    errors
}

/// `ConvertDownwardAPIFieldLabel` for Pods: the internal field path, or Go's error text.
fn convert_downward_api_field_label(api_version: &str, label: &str) -> Result<String, String> {
    if api_version != "v1" {
        return Err(format!("unsupported pod version: {api_version}"));
    }
    if let Some((base, _)) = split_subscripted_path(label) {
        return match base {
            "metadata.annotations" | "metadata.labels" => Ok(label.to_owned()),
            _ => Err(format!("field label does not support subscript: {label}")),
        };
    }
    match label {
        // Old v1 clients send `spec.host`.
        "spec.host" => Ok("spec.nodeName".to_owned()),
        label if CONVERTIBLE_FIELD_LABELS.contains(&label) => Ok(label.to_owned()),
        label => Err(format!("field label not supported: {label}")),
    }
}

/// `fieldpath.SplitMaybeSubscriptedPath`: `metadata.labels['app']` → (`metadata.labels`, `app`).
fn split_subscripted_path(path: &str) -> Option<(&str, &str)> {
    let inner = path.strip_suffix("']")?;
    let (base, subscript) = inner.split_once("['")?;
    (!base.is_empty()).then_some((base, subscript))
}

/// `validateContainerResourceFieldSelector` (the divisor is not checked here).
pub(crate) fn validate_resource_field_selector(
    selector: &ResourceFieldSelector,
    in_volume: bool,
    path: &FieldPath,
) -> Vec<FieldError> {
    let resource = selector.resource.as_str();
    if in_volume && selector.container_name.as_deref().unwrap_or("").is_empty() {
        vec![FieldError::required(path.child("containerName"), "")]
    } else if resource.is_empty() {
        vec![FieldError::required(path.child("resource"), "")]
    } else if !RESOURCE_FIELD_PATHS.contains(&resource)
        && !RESOURCE_FIELD_PREFIXES
            .iter()
            .any(|p| resource.starts_with(p))
    {
        vec![FieldError::not_supported(
            path.child("resource"),
            resource,
            RESOURCE_FIELD_PATHS,
        )]
    } else {
        Vec::new()
    }
}

/// `ValidateEnvFrom`.
pub(crate) fn validate_env_from(sources: &[EnvFromSource], path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        let source_path = path.index(i);
        let prefix = source.prefix.as_deref().unwrap_or("");
        if !prefix.is_empty() {
            for message in env_var_name_messages(prefix) {
                errors.push(FieldError::invalid(
                    source_path.child("prefix"),
                    prefix,
                    message,
                ));
            }
        }
        let mut count = 0;
        if let Some(reference) = &source.config_map_ref {
            count += 1;
            errors.extend(validate_env_source_name(
                &reference.name,
                &source_path.child("configMapRef"),
            ));
        }
        if let Some(reference) = &source.secret_ref {
            count += 1;
            errors.extend(validate_env_source_name(
                &reference.name,
                &source_path.child("secretRef"),
            ));
        }
        // Go reports these on the list path, not the item.
        if count == 0 {
            errors.push(FieldError::invalid(
                path,
                "",
                "must specify one of: `configMapRef` or `secretRef`",
            ));
        } else if count > 1 {
            errors.push(FieldError::forbidden(
                path,
                "may not have more than one field specified at a time",
            ));
        }
    }
    errors
}

/// `validateConfigMapEnvSource`/`validateSecretEnvSource`: note the name is checked as a
/// prefix (`ValidateConfigMapName(name, true)`), so a trailing '-' passes.
fn validate_env_source_name(name: &str, path: &FieldPath) -> Vec<FieldError> {
    if name.is_empty() {
        return vec![FieldError::required(path.child("name"), "")];
    }
    name_is_dns_subdomain(name, true)
        .into_iter()
        .map(|message| FieldError::invalid(path.child("name"), name, message))
        .collect()
}
