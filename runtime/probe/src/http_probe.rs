//! `pkg/probe/http` `DoHTTPProbe` with the kubelet's client: a fresh connection per
//! request (keep-alives off), `Client.Timeout` over the whole exchange, same-hostname
//! redirects followed (at most 10 requests), 10 KiB body cap.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, Uri, Version};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::task::JoinHandle;
use tokio::time::{timeout_at, Instant};

use crate::dial::{dial, DialFailure};
use crate::go_text::{get_url_error, go_quote, go_quote_bytes};
use crate::http_request::{first_header_value, HttpGetRequest};
use crate::http_wire::WireHeaders;
use crate::network::Network;
use crate::outcome::ProbeOutcome;
use crate::probe_url::ProbeUrl;
use crate::recording_io::{IoLog, RecordingIo};
use crate::tls;

/// `maxRespBodyLength`: longer bodies are truncated, not an error.
pub const MAX_RESPONSE_BODY_BYTES: usize = 10 * 1024;

/// Go's redirect limit: the client gives up instead of sending an 11th request.
pub const MAX_REDIRECT_REQUESTS: usize = 10;

/// Go reads (and discards) this much of a redirect's body before following it.
const REDIRECT_BODY_SLURP_BYTES: usize = 2 * 1024;

/// `Client.Do` error cause when `Client.Timeout` expires before the response headers
/// (connect included: the dial runs under the request context, and Go's transport
/// reports the context's cause rather than the dialer's `i/o timeout`).
const AWAITING_HEADERS_TIMEOUT: &str =
    "context deadline exceeded (Client.Timeout exceeded while awaiting headers)";

/// Body read error when `Client.Timeout` expires while reading the body.
const READING_BODY_TIMEOUT: &str =
    "context deadline exceeded (Client.Timeout or context cancellation while reading body)";

/// Runs one HTTP probe; `timeout` bounds the whole exchange like Go's `Client.Timeout`.
pub async fn http_get(
    request: &HttpGetRequest,
    timeout: Duration,
    network: &Network,
) -> ProbeOutcome {
    let deadline = Instant::now() + timeout;
    let original = request.probe_url();
    let explicit_referer = first_header_value(&request.headers, "Referer")
        .filter(|value| !value.is_empty())
        .map(str::to_string);
    let mut current = original.clone();
    // Go's `req.Host`: the user's Host header on the first request.
    let mut host_header = first_header_value(&request.headers, "Host")
        .filter(|host| !host.is_empty())
        .map(str::to_string);
    let mut referer: Option<String> = None;
    let mut requests_sent = 0;

    loop {
        requests_sent += 1;
        let wire = WireHeaders {
            headers: &request.headers,
            host: host_header.as_deref().unwrap_or(&current.host),
            referer: referer.as_deref(),
        };
        let exchange = match timeout_at(deadline, send(&current, &wire, deadline, network)).await {
            Ok(Ok(exchange)) => exchange,
            Ok(Err(cause)) => {
                return ProbeOutcome::failure(get_url_error(&current.to_string(), &cause))
            }
            Err(_) => {
                return ProbeOutcome::failure(get_url_error(
                    &current.to_string(),
                    AWAITING_HEADERS_TIMEOUT,
                ))
            }
        };

        let status = exchange.response.status().as_u16();
        if !matches!(status, 301 | 302 | 303 | 307 | 308) {
            return evaluate(exchange, deadline).await;
        }
        let location = match exchange.response.headers().get(http::header::LOCATION) {
            Some(value) if !value.is_empty() => {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            }
            // A 3xx without Location is returned to the caller as is.
            _ => return evaluate(exchange, deadline).await,
        };
        let next = match current.resolve(&location) {
            Ok(next) => next,
            Err(reason) => {
                let cause = format!(
                    "failed to parse Location header {}: {reason}",
                    go_quote(&location)
                );
                return ProbeOutcome::failure(get_url_error(&current.to_string(), &cause));
            }
        };
        // Go keeps a custom Host across relative redirects (golang.org/issue/22233).
        host_header = host_header
            .filter(|host| *host != current.host && ProbeUrl::is_relative_reference(&location));
        referer = referer_for(&current, &next, explicit_referer.as_deref());

        // The kubelet's RedirectChecker(followNonLocalRedirects=false).
        if next.hostname() != original.hostname() {
            return evaluate(exchange, deadline).await;
        }
        slurp_redirect_body(exchange, deadline).await;
        if requests_sent >= MAX_REDIRECT_REQUESTS {
            // Go reports the raw Location value as the url.Error URL here.
            return ProbeOutcome::failure(get_url_error(&location, "stopped after 10 redirects"));
        }
        current = next;
    }
}

/// Go's `refererForURL`: no Referer from https to http; an explicit one wins.
fn referer_for(last: &ProbeUrl, next: &ProbeUrl, explicit: Option<&str>) -> Option<String> {
    if last.scheme == "https" && next.scheme == "http" {
        return None;
    }
    Some(explicit.map_or_else(|| last.to_string(), str::to_string))
}

/// One request on one fresh connection, up to the response headers.
struct Exchange {
    response: Response<Incoming>,
    log: Arc<IoLog>,
    _connection: ConnectionTask,
}

/// Drives the hyper connection; aborting it closes the socket.
struct ConnectionTask(JoinHandle<()>);

