//! The pod worker: one task per pod that owns its containers and decides, on every message,
//! what to start, kill or restart (the kubelet's syncPod / computePodActions).

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Pod, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::container::{ContainerKind, ContainerState, Terminated};
use super::{NodeShared, PodMessage};
use crate::clock::add;
use crate::events::{EventType, ObjectRef};
use crate::ip::PodIp;
use crate::prober::{spawn_worker, ContainerView, ProbeTarget, ProbeType, ResultValue};

/// How soon a failed sync (image errors) is retried: the 1.33 pod worker's back-off period.
pub(super) const FAILED_SYNC_RETRY: Duration = Duration::from_secs(10);
pub(super) const DEADLINE_MESSAGE: &str =
    "Pod was active on the node longer than the specified deadline";

pub(crate) struct PodWorker {
    pub(super) node: Arc<NodeShared>,
    pub(super) pod: Pod,
    pub(super) object: ObjectRef,
    pub(super) ip: PodIp,
    pub(super) containers: Vec<ContainerState>,
    pub(super) tx: mpsc::UnboundedSender<PodMessage>,
    rx: mpsc::UnboundedReceiver<PodMessage>,
    probe_workers: Vec<JoinHandle<()>>,
    /// Per container with probes: what its probe workers see of it.
    probe_views: Vec<(String, tokio::sync::watch::Sender<ContainerView>)>,
    /// Per container name: the readiness worker's manual trigger.
    readiness_triggers: Vec<(String, Arc<tokio::sync::Notify>)>,
    pub(super) deleting: bool,
    /// The pod's volumes and the containers' private roots.
    pub(super) files: super::volumes::PodFiles,
    /// activeDeadlineSeconds passed: everything is stopped and the pod has failed.
    pub(super) deadline_exceeded: bool,
    /// Set when the volumes could not be prepared; every container start fails with it.
    pub(super) volume_error: Option<String>,
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
        let spec = pod.spec.clone().unwrap_or_default();
        let init = spec
            .init_containers
            .unwrap_or_default()
            .into_iter()
            .map(|c| {
                let kind = if c.restart_policy.as_deref() == Some("Always") {
                    ContainerKind::Sidecar
                } else {
                    ContainerKind::Init
                };
                (c, kind)
            });
        let app = spec.containers.into_iter().map(|c| (c, ContainerKind::App));
        let containers = init
            .chain(app)
            .map(|(spec, kind)| {
                let logs = node.logs_for(&object, &spec.name);
                ContainerState::new(spec, kind, logs)
            })
            .collect();
        let start_time = node.clock.now();
        let files = super::volumes::PodFiles::new(&node.pods_dir(), &object.uid);
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
            probe_views: Vec::new(),
            deleting: false,
            files,
            volume_error: None,
            deadline_exceeded: false,
            start_time,
            conditions: Vec::new(),
        }
    }

    /// Carries on from the status a previous node process published for this pod: restart
    /// counts continue, and a container that was running (or had run) counts as found dead.
    pub(super) fn resume_from(&mut self, previous: &PodStatus, now: Timestamp) {
        let statuses = previous
            .init_container_statuses
            .iter()
            .flatten()
            .chain(previous.container_statuses.iter().flatten());
        for status in statuses {
            let Some(container) = self.containers.iter_mut().find(|c| c.name() == status.name)
            else {
                continue;
            };
            let state = status.state.as_ref();
            let running_since = state
                .and_then(|s| s.running.as_ref())
                .and_then(|r| r.started_at.as_ref())
                .map(|t| t.0);
            let finished = state.and_then(|s| s.terminated.as_ref());
            if running_since.is_none() && finished.is_none() && status.restart_count == 0 {
                continue; // never ran
            }
            container.instances_started = status.restart_count + 1;
            let found_dead = |started_at: Timestamp| Terminated {
                id: status.container_id.clone().unwrap_or_default(),
                exit_code: 255,
                reason: "Unknown".into(),
                message: None,
                started_at,
                finished_at: now,
            };
            match (running_since, finished) {
                (Some(started_at), _) => container.record_termination(found_dead(started_at)),
                (None, Some(terminated)) => container.record_termination(Terminated {
                    id: terminated.container_id.clone().unwrap_or_default(),
                    exit_code: terminated.exit_code,
                    reason: terminated.reason.clone().unwrap_or_default(),
                    message: terminated.message.clone(),
                    started_at: terminated.started_at.as_ref().map_or(now, |t| t.0),
                    finished_at: terminated.finished_at.as_ref().map_or(now, |t| t.0),
                }),
                (None, None) => {}
            }
        }
    }

    pub(super) async fn run(mut self) {
        let allowed = self.node.allowed_host_paths.clone();
        let pod = self.downward_pod();
        if let Err(error) = self.files.prepare(&pod, &self.node.store, &allowed) {
            self.volume_error = Some(error);
        }
        if let Some(seconds) = self.active_deadline() {
            self.schedule_resync(add(self.start_time, seconds));
        }
        self.start_probe_workers();
        self.sync().await;
        self.publish_status();
        while let Some(message) = self.rx.recv().await {
            // An exec (probe or hook) runs beside the sync loop, as in the kubelet: a sync
            // would poke readiness and re-run a failing exec readiness probe at once.
            let syncs = !matches!(message, PodMessage::Exec(_));
            self.handle(message);
            if !syncs {
                continue;
            }
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

    /// The pod as the downward API sees it: its spec and metadata plus the addresses the
    /// node gave it (status.podIP/hostIP), known before any status is published.
    pub(super) fn downward_pod(&self) -> Pod {
        let mut pod = self.pod.clone();
        let status = pod.status.get_or_insert_with(Default::default);
        let pod_ip = self.ip.address.to_string();
        status.pod_ip = Some(pod_ip.clone());
        status.pod_ips = Some(vec![k8s_openapi::api::core::v1::PodIP { ip: pod_ip }]);
        status.host_ip = Some(self.node.host_ip.clone());
        status.host_ips = Some(vec![k8s_openapi::api::core::v1::HostIP {
            ip: self.node.host_ip.clone(),
        }]);
        pod
    }

    fn start_probe_workers(&mut self) {
        let never_restarts = self.restart_policy() == "Never";
        for container in &self.containers {
            if ProbeType::ALL
                .iter()
                .all(|p| p.of(&container.spec).is_none())
            {
                continue;
            }
            let (view, view_rx) = tokio::sync::watch::channel(ContainerView::default());
            self.probe_views.push((container.name().to_string(), view));
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
                    field_path: container.field_path(),
                    pod: self.object.clone(),
                    pod_ip: self.ip.address,
                    never_restarts: never_restarts && container.kind != ContainerKind::Sidecar,
                    view: view_rx.clone(),
                    events: self.node.events.clone(),
                    clock: self.node.clock.clone(),
                    network: self.node.network.probe_network(),
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
            PodMessage::ImagesChanged(images) => self.change_images(images),
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
                let object = self.object.clone();
                let Some(c) = self.container_mut(&container) else {
                    return;
                };
                let object = object.with_field_path(c.field_path());
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
                        termination_message(c, running.root.as_deref(), status.code)
                            .or(status.message),
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
                let object = self
                    .object
                    .with_field_path(self.containers[index].field_path());
                self.node.events.kubelet(
                    &object,
                    EventType::Warning,
                    "FailedPostStartHook",
                    message,
                );
                let grace = self.pod_grace_seconds();
                self.kill(index, "FailedPostStartHook".into(), grace);
            }
        }
    }

    fn begin_deletion(&mut self, grace: Option<i64>, now: Timestamp) {
        if self.deleting {
            return;
        }
        self.deleting = true;
        let grace_seconds = grace.unwrap_or_else(|| self.pod_grace_seconds()).max(0);
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

    /// computePodActions: init containers one after another until each has completed (or,
    /// for a sidecar, started); then every app container, with sidecars kept running.
    async fn sync(&mut self) {
        if self.deleting || self.deadline_exceeded {
            return;
        }
        if let Some(deadline) = self.active_deadline() {
            if crate::clock::since(self.node.clock.now(), self.start_time) >= deadline {
                self.exceed_deadline();
                return;
            }
        }
        for index in 0..self.containers.len() {
            let container = &self.containers[index];
            let kind = container.kind;
            let initializing = kind != ContainerKind::App;
            if let Some(running) = &container.running {
                if !running.stopping {
                    self.kill_if_probe_tripped(index);
                }
                // An init container that runs, or a sidecar that has not started yet, holds
                // back everything after it.
                let ready_to_go_on =
                    kind == ContainerKind::Sidecar && self.containers[index].started();
                if initializing && !ready_to_go_on {
                    return;
                }
                continue;
            }
            if kind == ContainerKind::Init && container.completed() {
                continue;
            }
            let should_start = match (kind, container.terminations.first()) {
                (_, None) | (ContainerKind::Sidecar, _) => true,
                (ContainerKind::Init, Some(_)) => self.restart_policy() != "Never",
                (ContainerKind::App, Some(last)) => match self.restart_policy() {
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
            // A sidecar without a startup probe counts as started at once: go on.
            let sidecar_started =
                kind == ContainerKind::Sidecar && self.containers[index].started();
            if initializing && !sidecar_started {
                return;
            }
        }
    }

    fn active_deadline(&self) -> Option<Duration> {
        let seconds = self.pod.spec.as_ref()?.active_deadline_seconds?;
        Some(Duration::from_secs(seconds.max(0) as u64))
    }

    /// The kubelet's active deadline: the pod fails (DeadlineExceeded) and its containers stop.
    fn exceed_deadline(&mut self) {
        self.deadline_exceeded = true;
        self.node.events.kubelet(
            &self.object,
            EventType::Warning,
            "DeadlineExceeded",
            DEADLINE_MESSAGE,
        );
        let grace = self.pod_grace_seconds();
        for index in 0..self.containers.len() {
            self.containers[index].waiting = None;
            if self.containers[index]
                .running
                .as_ref()
                .is_some_and(|r| !r.stopping)
            {
                let name = self.containers[index].name().to_string();
                self.kill(index, format!("Stopping container {name}"), grace);
            }
        }
    }

    /// `computePodActions` on a changed container definition: kill it ("definition changed")
    /// and let the sync start it again with the new image.
    fn change_images(&mut self, images: Vec<(String, String)>) {
        for (name, image) in images {
            let Some(index) = self.containers.iter().position(|c| c.name() == name) else {
                continue;
            };
            if self.containers[index].spec.image.as_deref() == Some(image.as_str()) {
                continue;
            }
            self.containers[index].spec.image = Some(image.clone());
            self.containers[index].image = None;
            if let Some(spec) = self.pod.spec.as_mut() {
                for container in spec
                    .containers
                    .iter_mut()
                    .chain(spec.init_containers.iter_mut().flatten())
                    .filter(|c| c.name == name)
                {
                    container.image = Some(image.clone());
                }
            }
            let spec = self.pod.spec.clone();
            self.node
                .store
                .update_pod(&self.object.namespace, &self.object.name, |pod| {
                    pod.spec = spec;
                });
            let running = self.containers[index]
                .running
                .as_ref()
                .is_some_and(|r| !r.stopping);
            if running {
                let grace = self.pod_grace_seconds();
                let message = format!("Container {name} definition changed, will be restarted");
                self.kill(index, message, grace);
            }
        }
    }

    /// The pod's terminationGracePeriodSeconds (30 s unless set).
    fn pod_grace_seconds(&self) -> i64 {
        self.pod
            .spec
            .as_ref()
            .and_then(|s| s.termination_grace_period_seconds)
            .unwrap_or(30)
    }

    /// A running container whose liveness or startup probe tripped is killed (and restarted
    /// unless the pod's restartPolicy is Never).
    fn kill_if_probe_tripped(&mut self, index: usize) {
        let container = &self.containers[index];
        let tripped = [ProbeType::Liveness, ProbeType::Startup]
            .into_iter()
            .find(|p| container.result(*p) == Some(ResultValue::Failure));
        let Some(probe_type) = tripped else {
            return;
        };
        let name = container.name().to_string();
        let mut message = format!(
            "Container {name} failed {} probe",
            probe_type.as_str().to_lowercase()
        );
        if self.restart_policy() != "Never" || container.kind == ContainerKind::Sidecar {
            message.push_str(", will be restarted");
        }
        let grace = probe_type
            .of(&container.spec)
            .and_then(|p| p.termination_grace_period_seconds)
            .unwrap_or_else(|| self.pod_grace_seconds());
        self.kill(index, message, grace);
    }

    pub(super) fn schedule_resync(&self, at: Timestamp) {
        let tx = self.tx.clone();
        let clock = self.node.clock.clone();
        tokio::spawn(async move {
            clock.sleep_until(at).await;
            let _ = tx.send(PodMessage::Resync);
        });
    }

    pub(super) fn publish_status(&mut self) {
        let now = self.node.clock.now();
        let status = self.pod_status(now);
        let pod_terminal = matches!(status.phase.as_deref(), Some("Succeeded" | "Failed"));
        self.node
            .store
            .update_pod(&self.object.namespace, &self.object.name, |pod| {
                pod.status = Some(status);
            });
        for (name, view) in &self.probe_views {
            let Some(container) = self.containers.iter().find(|c| c.name() == name) else {
                continue;
            };
            let current = ContainerView {
                container_id: container
                    .running
                    .as_ref()
                    .map(|r| r.id.clone())
                    .or_else(|| container.terminations.first().map(|t| t.id.clone())),
                running_since: container.running.as_ref().map(|r| r.started_at),
                terminated: container.running.is_none() && !container.terminations.is_empty(),
                started: container.started(),
                pod_terminal,
                pod_deleting: self.deleting,
            };
            view.send_if_modified(|old| {
                let changed = *old != current;
                if changed {
                    *old = current.clone();
                }
                changed
            });
        }
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

/// The kubelet's termination message: the file at `terminationMessagePath` in the container
/// (first 4096 bytes), or with `FallbackToLogsOnError` and a failed, silent container, the
/// last 80 lines of its log (at most 2048 bytes).
fn termination_message(
    container: &ContainerState,
    root: Option<&std::path::Path>,
    exit_code: i32,
) -> Option<String> {
    const MAX_MESSAGE: usize = 4096;
    const MAX_LOG_LINES: usize = 80;
    const MAX_LOG_BYTES: usize = 2048;
    let path = container
        .spec
        .termination_message_path
        .as_deref()
        .unwrap_or("/dev/termination-log");
    let from_file = root
        .and_then(|root| std::fs::read(root.join(path.trim_start_matches('/'))).ok())
        .filter(|bytes| !bytes.is_empty())
        .map(|mut bytes| {
            bytes.truncate(MAX_MESSAGE);
            String::from_utf8_lossy(&bytes).into_owned()
        });
    if from_file.is_some() {
        return from_file;
    }
    let fallback =
        container.spec.termination_message_policy.as_deref() == Some("FallbackToLogsOnError");
    if !fallback || exit_code == 0 {
        return None;
    }
    let lines = container.logs.lines(false)?;
    let tail: Vec<String> = lines
        .iter()
        .rev()
        .take(MAX_LOG_LINES)
        .rev()
        .map(|l| l.text.clone())
        .collect();
    let mut text = tail.join("\n");
    if text.len() > MAX_LOG_BYTES {
        let mut cut = text.len() - MAX_LOG_BYTES;
        while !text.is_char_boundary(cut) {
            cut += 1;
        }
        text = text[cut..].to_string();
    }
    (!text.is_empty()).then_some(text)
}
