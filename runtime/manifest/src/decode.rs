//! From a JSON value to typed objects: type-meta checks, `List` expansion, strict
//! decoding (unknown fields and type errors).

use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::documents::{Format, RawDocument};
use crate::error::{DocumentLocation, ManifestError, ObjectRef};
use crate::go_compat;
use crate::objects::{LocatedObject, ManifestObject};
use crate::unknown_fields::unknown_fields;

const LIST_FIELDS: &[&str] = &["apiVersion", "kind", "metadata", "items"];

/// kube-apiserver's request body limit for JSON (`MaxRequestBodyBytes`, 3 MiB). `kubectl
/// apply` sends each object as one JSON body, so a bigger object is refused with 413
/// `RequestEntityTooLarge`; a local manifest holding one is refused the same way.
pub const MAX_OBJECT_JSON_BYTES: usize = 3 * 1024 * 1024;

/// Decodes one document; a `List` yields its items.
pub(crate) fn decode_document(document: RawDocument) -> Result<Vec<LocatedObject>, ManifestError> {
    let RawDocument {
        location,
        format,
        value,
    } = document;
    let type_meta = read_type_meta(&location, &value, None)?;
    if type_meta.is_list() {
        return decode_list(location, format, type_meta, value);
    }
    Ok(vec![decode_object(location, format, type_meta, value)?])
}

struct TypeMeta {
    api_version: String,
    kind: String,
    name: Option<String>,
}

impl TypeMeta {
    fn is_list(&self) -> bool {
        self.api_version == "v1" && (self.kind == "List" || self.typed_list_item().is_some())
    }

    /// The kind every item of a typed list (`PodList`, …) has.
    fn typed_list_item(&self) -> Option<&'static str> {
        match self.kind.as_str() {
            "PodList" => Some("Pod"),
            "ConfigMapList" => Some("ConfigMap"),
            "SecretList" => Some("Secret"),
            _ => None,
        }
    }

    fn object(&self) -> ObjectRef {
        ObjectRef {
            kind: self.kind.clone(),
            name: self.name.clone(),
        }
    }
}

/// Reads apiVersion/kind; `implied` supplies them for items of a typed `PodList`.
fn read_type_meta(
    location: &DocumentLocation,
    value: &Value,
    implied: Option<(&str, &str)>,
) -> Result<TypeMeta, ManifestError> {
    let Value::Object(object) = value else {
        return Err(ManifestError::NotAnObject {
            location: location.clone(),
            found: json_type_name(value),
        });
    };
    let name = object
        .get("metadata")
        .and_then(|m| m.get("name").or_else(|| m.get("generateName")))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let text = |field: &str| {
        object
            .get(field)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let api_version = text("apiVersion").or(implied.map(|(v, _)| v.to_owned()));
    let kind = text("kind").or(implied.map(|(_, k)| k.to_owned()));
    match (api_version, kind) {
        (Some(api_version), Some(kind)) => Ok(TypeMeta {
            api_version,
            kind,
            name,
        }),
        (api_version, kind) => {
            let mut missing = Vec::new();
            if api_version.is_none() {
                missing.push("apiVersion");
            }
            if kind.is_none() {
                missing.push("kind");
            }
            Err(ManifestError::MissingTypeMeta {
                location: location.clone(),
                missing,
                name,
            })
        }
    }
}

fn decode_list(
    location: DocumentLocation,
    format: Format,
    type_meta: TypeMeta,
    mut value: Value,
) -> Result<Vec<LocatedObject>, ManifestError> {
    let Value::Object(object) = &mut value else {
        return Err(ManifestError::NotAnObject {
            location,
            found: json_type_name(&value),
        });
    };
    let mut unknown: Vec<String> = object
        .iter()
        .filter(|(key, v)| !v.is_null() && !LIST_FIELDS.contains(&key.as_str()))
        .map(|(key, _)| key.clone())
        .collect();
    unknown.sort();
    if !unknown.is_empty() {
        return Err(ManifestError::UnknownFields {
            location,
            object: type_meta.object(),
            fields: unknown,
        });
    }
    let items = match object.remove("items") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(ManifestError::TypeMismatch {
                location,
                object: type_meta.object(),
                path: "items".to_owned(),
                message: format!(
                    "invalid type: {}, expected a sequence",
                    json_type_name(&other)
                ),
            })
        }
    };
    let implied = type_meta.typed_list_item().map(|kind| ("v1", kind));
    let mut objects = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let item_location = DocumentLocation {
            item: Some(index),
            ..location.clone()
        };
        let item_meta = read_type_meta(&item_location, &item, implied)?;
        objects.push(decode_object(item_location, format, item_meta, item)?);
    }
    Ok(objects)
}

