//! `kubectl get pods`: port of the API server's `printPod`
//! (`pkg/printers/internalversion/printers.go`, v1.33) plus the client-side table layout.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod, PodCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::table::render_table;
use crate::text::{age_since, or_empty};

/// `pkg/util/node.NodeUnreachablePodReason`.
const NODE_UNREACHABLE_POD_REASON: &str = "NodeLost";

const COLUMNS: [&str; 5] = ["Name", "Ready", "Status", "Restarts", "Age"];
const WIDE_COLUMNS: [&str; 4] = ["IP", "Node", "Nominated Node", "Readiness Gates"];

/// The cells of one `kubectl get pods` row, as the API server computes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodRow {
    pub name: String,
    pub ready: String,
    pub status: String,
    pub restarts: String,
    pub age: String,
    pub ip: String,
    pub node: String,
    pub nominated_node: String,
    pub readiness_gates: String,
}

impl PodRow {
    fn cells(self, wide: bool) -> Vec<String> {
        let mut cells = vec![self.name, self.ready, self.status, self.restarts, self.age];
        if wide {
            cells.extend([
                self.ip,
                self.node,
                self.nominated_node,
                self.readiness_gates,
            ]);
        }
        cells
    }
}

/// `kubectl get pods` (`wide` = `-o wide`), header included; empty when there are no pods.
/// Rows keep the given order (the API server lists alphabetically within a namespace).
pub fn get_pods(pods: &[Pod], now: Timestamp, wide: bool) -> String {
    let mut columns: Vec<&str> = COLUMNS.to_vec();
    if wide {
        columns.extend(WIDE_COLUMNS);
    }
    let rows: Vec<Vec<String>> = pods
        .iter()
        .map(|pod| pod_row(pod, now).cells(wide))
        .collect();
    render_table(&columns, &rows)
}

/// Tracks the latest `lastState.terminated.finishedAt` (Go compares with `Before`; unset = zero time).
#[derive(Default)]
struct LastRestart(Option<Timestamp>);

impl LastRestart {
    fn observe(&mut self, status: &ContainerStatus) {
        let finished = status
            .last_state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .and_then(|t| t.finished_at.as_ref());
        if let Some(Time(finished)) = finished {
            if self.0.is_none_or(|current| current < *finished) {
                self.0 = Some(*finished);
            }
        }
    }
}

fn is_restartable_init_container(container: Option<&Container>) -> bool {
    container.is_some_and(|c| c.restart_policy.as_deref() == Some("Always"))
}

fn condition_is_true(conditions: &[PodCondition], condition_type: &str) -> bool {
    conditions
        .iter()
        .find(|c| c.type_ == condition_type)
        .is_some_and(|c| c.status == "True")
}

