//! The accept loop every server subcommand shares: a non-blocking listener polled every
//! 20 ms, one connection at a time (wasm32-wasip2 has no threads), and the container's stop
//! request checked between accepts.

use crate::gotext;
use crate::http::{read_request, Request, RequestError, Response};
use std::io::{self, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const ACCEPT_POLL: Duration = Duration::from_millis(20);
/// A client that connects and sends nothing must not block the only thread for long.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// One step of a streamed (chunked) answer: a chunk to write and flush, or a pause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Write(Vec<u8>),
    Sleep(Duration),
}

/// What a handler wants done with the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Respond(Response),
    /// Status line and headers at once, then the steps as chunks; `cut` closes the connection
    /// without the final chunk (Go's Hijack-and-Close).
    Stream {
        head: Response,
        steps: Vec<Step>,
        cut: bool,
    },
    /// Answer, then end the process with this code (Go's graceful shutdown then os.Exit).
    RespondThenExit(Response, i32),
    /// End the process at once; the client gets no answer (Go's os.Exit inside a handler).
    ExitNow(i32),
    /// Close the connection without an answer.
    Disconnect,
    /// Bytes relayed as they are (a proxied upstream answer).
    Raw(Vec<u8>),
}

/// What to do once the container is asked to stop: keep serving for `serve_for`, then exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drain {
    pub serve_for: Duration,
    pub exit_code: i32,
}

impl Drain {
    /// A Go binary without a SIGTERM handler running as PID 1: the runtime's fallback exits 2.
    pub const GO_DEFAULT_SIGTERM: Drain = Drain {
        serve_for: Duration::ZERO,
        exit_code: 2,
    };
}

pub trait App {
    fn handle(&mut self, request: &Request, peer: SocketAddr) -> Outcome;
    /// Called once, when the stop request is first seen.
    fn on_stop(&mut self) -> Drain;
    /// Raw TCP mode (serve-hostname --tcp): bytes written to each connection before closing,
    /// without reading a request.
    fn raw_reply(&self) -> Option<Vec<u8>> {
        None
    }
    /// A connection on the second port of [`serve_with_side`] (its own protocol).
    fn side_connection(&mut self, _stream: TcpStream) {}
}

/// Binds `0.0.0.0:port` (wasmpod rewrites it to the pod IP).
pub fn bind(port: u16) -> io::Result<TcpListener> {
    TcpListener::bind(("0.0.0.0", port))
}

/// Serves until the app exits or the drain after a stop request ends; returns the exit code.
pub fn serve(listener: &TcpListener, app: &mut dyn App, stop_requested: &dyn Fn() -> bool) -> i32 {
    serve_with_side(listener, None, app, stop_requested)
}

/// Like [`serve`], also taking connections on `side` for [`App::side_connection`].
pub fn serve_with_side(
    listener: &TcpListener,
    side: Option<&TcpListener>,
    app: &mut dyn App,
    stop_requested: &dyn Fn() -> bool,
) -> i32 {
    for listener in std::iter::once(listener).chain(side) {
        if let Err(error) = listener.set_nonblocking(true) {
            log(&format!("non-blocking accept unavailable: {error}"));
        }
    }
    let mut drain: Option<(Instant, i32)> = None;
    loop {
        match drain {
            None if stop_requested() => {
                let plan = app.on_stop();
                if plan.serve_for.is_zero() {
                    return plan.exit_code;
                }
                drain = Some((Instant::now() + plan.serve_for, plan.exit_code));
            }
            Some((deadline, code)) if Instant::now() >= deadline => return code,
            _ => {}
        }
        if let Some(Ok((stream, _))) = side.map(|side| side.accept()) {
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
            app.side_connection(stream);
            continue;
        }
        match listener.accept() {
            Ok((stream, peer)) => {
                if let Some(code) = answer(stream, peer, app) {
                    return code;
                }
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(ACCEPT_POLL)
            }
            Err(error) => {
                log(&format!("accept: {error}"));
                std::thread::sleep(ACCEPT_POLL);
            }
        }
    }
}

