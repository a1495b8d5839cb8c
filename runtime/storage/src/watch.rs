//! Fan-out of committed events to watchers.
//!
//! Backends publish every committed event here, in revision order, while still holding their
//! write serialization. A new watcher registers first and learns the last published revision
//! `R`; live events after `R` go to its channel, and the backend replays history
//! `(after_revision, R]` from a snapshot into its backlog. Because registration and publishing
//! share one lock, each revision lands in exactly one of the two: no gap, no duplicate.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use tokio::sync::mpsc;

use crate::{Result, StorageError, WatchEvent};

pub(crate) struct WatchHub {
    inner: Mutex<HubInner>,
    buffer: usize,
}

struct HubInner {
    last_published: i64,
    watchers: Vec<Watcher>,
}

struct Watcher {
    prefix: String,
    after_revision: i64,
    sender: mpsc::Sender<WatchEvent>,
    overflowed: Arc<AtomicBool>,
}

/// The live half of a new watch, plus the revision up to which the backlog must be replayed.
pub(crate) struct Subscription {
    live: mpsc::Receiver<WatchEvent>,
    overflowed: Arc<AtomicBool>,
    after_revision: i64,
    /// Live delivery starts after this revision.
    pub registered_at: i64,
}

impl WatchHub {
    pub(crate) fn new(current_revision: i64, buffer: usize) -> Self {
        WatchHub {
            inner: Mutex::new(HubInner {
                last_published: current_revision,
                watchers: Vec::new(),
            }),
            buffer: buffer.max(1),
        }
    }

    pub(crate) fn subscribe(&self, prefix: &str, after_revision: i64) -> Subscription {
        let (sender, live) = mpsc::channel(self.buffer);
        let overflowed = Arc::new(AtomicBool::new(false));
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.watchers.push(Watcher {
            prefix: prefix.to_owned(),
            after_revision,
            sender,
            overflowed: overflowed.clone(),
        });
        Subscription {
            live,
            overflowed,
            after_revision,
            registered_at: inner.last_published,
        }
    }

    /// Delivers committed events; callers pass them in revision order. Never blocks: a watcher
    /// whose buffer is full is dropped and told it was too slow.
    pub(crate) fn publish<'a>(&self, events: impl IntoIterator<Item = &'a WatchEvent>) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        for event in events {
            let revision = event.revision();
            inner.watchers.retain(|watcher| {
                if revision <= watcher.after_revision || !event.key().starts_with(&watcher.prefix) {
                    return !watcher.sender.is_closed();
                }
                match watcher.sender.try_send(event.clone()) {
                    Ok(()) => true,
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        watcher.overflowed.store(true, Ordering::Release);
                        false
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => false,
                }
            });
            inner.last_published = revision;
        }
    }

    #[cfg(test)]
    fn watcher_count(&self) -> usize {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.watchers.len()
    }
}

/// Events of one watch: the replayed history first, then live events.
///
/// Ends with `None` when the storage is dropped, or with one `Err(WatchTooSlow)` when the
/// watcher did not keep up (after every event that was buffered before that).
pub struct WatchStream {
    backlog: VecDeque<WatchEvent>,
    live: LiveSource,
    last_delivered: i64,
    ended: bool,
}

/// Where live events come from: the in-process hub (memory, redb) or a backend task that
/// forwards events and, at most once, a final error (etcd).
enum LiveSource {
    Hub {
        live: mpsc::Receiver<WatchEvent>,
        overflowed: Arc<AtomicBool>,
    },
    #[cfg_attr(not(feature = "etcd"), allow(dead_code))]
    Forwarded(mpsc::Receiver<Result<WatchEvent>>),
}

impl WatchStream {
    /// `backlog` must hold exactly the matching history in `(after_revision, registered_at]`.
    pub(crate) fn new(subscription: Subscription, backlog: Vec<WatchEvent>) -> Self {
        WatchStream {
            backlog: backlog.into(),
            live: LiveSource::Hub {
                live: subscription.live,
                overflowed: subscription.overflowed,
            },
            last_delivered: subscription.after_revision,
            ended: false,
        }
    }

