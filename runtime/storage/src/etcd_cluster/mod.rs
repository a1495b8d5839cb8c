//! `LocalEtcdCluster`: real etcd members on loopback for end-to-end tests (feature `etcd`).
//!
//! Each member gets free client and peer ports, a data dir in a private temporary directory
//! and a log file next to it. `start` returns once every member answers a linearizable read
//! (which needs an elected leader and a quorum). Everything is SIGKILLed on drop.

mod member;

use std::path::PathBuf;
use std::time::Duration;

use etcd_client::{Client, ConnectOptions, GetOptions};
use tokio::time::Instant;

use member::{Member, MemberSpec};

/// What `LocalEtcdCluster::start_with` runs.
#[derive(Debug, Clone)]
pub struct EtcdClusterOptions {
    pub members: usize,
    /// `--heartbeat-interval` in milliseconds.
    pub heartbeat_interval_ms: u64,
    /// `--election-timeout` in milliseconds; the minimum lease TTL is 1.5 × this.
    pub election_timeout_ms: u64,
    /// The etcd binary, looked up on `PATH` when not a path.
    pub binary: PathBuf,
    /// How long `start` and `restart_member` wait for health.
    pub startup_timeout: Duration,
    /// Addresses besides 127.0.0.1 on which members also accept clients (same port), e.g. the
    /// host end of a veth pair so a node in a network namespace can reach the cluster.
    pub extra_client_addresses: Vec<std::net::IpAddr>,
}

impl Default for EtcdClusterOptions {
    fn default() -> Self {
        EtcdClusterOptions {
            members: 3,
            heartbeat_interval_ms: 100,
            election_timeout_ms: 1000,
            binary: PathBuf::from("etcd"),
            startup_timeout: Duration::from_secs(30),
            extra_client_addresses: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EtcdClusterError {
    #[error(
        "etcd binary {binary:?} not found: install Debian's etcd-server \
         (apt-get install etcd-server)"
    )]
    BinaryMissing { binary: PathBuf },
    #[error("etcd cluster I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("etcd member {member} did not become healthy within {timeout:?}: {detail}")]
    Unhealthy {
        member: usize,
        timeout: Duration,
        detail: String,
    },
    #[error("etcd member {member} exited during startup: {log_tail}")]
    Exited { member: usize, log_tail: String },
    #[error("no etcd member {0}")]
    NoSuchMember(usize),
    #[error("etcd status request failed: {0}")]
    Status(String),
}

/// Start attempts when a member loses a race for its port with another process.
const PORT_CLASH_ATTEMPTS: usize = 3;
const HEALTH_POLL_INTERVAL: Duration = Duration::from_millis(50);
const HEALTH_REQUEST_TIMEOUT: Duration = Duration::from_secs(1);

pub struct LocalEtcdCluster {
    members: Vec<Member>,
    options: EtcdClusterOptions,
    // Declared last: removed after the members are killed (in `Drop`).
    _dir: tempfile::TempDir,
}

impl LocalEtcdCluster {
    /// Starts `members` members with heartbeat 100 ms and election timeout 1 s.
    pub async fn start(members: usize) -> Result<Self, EtcdClusterError> {
        Self::start_with(EtcdClusterOptions {
            members,
            ..EtcdClusterOptions::default()
        })
        .await
    }

