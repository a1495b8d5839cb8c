//! A TCP stream wrapper that remembers what Go's `net.Conn` would have reported:
//! the first read/write error as an `OpError` text, and the first bytes received
//! (Go quotes the first line of a malformed response).

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use crate::network::Connection;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::dial::{close_lingering, go_addr};
use crate::go_text::errno_text;

const FIRST_LINE_LIMIT: usize = 512;

#[derive(Debug, Default)]
pub(crate) struct IoLog {
    state: Mutex<IoLogState>,
}

#[derive(Debug, Default)]
struct IoLogState {
    first_error: Option<String>,
    bytes_read: u64,
    first_line: Vec<u8>,
}

impl IoLog {
    pub fn first_error(&self) -> Option<String> {
        self.lock().first_error.clone()
    }

    pub fn bytes_read(&self) -> u64 {
        self.lock().bytes_read
    }

    /// The first line received, without its line terminator.
    pub fn first_line(&self) -> Vec<u8> {
        let state = self.lock();
        let line = &state.first_line;
        let end = line.iter().position(|&b| b == b'\n').unwrap_or(line.len());
        let line = &line[..end];
        line.strip_suffix(b"\r").unwrap_or(line).to_vec()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, IoLogState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record_read(&self, data: &[u8]) {
        let mut state = self.lock();
        state.bytes_read += data.len() as u64;
        if !state.first_line.contains(&b'\n') && state.first_line.len() < FIRST_LINE_LIMIT {
            let room = FIRST_LINE_LIMIT - state.first_line.len();
            state
                .first_line
                .extend_from_slice(&data[..data.len().min(room)]);
        }
    }

    fn record_error(&self, text: String) {
        self.lock().first_error.get_or_insert(text);
    }
}

pub(crate) struct RecordingIo {
    stream: Option<Connection>,
    /// `<local>-><remote>` as Go prints it in `OpError`s.
    endpoints: String,
    log: Arc<IoLog>,
}

impl RecordingIo {
    pub fn new(stream: Connection) -> (Self, Arc<IoLog>) {
        let endpoints = format!(
            "{}->{}",
            go_addr(&stream.local_addr()),
            go_addr(&stream.peer_addr())
        );
        let log = Arc::new(IoLog::default());
        let io = Self {
            stream: Some(stream),
            endpoints,
            log: Arc::clone(&log),
        };
        (io, log)
    }

    fn stream(&mut self) -> io::Result<Pin<&mut Connection>> {
        match self.stream.as_mut() {
            Some(stream) => Ok(Pin::new(stream)),
            None => Err(io::Error::from(io::ErrorKind::NotConnected)),
        }
    }

    fn op_error(&self, op: &str, error: &io::Error) -> String {
        format!("{op} tcp {}: {op}: {}", self.endpoints, errno_text(error))
    }
}

impl AsyncRead for RecordingIo {
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
            Poll::Ready(Ok(())) => self.log.record_read(&buf.filled()[before..]),
            Poll::Ready(Err(error)) => self.log.record_error(self.op_error("read", error)),
            Poll::Pending => {}
        }
        polled
    }
}

impl AsyncWrite for RecordingIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = match self.stream() {
            Ok(stream) => stream.poll_write(cx, data),
            Err(error) => return Poll::Ready(Err(error)),
        };
        if let Poll::Ready(Err(error)) = &polled {
            self.log.record_error(self.op_error("write", error));
        }
        polled
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

impl Drop for RecordingIo {
    fn drop(&mut self) {
        if let Some(stream) = self.stream.take() {
            close_lingering(stream);
        }
    }
}