    /// A stream fed by a backend task: events in revision order, then optionally one error
    /// after which the task drops its sender. A closed channel ends the stream.
    #[cfg_attr(not(feature = "etcd"), allow(dead_code))]
    pub(crate) fn forwarded(
        receiver: mpsc::Receiver<Result<WatchEvent>>,
        after_revision: i64,
    ) -> Self {
        WatchStream {
            backlog: VecDeque::new(),
            live: LiveSource::Forwarded(receiver),
            last_delivered: after_revision,
            ended: false,
        }
    }

    pub async fn next(&mut self) -> Option<Result<WatchEvent>> {
        std::future::poll_fn(|cx| self.poll_next_event(cx)).await
    }

    /// Revision of the last event handed out (the watch's start revision before any).
    pub fn last_delivered_revision(&self) -> i64 {
        self.last_delivered
    }

    fn poll_next_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<WatchEvent>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        if let Some(event) = self.backlog.pop_front() {
            self.last_delivered = event.revision();
            return Poll::Ready(Some(Ok(event)));
        }
        let received = match &mut self.live {
            LiveSource::Hub { live, overflowed } => match live.poll_recv(cx) {
                Poll::Ready(Some(event)) => Some(Ok(event)),
                Poll::Ready(None) if overflowed.load(Ordering::Acquire) => {
                    Some(Err(StorageError::WatchTooSlow {
                        last_delivered_revision: self.last_delivered,
                    }))
                }
                Poll::Ready(None) => None,
                Poll::Pending => return Poll::Pending,
            },
            LiveSource::Forwarded(receiver) => match receiver.poll_recv(cx) {
                Poll::Ready(received) => received,
                Poll::Pending => return Poll::Pending,
            },
        };
        match received {
            Some(Ok(event)) => {
                self.last_delivered = event.revision();
                Poll::Ready(Some(Ok(event)))
            }
            Some(Err(error)) => {
                // An error always ends the stream, whichever source produced it.
                self.ended = true;
                Poll::Ready(Some(Err(error)))
            }
            None => {
                self.ended = true;
                Poll::Ready(None)
            }
        }
    }
}

impl futures_core::Stream for WatchStream {
    type Item = Result<WatchEvent>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_event(cx)
    }
}

impl std::fmt::Debug for WatchStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchStream")
            .field("backlog", &self.backlog.len())
            .field("last_delivered", &self.last_delivered)
            .field("ended", &self.ended)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyValue;

    fn put(key: &str, revision: i64) -> WatchEvent {
        WatchEvent::Put {
            kv: KeyValue {
                key: key.into(),
                value: Default::default(),
                create_revision: revision,
                mod_revision: revision,
                version: 1,
                expires_at: None,
            },
            prev: None,
        }
    }

    #[tokio::test]
    async fn overflowing_watcher_gets_buffered_events_then_too_slow() {
        let hub = WatchHub::new(1, 2);
        let subscription = hub.subscribe("/a/", 1);
        let mut stream = WatchStream::new(subscription, Vec::new());
        let events = [put("/a/1", 2), put("/a/2", 3), put("/a/3", 4)];
        hub.publish(&events);
        assert_eq!(hub.watcher_count(), 0, "overflowed watcher is dropped");
        assert_eq!(stream.next().await.unwrap().unwrap().revision(), 2);
        assert_eq!(stream.next().await.unwrap().unwrap().revision(), 3);
        match stream.next().await {
            Some(Err(StorageError::WatchTooSlow {
                last_delivered_revision: 3,
            })) => {}
            other => panic!("expected WatchTooSlow, got {other:?}"),
        }
        assert!(stream.next().await.is_none());
    }

    #[tokio::test]
    async fn filters_by_prefix_and_revision_and_forgets_dropped_streams() {
        let hub = WatchHub::new(1, 8);
        let subscription = hub.subscribe("/a/", 3);
        let mut stream = WatchStream::new(subscription, Vec::new());
        hub.publish(&[put("/a/1", 2), put("/b/1", 3), put("/a/2", 4)]);
        assert_eq!(stream.next().await.unwrap().unwrap().key(), "/a/2");
        drop(stream);
        hub.publish(&[put("/a/3", 5)]);
        assert_eq!(hub.watcher_count(), 0);
    }
}
