//! Pod resource requests as the scheduler counts them (`resourcehelper.PodRequests`):
//! containers add up, init containers run one at a time (sidecars keep running), overhead
//! is added on top.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, PodSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::quantity;

/// `DefaultMilliCPURequest`: what scoring assumes for a container without a cpu request.
const DEFAULT_MILLI_CPU_REQUEST: i128 = 100;
/// `DefaultMemoryRequest` (200 MiB).
const DEFAULT_MEMORY_REQUEST: i128 = 200 * 1024 * 1024;

/// Milli-cpu and memory bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Resources {
    pub milli_cpu: i128,
    pub memory: i128,
}

impl Resources {
    pub fn add(&mut self, other: Resources) {
        self.milli_cpu += other.milli_cpu;
        self.memory += other.memory;
    }

    fn max(self, other: Resources) -> Resources {
        Resources {
            milli_cpu: self.milli_cpu.max(other.milli_cpu),
            memory: self.memory.max(other.memory),
        }
    }

    /// `cpu` and `memory` of a resource list (allocatable, requests, overhead).
    pub fn from_list(list: Option<&BTreeMap<String, Quantity>>) -> Resources {
        let get = |name: &str| list.and_then(|l| l.get(name)).map(|q| q.0.as_str());
        Resources {
            milli_cpu: get("cpu").and_then(quantity::milli_value).unwrap_or(0),
            memory: get("memory").and_then(quantity::value).unwrap_or(0),
        }
    }
}

/// Which requests to count for a container.
#[derive(Clone, Copy)]
enum Counting {
    /// The requests as written.
    Exact,
    /// Missing requests count as the scoring defaults (100m cpu, 200Mi memory).
    NonZero,
}

fn container_requests(container: &Container, counting: Counting) -> Resources {
    let resources = container.resources.as_ref();
    // The API server defaults a missing request to the limit; do the same for objects
    // written before defaulting existed.
    let pick = |name: &str| {
        resources
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| r.get(name))
            .or_else(|| {
                resources
                    .and_then(|r| r.limits.as_ref())
                    .and_then(|l| l.get(name))
            })
            .map(|q| q.0.clone())
    };
    let cpu = pick("cpu").and_then(|q| quantity::milli_value(&q));
    let memory = pick("memory").and_then(|q| quantity::value(&q));
    match counting {
        Counting::Exact => Resources {
            milli_cpu: cpu.unwrap_or(0),
            memory: memory.unwrap_or(0),
        },
        Counting::NonZero => Resources {
            milli_cpu: cpu.unwrap_or(DEFAULT_MILLI_CPU_REQUEST),
            memory: memory.unwrap_or(DEFAULT_MEMORY_REQUEST),
        },
    }
}

fn pod_requests_counting(spec: &PodSpec, counting: Counting) -> Resources {
    let mut total = Resources::default();
    for container in &spec.containers {
        total.add(container_requests(container, counting));
    }
    // Init containers run one after another; restartable ones (sidecars) keep running and
    // add to everything that starts after them.
    let mut sidecars = Resources::default();
    let mut init_peak = Resources::default();
    for container in spec.init_containers.iter().flatten() {
        let requests = container_requests(container, counting);
        let during = if container.restart_policy.as_deref() == Some("Always") {
            total.add(requests);
            sidecars.add(requests);
            sidecars
        } else {
            let mut during = sidecars;
            during.add(requests);
            during
        };
        init_peak = init_peak.max(during);
    }
    let mut requests = total.max(init_peak);
    requests.add(Resources::from_list(spec.overhead.as_ref()));
    requests
}

/// The pod's requests as the fit filter counts them.
pub(crate) fn pod_requests(spec: &PodSpec) -> Resources {
    pod_requests_counting(spec, Counting::Exact)
}

/// The pod's requests as least-allocated scoring counts them.
pub(crate) fn pod_non_zero_requests(spec: &PodSpec) -> Resources {
    pod_requests_counting(spec, Counting::NonZero)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(value: serde_json::Value) -> PodSpec {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn containers_add_and_init_containers_take_the_max() {
        let spec = spec(json!({
            "initContainers": [
                {"name": "i1", "resources": {"requests": {"cpu": "2", "memory": "1G"}}},
                {"name": "i2", "resources": {"requests": {"cpu": "2", "memory": "3G"}}}
            ],
            "containers": [
                {"name": "c1", "resources": {"requests": {"cpu": "2", "memory": "1G"}}},
                {"name": "c2", "resources": {"requests": {"cpu": "1", "memory": "1G"}}}
            ]
        }));
        assert_eq!(
            pod_requests(&spec),
            Resources {
                milli_cpu: 3000,
                memory: 3_000_000_000
            }
        );
    }

    #[test]
    fn sidecars_add_to_the_total() {
        let spec = spec(json!({
            "initContainers": [
                {"name": "s", "restartPolicy": "Always", "resources": {"requests": {"cpu": "500m"}}}
            ],
            "containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}]
        }));
        assert_eq!(pod_requests(&spec).milli_cpu, 1500);
    }

    #[test]
    fn non_zero_requests_default_missing_values() {
        let spec = spec(
            json!({"containers": [{"name": "c"}, {"name": "d", "resources": {"limits": {"cpu": "1"}}}]}),
        );
        assert_eq!(
            pod_requests(&spec),
            Resources {
                milli_cpu: 1000,
                memory: 0
            }
        );
        assert_eq!(
            pod_non_zero_requests(&spec),
            Resources {
                milli_cpu: 1100,
                memory: 2 * DEFAULT_MEMORY_REQUEST
            }
        );
    }
}
