//! Starting a container: crash back-off, the image, Created/Started, the instance, its ports
//! and its postStart hook (kuberuntime's startContainer).

use std::sync::Arc;
use std::time::Duration;

use std::path::PathBuf;

use k8s_openapi::api::core::v1::Container;
use wasmpod_engine::{ExitStatus, ImageKind, Instance, InstanceConfig, LogSink};
use wasmpod_printers::duration::go_duration;

use super::container::Running;
use super::env::container_env;
use super::exec::expand;
use super::listener::PortListeners;
use super::pod_worker::PodWorker;
use super::{hooks, PodMessage};
use crate::events::EventType;

impl PodWorker {
    /// How container `index` is run: HOSTNAME plus env/envFrom, argv (the container's own,
    /// unless `argv` is given, as for an exec), limits, the pod network, and its mounts with
    /// `root` at `/` (no mounts at all without a root). `Err` is a CreateContainerConfigError
    /// message.
    pub(super) fn instance_config(
        &self,
        index: usize,
        root: Option<PathBuf>,
        argv: Option<Vec<String>>,
        logs: Arc<dyn LogSink>,
    ) -> Result<InstanceConfig, String> {
        if let Some(error) = &self.volume_error {
            return Err(error.clone());
        }
        let spec = &self.containers[index].spec;
        let hostname = self
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.hostname.clone())
            .or_else(|| self.pod.metadata.name.clone())
            .unwrap_or_default();
        let mut env = vec![("HOSTNAME".to_string(), hostname)];
        env.extend(container_env(&self.downward_pod(), spec, &self.node.store)?);
        if let Some(dir) = spec.working_dir.as_ref().filter(|d| !d.is_empty()) {
            // wasi-libc takes its initial working directory from PWD.
            env.push(("PWD".into(), dir.clone()));
        }
        let args = argv.unwrap_or_else(|| container_args(spec, &env));
        Ok(InstanceConfig {
            env,
            args,
            memory_limit: memory_limit(spec),
            cpu_limit_millicores: cpu_limit(spec),
            pod_ip: Some(self.ip.address),
            listen_ports: declared_tcp_ports(spec),
            mounts: match root {
                Some(root) => self.files.mounts(spec, root)?,
                None => Vec::new(),
            },
            logs,
            simulated_time: self.node.simulated_time,
        })
    }

    pub(super) async fn start_container(&mut self, index: usize) {
        let now = self.node.clock.now();
        let object = self
            .object
            .with_field_path(self.containers[index].field_path());
        let pod_desc = format!(
            "{}_{}({})",
            self.object.name, self.object.namespace, self.object.uid
        );

        // Crash back-off, measured from the last exit (kuberuntime_manager.go doBackOff).
        let container = &mut self.containers[index];
        let last_exit = container.terminations.first().map(|t| t.finished_at);
        if let Some(finished_at) = last_exit.filter(|_| !self.node.without_crash_backoff) {
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

        let name = self.containers[index].name().to_string();
        let root = if image.loaded.uses_filesystem() {
            self.files.fresh_root(&name).map(Some)
        } else {
            Ok(None)
        };
        let prepared = root.and_then(|root| {
            let logs = self.containers[index].logs.sink();
            Ok((self.instance_config(index, root.clone(), None, logs)?, root))
        });
        let (config, root) = match prepared {
            Ok(prepared) => prepared,
            Err(message) => {
                self.node.events.kubelet(
                    &object,
                    EventType::Warning,
                    "Failed",
                    format!("Error: {message}"),
                );
                self.containers[index].waiting =
                    Some(("CreateContainerConfigError".into(), Some(message)));
                self.schedule_resync(crate::clock::add(
                    self.node.clock.now(),
                    super::pod_worker::FAILED_SYNC_RETRY,
                ));
                return;
            }
        };
        let container = &mut self.containers[index];
        self.node.events.kubelet(
            &object,
            EventType::Normal,
            "Created",
            format!("Created container: {name}"),
        );
        container.logs.start_instance();
        let instance = Arc::new(Instance::spawn(&image.loaded, config));
        let id = new_container_id(&self.node.ids);
        container.instances_started += 1;
        container.waiting = None;
        container.running = Some(Running {
            instance: instance.clone(),
            id: id.clone(),
            started_at: self.node.clock.now(),
            listeners: None,
            stopping: false,
            start_error: None,
            root,
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

        if let Some(limit) = memory_limit(&container.spec) {
            let dirs = self.files.memory_backed_dirs(&container.spec);
            if !dirs.is_empty() {
                charge_memory_volumes(instance.clone(), dirs, limit, self.node.clock.clone());
            }
        }

        let ports = declared_tcp_ports(&container.spec);
        let ip = self.ip.address;
        let tx = self.tx.clone();
        let network = self.node.network.clone();
        // A command component listens itself; the host serves ports only for wasi:http ones.
        let host_serves_ports = image.loaded.kind() == ImageKind::Http;
        tokio::spawn(async move {
            if instance.started().await && host_serves_ports {
                let result = PortListeners::bind(&network, ip, &ports, instance.clone()).await;
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
}

/// How often the files in a container's memory-backed emptyDirs are measured.
const MEMORY_VOLUME_CHECK: Duration = Duration::from_secs(1);

/// Files in a `medium: Memory` emptyDir are tmpfs pages in Kubernetes and count against the
/// memory limit of the container: measured every second, charged to the instance (so its
/// next memory growth past the limit fails), and a container over its limit is OOM-killed.
fn charge_memory_volumes(
    instance: Arc<Instance>,
    dirs: Vec<PathBuf>,
    limit: u64,
    clock: crate::clock::SharedClock,
) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = instance.wait() => return,
                _ = clock.sleep(MEMORY_VOLUME_CHECK) => {}
            }
            let walk = dirs.clone();
            let measured = tokio::task::spawn_blocking(move || {
                walk.iter()
                    .map(|dir| super::volumes::dir_bytes(dir))
                    .sum::<u64>()
            });
            let Ok(held) = measured.await else {
                return;
            };
            instance.charge_outside_memory(held);
            if instance.memory_usage().total() > limit {
                instance.kill_out_of_memory();
                return;
            }
        }
    });
}

fn new_container_id(ids: &crate::ids::IdSource) -> String {
    format!("wasmpod://{}{}", ids.uuid().simple(), ids.uuid().simple())
}

/// argv: command then args with `$(VAR)` expanded from the environment. Without a command
/// the image itself is the entrypoint, so argv[0] is the image's name (`busybox` for
/// `registry.k8s.io/busybox:1.27.2`) and the args follow, as `docker run IMAGE ARGS` runs the
/// image's entrypoint with ARGS.
fn container_args(spec: &Container, env: &[(String, String)]) -> Vec<String> {
    let mut args: Vec<String> = spec.command.clone().unwrap_or_default();
    if args.is_empty() {
        args.push(image_program_name(
            spec.image.as_deref().unwrap_or(&spec.name),
        ));
    }
    args.extend(spec.args.clone().unwrap_or_default());
    args.iter().map(|arg| expand(arg, env)).collect()
}

/// `registry.k8s.io/e2e-test-images/agnhost:2.40` → `agnhost`.
fn image_program_name(image: &str) -> String {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last.split(':').next().unwrap_or(last).to_string()
}

pub(super) fn memory_limit(spec: &Container) -> Option<u64> {
    let quantity = spec.resources.as_ref()?.limits.as_ref()?.get("memory")?;
    crate::quantity::parse_bytes(&quantity.0)
}

pub(super) fn cpu_limit(spec: &Container) -> Option<u64> {
    let quantity = spec.resources.as_ref()?.limits.as_ref()?.get("cpu")?;
    crate::quantity::parse_millicores(&quantity.0)
}

/// The container's TCP `containerPort`s: the host serves them for an HTTP component, and a
/// command component may bind only them.
fn declared_tcp_ports(spec: &k8s_openapi::api::core::v1::Container) -> Vec<u16> {
    spec.ports
        .iter()
        .flatten()
        .filter(|p| p.protocol.as_deref().unwrap_or("TCP") == "TCP")
        .filter_map(|p| u16::try_from(p.container_port).ok())
        .collect()
}
