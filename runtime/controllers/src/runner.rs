//! The level-triggered control loop every controller here runs: wait until one of its
//! informers changes (or a requeue time / the resync period comes), then reconcile
//! everything from the caches. Per-object failures back off exponentially like client-go's
//! rate-limited workqueue.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use wasmpod_apiserver::Informer;

use crate::options::ControllerOptions;

/// The earliest time a pass asked to run again.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Requeue(Option<Instant>);

impl Requeue {
    pub fn at(&mut self, when: Instant) {
        self.0 = Some(self.0.map_or(when, |current| current.min(when)));
    }

    pub fn after(&mut self, delay: Duration) {
        self.at(Instant::now() + delay);
    }

    pub fn merge(&mut self, other: Requeue) {
        if let Some(when) = other.0 {
            self.at(when);
        }
    }
}

/// A controller body: one reconcile pass over all its objects.
pub(crate) trait Reconciler: Send {
    fn pass(&mut self) -> impl Future<Output = Requeue> + Send;
}

/// Runs `reconciler` forever, driven by `informers`.
pub(crate) async fn run(
    informers: Vec<Informer>,
    resync_period: Duration,
    mut reconciler: impl Reconciler,
) {
    for informer in &informers {
        informer.synced().await;
    }
    let mut triggers: Vec<watch::Receiver<u64>> = informers.iter().map(Informer::changes).collect();
    loop {
        for trigger in &mut triggers {
            trigger.borrow_and_update();
        }
        let mut requeue = reconciler.pass().await;
        requeue.after(resync_period);
        let deadline = requeue.0.unwrap_or_else(|| Instant::now() + resync_period);
        tokio::select! {
            _ = any_changed(&mut triggers) => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
}

/// Resolves when any receiver sees a new value. Closed channels never resolve (the
/// informers live as long as the controller holding them).
async fn any_changed(receivers: &mut [watch::Receiver<u64>]) {
    let mut waits: Vec<Pin<Box<dyn Future<Output = bool> + Send + '_>>> = receivers
        .iter_mut()
        .map(|r| Box::pin(async move { r.changed().await.is_ok() }) as Pin<Box<_>>)
        .collect();
    let mut closed = vec![false; waits.len()];
    std::future::poll_fn(|cx| {
        for (i, wait) in waits.iter_mut().enumerate() {
            if closed[i] {
                continue;
            }
            if let Poll::Ready(open) = wait.as_mut().poll(cx) {
                if open {
                    return Poll::Ready(());
                }
                closed[i] = true;
            }
        }
        Poll::Pending
    })
    .await
}

/// Per-object exponential back-off after failed syncs.
#[derive(Debug)]
pub(crate) struct Backoff {
    failures: HashMap<String, (u32, Instant)>,
    base: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(options: &ControllerOptions) -> Backoff {
        Backoff {
            failures: HashMap::new(),
            base: options.retry_base_delay,
            max: options.retry_max_delay,
        }
    }

    /// When the object may be synced again (`None`: now).
    pub fn not_before(&self, key: &str) -> Option<Instant> {
        self.failures
            .get(key)
            .map(|(_, at)| *at)
            .filter(|at| *at > Instant::now())
    }

    /// Records a failure; returns when to retry.
    pub fn failed(&mut self, key: &str) -> Instant {
        let entry = self
            .failures
            .entry(key.to_string())
            .or_insert((0, Instant::now()));
        let exponent = entry.0.min(30);
        let delay = self
            .base
            .checked_mul(1u32 << exponent)
            .unwrap_or(self.max)
            .min(self.max);
        entry.0 += 1;
        entry.1 = Instant::now() + delay;
        entry.1
    }

    pub fn succeeded(&mut self, key: &str) {
        self.failures.remove(key);
    }

    /// Forgets objects that no longer exist.
    pub fn retain(&mut self, live: impl Fn(&str) -> bool) {
        self.failures.retain(|key, _| live(key));
    }
}
