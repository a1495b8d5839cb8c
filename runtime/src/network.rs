//! The network a node's pod ports live on: the host's loopback, or (on simulated time) an
//! in-process one.
//!
//! On the simulated network, a pod port served by wasmpod is a registration in a table, and
//! a connection is a pair of in-memory pipes: no socket wait can let tokio's paused clock
//! jump ahead. Programs (command components) still open real sockets themselves; a
//! connection to one of those goes over real TCP while simulated time stands still (at most
//! [`REAL_IO_HOLD`] of real time per connection), so a probe's timeout cannot fire early.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use wasmpod_probe::{ConnectFuture, Connection, Connector, Network};

/// The longest simulated time follows real time for one real-socket connection.
pub const REAL_IO_HOLD: Duration = Duration::from_secs(10);

/// Buffer of each direction of an in-process connection.
const PIPE_BYTES: usize = 256 * 1024;

/// Where the probes and the pod ports of a node meet.
#[derive(Clone, Default)]
pub enum NodeNetwork {
    #[default]
    Host,
    Simulated(Arc<SimulatedNetwork>),
}

impl NodeNetwork {
    pub fn simulated() -> Self {
        NodeNetwork::Simulated(Arc::new(SimulatedNetwork::default()))
    }

    /// What the probe handlers and httpGet hooks dial.
    pub fn probe_network(&self) -> Network {
        match self {
            NodeNetwork::Host => Network::host(),
            NodeNetwork::Simulated(network) => Network::custom(network.clone()),
        }
    }

    /// Listens on `addr`: a TCP listener, or a registration on the simulated network.
    pub async fn listen(&self, addr: SocketAddr) -> io::Result<PortListener> {
        match self {
            NodeNetwork::Host => Ok(PortListener::Tcp(TcpListener::bind(addr).await?)),
            NodeNetwork::Simulated(network) => network.listen(addr).map(PortListener::Simulated),
        }
    }

    /// `GET path` on `addr` over this network, as a client on this node would: the status
    /// and the body. The error is a readable reason.
    pub async fn http_get(&self, addr: SocketAddr, path: &str) -> Result<(u16, String), String> {
        let connection = self.connect(addr).await.map_err(|e| e.to_string())?;
        let (mut sender, driver) =
            hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(connection))
                .await
                .map_err(|e| e.to_string())?;
        tokio::spawn(driver);
        let request = http::Request::get(path)
            .header(http::header::HOST, addr.to_string())
            .body(Empty::new())
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    /// Opens a connection to `addr`, as a client on this node would.
    pub async fn connect(&self, addr: SocketAddr) -> io::Result<Connection> {
        match self {
            NodeNetwork::Host => wasmpod_probe::connect_tcp(addr).await,
            NodeNetwork::Simulated(network) => network.connect(addr).await,
        }
    }
}

/// A pod port's listener.
pub enum PortListener {
    Tcp(TcpListener),
    Simulated(SimulatedListener),
}

impl PortListener {
    /// The next connection, with its peer's address.
    pub async fn accept(&mut self) -> io::Result<(Connection, SocketAddr)> {
        match self {
            PortListener::Tcp(listener) => {
                let (stream, peer) = listener.accept().await?;
                let _ = stream.set_nodelay(true);
                Ok((Connection::accepted(stream, peer)?, peer))
            }
            PortListener::Simulated(listener) => {
                let incoming =
                    listener.incoming.recv().await.ok_or_else(|| {
                        io::Error::new(io::ErrorKind::NotConnected, "network gone")
                    })?;
                Ok((incoming.connection, incoming.peer))
            }
        }
    }
}

struct Incoming {
    connection: Connection,
    peer: SocketAddr,
}

/// The in-process network of a simulated node.
pub struct SimulatedNetwork {
    state: Mutex<SimulatedState>,
    /// When the real-time holds last advanced simulated time (see [`real_time_hold`]).
    paced: Arc<Mutex<std::time::Instant>>,
}

impl Default for SimulatedNetwork {
    fn default() -> Self {
        SimulatedNetwork {
            state: Mutex::default(),
            paced: Arc::new(Mutex::new(std::time::Instant::now())),
        }
    }
}

#[derive(Default)]
struct SimulatedState {
    listeners: HashMap<SocketAddr, mpsc::UnboundedSender<Incoming>>,
    /// Client ports are handed out in order, so a simulation is repeatable.
    next_client_port: u16,
}

/// Clients on the node (the kubelet's probes, hooks, tests) connect from here, as they do
/// from the host's loopback.
const CLIENT_IP: Ipv4Addr = Ipv4Addr::LOCALHOST;
const FIRST_CLIENT_PORT: u16 = 32768;

impl SimulatedNetwork {
    fn listen(self: &Arc<Self>, addr: SocketAddr) -> io::Result<SimulatedListener> {
        let mut state = self.lock();
        if state
            .listeners
            .get(&addr)
            .is_some_and(|sender| !sender.is_closed())
        {
            return Err(io::Error::from(io::ErrorKind::AddrInUse));
        }
        let (sender, incoming) = mpsc::unbounded_channel();
        state.listeners.insert(addr, sender);
        Ok(SimulatedListener {
            addr,
            incoming,
            network: Arc::downgrade(self),
        })
    }

