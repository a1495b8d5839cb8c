//! Waiting for informer changes (level-triggered controllers: wake up, then reconcile
//! everything from the caches).

use std::time::Duration;

use futures_util::future::select_all;
use tokio::sync::watch;
use tokio::time::Instant;
use wasmpod_apiserver::Informer;

/// After an informer's sender vanished (it never does while we hold the informer), poll.
const CLOSED_POLL: Duration = Duration::from_millis(200);

/// The change counters of a set of informers.
pub(crate) struct Changes {
    receivers: Vec<watch::Receiver<u64>>,
}

impl Changes {
    /// Waits for every informer's first list, then watches them for later changes.
    pub async fn synced(informers: &[&Informer]) -> Changes {
        for informer in informers {
            informer.synced().await;
        }
        let mut receivers: Vec<_> = informers.iter().map(|i| i.changes()).collect();
        for receiver in &mut receivers {
            receiver.borrow_and_update();
        }
        Changes { receivers }
    }

    /// Returns when any informer moved or at `deadline`, whichever comes first.
    pub async fn wait(&mut self, deadline: Option<Instant>) {
        let sleep = async {
            match deadline {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending::<()>().await,
            }
        };
        let changed = select_all(self.receivers.iter_mut().map(|r| Box::pin(r.changed())));
        tokio::select! {
            (result, _, _) = changed => {
                if result.is_err() {
                    tokio::time::sleep(CLOSED_POLL).await;
                }
            }
            () = sleep => {}
        }
    }
}

/// The earlier of two optional deadlines.
pub(crate) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}
