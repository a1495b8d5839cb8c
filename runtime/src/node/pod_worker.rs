//! The pod worker: one task per pod that owns its containers and decides, on every message,
//! what to start, kill or restart (the kubelet's syncPod / computePodActions).

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use wasmpod_engine::{ExitStatus, ImageKind, Instance, InstanceConfig};
use wasmpod_printers::duration::go_duration;

use super::container::{ContainerState, Running, Terminated};
use super::listener::PortListeners;
use super::{hooks, NodeShared, PodMessage};
use crate::clock::add;
use crate::events::{EventType, ObjectRef};
use crate::ip::PodIp;
use crate::prober::{spawn_worker, ProbeTarget, ProbeType, ResultValue};

/// The kubelet floors every kill's grace period at this (minimumGracePeriodInSeconds).
const MINIMUM_GRACE: Duration = Duration::from_secs(2);
/// How soon a failed sync (image errors) is retried: the 1.33 pod worker's back-off period.
pub(super) const FAILED_SYNC_RETRY: Duration = Duration::from_secs(10);

pub(crate) struct PodWorker {
    pub(super) node: Arc<NodeShared>,
    pub(super) pod: Pod,
    pub(super) object: ObjectRef,
    pub(super) ip: PodIp,
    pub(super) containers: Vec<ContainerState>,
    pub(super) tx: mpsc::UnboundedSender<PodMessage>,
    rx: mpsc::UnboundedReceiver<PodMessage>,
    probe_workers: Vec<JoinHandle<()>>,
    /// Per container name: the readiness worker's manual trigger.
    readiness_triggers: Vec<(String, Arc<tokio::sync::Notify>)>,
    pub(super) deleting: bool,
    pub(super) start_time: Timestamp,
    pub(super) conditions: Vec<k8s_openapi::api::core::v1::PodCondition>,
}

impl PodWorker {
    pub(super) fn new(
        node: Arc<NodeShared>,
        pod: Pod,
        ip: PodIp,
        tx: mpsc::UnboundedSender<PodMessage>,
        rx: mpsc::UnboundedReceiver<PodMessage>,
    ) -> Self {
        let object = ObjectRef {
            namespace: pod.metadata.namespace.clone().unwrap_or_default(),
            name: pod.metadata.name.clone().unwrap_or_default(),
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            field_path: None,
        };
        let containers = pod
            .spec
            .as_ref()
            .map(|spec| spec.containers.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|spec| {
                let logs = node.logs_for(&object, &spec.name);
                ContainerState::new(spec, logs)
            })
            .collect();
        let start_time = node.clock.now();
        PodWorker {
            node,
            pod,
            object,
            ip,
            containers,
            tx,
            rx,
            probe_workers: Vec::new(),
            readiness_triggers: Vec::new(),
            deleting: false,
            start_time,
            conditions: Vec::new(),
        }
    }

    pub(super) async fn run(mut self) {
        self.start_probe_workers();
        self.sync().await;
        self.publish_status();
        while let Some(message) = self.rx.recv().await {
            self.handle(message);
            self.sync().await;
            self.publish_status();
            if self.deleting && self.containers.iter().all(|c| c.running.is_none()) {
                break;
            }
        }
        for worker in self.probe_workers.drain(..) {
            worker.abort();
        }
        self.node.forget_pod(&self.object);
    }

    fn start_probe_workers(&mut self) {
        for container in &self.containers {
            for probe_type in ProbeType::ALL {
                let Some(probe) = probe_type.of(&container.spec) else {
                    continue;
                };
                let trigger = (probe_type == ProbeType::Readiness).then(|| {
                    let trigger = Arc::new(tokio::sync::Notify::new());
                    self.readiness_triggers
                        .push((container.name().to_string(), trigger.clone()));
                    trigger
                });
                self.probe_workers.push(spawn_worker(ProbeTarget {
                    probe_type,
                    probe: probe.clone(),
                    container: container.spec.clone(),
                    pod: self.object.clone(),
                    pod_ip: self.ip.address,
                    store: self.node.store.clone(),
                    events: self.node.events.clone(),
                    clock: self.node.clock.clone(),
                    results: self.tx.clone(),
                    trigger,
                }));
            }
        }
    }

    fn container_mut(&mut self, name: &str) -> Option<&mut ContainerState> {
        self.containers.iter_mut().find(|c| c.name() == name)
    }

