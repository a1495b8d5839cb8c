//! Election within one process: there is no other node, so a candidate wins at once unless
//! another candidate of the same elector leads, and never loses leadership.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use tokio::sync::{watch, Notify};

use super::{Elector, Leadership, Resigner};
use crate::Result;

#[derive(Clone, Default)]
pub struct LocalElector {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    /// election -> (candidate, term) of the current leader.
    leaders: Mutex<HashMap<String, (String, u64)>>,
    next_term: Mutex<u64>,
    released: Notify,
}

impl Shared {
    fn leaders(&self) -> MutexGuard<'_, HashMap<String, (String, u64)>> {
        self.leaders.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl LocalElector {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Elector for LocalElector {
    async fn campaign(&self, election: &str, candidate: &str) -> Result<Leadership> {
        loop {
            // Register for the wake-up before looking, so a release in between is not missed.
            let released = self.shared.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            {
                let mut leaders = self.shared.leaders();
                if !leaders.contains_key(election) {
                    let term = {
                        let mut next = self
                            .shared
                            .next_term
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner);
                        *next += 1;
                        *next
                    };
                    leaders.insert(election.to_owned(), (candidate.to_owned(), term));
                    let (lost_sender, lost) = watch::channel(false);
                    let resigner = LocalResigner {
                        shared: self.shared.clone(),
                        election: election.to_owned(),
                        term,
                        _lost_sender: lost_sender,
                    };
                    return Ok(Leadership::new(
                        election,
                        candidate,
                        lost,
                        Box::new(resigner),
                    ));
                }
            }
            released.await;
        }
    }

    async fn leader(&self, election: &str) -> Result<Option<String>> {
        Ok(self
            .shared
            .leaders()
            .get(election)
            .map(|(candidate, _)| candidate.clone()))
    }
}

struct LocalResigner {
    shared: Arc<Shared>,
    election: String,
    term: u64,
    /// Kept so the Leadership's `lost` never resolves while it is held.
    _lost_sender: watch::Sender<bool>,
}

impl LocalResigner {
    fn release(&self) {
        let mut leaders = self.shared.leaders();
        if leaders
            .get(&self.election)
            .is_some_and(|(_, term)| *term == self.term)
        {
            leaders.remove(&self.election);
        }
        drop(leaders);
        self.shared.released.notify_waiters();
    }
}

#[async_trait]
impl Resigner for LocalResigner {
    async fn resign(self: Box<Self>) {
        self.release();
    }

    fn resign_in_background(self: Box<Self>) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn first_candidate_wins_at_once_and_the_next_after_it_resigns() {
        let elector = LocalElector::new();
        assert_eq!(elector.leader("controllers").await.unwrap(), None);
        let mut first = elector.campaign("controllers", "node-a").await.unwrap();
        assert_eq!(
            elector.leader("controllers").await.unwrap().as_deref(),
            Some("node-a")
        );
        // Another election is independent.
        let other = elector.campaign("other", "node-b").await.unwrap();
        assert_eq!(other.candidate(), "node-b");

        let contender = {
            let elector = elector.clone();
            tokio::spawn(async move { elector.campaign("controllers", "node-b").await })
        };
        // Never loses on its own.
        let lost = tokio::time::timeout(Duration::from_millis(50), first.lost()).await;
        assert!(lost.is_err(), "local leadership must not be lost");
        assert!(!contender.is_finished());
        drop(first);
        let second = tokio::time::timeout(Duration::from_secs(5), contender)
            .await
            .expect("second candidate wins after the first resigns")
            .unwrap()
            .unwrap();
        assert_eq!(second.candidate(), "node-b");
        assert_eq!(
            elector.leader("controllers").await.unwrap().as_deref(),
            Some("node-b")
        );
        second.resign().await;
        assert_eq!(elector.leader("controllers").await.unwrap(), None);
    }
}
