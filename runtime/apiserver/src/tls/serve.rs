//! The HTTPS listener loop: TLS (rustls, ring) in front of the same HTTP/1.1 handling.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::ServingIdentity;
use crate::server::accept;
use crate::ApiServer;

/// A client that has not finished the handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

impl ApiServer {
    /// Serves HTTPS connections from `listener` with `identity` until the task is dropped or
    /// accept fails fatally. An unusable identity is an `InvalidInput` error.
    pub async fn serve_tls(
        &self,
        listener: TcpListener,
        identity: &ServingIdentity,
    ) -> std::io::Result<()> {
        let config = identity
            .server_config()
            .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidInput, error))?;
        let acceptor = TlsAcceptor::from(Arc::new(config));
        loop {
            let stream = accept(&listener).await?;
            let server = self.clone();
            let acceptor = acceptor.clone();
            // The handshake runs in the connection's task so a slow client cannot stall accept.
            tokio::spawn(async move {
                if let Ok(Ok(tls)) =
                    tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                {
                    server.serve_connection(tls).await;
                }
            });
        }
    }
}
