//! Just enough of Kubernetes' protobuf encoding to accept what kubectl's `create configmap`,
//! `create secret` and `create namespace` send (`Content-Type: application/vnd.kubernetes.protobuf`):
//! the `k8s\0` envelope (`runtime.Unknown`) around ConfigMap, Secret or Namespace, decoded
//! to the JSON the rest of the server works on.

use base64::Engine;
use serde_json::{json, Map, Value};

use crate::status_errors::ApiError;

pub(crate) const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";
const MAGIC: &[u8] = b"k8s\x00";

enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

fn malformed() -> ApiError {
    ApiError::bad_request("the protobuf request body is malformed")
}

fn varint(data: &[u8], at: &mut usize) -> Result<u64, ApiError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *data.get(*at).ok_or_else(malformed)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(malformed())
}

/// Every `(field number, value)` of one message, in order.
fn fields(data: &[u8]) -> Result<Vec<(u64, Field<'_>)>, ApiError> {
    let mut at = 0;
    let mut out = Vec::new();
    while at < data.len() {
        let tag = varint(data, &mut at)?;
        let field = match tag & 7 {
            0 => Field::Varint(varint(data, &mut at)?),
            2 => {
                let len = usize::try_from(varint(data, &mut at)?).map_err(|_| malformed())?;
                let end = at
                    .checked_add(len)
                    .filter(|e| *e <= data.len())
                    .ok_or_else(malformed)?;
                let bytes = &data[at..end];
                at = end;
                Field::Bytes(bytes)
            }
            1 => {
                at = at
                    .checked_add(8)
                    .filter(|e| *e <= data.len())
                    .ok_or_else(malformed)?;
                continue;
            }
            5 => {
                at = at
                    .checked_add(4)
                    .filter(|e| *e <= data.len())
                    .ok_or_else(malformed)?;
                continue;
            }
            _ => return Err(malformed()),
        };
        out.push((tag >> 3, field));
    }
    Ok(out)
}

fn text(bytes: &[u8]) -> Result<String, ApiError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| malformed())
}

/// A `map<string, string|bytes>` entry; bytes values become base64 (their JSON form).
fn map_entry(bytes: &[u8], binary: bool) -> Result<(String, Value), ApiError> {
    let mut key = String::new();
    let mut value = Value::String(String::new());
    for (number, field) in fields(bytes)? {
        match (number, field) {
            (1, Field::Bytes(b)) => key = text(b)?,
            (2, Field::Bytes(b)) if binary => {
                value = json!(base64::engine::general_purpose::STANDARD.encode(b))
            }
            (2, Field::Bytes(b)) => value = json!(text(b)?),
            _ => {}
        }
    }
    Ok((key, value))
}

fn insert_entry(
    map: &mut Map<String, Value>,
    field: &str,
    bytes: &[u8],
    binary: bool,
) -> Result<(), ApiError> {
    let (key, value) = map_entry(bytes, binary)?;
    let entry = map.entry(field).or_insert_with(|| json!({}));
    if let Value::Object(entries) = entry {
        entries.insert(key, value);
    }
    Ok(())
}

fn object_meta(bytes: &[u8]) -> Result<Value, ApiError> {
    let mut meta = Map::new();
    for (number, field) in fields(bytes)? {
        match (number, field) {
            (1, Field::Bytes(b)) => {
                meta.insert("name".into(), json!(text(b)?));
            }
            (2, Field::Bytes(b)) => {
                meta.insert("generateName".into(), json!(text(b)?));
            }
            (3, Field::Bytes(b)) => {
                meta.insert("namespace".into(), json!(text(b)?));
            }
            (11, Field::Bytes(b)) => insert_entry(&mut meta, "labels", b, false)?,
            (12, Field::Bytes(b)) => insert_entry(&mut meta, "annotations", b, false)?,
            (14, Field::Bytes(b)) => {
                let finalizers = meta.entry("finalizers").or_insert_with(|| json!([]));
                if let Value::Array(list) = finalizers {
                    list.push(json!(text(b)?));
                }
            }
            _ => {}
        }
    }
    Ok(Value::Object(meta))
}

/// Decodes a protobuf request body of `kind` into JSON.
pub(crate) fn decode(kind: &str, body: &[u8]) -> Result<Value, ApiError> {
    let envelope = body.strip_prefix(MAGIC).ok_or_else(malformed)?;
    let mut raw: &[u8] = &[];
    for (number, field) in fields(envelope)? {
        if let (2, Field::Bytes(b)) = (number, field) {
            raw = b;
        }
    }
    let mut object = Map::new();
    object.insert("kind".into(), json!(kind));
    object.insert("apiVersion".into(), json!("v1"));
    for (number, field) in fields(raw)? {
        match (kind, number, field) {
            (_, 1, Field::Bytes(b)) => {
                object.insert("metadata".into(), object_meta(b)?);
            }
            ("ConfigMap", 2, Field::Bytes(b)) => insert_entry(&mut object, "data", b, false)?,
            ("ConfigMap", 3, Field::Bytes(b)) => insert_entry(&mut object, "binaryData", b, true)?,
            ("ConfigMap", 4, Field::Varint(v)) | ("Secret", 5, Field::Varint(v)) => {
                object.insert("immutable".into(), json!(v != 0));
            }
            ("Secret", 2, Field::Bytes(b)) => insert_entry(&mut object, "data", b, true)?,
            ("Secret", 3, Field::Bytes(b)) => {
                object.insert("type".into(), json!(text(b)?));
            }
            ("Secret", 4, Field::Bytes(b)) => insert_entry(&mut object, "stringData", b, false)?,
            _ => {}
        }
    }
    if !matches!(kind, "ConfigMap" | "Secret" | "Namespace") {
        return Err(ApiError::unsupported_media_type(
            PROTOBUF,
            &["application/json", "application/yaml"],
        ));
    }
    Ok(Value::Object(object))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes_field(number: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![(number << 3) | 2, payload.len() as u8];
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn decodes_a_config_map_envelope() {
        let meta = bytes_field(1, b"cfg");
        let entry = [bytes_field(1, b"a"), bytes_field(2, b"b")].concat();
        let config_map = [bytes_field(1, &meta), bytes_field(2, &entry)].concat();
        let body = [MAGIC.to_vec(), bytes_field(2, &config_map)].concat();
        let value = decode("ConfigMap", &body).unwrap();
        assert_eq!(value["metadata"]["name"], "cfg");
        assert_eq!(value["data"]["a"], "b");
        assert_eq!(decode("ConfigMap", b"junk").unwrap_err().code, 400);
    }
}
