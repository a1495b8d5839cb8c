//! The probe worker loop (pkg/kubelet/prober/worker.go): ticks anchored at worker start,
//! initial delay, startup gating, consecutive-result thresholds, on-hold after a trip.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, Probe};
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinHandle;
use wasmpod_probe::{HttpGetRequest, ProbeOutcome, ProbeResult};

use super::{ContainerView, ProbeType, ResultValue};
use crate::clock::{add, since, SharedClock};
use crate::events::{EventRecorder, EventType, ObjectRef};
use crate::node::exec::{expand, ExecOutcome, ExecRequest};
use crate::node::PodMessage;

/// Errors are retried immediately, up to this many attempts (prober.go maxProbeRetries).
const MAX_PROBE_RETRIES: usize = 3;

/// Everything a probe worker needs, fixed for the pod's lifetime.
pub(crate) struct ProbeTarget {
    pub probe_type: ProbeType,
    pub probe: Probe,
    pub container: Container,
    /// `spec.containers{name}` (or `spec.initContainers{name}` for a sidecar), for events.
    pub field_path: String,
    pub pod: ObjectRef,
    pub pod_ip: Ipv4Addr,
    /// The pod's restartPolicy is Never: a terminated container will not come back.
    pub never_restarts: bool,
    /// The container's state, published by the pod worker; closed when the pod is gone.
    pub view: watch::Receiver<ContainerView>,
    pub events: Arc<EventRecorder>,
    pub clock: SharedClock,
    /// Where the handlers connect.
    pub network: wasmpod_probe::Network,
    pub results: mpsc::UnboundedSender<PodMessage>,
    /// Readiness workers: the pod worker pokes this while the container is not yet ready,
    /// so readiness is probed at once instead of at the next tick (the kubelet's manual trigger).
    pub trigger: Option<Arc<Notify>>,
}

pub(crate) fn spawn_worker(target: ProbeTarget) -> JoinHandle<()> {
    tokio::spawn(Worker::new(target).run())
}

struct Worker {
    target: ProbeTarget,
    container_id: Option<String>,
    published: Option<ResultValue>,
    last_result: Option<ResultValue>,
    result_run: i32,
    on_hold: bool,
}

enum Next {
    Continue,
    Stop,
}

impl Worker {
    fn new(target: ProbeTarget) -> Self {
        Worker {
            target,
            container_id: None,
            published: None,
            last_result: None,
            result_run: 0,
            on_hold: false,
        }
    }

    async fn run(mut self) {
        let period =
            Duration::from_secs(self.target.probe.period_seconds.unwrap_or(10).max(1) as u64);
        let clock = self.target.clock.clone();
        let trigger = self.target.trigger.clone();
        let mut anchor = clock.now();
        loop {
            if let Next::Stop = self.do_probe().await {
                return;
            }
            // Like Go's time.Ticker: the next tick on the grid from the worker's start;
            // ticks missed while a probe ran are dropped.
            let elapsed = since(clock.now(), anchor);
            let ticks = elapsed.as_nanos() / period.as_nanos() + 1;
            let next = add(anchor, period * u32::try_from(ticks).unwrap_or(u32::MAX));
            match &trigger {
                Some(trigger) => tokio::select! {
                    _ = clock.sleep_until(next) => {}
                    // A manual run restarts the ticker (probeTicker.Reset).
                    _ = trigger.notified() => anchor = clock.now(),
                },
                None => clock.sleep_until(next).await,
            }
        }
    }

    fn publish(&mut self, value: ResultValue) {
        let Some(id) = self.container_id.clone() else {
            return;
        };
        if self.published == Some(value) {
            return;
        }
        self.published = Some(value);
        let _ = self.target.results.send(PodMessage::Probe {
            container: self.target.container.name.clone(),
            id,
            probe: self.target.probe_type,
            value,
        });
    }

    async fn do_probe(&mut self) -> Next {
        // A closed channel means the pod worker is gone: so is the pod.
        if self.target.view.has_changed().is_err() {
            return Next::Stop;
        }
        let view = self.target.view.borrow_and_update().clone();
        if view.pod_terminal {
            return Next::Stop;
        }
        let Some(id) = view.container_id else {
            return Next::Continue;
        };
        if self.container_id.as_ref() != Some(&id) {
            self.container_id = Some(id);
            self.on_hold = false;
            self.published = None;
            self.publish(self.target.probe_type.initial_value());
        }
        if self.on_hold {
            return Next::Continue;
        }
        let Some(started_at) = view.running_since else {
            self.publish(ResultValue::Failure);
            return if view.terminated && self.target.never_restarts {
                Next::Stop
            } else {
                Next::Continue
            };
        };
        let probe_type = self.target.probe_type;
        if view.pod_deleting && matches!(probe_type, ProbeType::Liveness | ProbeType::Startup) {
            self.publish(ResultValue::Success);
            return Next::Stop;
        }
        let initial_delay = self.target.probe.initial_delay_seconds.unwrap_or(0);
        if (since(self.target.clock.now(), started_at).as_secs() as i64) < i64::from(initial_delay)
        {
            return Next::Continue;
        }
        match (probe_type, view.started) {
            (ProbeType::Startup, true) => return Next::Continue,
            (ProbeType::Liveness | ProbeType::Readiness, false) => return Next::Continue,
            _ => {}
        }

        let result = match self.run_probe_with_retries().await {
            Ok(result) => result,
            Err(()) => return Next::Continue,
        };
        if self.last_result == Some(result) {
            self.result_run += 1;
        } else {
            self.last_result = Some(result);
            self.result_run = 1;
        }
        let probe = &self.target.probe;
        let threshold = match result {
            ResultValue::Success => probe.success_threshold.unwrap_or(1),
            _ => probe.failure_threshold.unwrap_or(3),
        };
        if self.result_run < threshold {
            return Next::Continue;
        }
        self.publish(result);
        if (probe_type == ProbeType::Liveness && result == ResultValue::Failure)
            || probe_type == ProbeType::Startup
        {
            // Wait for the next container (a liveness trip restarts it) before probing again.
            self.on_hold = true;
            self.result_run = 0;
        }
        Next::Continue
    }

