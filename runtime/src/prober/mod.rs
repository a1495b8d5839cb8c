//! Probing, as the kubelet's pkg/kubelet/prober: a worker per container and probe type decides
//! *when* to probe (the `worker` module); the handlers in the `wasmpod-probe` crate know *how*.

mod worker;

pub(crate) use worker::{spawn_worker, ProbeTarget};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Container, Probe};

/// What a probe worker needs to know about its container, published by the pod worker on a
/// watch channel: reading (and cloning) the whole pod object on every probe would put the
/// store on the per-probe path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ContainerView {
    /// The newest instance's ID (running or last exited).
    pub container_id: Option<String>,
    /// When the running instance started; `None` when the container is not running.
    pub running_since: Option<Timestamp>,
    /// The newest instance has exited.
    pub terminated: bool,
    pub started: bool,
    /// The pod reached Succeeded or Failed.
    pub pod_terminal: bool,
    pub pod_deleting: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProbeType {
    Liveness,
    Readiness,
    Startup,
}

impl ProbeType {
    pub const ALL: [ProbeType; 3] = [
        ProbeType::Liveness,
        ProbeType::Readiness,
        ProbeType::Startup,
    ];

    /// The word used in event messages (`Liveness probe failed: …`).
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeType::Liveness => "Liveness",
            ProbeType::Readiness => "Readiness",
            ProbeType::Startup => "Startup",
        }
    }

    pub fn of(self, container: &Container) -> Option<&Probe> {
        match self {
            ProbeType::Liveness => container.liveness_probe.as_ref(),
            ProbeType::Readiness => container.readiness_probe.as_ref(),
            ProbeType::Startup => container.startup_probe.as_ref(),
        }
    }

    /// What the results cache holds for a new container before its first probe.
    fn initial_value(self) -> ResultValue {
        match self {
            ProbeType::Liveness => ResultValue::Success,
            ProbeType::Readiness => ResultValue::Failure,
            ProbeType::Startup => ResultValue::Unknown,
        }
    }
}

/// A published probe result (pkg/kubelet/prober/results).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultValue {
    Success,
    Failure,
    Unknown,
}
