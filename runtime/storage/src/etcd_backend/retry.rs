//! Retrying etcd requests through member failures.
//!
//! etcd-client balances over every endpoint; when a member dies (or a leader election is in
//! progress) a request fails with `Unavailable`, a transport error or our own per-attempt
//! timeout. Those are retried with backoff until `retry_deadline`; answers that are
//! definitive (invalid argument, compacted, lease not found, ...) are returned at once.
//! Writes must additionally cope with an attempt that failed *after* etcd applied it; see
//! `writes`.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;
use tonic::Code;

use super::EtcdOptions;
use crate::{Result, StorageError};

const FIRST_BACKOFF: Duration = Duration::from_millis(25);
const MAX_BACKOFF: Duration = Duration::from_millis(500);

/// Why one attempt failed.
#[derive(Debug)]
pub(crate) enum AttemptError {
    /// Worth retrying, possibly on another member; the request may or may not have applied.
    Transient(String),
    /// etcd's definitive answer.
    Fatal(etcd_client::Error),
}

pub(crate) fn is_transient(error: &etcd_client::Error) -> bool {
    use etcd_client::Error;
    match error {
        Error::TransportError(_) | Error::IoError(_) => true,
        Error::GRpcStatus(status) => !matches!(
            status.code(),
            Code::InvalidArgument
                | Code::OutOfRange
                | Code::NotFound
                | Code::FailedPrecondition
                | Code::PermissionDenied
                | Code::Unauthenticated
                | Code::AlreadyExists
                | Code::Unimplemented
                | Code::DataLoss
        ),
        // A stream that could not be opened (watch / keep-alive) or was cut.
        Error::WatchError(_) | Error::LeaseKeepAliveError(_) | Error::ElectError(_) => true,
        _ => false,
    }
}

/// etcd's "mvcc: required revision has been compacted".
pub(crate) fn is_compacted(error: &etcd_client::Error) -> bool {
    matches!(error, etcd_client::Error::GRpcStatus(status)
        if status.code() == Code::OutOfRange && status.message().contains("compacted"))
}

/// etcd's "mvcc: required revision is a future revision".
pub(crate) fn is_future_revision(error: &etcd_client::Error) -> bool {
    matches!(error, etcd_client::Error::GRpcStatus(status)
        if status.code() == Code::OutOfRange && status.message().contains("future"))
}

pub(crate) fn backend_error(what: &str, error: impl std::fmt::Display) -> StorageError {
    StorageError::Backend(format!("etcd {what}: {error}"))
}

/// The retry budget of one storage call.
pub(crate) struct Retry {
    deadline: Instant,
    request_timeout: Duration,
    backoff: Duration,
    pub(crate) attempts: u32,
}

impl Retry {
    pub(crate) fn new(options: &EtcdOptions) -> Self {
        Self::with_deadline(options.retry_deadline, options.request_timeout)
    }

    pub(crate) fn with_deadline(total: Duration, request_timeout: Duration) -> Self {
        Retry {
            deadline: Instant::now() + total,
            request_timeout,
            backoff: FIRST_BACKOFF,
            attempts: 0,
        }
    }

    /// One attempt, bounded by the request timeout (and by the overall deadline).
    pub(crate) async fn attempt<T>(
        &mut self,
        request: impl Future<Output = Result<T, etcd_client::Error>>,
    ) -> Result<T, AttemptError> {
        self.attempts += 1;
        let timeout = self
            .request_timeout
            .min(self.deadline.saturating_duration_since(Instant::now()))
            .max(Duration::from_millis(1));
        match tokio::time::timeout(timeout, request).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) if is_transient(&error) => {
                Err(AttemptError::Transient(error.to_string()))
            }
            Ok(Err(error)) => Err(AttemptError::Fatal(error)),
            Err(_) => Err(AttemptError::Transient(format!(
                "no answer within {timeout:?}"
            ))),
        }
    }

    /// Waits before the next attempt; fails once the deadline has passed.
    pub(crate) async fn pause(&mut self, what: &str, last_error: &str) -> Result<()> {
        let now = Instant::now();
        if now >= self.deadline {
            return Err(StorageError::Backend(format!(
                "etcd {what}: gave up after {} attempts: {last_error}",
                self.attempts
            )));
        }
        let wait = self.backoff.min(self.deadline - now);
        tokio::time::sleep(wait).await;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        Ok(())
    }

    /// Runs an idempotent request (a read, a compaction, ...) until it gets an answer.
    pub(crate) async fn run<T, F, Fut>(&mut self, what: &str, mut request: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, etcd_client::Error>>,
    {
        loop {
            match self.attempt(request()).await {
                Ok(value) => return Ok(value),
                Err(AttemptError::Fatal(error)) => return Err(backend_error(what, error)),
                Err(AttemptError::Transient(error)) => self.pause(what, &error).await?,
            }
        }
    }

    /// Like `run`, but hands definitive etcd errors back for the caller to interpret.
    pub(crate) async fn run_raw<T, F, Fut>(
        &mut self,
        what: &str,
        mut request: F,
    ) -> Result<Result<T, etcd_client::Error>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, etcd_client::Error>>,
    {
        loop {
            match self.attempt(request()).await {
                Ok(value) => return Ok(Ok(value)),
                Err(AttemptError::Fatal(error)) => return Ok(Err(error)),
                Err(AttemptError::Transient(error)) => self.pause(what, &error).await?,
            }
        }
    }
}
