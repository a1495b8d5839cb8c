//! grpc-go's client-side view of a response: status codes and their texts, the checks
//! `http2Client.operateHeaders` applies to response headers and trailers, and the
//! `grpc-timeout` header it sends.

use std::time::Duration;

use http::HeaderMap;

use crate::go_text::go_quote;

/// A `codes.Code` number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Code(pub u32);

impl Code {
    pub const OK: Code = Code(0);
    pub const CANCELED: Code = Code(1);
    pub const UNKNOWN: Code = Code(2);
    pub const DEADLINE_EXCEEDED: Code = Code(4);
    pub const PERMISSION_DENIED: Code = Code(7);
    pub const RESOURCE_EXHAUSTED: Code = Code(8);
    pub const UNIMPLEMENTED: Code = Code(12);
    pub const INTERNAL: Code = Code(13);
    pub const UNAVAILABLE: Code = Code(14);
    pub const UNAUTHENTICATED: Code = Code(16);

    /// `codes.Code.String()`.
    pub fn go_name(self) -> String {
        const NAMES: [&str; 17] = [
            "OK",
            "Canceled",
            "Unknown",
            "InvalidArgument",
            "DeadlineExceeded",
            "NotFound",
            "AlreadyExists",
            "PermissionDenied",
            "ResourceExhausted",
            "FailedPrecondition",
            "Aborted",
            "OutOfRange",
            "Unimplemented",
            "Internal",
            "Unavailable",
            "DataLoss",
            "Unauthenticated",
        ];
        match NAMES.get(self.0 as usize) {
            Some(name) => (*name).to_string(),
            None => format!("Code({})", self.0),
        }
    }
}

/// A `status.Status` (`code` + `message`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RpcStatus {
    pub code: Code,
    pub message: String,
}

impl RpcStatus {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// `status.Error(...).Error()`.
    pub fn error_text(&self) -> String {
        format!(
            "rpc error: code = {} desc = {}",
            self.code.go_name(),
            self.message
        )
    }
}

/// `operateHeaders` on the first HEADERS frame: a gRPC answer needs `:status 200`
/// and a `content-type` of `application/grpc[+-;...]`.
pub(crate) fn check_response_headers(status: u16, headers: &HeaderMap) -> Result<(), RpcStatus> {
    let mut content_type_error = Some("malformed header: missing HTTP content-type".to_string());
    let mut is_grpc = false;
    for value in headers.get_all(http::header::CONTENT_TYPE) {
        let value = String::from_utf8_lossy(value.as_bytes());
        if is_grpc_content_type(&value) {
            content_type_error = None;
            is_grpc = true;
        } else {
            content_type_error = Some(format!(
                "transport: received unexpected content-type {}",
                go_quote(&value)
            ));
        }
    }
    let http_status_error = (status != 200).then(|| {
        format!(
            "unexpected HTTP status code received from server: {status} ({})",
            http_status_text(status)
        )
    });
    if is_grpc && http_status_error.is_none() {
        return Ok(());
    }
    let code = http_status_code(status);
    let message: Vec<String> = http_status_error
        .into_iter()
        .chain(content_type_error)
        .collect();
    Err(RpcStatus::new(code, message.join("; ")))
}

/// The status carried by the trailers (or by the headers of a trailers-only answer).
/// A missing `grpc-status` is `Unknown` with an empty message, like grpc-go.
pub(crate) fn status_from_trailers(trailers: &HeaderMap) -> RpcStatus {
    let mut code = Code::UNKNOWN;
    for value in trailers.get_all("grpc-status") {
        let text = String::from_utf8_lossy(value.as_bytes());
        match text.parse::<i32>() {
            Ok(number) => code = Code(number as u32),
            Err(_) => {
                return RpcStatus::new(
                    Code::INTERNAL,
                    format!(
                        "transport: malformed grpc-status: strconv.ParseInt: parsing {}: {}",
                        go_quote(&text),
                        parse_int_reason(&text)
                    ),
                )
            }
        }
    }
    let message = trailers
        .get_all("grpc-message")
        .iter()
        .next_back()
        .map(|value| decode_grpc_message(value.as_bytes()))
        .unwrap_or_default();
    RpcStatus::new(code, message)
}

fn parse_int_reason(text: &str) -> &'static str {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        "value out of range"
    } else {
        "invalid syntax"
    }
}

/// grpc-go `grpcutil.ContentSubtype` validity.
fn is_grpc_content_type(value: &str) -> bool {
    let Some(rest) = value.strip_prefix("application/grpc") else {
        return false;
    };
    rest.is_empty() || rest.starts_with('+') || rest.starts_with(';')
}

/// grpc-go `HTTPStatusConvTab`; other statuses are `Unknown`.
fn http_status_code(status: u16) -> Code {
    match status {
        400 => Code::INTERNAL,
        401 => Code::UNAUTHENTICATED,
        403 => Code::PERMISSION_DENIED,
        404 => Code::UNIMPLEMENTED,
        429 | 502 | 503 | 504 => Code::UNAVAILABLE,
        _ => Code::UNKNOWN,
    }
}