/// Port of `printPod` (READY, STATUS, RESTARTS, AGE and the wide columns).
pub fn pod_row(pod: &Pod, now: Timestamp) -> PodRow {
    let spec = pod.spec.clone().unwrap_or_default();
    let status = pod.status.clone().unwrap_or_default();
    let conditions = status.conditions.clone().unwrap_or_default();
    let init_specs = spec.init_containers.clone().unwrap_or_default();

    let mut restarts: i64 = 0;
    let mut restartable_init_restarts: i64 = 0;
    let mut total_containers = spec.containers.len();
    let mut ready_containers = 0usize;
    let mut last_restart = LastRestart::default();
    let mut last_restartable_init_restart = LastRestart::default();

    let phase = or_empty(&status.phase).to_string();
    let mut reason = phase.clone();
    if let Some(r) = status.reason.as_deref().filter(|r| !r.is_empty()) {
        reason = r.to_string();
    }
    if conditions
        .iter()
        .any(|c| c.type_ == "PodScheduled" && c.reason.as_deref() == Some("SchedulingGated"))
    {
        reason = "SchedulingGated".to_string();
    }

    let init_spec = |name: &str| init_specs.iter().find(|c| c.name == name);
    total_containers += init_specs
        .iter()
        .filter(|c| is_restartable_init_container(Some(c)))
        .count();

    let mut initializing = false;
    let init_statuses = status.init_container_statuses.clone().unwrap_or_default();
    for (i, container) in init_statuses.iter().enumerate() {
        restarts += i64::from(container.restart_count);
        last_restart.observe(container);
        let restartable = is_restartable_init_container(init_spec(&container.name));
        if restartable {
            restartable_init_restarts += i64::from(container.restart_count);
            last_restartable_init_restart.observe(container);
        }
        let state = container.state.clone().unwrap_or_default();
        if state.terminated.as_ref().is_some_and(|t| t.exit_code == 0) {
            continue;
        }
        if restartable && container.started == Some(true) {
            if container.ready {
                ready_containers += 1;
            }
            continue;
        }
        if let Some(terminated) = &state.terminated {
            // Initialisation failed.
            reason = match terminated.reason.as_deref().filter(|r| !r.is_empty()) {
                Some(r) => format!("Init:{r}"),
                None => match terminated.signal.filter(|s| *s != 0) {
                    Some(signal) => format!("Init:Signal:{signal}"),
                    None => format!("Init:ExitCode:{}", terminated.exit_code),
                },
            };
        } else if let Some(waiting_reason) = state
            .waiting
            .as_ref()
            .and_then(|w| w.reason.as_deref())
            .filter(|r| !r.is_empty() && *r != "PodInitializing")
        {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{}/{}", i, init_specs.len());
        }
        initializing = true;
        break;
    }

    if !initializing || condition_is_true(&conditions, "Initialized") {
        restarts = restartable_init_restarts;
        last_restart = last_restartable_init_restart;
        let mut has_running = false;
        let statuses = status.container_statuses.clone().unwrap_or_default();
        // Last to first, so the first container with a reason wins.
        for container in statuses.iter().rev() {
            restarts += i64::from(container.restart_count);
            last_restart.observe(container);
            let state = container.state.clone().unwrap_or_default();
            let waiting_reason = state
                .waiting
                .as_ref()
                .and_then(|w| w.reason.as_deref())
                .filter(|r| !r.is_empty());
            if let Some(waiting_reason) = waiting_reason {
                reason = waiting_reason.to_string();
            } else if let Some(terminated) = &state.terminated {
                reason = match terminated.reason.as_deref().filter(|r| !r.is_empty()) {
                    Some(r) => r.to_string(),
                    None => match terminated.signal.filter(|s| *s != 0) {
                        Some(signal) => format!("Signal:{signal}"),
                        None => format!("ExitCode:{}", terminated.exit_code),
                    },
                };
            } else if container.ready && state.running.is_some() {
                has_running = true;
                ready_containers += 1;
            }
        }
        // A completed container next to a running one: the pod is still running.
        if reason == "Completed" && has_running {
            reason = if condition_is_true(&conditions, "Ready") {
                "Running".to_string()
            } else {
                "NotReady".to_string()
            };
        }
    }

    let deleting = pod.metadata.deletion_timestamp.is_some();
    if deleting && status.reason.as_deref() == Some(NODE_UNREACHABLE_POD_REASON) {
        reason = "Unknown".to_string();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".to_string();
    }

    let restarts_text = match last_restart.0 {
        Some(finished) if restarts != 0 => {
            format!("{restarts} ({} ago)", age_since(Some(&Time(finished)), now))
        }
        _ => restarts.to_string(),
    };

    PodRow {
        name: pod.metadata.name.clone().unwrap_or_default(),
        ready: format!("{ready_containers}/{total_containers}"),
        status: reason,
        restarts: restarts_text,
        age: age_since(pod.metadata.creation_timestamp.as_ref(), now),
        ip: first_pod_ip(&status).unwrap_or_else(|| "<none>".to_string()),
        node: non_empty_or_none(spec.node_name.as_deref()),
        nominated_node: non_empty_or_none(status.nominated_node_name.as_deref()),
        readiness_gates: readiness_gates(&spec, &conditions),
    }
}