    pub async fn start_with(options: EtcdClusterOptions) -> Result<Self, EtcdClusterError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::try_start(options.clone()).await {
                Err(EtcdClusterError::Exited { log_tail, .. })
                    if attempt < PORT_CLASH_ATTEMPTS
                        && log_tail.contains("address already in use") =>
                {
                    continue
                }
                other => return other,
            }
        }
    }

    async fn try_start(options: EtcdClusterOptions) -> Result<Self, EtcdClusterError> {
        let dir = tempfile::Builder::new().prefix("wasmpod-etcd-").tempdir()?;
        let ports = member::free_ports(options.members * 2)?;
        let token = format!("wasmpod-{}", rand::random::<u64>());
        let specs: Vec<MemberSpec> = (0..options.members)
            .map(|index| MemberSpec {
                name: format!("m{index}"),
                client_port: ports[2 * index],
                peer_port: ports[2 * index + 1],
                data_dir: dir.path().join(format!("m{index}")),
                log_path: dir.path().join(format!("m{index}.log")),
            })
            .collect();
        let initial_cluster = specs
            .iter()
            .map(|spec| format!("{}={}", spec.name, spec.peer_url()))
            .collect::<Vec<_>>()
            .join(",");
        let mut cluster = LocalEtcdCluster {
            members: Vec::with_capacity(specs.len()),
            options,
            _dir: dir,
        };
        for spec in specs {
            let member = Member::spawn(spec, &cluster.options, &initial_cluster, &token)?;
            cluster.members.push(member);
        }
        for index in 0..cluster.members.len() {
            cluster.wait_healthy(index).await?;
        }
        Ok(cluster)
    }

    pub fn member_count(&self) -> usize {
        self.members.len()
    }

    /// Client URLs of every member (`http://127.0.0.1:<port>`), running or not.
    pub fn endpoints(&self) -> Vec<String> {
        self.members.iter().map(|m| m.spec.client_url()).collect()
    }

    pub fn endpoint(&self, index: usize) -> Result<String, EtcdClusterError> {
        Ok(self.member(index)?.spec.client_url())
    }

    pub fn is_running(&mut self, index: usize) -> bool {
        self.members
            .get_mut(index)
            .is_some_and(|member| member.is_running())
    }

    /// SIGKILLs member `index` (like `kill -9`) and reaps it.
    pub fn kill_member(&mut self, index: usize) -> Result<(), EtcdClusterError> {
        self.member_mut(index)?.kill();
        Ok(())
    }

    /// Starts member `index` again on its data dir and waits until it serves reads.
    pub async fn restart_member(&mut self, index: usize) -> Result<(), EtcdClusterError> {
        let options = self.options.clone();
        self.member_mut(index)?.restart(&options)?;
        self.wait_healthy(index).await
    }

    /// Index of the member the running members report as raft leader, if they know one.
    pub async fn leader_index(&mut self) -> Result<Option<usize>, EtcdClusterError> {
        let mut ids = Vec::with_capacity(self.members.len());
        let mut leader = None;
        for member in &mut self.members {
            let status = match member.is_running() {
                true => member_status(&member.spec.client_url()).await.ok(),
                false => None,
            };
            ids.push(
                status
                    .as_ref()
                    .and_then(|status| status.header().map(|header| header.member_id())),
            );
            if let Some(status) = status.filter(|status| status.leader() != 0) {
                leader = Some(status.leader());
            }
        }
        Ok(leader.and_then(|leader| ids.iter().position(|id| *id == Some(leader))))
    }

    /// Polls member `index` with linearizable reads until one succeeds or the deadline passes.
    async fn wait_healthy(&mut self, index: usize) -> Result<(), EtcdClusterError> {
        let timeout = self.options.startup_timeout;
        let deadline = Instant::now() + timeout;
        let endpoint = self.member(index)?.spec.client_url();
        loop {
            let member = self.member_mut(index)?;
            if !member.is_running() {
                return Err(EtcdClusterError::Exited {
                    member: index,
                    log_tail: member.log_tail(),
                });
            }
            let last_error = match linearizable_read(&endpoint).await {
                Ok(()) => return Ok(()),
                Err(error) => error,
            };
            if Instant::now() >= deadline {
                return Err(EtcdClusterError::Unhealthy {
                    member: index,
                    timeout,
                    detail: format!("{last_error}; log: {}", member_log(self, index)),
                });
            }
            tokio::time::sleep(HEALTH_POLL_INTERVAL).await;
        }
    }

    fn member(&self, index: usize) -> Result<&Member, EtcdClusterError> {
        self.members
            .get(index)
            .ok_or(EtcdClusterError::NoSuchMember(index))
    }

    fn member_mut(&mut self, index: usize) -> Result<&mut Member, EtcdClusterError> {
        self.members
            .get_mut(index)
            .ok_or(EtcdClusterError::NoSuchMember(index))
    }
}

fn member_log(cluster: &LocalEtcdCluster, index: usize) -> String {
    cluster
        .members
        .get(index)
        .map(Member::log_tail)
        .unwrap_or_default()
}

impl Drop for LocalEtcdCluster {
    fn drop(&mut self) {
        for member in &mut self.members {
            member.kill();
        }
    }
}

async fn single_endpoint_client(endpoint: &str) -> Result<Client, String> {
    let options = ConnectOptions::new().with_connect_timeout(HEALTH_REQUEST_TIMEOUT);
    Client::connect([endpoint], Some(options))
        .await
        .map_err(|error| error.to_string())
}

async fn linearizable_read(endpoint: &str) -> Result<(), String> {
    let mut client = single_endpoint_client(endpoint).await?;
    let read = client.get("health", Some(GetOptions::new().with_count_only()));
    match tokio::time::timeout(HEALTH_REQUEST_TIMEOUT, read).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("no answer within {HEALTH_REQUEST_TIMEOUT:?}")),
    }
}

async fn member_status(endpoint: &str) -> Result<etcd_client::StatusResponse, EtcdClusterError> {
    let mut client = single_endpoint_client(endpoint)
        .await
        .map_err(EtcdClusterError::Status)?;
    match tokio::time::timeout(HEALTH_REQUEST_TIMEOUT, client.status()).await {
        Ok(Ok(status)) => Ok(status),
        Ok(Err(error)) => Err(EtcdClusterError::Status(error.to_string())),
        Err(_) => Err(EtcdClusterError::Status("timed out".into())),
    }
}
