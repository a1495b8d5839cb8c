//! Multi-line `Label:\tvalue` blocks of `kubectl describe`: labels, annotations, tolerations,
//! topology spread constraints (`describe.go` `printLabelsMultiline`, `printAnnotationsMultiline`,
//! `printTolerationsMultilineWithIndent`, `describeTopologySpreadConstraints`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Toleration, TopologySpreadConstraint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::prefix_writer::{PrefixWriter, LEVEL_0};
use crate::text::or_empty;

/// Annotations longer than this are wrapped onto their own lines.
const MAX_ANNOTATION_LEN: usize = 140;

/// Hidden from describe output (`corev1.LastAppliedConfigAnnotation`).
const LAST_APPLIED_CONFIG_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// `Title:\tk=v` with continuation lines starting with a tab; `<none>` when empty. Keys sorted.
pub fn print_labels_multiline(
    w: &mut PrefixWriter,
    title: &str,
    labels: Option<&BTreeMap<String, String>>,
) {
    w.write(LEVEL_0, &format!("{title}:\t"));
    let labels = match labels {
        Some(l) if !l.is_empty() => l,
        _ => {
            w.write_line("<none>");
            return;
        }
    };
    for (i, (key, value)) in labels.iter().enumerate() {
        if i != 0 {
            w.write(LEVEL_0, "\t");
        }
        w.write(LEVEL_0, &format!("{key}={value}\n"));
    }
}

/// `Title:\tk: v`, long or multi-line values on their own indented lines.
pub fn print_annotations_multiline(
    w: &mut PrefixWriter,
    title: &str,
    annotations: Option<&BTreeMap<String, String>>,
) {
    w.write(LEVEL_0, &format!("{title}:\t"));
    let entries: Vec<(&String, &String)> = annotations
        .into_iter()
        .flatten()
        .filter(|(key, _)| key.as_str() != LAST_APPLIED_CONFIG_ANNOTATION)
        .collect();
    if entries.is_empty() {
        w.write_line("<none>");
        return;
    }
    let indent = "\t";
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i != 0 {
            w.write(LEVEL_0, indent);
        }
        let value = value.strip_suffix('\n').unwrap_or(value);
        if value.len() + key.len() + 2 > MAX_ANNOTATION_LEN || value.contains('\n') {
            w.write(LEVEL_0, &format!("{key}:\n"));
            for part in value.split('\n') {
                let shortened = shorten(part, MAX_ANNOTATION_LEN - 2);
                w.write(LEVEL_0, &format!("{indent}  {shortened}\n"));
            }
        } else {
            w.write(LEVEL_0, &format!("{key}: {value}\n"));
        }
    }
}

/// Cuts to `max_len` bytes (on a character boundary) and appends `...`.
fn shorten(text: &str, max_len: usize) -> String {
    if text.len() <= max_len {
        return text.to_string();
    }
    let mut cut = max_len;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}...", &text[..cut])
}

/// `Title:\tkey[=value][:Effect][ op=Exists][ for Ns]`, sorted by key; `<none>` when empty.
pub fn print_tolerations_multiline(
    w: &mut PrefixWriter,
    title: &str,
    tolerations: Option<&Vec<Toleration>>,
) {
    w.write(LEVEL_0, &format!("{title}:\t"));
    let mut sorted: Vec<&Toleration> = tolerations.into_iter().flatten().collect();
    if sorted.is_empty() {
        w.write_line("<none>");
        return;
    }
    // Go's sort.Slice by key (insertion sort for short lists, i.e. stable).
    sorted.sort_by(|a, b| or_empty(&a.key).cmp(or_empty(&b.key)));
    for (i, toleration) in sorted.into_iter().enumerate() {
        if i != 0 {
            w.write(LEVEL_0, "\t");
        }
        let key = or_empty(&toleration.key);
        let value = or_empty(&toleration.value);
        let effect = or_empty(&toleration.effect);
        let mut text = key.to_string();
        if !value.is_empty() {
            text.push('=');
            text.push_str(value);
        }
        if !effect.is_empty() {
            text.push(':');
            text.push_str(effect);
        }
        // `operator: Exists` without a value tolerates everything.
        if toleration.operator.as_deref() == Some("Exists") && value.is_empty() {
            if !key.is_empty() || !effect.is_empty() {
                text.push_str(" op=Exists");
            } else {
                text.push_str("op=Exists");
            }
        }
        if let Some(seconds) = toleration.toleration_seconds {
            text.push_str(&format!(" for {seconds}s"));
        }
        text.push('\n');
        w.write(LEVEL_0, &text);
    }
}

