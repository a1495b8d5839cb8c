//! Response bodies and helpers to build responses.

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::status_errors::ApiError;

/// The body type of every response: full or streamed (watch, log follow).
pub type BoxBody = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

pub(crate) const JSON: &str = "application/json";

pub(crate) fn full(bytes: impl Into<Bytes>) -> BoxBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// A JSON response with the given status and content type.
pub(crate) fn json_response(status: u16, content_type: &str, value: &Value) -> Response<BoxBody> {
    let mut bytes = serde_json::to_vec(value).unwrap_or_default();
    bytes.push(b'\n');
    let mut response = Response::new(full(bytes));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static(JSON)),
    );
    response
}

pub(crate) fn error_response(error: &ApiError) -> Response<BoxBody> {
    json_response(error.code, JSON, &error.to_status())
}

/// A streamed response fed through a channel; the sender sees `closed()` when the client
/// goes away.
pub(crate) fn channel_response(
    content_type: &str,
    capacity: usize,
) -> (mpsc::Sender<Bytes>, Response<BoxBody>) {
    let (sender, mut receiver) = mpsc::channel::<Bytes>(capacity);
    let stream = futures_util::stream::poll_fn(move |cx| {
        receiver
            .poll_recv(cx)
            .map(|item| item.map(|bytes| Ok::<_, std::io::Error>(Frame::data(bytes))))
    });
    let mut response = Response::new(BodyExt::boxed(StreamBody::new(stream)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static(JSON)),
    );
    (sender, response)
}
