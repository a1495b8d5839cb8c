//! Where probe connections go: the host's TCP stack, or a node's in-process network.
//!
//! On simulated time wasmpod cannot use real sockets for its own pod ports (tokio's paused
//! clock would jump ahead while a socket read is pending), so a [`Connector`] hands out
//! in-memory streams instead. Everything above the stream — request building, redirects,
//! body limits, gRPC framing, Go's error texts — is the same code in both modes.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::net::TcpStream;

/// A TCP connection, or one end of an in-process one: what probes talk over (and what a
/// simulated node serves pod ports on).
pub struct Connection {
    io: StreamIo,
    local: SocketAddr,
    peer: SocketAddr,
    /// Kept alive as long as the connection (e.g. a hold on simulated time).
    _hold: Option<Box<dyn Send + Sync>>,
}

enum StreamIo {
    Tcp(TcpStream),
    Memory(DuplexStream),
}

impl Connection {
    pub fn tcp(stream: TcpStream) -> io::Result<Self> {
        Ok(Connection {
            local: stream.local_addr()?,
            peer: stream.peer_addr()?,
            io: StreamIo::Tcp(stream),
            _hold: None,
        })
    }

    /// A connection a listener accepted from `peer` (which `accept` already told).
    pub fn accepted(stream: TcpStream, peer: SocketAddr) -> io::Result<Self> {
        Ok(Connection {
            local: stream.local_addr()?,
            peer,
            io: StreamIo::Tcp(stream),
            _hold: None,
        })
    }

    /// One end of an in-process connection from `local` to `peer`.
    pub fn memory(stream: DuplexStream, local: SocketAddr, peer: SocketAddr) -> Self {
        Connection {
            io: StreamIo::Memory(stream),
            local,
            peer,
            _hold: None,
        }
    }

    /// Keeps `hold` alive until the connection is dropped.
    pub fn holding(mut self, hold: impl Send + Sync + 'static) -> Self {
        self._hold = Some(Box::new(hold));
        self
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// Closes the connection; a TCP socket (SO_LINGER set) is closed off the async
    /// threads, since `close` may block while unsent data drains.
    pub(crate) fn close(self) {
        let Connection { io, _hold, .. } = self;
        if let StreamIo::Tcp(stream) = io {
            match (stream.into_std(), tokio::runtime::Handle::try_current()) {
                (Ok(std_stream), Ok(handle)) => {
                    handle.spawn_blocking(move || drop(std_stream));
                }
                (Ok(std_stream), Err(_)) => drop(std_stream),
                (Err(_), _) => {}
            }
        }
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            StreamIo::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            StreamIo::Memory(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().io {
            StreamIo::Tcp(s) => Pin::new(s).poll_write(cx, data),
            StreamIo::Memory(s) => Pin::new(s).poll_write(cx, data),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            StreamIo::Tcp(s) => Pin::new(s).poll_flush(cx),
            StreamIo::Memory(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            StreamIo::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            StreamIo::Memory(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

pub type ConnectFuture = Pin<Box<dyn Future<Output = io::Result<Connection>> + Send>>;

/// Opens connections on a network other than the host's.
pub trait Connector: Send + Sync {
    /// Connects to `addr`; an error carries the OS error a real connect would have
    /// (e.g. `ECONNREFUSED` for a port nobody listens on).
    fn connect(&self, addr: SocketAddr) -> ConnectFuture;
}

/// The network probes and hooks dial: the host's by default.
#[derive(Clone, Default)]
pub struct Network {
    connector: Option<Arc<dyn Connector>>,
}

impl Network {
    /// The host's TCP stack.
    pub fn host() -> Self {
        Network { connector: None }
    }

    /// Every connection goes through `connector`.
    pub fn custom(connector: Arc<dyn Connector>) -> Self {
        Network {
            connector: Some(connector),
        }
    }

    pub(crate) fn connector(&self) -> Option<&Arc<dyn Connector>> {
        self.connector.as_ref()
    }
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.connector.is_some() {
            "Network(custom)"
        } else {
            "Network(host)"
        })
    }
}