impl Drop for ConnectionTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Sends one GET; the error is the cause part of Go's `url.Error`.
async fn send(
    url: &ProbeUrl,
    wire: &WireHeaders<'_>,
    deadline: Instant,
    network: &Network,
) -> Result<Exchange, String> {
    let use_tls = match url.scheme.as_str() {
        "http" => false,
        "https" => true,
        other => return Err(format!("unsupported protocol scheme {}", go_quote(other))),
    };
    let headers = wire.to_header_map()?;
    if url.host.is_empty() {
        return Err("http: no Host in request URL".into());
    }
    let target: Uri = url.request_target().parse().map_err(|_| {
        format!(
            "net/http: invalid request target {}",
            go_quote(&url.request_target())
        )
    })?;
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(target)
        .version(Version::HTTP_11)
        .body(Empty::<Bytes>::new())
        .map_err(|error| error.to_string())?;
    *request.headers_mut() = headers;

    let (hostname, port) = url.dial_target();
    let port = port.ok_or_else(|| format!("dial tcp: address {}: invalid port", url.host))?;
    let stream = match dial(&hostname, port, deadline, network).await {
        Ok(stream) => stream,
        Err(DialFailure::Failed(text)) => return Err(text),
        Err(DialFailure::TimedOut { .. }) => return Err(AWAITING_HEADERS_TIMEOUT.into()),
    };
    let (io, log) = RecordingIo::new(stream);
    if use_tls {
        let tls_stream = tls::connect(io, &hostname, &log).await?;
        request_over(TokioIo::new(tls_stream), request, log).await
    } else {
        request_over(TokioIo::new(io), request, log).await
    }
}

/// One HTTP/1.1 exchange over an established (plain or TLS) connection.
async fn request_over<T>(
    io: T,
    request: Request<Empty<Bytes>>,
    log: Arc<IoLog>,
) -> Result<Exchange, String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::Builder::new()
        .title_case_headers(true)
        .handshake::<_, Empty<Bytes>>(io)
        .await
        .map_err(|error| transport_error_text(&error, &log))?;
    let connection = ConnectionTask(tokio::spawn(async move {
        let _ = connection.await;
    }));
    let response = sender
        .send_request(request)
        .await
        .map_err(|error| transport_error_text(&error, &log))?;
    Ok(Exchange {
        response,
        log,
        _connection: connection,
    })
}

/// Go's text for a failure before/while reading the response head.
fn transport_error_text(error: &hyper::Error, log: &IoLog) -> String {
    if let Some(text) = log.first_error() {
        return text;
    }
    if error.is_parse() || error.is_parse_status() || error.is_parse_too_large() {
        return format!(
            "net/http: HTTP/1.x transport connection broken: malformed HTTP response {}",
            go_quote_bytes(&log.first_line())
        );
    }
    if error.is_incomplete_message() || error.is_closed() || error.is_canceled() {
        // A server that closes without answering: Go's Peek returns io.EOF.
        return match log.bytes_read() {
            0 => "EOF".into(),
            _ => "unexpected EOF".into(),
        };
    }
    error.to_string()
}

/// `DoHTTPProbe` after `client.Do` succeeded: read at most 10 KiB, map the status.
async fn evaluate(exchange: Exchange, deadline: Instant) -> ProbeOutcome {
    let status = exchange.response.status().as_u16();
    let body = match read_body(exchange, MAX_RESPONSE_BODY_BYTES, deadline).await {
        Ok(body) => body,
        // A body read error is a probe *error* (retried, then discarded by the kubelet).
        Err(text) => return ProbeOutcome::failure_with_error(text),
    };
    let body = String::from_utf8_lossy(&body);
    match status {
        200..=299 => ProbeOutcome::success(body),
        300..=399 => {
            ProbeOutcome::warning(format!("Probe terminated redirects, Response body: {body}"))
        }
        // The body is deliberately left out (kubernetes issue 99425).
        _ => ProbeOutcome::failure(format!("HTTP probe failed with statuscode: {status}")),
    }
}

/// Go closes a followed redirect after `io.CopyN(io.Discard, body, 2048)`; errors ignored.
async fn slurp_redirect_body(exchange: Exchange, deadline: Instant) {
    let declared_small = exchange
        .response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok())
        .is_none_or(|length| length <= REDIRECT_BODY_SLURP_BYTES as u64);
    if declared_small {
        let _ = read_body(exchange, REDIRECT_BODY_SLURP_BYTES, deadline).await;
    }
}

/// Reads up to `limit` bytes of the body before `deadline`; the error is Go's text.
async fn read_body(exchange: Exchange, limit: usize, deadline: Instant) -> Result<Vec<u8>, String> {
    let Exchange {
        response,
        log,
        _connection,
    } = exchange;
    let mut body = response.into_body();
    let mut collected = Vec::new();
    while collected.len() < limit {
        let frame = match timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(READING_BODY_TIMEOUT.into()),
            Ok(None) => break,
            Ok(Some(Err(error))) => return Err(body_error_text(&error, &log)),
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            collected.extend_from_slice(&data);
        }
    }
    collected.truncate(limit);
    Ok(collected)
}

fn body_error_text(error: &hyper::Error, log: &IoLog) -> String {
    if let Some(text) = log.first_error() {
        return text;
    }
    if error.is_incomplete_message() || error.is_body_write_aborted() || is_unexpected_eof(error) {
        return "unexpected EOF".into();
    }
    error.to_string()
}

fn is_unexpected_eof(error: &hyper::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(current) = source {
        if let Some(io_error) = current.downcast_ref::<std::io::Error>() {
            return io_error.kind() == std::io::ErrorKind::UnexpectedEof;
        }
        source = current.source();
    }
    false
}
