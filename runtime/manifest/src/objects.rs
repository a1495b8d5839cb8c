//! The object kinds a manifest may hold, and the per-kind API-server steps
//! (conversion/defaulting, then validation).

use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::config_defaults::{apply_config_map_defaults, apply_secret_defaults};
use crate::error::DocumentLocation;
use crate::field_error::FieldError;
use crate::validation::{validate_config_map, validate_secret};
use crate::{apply_defaults, validate};

#[derive(Clone, Debug)]
pub(crate) enum ManifestObject {
    Pod(Box<Pod>),
    ConfigMap(Box<ConfigMap>),
    Secret(Box<Secret>),
}

impl ManifestObject {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            ManifestObject::Pod(_) => "Pod",
            ManifestObject::ConfigMap(_) => "ConfigMap",
            ManifestObject::Secret(_) => "Secret",
        }
    }

    pub(crate) fn metadata(&self) -> &ObjectMeta {
        match self {
            ManifestObject::Pod(pod) => &pod.metadata,
            ManifestObject::ConfigMap(config_map) => &config_map.metadata,
            ManifestObject::Secret(secret) => &secret.metadata,
        }
    }

    /// Applies the API server's conversion and defaults, then validates.
    pub(crate) fn default_and_validate(&mut self) -> Vec<FieldError> {
        match self {
            ManifestObject::Pod(pod) => {
                apply_defaults(pod);
                validate(pod)
            }
            ManifestObject::ConfigMap(config_map) => {
                apply_config_map_defaults(config_map);
                validate_config_map(config_map)
            }
            ManifestObject::Secret(secret) => {
                apply_secret_defaults(secret);
                validate_secret(secret)
            }
        }
    }

    /// The name shown in messages: the name, or the generateName prefix.
    pub(crate) fn display_name(&self) -> Option<String> {
        let meta = self.metadata();
        [&meta.name, &meta.generate_name]
            .into_iter()
            .flatten()
            .find(|s| !s.is_empty())
            .cloned()
    }

    /// `(kind, namespace, name)`; `None` while only a generateName is known.
    pub(crate) fn identity(&self) -> Option<(&'static str, String, String)> {
        let meta = self.metadata();
        let name = meta.name.clone().filter(|n| !n.is_empty())?;
        Some((
            self.kind(),
            meta.namespace.clone().unwrap_or_default(),
            name,
        ))
    }
}

/// A decoded object and the document it came from.
#[derive(Clone, Debug)]
pub(crate) struct LocatedObject {
    pub location: DocumentLocation,
    pub object: ManifestObject,
}
