//! One container incarnation: a long-lived instance owned by an actor task that serves HTTP
//! requests one at a time (guest memory persists between them), and ends with an exit status.
//!
//! The actor owns the `Store`; requests, stop and kill reach it through channels. A kill sets
//! a flag that the epoch callback turns into a trap (for a guest spinning in wasm) and also
//! drops the in-flight call (for a guest blocked in a host call, where no epoch check runs).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use tokio::sync::{mpsc, oneshot, watch};
use wasmtime::component::ResourceTable;
use wasmtime::{Store, UpdateDeadline};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::Proxy;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpView};

use crate::ctx::{CpuThrottle, Ctx, Killed, MemoryLimiter, MemoryUsage, NoOutgoingHttp};
use crate::engine::EPOCH_TICK;
use crate::exit::ExitStatus;
use crate::image::Image;
use crate::image::{Entry, ImageKind};
use crate::logs::{LogPipe, LogSink, LogStream};
use crate::time::{
    RunMeter, SimulatedMonotonicClock, SimulatedTime, SimulatedWallClock,
    SIMULATED_COST_PER_BUSY_TICK,
};

/// The body of a response produced by a guest (or by wasmpod on its behalf).
pub type ResponseBody = wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// Requests accepted but not yet handed to the guest. Back-pressure beyond this waits in
/// the connection tasks.
const QUEUE_DEPTH: usize = 128;

/// A host directory granted to the guest at `guest_path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub host_path: std::path::PathBuf,
    pub guest_path: String,
    pub read_only: bool,
}

/// What the container is given: the manifest's grants, and where its output goes.
pub struct InstanceConfig {
    pub env: Vec<(String, String)>,
    pub args: Vec<String>,
    /// `resources.limits.memory` in bytes: a linear memory growing past it is an OOM kill.
    pub memory_limit: Option<u64>,
    /// `resources.limits.cpu` in millicores: the guest is throttled to this share of a core.
    pub cpu_limit_millicores: Option<u64>,
    /// The pod's IP: a command container may listen on it (binds to 0.0.0.0 land there).
    pub pod_ip: Option<std::net::Ipv4Addr>,
    /// The container's declared TCP `containerPort`s: when there are any, the only ports a
    /// command container may bind (besides 0, an ephemeral port); a bind to another port is
    /// `access-denied`. With none declared, any port on the pod IP (as in Kubernetes).
    pub listen_ports: Vec<u16>,
    /// Host directories the guest sees, at their guest paths (the container's root, volumes).
    /// WASI resolves a path through the longest matching mount, so volumes nest in the root.
    pub mounts: Vec<Mount>,
    pub logs: Arc<dyn LogSink>,
    /// On a simulated node: the guest's clocks follow it, and busy guests are charged
    /// simulated time (see [`crate::time`]).
    pub simulated_time: Option<SimulatedTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Run,
    Stop,
    Kill,
}

/// Requests are the hot path and the large variant; boxing them would cost an allocation
/// per request for nothing.
#[allow(clippy::large_enum_variant)]
enum Job {
    Http {
        request: Request<hyper::body::Incoming>,
        reply: oneshot::Sender<Response<ResponseBody>>,
    },
    Exec {
        argv: Vec<String>,
        reply: oneshot::Sender<Result<ExecOutput, ExecError>>,
    },
}

/// What `wasmpod:container/exec.run` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    pub exit_code: u8,
    pub output: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    #[error("the container's component does not export wasmpod:container/exec, so commands cannot run inside it")]
    NotSupported,
    #[error("container is not running")]
    NotRunning,
    #[error("the command crashed the container: {0}")]
    Crashed(String),
}

