//! One proxy listener: a TCP socket with SO_REUSEADDR and SO_REUSEPORT (several wasmpod
//! nodes on one host bind the same ClusterIP:port and the kernel spreads connections over
//! them), whose connections are spliced to a backend.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;

use super::balancer::Route;

/// Backlog of every listener.
const BACKLOG: u32 = 1024;
/// Pause after a failed accept (e.g. out of file descriptors) before the next one.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

pub(crate) fn bind(address: SocketAddr) -> io::Result<TcpListener> {
    let socket = match address {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.set_reuseport(true)?;
    socket.bind(address)?;
    socket.listen(BACKLOG)
}

/// Accepts until aborted; each connection runs until either side is done or the proxy
/// shuts down.
pub(crate) async fn serve(
    listener: TcpListener,
    route: Arc<Route>,
    connect_timeout: Duration,
    shutdown: watch::Receiver<()>,
) {
    loop {
        match listener.accept().await {
            Ok((client, peer)) => {
                route.count_accepted();
                let route = route.clone();
                let shutdown = shutdown.clone();
                tokio::spawn(async move {
                    forward(client, peer, route, connect_timeout, shutdown).await;
                });
            }
            Err(_) => tokio::time::sleep(ACCEPT_ERROR_PAUSE).await,
        }
    }
}

async fn forward(
    mut client: TcpStream,
    peer: SocketAddr,
    route: Arc<Route>,
    connect_timeout: Duration,
    mut shutdown: watch::Receiver<()>,
) {
    let Some((mut upstream, backend)) = connect_any(&route, peer, connect_timeout).await else {
        // No backend took the connection: reset it, as a REJECT would refuse it.
        let _ = client.set_zero_linger();
        return;
    };
    route.remember(peer.ip(), backend);
    tokio::select! {
        // copy_bidirectional passes a half-close on: EOF from one side shuts down writing
        // to the other, and it ends when both directions are done.
        _ = copy_bidirectional(&mut client, &mut upstream) => {}
        _ = shutdown.changed() => {}
    }
}

/// Tries the backends in the route's order, moving on when a connect fails.
async fn connect_any(
    route: &Route,
    peer: SocketAddr,
    connect_timeout: Duration,
) -> Option<(TcpStream, SocketAddr)> {
    for backend in route.order_for(peer.ip()) {
        if let Ok(Ok(stream)) =
            tokio::time::timeout(connect_timeout, TcpStream::connect(backend)).await
        {
            return Some((stream, backend));
        }
    }
    None
}
