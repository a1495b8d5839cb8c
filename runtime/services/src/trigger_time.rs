//! `TriggerTimeTracker` (pkg/controller/util/endpoint/trigger_time_tracker.go): the value
//! of the `endpoints.kubernetes.io/last-change-trigger-time` annotation, the earliest
//! change (a pod's Ready transition, the Service's creation) not yet reflected in the
//! service's endpoints. Kept in memory per controller, as upstream does.

use std::collections::HashMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Pod, Service};

use crate::{pods, service};

pub(crate) const ANNOTATION: &str = "endpoints.kubernetes.io/last-change-trigger-time";

#[derive(Default)]
struct ServiceState {
    last_service_trigger: Option<Timestamp>,
    last_pod_triggers: HashMap<String, Timestamp>,
}

#[derive(Default)]
pub(crate) struct TriggerTimeTracker {
    states: HashMap<(String, String), ServiceState>,
}

impl TriggerTimeTracker {
    /// `ComputeEndpointLastChangeTriggerTime`; updates the tracker's state.
    pub(crate) fn compute(&mut self, svc: &Service, pods: &[&Pod]) -> Option<Timestamp> {
        let key = (
            service::namespace(svc).to_string(),
            service::name(svc).to_string(),
        );
        let was_known = self.states.contains_key(&key);
        let state = self.states.entry(key).or_default();
        let mut min_changed: Option<Timestamp> = None;
        let mut pod_triggers = HashMap::new();
        for pod in pods {
            if let Some(trigger) = pods::trigger_time(pod) {
                let changed = state
                    .last_pod_triggers
                    .get(pods::name(pod))
                    .is_none_or(|last| trigger > *last);
                if changed {
                    min_changed = Some(min_changed.map_or(trigger, |m| m.min(trigger)));
                }
                pod_triggers.insert(pods::name(pod).to_string(), trigger);
            }
        }
        let service_trigger = svc.metadata.creation_timestamp.as_ref().map(|t| t.0);
        if let Some(trigger) = service_trigger {
            if state.last_service_trigger.is_none_or(|last| trigger > last) {
                min_changed = Some(min_changed.map_or(trigger, |m| m.min(trigger)));
            }
        }
        state.last_pod_triggers = pod_triggers;
        state.last_service_trigger = service_trigger;
        if !was_known {
            // A new Service: its creation is the trigger.
            return service_trigger;
        }
        min_changed
    }

    /// Forgets services not in `alive` (`DeleteService`).
    pub(crate) fn retain(&mut self, alive: impl Fn(&(String, String)) -> bool) {
        self.states.retain(|key, _| alive(key));
    }
}

/// Go's `time.RFC3339Nano` in UTC: fractional seconds only when non-zero, trailing zeros
/// dropped.
pub(crate) fn format_rfc3339_nano(time: Timestamp) -> String {
    let seconds = time.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = time.subsec_nanosecond();
    if nanos == 0 {
        return format!("{seconds}Z");
    }
    let fraction = format!("{nanos:09}");
    format!("{seconds}.{}Z", fraction.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go_rfc3339_nano() {
        let whole: Timestamp = "2026-02-14T05:57:20Z".parse().unwrap();
        assert_eq!(format_rfc3339_nano(whole), "2026-02-14T05:57:20Z");
        let fractional: Timestamp = "2026-02-14T05:57:20.120Z".parse().unwrap();
        assert_eq!(format_rfc3339_nano(fractional), "2026-02-14T05:57:20.12Z");
    }
}
