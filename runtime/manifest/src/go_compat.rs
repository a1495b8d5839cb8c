//! Input the Go decoders accept but k8s-openapi's typed serde would reject.
//!
//! * ConfigMap/Secret maps: see [`normalize_config_map`] and [`normalize_secret`].
//!
//! * `resource.Quantity` unmarshals from JSON numbers (`cpu: 1`), k8s-openapi's
//!   `Quantity` only from strings.
//! * sigs.k8s.io/yaml (go-yaml v2, YAML 1.1) reads `0644` as octal 420; serde_yaml
//!   (YAML 1.2) reads it as the string "0644". Only file-mode fields are integers
//!   that people write in octal, so only those are converted.

use serde_json::Value;

/// Fields whose value is a single `Quantity`.
const QUANTITY_FIELDS: &[&str] = &["sizeLimit", "divisor"];
/// Fields whose value is a map of `Quantity` (under `resources`, or `overhead` anywhere).
const QUANTITY_MAP_FIELDS_UNDER_RESOURCES: &[&str] = &["limits", "requests"];
const FILE_MODE_FIELDS: &[&str] = &["defaultMode", "mode"];

pub(crate) fn normalize(value: &mut Value, yaml_octal: bool) {
    walk(value, None, yaml_octal);
}

fn walk(value: &mut Value, parent_key: Option<&str>, yaml_octal: bool) {
    match value {
        Value::Object(object) => {
            for (key, child) in object.iter_mut() {
                let key = key.as_str();
                if QUANTITY_FIELDS.contains(&key) {
                    number_to_string(child);
                } else if key == "overhead"
                    || (parent_key == Some("resources")
                        && QUANTITY_MAP_FIELDS_UNDER_RESOURCES.contains(&key))
                {
                    if let Value::Object(map) = child {
                        map.values_mut().for_each(number_to_string);
                    }
                } else if yaml_octal && FILE_MODE_FIELDS.contains(&key) {
                    octal_string_to_number(child);
                }
                walk(child, Some(key), yaml_octal);
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, parent_key, yaml_octal);
            }
        }
        _ => {}
    }
}

/// ConfigMap `data` is `map[string]string`: Go stores a `null` value as "".
/// `binaryData` is base64 that Go decodes ignoring line breaks.
pub(crate) fn normalize_config_map(value: &mut Value) {
    null_values_to_empty_strings(value.get_mut("data"));
    strip_base64_line_breaks(value.get_mut("binaryData"));
}

/// Secret `data` is base64 (Go ignores line breaks in it); `stringData` values of
/// `null` become "".
pub(crate) fn normalize_secret(value: &mut Value) {
    strip_base64_line_breaks(value.get_mut("data"));
    null_values_to_empty_strings(value.get_mut("stringData"));
}

fn null_values_to_empty_strings(map: Option<&mut Value>) {
    if let Some(Value::Object(map)) = map {
        for value in map.values_mut().filter(|v| v.is_null()) {
            *value = Value::String(String::new());
        }
    }
}

fn strip_base64_line_breaks(map: Option<&mut Value>) {
    if let Some(Value::Object(map)) = map {
        for value in map.values_mut() {
            if let Value::String(text) = value {
                text.retain(|c| c != '\r' && c != '\n');
            }
        }
    }
}

fn number_to_string(value: &mut Value) {
    if let Value::Number(n) = value {
        *value = Value::String(n.to_string());
    }
}

fn octal_string_to_number(value: &mut Value) {
    let Value::String(s) = value else { return };
    let digits = s.strip_prefix('0').unwrap_or("");
    if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return;
    }
    if let Ok(n) = i64::from_str_radix(digits, 8) {
        *value = Value::from(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities_and_octal_modes_are_normalised() {
        let mut value = json!({
            "spec": {
                "overhead": {"cpu": 1},
                "containers": [{"resources": {"limits": {"cpu": 1, "memory": "1Gi"}, "requests": {"cpu": 0.5}}}],
                "volumes": [{"emptyDir": {"sizeLimit": 1}}, {"configMap": {"defaultMode": "0644", "items": [{"mode": "0400"}]}}]
            }
        });
        normalize(&mut value, true);
        assert_eq!(
            value,
            json!({
                "spec": {
                    "overhead": {"cpu": "1"},
                    "containers": [{"resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "0.5"}}}],
                    "volumes": [{"emptyDir": {"sizeLimit": "1"}}, {"configMap": {"defaultMode": 420, "items": [{"mode": 256}]}}]
                }
            })
        );
    }

    #[test]
    fn octal_is_yaml_only_and_leaves_other_strings() {
        let mut value = json!({"defaultMode": "0644", "mode": "rw", "x": {"mode": "0"}});
        normalize(&mut value.clone(), false);
        let before = value.clone();
        normalize(&mut value, false);
        assert_eq!(value, before);
        normalize(&mut value, true);
        assert_eq!(
            value,
            json!({"defaultMode": 420, "mode": "rw", "x": {"mode": "0"}})
        );
    }
}