fn decode_object(
    location: DocumentLocation,
    format: Format,
    type_meta: TypeMeta,
    mut value: Value,
) -> Result<LocatedObject, ManifestError> {
    if !crate::SUPPORTED_KINDS.contains(&type_meta.kind.as_str()) {
        return Err(ManifestError::UnsupportedKind {
            location,
            object: type_meta.object(),
            api_version: type_meta.api_version,
        });
    }
    if type_meta.api_version != "v1" {
        return Err(ManifestError::UnsupportedApiVersion {
            location,
            object: type_meta.object(),
            api_version: type_meta.api_version,
        });
    }
    let size = json_size(&value);
    if size > MAX_OBJECT_JSON_BYTES {
        return Err(ManifestError::TooLarge {
            location,
            object: type_meta.object(),
            size,
            limit: MAX_OBJECT_JSON_BYTES,
        });
    }
    if let Value::Object(object) = &mut value {
        // Items of a typed PodList may omit them; the typed object always writes them.
        object.insert("apiVersion".to_owned(), Value::from("v1"));
        object.insert("kind".to_owned(), Value::from(type_meta.kind.as_str()));
    }
    let object = match type_meta.kind.as_str() {
        "ConfigMap" => {
            go_compat::normalize_config_map(&mut value);
            ManifestObject::ConfigMap(Box::new(decode_typed::<ConfigMap>(
                &location, &type_meta, value,
            )?))
        }
        "Secret" => {
            go_compat::normalize_secret(&mut value);
            ManifestObject::Secret(Box::new(decode_typed::<Secret>(
                &location, &type_meta, value,
            )?))
        }
        _ => {
            go_compat::normalize(&mut value, format == Format::Yaml);
            ManifestObject::Pod(Box::new(decode_typed::<Pod>(&location, &type_meta, value)?))
        }
    };
    Ok(LocatedObject { location, object })
}

/// Strict typed decode: type errors with their path, then unknown fields.
fn decode_typed<T: DeserializeOwned + Serialize>(
    location: &DocumentLocation,
    type_meta: &TypeMeta,
    value: Value,
) -> Result<T, ManifestError> {
    let typed: T = serde_path_to_error::deserialize(value.clone()).map_err(|error| {
        let path = error.path().to_string();
        ManifestError::TypeMismatch {
            location: location.clone(),
            object: type_meta.object(),
            path,
            message: error.into_inner().to_string(),
        }
    })?;

    let reencoded = serde_json::to_value(&typed).map_err(|error| ManifestError::TypeMismatch {
        location: location.clone(),
        object: type_meta.object(),
        path: ".".to_owned(),
        message: error.to_string(),
    })?;
    let unknown = unknown_fields(&value, &reencoded);
    if !unknown.is_empty() {
        return Err(ManifestError::UnknownFields {
            location: location.clone(),
            object: type_meta.object(),
            fields: unknown,
        });
    }
    Ok(typed)
}

/// Length of `value` as compact JSON (what kubectl sends), without building the text.
fn json_size(value: &Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing a Value to a sink that never fails cannot fail.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}