fn first_pod_ip(status: &k8s_openapi::api::core::v1::PodStatus) -> Option<String> {
    status
        .pod_ips
        .as_ref()
        .and_then(|ips| ips.first())
        .map(|ip| ip.ip.clone())
        .filter(|ip| !ip.is_empty())
}

fn non_empty_or_none(value: Option<&str>) -> String {
    match value {
        Some(v) if !v.is_empty() => v.to_string(),
        _ => "<none>".to_string(),
    }
}

fn readiness_gates(
    spec: &k8s_openapi::api::core::v1::PodSpec,
    conditions: &[PodCondition],
) -> String {
    let gates = spec.readiness_gates.as_deref().unwrap_or_default();
    if gates.is_empty() {
        return "<none>".to_string();
    }
    let true_conditions = gates
        .iter()
        .filter(|gate| {
            conditions
                .iter()
                .find(|c| c.type_ == gate.condition_type)
                .is_some_and(|c| c.status == "True")
        })
        .count();
    format!("{true_conditions}/{}", gates.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2026-07-06T10:03:35Z".parse().expect("timestamp")
    }

    fn pod(value: serde_json::Value) -> Pod {
        serde_json::from_value(value).expect("valid pod")
    }

    fn base(status: serde_json::Value) -> Pod {
        pod(json!({
            "metadata": {"name": "p", "creationTimestamp": "2026-07-06T10:00:00Z"},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
            "status": status,
        }))
    }

    #[test]
    fn first_container_with_a_reason_wins() {
        let row = pod_row(
            &base(json!({
                "phase": "Running",
                "containerStatuses": [
                    {"name": "a", "image": "", "imageID": "", "ready": false, "restartCount": 0,
                     "state": {"waiting": {"reason": "ImagePullBackOff"}}},
                    {"name": "b", "image": "", "imageID": "", "ready": false, "restartCount": 0,
                     "state": {"terminated": {"exitCode": 137}}},
                ]
            })),
            now(),
        );
        assert_eq!(row.status, "ImagePullBackOff");
        assert_eq!(row.ready, "0/2");
    }

    #[test]
    fn terminated_without_reason_uses_signal_or_exit_code() {
        let row = pod_row(
            &base(json!({
                "phase": "Running",
                "containerStatuses": [
                    {"name": "a", "image": "", "imageID": "", "ready": false, "restartCount": 0,
                     "state": {"terminated": {"exitCode": 2}}},
                ]
            })),
            now(),
        );
        assert_eq!(row.status, "ExitCode:2");
        let row = pod_row(
            &base(json!({
                "phase": "Running",
                "containerStatuses": [
                    {"name": "a", "image": "", "imageID": "", "ready": false, "restartCount": 0,
                     "state": {"terminated": {"exitCode": 0, "signal": 9}}},
                ]
            })),
            now(),
        );
        assert_eq!(row.status, "Signal:9");
    }

    #[test]
    fn completed_next_to_running_container() {
        let statuses = json!([
            {"name": "a", "image": "", "imageID": "", "ready": false, "restartCount": 0,
             "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
            {"name": "b", "image": "", "imageID": "", "ready": true, "restartCount": 0,
             "state": {"running": {"startedAt": "2026-07-06T10:00:01Z"}}},
        ]);
        let not_ready = pod_row(
            &base(json!({"phase": "Running", "containerStatuses": statuses})),
            now(),
        );
        assert_eq!(not_ready.status, "NotReady");
        assert_eq!(not_ready.ready, "1/2");
        let ready = pod_row(
            &base(json!({
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": statuses,
            })),
            now(),
        );
        assert_eq!(ready.status, "Running");
    }

    #[test]
    fn init_container_states() {
        let with_init = |init_status: serde_json::Value| {
            pod(json!({
                "metadata": {"name": "p"},
                "spec": {"initContainers": [{"name": "i1"}, {"name": "i2"}], "containers": [{"name": "a"}]},
                "status": {"phase": "Pending", "initContainerStatuses": init_status},
            }))
        };
        let done_and_running = with_init(json!([
            {"name": "i1", "image": "", "imageID": "", "ready": false, "restartCount": 0,
             "state": {"terminated": {"exitCode": 0}}},
            {"name": "i2", "image": "", "imageID": "", "ready": false, "restartCount": 0,
             "state": {"running": {}}},
        ]));
        assert_eq!(pod_row(&done_and_running, now()).status, "Init:1/2");
        let crash = with_init(json!([
            {"name": "i1", "image": "", "imageID": "", "ready": false, "restartCount": 4,
             "state": {"waiting": {"reason": "CrashLoopBackOff"}},
             "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-07-06T10:03:00Z"}}},
        ]));
        let row = pod_row(&crash, now());
        assert_eq!(row.status, "Init:CrashLoopBackOff");
        assert_eq!(row.restarts, "4 (35s ago)");
        assert_eq!(row.age, "<unknown>");
        let failed = with_init(json!([
            {"name": "i1", "image": "", "imageID": "", "ready": false, "restartCount": 0,
             "state": {"terminated": {"exitCode": 3}}},
        ]));
        assert_eq!(pod_row(&failed, now()).status, "Init:ExitCode:3");
    }

    #[test]
    fn sidecar_counts_towards_ready_total() {
        let p = pod(json!({
            "metadata": {"name": "p"},
            "spec": {"initContainers": [{"name": "s", "restartPolicy": "Always"}], "containers": [{"name": "a"}]},
            "status": {"phase": "Running",
                "initContainerStatuses": [{"name": "s", "image": "", "imageID": "", "ready": true, "started": true, "restartCount": 1,
                    "state": {"running": {}}}],
                "containerStatuses": [{"name": "a", "image": "", "imageID": "", "ready": true, "restartCount": 0,
                    "state": {"running": {}}}]},
        }));
        let row = pod_row(&p, now());
        assert_eq!(row.ready, "2/2");
        assert_eq!(row.status, "Running");
        // A restart without a known finish time prints the bare count.
        assert_eq!(row.restarts, "1");
    }

    #[test]
    fn terminating_and_node_lost() {
        let mut p = base(json!({"phase": "Running"}));
        p.metadata.deletion_timestamp = Some(Time(now()));
        assert_eq!(pod_row(&p, now()).status, "Terminating");
        p.status.as_mut().expect("status").reason = Some("NodeLost".to_string());
        assert_eq!(pod_row(&p, now()).status, "Unknown");
        let mut done = base(json!({"phase": "Succeeded"}));
        done.metadata.deletion_timestamp = Some(Time(now()));
        assert_eq!(pod_row(&done, now()).status, "Succeeded");
    }

    #[test]
    fn status_reason_and_scheduling_gate() {
        let evicted = base(json!({"phase": "Failed", "reason": "Evicted"}));
        assert_eq!(pod_row(&evicted, now()).status, "Evicted");
        let gated = base(json!({"phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}));
        assert_eq!(pod_row(&gated, now()).status, "SchedulingGated");
    }

    #[test]
    fn wide_columns_and_readiness_gates() {
        let p = pod(json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a"}],
                     "readinessGates": [{"conditionType": "x/ok"}, {"conditionType": "x/other"}]},
            "status": {"conditions": [{"type": "x/ok", "status": "True"}]},
        }));
        let row = pod_row(&p, now());
        assert_eq!(row.readiness_gates, "1/2");
        assert_eq!(row.ip, "<none>");
        assert_eq!(row.node, "<none>");
        assert_eq!(row.nominated_node, "<none>");
        assert_eq!(row.status, "");
    }
}
