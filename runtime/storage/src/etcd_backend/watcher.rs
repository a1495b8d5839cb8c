//! Watches: one etcd watch per `WatchStream`, forwarded by a task that resumes it.
//!
//! When the etcd stream breaks (its member died, lost its leader, or cancelled the watch),
//! the task reopens it on whichever member answers, from the revision after the last one it
//! delivered, so the consumer sees neither a gap nor a duplicate. If history was compacted
//! meanwhile the stream ends with `Compacted`; if no member answers within the retry
//! deadline it ends with `Backend`. It never ends silently while the storage is alive.

use etcd_client::{Client, GetOptions, WatchOptions, WatchResponse};
use tokio::sync::{mpsc, watch};

use super::convert::watch_event;
use super::keys::KeySpace;
use super::retry::{backend_error, is_compacted, is_future_revision, AttemptError, Retry};
use super::{EtcdOptions, EtcdStorage};
use crate::{Result, StorageError, WatchEvent, WatchStream};

impl EtcdStorage {
    pub(super) async fn open_watch(
        &self,
        prefix: &str,
        after_revision: i64,
    ) -> Result<WatchStream> {
        self.check_watchable(after_revision).await?;
        let (start, end) = self.keys.list_range(prefix, None);
        let spec = WatchSpec {
            client: self.client.clone(),
            keys: self.keys.clone(),
            options: self.options.clone(),
            start,
            end,
        };
        let session = spec.open(after_revision).await?;
        let (sender, receiver) = mpsc::channel(self.options.watch_buffer.max(1));
        let forwarder = Forwarder {
            spec,
            sender,
            shutdown: self.shutdown.subscribe(),
            last_delivered: after_revision,
        };
        tokio::spawn(forwarder.run(session));
        Ok(WatchStream::forwarded(receiver, after_revision))
    }

    /// Fails with `Compacted` iff `after_revision` < the compacted revision, the trait's rule.
    /// (etcd's own watch check is one revision laxer; a range read at `after_revision` fails
    /// exactly when `after_revision` is below etcd's compaction point.)
    async fn check_watchable(&self, after_revision: i64) -> Result<()> {
        let compacted = || async {
            Err(StorageError::Compacted {
                compacted_revision: self.read_compacted_revision().await?,
            })
        };
        if after_revision < self.retention.known_compacted() {
            return compacted().await;
        }
        let probe_revision = after_revision.max(1);
        let answer = Retry::new(&self.options)
            .run_raw("watch", || {
                let mut client = self.client.clone();
                let options = GetOptions::new()
                    .with_count_only()
                    .with_revision(probe_revision);
                async move { client.get(b"\0".to_vec(), Some(options)).await }
            })
            .await?;
        match answer {
            Ok(_) => Ok(()),
            Err(error) if is_compacted(&error) => compacted().await,
            // Watching from a future revision is allowed.
            Err(error) if is_future_revision(&error) => Ok(()),
            Err(error) => Err(backend_error("watch", error)),
        }
    }
}

/// What to watch; reopened on resume.
struct WatchSpec {
    client: Client,
    keys: KeySpace,
    options: EtcdOptions,
    start: Vec<u8>,
    end: Vec<u8>,
}

struct Session {
    // Dropping the watcher closes the request half of the stream.
    _watcher: etcd_client::Watcher,
    stream: etcd_client::WatchStream,
}

impl WatchSpec {
    /// Opens an etcd watch delivering revisions after `after_revision`, retrying on failures.
    async fn open(&self, after_revision: i64) -> Result<Session> {
        let mut retry = Retry::new(&self.options);
        loop {
            let mut client = self.client.clone();
            let start = self.start.clone();
            let options = WatchOptions::new()
                .with_range(self.end.clone())
                .with_prev_key()
                .with_start_revision(after_revision + 1);
            // etcd-client asserts that the first answer confirms the creation; run it in its
            // own task so that a surprising answer is a retryable failure, not a lost stream.
            let opening = tokio::spawn(async move { client.watch(start, Some(options)).await });
            let flattened = async {
                match opening.await {
                    Ok(result) => result,
                    Err(join_error) => Err(etcd_client::Error::WatchError(format!(
                        "opening the watch failed: {join_error}"
                    ))),
                }
            };
            match retry.attempt(flattened).await {
                Ok((watcher, stream)) => {
                    return Ok(Session {
                        _watcher: watcher,
                        stream,
                    })
                }
                Err(AttemptError::Transient(error)) => retry.pause("watch", &error).await?,
                Err(AttemptError::Fatal(error)) => return Err(backend_error("watch", error)),
            }
        }
    }
}

struct Forwarder {
    spec: WatchSpec,
    sender: mpsc::Sender<Result<WatchEvent>>,
    shutdown: watch::Receiver<()>,
    last_delivered: i64,
}

enum Step {
    Continue,
    /// The etcd stream broke; reopen it.
    Broken,
    /// The consumer or the storage went away, or the stream ended with an error.
    Stop,
}

impl Forwarder {
    async fn run(mut self, mut session: Session) {
        loop {
            let message = tokio::select! {
                _ = self.sender.closed() => return,
                _ = self.shutdown.changed() => return,
                message = session.stream.message() => message,
            };
            let step = match message {
                Ok(Some(response)) => self.deliver(response).await,
                Ok(None) | Err(_) => Step::Broken,
            };
            match step {
                Step::Continue => continue,
                Step::Stop => return,
                Step::Broken => {}
            }
            let reopened = tokio::select! {
                _ = self.sender.closed() => return,
                _ = self.shutdown.changed() => return,
                reopened = self.spec.open(self.last_delivered) => reopened,
            };
            match reopened {
                Ok(next) => session = next,
                Err(error) => {
                    let error = StorageError::Backend(format!(
                        "watch broken after revision {}: {error}",
                        self.last_delivered
                    ));
                    let _ = self.sender.send(Err(error)).await;
                    return;
                }
            }
        }
    }

    async fn deliver(&mut self, response: WatchResponse) -> Step {
        if response.compact_revision() != 0 {
            let error = StorageError::Compacted {
                compacted_revision: response.compact_revision(),
            };
            let _ = self.sender.send(Err(error)).await;
            return Step::Stop;
        }
        if response.canceled() {
            return Step::Broken;
        }
        // etcd never splits one revision over two responses, so everything up to the last
        // revision delivered before this response is a duplicate after a resume.
        let floor = self.last_delivered;
        for event in response.events() {
            let event = match watch_event(&self.spec.keys, event) {
                Ok(Some(event)) => event,
                Ok(None) => continue,
                Err(error) => {
                    let _ = self.sender.send(Err(error)).await;
                    return Step::Stop;
                }
            };
            let revision = event.revision();
            if revision <= floor {
                continue;
            }
            if self.sender.send(Ok(event)).await.is_err() {
                return Step::Stop;
            }
            self.last_delivered = self.last_delivered.max(revision);
        }
        Step::Continue
    }
}
