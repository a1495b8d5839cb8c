//! The kubelet's `probe.ProbeDialer()` + Go `net.Dialer` semantics: resolve, try each
//! address in order, SO_LINGER of 1 s, Go's `dial tcp <addr>: ...` error texts.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpSocket;
use tokio::time::{timeout_at, Instant};

use crate::go_text::errno_text;
use crate::network::{Connection, Network};
use crate::probe_url::join_host_port;

/// SO_LINGER used by the kubelet so probe sockets do not sit in TIME-WAIT for 60 s
/// (`pkg/probe/dialer_others.go`; 1 s rather than 0 to close with FIN, not RST).
const PROBE_LINGER: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DialFailure {
    /// The deadline passed; `target` is what Go would print (`ip:port`, or `lookup`).
    TimedOut { target: DialTarget },
    /// Any other failure, already in Go's text (`dial tcp 1.2.3.4:80: connect: ...`).
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DialTarget {
    Address(SocketAddr),
    Lookup(String),
}

impl DialFailure {
    /// Go `net.Dialer` text for a dial that ran out of time (`DialTimeout`).
    pub fn timeout_text(target: &DialTarget) -> String {
        match target {
            DialTarget::Address(addr) => format!("dial tcp {}: i/o timeout", go_addr(addr)),
            DialTarget::Lookup(host) => format!("dial tcp: lookup {host}: i/o timeout"),
        }
    }
}

/// Dials `host:port` before `deadline` like Go's `Dialer.DialContext("tcp", ...)`.
pub(crate) async fn dial(
    host: &str,
    port: u16,
    deadline: Instant,
    network: &Network,
) -> Result<Connection, DialFailure> {
    let addresses = match timeout_at(deadline, resolve(host, port)).await {
        Ok(result) => result?,
        Err(_) => {
            return Err(DialFailure::TimedOut {
                target: DialTarget::Lookup(host.to_string()),
            })
        }
    };
    // Go's dialSerial: try each address in order and report the first error.
    let mut first_error: Option<String> = None;
    for addr in addresses {
        match timeout_at(deadline, connect(addr, network)).await {
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(text)) => {
                first_error.get_or_insert(text);
            }
            Err(_) => {
                return Err(DialFailure::TimedOut {
                    target: DialTarget::Address(addr),
                })
            }
        }
    }
    Err(DialFailure::Failed(first_error.unwrap_or_else(|| {
        format!("dial tcp: lookup {host}: no such host")
    })))
}

async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, DialFailure> {
    if host.is_empty() {
        // Go: an empty host means the local system.
        return Ok(vec![SocketAddr::new(
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port,
        )]);
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    match tokio::net::lookup_host(join_host_port(host, port)).await {
        Ok(found) => {
            let found: Vec<SocketAddr> = found.collect();
            if found.is_empty() {
                Err(no_such_host(host))
            } else {
                Ok(found)
            }
        }
        Err(_) => Err(no_such_host(host)),
    }
}

/// Go's pure resolver (the kubelet is built without cgo) names the DNS server it asked.
fn no_such_host(host: &str) -> DialFailure {
    let server = first_nameserver()
        .map(|ip| format!(" on {}", go_addr(&SocketAddr::new(ip, 53))))
        .unwrap_or_default();
    DialFailure::Failed(format!("dial tcp: lookup {host}{server}: no such host"))
}

fn first_nameserver() -> Option<IpAddr> {
    let text = std::fs::read_to_string("/etc/resolv.conf").ok()?;
    text.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next() == Some("nameserver"))
            .then(|| words.next()?.parse().ok())
            .flatten()
    })
}

async fn connect(addr: SocketAddr, network: &Network) -> Result<Connection, String> {
    match network.connector() {
        Some(connector) => connector
            .connect(addr)
            .await
            .map_err(|error| syscall_error(&addr, "connect", &error)),
        None => connect_host(addr)
            .await
            .map_err(|(syscall, error)| syscall_error(&addr, syscall, &error)),
    }
}

/// A TCP connection on the host's stack as the kubelet's probe dialer makes it; the error
/// names the failing syscall.
async fn connect_host(addr: SocketAddr) -> Result<Connection, (&'static str, io::Error)> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(|error| ("socket", error))?;
    // Like the kubelet's dialer, a failure to set the option is ignored.
    let _ = socket2::SockRef::from(&socket).set_linger(Some(PROBE_LINGER));
    let stream = socket
        .connect(addr)
        .await
        .map_err(|error| ("connect", error))?;
    Connection::tcp(stream).map_err(|error| ("getsockname", error))
}

/// [`Connector`](crate::Connector)s that also reach real sockets use this, for the same
/// socket options as the host network.
pub async fn connect_tcp(addr: SocketAddr) -> io::Result<Connection> {
    connect_host(addr).await.map_err(|(_, error)| error)
}

fn syscall_error(addr: &SocketAddr, syscall: &str, error: &io::Error) -> String {
    format!(
        "dial tcp {}: {syscall}: {}",
        go_addr(addr),
        errno_text(error)
    )
}

/// Go's `TCPAddr.String()`; the unspecified IPv4 address of an empty host prints as `:port`.
pub(crate) fn go_addr(addr: &SocketAddr) -> String {
    if addr.ip() == IpAddr::V4(Ipv4Addr::UNSPECIFIED) {
        return format!(":{}", addr.port());
    }
    addr.to_string()
}

/// Closes a probe connection (see [`Connection::close`]).
pub(crate) fn close_lingering(stream: Connection) {
    stream.close();
}
