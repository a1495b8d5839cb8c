//! What the API server does to ConfigMaps and Secrets before validating them: the v1 →
//! internal conversion (Secret `stringData` is merged into `data`) and
//! `SetDefaults_Secret`. Idempotent.

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::ByteString;

use crate::defaults::DEFAULT_NAMESPACE;

/// `SetDefaults_Secret`.
pub const DEFAULT_SECRET_TYPE: &str = "Opaque";

/// Fills in the namespace (kubectl's default context namespace).
pub fn apply_config_map_defaults(config_map: &mut ConfigMap) {
    default_namespace(&mut config_map.metadata.namespace);
}

/// Fills in the namespace and type, and moves `stringData` into `data` (a `stringData`
/// entry wins over a `data` entry with the same key, as in `Convert_v1_Secret_To_core_Secret`).
pub fn apply_secret_defaults(secret: &mut Secret) {
    default_namespace(&mut secret.metadata.namespace);
    if let Some(string_data) = secret.string_data.take() {
        if !string_data.is_empty() {
            let data = secret.data.get_or_insert_with(Default::default);
            for (key, value) in string_data {
                data.insert(key, ByteString(value.into_bytes()));
            }
        }
    }
    if secret.type_.as_deref().is_none_or(str::is_empty) {
        secret.type_ = Some(DEFAULT_SECRET_TYPE.to_owned());
    }
}

fn default_namespace(namespace: &mut Option<String>) {
    if namespace.as_deref().is_none_or(str::is_empty) {
        *namespace = Some(DEFAULT_NAMESPACE.to_owned());
    }
}
