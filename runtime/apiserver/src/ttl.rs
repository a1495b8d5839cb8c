//! Background upkeep: expiring events (kube-apiserver's `--event-ttl`, done by etcd leases
//! there) and the namespaces every cluster starts with.

use std::sync::Weak;
use std::time::SystemTime;

use crate::{ApiServer, Inner};

/// Namespaces kube-apiserver creates at start-up.
pub(crate) const BUILTIN_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

/// Starts the periodic sweep of expired events when called inside a tokio runtime. The task
/// holds only a weak reference, so it ends once every `ApiServer` handle is dropped.
pub(crate) fn spawn_event_sweeper(server: &ApiServer) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let weak: Weak<Inner> = std::sync::Arc::downgrade(&server.inner);
    let interval = server.options().event_sweep_interval;
    runtime.spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        loop {
            ticker.tick().await;
            let Some(inner) = weak.upgrade() else {
                return;
            };
            // A failed sweep is retried on the next tick; nothing else depends on it.
            let _ = inner.storage.sweep_expired(SystemTime::now()).await;
        }
    });
}
