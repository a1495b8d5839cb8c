//! Election on etcd's election API, like `concurrency.Election` in Go: each candidate holds a
//! lease kept alive by a background task and campaigns with it; the candidate whose key under
//! the election name is oldest leads. A leader whose keep-alives stop being confirmed
//! considers itself lost when its lease may have expired (measured from the *sending* of the
//! last confirmed keep-alive, so never later than etcd expires it); etcd then deletes its key
//! and the next candidate wins.

use std::time::Duration;

use async_trait::async_trait;
use etcd_client::{Client, LeaderKey};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{Elector, Leadership, Resigner};
use crate::etcd_backend::retry::{backend_error, is_transient, AttemptError, Retry};
use crate::etcd_backend::{connect_client, EtcdOptions};
use crate::{EtcdStorage, Result, StorageError};

/// Backoff between campaign attempts that failed because of a member failure.
const CAMPAIGN_RETRY_PAUSE: Duration = Duration::from_millis(100);

#[derive(Clone)]
pub struct EtcdElector {
    client: Client,
    key_prefix: String,
    options: EtcdOptions,
    lease_ttl: Duration,
}

impl EtcdElector {
    /// Elects over `storage`'s connections, under its key prefix.
    /// `lease_ttl` bounds failover: etcd's minimum is 1.5 × its election timeout.
    pub fn new(storage: &EtcdStorage, lease_ttl: Duration) -> Self {
        EtcdElector {
            client: storage.client(),
            key_prefix: storage.options().key_prefix.clone(),
            options: storage.options().clone(),
            lease_ttl,
        }
    }

    /// Elects over its own connections to `endpoints`.
    pub async fn connect(
        endpoints: &[String],
        options: EtcdOptions,
        lease_ttl: Duration,
    ) -> Result<Self> {
        Ok(EtcdElector {
            client: connect_client(endpoints, &options).await?,
            key_prefix: options.key_prefix.clone(),
            options,
            lease_ttl,
        })
    }

    fn election_name(&self, election: &str) -> Vec<u8> {
        format!("{}/wasmpod/elections/{election}", self.key_prefix).into_bytes()
    }

    fn ttl_seconds(&self) -> i64 {
        let ttl = self.lease_ttl;
        let seconds = ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0);
        i64::try_from(seconds.max(1)).unwrap_or(i64::MAX)
    }

    /// Grants a lease and starts keeping it alive.
    async fn start_session(&self) -> Result<Session> {
        let ttl = self.ttl_seconds();
        let mut retry = Retry::new(&self.options);
        let sent_at = Instant::now();
        let granted = retry
            .run("grant election lease", || {
                let mut client = self.client.clone();
                async move { client.lease_grant(ttl, None).await }
            })
            .await?;
        let lease = granted.id();
        // etcd may have raised the TTL to its minimum.
        let ttl = Duration::from_secs(u64::try_from(granted.ttl().max(ttl)).unwrap_or(1));
        let (lost_sender, lost) = watch::channel(false);
        let keeper = KeepAlive {
            client: self.client.clone(),
            lease,
            ttl,
            confirmed_at: sent_at,
        };
        let task = tokio::spawn(keeper.run(lost_sender));
        Ok(Session { lease, lost, task })
    }
}

struct Session {
    lease: i64,
    lost: watch::Receiver<bool>,
    task: JoinHandle<()>,
}

#[async_trait]
impl Elector for EtcdElector {
    async fn campaign(&self, election: &str, candidate: &str) -> Result<Leadership> {
        let name = self.election_name(election);
        loop {
            let mut session = self.start_session().await?;
            let won = loop {
                let mut client = self.client.clone();
                let attempt = client.campaign(name.clone(), candidate, session.lease);
                let answer = tokio::select! {
                    answer = attempt => answer,
                    _ = wait_lost(&mut session.lost) => break None,
                };
                match answer {
                    Ok(mut response) => match response.take_leader() {
                        Some(leader) => break Some(leader),
                        None => {
                            revoke(self.client.clone(), session.lease).await;
                            return Err(StorageError::Backend(
                                "etcd campaign: answer without a leader key".into(),
                            ));
                        }
                    },
                    // Campaigning again with the same lease resumes the same candidacy.
                    Err(error) if is_transient(&error) => {
                        tokio::time::sleep(CAMPAIGN_RETRY_PAUSE).await
                    }
                    Err(error) => {
                        session.task.abort();
                        revoke(self.client.clone(), session.lease).await;
                        return Err(backend_error("campaign", error));
                    }
                }
            };
            match won {
                Some(leader_key) if !*session.lost.borrow() => {
                    let resigner = EtcdResigner {
                        client: self.client.clone(),
                        leader_key,
                        lease: session.lease,
                        keep_alive: session.task,
                        options: self.options.clone(),
                    };
                    return Ok(Leadership::new(
                        election,
                        candidate,
                        session.lost,
                        Box::new(resigner),
                    ));
                }
                // The lease lapsed while waiting: campaign again with a fresh one.
                _ => {
                    session.task.abort();
                    revoke(self.client.clone(), session.lease).await;
                }
            }
        }
    }