/// `Topology Spread Constraints:\t<key>:<policy> when max skew N is exceeded[ for selector S]`.
pub fn describe_topology_spread_constraints(
    w: &mut PrefixWriter,
    constraints: Option<&Vec<TopologySpreadConstraint>>,
) {
    let mut sorted: Vec<&TopologySpreadConstraint> = constraints.into_iter().flatten().collect();
    if sorted.is_empty() {
        return;
    }
    sorted.sort_by(|a, b| a.topology_key.cmp(&b.topology_key));
    w.write(LEVEL_0, "Topology Spread Constraints:\t");
    for (i, tsc) in sorted.into_iter().enumerate() {
        if i != 0 {
            w.write(LEVEL_0, "\t");
        }
        let mut text = format!(
            "{}:{} when max skew {} is exceeded",
            tsc.topology_key, tsc.when_unsatisfiable, tsc.max_skew
        );
        if let Some(selector) = &tsc.label_selector {
            text.push_str(&format!(
                " for selector {}",
                format_label_selector(selector)
            ));
        }
        text.push('\n');
        w.write(LEVEL_0, &text);
    }
}

/// apimachinery `FormatLabelSelector`: requirements sorted by key, `<none>` when empty.
pub fn format_label_selector(selector: &LabelSelector) -> String {
    let mut requirements: Vec<(String, String)> = Vec::new();
    for (key, value) in selector.match_labels.iter().flatten() {
        requirements.push((key.clone(), format!("{key}={value}")));
    }
    for expr in selector.match_expressions.iter().flatten() {
        let mut values = expr.values.clone().unwrap_or_default();
        values.sort();
        let text = match expr.operator.as_str() {
            "In" => format!("{} in ({})", expr.key, values.join(",")),
            "NotIn" => format!("{} notin ({})", expr.key, values.join(",")),
            "Exists" => expr.key.clone(),
            "DoesNotExist" => format!("!{}", expr.key),
            _ => return "<error>".to_string(),
        };
        requirements.push((expr.key.clone(), text));
    }
    requirements.sort_by(|a, b| a.0.cmp(&b.0));
    let joined: Vec<String> = requirements.into_iter().map(|(_, text)| text).collect();
    if joined.is_empty() {
        "<none>".to_string()
    } else {
        joined.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(f: impl FnOnce(&mut PrefixWriter)) -> String {
        let mut w = PrefixWriter::new();
        f(&mut w);
        w.finish()
    }

    #[test]
    fn labels_continuation_lines_align() {
        let labels = BTreeMap::from([
            ("b".to_string(), "2".to_string()),
            ("app".to_string(), "web".to_string()),
        ]);
        let out = render(|w| {
            w.write(LEVEL_0, "Name:\tx\n");
            print_labels_multiline(w, "Labels", Some(&labels));
            print_labels_multiline(w, "Node-Selectors", None);
        });
        assert_eq!(
            out,
            "Name:            x\nLabels:          app=web\n                 b=2\nNode-Selectors:  <none>\n"
        );
    }

    #[test]
    fn annotations_hide_last_applied_and_wrap_long_values() {
        let long = "v".repeat(150);
        let annotations = BTreeMap::from([
            (LAST_APPLIED_CONFIG_ANNOTATION.to_string(), "{}".to_string()),
            ("a".to_string(), "short".to_string()),
            ("b".to_string(), long.clone()),
        ]);
        let out = render(|w| print_annotations_multiline(w, "Annotations", Some(&annotations)));
        let expected = format!(
            "Annotations:  a: short\n              b:\n                {}...\n",
            &long[..138]
        );
        assert_eq!(out, expected);
        let only_hidden =
            BTreeMap::from([(LAST_APPLIED_CONFIG_ANNOTATION.to_string(), "{}".to_string())]);
        let out = render(|w| print_annotations_multiline(w, "Annotations", Some(&only_hidden)));
        assert_eq!(out, "Annotations:  <none>\n");
    }

    #[test]
    fn tolerations_format_and_sort() {
        let tolerations: Vec<Toleration> = serde_json::from_value(serde_json::json!([
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"},
            {"operator": "Exists"},
        ]))
        .expect("valid tolerations");
        let out = render(|w| print_tolerations_multiline(w, "Tolerations", Some(&tolerations)));
        assert_eq!(
            out,
            "Tolerations:  op=Exists\n              dedicated=gpu:NoSchedule\n              node.kubernetes.io/not-ready:NoExecute op=Exists for 300s\n              node.kubernetes.io/unreachable:NoExecute op=Exists for 300s\n"
        );
    }

    #[test]
    fn label_selector_text() {
        let selector: LabelSelector = serde_json::from_value(serde_json::json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]},
                                 {"key": "canary", "operator": "DoesNotExist"}],
        }))
        .expect("valid selector");
        assert_eq!(
            format_label_selector(&selector),
            "app=web,!canary,tier in (a,b)"
        );
    }
}
