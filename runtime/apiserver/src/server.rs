//! The HTTP/1.1 listener loop (keep-alive; streamed bodies are chunked).

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};

use crate::ApiServer;

impl ApiServer {
    /// Serves connections from `listener` until the task is dropped or accept fails fatally.
    pub async fn serve(&self, listener: TcpListener) -> std::io::Result<()> {
        loop {
            let stream = accept(&listener).await?;
            let server = self.clone();
            tokio::spawn(async move { server.serve_connection(stream).await });
        }
    }

    /// Serves one (plain or TLS) connection until the client closes it.
    pub(crate) async fn serve_connection<Io>(self, io: Io)
    where
        Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let service = service_fn(move |request| {
            let server = self.clone();
            async move { Ok::<_, std::convert::Infallible>(server.handle(request).await) }
        });
        // A connection error concerns that client only.
        let _ = http1::Builder::new()
            .keep_alive(true)
            .serve_connection(TokioIo::new(io), service)
            .await;
    }
}

/// The next connection; per-connection accept failures are skipped.
pub(crate) async fn accept(listener: &TcpListener) -> std::io::Result<TcpStream> {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            // Per-connection failures (e.g. the peer reset before accept) are not fatal.
            Err(error) if is_transient(&error) => continue,
            Err(error) => return Err(error),
        }
    }
}

fn is_transient(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    ) || error.raw_os_error() == Some(24) // EMFILE: back off by retrying
}
