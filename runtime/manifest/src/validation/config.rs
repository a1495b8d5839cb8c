//! `ValidateConfigMap` and `ValidateSecret`.

use k8s_openapi::api::core::v1::{ConfigMap, Secret};

use super::meta::validate_object_meta;
use super::names::{is_config_map_key, name_is_dns_subdomain};
use super::path::FieldPath;
use crate::field_error::FieldError;

/// `core.MaxSecretSize` (also the ConfigMap limit).
const MAX_DATA_SIZE_BYTES: usize = 1024 * 1024;
const SERVICE_ACCOUNT_NAME_ANNOTATION: &str = "kubernetes.io/service-account.name";

/// Validates a (defaulted) ConfigMap as the API server does on create; empty means valid.
pub fn validate_config_map(config_map: &ConfigMap) -> Vec<FieldError> {
    let mut errors = validate_object_meta(
        &config_map.metadata,
        name_is_dns_subdomain,
        &FieldPath::new("metadata"),
    );
    let data = config_map.data.as_ref();
    let binary_data = config_map.binary_data.as_ref();
    let mut total_size = 0;
    let data_path = FieldPath::new("data");
    for (key, value) in data.into_iter().flatten() {
        for message in is_config_map_key(key) {
            errors.push(FieldError::invalid(
                data_path.key(key),
                key.as_str(),
                message,
            ));
        }
        if binary_data.is_some_and(|b| b.contains_key(key)) {
            errors.push(FieldError::invalid(
                data_path.key(key),
                key.as_str(),
                "duplicate of key present in binaryData",
            ));
        }
        total_size += value.len();
    }
    let binary_path = FieldPath::new("binaryData");
    for (key, value) in binary_data.into_iter().flatten() {
        for message in is_config_map_key(key) {
            errors.push(FieldError::invalid(
                binary_path.key(key),
                key.as_str(),
                message,
            ));
        }
        if data.is_some_and(|d| d.contains_key(key)) {
            errors.push(FieldError::invalid(
                binary_path.key(key),
                key.as_str(),
                "duplicate of key present in data",
            ));
        }
        total_size += value.0.len();
    }
    if total_size > MAX_DATA_SIZE_BYTES {
        // Go passes an empty path: the error is about the whole object.
        errors.push(FieldError::too_long("", MAX_DATA_SIZE_BYTES));
    }
    errors
}

/// Validates a (converted and defaulted) Secret as the API server does on create.
/// `stringData` must already be merged into `data` ([`crate::apply_secret_defaults`]
/// does that), as the API server's conversion does before validation.
pub fn validate_secret(secret: &Secret) -> Vec<FieldError> {
    let mut errors = validate_object_meta(
        &secret.metadata,
        name_is_dns_subdomain,
        &FieldPath::new("metadata"),
    );
    let data_path = FieldPath::new("data");
    let empty = Default::default();
    let data = secret.data.as_ref().unwrap_or(&empty);
    let mut total_size = 0;
    for (key, value) in data {
        for message in is_config_map_key(key) {
            errors.push(FieldError::invalid(
                data_path.key(key),
                key.as_str(),
                message,
            ));
        }
        total_size += value.0.len();
    }
    if total_size > MAX_DATA_SIZE_BYTES {
        errors.push(FieldError::too_long(&data_path, MAX_DATA_SIZE_BYTES));
    }

    let required_key = |key: &str| FieldError::required(data_path.key(key), "");
    match secret.type_.as_deref().unwrap_or("") {
        "kubernetes.io/service-account-token" => {
            let annotated = secret
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(SERVICE_ACCOUNT_NAME_ANNOTATION))
                .is_some_and(|v| !v.is_empty());
            if !annotated {
                errors.push(FieldError::required(
                    FieldPath::new("metadata")
                        .child("annotations")
                        .key(SERVICE_ACCOUNT_NAME_ANNOTATION),
                    "",
                ));
            }
        }
        secret_type @ ("kubernetes.io/dockercfg" | "kubernetes.io/dockerconfigjson") => {
            let key = if secret_type == "kubernetes.io/dockercfg" {
                ".dockercfg"
            } else {
                ".dockerconfigjson"
            };
            match data.get(key) {
                None => errors.push(required_key(key)),
                Some(bytes) => {
                    let parsed = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(
                        &bytes.0,
                    );
                    if let Err(error) = parsed {
                        // Go prints encoding/json's message; serde_json's wording differs.
                        errors.push(FieldError::invalid(
                            data_path.key(key),
                            "<secret contents redacted>",
                            error.to_string(),
                        ));
                    }
                }
            }
        }
        // Either key may be empty, but one must be present.
        "kubernetes.io/basic-auth"
            if !data.contains_key("username") && !data.contains_key("password") =>
        {
            errors.push(required_key("username"));
            errors.push(required_key("password"));
        }
        "kubernetes.io/ssh-auth" if data.get("ssh-privatekey").is_none_or(|v| v.0.is_empty()) => {
            errors.push(required_key("ssh-privatekey"));
        }
        "kubernetes.io/tls" => {
            for key in ["tls.crt", "tls.key"] {
                if !data.contains_key(key) {
                    errors.push(required_key(key));
                }
            }
        }
        _ => {}
    }
    errors
}
