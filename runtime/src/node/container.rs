//! What the pod worker knows about one container: its current instance, the last two
//! terminations, why it is waiting, its back-off, and the latest probe results.

use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    Container, ContainerState as ApiState, ContainerStateRunning, ContainerStateTerminated,
    ContainerStateWaiting, ContainerStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use wasmpod_engine::Instance;

use super::backoff::Backoff;
use super::listener::PortListeners;
use crate::logs::ContainerLogs;
use crate::prober::{ProbeType, ResultValue};

pub struct Running {
    pub instance: Arc<Instance>,
    pub id: String,
    pub started_at: Timestamp,
    pub listeners: Option<PortListeners>,
    /// A stop (Killing) was requested; the exit is on its way.
    pub stopping: bool,
    /// Overrides the instance's own exit status (the start failed on our side).
    pub start_error: Option<String>,
    /// This instance's private root (exec'd programs share it); None for a guest that cannot
    /// see files (no `wasi:filesystem/preopens` import).
    pub root: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Terminated {
    pub id: String,
    pub exit_code: i32,
    pub reason: String,
    pub message: Option<String>,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
}

impl Terminated {
    fn to_api(&self) -> ContainerStateTerminated {
        ContainerStateTerminated {
            container_id: Some(self.id.clone()),
            exit_code: self.exit_code,
            reason: Some(self.reason.clone()),
            message: self.message.clone(),
            started_at: Some(Time(self.started_at)),
            finished_at: Some(Time(self.finished_at)),
            signal: None,
        }
    }
}

/// The image as resolved for this container: what `status.image`/`imageID` report.
#[derive(Clone)]
pub struct ResolvedImage {
    pub name: String,
    pub image_id: String,
    pub loaded: wasmpod_engine::Image,
}

/// Where a container stands in the pod: init containers run to completion, in order, before
/// the app containers; sidecars (init containers with `restartPolicy: Always`) start in that
/// order too but keep running next to the app containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerKind {
    Init,
    Sidecar,
    App,
}

pub struct ContainerState {
    pub spec: Container,
    pub kind: ContainerKind,
    pub logs: Arc<ContainerLogs>,
    pub running: Option<Running>,
    /// Newest first; at most two (state/lastState need no more).
    pub terminations: Vec<Terminated>,
    /// Why the container is not running, when the last sync could not start it.
    pub waiting: Option<(String, Option<String>)>,
    pub instances_started: i32,
    pub crash_backoff: Backoff,
    pub pull_backoff: Backoff,
    pub image: Option<ResolvedImage>,
    /// Latest published probe results, with the container ID they belong to.
    pub results: Vec<(ProbeType, String, ResultValue)>,
}

impl ContainerState {
    pub fn new(spec: Container, kind: ContainerKind, logs: Arc<ContainerLogs>) -> Self {
        ContainerState {
            spec,
            kind,
            logs,
            running: None,
            terminations: Vec::new(),
            waiting: None,
            instances_started: 0,
            crash_backoff: Backoff::default(),
            pull_backoff: Backoff::default(),
            image: None,
            results: Vec::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// An init container that has run to completion (exit 0) and is not running again.
    pub fn completed(&self) -> bool {
        self.running.is_none() && self.terminations.first().is_some_and(|t| t.exit_code == 0)
    }

    /// `spec.containers{name}` or `spec.initContainers{name}`, for events.
    pub fn field_path(&self) -> String {
        match self.kind {
            ContainerKind::App => format!("spec.containers{{{}}}", self.spec.name),
            _ => format!("spec.initContainers{{{}}}", self.spec.name),
        }
    }

    pub fn restart_count(&self) -> i32 {
        (self.instances_started - 1).max(0)
    }

    pub fn record_termination(&mut self, terminated: Terminated) {
        self.terminations.insert(0, terminated);
        self.terminations.truncate(2);
    }

    pub fn has_probe(&self, probe: ProbeType) -> bool {
        probe.of(&self.spec).is_some()
    }

    /// The published result of `probe` for the running instance.
    pub fn result(&self, probe: ProbeType) -> Option<ResultValue> {
        let id = &self.running.as_ref()?.id;
        self.results
            .iter()
            .find(|(p, for_id, _)| *p == probe && for_id == id)
            .map(|(_, _, value)| *value)
    }

    pub fn set_result(&mut self, probe: ProbeType, id: String, value: ResultValue) {
        self.results.retain(|(p, _, _)| *p != probe);
        self.results.push((probe, id, value));
    }

    /// `started`: running, and the startup probe (if any) has succeeded.
    pub fn started(&self) -> bool {
        self.running.is_some()
            && (!self.has_probe(ProbeType::Startup)
                || self.result(ProbeType::Startup) == Some(ResultValue::Success))
    }

    /// `ready`: started, and the readiness probe (if any) has succeeded.
    pub fn ready(&self) -> bool {
        self.started()
            && (!self.has_probe(ProbeType::Readiness)
                || self.result(ProbeType::Readiness) == Some(ResultValue::Success))
    }

    pub fn status(&self) -> ContainerStatus {
        let (state, last_state) = match (&self.running, &self.waiting) {
            (Some(running), _) => (
                ApiState {
                    running: Some(ContainerStateRunning {
                        started_at: Some(Time(running.started_at)),
                    }),
                    ..Default::default()
                },
                self.terminations.first(),
            ),
            (None, Some((reason, message))) => (
                ApiState {
                    waiting: Some(ContainerStateWaiting {
                        reason: Some(reason.clone()),
                        message: message.clone(),
                    }),
                    ..Default::default()
                },
                self.terminations.first(),
            ),
            (None, None) => match self.terminations.first() {
                Some(newest) => (
                    ApiState {
                        terminated: Some(newest.to_api()),
                        ..Default::default()
                    },
                    self.terminations.get(1),
                ),
                None => (
                    ApiState {
                        waiting: Some(ContainerStateWaiting {
                            reason: Some("ContainerCreating".into()),
                            message: None,
                        }),
                        ..Default::default()
                    },
                    None,
                ),
            },
        };
        let container_id = self
            .running
            .as_ref()
            .map(|r| r.id.clone())
            .or_else(|| self.terminations.first().map(|t| t.id.clone()));
        ContainerStatus {
            name: self.spec.name.clone(),
            image: self
                .image
                .as_ref()
                .map(|i| i.name.clone())
                .unwrap_or_else(|| self.spec.image.clone().unwrap_or_default()),
            image_id: self
                .image
                .as_ref()
                .map(|i| i.image_id.clone())
                .unwrap_or_default(),
            container_id,
            state: Some(state),
            last_state: Some(
                last_state
                    .map(|t| ApiState {
                        terminated: Some(t.to_api()),
                        ..Default::default()
                    })
                    .unwrap_or_default(),
            ),
            ready: self.ready(),
            started: Some(self.started()),
            restart_count: self.restart_count(),
            ..Default::default()
        }
    }
}
