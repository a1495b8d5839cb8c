//! Guest time on a simulated clock.
//!
//! A simulated node runs on tokio's paused clock. Guests read it through `wasi:clocks`
//! (wall and monotonic clocks here), and their sleeps are tokio timers already, so a
//! guest waiting ten seconds waits ten simulated seconds.
//!
//! CPU time is not simulated: wasm runs at real speed and its instructions take no
//! simulated time. A guest that computes without ever waiting would then freeze the
//! simulated clock, so it is charged instead: every epoch tick it has been running for a
//! whole tick since it was last polled, it is parked for [`SIMULATED_COST_PER_BUSY_TICK`]
//! of simulated time (while other tasks run). Work shorter than a tick is never charged,
//! which keeps ordinary guests deterministic.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

/// What a guest busy for a whole epoch tick (10 ms of real CPU) is charged in simulated time.
pub const SIMULATED_COST_PER_BUSY_TICK: Duration = Duration::from_millis(100);

/// The simulated clock's origin: tokio's (paused) `Instant` at `start` is `wall_at_start`.
#[derive(Debug, Clone, Copy)]
pub struct SimulatedTime {
    pub wall_at_start: SystemTime,
    pub start: tokio::time::Instant,
}

impl SimulatedTime {
    /// Starts a simulated clock now (on tokio's clock) at `wall_at_start`.
    pub fn starting_at(wall_at_start: SystemTime) -> Self {
        SimulatedTime {
            wall_at_start,
            start: tokio::time::Instant::now(),
        }
    }

    pub fn elapsed(&self) -> Duration {
        tokio::time::Instant::now().saturating_duration_since(self.start)
    }

    pub fn wall_now(&self) -> SystemTime {
        self.wall_at_start + self.elapsed()
    }
}

pub(crate) struct SimulatedWallClock(pub(crate) SimulatedTime);

impl HostWallClock for SimulatedWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        self.0
            .wall_now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
    }
}

pub(crate) struct SimulatedMonotonicClock(pub(crate) SimulatedTime);

impl HostMonotonicClock for SimulatedMonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// When the guest's current uninterrupted run began (real time, nanoseconds since
/// `origin`): the instance's task being polled after a wait starts a run; the plain yields a
/// busy guest makes at epoch ticks do not end it, or a spinner would never add up a tick.
#[derive(Clone)]
pub(crate) struct RunMeter {
    origin: std::time::Instant,
    polled_at: Arc<AtomicU64>,
    /// Set by the epoch callback when it yields without charging: the next poll continues
    /// the run.
    continues: Arc<std::sync::atomic::AtomicBool>,
}

impl RunMeter {
    pub(crate) fn new() -> Self {
        RunMeter {
            origin: std::time::Instant::now(),
            polled_at: Arc::new(AtomicU64::new(0)),
            continues: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        }
    }

    /// The guest yields to the scheduler but keeps running (an uncharged epoch yield).
    pub(crate) fn continue_run(&self) {
        self.continues.store(true, Ordering::Relaxed);
    }

    fn mark_polled(&self) {
        if self.continues.swap(false, Ordering::Relaxed) {
            return;
        }
        let now = self.origin.elapsed().as_nanos() as u64;
        self.polled_at.store(now, Ordering::Relaxed);
    }

    /// How long the guest has been running since its task was last polled.
    pub(crate) fn running_for(&self) -> Duration {
        let since = self.polled_at.load(Ordering::Relaxed);
        self.origin
            .elapsed()
            .saturating_sub(Duration::from_nanos(since))
    }

    /// Wraps the instance's task so that every poll restarts the meter.
    pub(crate) fn meter<F: Future>(&self, future: F) -> Metered<F> {
        Metered {
            future,
            meter: self.clone(),
        }
    }
}

pin_project_lite::pin_project! {
    pub(crate) struct Metered<F> {
        #[pin]
        future: F,
        meter: RunMeter,
    }
}

impl<F: Future> Future for Metered<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        this.meter.mark_polled();
        this.future.poll(cx)
    }
}