    async fn leader(&self, election: &str) -> Result<Option<String>> {
        let name = self.election_name(election);
        let mut retry = Retry::new(&self.options);
        loop {
            let mut client = self.client.clone();
            match retry.attempt(client.leader(name.clone())).await {
                Ok(response) => {
                    return Ok(response
                        .kv()
                        .map(|kv| String::from_utf8_lossy(kv.value()).into_owned()))
                }
                // etcd answers "election: no leader" (code Unknown in 3.4) for an empty
                // election; check before treating Unknown as a member failure.
                Err(AttemptError::Transient(error)) if error.contains("election: no leader") => {
                    return Ok(None)
                }
                Err(AttemptError::Fatal(error)) if error.to_string().contains("no leader") => {
                    return Ok(None)
                }
                Err(AttemptError::Transient(error)) => {
                    retry.pause("election leader", &error).await?
                }
                Err(AttemptError::Fatal(error)) => {
                    return Err(backend_error("election leader", error))
                }
            }
        }
    }
}

async fn wait_lost(lost: &mut watch::Receiver<bool>) {
    while !*lost.borrow_and_update() {
        if lost.changed().await.is_err() {
            return;
        }
    }
}

/// Revoking the lease deletes the candidate's key, so the next candidate wins at once.
async fn revoke(client: Client, lease: i64) {
    let mut retry = Retry::with_deadline(Duration::from_secs(5), Duration::from_secs(2));
    let _ = retry
        .run("revoke lease", || {
            let mut client = client.clone();
            async move { client.lease_revoke(lease).await }
        })
        .await;
}

struct EtcdResigner {
    client: Client,
    leader_key: LeaderKey,
    lease: i64,
    keep_alive: JoinHandle<()>,
    options: EtcdOptions,
}

impl EtcdResigner {
    async fn give_up(client: Client, leader_key: LeaderKey, lease: i64, options: EtcdOptions) {
        let mut retry = Retry::new(&options);
        loop {
            let mut client = client.clone();
            let resign = etcd_client::ResignOptions::new().with_leader(leader_key.clone());
            match retry.attempt(client.resign(Some(resign))).await {
                Ok(_) | Err(AttemptError::Fatal(_)) => break,
                Err(AttemptError::Transient(error)) => {
                    if retry.pause("resign", &error).await.is_err() {
                        break;
                    }
                }
            }
        }
        revoke(client, lease).await;
    }
}

#[async_trait]
impl Resigner for EtcdResigner {
    async fn resign(self: Box<Self>) {
        self.keep_alive.abort();
        Self::give_up(self.client, self.leader_key, self.lease, self.options).await;
    }

    fn resign_in_background(self: Box<Self>) {
        self.keep_alive.abort();
        // Without a runtime the lease simply expires after its TTL.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(Self::give_up(
                self.client,
                self.leader_key,
                self.lease,
                self.options,
            ));
        }
    }
}

/// Keeps one lease alive; reports loss once it may have expired.
struct KeepAlive {
    client: Client,
    lease: i64,
    ttl: Duration,
    /// When the last keep-alive that etcd confirmed was sent.
    confirmed_at: Instant,
}

impl KeepAlive {
    async fn run(mut self, lost: watch::Sender<bool>) {
        self.keep_until_lost().await;
        let _ = lost.send(true);
    }

    fn expires_at(&self) -> Instant {
        self.confirmed_at + self.ttl
    }

    async fn keep_until_lost(&mut self) {
        let interval = self.ttl / 3;
        loop {
            // (Re)open the keep-alive stream, on whichever member answers.
            let sent_at = Instant::now();
            let mut client = self.client.clone();
            let opened =
                tokio::time::timeout_at(self.expires_at(), client.lease_keep_alive(self.lease))
                    .await;
            let (mut keeper, mut stream) = match opened {
                Err(_) => return,
                Ok(Ok(pair)) => {
                    self.confirmed_at = sent_at;
                    pair
                }
                Ok(Err(etcd_client::Error::LeaseKeepAliveError(_))) => return, // expired
                Ok(Err(_)) => {
                    if Instant::now() + CAMPAIGN_RETRY_PAUSE >= self.expires_at() {
                        return;
                    }
                    tokio::time::sleep(CAMPAIGN_RETRY_PAUSE).await;
                    continue;
                }
            };
            loop {
                tokio::time::sleep(interval).await;
                let sent_at = Instant::now();
                if keeper.keep_alive().await.is_err() {
                    break;
                }
                match tokio::time::timeout_at(self.expires_at(), stream.message()).await {
                    Err(_) => return,
                    Ok(Ok(Some(response))) if response.ttl() > 0 => self.confirmed_at = sent_at,
                    Ok(Ok(Some(_))) => return, // TTL 0: the lease is gone
                    Ok(Ok(None)) | Ok(Err(_)) => break,
                }
            }
        }
    }
}