/// Handle to a running incarnation. Dropping it kills the instance.
pub struct Instance {
    jobs: mpsc::Sender<Job>,
    stop_requested: Arc<AtomicBool>,
    handles_exec: bool,
    control: watch::Sender<Command>,
    kill_flag: Arc<AtomicBool>,
    started: watch::Receiver<Option<bool>>,
    exit: watch::Receiver<Option<ExitStatus>>,
    memory: Arc<MemoryUsage>,
    /// Set by [`Instance::kill_out_of_memory`]: the kill is reported as OOMKilled.
    out_of_memory: Arc<AtomicBool>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Instance {
    /// Creates the instance and runs the guest's `startup.start` (if exported) in a task of
    /// its own. Await [`Instance::started`] to know whether it came up.
    pub fn spawn(image: &Image, config: InstanceConfig) -> Instance {
        let (jobs_tx, jobs_rx) = mpsc::channel(QUEUE_DEPTH);
        let (control_tx, control_rx) = watch::channel(Command::Run);
        let (started_tx, started_rx) = watch::channel(None);
        let (exit_tx, exit_rx) = watch::channel(None);
        let kill_flag = Arc::new(AtomicBool::new(false));
        let actor = Actor {
            image: image.clone(),
            jobs: jobs_rx,
            control: control_rx,
        };
        let stop_requested = Arc::new(AtomicBool::new(false));
        let meter = config.simulated_time.map(|_| RunMeter::new());
        let memory = Arc::new(MemoryUsage::default());
        let out_of_memory = Arc::new(AtomicBool::new(false));
        let store = new_store(
            image,
            config,
            kill_flag.clone(),
            stop_requested.clone(),
            meter.clone(),
            memory.clone(),
        );
        let oom = out_of_memory.clone();
        let run = async move {
            let mut status = actor.run(store, started_tx).await;
            if oom.load(Ordering::Relaxed) && status == ExitStatus::killed() {
                status = ExitStatus::oom_killed();
            }
            let _ = exit_tx.send(Some(status));
        };
        match meter {
            Some(meter) => drop(tokio::spawn(meter.meter(run))),
            None => drop(tokio::spawn(run)),
        }
        Instance {
            jobs: jobs_tx,
            stop_requested,
            handles_exec: image.inner.exec.is_some(),
            control: control_tx,
            kill_flag,
            started: started_rx,
            exit: exit_rx,
            memory,
            out_of_memory,
        }
    }

    /// What counts against the memory limit now.
    pub fn memory_usage(&self) -> &MemoryUsage {
        &self.memory
    }

    /// Charges `bytes` of memory held outside the guest (files in a memory-backed volume)
    /// to the container; the guest's next growth past the limit is an OOM kill.
    pub fn charge_outside_memory(&self, bytes: u64) {
        self.memory.set_outside(bytes);
    }

    /// Ends the instance as the kernel's OOM killer would: exit 137, reason OOMKilled.
    pub fn kill_out_of_memory(&self) {
        self.out_of_memory.store(true, Ordering::Relaxed);
        self.kill();
    }

    /// Resolves once the instance is serving (`true`) or has ended during start (`false`).
    pub async fn started(&self) -> bool {
        let mut started = self.started.clone();
        let result = started.wait_for(|s| s.is_some()).await;
        matches!(result.as_deref(), Ok(Some(true)))
    }

    /// Hands one request to the guest and waits for the response head. The guest sees the
    /// peer's address as the last `X-Forwarded-For` entry (wasi:http has no peer address).
    pub async fn handle(
        &self,
        mut request: Request<hyper::body::Incoming>,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Response<ResponseBody> {
        let headers = request.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&peer.ip().to_string()) {
            headers.append("x-forwarded-for", value);
        }
        if !headers.contains_key(http::header::HOST) {
            if let Ok(value) = HeaderValue::from_str(&local.to_string()) {
                headers.insert(http::header::HOST, value);
            }
        }
        let (reply_tx, reply_rx) = oneshot::channel();
        let job = Job::Http {
            request,
            reply: reply_tx,
        };
        if self.jobs.send(job).await.is_err() {
            return plain_response(StatusCode::SERVICE_UNAVAILABLE, "container is stopping\n");
        }
        reply_rx.await.unwrap_or_else(|_| {
            plain_response(StatusCode::BAD_GATEWAY, "the container did not answer\n")
        })
    }

    /// Runs a command inside the running instance through its `wasmpod:container/exec` export,
    /// in turn with the requests (one call at a time, like everything else in the instance).
    pub async fn exec(&self, argv: Vec<String>) -> Result<ExecOutput, ExecError> {
        if !self.handles_exec {
            return Err(ExecError::NotSupported);
        }
        let (reply, answer) = oneshot::channel();
        if self.jobs.send(Job::Exec { argv, reply }).await.is_err() {
            return Err(ExecError::NotRunning);
        }
        answer.await.unwrap_or(Err(ExecError::NotRunning))
    }

    /// Asks the guest to stop (the kubelet's SIGTERM): queued and in-flight requests finish,
    /// then `shutdown.stop()` decides the exit code. A guest without that export does not
    /// notice, and ends only with [`Instance::kill`] (137).
    pub fn stop(&self) {
        self.stop_requested.store(true, Ordering::Relaxed);
        self.control.send_if_modified(|command| {
            let changed = *command == Command::Run;
            if changed {
                *command = Command::Stop;
            }
            changed
        });
    }

    /// Ends the instance now (SIGKILL): exit code 137.
    pub fn kill(&self) {
        self.kill_flag.store(true, Ordering::Relaxed);
        self.control.send_replace(Command::Kill);
    }

    /// Waits for the instance to end.
    pub async fn wait(&self) -> ExitStatus {
        let mut exit = self.exit.clone();
        let status = exit.wait_for(|s| s.is_some()).await;
        match status.as_deref() {
            Ok(Some(status)) => status.clone(),
            // The actor task is gone without a word: it panicked; treat as a crash.
            _ => ExitStatus::exited(139),
        }
    }
}

fn new_store(
    image: &Image,
    config: InstanceConfig,
    kill_flag: Arc<AtomicBool>,
    stop_requested: Arc<AtomicBool>,
    meter: Option<RunMeter>,
    memory: Arc<MemoryUsage>,
) -> Store<Ctx> {
    let mut wasi = WasiCtxBuilder::new();
    if let Some(time) = config.simulated_time {
        wasi.wall_clock(SimulatedWallClock(time))
            .monotonic_clock(SimulatedMonotonicClock(time));
    }
    wasi.envs(&config.env)
        .args(&config.args)
        .stdout(LogPipe::new(config.logs.clone(), LogStream::Stdout))
        .stderr(LogPipe::new(config.logs, LogStream::Stderr))
        .allow_ip_name_lookup(false)
        .allow_tcp(false)
        .allow_udp(false);
    if let (ImageKind::Command, Some(pod_ip)) = (image.kind(), config.pod_ip) {
        crate::sockets::grant_pod_network(&mut wasi, pod_ip, config.listen_ports.clone());
    }
    for mount in &config.mounts {
        let perms = if mount.read_only {
            wasmtime_wasi::FsPerms::ReadOnly
        } else {
            wasmtime_wasi::FsPerms::ReadWrite
        };
        // A mount that cannot be opened was checked by the caller; skipping it leaves the
        // guest without that path rather than failing the whole start.
        let _ = wasi.preopened_dir(&mount.host_path, &mount.guest_path, perms);
    }
    let ctx = Ctx {
        wasi: wasi.build(),
        http: WasiHttpCtx::new(),
        table: ResourceTable::new(),
        limiter: MemoryLimiter {
            limit: config
                .memory_limit
                .map(|bytes| usize::try_from(bytes).unwrap_or(usize::MAX)),
            usage: memory,
            pending: 0,
        },
        kill: kill_flag,
        hooks: NoOutgoingHttp,
        cpu: config.cpu_limit_millicores.map(CpuThrottle::new),
        pod_ip: config.pod_ip,
        stop_requested,
        meter,
    };
    let mut store = Store::new(&image.inner.engine, ctx);
    store.limiter(|ctx| &mut ctx.limiter);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|mut cx| {
        let ctx = cx.data_mut();
        if ctx.killed() {
            return Err(wasmtime::Error::new(Killed));
        }
        // On simulated time, a guest busy for a whole tick pays for it in simulated time.
        if let Some(meter) = &ctx.meter {
            if meter.running_for() >= EPOCH_TICK {
                let cost = tokio::time::sleep(SIMULATED_COST_PER_BUSY_TICK);
                return Ok(UpdateDeadline::YieldCustom(1, Box::pin(cost)));
            }
            meter.continue_run();
        }
        // Every tick a busy guest yields, so it cannot hold a thread other pods need.
        Ok(
            match ctx.cpu.as_mut().and_then(|cpu| cpu.charge(EPOCH_TICK)) {
                Some(park) => UpdateDeadline::YieldCustom(1, Box::pin(tokio::time::sleep(park))),
                None => UpdateDeadline::Yield(1),
            },
        )
    });
    store
}

