//! Picking among feasible nodes: spread pods of the same controller across nodes first
//! (the default `PodTopologySpread`/selector spreading), then least allocated
//! (`NodeResourcesFit` LeastAllocated on cpu and memory), then the node name so that the
//! choice is deterministic.

use super::node_info::NodeInfo;
use super::resources::Resources;

/// `(allocatable - requested) * 100 / allocatable`, 0 when over-committed or unknown.
fn least_allocated(requested: i128, allocatable: i128) -> i128 {
    if allocatable <= 0 || requested > allocatable {
        return 0;
    }
    (allocatable - requested) * 100 / allocatable
}

/// The node's LeastAllocated score (0–100) with the pod placed on it.
pub(crate) fn least_allocated_score(node: &NodeInfo, pod_non_zero: Resources) -> i128 {
    let cpu = least_allocated(
        node.non_zero_requested.milli_cpu + pod_non_zero.milli_cpu,
        node.allocatable.milli_cpu,
    );
    let memory = least_allocated(
        node.non_zero_requested.memory + pod_non_zero.memory,
        node.allocatable.memory,
    );
    (cpu + memory) / 2
}

/// The best of `feasible` for a pod owned by `owner` (controller uid).
pub(crate) fn pick<'a>(
    feasible: &[&'a NodeInfo],
    owner: Option<&str>,
    pod_non_zero: Resources,
) -> Option<&'a NodeInfo> {
    feasible
        .iter()
        .min_by(|a, b| {
            let siblings = |n: &NodeInfo| owner.and_then(|o| n.pods_per_owner.get(o)).copied();
            siblings(a)
                .unwrap_or(0)
                .cmp(&siblings(b).unwrap_or(0))
                .then_with(|| {
                    least_allocated_score(b, pod_non_zero)
                        .cmp(&least_allocated_score(a, pod_non_zero))
                })
                .then_with(|| a.name.cmp(&b.name))
        })
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_allocated_prefers_free_nodes() {
        assert_eq!(least_allocated(0, 1000), 100);
        assert_eq!(least_allocated(250, 1000), 75);
        assert_eq!(least_allocated(2000, 1000), 0);
        assert_eq!(least_allocated(0, 0), 0);
    }
}
