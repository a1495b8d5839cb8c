//! The default profile's filter plugins, in upstream order: NodeUnschedulable,
//! TaintToleration, NodeAffinity (nodeSelector + required node affinity), NodePorts,
//! NodeResourcesFit. The first plugin that rejects a node decides its reasons.

use k8s_openapi::api::core::v1::{NodeSelectorRequirement, NodeSelectorTerm, Pod, Toleration};

use super::node_info::{host_ports, NodeInfo};
use super::resources::Resources;
use crate::taints::{self, NO_EXECUTE, NO_SCHEDULE, TAINT_UNSCHEDULABLE};

/// Why a node cannot take the pod (a framework `Status` with its reasons).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    pub reasons: Vec<String>,
    /// `Unschedulable` (preemption might help) rather than `UnschedulableAndUnresolvable`.
    pub resolvable: bool,
}

impl Rejection {
    fn unresolvable(reason: impl Into<String>) -> Rejection {
        Rejection {
            reasons: vec![reason.into()],
            resolvable: false,
        }
    }
}

pub(crate) const REASON_UNSCHEDULABLE: &str = "node(s) were unschedulable";
pub(crate) const REASON_AFFINITY: &str = "node(s) didn't match Pod's node affinity/selector";
pub(crate) const REASON_PORTS: &str = "node(s) didn't have free ports for the requested pod ports";
pub(crate) const REASON_TOO_MANY_PODS: &str = "Too many pods";
pub(crate) const REASON_CPU: &str = "Insufficient cpu";
pub(crate) const REASON_MEMORY: &str = "Insufficient memory";

/// Runs the filters for `pod` (whose requests are `requests`) on `node`.
pub(crate) fn filter(pod: &Pod, requests: Resources, node: &NodeInfo) -> Result<(), Rejection> {
    let tolerations: &[Toleration] = pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.as_deref())
        .unwrap_or(&[]);
    node_unschedulable(tolerations, node)?;
    taint_toleration(tolerations, node)?;
    node_affinity(pod, node)?;
    node_ports(pod, node)?;
    resources_fit(requests, node)
}

fn node_unschedulable(tolerations: &[Toleration], node: &NodeInfo) -> Result<(), Rejection> {
    let taint = taints::template(TAINT_UNSCHEDULABLE, NO_SCHEDULE);
    if node.unschedulable() && !taints::tolerated_by_any(tolerations, &taint) {
        return Err(Rejection::unresolvable(REASON_UNSCHEDULABLE));
    }
    Ok(())
}

fn taint_toleration(tolerations: &[Toleration], node: &NodeInfo) -> Result<(), Rejection> {
    let untolerated = taints::first_untolerated(&node.taints, tolerations, |t| {
        t.effect == NO_SCHEDULE || t.effect == NO_EXECUTE
    });
    match untolerated {
        Some(taint) => Err(Rejection::unresolvable(format!(
            "node(s) had untolerated taint {{{}: {}}}",
            taint.key,
            taint.value.as_deref().unwrap_or("")
        ))),
        None => Ok(()),
    }
}

fn node_affinity(pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
    let Some(spec) = pod.spec.as_ref() else {
        return Ok(());
    };
    let labels = node.labels();
    let label = |key: &str| labels.and_then(|l| l.get(key)).map(String::as_str);
    let selector_matches = spec
        .node_selector
        .iter()
        .flatten()
        .all(|(key, value)| label(key) == Some(value.as_str()));
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    let affinity_matches = required.is_none_or(|selector| {
        selector
            .node_selector_terms
            .iter()
            .any(|term| term_matches(term, &label, &node.name))
    });
    if selector_matches && affinity_matches {
        Ok(())
    } else {
        Err(Rejection::unresolvable(REASON_AFFINITY))
    }
}

/// A term's expressions and fields all hold; an empty term matches nothing.
fn term_matches<'a>(
    term: &NodeSelectorTerm,
    label: &impl Fn(&str) -> Option<&'a str>,
    node_name: &str,
) -> bool {
    let expressions = term.match_expressions.as_deref().unwrap_or(&[]);
    let fields = term.match_fields.as_deref().unwrap_or(&[]);
    if expressions.is_empty() && fields.is_empty() {
        return false;
    }
    expressions
        .iter()
        .all(|r| requirement_matches(r, label(&r.key)))
        && fields.iter().all(|r| {
            let value = (r.key == "metadata.name").then_some(node_name);
            requirement_matches(r, value)
        })
}

/// `NodeSelectorRequirement` against the node's value for its key (`None` when absent).
fn requirement_matches(requirement: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = requirement.values.as_deref().unwrap_or(&[]);
    let in_values = |v: &str| values.iter().any(|candidate| candidate == v);
    let compare = |ordering: std::cmp::Ordering| {
        let (Some(value), [bound]) = (value, values) else {
            return false;
        };
        match (value.parse::<i64>(), bound.parse::<i64>()) {
            (Ok(value), Ok(bound)) => value.cmp(&bound) == ordering,
            _ => false,
        }
    };
    match requirement.operator.as_str() {
        "In" => value.is_some_and(in_values),
        "NotIn" => !value.is_some_and(in_values),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" => compare(std::cmp::Ordering::Greater),
        "Lt" => compare(std::cmp::Ordering::Less),
        _ => false,
    }
}

