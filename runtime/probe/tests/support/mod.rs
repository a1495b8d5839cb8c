//! Real loopback servers for the probe tests: each connection's request head is
//! reported to the test, and the reply is scripted per request.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, HTTPGetAction, HTTPHeader};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc;
use wasmpod_probe::{HttpGetRequest, Network, ProbeOutcome};

/// What the server does after reading a request head.
pub enum Reply {
    /// Write these bytes, then close.
    Bytes(Vec<u8>),
    /// Write these bytes, then keep the connection open without writing more.
    BytesThenHang(Vec<u8>),
    /// Never answer; keep the connection open.
    Hang,
    /// Close without answering (clean FIN).
    Close,
    /// Abort with RST.
    Reset,
}

/// One request as the server saw it.
#[derive(Debug)]
pub struct SeenRequest {
    pub head: String,
    pub peer: SocketAddr,
}

impl SeenRequest {
    pub fn target(&self) -> &str {
        self.head.split(' ').nth(1).unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Vec<String> {
        self.head
            .split("\r\n")
            .skip(1)
            .filter_map(|line| line.split_once(": "))
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.to_string())
            .collect()
    }
}

pub struct Server {
    pub addr: SocketAddr,
    seen: mpsc::UnboundedReceiver<SeenRequest>,
}

impl Server {
    /// Serves on `ip:0`; `reply` picks the reply for each request head.
    pub async fn start(
        ip: &str,
        reply: impl Fn(&SeenRequest) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind((ip, 0)).await.expect("bind test server");
        let addr = listener.local_addr().unwrap();
        let (sender, seen) = mpsc::unbounded_channel();
        let reply = Arc::new(reply);
        tokio::spawn(async move {
            while let Ok((stream, peer)) = listener.accept().await {
                let sender = sender.clone();
                let reply = Arc::clone(&reply);
                tokio::spawn(async move { serve(stream, peer, sender, reply.as_ref()).await });
            }
        });
        Self { addr, seen }
    }

    /// Like [`Server::start`], behind TLS with a fresh self-signed certificate.
    pub async fn start_tls(
        ip: &str,
        reply: impl Fn(&SeenRequest) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let acceptor = tls_acceptor();
        let listener = TcpListener::bind((ip, 0)).await.expect("bind test server");
        let addr = listener.local_addr().unwrap();
        let (sender, seen) = mpsc::unbounded_channel();
        let reply = Arc::new(reply);
        tokio::spawn(async move {
            while let Ok((stream, peer)) = listener.accept().await {
                let sender = sender.clone();
                let reply = Arc::clone(&reply);
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(stream).await {
                        serve(tls, peer, sender, reply.as_ref()).await;
                    }
                });
            }
        });
        Self { addr, seen }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// All requests seen so far (the probe has finished when this is called).
    pub fn requests(&mut self) -> Vec<SeenRequest> {
        let mut all = Vec::new();
        while let Ok(request) = self.seen.try_recv() {
            all.push(request);
        }
        all
    }
}

/// A server-side connection the tests can abort with RST.
pub trait TestStream: AsyncRead + AsyncWrite + Unpin + Send {
    fn abort(self);
}

impl TestStream for TcpStream {
    fn abort(self) {
        let _ = self.set_zero_linger();
    }
}

impl TestStream for tokio_rustls::server::TlsStream<TcpStream> {
    fn abort(self) {
        let _ = self.get_ref().0.set_zero_linger();
    }
}

fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])
        .expect("self-signed certificate");
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .expect("server certificate");
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

async fn serve<S: TestStream>(
    mut stream: S,
    peer: SocketAddr,
    sender: mpsc::UnboundedSender<SeenRequest>,
    reply: &(dyn Fn(&SeenRequest) -> Reply + Send + Sync),
) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
    let seen = SeenRequest {
        head: String::from_utf8_lossy(&head).into_owned(),
        peer,
    };
    let action = reply(&seen);
    let _ = sender.send(seen);
    match action {
        Reply::Bytes(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Reply::BytesThenHang(bytes) => {
            let _ = stream.write_all(&bytes).await;
            hang(stream).await;
        }
        Reply::Hang => hang(stream).await,
        Reply::Close => drop(stream),
        Reply::Reset => stream.abort(),
    }
}

/// Keeps the connection open until the client goes away.
async fn hang<S: TestStream>(mut stream: S) {
    let mut sink = [0u8; 1024];
    while let Ok(n) = stream.read(&mut sink).await {
        if n == 0 {
            break;
        }
    }
}

pub fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut text = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A probe request for `addr` + `path`, with the given user headers.
pub fn probe_request(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> HttpGetRequest {
    let action = HTTPGetAction {
        path: Some(path.to_string()),
        port: IntOrString::Int(i32::from(addr.port())),
        http_headers: Some(
            headers
                .iter()
                .map(|(name, value)| HTTPHeader {
                    name: (*name).to_string(),
                    value: (*value).to_string(),
                })
                .collect(),
        ),
        ..Default::default()
    };
    HttpGetRequest::new(&action, &addr.ip().to_string(), &Container::default()).expect("request")
}

/// A port on `ip` where nothing listens (bound, then released).
pub async fn closed_port(ip: &str) -> SocketAddr {
    let listener = TcpListener::bind((ip, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr
}

/// A listener whose accept queue is full, so further SYNs are dropped and connects
/// hang. Returns `None` if the kernel does not behave that way here.
pub struct SaturatedListener {
    pub addr: SocketAddr,
    _listener: tokio::net::TcpListener,
    _queued: Vec<TcpStream>,
}

pub async fn saturated_listener() -> Option<SaturatedListener> {
    let socket = TcpSocket::new_v4().ok()?;
    socket.bind("127.0.0.1:0".parse().unwrap()).ok()?;
    let listener = socket.listen(0).ok()?;
    let addr = listener.local_addr().ok()?;
    let mut queued = Vec::new();
    for _ in 0..64 {
        match tokio::time::timeout(Duration::from_millis(300), TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => queued.push(stream),
            Ok(Err(_)) => return None,
            // This connect hung: the queue is full.
            Err(_) => {
                return Some(SaturatedListener {
                    addr,
                    _listener: listener,
                    _queued: queued,
                })
            }
        }
    }
    None
}

// The handlers on the host network; `memory_network.rs` runs them over in-process streams.

pub async fn http_get(request: &HttpGetRequest, timeout: Duration) -> ProbeOutcome {
    wasmpod_probe::http_get(request, timeout, &Network::host()).await
}

pub async fn tcp_socket(host: &str, port: u16, timeout: Duration) -> ProbeOutcome {
    wasmpod_probe::tcp_socket(host, port, timeout, &Network::host()).await
}

pub async fn grpc(host: &str, port: u16, service: &str, timeout: Duration) -> ProbeOutcome {
    wasmpod_probe::grpc(host, port, service, timeout, &Network::host()).await
}
