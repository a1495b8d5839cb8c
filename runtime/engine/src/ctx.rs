//! The per-instance store data: WASI and wasi:http contexts, the memory limiter and the kill flag.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime::ResourceLimiter;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// The instance was killed (kill flag seen at an epoch check).
#[derive(Debug, thiserror::Error)]
#[error("killed")]
pub(crate) struct Killed;

/// A linear memory tried to grow past the container's memory limit.
#[derive(Debug, thiserror::Error)]
#[error("memory limit of {limit} bytes exceeded (wanted {desired})")]
pub(crate) struct OomKilled {
    limit: usize,
    desired: usize,
}

pub(crate) struct Ctx {
    pub(crate) wasi: WasiCtx,
    pub(crate) http: WasiHttpCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) kill: Arc<AtomicBool>,
    pub(crate) hooks: NoOutgoingHttp,
    pub(crate) cpu: Option<CpuThrottle>,
    /// Where a command container's binds go (see sockets.rs).
    pub(crate) pod_ip: Option<std::net::Ipv4Addr>,
    /// Set by a stop request; programs read it through `wasmpod:container/termination`.
    pub(crate) stop_requested: Arc<AtomicBool>,
    /// On simulated time: how long the guest has run uninterrupted.
    pub(crate) meter: Option<crate::time::RunMeter>,
}

impl Ctx {
    pub(crate) fn killed(&self) -> bool {
        self.kill.load(Ordering::Relaxed)
    }
}

/// `wasmpod:container/termination.requested`, for programs that import it.
pub(crate) fn add_termination_to_linker(
    linker: &mut wasmtime::component::Linker<Ctx>,
) -> wasmtime::Result<()> {
    linker
        .instance("wasmpod:container/termination@0.1.0")?
        .func_wrap("requested", |store, (): ()| {
            Ok((store.data().stop_requested.load(Ordering::Relaxed),))
        })
}

impl WasiView for Ctx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for Ctx {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// Turns `resources.limits.memory` into a trap the supervisor reports as OOMKilled.
pub(crate) struct MemoryLimiter {
    pub(crate) limit: Option<usize>,
    pub(crate) usage: Arc<MemoryUsage>,
    /// Bytes of the growth last allowed: wasmtime may still fail it (the memory's own
    /// maximum, the allocation), and then it is given back.
    pub(crate) pending: u64,
}

/// What counts against a container's memory limit: its linear memories, and memory the host
/// charges to it from outside (files in a `medium: Memory` emptyDir, like tmpfs pages).
#[derive(Debug, Default)]
pub struct MemoryUsage {
    linear: std::sync::atomic::AtomicU64,
    outside: std::sync::atomic::AtomicU64,
}

impl MemoryUsage {
    /// Bytes of linear memory the guest has grown to.
    pub fn linear(&self) -> u64 {
        self.linear.load(Ordering::Relaxed)
    }

    /// Bytes charged from outside.
    pub fn outside(&self) -> u64 {
        self.outside.load(Ordering::Relaxed)
    }

    pub(crate) fn set_outside(&self, bytes: u64) {
        self.outside.store(bytes, Ordering::Relaxed);
    }

    pub fn total(&self) -> u64 {
        self.linear().saturating_add(self.outside())
    }
}

/// Tables hold function references and resources; this bound only stops runaway growth.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.pending = 0;
        let grown = desired.saturating_sub(current) as u64;
        let wanted = self.usage.total().saturating_add(grown);
        match self.limit {
            Some(limit) if wanted > limit as u64 => Err(wasmtime::Error::new(OomKilled {
                limit,
                desired: usize::try_from(wanted).unwrap_or(usize::MAX),
            })),
            _ => {
                self.usage.linear.fetch_add(grown, Ordering::Relaxed);
                self.pending = grown;
                Ok(true)
            }
        }
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.usage.linear.fetch_sub(self.pending, Ordering::Relaxed);
        self.pending = 0;
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// Guests get no network beyond what the manifest grants, and a Pod grants no egress
/// mechanism wasmpod implements yet: outgoing `wasi:http` requests are refused.
pub(crate) struct NoOutgoingHttp;

type OutgoingResult = wasmtime_wasi_http::Result<(
    http::Response<wasmtime_wasi_http::WasiBody>,
    Box<dyn std::future::Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
)>;

impl wasmtime_wasi_http::WasiHttpHooks for NoOutgoingHttp {
    fn send_request(
        &mut self,
        _request: http::Request<wasmtime_wasi_http::WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn std::future::Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<dyn std::future::Future<Output = OutgoingResult> + Send> {
        Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
    }
}

/// `resources.limits.cpu` as a token bucket of CPU time: every epoch tick the guest spends
/// executing wasm costs one tick of tokens, refilled at the limit's rate (100m = 0.1 ms per
/// ms). In debt, the guest is parked until the bucket is back at zero: throttled, not killed,
/// and its thread is free for other pods and the probes meanwhile.
pub(crate) struct CpuThrottle {
    /// CPU milliseconds granted per wall-clock millisecond.
    rate: f64,
    tokens_ms: f64,
    last: tokio::time::Instant,
}

/// At most this much CPU time saved up for a burst (the CFS period).
const CPU_BURST_MS: f64 = 100.0;

impl CpuThrottle {
    pub(crate) fn new(millicores: u64) -> Self {
        let rate = millicores as f64 / 1000.0;
        CpuThrottle {
            rate,
            tokens_ms: CPU_BURST_MS * rate.min(1.0),
            last: tokio::time::Instant::now(),
        }
    }

    /// Charges one tick of execution; returns how long to park the guest, if at all.
    pub(crate) fn charge(&mut self, tick: std::time::Duration) -> Option<std::time::Duration> {
        let now = tokio::time::Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * 1000.0 * self.rate;
        self.last = now;
        self.tokens_ms = (self.tokens_ms + refill).min(CPU_BURST_MS * self.rate.min(1.0));
        self.tokens_ms -= tick.as_secs_f64() * 1000.0;
        (self.tokens_ms < 0.0)
            .then(|| std::time::Duration::from_secs_f64(-self.tokens_ms / self.rate / 1000.0))
    }
}