/// What the actor drives after instantiation.
enum Entrypoint {
    Http(Proxy, wasmtime::component::Instance),
    Command(CommandBindings),
}

type CommandBindings = wasmtime_wasi::p2::bindings::Command;

/// Lives for one loop turn on the actor's stack; boxing the job would cost an allocation
/// per request.
#[allow(clippy::large_enum_variant)]
enum Next {
    Command(Command),
    Job(Option<Job>),
}

/// Waits until the control channel holds a command matching `wanted`; a dropped handle
/// counts as a kill.
async fn wait_for_command(
    control: &mut watch::Receiver<Command>,
    wanted: impl Fn(Command) -> bool,
) -> Command {
    match control.wait_for(|c| wanted(*c)).await {
        Ok(command) => *command,
        Err(_) => Command::Kill,
    }
}

struct Actor {
    image: Image,
    jobs: mpsc::Receiver<Job>,
    control: watch::Receiver<Command>,
}

impl Actor {
    async fn run(
        mut self,
        mut store: Store<Ctx>,
        started: watch::Sender<Option<bool>>,
    ) -> ExitStatus {
        let instantiated = match self.instantiate(&mut store).await {
            Ok(instantiated) => instantiated,
            Err(status) => {
                let _ = started.send(Some(false));
                return status;
            }
        };
        let _ = started.send(Some(true));
        match instantiated {
            Entrypoint::Http(proxy, instance) => {
                self.serve_until_stopped(store, proxy, instance).await
            }
            Entrypoint::Command(command) => self.run_command(store, command).await,
        }
    }

