//! The HTTP(S) client: hyper over rustls with the ring provider and the system's trust roots
//! (`SSL_CERT_FILE`/`SSL_CERT_DIR` honoured, as by OpenSSL; Mozilla's roots where the system
//! has none), redirects followed (auth headers only to the registry host itself).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::error::{go_method, RegistryError, Stage};

const MAX_REDIRECTS: usize = 10;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub(crate) struct Transport {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    user_agent: HeaderValue,
}

/// A response with the URL that produced it (after redirects).
pub(crate) struct Fetched {
    pub response: Response<Incoming>,
    pub method: Method,
    pub url: String,
}

impl Transport {
    pub(crate) fn new(user_agent: &str) -> Transport {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = system_roots();
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring provides TLS 1.2 and 1.3 cipher suites")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Transport {
            client: Client::builder(TokioExecutor::new()).build(https),
            user_agent: HeaderValue::from_str(user_agent)
                .unwrap_or_else(|_| HeaderValue::from_static("wasmpod")),
        }
    }

    /// Sends one request, following redirects. `authorization` goes only to `auth_host`.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &HeaderMap,
        body: Bytes,
        authorization: Option<(&str, &HeaderValue)>,
        stage: Stage,
    ) -> Result<Fetched, RegistryError> {
        let mut url = url.to_string();
        let mut method = method;
        for _ in 0..=MAX_REDIRECTS {
            let uri: Uri = url.parse().map_err(|e| RegistryError::Transport {
                stage,
                message: format!("invalid URL {url:?}: {e}"),
            })?;
            let mut request = Request::builder().method(method.clone()).uri(uri.clone());
            for (name, value) in headers {
                request = request.header(name, value);
            }
            request = request.header(header::USER_AGENT, self.user_agent.clone());
            if let Some((auth_host, value)) = authorization {
                if uri.authority().map(|a| a.as_str()) == Some(auth_host) {
                    request = request.header(header::AUTHORIZATION, value.clone());
                }
            }
            let request = request
                .body(Full::new(body.clone()))
                .map_err(|e| transport_error(stage, &method, &url, &e))?;
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| transport_error(stage, &method, &url, &e))?;
            if !response.status().is_redirection() {
                return Ok(Fetched {
                    response,
                    method,
                    url,
                });
            }
            let Some(location) = response
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
            else {
                return Ok(Fetched {
                    response,
                    method,
                    url,
                });
            };
            url = resolve_location(&uri, location);
            if response.status() == StatusCode::SEE_OTHER && method != Method::HEAD {
                method = Method::GET;
            }
        }
        Err(RegistryError::Transport {
            stage,
            message: format!(
                "failed to do request: {} {url:?}: stopped after 10 redirects",
                go_method(&method)
            ),
        })
    }
}

/// containerd: `failed to do request: Head "http://…": <cause chain>`.
fn transport_error(
    stage: Stage,
    method: &Method,
    url: &str,
    error: &dyn std::error::Error,
) -> RegistryError {
    let mut message = format!(
        "failed to do request: {} {url:?}: {error}",
        go_method(method)
    );
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    RegistryError::Transport { stage, message }
}

/// A `Location` (absolute, absolute-path or relative) against the request URI.
pub(crate) fn resolve_location(base: &Uri, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_string();
    }
    let scheme = base.scheme_str().unwrap_or("https");
    let authority = base.authority().map(|a| a.as_str()).unwrap_or_default();
    if location.starts_with("//") {
        return format!("{scheme}:{location}");
    }
    if location.starts_with('/') {
        return format!("{scheme}://{authority}{location}");
    }
    let directory = base
        .path()
        .rsplit_once('/')
        .map(|(dir, _)| dir)
        .unwrap_or_default();
    format!("{scheme}://{authority}{directory}/{location}")
}

/// Reads a whole body, refusing more than `limit` bytes; `progress` sees the running total.
pub(crate) async fn read_body(
    response: Response<Incoming>,
    limit: u64,
    stage: Stage,
    url: &str,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Vec<u8>, RegistryError> {
    let mut body = response.into_body();
    let mut content = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| RegistryError::Transport {
            stage,
            message: format!("reading {url}: {e}"),
        })?;
        if let Ok(data) = frame.into_data() {
            content.extend_from_slice(&data);
            if content.len() as u64 > limit {
                // The digest check will refuse it; stop before an endless body eats memory.
                break;
            }
            progress(content.len() as u64);
        }
    }
    Ok(content)
}

/// The system's CA certificates, read once per client: a registry's certificate is trusted
/// exactly when `curl` or `docker` on this machine would trust it.
fn system_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    let (added, _unparsable) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    roots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_resolve_like_browsers() {
        let base: Uri = "http://127.0.0.1:5000/v2/app/blobs/uploads/"
            .parse()
            .unwrap();
        assert_eq!(
            resolve_location(&base, "/v2/app/blobs/uploads/u1?_state=x"),
            "http://127.0.0.1:5000/v2/app/blobs/uploads/u1?_state=x"
        );
        assert_eq!(
            resolve_location(&base, "https://cdn.example/b"),
            "https://cdn.example/b"
        );
        assert_eq!(
            resolve_location(&base, "u2"),
            "http://127.0.0.1:5000/v2/app/blobs/uploads/u2"
        );
    }
}