    /// prober.probe: runs the handler, turns its outcome into a result and an event.
    /// `Err` = the probe errored; the worker ignores it.
    async fn run_probe_with_retries(&self) -> Result<ResultValue, ()> {
        let mut outcome = self.run_handler().await;
        for _ in 1..MAX_PROBE_RETRIES {
            if outcome.error.is_none() {
                break;
            }
            outcome = self.run_handler().await;
        }
        let target = &self.target;
        let object = target.pod.with_field_path(target.field_path.clone());
        let kind = target.probe_type.as_str();
        if let Some(error) = &outcome.error {
            target.events.kubelet(
                &object,
                EventType::Warning,
                "Unhealthy",
                format!(
                    "{kind} probe errored and resulted in {} state: {error}",
                    result_word(outcome.result)
                ),
            );
            return Err(());
        }
        Ok(match outcome.result {
            ProbeResult::Success => ResultValue::Success,
            ProbeResult::Warning => {
                target.events.kubelet(
                    &object,
                    EventType::Warning,
                    "ProbeWarning",
                    format!("{kind} probe warning: {}", outcome.output),
                );
                ResultValue::Success
            }
            ProbeResult::Failure => {
                target.events.kubelet(
                    &object,
                    EventType::Warning,
                    "Unhealthy",
                    format!("{kind} probe failed: {}", outcome.output),
                );
                ResultValue::Failure
            }
            ProbeResult::Unknown => ResultValue::Failure,
        })
    }

    async fn run_handler(&self) -> ProbeOutcome {
        let target = &self.target;
        let probe = &target.probe;
        let timeout = Duration::from_secs(probe.timeout_seconds.unwrap_or(1).max(1) as u64);
        let pod_ip = target.pod_ip.to_string();
        if let Some(action) = &probe.http_get {
            return match HttpGetRequest::new(action, &pod_ip, &target.container) {
                Ok(request) => wasmpod_probe::http_get(&request, timeout, &target.network).await,
                Err(error) => errored(error),
            };
        }
        if let Some(action) = &probe.tcp_socket {
            let host = action.host.clone().unwrap_or(pod_ip);
            return match wasmpod_probe::resolve_port(&action.port, &target.container) {
                Ok(port) => wasmpod_probe::tcp_socket(&host, port, timeout, &target.network).await,
                Err(error) => errored(error),
            };
        }
        if let Some(action) = &probe.exec {
            return self
                .exec(action.command.clone().unwrap_or_default(), timeout)
                .await;
        }
        if let Some(action) = &probe.grpc {
            return match wasmpod_probe::grpc_target(action, &pod_ip) {
                Ok(target) => {
                    wasmpod_probe::grpc(
                        &target.host,
                        target.port,
                        &target.service,
                        timeout,
                        &self.target.network,
                    )
                    .await
                }
                Err(error) => errored(error),
            };
        }
        errored("missing probe handler".into())
    }
}

impl Worker {
    /// pkg/probe/exec: exit 0 succeeds, anything else fails with the output; a timeout fails
    /// with `command "…" timed out`; other trouble is a probe error.
    async fn exec(&self, command: Vec<String>, timeout: Duration) -> ProbeOutcome {
        let env: Vec<(String, String)> = self
            .target
            .container
            .env
            .iter()
            .flatten()
            .filter_map(|var| Some((var.name.clone(), var.value.clone()?)))
            .collect();
        let argv: Vec<String> = command.iter().map(|arg| expand(arg, &env)).collect();
        let (reply, answer) = tokio::sync::oneshot::channel();
        let request = ExecRequest {
            container: self.target.container.name.clone(),
            argv: argv.clone(),
            timeout,
            reply,
        };
        if self.target.results.send(PodMessage::Exec(request)).is_err() {
            return errored("the pod is gone".into());
        }
        let outcome = match answer.await {
            Ok(outcome) => outcome,
            Err(_) => return errored("the pod is gone".into()),
        };
        let result = |result, output| ProbeOutcome {
            result,
            output,
            error: None,
        };
        match outcome {
            ExecOutcome::Exited { code: 0, output } => result(ProbeResult::Success, output),
            ExecOutcome::Exited { output, .. } => result(ProbeResult::Failure, output),
            ExecOutcome::TimedOut => result(
                ProbeResult::Failure,
                format!("command \"{}\" timed out", argv.join(" ")),
            ),
            ExecOutcome::Failed(error) => errored(error),
        }
    }
}

fn errored(error: String) -> ProbeOutcome {
    ProbeOutcome {
        result: ProbeResult::Unknown,
        output: String::new(),
        error: Some(error),
    }
}

fn result_word(result: ProbeResult) -> &'static str {
    match result {
        ProbeResult::Success => "success",
        ProbeResult::Warning => "warning",
        ProbeResult::Failure => "failure",
        ProbeResult::Unknown => "unknown",
    }
}