    async fn serve_until_stopped(
        mut self,
        mut store: Store<Ctx>,
        proxy: Proxy,
        instance: wasmtime::component::Instance,
    ) -> ExitStatus {
        loop {
            let next = tokio::select! {
                biased;
                command = wait_for_command(&mut self.control, |c| c != Command::Run) => Next::Command(command),
                job = self.jobs.recv() => Next::Job(job),
            };
            match next {
                Next::Job(Some(job)) => {
                    if let Err(status) = self.serve(&mut store, &proxy, &instance, job).await {
                        return status;
                    }
                }
                Next::Command(Command::Stop) => {
                    return self.stop(&mut store, &proxy, instance).await;
                }
                Next::Command(_) | Next::Job(None) => return ExitStatus::killed(),
            }
        }
    }

    /// A program runs until `run` returns (exit 0 or 1) or it calls `exit`. A stop request
    /// cannot reach it while it runs (no re-entry into a busy instance), so like a process
    /// without a SIGTERM handler it ends with the kill after the grace period.
    async fn run_command(mut self, mut store: Store<Ctx>, program: CommandBindings) -> ExitStatus {
        self.jobs.close();
        let call = program.wasi_cli_run().call_run(&mut store);
        tokio::select! {
            biased;
            _ = wait_for_command(&mut self.control, |c| c == Command::Kill) => ExitStatus::killed(),
            result = call => match result {
                Ok(Ok(())) => ExitStatus::exited(0),
                Ok(Err(())) => ExitStatus::exited(1),
                Err(error) => ExitStatus::from_guest_error(&error),
            },
        }
    }

    async fn instantiate(&mut self, store: &mut Store<Ctx>) -> Result<Entrypoint, ExitStatus> {
        let image = self.image.inner.clone();
        let work = async {
            let instance = image.pre.instantiate_async(&mut *store).await?;
            if let Some(start) = &image.startup {
                let start = instance.get_typed_func::<(), ()>(&mut *store, start)?;
                start.call_async(&mut *store, ()).await?;
            }
            Ok::<_, wasmtime::Error>(match &image.entry {
                Entry::Http(indices) => {
                    Entrypoint::Http(indices.load(&mut *store, &instance)?, instance)
                }
                Entry::Command(indices) => {
                    Entrypoint::Command(indices.load(&mut *store, &instance)?)
                }
            })
        };
        tokio::select! {
            biased;
            _ = wait_for_command(&mut self.control, |c| c == Command::Kill) => Err(ExitStatus::killed()),
            result = work => result.map_err(|e| ExitStatus::from_guest_error(&e)),
        }
    }

    /// With a `shutdown` export: finishes what was queued, then lets the guest decide its
    /// exit code. Without one the guest cannot notice the request, like a PID 1 without a
    /// SIGTERM handler: it keeps serving (the host no longer accepts new connections) until
    /// the kill at the end of the grace period.
    async fn stop(
        &mut self,
        store: &mut Store<Ctx>,
        proxy: &Proxy,
        instance: wasmtime::component::Instance,
    ) -> ExitStatus {
        let Some(stop) = self.image.inner.shutdown else {
            loop {
                let next = tokio::select! {
                    biased;
                    _ = wait_for_command(&mut self.control, |c| c == Command::Kill) => None,
                    job = self.jobs.recv() => job,
                };
                let Some(job) = next else {
                    return ExitStatus::killed();
                };
                if let Err(status) = self.serve(store, proxy, &instance, job).await {
                    return status;
                }
            }
        };
        self.jobs.close();
        while let Some(job) = self.jobs.recv().await {
            if let Err(status) = self.serve(store, proxy, &instance, job).await {
                return status;
            }
        }
        let call = async {
            let stop = instance.get_typed_func::<(), (u8,)>(&mut *store, &stop)?;
            let (code,) = stop.call_async(&mut *store, ()).await?;
            Ok::<_, wasmtime::Error>(code)
        };
        tokio::select! {
            biased;
            _ = wait_for_command(&mut self.control, |c| c == Command::Kill) => ExitStatus::killed(),
            result = call => match result {
                Ok(code) => ExitStatus::exited(i32::from(code)),
                Err(e) => ExitStatus::from_guest_error(&e),
            },
        }
    }

