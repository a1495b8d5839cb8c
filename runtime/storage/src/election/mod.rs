//! Leader election: exactly one node runs the controllers.
//!
//! `LocalElector` serves a single process (memory / redb storage); `EtcdElector` (feature
//! `etcd`) uses etcd's election API on a lease kept alive in the background, so a node that
//! dies or is cut off loses leadership once its lease runs out.

#[cfg(feature = "etcd")]
mod etcd;
mod local;

use async_trait::async_trait;
use tokio::sync::watch;

#[cfg(feature = "etcd")]
pub use etcd::EtcdElector;
pub use local::LocalElector;

use crate::Result;

#[async_trait]
pub trait Elector: Send + Sync {
    /// Waits until `candidate` leads `election`; the Leadership reports loss.
    async fn campaign(&self, election: &str, candidate: &str) -> Result<Leadership>;
    /// The current leader's candidate name, if any.
    async fn leader(&self, election: &str) -> Result<Option<String>>;
}

/// Held while leading. Dropping it resigns (best effort, in the background); `resign`
/// waits for it.
pub struct Leadership {
    election: String,
    candidate: String,
    /// Becomes `true` (or its sender goes away) when leadership is lost.
    lost: watch::Receiver<bool>,
    resigner: Option<Box<dyn Resigner>>,
}

/// How a backend gives leadership up.
#[async_trait]
pub(crate) trait Resigner: Send + Sync {
    async fn resign(self: Box<Self>);
    /// Called from `Drop`: must not block.
    fn resign_in_background(self: Box<Self>);
}

impl Leadership {
    pub(crate) fn new(
        election: &str,
        candidate: &str,
        lost: watch::Receiver<bool>,
        resigner: Box<dyn Resigner>,
    ) -> Self {
        Leadership {
            election: election.to_owned(),
            candidate: candidate.to_owned(),
            lost,
            resigner: Some(resigner),
        }
    }

    pub fn election(&self) -> &str {
        &self.election
    }

    pub fn candidate(&self) -> &str {
        &self.candidate
    }

    /// Whether leadership has been lost already.
    pub fn is_lost(&self) -> bool {
        *self.lost.borrow() || self.lost.has_changed().is_err()
    }

    /// Resolves when leadership is lost (at once if it already is). The caller must then stop
    /// acting as leader: another candidate may win as soon as the lease expires.
    pub async fn lost(&mut self) {
        loop {
            if *self.lost.borrow_and_update() {
                return;
            }
            if self.lost.changed().await.is_err() {
                return;
            }
        }
    }

    /// Gives leadership up, so that another candidate can win at once.
    pub async fn resign(mut self) {
        if let Some(resigner) = self.resigner.take() {
            resigner.resign().await;
        }
    }
}

impl Drop for Leadership {
    fn drop(&mut self) {
        if let Some(resigner) = self.resigner.take() {
            resigner.resign_in_background();
        }
    }
}

impl std::fmt::Debug for Leadership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leadership")
            .field("election", &self.election)
            .field("candidate", &self.candidate)
            .field("lost", &self.is_lost())
            .finish()
    }
}
