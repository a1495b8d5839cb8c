//! Field selectors (k8s.io/apimachinery/pkg/fields) and the per-kind selectable fields
//! kube-apiserver supports (field label conversion functions and `ToSelectableFields`).

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::error::FieldSelectorError;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    field: String,
    value: String,
    negated: bool,
}

/// A parsed field selector: terms ANDed. An empty selector matches everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    terms: Vec<Term>,
}

impl FieldSelector {
    /// Go's `fields.ParseSelector`: comma-separated `field=value`, `field==value` or
    /// `field!=value`; `\,`, `\=` and `\\` escape characters in values.
    pub fn parse(selector: &str) -> Result<FieldSelector, FieldSelectorError> {
        let mut parts = split_terms(selector);
        parts.sort();
        let mut terms = Vec::new();
        for part in parts {
            if part.is_empty() {
                continue;
            }
            let Some((field, op, rhs)) = split_term(part) else {
                return Err(FieldSelectorError(format!(
                    "invalid selector: '{selector}'; can't understand '{part}'"
                )));
            };
            terms.push(Term {
                field: field.to_string(),
                value: unescape_value(rhs)?,
                negated: op == "!=",
            });
        }
        Ok(FieldSelector { terms })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Does an object whose fields `get` returns match? A missing field reads as "".
    pub fn matches(&self, get: impl Fn(&str) -> Option<String>) -> bool {
        self.terms.iter().all(|t| {
            let actual = get(&t.field).unwrap_or_default();
            (actual == t.value) != t.negated
        })
    }

    /// Match against the selectable fields of `object` of kind `kind`.
    pub fn matches_object(&self, kind: &str, object: &Value) -> bool {
        let fields = selectable_fields(kind, object);
        self.matches(|f| fields.get(f).cloned())
    }

    /// Go's `RequiresExactMatch`.
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.terms
            .iter()
            .find(|t| !t.negated && t.field == field)
            .map(|t| t.value.as_str())
    }

    /// Check every field against what kube-apiserver accepts for `kind` (its field label
    /// conversion function) and apply its renames (pods: `spec.host` -> `spec.nodeName`).
    pub fn for_kind(self, kind: &str) -> Result<FieldSelector, FieldSelectorError> {
        let terms = self
            .terms
            .into_iter()
            .map(|t| {
                let field = convert_field_label(kind, &t.field)?;
                Ok(Term { field, ..t })
            })
            .collect::<Result<_, FieldSelectorError>>()?;
        Ok(FieldSelector { terms })
    }
}

impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let op = if t.negated { "!=" } else { "=" };
            write!(f, "{}{op}{}", t.field, escape_value(&t.value))?;
        }
        Ok(())
    }
}

/// Go's `splitTerms`: split on commas not escaped by a backslash.
fn split_terms(selector: &str) -> Vec<&str> {
    if selector.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in selector.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&selector[start..i]);
            start = i + 1;
        }
    }
    terms.push(&selector[start..]);
    terms
}

/// Go's `splitTerm`: the first operator occurrence splits the term.
fn split_term(term: &str) -> Option<(&str, &'static str, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        for op in ["!=", "==", "="] {
            if let Some(rhs) = rest.strip_prefix(op) {
                return Some((&term[..i], op, rhs));
            }
        }
    }
    None
}

fn escape_value(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace('=', "\\=")
}

/// Go's `fields.UnescapeValue`.
fn unescape_value(s: &str) -> Result<String, FieldSelectorError> {
    let mut out = String::with_capacity(s.len());
    let mut in_slash = false;
    for c in s.chars() {
        if in_slash {
            match c {
                '\\' | ',' | '=' => out.push(c),
                other => {
                    return Err(FieldSelectorError(format!(
                        "invalid field selector: invalid escape sequence: \\{other}"
                    )))
                }
            }
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            // Go prints the rune with %v, i.e. its code point number.
            ',' | '=' => {
                return Err(FieldSelectorError(format!(
                    "invalid field selector: unescapedRune character in value: {}",
                    c as u32
                )))
            }
            c => out.push(c),
        }
    }
    if in_slash {
        return Err(FieldSelectorError(
            "invalid field selector: invalid escape sequence: \\".into(),
        ));
    }
    Ok(out)
}

const POD_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
];

const EVENT_FIELDS: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
    "metadata.namespace",
    "metadata.name",
];

