//! The pod's API status from the worker's state: phase (kubelet_pods.go getPhase),
//! conditions (status/generate.go) and container statuses.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{HostIP, PodCondition, PodIP, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::container::{ContainerKind, ContainerState};
use super::pod_worker::PodWorker;

impl PodWorker {
    pub(super) fn pod_status(&mut self, now: Timestamp) -> PodStatus {
        let has_init = self.containers.iter().any(|c| c.kind != ContainerKind::App);
        let status_of = |c: &ContainerState| {
            let mut status = c.status();
            // App containers wait for the init containers under PodInitializing.
            let waiting = status.state.as_mut().and_then(|s| s.waiting.as_mut());
            if let Some(waiting) = waiting {
                if has_init
                    && c.kind == ContainerKind::App
                    && waiting.reason.as_deref() == Some("ContainerCreating")
                {
                    waiting.reason = Some("PodInitializing".into());
                }
            }
            status
        };
        let statuses: Vec<_> = self
            .containers
            .iter()
            .filter(|c| c.kind == ContainerKind::App)
            .map(status_of)
            .collect();
        let init_statuses: Vec<_> = self
            .containers
            .iter()
            .filter(|c| c.kind != ContainerKind::App)
            .map(status_of)
            .collect();
        // Initialized: every init container completed and every sidecar started.
        let incomplete: Vec<&str> = self
            .containers
            .iter()
            .filter(|c| match c.kind {
                ContainerKind::Init => !c.completed(),
                ContainerKind::Sidecar => !c.started(),
                ContainerKind::App => false,
            })
            .map(|c| c.name())
            .collect();
        let app_started = self
            .containers
            .iter()
            .any(|c| c.kind == ContainerKind::App && c.instances_started > 0);
        let initialized = incomplete.is_empty() || app_started;
        let phase = if self.deadline_exceeded {
            "Failed"
        } else {
            self.phase(&statuses, initialized)
        };
        let unready: Vec<&str> = self
            .containers
            .iter()
            .filter(|c| c.kind != ContainerKind::Init && !c.ready())
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
            (
                "Initialized",
                initialized,
                (!initialized).then(|| "ContainersNotInitialized".to_string()),
                (!initialized).then(|| {
                    format!(
                        "containers with incomplete status: [{}]",
                        incomplete.join(" ")
                    )
                }),
            ),
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
            init_container_statuses: (!init_statuses.is_empty()).then_some(init_statuses),
            reason: self
                .deadline_exceeded
                .then(|| "DeadlineExceeded".to_string()),
            message: self
                .deadline_exceeded
                .then(|| super::pod_worker::DEADLINE_MESSAGE.to_string()),
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

    fn phase(
        &self,
        statuses: &[k8s_openapi::api::core::v1::ContainerStatus],
        initialized: bool,
    ) -> &'static str {
        let policy = self
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.restart_policy.as_deref())
            .unwrap_or("Always");
        if !initialized {
            // A failed init container under restartPolicy Never fails the pod.
            let init_failed = self.containers.iter().any(|c| {
                c.kind == ContainerKind::Init
                    && c.running.is_none()
                    && c.terminations.first().is_some_and(|t| t.exit_code != 0)
            });
            return if init_failed && policy == "Never" {
                "Failed"
            } else {
                "Pending"
            };
        }
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
