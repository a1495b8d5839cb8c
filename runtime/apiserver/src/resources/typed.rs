//! Decoding request objects into their typed form, as kube-apiserver's codec does: unknown
//! fields are dropped (and reported per `fieldValidation`), types are checked, and the stored
//! JSON is the re-encoded typed object.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{
    ConfigMap, Endpoints, Event, Namespace, Node, Pod, ReplicationController, Secret, Service,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::Resource;
use crate::status_errors::ApiError;

/// The `fieldValidation` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidation {
    Ignore,
    /// kube-apiserver's default: unknown fields become `Warning` headers.
    #[default]
    Warn,
    Strict,
}

impl FieldValidation {
    pub fn parse(value: Option<&str>) -> Result<FieldValidation, ApiError> {
        match value.unwrap_or("") {
            "" | "Warn" => Ok(FieldValidation::Warn),
            "Ignore" => Ok(FieldValidation::Ignore),
            "Strict" => Ok(FieldValidation::Strict),
            other => Err(ApiError::bad_request(format!(
                "fieldValidation parameter unsupported: {other}. Valid values are Ignore, Warn, Strict"
            ))),
        }
    }
}

/// The typed round trip of `object`: the normalized JSON plus warnings for unknown fields
/// (or a 400 under `Strict`).
pub fn normalize(
    resource: &Resource,
    object: &Value,
    validation: FieldValidation,
) -> Result<(Value, Vec<String>), ApiError> {
    let reencoded = match resource.kind {
        "Pod" => round_trip::<Pod>(resource, object)?,
        "Event" => round_trip::<Event>(resource, object)?,
        "ConfigMap" => round_trip::<ConfigMap>(resource, object)?,
        "Secret" => round_trip::<Secret>(resource, object)?,
        "Namespace" => round_trip::<Namespace>(resource, object)?,
        "ReplicationController" => round_trip::<ReplicationController>(resource, object)?,
        "Service" => round_trip::<Service>(resource, object)?,
        "ReplicaSet" => round_trip::<ReplicaSet>(resource, object)?,
        "Deployment" => round_trip::<Deployment>(resource, object)?,
        "Node" => round_trip::<Node>(resource, object)?,
        "Endpoints" => round_trip::<Endpoints>(resource, object)?,
        "EndpointSlice" => round_trip::<EndpointSlice>(resource, object)?,
        "Lease" => round_trip::<Lease>(resource, object)?,
        other => return Err(ApiError::internal(format!("no codec for kind {other}"))),
    };
    let unknown: Vec<String> = wasmpod_manifest::unknown_fields(object, &reencoded)
        .into_iter()
        // apiVersion/kind are always re-encoded; the rest are genuinely unknown.
        .map(|path| format!("unknown field \"{path}\""))
        .collect();
    match validation {
        FieldValidation::Strict if !unknown.is_empty() => Err(ApiError::bad_request(format!(
            "{} in version \"{}\" cannot be handled as a {}: strict decoding error: {}",
            resource.kind,
            resource.version,
            resource.kind,
            unknown.join(", ")
        ))),
        FieldValidation::Ignore => Ok((reencoded, Vec::new())),
        _ => Ok((reencoded, unknown)),
    }
}

fn round_trip<T: DeserializeOwned + Serialize>(
    resource: &Resource,
    object: &Value,
) -> Result<Value, ApiError> {
    let typed: T = serde_json::from_value(object.clone()).map_err(|error| {
        ApiError::bad_request(format!(
            "{} in version \"{}\" cannot be handled as a {}: {error}",
            resource.kind, resource.version, resource.kind
        ))
    })?;
    serde_json::to_value(&typed).map_err(ApiError::internal)
}

/// Decodes an already-normalized object into its typed form (for defaulting/validation).
pub fn decode<T: DeserializeOwned>(resource: &Resource, object: &Value) -> Result<T, ApiError> {
    serde_json::from_value(object.clone()).map_err(|error| {
        ApiError::bad_request(format!(
            "{} in version \"{}\" cannot be handled as a {}: {error}",
            resource.kind, resource.version, resource.kind
        ))
    })
}

pub fn encode<T: Serialize>(typed: &T) -> Result<Value, ApiError> {
    serde_json::to_value(typed).map_err(ApiError::internal)
}