const REPLICAS_FIELDS: &[&str] = &["metadata.name", "metadata.namespace", "status.replicas"];
const SECRET_FIELDS: &[&str] = &["metadata.name", "metadata.namespace", "type"];
const NAMESPACE_FIELDS: &[&str] = &["metadata.name", "status.phase"];
const NODE_FIELDS: &[&str] = &["metadata.name", "spec.unschedulable"];

/// The fields kube-apiserver accepts in field selectors for `kind`, or `None` for kinds using
/// the default (`metadata.name`, `metadata.namespace` with the default error text).
pub fn supported_fields(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "Pod" => POD_FIELDS,
        "Event" => EVENT_FIELDS,
        "ReplicaSet" | "ReplicationController" => REPLICAS_FIELDS,
        "Secret" => SECRET_FIELDS,
        "Namespace" => NAMESPACE_FIELDS,
        "Node" => NODE_FIELDS,
        _ => return None,
    })
}

/// The kind's field label conversion function (`scheme.ConvertFieldLabel`).
fn convert_field_label(kind: &str, label: &str) -> Result<String, FieldSelectorError> {
    if kind == "Pod" && label == "spec.host" {
        // Backwards compatibility with old v1 clients.
        return Ok("spec.nodeName".into());
    }
    match supported_fields(kind) {
        Some(fields) if fields.contains(&label) => Ok(label.to_string()),
        Some(_) => Err(FieldSelectorError(format!("field label not supported: {label}"))),
        None if label == "metadata.name" || label == "metadata.namespace" => Ok(label.to_string()),
        None => Err(FieldSelectorError(format!(
            "\"{label}\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
        ))),
    }
}

fn text_at<'a>(object: &'a Value, path: &[&str]) -> &'a str {
    let mut current = object;
    for key in path {
        match current.get(key) {
            Some(next) => current = next,
            None => return "",
        }
    }
    current.as_str().unwrap_or("")
}

/// The field values kube-apiserver's `ToSelectableFields` computes for `object` of `kind`
/// (Go field sets always contain every key, empty when unset).
pub fn selectable_fields(kind: &str, object: &Value) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        fields.insert(k.to_string(), v);
    };
    put(
        "metadata.name",
        text_at(object, &["metadata", "name"]).into(),
    );
    if kind != "Namespace" && kind != "Node" {
        put(
            "metadata.namespace",
            text_at(object, &["metadata", "namespace"]).into(),
        );
    }
    match kind {
        "Pod" => {
            for (field, path) in [
                ("spec.nodeName", &["spec", "nodeName"][..]),
                ("spec.restartPolicy", &["spec", "restartPolicy"]),
                ("spec.schedulerName", &["spec", "schedulerName"]),
                ("spec.serviceAccountName", &["spec", "serviceAccountName"]),
                ("status.phase", &["status", "phase"]),
                ("status.nominatedNodeName", &["status", "nominatedNodeName"]),
            ] {
                put(field, text_at(object, path).into());
            }
            let host_network = object
                .pointer("/spec/hostNetwork")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            put("spec.hostNetwork", host_network.to_string());
            // The internal type only has podIPs; v1 conversion fills it from podIP if needed.
            let pod_ip = object
                .pointer("/status/podIPs/0/ip")
                .and_then(Value::as_str)
                .unwrap_or_else(|| text_at(object, &["status", "podIP"]));
            put("status.podIP", pod_ip.into());
        }
        "Event" => {
            for field in [
                "kind",
                "namespace",
                "name",
                "uid",
                "apiVersion",
                "resourceVersion",
                "fieldPath",
            ] {
                put(
                    &format!("involvedObject.{field}"),
                    text_at(object, &["involvedObject", field]).into(),
                );
            }
            put("reason", text_at(object, &["reason"]).into());
            put("type", text_at(object, &["type"]).into());
            let reporting = text_at(object, &["reportingComponent"]);
            put("reportingComponent", reporting.into());
            let source = match text_at(object, &["source", "component"]) {
                "" => reporting,
                component => component,
            };
            put("source", source.into());
        }
        "ReplicaSet" | "ReplicationController" => {
            let replicas = object
                .pointer("/status/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            put("status.replicas", replicas.to_string());
        }
        "Secret" => put("type", text_at(object, &["type"]).into()),
        "Namespace" => put("status.phase", text_at(object, &["status", "phase"]).into()),
        "Node" => {
            let unschedulable = object
                .pointer("/spec/unschedulable")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            put("spec.unschedulable", unschedulable.to_string());
        }
        _ => {}
    }
    fields
}
