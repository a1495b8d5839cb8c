//! One etcd member process.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use super::{EtcdClusterError, EtcdClusterOptions};

/// How much of a member's log goes into error messages.
const LOG_TAIL_BYTES: u64 = 2048;

pub(super) struct MemberSpec {
    pub name: String,
    pub client_port: u16,
    pub peer_port: u16,
    pub data_dir: PathBuf,
    pub log_path: PathBuf,
}

impl MemberSpec {
    pub fn client_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    pub fn peer_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.peer_port)
    }
}

pub(super) struct Member {
    pub spec: MemberSpec,
    /// The flags of the first start; a restart reuses them (etcd ignores the
    /// `--initial-*` ones once its data dir exists).
    args: Vec<String>,
    child: Option<Child>,
}

impl Member {
    pub fn spawn(
        spec: MemberSpec,
        options: &EtcdClusterOptions,
        initial_cluster: &str,
        token: &str,
    ) -> Result<Member, EtcdClusterError> {
        let client_url = spec.client_url();
        let peer_url = spec.peer_url();
        let listen_client_urls: Vec<String> = std::iter::once(client_url.clone())
            .chain(
                options
                    .extra_client_addresses
                    .iter()
                    .map(|address| format!("http://{address}:{}", spec.client_port)),
            )
            .collect();
        let args = vec![
            format!("--name={}", spec.name),
            format!("--data-dir={}", spec.data_dir.display()),
            format!("--listen-client-urls={}", listen_client_urls.join(",")),
            format!("--advertise-client-urls={client_url}"),
            format!("--listen-peer-urls={peer_url}"),
            format!("--initial-advertise-peer-urls={peer_url}"),
            format!("--initial-cluster={initial_cluster}"),
            "--initial-cluster-state=new".to_owned(),
            format!("--initial-cluster-token={token}"),
            format!("--heartbeat-interval={}", options.heartbeat_interval_ms),
            format!("--election-timeout={}", options.election_timeout_ms),
        ];
        let mut member = Member {
            spec,
            args,
            child: None,
        };
        member.start(options)?;
        Ok(member)
    }

    fn start(&mut self, options: &EtcdClusterOptions) -> Result<(), EtcdClusterError> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.spec.log_path)?;
        let mut command = Command::new(&options.binary);
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        // Flags only: ETCD_* variables of the caller's environment would override them.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("ETCD_") {
                command.env_remove(name);
            }
        }
        let child = command.spawn().map_err(|error| match error.kind() {
            ErrorKind::NotFound => EtcdClusterError::BinaryMissing {
                binary: options.binary.clone(),
            },
            _ => EtcdClusterError::Io(error),
        })?;
        self.child = Some(child);
        Ok(())
    }

    pub fn restart(&mut self, options: &EtcdClusterOptions) -> Result<(), EtcdClusterError> {
        self.kill();
        self.start(options)
    }

    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// SIGKILL, then reap.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log_tail(&self) -> String {
        let Ok(mut file) = File::open(&self.spec.log_path) else {
            return String::new();
        };
        let length = file.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = file.seek(SeekFrom::Start(length.saturating_sub(LOG_TAIL_BYTES)));
        let mut tail = Vec::new();
        let _ = file.read_to_end(&mut tail);
        String::from_utf8_lossy(&tail).into_owned()
    }
}

/// Ports the OS considers free right now; all listeners are held until every port is chosen
/// so the same port is not handed out twice.
pub(super) fn free_ports(count: usize) -> Result<Vec<u16>, EtcdClusterError> {
    let listeners = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(listeners
        .iter()
        .map(|listener| listener.local_addr().map(|addr| addr.port()))
        .collect::<Result<Vec<_>, _>>()?)
}