fn node_ports(pod: &Pod, node: &NodeInfo) -> Result<(), Rejection> {
    let conflict = host_ports(pod).iter().any(|(ip, protocol, port)| {
        node.host_ports
            .iter()
            .any(|(used_ip, used_protocol, used_port)| {
                used_port == port
                    && used_protocol == protocol
                    && (used_ip == ip || used_ip == "0.0.0.0" || ip == "0.0.0.0")
            })
    });
    if conflict {
        Err(Rejection {
            reasons: vec![REASON_PORTS.into()],
            resolvable: true,
        })
    } else {
        Ok(())
    }
}

/// `fitsRequest`: the pod count first, then cpu and memory; a request larger than the
/// whole node cannot be helped by preemption.
fn resources_fit(requests: Resources, node: &NodeInfo) -> Result<(), Rejection> {
    let mut reasons = Vec::new();
    let mut resolvable = true;
    if node.pod_count as i128 + 1 > node.allowed_pods {
        reasons.push(REASON_TOO_MANY_PODS.to_string());
    }
    if requests != Resources::default() {
        let free_cpu = node.allocatable.milli_cpu - node.requested.milli_cpu;
        if requests.milli_cpu > 0 && requests.milli_cpu > free_cpu {
            reasons.push(REASON_CPU.to_string());
            resolvable &= requests.milli_cpu <= node.allocatable.milli_cpu;
        }
        let free_memory = node.allocatable.memory - node.requested.memory;
        if requests.memory > 0 && requests.memory > free_memory {
            reasons.push(REASON_MEMORY.to_string());
            resolvable &= requests.memory <= node.allocatable.memory;
        }
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(Rejection {
            reasons,
            resolvable,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Node;
    use serde_json::json;

    fn node(value: serde_json::Value) -> NodeInfo {
        NodeInfo::new(serde_json::from_value::<Node>(value).unwrap())
    }

    fn ready_node(name: &str, labels: serde_json::Value) -> NodeInfo {
        node(json!({
            "metadata": {"name": name, "labels": labels},
            "status": {
                "allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True"}]
            }
        }))
    }

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": spec})).unwrap()
    }

    fn requirement(operator: &str, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: "k".into(),
            operator: operator.into(),
            values: Some(values.iter().map(|v| v.to_string()).collect()),
        }
    }

    #[test]
    fn node_selector_requirement_operators() {
        assert!(requirement_matches(
            &requirement("In", &["a", "b"]),
            Some("b")
        ));
        assert!(!requirement_matches(&requirement("In", &["a"]), None));
        assert!(requirement_matches(&requirement("NotIn", &["a"]), None));
        assert!(!requirement_matches(
            &requirement("NotIn", &["a"]),
            Some("a")
        ));
        assert!(requirement_matches(&requirement("Exists", &[]), Some("")));
        assert!(requirement_matches(&requirement("DoesNotExist", &[]), None));
        assert!(requirement_matches(&requirement("Gt", &["5"]), Some("6")));
        assert!(!requirement_matches(&requirement("Gt", &["5"]), Some("5")));
        assert!(requirement_matches(&requirement("Lt", &["5"]), Some("-1")));
        assert!(!requirement_matches(&requirement("Lt", &["x"]), Some("1")));
    }

    #[test]
    fn required_affinity_terms_are_ored() {
        let node = ready_node("n1", json!({"zone": "a", "disk": "ssd"}));
        let pod = pod(
            json!({"containers": [{"name": "c"}], "affinity": {"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]},
                {"matchExpressions": [{"key": "disk", "operator": "Exists"}]}
            ]}}}}),
        );
        assert_eq!(filter(&pod, Resources::default(), &node), Ok(()));
        let pod_b =
            self::pod(json!({"containers": [{"name": "c"}], "nodeSelector": {"zone": "b"}}));
        assert_eq!(
            filter(&pod_b, Resources::default(), &node)
                .unwrap_err()
                .reasons,
            vec![REASON_AFFINITY]
        );
    }

    #[test]
    fn taint_message_names_the_first_untolerated_taint() {
        let node = node(json!({
            "metadata": {"name": "n1"},
            "spec": {"taints": [
                {"key": "soft", "effect": "PreferNoSchedule"},
                {"key": "gpu", "value": "true", "effect": "NoSchedule"}
            ]},
            "status": {"allocatable": {"pods": "10"}, "conditions": [{"type": "Ready", "status": "Unknown"}]}
        }));
        let plain = pod(json!({"containers": [{"name": "c"}]}));
        assert_eq!(
            filter(&plain, Resources::default(), &node).unwrap_err(),
            Rejection::unresolvable("node(s) had untolerated taint {gpu: true}")
        );
        let tolerant = pod(json!({"containers": [{"name": "c"}], "tolerations": [
            {"key": "gpu", "operator": "Exists"}
        ]}));
        // The Ready=Unknown condition is mirrored as the unreachable NoSchedule taint.
        assert_eq!(
            filter(&tolerant, Resources::default(), &node).unwrap_err(),
            Rejection::unresolvable(
                "node(s) had untolerated taint {node.kubernetes.io/unreachable: }"
            )
        );
    }

    #[test]
    fn resources_fit_reports_every_shortage() {
        let mut node = ready_node("n1", json!({}));
        node.requested = Resources {
            milli_cpu: 1500,
            memory: 0,
        };
        node.pod_count = 110;
        let rejection = filter(
            &pod(json!({"containers": [{"name": "c"}]})),
            Resources {
                milli_cpu: 1000,
                memory: 5 * 1024 * 1024 * 1024,
            },
            &node,
        )
        .unwrap_err();
        assert_eq!(
            rejection.reasons,
            vec![REASON_TOO_MANY_PODS, REASON_CPU, REASON_MEMORY]
        );
        assert!(!rejection.resolvable, "5Gi exceeds the node's 4Gi");
    }
}
