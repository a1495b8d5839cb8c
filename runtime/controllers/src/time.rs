//! Bridging wall-clock API timestamps and tokio's monotonic timers.

use jiff::Timestamp;
use tokio::time::Instant;

/// The tokio instant corresponding to wall-clock `time` (now, when it is in the past).
pub(crate) fn instant_at(time: Timestamp) -> Instant {
    let now = Timestamp::now();
    let ahead = time.as_nanosecond() - now.as_nanosecond();
    if ahead <= 0 {
        return Instant::now();
    }
    let ahead = u64::try_from(ahead).unwrap_or(u64::MAX);
    Instant::now() + std::time::Duration::from_nanos(ahead)
}