    async fn connect(&self, addr: SocketAddr) -> io::Result<Connection> {
        match self.connect_registered(addr) {
            Some(result) => result,
            None => connect_real(addr, self.paced.clone()).await,
        }
    }

    /// A connection to a port served on this network; `None` when nobody registered it.
    fn connect_registered(&self, addr: SocketAddr) -> Option<io::Result<Connection>> {
        let listener = self.lock().listeners.get(&addr).cloned()?;
        let peer = SocketAddr::from((CLIENT_IP, self.next_client_port()));
        let (client, server) = tokio::io::duplex(PIPE_BYTES);
        let incoming = Incoming {
            connection: Connection::memory(server, addr, peer),
            peer,
        };
        Some(match listener.send(incoming) {
            Ok(()) => Ok(Connection::memory(client, peer, addr)),
            Err(_) => Err(io::Error::from_raw_os_error(ECONNREFUSED)),
        })
    }

    fn next_client_port(&self) -> u16 {
        let mut state = self.lock();
        let port = state.next_client_port.max(FIRST_CLIENT_PORT);
        state.next_client_port = port.checked_add(1).unwrap_or(FIRST_CLIENT_PORT);
        port
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SimulatedState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Connector for SimulatedNetwork {
    fn connect(&self, addr: SocketAddr) -> ConnectFuture {
        match self.connect_registered(addr) {
            Some(result) => Box::pin(std::future::ready(result)),
            None => Box::pin(connect_real(addr, self.paced.clone())),
        }
    }
}

/// `ECONNREFUSED` on Linux: what connecting to a port nobody serves gives.
const ECONNREFUSED: i32 = 111;

/// A real TCP connection (to a program's own socket), during which simulated time flows at
/// real speed: tokio's paused clock would otherwise jump to the next timer (a probe's
/// timeout, say) whenever the runtime waits for the socket.
async fn connect_real(
    addr: SocketAddr,
    paced: Arc<Mutex<std::time::Instant>>,
) -> io::Result<Connection> {
    let hold = real_time_hold(paced);
    let connection = wasmpod_probe::connect_tcp(addr).await?;
    Ok(connection.holding(hold))
}

/// How finely simulated time follows real time during a [`real_time_hold`].
const PACE: Duration = Duration::from_millis(1);

/// A hold shorter than this (a refused or quickly answered connection) moves no simulated
/// time at all, which keeps such exchanges deterministic.
const HOLD_GRACE: Duration = Duration::from_millis(5);

/// Until dropped (or [`REAL_IO_HOLD`] of real time has passed), simulated time stops
/// jumping ahead: a running blocking task keeps tokio's paused clock from auto-advancing.
/// A hold that lasts past [`HOLD_GRACE`] lets simulated time follow real time, so a guest
/// that polls on a timer still makes progress. All holds of a network share `paced`, the
/// moment time was last advanced, so several open connections still advance it only once.
fn real_time_hold(paced: Arc<Mutex<std::time::Instant>>) -> TimeHold {
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (tick, mut ticks) = mpsc::unbounded_channel::<()>();
    tokio::task::spawn_blocking(move || {
        let held = std::time::Instant::now();
        // Released (the sender dropped) within the grace: no ticks at all.
        if !matches!(
            released.recv_timeout(HOLD_GRACE),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout)
        ) {
            return;
        }
        while held.elapsed() < REAL_IO_HOLD {
            match released.recv_timeout(PACE) {
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if tick.send(()).is_err() {
                        return;
                    }
                }
                _ => return,
            }
        }
    });
    tokio::spawn(async move {
        while ticks.recv().await.is_some() {
            let due = {
                let mut last = paced.lock().unwrap_or_else(|p| p.into_inner());
                let now = std::time::Instant::now();
                // Ticks that queued up while nothing drove the runtime are not replayed.
                let due = now.saturating_duration_since(*last).min(PACE * 2);
                *last = now;
                due
            };
            if !due.is_zero() {
                tokio::time::advance(due).await;
            }
        }
    });
    TimeHold { _release: release }
}

/// Dropping the sender ends the hold at once.
struct TimeHold {
    _release: std::sync::mpsc::Sender<()>,
}

/// A pod port on the simulated network; dropping it closes the port.
pub struct SimulatedListener {
    addr: SocketAddr,
    incoming: mpsc::UnboundedReceiver<Incoming>,
    network: Weak<SimulatedNetwork>,
}

impl Drop for SimulatedListener {
    fn drop(&mut self) {
        self.incoming.close();
        if let Some(network) = self.network.upgrade() {
            let mut state = network.lock();
            // A closed sender is this listener's: a new one on the address would be open.
            if state
                .listeners
                .get(&self.addr)
                .is_some_and(|sender| sender.is_closed())
            {
                state.listeners.remove(&self.addr);
            }
        }
    }
}