/// `grpc-message` is percent-encoded; invalid escapes are kept verbatim.
fn decode_grpc_message(raw: &[u8]) -> String {
    let mut decoded = Vec::with_capacity(raw.len());
    let mut index = 0;
    while index < raw.len() {
        if raw[index] == b'%' && index + 2 < raw.len() {
            let hex = std::str::from_utf8(&raw[index + 1..index + 3]).ok();
            if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                decoded.push(byte);
                index += 3;
                continue;
            }
        }
        decoded.push(raw[index]);
        index += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// grpc-go `encodeTimeout`: the finest unit whose value has at most 8 digits.
pub(crate) fn encode_grpc_timeout(remaining: Duration) -> String {
    const MAX_VALUE: u128 = 99_999_999;
    let nanos = remaining.as_nanos();
    if nanos == 0 {
        return "0n".into();
    }
    let units: [(u128, char); 6] = [
        (1, 'n'),
        (1_000, 'u'),
        (1_000_000, 'm'),
        (1_000_000_000, 'S'),
        (60_000_000_000, 'M'),
        (3_600_000_000_000, 'H'),
    ];
    for (unit, suffix) in units {
        let value = nanos.div_ceil(unit);
        if value <= MAX_VALUE {
            return format!("{value}{suffix}");
        }
    }
    format!("{MAX_VALUE}H")
}

/// Go's `http.StatusText`.
fn http_status_text(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Requested Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn status_error_texts() {
        let status = RpcStatus::new(Code::UNIMPLEMENTED, "unknown service x");
        assert_eq!(
            status.error_text(),
            "rpc error: code = Unimplemented desc = unknown service x"
        );
        assert_eq!(Code(5).go_name(), "NotFound");
        assert_eq!(Code(17).go_name(), "Code(17)");
    }

    #[test]
    fn grpc_answers_pass_the_header_check() {
        for content_type in [
            "application/grpc",
            "application/grpc+proto",
            "application/grpc;x",
        ] {
            let map = headers(&[("content-type", content_type)]);
            assert_eq!(check_response_headers(200, &map), Ok(()));
        }
    }

    #[test]
    fn non_grpc_answers_map_like_grpc_go() {
        let plain = headers(&[("content-type", "text/plain; charset=utf-8")]);
        assert_eq!(
            check_response_headers(404, &plain),
            Err(RpcStatus::new(
                Code::UNIMPLEMENTED,
                r#"unexpected HTTP status code received from server: 404 (Not Found); transport: received unexpected content-type "text/plain; charset=utf-8""#
            ))
        );
        assert_eq!(
            check_response_headers(200, &HeaderMap::new()),
            // 200 is not in grpc-go's conversion table: Unknown.
            Err(RpcStatus::new(
                Code::UNKNOWN,
                "malformed header: missing HTTP content-type"
            ))
        );
        let grpc = headers(&[("content-type", "application/grpc")]);
        assert_eq!(
            check_response_headers(503, &grpc),
            Err(RpcStatus::new(
                Code::UNAVAILABLE,
                "unexpected HTTP status code received from server: 503 (Service Unavailable)"
            ))
        );
        assert_eq!(
            check_response_headers(599, &grpc),
            Err(RpcStatus::new(
                Code::UNKNOWN,
                "unexpected HTTP status code received from server: 599 ()"
            ))
        );
    }

    #[test]
    fn trailers_give_the_status() {
        let map = headers(&[("grpc-status", "5"), ("grpc-message", "unknown%20service")]);
        assert_eq!(
            status_from_trailers(&map),
            RpcStatus::new(Code(5), "unknown service")
        );
        assert_eq!(
            status_from_trailers(&HeaderMap::new()),
            RpcStatus::new(Code::UNKNOWN, "")
        );
        let bad = headers(&[("grpc-status", "x")]);
        assert_eq!(
            status_from_trailers(&bad),
            RpcStatus::new(
                Code::INTERNAL,
                r#"transport: malformed grpc-status: strconv.ParseInt: parsing "x": invalid syntax"#
            )
        );
    }

    #[test]
    fn grpc_message_percent_decoding() {
        assert_eq!(decode_grpc_message(b"a%20b%zz%2"), "a b%zz%2");
        assert_eq!(decode_grpc_message(b"%E2%9C%93"), "✓");
    }

    #[test]
    fn timeouts_are_encoded_like_grpc_go() {
        assert_eq!(encode_grpc_timeout(Duration::from_millis(50)), "50000000n");
        assert_eq!(encode_grpc_timeout(Duration::from_secs(1)), "1000000u");
        assert_eq!(
            encode_grpc_timeout(Duration::from_nanos(999_863_001)),
            "999864u"
        );
        assert_eq!(encode_grpc_timeout(Duration::ZERO), "0n");
    }
}
