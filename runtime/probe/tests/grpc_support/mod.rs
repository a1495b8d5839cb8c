//! Real loopback HTTP/2 (h2c) servers for the gRPC probe tests, built on hyper's
//! http2 server: each call is reported to the test and answered as scripted.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// One call as the server saw it.
#[derive(Debug, Clone)]
pub struct SeenCall {
    pub method: String,
    pub path: String,
    pub version: http::Version,
    pub headers: HeaderMap,
    /// The `service` of the framed `HealthCheckRequest`, if the body parsed.
    pub service: Option<String>,
}

impl SeenCall {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|value| value.to_str().unwrap().to_string())
    }
}

/// How the server answers one call.
pub enum Reply {
    /// `:status 200`, a `HealthCheckResponse{status}` message, trailers `grpc-status: 0`.
    Status(i32),
    /// Trailers-only answer (one HEADERS frame with END_STREAM).
    TrailersOnly { code: u32, message: &'static str },
    /// Any response made of these frames.
    Frames {
        status: u16,
        headers: Vec<(&'static str, &'static str)>,
        frames: Vec<Frame<Bytes>>,
    },
    /// Never answer.
    Hang,
}

pub type Script = Arc<dyn Fn(&SeenCall) -> Reply + Send + Sync>;

pub struct GrpcServer {
    pub addr: SocketAddr,
    calls: mpsc::UnboundedReceiver<SeenCall>,
}

impl GrpcServer {
    pub async fn start(script: impl Fn(&SeenCall) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener, Arc::new(script))
    }

    pub fn serve(listener: TcpListener, script: Script) -> Self {
        let addr = listener.local_addr().unwrap();
        let (report, calls) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let script = Arc::clone(&script);
                let report = report.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let script = Arc::clone(&script);
                        let report = report.clone();
                        async move { answer(request, script, report).await }
                    });
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, calls }
    }

    /// The next call, waiting at most 5 s.
    pub async fn next_call(&mut self) -> SeenCall {
        tokio::time::timeout(Duration::from_secs(5), self.calls.recv())
            .await
            .expect("no call within 5 s")
            .expect("server gone")
    }
}

async fn answer(
    request: Request<Incoming>,
    script: Script,
    report: mpsc::UnboundedSender<SeenCall>,
) -> Result<Response<FramesBody>, Infallible> {
    let (head, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let call = SeenCall {
        method: head.method.to_string(),
        path: head.uri.path().to_string(),
        version: head.version,
        headers: head.headers,
        service: parse_request(&body),
    };
    let reply = script(&call);
    let _ = report.send(call);
    let response = match reply {
        Reply::Status(status) => grpc_response(
            vec![Frame::data(response_frame(status))],
            &[("grpc-status", "0")],
        ),
        Reply::TrailersOnly { code, message } => Response::builder()
            .header("content-type", "application/grpc")
            .header("grpc-status", code.to_string())
            .header("grpc-message", message)
            .body(FramesBody::default())
            .unwrap(),
        Reply::Frames {
            status,
            headers,
            frames,
        } => {
            let mut builder = Response::builder().status(status);
            for (name, value) in headers {
                builder = builder.header(name, value);
            }
            builder.body(FramesBody(frames.into())).unwrap()
        }
        Reply::Hang => std::future::pending().await,
    };
    Ok(response)
}

fn grpc_response(mut frames: Vec<Frame<Bytes>>, trailers: &[(&str, &str)]) -> Response<FramesBody> {
    let mut map = HeaderMap::new();
    for (name, value) in trailers {
        map.append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    frames.push(Frame::trailers(map));
    Response::builder()
        .header("content-type", "application/grpc")
        .body(FramesBody(frames.into()))
        .unwrap()
}

/// A framed `HealthCheckResponse{status}`.
pub fn response_frame(status: i32) -> Bytes {
    let message: Vec<u8> = if status == 0 {
        Vec::new()
    } else {
        vec![0x08, status as u8]
    };
    let mut frame = vec![0];
    frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
    frame.extend_from_slice(&message);
    Bytes::from(frame)
}

/// `service` of a framed `HealthCheckRequest` (short names only).
fn parse_request(body: &[u8]) -> Option<String> {
    let length = u32::from_be_bytes(body.get(1..5)?.try_into().ok()?) as usize;
    let message = body.get(5..5 + length)?;
    if message.is_empty() {
        return Some(String::new());
    }
    let (&[0x0a, size], rest) = message.split_at_checked(2)? else {
        return None;
    };
    String::from_utf8(rest.get(..size as usize)?.to_vec()).ok()
}

/// A response body of scripted frames.
#[derive(Default)]
pub struct FramesBody(VecDeque<Frame<Bytes>>);

impl hyper::body::Body for FramesBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(Ok))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }
}
