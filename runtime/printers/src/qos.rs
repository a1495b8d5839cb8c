//! Pod QoS class (`kubectl/pkg/util/qos` `GetPodQOS` / `ComputePodQOS`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::quantity::nano_value;

const QOS_RESOURCES: [&str; 2] = ["cpu", "memory"];

/// `status.qosClass` when the API server filled it in, else computed from the spec.
pub fn pod_qos(pod: &Pod) -> String {
    if let Some(class) = pod
        .status
        .as_ref()
        .and_then(|s| s.qos_class.as_deref())
        .filter(|c| !c.is_empty())
    {
        return class.to_string();
    }
    compute_pod_qos(pod).to_string()
}

/// Port of `ComputePodQOS`: BestEffort without any positive cpu/memory request or limit,
/// Guaranteed when every container limits both and requests equal limits, else Burstable.
pub fn compute_pod_qos(pod: &Pod) -> &'static str {
    let Some(spec) = pod.spec.as_ref() else {
        return "BestEffort";
    };
    let mut requests: BTreeMap<&'static str, i128> = BTreeMap::new();
    let mut limits: BTreeMap<&'static str, i128> = BTreeMap::new();
    let mut guaranteed = true;

    let mut add = |resources: Option<&ResourceRequirements>| {
        let empty = BTreeMap::new();
        let resources = resources.cloned().unwrap_or_default();
        sum_positive(resources.requests.as_ref().unwrap_or(&empty), &mut requests);
        let found = sum_positive(resources.limits.as_ref().unwrap_or(&empty), &mut limits);
        if !QOS_RESOURCES.iter().all(|r| found.contains(r)) {
            guaranteed = false;
        }
    };
    if let Some(pod_resources) = spec.resources.as_ref() {
        // Pod-level resources, when set, decide alone.
        add(Some(pod_resources));
    } else {
        let init = spec.init_containers.as_deref().unwrap_or_default();
        for container in spec.containers.iter().chain(init) {
            add(container.resources.as_ref());
        }
    }

    if requests.is_empty() && limits.is_empty() {
        return "BestEffort";
    }
    if guaranteed {
        guaranteed = requests
            .iter()
            .all(|(name, request)| limits.get(name) == Some(request));
    }
    if guaranteed && requests.len() == limits.len() {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// Adds the positive cpu/memory quantities into `totals`; returns the names that were positive.
fn sum_positive(
    list: &BTreeMap<String, Quantity>,
    totals: &mut BTreeMap<&'static str, i128>,
) -> Vec<&'static str> {
    let mut found = Vec::new();
    for (name, quantity) in list {
        let Some(resource) = QOS_RESOURCES.iter().find(|r| **r == name.as_str()) else {
            continue;
        };
        let value = nano_value(quantity).unwrap_or(0);
        if value > 0 {
            *totals.entry(resource).or_insert(0) += value;
            found.push(*resource);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod_with(resources: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a", "resources": resources}]},
        }))
        .expect("valid pod")
    }

    #[test]
    fn classes() {
        assert_eq!(compute_pod_qos(&pod_with(json!({}))), "BestEffort");
        assert_eq!(
            compute_pod_qos(&pod_with(json!({"requests": {"cpu": "100m"}}))),
            "Burstable"
        );
        assert_eq!(
            compute_pod_qos(&pod_with(json!({
                "requests": {"cpu": "1", "memory": "1Gi"},
                "limits": {"cpu": "1000m", "memory": "1024Mi"},
            }))),
            "Guaranteed"
        );
        assert_eq!(
            compute_pod_qos(&pod_with(json!({
                "requests": {"cpu": "500m", "memory": "1Gi"},
                "limits": {"cpu": "1", "memory": "1Gi"},
            }))),
            "Burstable"
        );
        // Zero and non-compute resources do not count.
        assert_eq!(
            compute_pod_qos(&pod_with(
                json!({"requests": {"cpu": "0", "ephemeral-storage": "1Gi"}})
            )),
            "BestEffort"
        );
    }

    #[test]
    fn status_class_wins() {
        let mut pod = pod_with(json!({}));
        pod.status = Some(k8s_openapi::api::core::v1::PodStatus {
            qos_class: Some("Guaranteed".to_string()),
            ..Default::default()
        });
        assert_eq!(pod_qos(&pod), "Guaranteed");
    }
}
