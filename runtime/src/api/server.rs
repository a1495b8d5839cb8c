use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::node::{Node, NodeError};

pub(super) type Body = BoxBody<Bytes, Infallible>;

pub struct ApiServer {
    pub address: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ApiServer {
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

/// Serves the API for `node` on `listen` (port 0 picks one).
pub async fn serve(node: Node, listen: SocketAddr) -> std::io::Result<ApiServer> {
    let listener = TcpListener::bind(listen).await?;
    let address = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let node = node.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let node = node.clone();
                    async move { Ok::<_, Infallible>(route(&node, request).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(ApiServer { address, task })
}

pub(super) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

pub(super) fn json_response(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut response = Response::new(full(serde_json::to_vec(value).unwrap_or_default()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        "application/json".parse().expect("static"),
    );
    response
}

/// A `metav1.Status` failure, as the API server sends it.
pub(super) fn status_error(code: StatusCode, reason: &str, message: &str) -> Response<Body> {
    json_response(
        code,
        &json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code.as_u16(),
        }),
    )
}

pub(super) fn node_error(error: &NodeError) -> Response<Body> {
    let (code, reason) = match error {
        NodeError::NotFound { .. } => (StatusCode::NOT_FOUND, "NotFound"),
        NodeError::AlreadyExists { .. } => (StatusCode::CONFLICT, "AlreadyExists"),
        NodeError::NoSuchContainer { .. } | NodeError::ContainerNameRequired { .. } => {
            (StatusCode::BAD_REQUEST, "BadRequest")
        }
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "InternalError"),
    };
    status_error(code, reason, &error.to_string())
}

fn list(kind: &str, items: Vec<serde_json::Value>) -> serde_json::Value {
    json!({
        "kind": kind,
        "apiVersion": "v1",
        "metadata": { "resourceVersion": "" },
        "items": items,
    })
}

async fn route(node: &Node, request: Request<Incoming>) -> Response<Body> {
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or_default().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let store = node.store();
    match (request.method(), segments.as_slice()) {
        (&Method::GET, ["version"]) => json_response(
            StatusCode::OK,
            &json!({
                "major": "1",
                "minor": "33",
                "gitVersion": concat!("v1.33.0-wasmpod.", env!("CARGO_PKG_VERSION")),
                "platform": "linux/amd64",
            }),
        ),
        (&Method::GET, ["api", "v1", "pods"]) => pod_list(store.pods(None)),
        (&Method::GET, ["api", "v1", "namespaces", ns, "pods"]) => pod_list(store.pods(Some(ns))),
        (&Method::GET, ["api", "v1", "namespaces", ns, "pods", name]) => {
            match store.pod(ns, name) {
                Some(pod) => json_response(
                    StatusCode::OK,
                    &serde_json::to_value(pod).unwrap_or_default(),
                ),
                None => node_error(&NodeError::NotFound {
                    name: name.to_string(),
                }),
            }
        }
        (&Method::DELETE, ["api", "v1", "namespaces", ns, "pods", name]) => {
            let Some(pod) = store.pod(ns, name) else {
                return node_error(&NodeError::NotFound {
                    name: name.to_string(),
                });
            };
            let grace = query_value(&query, "gracePeriodSeconds").and_then(|v| v.parse().ok());
            match node.delete_pod(ns, name, grace) {
                Ok(()) => json_response(
                    StatusCode::OK,
                    &serde_json::to_value(pod).unwrap_or_default(),
                ),
                Err(error) => node_error(&error),
            }
        }
        (&Method::GET, ["api", "v1", "namespaces", ns, "pods", name, "log"]) => {
            super::logs::pod_log(node, ns, name, &query).await
        }
        (&Method::GET, ["api", "v1", "events"]) => event_list(store.events(None)),
        (&Method::GET, ["api", "v1", "namespaces", ns, "events"]) => {
            event_list(store.events(Some(ns)))
        }
        _ => status_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!(
                "the server could not find the requested resource ({} {path})",
                request.method()
            ),
        ),
    }
}

fn pod_list(pods: Vec<k8s_openapi::api::core::v1::Pod>) -> Response<Body> {
    let items = pods
        .into_iter()
        .map(|p| serde_json::to_value(p).unwrap_or_default())
        .collect();
    json_response(StatusCode::OK, &list("PodList", items))
}

fn event_list(events: Vec<k8s_openapi::api::core::v1::Event>) -> Response<Body> {
    let items = events
        .into_iter()
        .map(|e| serde_json::to_value(e).unwrap_or_default())
        .collect();
    json_response(StatusCode::OK, &list("EventList", items))
}

/// The (percent-decoded) value of `key` in a query string.
pub(super) fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then(|| percent_decode(v))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&text[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
