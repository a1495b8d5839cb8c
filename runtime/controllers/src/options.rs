//! Tunables of the controllers, defaulting to kube-controller-manager 1.33's values.

use std::time::Duration;

/// How the workload controllers behave; every field documents its Kubernetes default.
#[derive(Debug, Clone)]
pub struct ControllerOptions {
    /// Every object is reconciled at least this often even when nothing changed. Shared
    /// informers resync at a random period in `[--min-resync-period, 2×)`, 12 h by default;
    /// the controllers here also requeue on their own for time-based transitions
    /// (minReadySeconds, progress deadlines), so this is only a safety net.
    pub resync_period: Duration,
    /// Most pods one ReplicaSet/RC sync creates or deletes (`BurstReplicas`, 500).
    pub burst_replicas: usize,
    /// Outstanding create/delete expectations are forgotten after this long
    /// (`controller.ExpectationsTimeout`, 5 min).
    pub expectations_timeout: Duration,
    /// First retry delay after a failed sync (client-go's `DefaultControllerRateLimiter`:
    /// per-item exponential back-off from 5 ms …).
    pub retry_base_delay: Duration,
    /// … doubling up to 1000 s.
    pub retry_max_delay: Duration,
}

impl Default for ControllerOptions {
    fn default() -> Self {
        ControllerOptions {
            resync_period: Duration::from_secs(12 * 3600),
            burst_replicas: 500,
            expectations_timeout: Duration::from_secs(300),
            retry_base_delay: Duration::from_millis(5),
            retry_max_delay: Duration::from_secs(1000),
        }
    }
}
