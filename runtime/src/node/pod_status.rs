//! The pod's API status from the worker's state: phase (kubelet_pods.go getPhase),
//! conditions (status/generate.go) and container statuses.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{HostIP, PodCondition, PodIP, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::pod_worker::PodWorker;

impl PodWorker {
    pub(super) fn pod_status(&mut self, now: Timestamp) -> PodStatus {
        let statuses: Vec<_> = self.containers.iter().map(|c| c.status()).collect();
        let phase = self.phase(&statuses);
        let unready: Vec<&str> = self
            .containers
            .iter()
            .filter(|c| !c.ready())
            .map(|c| c.name())
            .collect();
        let terminal = matches!(phase, "Succeeded" | "Failed");
        let (ready, reason, message) = if terminal {
            let reason = if phase == "Succeeded" {
                "PodCompleted"
            } else {
                "PodFailed"
            };
            (false, Some(reason.to_string()), None)
        } else if unready.is_empty() {
            (true, None, None)
        } else {
            (
                false,
                Some("ContainersNotReady".to_string()),
                Some(format!(
                    "containers with unready status: [{}]",
                    unready.join(" ")
                )),
            )
        };
        // The "sandbox" (pod IP, listeners) is gone once a terminal or deleted pod has no
        // running container left.
        let sandbox_gone = self.deleting && self.containers.iter().all(|c| c.running.is_none());
        let sandbox_ready = !(terminal || sandbox_gone);
        let wanted = [
            ("PodReadyToStartContainers", sandbox_ready, None, None),
            ("Initialized", true, None, None),
            ("Ready", ready, reason.clone(), message.clone()),
            ("ContainersReady", ready, reason, message),
            ("PodScheduled", true, None, None),
        ];
        let conditions = wanted
            .into_iter()
            .map(|(kind, status, reason, message)| {
                self.condition(kind, status, reason, message, now)
            })
            .collect::<Vec<_>>();
        self.conditions = conditions.clone();
        let host_ip = self.node.host_ip.clone();
        let pod_ip = self.ip.address.to_string();
        PodStatus {
            phase: Some(phase.to_string()),
            conditions: Some(conditions),
            host_ip: Some(host_ip.clone()),
            host_ips: Some(vec![HostIP { ip: host_ip }]),
            pod_ip: Some(pod_ip.clone()),
            pod_ips: Some(vec![PodIP { ip: pod_ip }]),
            start_time: Some(Time(self.start_time)),
            container_statuses: Some(statuses),
            qos_class: Some(wasmpod_printers::compute_pod_qos(&self.pod).to_string()),
            ..Default::default()
        }
    }

    /// A condition keeps its lastTransitionTime until its status changes.
    fn condition(
        &self,
        kind: &str,
        status: bool,
        reason: Option<String>,
        message: Option<String>,
        now: Timestamp,
    ) -> PodCondition {
        let status = if status { "True" } else { "False" }.to_string();
        let previous = self.conditions.iter().find(|c| c.type_ == kind);
        let since = match previous {
            Some(previous) if previous.status == status => previous.last_transition_time.clone(),
            _ => Some(Time(now)),
        };
        PodCondition {
            type_: kind.to_string(),
            status,
            reason,
            message,
            last_transition_time: since,
            last_probe_time: None,
            observed_generation: None,
        }
    }

    fn phase(&self, statuses: &[k8s_openapi::api::core::v1::ContainerStatus]) -> &'static str {
        let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
        for status in statuses {
            let state = status.state.clone().unwrap_or_default();
            let had_termination = status
                .last_state
                .as_ref()
                .is_some_and(|s| s.terminated.is_some());
            if state.running.is_some() {
                running += 1;
            } else if let Some(terminated) = &state.terminated {
                stopped += 1;
                if terminated.exit_code == 0 {
                    succeeded += 1;
                }
            } else if had_termination {
                stopped += 1;
            } else {
                waiting += 1;
            }
        }
        let policy = self
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.restart_policy.as_deref())
            .unwrap_or("Always");
        if waiting > 0 {
            "Pending"
        } else if running > 0 {
            "Running"
        } else if stopped > 0 {
            match policy {
                "Always" => "Running",
                _ if stopped == succeeded => "Succeeded",
                "Never" => "Failed",
                _ => "Running",
            }
        } else {
            "Pending"
        }
    }
}