    fn handle(&mut self, message: PodMessage) {
        let now = self.node.clock.now();
        match message {
            PodMessage::Resync => {}
            PodMessage::Probe {
                container,
                id,
                probe,
                value,
            } => {
                if let Some(c) = self.container_mut(&container) {
                    c.set_result(probe, id, value);
                }
            }
            PodMessage::Listening {
                container,
                id,
                result,
            } => {
                let object = self.object.container(&container);
                let Some(c) = self.container_mut(&container) else {
                    return;
                };
                let Some(running) = c.running.as_mut().filter(|r| r.id == id) else {
                    return;
                };
                match result {
                    Ok(listeners) if !running.stopping => running.listeners = Some(listeners),
                    Ok(_) => {}
                    Err(error) => {
                        running.start_error = Some(error.clone());
                        running.instance.kill();
                        self.node.events.kubelet(
                            &object,
                            EventType::Warning,
                            "Failed",
                            format!("Error: failed to start container \"{container}\": {error}"),
                        );
                    }
                }
            }
            PodMessage::Exited {
                container,
                id,
                status,
            } => {
                let Some(c) = self.container_mut(&container) else {
                    return;
                };
                if c.running.as_ref().is_none_or(|r| r.id != id) {
                    return;
                }
                let running = c.running.take().expect("checked above");
                c.logs.end_instance();
                let (exit_code, reason, message) = match running.start_error {
                    Some(error) => (128, "StartError".to_string(), Some(error)),
                    None => (
                        status.code,
                        status.reason.as_str().to_string(),
                        status.message,
                    ),
                };
                c.record_termination(Terminated {
                    id,
                    exit_code,
                    reason,
                    message,
                    started_at: running.started_at,
                    finished_at: now,
                });
            }
            PodMessage::Delete { grace } => self.begin_deletion(grace, now),
            PodMessage::Exec(request) => self.exec(request),
            PodMessage::PostStartFailed {
                container,
                id,
                message,
            } => {
                let Some(index) = self.containers.iter().position(|c| c.name() == container) else {
                    return;
                };
                let current = self.containers[index].running.as_ref();
                if current.is_none_or(|r| r.id != id || r.stopping) {
                    return;
                }
                let object = self.object.container(&container);
                self.node.events.kubelet(
                    &object,
                    EventType::Warning,
                    "FailedPostStartHook",
                    message,
                );
                let grace = self
                    .pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.termination_grace_period_seconds)
                    .unwrap_or(30);
                self.kill(index, "FailedPostStartHook".into(), grace);
            }
        }
    }

    fn begin_deletion(&mut self, grace: Option<i64>, now: Timestamp) {
        if self.deleting {
            return;
        }
        self.deleting = true;
        let grace_seconds = grace
            .or_else(|| {
                self.pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.termination_grace_period_seconds)
            })
            .unwrap_or(30)
            .max(0);
        let deadline = add(now, Duration::from_secs(grace_seconds as u64));
        self.node
            .store
            .update_pod(&self.object.namespace, &self.object.name, |pod| {
                pod.metadata.deletion_timestamp = Some(Time(deadline));
                pod.metadata.deletion_grace_period_seconds = Some(grace_seconds);
            });
        for index in 0..self.containers.len() {
            let name = self.containers[index].name().to_string();
            if self.containers[index].running.is_some() {
                self.kill(index, format!("Stopping container {name}"), grace_seconds);
            }
            self.containers[index].waiting = None;
        }
    }

    fn restart_policy(&self) -> &str {
        self.pod
            .spec
            .as_ref()
            .and_then(|s| s.restart_policy.as_deref())
            .unwrap_or("Always")
    }

    async fn sync(&mut self) {
        if self.deleting {
            return;
        }
        for index in 0..self.containers.len() {
            let container = &self.containers[index];
            if let Some(running) = &container.running {
                if running.stopping {
                    continue;
                }
                let tripped = [ProbeType::Liveness, ProbeType::Startup]
                    .into_iter()
                    .find(|p| container.result(*p) == Some(ResultValue::Failure));
                if let Some(probe_type) = tripped {
                    let name = container.name().to_string();
                    let mut message = format!(
                        "Container {name} failed {} probe",
                        probe_type.as_str().to_lowercase()
                    );
                    if self.restart_policy() != "Never" {
                        message.push_str(", will be restarted");
                    }
                    let grace = probe_type
                        .of(&container.spec)
                        .and_then(|p| p.termination_grace_period_seconds)
                        .or_else(|| {
                            self.pod
                                .spec
                                .as_ref()
                                .and_then(|s| s.termination_grace_period_seconds)
                        })
                        .unwrap_or(30);
                    self.kill(index, message, grace);
                }
                continue;
            }
            let should_start = match container.terminations.first() {
                None => true,
                Some(last) => match self.restart_policy() {
                    "Never" => false,
                    "OnFailure" => last.exit_code != 0,
                    _ => true,
                },
            };
            if should_start {
                self.start_container(index).await;
            } else {
                self.containers[index].waiting = None;
            }
        }
    }

    /// killContainer: Killing event, the preStop hook (its time counts against the grace
    /// period), stop (SIGTERM), kill when the grace period is over.
    fn kill(&mut self, index: usize, message: String, grace_seconds: i64) {
        let object = self.object.container(self.containers[index].name());
        let hook_context = self.hook_context(index);
        let Some(running) = self.containers[index].running.as_mut() else {
            return;
        };
        self.node
            .events
            .kubelet(&object, EventType::Normal, "Killing", message);
        running.stopping = true;
        let stop_accepting = running
            .listeners
            .as_ref()
            .map(|listeners| listeners.accept_stopper())
            .unwrap_or_default();
        let pre_stop = hook_context
            .container
            .lifecycle
            .as_ref()
            .and_then(|l| l.pre_stop.clone());
        let grace = Duration::from_secs(grace_seconds.max(0) as u64).max(MINIMUM_GRACE);
        let instance = running.instance.clone();
        let clock = self.node.clock.clone();
        let events = self.node.events.clone();
        tokio::spawn(async move {
            let mut remaining = grace;
            if let Some(handler) = pre_stop {
                let started = clock.now();
                let outcome = tokio::select! {
                    outcome = hooks::run(&handler, &hook_context, grace) => Some(outcome),
                    _ = instance.wait() => None,
                    _ = clock.sleep(grace) => None,
                };
                if let Some(Err(message)) = outcome {
                    events.kubelet(&object, EventType::Warning, "FailedPreStopHook", message);
                }
                remaining = grace
                    .saturating_sub(crate::clock::since(clock.now(), started))
                    .max(MINIMUM_GRACE);
            }
            for accept_loop in stop_accepting {
                accept_loop.abort();
            }
            instance.stop();
            tokio::select! {
                _ = instance.wait() => {}
                _ = clock.sleep(remaining) => instance.kill(),
            }
        });
    }

    fn hook_context(&self, index: usize) -> hooks::HookContext {
        hooks::HookContext {
            container: self.containers[index].spec.clone(),
            pod_ip: self.ip.address,
            pod_desc: format!(
                "{}_{}({})",
                self.object.name, self.object.namespace, self.object.uid
            ),
            clock: self.node.clock.clone(),
            pod_worker: self.tx.clone(),
        }
    }

    pub(super) fn schedule_resync(&self, at: Timestamp) {
        let tx = self.tx.clone();
        let clock = self.node.clock.clone();
        tokio::spawn(async move {
            clock.sleep_until(at).await;
            let _ = tx.send(PodMessage::Resync);
        });
    }

    async fn start_container(&mut self, index: usize) {
        let now = self.node.clock.now();
        let object = self.object.container(self.containers[index].name());
        let pod_desc = format!(
            "{}_{}({})",
            self.object.name, self.object.namespace, self.object.uid
        );

        // Crash back-off, measured from the last exit (kuberuntime_manager.go doBackOff).
        let container = &mut self.containers[index];
        if let Some(finished_at) = container.terminations.first().map(|t| t.finished_at) {
            if container.crash_backoff.in_backoff_since(finished_at, now) {
                let name = container.name().to_string();
                container.waiting = Some((
                    "CrashLoopBackOff".into(),
                    Some(format!(
                        "back-off {} restarting failed container={name} pod={pod_desc}",
                        go_duration(container.crash_backoff.delay())
                    )),
                ));
                let expiry = container.crash_backoff.expires_at(finished_at);
                self.node.events.kubelet(
                    &object,
                    EventType::Warning,
                    "BackOff",
                    format!("Back-off restarting failed container {name} in pod {pod_desc}"),
                );
                self.schedule_resync(expiry);
                return;
            }
            container.crash_backoff.next(finished_at, now);
        }

        let Some(image) = self.ensure_image(index).await else {
            return;
        };

        let container = &mut self.containers[index];
        let name = container.name().to_string();
        self.node.events.kubelet(
            &object,
            EventType::Normal,
            "Created",
            format!("Created container: {name}"),
        );
        container.logs.start_instance();
        let config = InstanceConfig {
            env: container_env(&self.pod, &container.spec),
            args: container_args(&container.spec),
            memory_limit: memory_limit(&container.spec),
            cpu_limit_millicores: cpu_limit(&container.spec),
            pod_ip: Some(self.ip.address),
            logs: container.logs.sink(),
        };
        let instance = Arc::new(Instance::spawn(&image.loaded, config));
        let id = new_container_id();
        container.instances_started += 1;
        container.waiting = None;
        container.running = Some(Running {
            instance: instance.clone(),
            id: id.clone(),
            started_at: self.node.clock.now(),
            listeners: None,
            stopping: false,
            start_error: None,
        });
        self.node.events.kubelet(
            &object,
            EventType::Normal,
            "Started",
            format!("Started container {name}"),
        );
        if let Some(handler) = container
            .spec
            .lifecycle
            .as_ref()
            .and_then(|l| l.post_start.clone())
        {
            let context = self.hook_context(index);
            let (tx, name, id) = (self.tx.clone(), name.clone(), id.clone());
            tokio::spawn(async move {
                // The kubelet gives postStart no timeout of its own; the container's life bounds it.
                if let Err(message) =
                    hooks::run(&handler, &context, Duration::from_secs(3600)).await
                {
                    let _ = tx.send(PodMessage::PostStartFailed {
                        container: name,
                        id,
                        message,
                    });
                }
            });
        }
        let container = &mut self.containers[index];

        let ports: Vec<u16> = container
            .spec
            .ports
            .iter()
            .flatten()
            .filter(|p| p.protocol.as_deref().unwrap_or("TCP") == "TCP")
            .filter_map(|p| u16::try_from(p.container_port).ok())
            .collect();
        let ip = self.ip.address;
        let tx = self.tx.clone();
        // A command component listens itself; the host serves ports only for wasi:http ones.
        let host_serves_ports = image.loaded.kind() == ImageKind::Http;
        tokio::spawn(async move {
            if instance.started().await && host_serves_ports {
                let result = PortListeners::bind(ip, &ports, instance.clone()).await;
                let _ = tx.send(PodMessage::Listening {
                    container: name.clone(),
                    id: id.clone(),
                    result,
                });
            }
            let status: ExitStatus = instance.wait().await;
            let _ = tx.send(PodMessage::Exited {
                container: name,
                id,
                status,
            });
        });
    }

    pub(super) fn publish_status(&mut self) {
        let now = self.node.clock.now();
        let status = self.pod_status(now);
        self.node
            .store
            .update_pod(&self.object.namespace, &self.object.name, |pod| {
                pod.status = Some(status);
            });
        // Started but not ready yet: probe readiness now rather than at the next tick.
        for (name, trigger) in &self.readiness_triggers {
            let waiting_for_readiness = self
                .containers
                .iter()
                .find(|c| c.name() == name)
                .is_some_and(|c| c.started() && !c.ready());
            if waiting_for_readiness {
                trigger.notify_one();
            }
        }
    }
}

