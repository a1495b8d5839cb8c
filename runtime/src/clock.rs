//! The one clock every duration and timestamp in wasmpod goes through.
//!
//! Probe ticks, back-off windows, grace periods, event timestamps and ages all read this
//! clock, so a simulated clock can later replace the system one without touching callers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

pub trait Clock: Send + Sync {
    /// The current wall-clock time.
    fn now(&self) -> Timestamp;
    /// Resolves once `now() >= deadline`.
    fn sleep_until(&self, deadline: Timestamp) -> Sleep;

    fn sleep(&self, duration: Duration) -> Sleep {
        self.sleep_until(add(self.now(), duration))
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// Real time: the system clock for timestamps, tokio's timer for waiting.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }

    fn sleep_until(&self, deadline: Timestamp) -> Sleep {
        let wait = deadline.duration_since(Timestamp::now());
        let wait = Duration::try_from(wait).unwrap_or(Duration::ZERO);
        Box::pin(tokio::time::sleep(wait))
    }
}

/// Simulated time: tokio's paused clock, read as wall-clock time from a chosen start.
/// Sleeping is a tokio timer, so time jumps to the next one whenever the runtime is idle.
pub struct SimulatedClock {
    time: wasmpod_engine::SimulatedTime,
    start: Timestamp,
}

impl SimulatedClock {
    pub fn new(time: wasmpod_engine::SimulatedTime) -> Self {
        let start = Timestamp::try_from(time.wall_at_start).unwrap_or(Timestamp::UNIX_EPOCH);
        SimulatedClock { time, start }
    }
}

impl Clock for SimulatedClock {
    fn now(&self) -> Timestamp {
        add(self.start, self.time.elapsed())
    }

    fn sleep_until(&self, deadline: Timestamp) -> Sleep {
        let offset = since(deadline, self.start);
        Box::pin(tokio::time::sleep_until(self.time.start + offset))
    }
}

/// `t + d`, saturating at the end of time.
pub fn add(t: Timestamp, d: Duration) -> Timestamp {
    jiff::SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

/// `later - earlier`, zero when negative.
pub fn since(later: Timestamp, earlier: Timestamp) -> Duration {
    Duration::try_from(later.duration_since(earlier)).unwrap_or(Duration::ZERO)
}