    /// Runs one request. The response head goes back as soon as the guest sets it, while the
    /// call keeps running to stream the body (awaiting the call first would deadlock on large
    /// bodies). `Err` means the instance is dead.
    async fn serve(
        &mut self,
        store: &mut Store<Ctx>,
        proxy: &Proxy,
        instance: &wasmtime::component::Instance,
        job: Job,
    ) -> Result<(), ExitStatus> {
        match job {
            Job::Http { request, reply } => self.serve_http(store, proxy, request, reply).await,
            Job::Exec { argv, reply } => self.serve_exec(store, instance, argv, reply).await,
        }
    }

    /// Calls `exec.run(argv)`. A trap in it is a crash of the container, as a command that
    /// brings down a process would be.
    async fn serve_exec(
        &mut self,
        store: &mut Store<Ctx>,
        instance: &wasmtime::component::Instance,
        argv: Vec<String>,
        reply: oneshot::Sender<Result<ExecOutput, ExecError>>,
    ) -> Result<(), ExitStatus> {
        let Some(export) = self.image.inner.exec else {
            let _ = reply.send(Err(ExecError::NotSupported));
            return Ok(());
        };
        let call = async {
            let run =
                instance.get_typed_func::<(Vec<String>,), ((u8, String),)>(&mut *store, &export)?;
            let ((exit_code, output),) = run.call_async(&mut *store, (argv,)).await?;
            Ok::<_, wasmtime::Error>(ExecOutput { exit_code, output })
        };
        tokio::select! {
            biased;
            _ = wait_for_command(&mut self.control, |c| c == Command::Kill) => Err(ExitStatus::killed()),
            result = call => match result {
                Ok(output) => {
                    let _ = reply.send(Ok(output));
                    Ok(())
                }
                Err(error) => {
                    let status = ExitStatus::from_guest_error(&error);
                    let _ = reply.send(Err(ExecError::Crashed(status.to_string())));
                    Err(status)
                }
            },
        }
    }

    async fn serve_http(
        &mut self,
        store: &mut Store<Ctx>,
        proxy: &Proxy,
        request: Request<hyper::body::Incoming>,
        reply: oneshot::Sender<Response<ResponseBody>>,
    ) -> Result<(), ExitStatus> {
        let (response_tx, mut response_rx) = oneshot::channel();
        let mut reply = Some(reply);
        let prepared = (|| {
            let mut http = store.data_mut().http();
            let request = http.new_incoming_request(Scheme::Http, request)?;
            let outparam = http.new_response_outparam(response_tx)?;
            Ok::<_, wasmtime::Error>((request, outparam))
        })();
        let (request, outparam) = match prepared {
            Ok(parts) => parts,
            Err(e) => {
                if let Some(reply) = reply.take() {
                    let _ = reply.send(plain_response(StatusCode::BAD_REQUEST, &format!("{e}\n")));
                }
                return Ok(());
            }
        };
        let call = proxy
            .wasi_http_incoming_handler()
            .call_handle(&mut *store, request, outparam);
        tokio::pin!(call);
        let mut head_seen = false;
        loop {
            tokio::select! {
                biased;
                _ = wait_for_command(&mut self.control, |c| c == Command::Kill) => return Err(ExitStatus::killed()),
                head = &mut response_rx, if !head_seen => {
                    head_seen = true;
                    if let (Ok(head), Some(reply)) = (head, reply.take()) {
                        let response = head.unwrap_or_else(|code| {
                            plain_response(StatusCode::INTERNAL_SERVER_ERROR, &format!("{code:?}\n"))
                        });
                        let _ = reply.send(response);
                    }
                }
                result = &mut call => {
                    if let (Ok(Ok(head)), Some(reply)) = (response_rx.try_recv(), reply.take()) {
                        let _ = reply.send(head);
                    }
                    return result.map_err(|e| ExitStatus::from_guest_error(&e));
                }
            }
        }
    }
}

fn plain_response(status: StatusCode, text: &str) -> Response<ResponseBody> {
    let body = Full::new(Bytes::from(text.to_string()))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
}