/// Handles one connection; `Some(code)` when the process should end.
fn answer(stream: TcpStream, peer: SocketAddr, app: &mut dyn App) -> Option<i32> {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    let mut stream = stream;
    if let Some(bytes) = app.raw_reply() {
        let _ = stream.write_all(&bytes);
        return None;
    }
    let request = match read_request(&mut BufReader::new(&stream)) {
        Ok(request) => request,
        Err(RequestError::Malformed(reason)) => {
            // Go answers unparsable requests itself, before any handler.
            let text = format!("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request: {reason}");
            let _ = stream.write_all(text.as_bytes());
            return None;
        }
        Err(RequestError::Closed | RequestError::Io(_)) => return None,
    };
    let date = gotext::http_date(unix_now().as_secs() as i64);
    match app.handle(&request, peer) {
        Outcome::Respond(response) => {
            let _ = stream.write_all(&response.to_bytes(&request.method, &date));
            None
        }
        Outcome::RespondThenExit(response, code) => {
            let _ = stream.write_all(&response.to_bytes(&request.method, &date));
            let _ = stream.flush();
            Some(code)
        }
        Outcome::Stream { head, steps, cut } => {
            let _ = stream_chunks(&mut stream, &head, &steps, cut, &date);
            None
        }
        Outcome::ExitNow(code) => Some(code),
        Outcome::Disconnect => None,
        Outcome::Raw(bytes) => {
            let _ = stream.write_all(&bytes);
            None
        }
    }
}

fn stream_chunks(
    stream: &mut TcpStream,
    head: &Response,
    steps: &[Step],
    cut: bool,
    date: &str,
) -> io::Result<()> {
    stream.write_all(&head.head_bytes(None, date))?;
    stream.flush()?;
    for step in steps {
        match step {
            Step::Write(bytes) if !bytes.is_empty() => {
                stream.write_all(format!("{:x}\r\n", bytes.len()).as_bytes())?;
                stream.write_all(bytes)?;
                stream.write_all(b"\r\n")?;
                stream.flush()?;
            }
            Step::Write(_) => {}
            Step::Sleep(duration) => std::thread::sleep(*duration),
        }
    }
    if !cut {
        stream.write_all(b"0\r\n\r\n")?;
    }
    stream.flush()
}

pub fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Go's `log.Printf`: `2006/01/02 15:04:05 message` on stderr.
pub fn log(message: &str) {
    let stamp = gotext::log_timestamp(unix_now().as_secs() as i64);
    let newline = if message.ends_with('\n') { "" } else { "\n" };
    eprint!("{stamp} {message}{newline}");
}

/// The pod name (the host sets HOSTNAME, as the kernel's uname does in a real pod).
pub fn hostname() -> String {
    std::env::var("HOSTNAME").unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    struct Echo;

    impl App for Echo {
        fn handle(&mut self, request: &Request, _peer: SocketAddr) -> Outcome {
            match request.path.as_str() {
                "/exit" => Outcome::RespondThenExit(Response::ok("bye"), 7),
                "/stream" => Outcome::Stream {
                    head: Response::new(200, Vec::new()),
                    steps: vec![Step::Write(b"ab".to_vec()), Step::Write(b"c".to_vec())],
                    cut: false,
                },
                path => Outcome::Respond(Response::ok(path.to_string())),
            }
        }
        fn on_stop(&mut self) -> Drain {
            Drain {
                serve_for: Duration::ZERO,
                exit_code: 3,
            }
        }
    }

    fn get(address: SocketAddr, path: &str) -> String {
        let mut stream = TcpStream::connect(address).expect("connect");
        write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        answer
    }

    #[test]
    fn serves_on_loopback_until_a_handler_exits() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        let server = std::thread::spawn(move || serve(&listener, &mut Echo, &|| false));
        let answer = get(address, "/hello");
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.ends_with("\r\n\r\n/hello"), "{answer}");
        let streamed = get(address, "/stream");
        assert!(streamed.contains("Transfer-Encoding: chunked\r\n"));
        assert!(
            streamed.ends_with("\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n"),
            "{streamed}"
        );
        let answer = get(address, "/exit");
        assert!(answer.ends_with("bye"));
        assert_eq!(server.join().expect("server thread"), 7);
    }

    #[test]
    fn stop_request_ends_the_loop_with_the_apps_code() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let server = std::thread::spawn(move || {
            serve(&listener, &mut Echo, &|| flag.load(Ordering::SeqCst))
        });
        stop.store(true, Ordering::SeqCst);
        assert_eq!(server.join().expect("server thread"), 3);
    }
}
