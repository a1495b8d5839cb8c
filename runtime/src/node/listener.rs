//! The pod's ports: while an instance runs, the host listens on `podIP:containerPort` and feeds
//! every request (HTTP/1.1 or h2c) into that instance. No instance, no listener: connections are refused, as to
//! a dead process.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use wasmpod_engine::Instance;

use crate::network::{NodeNetwork, PortListener};

pub struct PortListeners {
    accept_loops: Vec<JoinHandle<()>>,
    /// Set when the instance is gone: open connections close.
    closed: watch::Sender<bool>,
}

impl PortListeners {
    /// Binds every port or none. The error names the address and the OS reason.
    pub async fn bind(
        network: &NodeNetwork,
        ip: Ipv4Addr,
        ports: &[u16],
        instance: Arc<Instance>,
    ) -> Result<Self, String> {
        let mut listeners = Vec::with_capacity(ports.len());
        for &port in ports {
            let address = SocketAddr::from((ip, port));
            let listener = network.listen(address).await.map_err(|e| {
                let hint = if e.kind() == std::io::ErrorKind::PermissionDenied && port < 1024 {
                    " (ports below 1024 need root, or sysctl net.ipv4.ip_unprivileged_port_start=0)"
                } else {
                    ""
                };
                format!("cannot listen on {address}: {e}{hint}")
            })?;
            listeners.push(listener);
        }
        let (closed, _) = watch::channel(false);
        let accept_loops = listeners
            .into_iter()
            .map(|listener| {
                tokio::spawn(accept_loop(listener, instance.clone(), closed.subscribe()))
            })
            .collect();
        Ok(PortListeners {
            accept_loops,
            closed,
        })
    }

    /// Stops taking new connections from anywhere, e.g. after a preStop hook in a task.
    pub fn accept_stopper(&self) -> Vec<tokio::task::AbortHandle> {
        self.accept_loops
            .iter()
            .map(|task| task.abort_handle())
            .collect()
    }

    /// Stop taking new connections; requests on open ones still reach the instance.
    pub fn stop_accepting(&mut self) {
        for task in self.accept_loops.drain(..) {
            task.abort();
        }
    }
}

impl Drop for PortListeners {
    fn drop(&mut self) {
        self.stop_accepting();
        let _ = self.closed.send(true);
    }
}

async fn accept_loop(
    mut listener: PortListener,
    instance: Arc<Instance>,
    closed: watch::Receiver<bool>,
) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            // The simulated network is gone with its node.
            Err(error) if error.kind() == std::io::ErrorKind::NotConnected => return,
            // A transient failure (out of descriptors, an aborted handshake).
            Err(_) => continue,
        };
        let local = stream.local_addr();
        let instance = instance.clone();
        let mut closed = closed.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let instance = instance.clone();
                async move { Ok::<_, Infallible>(instance.handle(request, peer, local).await) }
            });
            // HTTP/1.1 and HTTP/2 cleartext (prior knowledge, as gRPC clients use it) both
            // reach the guest as wasi:http requests.
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = closed.wait_for(|closed| *closed) => {}
            }
        });
    }
}