fn new_container_id() -> String {
    format!(
        "wasmpod://{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// HOSTNAME (the pod name, as in a container) plus the container's literal env values.
pub(super) fn container_env(
    pod: &Pod,
    spec: &k8s_openapi::api::core::v1::Container,
) -> Vec<(String, String)> {
    let mut env = vec![(
        "HOSTNAME".to_string(),
        pod.metadata.name.clone().unwrap_or_default(),
    )];
    for var in spec.env.iter().flatten() {
        if let Some(value) = &var.value {
            env.push((var.name.clone(), value.clone()));
        }
    }
    env
}

/// argv: command then args; the container name stands in for argv[0] when there is no command.
fn container_args(spec: &k8s_openapi::api::core::v1::Container) -> Vec<String> {
    let mut args: Vec<String> = spec.command.clone().unwrap_or_default();
    if args.is_empty() {
        args.push(spec.name.clone());
    }
    args.extend(spec.args.clone().unwrap_or_default());
    args
}

pub(super) fn memory_limit(spec: &k8s_openapi::api::core::v1::Container) -> Option<u64> {
    let quantity = spec.resources.as_ref()?.limits.as_ref()?.get("memory")?;
    crate::quantity::parse_bytes(&quantity.0)
}

pub(super) fn cpu_limit(spec: &k8s_openapi::api::core::v1::Container) -> Option<u64> {
    let quantity = spec.resources.as_ref()?.limits.as_ref()?.get("cpu")?;
    crate::quantity::parse_millicores(&quantity.0)
}
