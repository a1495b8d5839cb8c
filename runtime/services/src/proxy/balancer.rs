//! The backends of one listener: round-robin over them, with optional ClientIP session
//! affinity, plus the listener's counters.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use tokio::time::Instant;

#[derive(Default)]
pub(crate) struct Route {
    backends: RwLock<Vec<SocketAddr>>,
    affinity: RwLock<Option<Duration>>,
    cursor: AtomicUsize,
    /// Client IP → (backend, when the affinity lapses).
    sticky: Mutex<HashMap<IpAddr, (SocketAddr, Instant)>>,
    accepted: AtomicU64,
}

impl Route {
    pub(crate) fn new(backends: Vec<SocketAddr>, affinity: Option<Duration>) -> Route {
        let route = Route::default();
        route.update(backends, affinity);
        route
    }

    pub(crate) fn update(&self, backends: Vec<SocketAddr>, affinity: Option<Duration>) {
        *self.backends.write().unwrap_or_else(|e| e.into_inner()) = backends;
        *self.affinity.write().unwrap_or_else(|e| e.into_inner()) = affinity;
        if affinity.is_none() {
            self.sticky
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
        }
    }

    pub(crate) fn backends(&self) -> Vec<SocketAddr> {
        self.backends
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    pub(crate) fn count_accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }

    /// The backends in the order to try them for a connection from `client`: the sticky
    /// one first (affinity), then round-robin from the next position.
    pub(crate) fn order_for(&self, client: IpAddr) -> Vec<SocketAddr> {
        let backends = self.backends();
        if backends.is_empty() {
            return backends;
        }
        let start = self.cursor.fetch_add(1, Ordering::Relaxed) % backends.len();
        let mut order: Vec<SocketAddr> = backends[start..]
            .iter()
            .chain(&backends[..start])
            .copied()
            .collect();
        if let Some(sticky) = self.sticky_backend(client) {
            if let Some(index) = order.iter().position(|b| *b == sticky) {
                let chosen = order.remove(index);
                order.insert(0, chosen);
            }
        }
        order
    }

    fn sticky_backend(&self, client: IpAddr) -> Option<SocketAddr> {
        self.affinity_timeout()?;
        let sticky = self.sticky.lock().unwrap_or_else(|e| e.into_inner());
        let (backend, until) = sticky.get(&client)?;
        (Instant::now() < *until).then_some(*backend)
    }

    fn affinity_timeout(&self) -> Option<Duration> {
        *self.affinity.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Records that `client` reached `backend` (for affinity).
    pub(crate) fn remember(&self, client: IpAddr, backend: SocketAddr) {
        let Some(timeout) = self.affinity_timeout() else {
            return;
        };
        let now = Instant::now();
        let mut sticky = self.sticky.lock().unwrap_or_else(|e| e.into_inner());
        sticky.retain(|_, (_, until)| *until > now);
        sticky.insert(client, (backend, now + timeout));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 1, 0, 1], port))
    }

    #[test]
    fn rotates_through_backends() {
        let route = Route::new(vec![addr(1), addr(2), addr(3)], None);
        let client: IpAddr = [127, 0, 0, 1].into();
        let firsts: Vec<_> = (0..4).map(|_| route.order_for(client)[0]).collect();
        assert_eq!(firsts, [addr(1), addr(2), addr(3), addr(1)]);
        assert_eq!(route.order_for(client), [addr(2), addr(3), addr(1)]);
    }

    #[tokio::test]
    async fn client_ip_affinity_keeps_the_backend() {
        let route = Route::new(vec![addr(1), addr(2)], Some(Duration::from_secs(60)));
        let client: IpAddr = [127, 0, 0, 7].into();
        let first = route.order_for(client)[0];
        route.remember(client, first);
        for _ in 0..3 {
            assert_eq!(route.order_for(client)[0], first);
        }
        let other: IpAddr = [127, 0, 0, 8].into();
        let seen: std::collections::HashSet<_> =
            (0..2).map(|_| route.order_for(other)[0]).collect();
        assert_eq!(seen.len(), 2, "other clients still rotate");
    }
}
