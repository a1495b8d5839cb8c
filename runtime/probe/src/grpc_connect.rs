//! grpc-go's blocking dial (`grpc.WithBlock()`): the channel is ready once TCP is
//! connected *and* the server's HTTP/2 preface (a SETTINGS frame) has arrived. Failed
//! attempts are retried with grpc-go's connection backoff until the deadline, so a
//! refused port or a non-HTTP/2 server ends as a deadline, never as an error.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::network::{Connection, Network};
use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{sleep, sleep_until, timeout_at, Instant};

use crate::dial::{close_lingering, dial};

/// grpc-go `backoff.DefaultConfig`.
const BASE_DELAY: Duration = Duration::from_secs(1);
const MULTIPLIER: f64 = 1.6;
const JITTER: f64 = 0.2;
const MAX_DELAY: Duration = Duration::from_secs(120);

/// HTTP/2 frame type of SETTINGS.
const SETTINGS_FRAME_TYPE: u8 = 0x4;
const FRAME_HEADER_BYTES: usize = 9;

/// A ready HTTP/2 connection; dropping it closes the socket.
pub(crate) struct GrpcChannel {
    pub sender: SendRequest<Full<Bytes>>,
    _connection: ConnectionTask,
}

struct ConnectionTask(JoinHandle<()>);

impl Drop for ConnectionTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Connects like `grpc.DialContext(ctx, addr, WithBlock())`; `None` when the deadline
/// passed first (grpc-go then returns `context.DeadlineExceeded`).
pub(crate) async fn connect_blocking(
    host: &str,
    port: u16,
    deadline: Instant,
    network: &Network,
) -> Option<GrpcChannel> {
    let mut retries = 0;
    loop {
        match timeout_at(deadline, try_connect(host, port, deadline, network)).await {
            Err(_) => return None,
            Ok(Some(channel)) => return Some(channel),
            Ok(None) => {}
        }
        let delay = backoff_delay(retries);
        retries += 1;
        if Instant::now() + delay >= deadline {
            sleep_until(deadline).await;
            return None;
        }
        sleep(delay).await;
    }
}

/// One connection attempt: TCP, client preface, wait for the server's SETTINGS.
async fn try_connect(
    host: &str,
    port: u16,
    deadline: Instant,
    network: &Network,
) -> Option<GrpcChannel> {
    let stream = dial(host, port, deadline, network).await.ok()?;
    let (io, first_frame) = FirstFrameWatch::new(stream);
    let (sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .handshake::<_, Full<Bytes>>(TokioIo::new(io))
        .await
        .ok()?;
    let connection = ConnectionTask(tokio::spawn(async move {
        let _ = connection.await;
    }));
    match first_frame.await {
        Ok(true) => Some(GrpcChannel {
            sender,
            _connection: connection,
        }),
        _ => None,
    }
}

/// grpc-go `backoff.Exponential.Backoff`: exactly the base delay first, then
/// multiplied and jittered by ±20 %.
fn backoff_delay(retries: u32) -> Duration {
    if retries == 0 {
        return BASE_DELAY;
    }
    let mut delay = BASE_DELAY.as_secs_f64();
    for _ in 0..retries {
        if delay >= MAX_DELAY.as_secs_f64() {
            break;
        }
        delay *= MULTIPLIER;
    }
    delay = delay.min(MAX_DELAY.as_secs_f64());
    delay *= 1.0 + JITTER * (random_unit() * 2.0 - 1.0);
    Duration::from_secs_f64(delay.max(0.0))
}

/// A cheap value in [0, 1) for jitter; no cryptographic quality needed.
fn random_unit() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or(0);
    f64::from(nanos % 1_000_000) / 1_000_000.0
}

/// Passes bytes through and reports once whether the server's first frame is SETTINGS
/// (`false` for anything else, EOF or a read error).
struct FirstFrameWatch {
    stream: Option<Connection>,
    first_bytes: Vec<u8>,
    report: Option<oneshot::Sender<bool>>,
}

impl FirstFrameWatch {
    fn new(stream: Connection) -> (Self, oneshot::Receiver<bool>) {
        let (report, receiver) = oneshot::channel();
        let watch = Self {
            stream: Some(stream),
            first_bytes: Vec::with_capacity(FRAME_HEADER_BYTES),
            report: Some(report),
        };
        (watch, receiver)
    }

    fn stream(&mut self) -> io::Result<Pin<&mut Connection>> {
        match self.stream.as_mut() {
            Some(stream) => Ok(Pin::new(stream)),
            None => Err(io::Error::from(io::ErrorKind::NotConnected)),
        }
    }

    fn observe(&mut self, received: &[u8]) {
        if self.report.is_none() {
            return;
        }
        if received.is_empty() {
            self.send(false);
            return;
        }
        let room = FRAME_HEADER_BYTES - self.first_bytes.len();
        self.first_bytes
            .extend_from_slice(&received[..received.len().min(room)]);
        if self.first_bytes.len() == FRAME_HEADER_BYTES {
            let header = &self.first_bytes;
            let stream_id =
                u32::from_be_bytes([header[5], header[6], header[7], header[8]]) & 0x7fff_ffff;
            let is_settings = header[3] == SETTINGS_FRAME_TYPE && stream_id == 0;
            self.send(is_settings);
        }
    }

    fn send(&mut self, is_settings: bool) {
        if let Some(report) = self.report.take() {
            let _ = report.send(is_settings);
        }
    }
}

impl AsyncRead for FirstFrameWatch {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = match self.stream() {
            Ok(stream) => stream.poll_read(cx, buf),
            Err(error) => return Poll::Ready(Err(error)),
        };
        match &polled {
            Poll::Ready(Ok(())) => self.observe(&buf.filled()[before..]),
            Poll::Ready(Err(_)) => self.send(false),
            Poll::Pending => {}
        }
        polled
    }
}

impl AsyncWrite for FirstFrameWatch {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.stream() {
            Ok(stream) => stream.poll_write(cx, data),
            Err(error) => Poll::Ready(Err(error)),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.stream() {
            Ok(stream) => stream.poll_flush(cx),
            Err(error) => Poll::Ready(Err(error)),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.stream() {
            Ok(stream) => stream.poll_shutdown(cx),
            Err(error) => Poll::Ready(Err(error)),
        }
    }
}

impl Drop for FirstFrameWatch {
    fn drop(&mut self) {
        if let Some(stream) = self.stream.take() {
            close_lingering(stream);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_follows_grpc_go_defaults() {
        assert_eq!(backoff_delay(0), Duration::from_secs(1));
        let second = backoff_delay(1).as_secs_f64();
        assert!((1.28..=1.92).contains(&second), "{second}");
        let late = backoff_delay(40).as_secs_f64();
        assert!((96.0..=144.0).contains(&late), "{late}");
    }
}
