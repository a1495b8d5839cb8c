//! Just enough HTTP/1.1 for one request per connection: parse a request, answer with
//! `Connection: close`, and reproduce the bits of Go's net/http that clients see (status
//! texts, `http.Error`, `http.NotFound`, `http.Redirect`, content sniffing, form values).

use std::io::{self, BufRead, Read};

/// Request heads above this size are refused (Go's default is 1 MiB; probes send ~200 bytes).
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Request bodies are read up to this size (only form values are ever looked at).
const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug)]
pub enum RequestError {
    /// The peer closed the connection before sending a request line.
    Closed,
    Io(io::Error),
    Malformed(&'static str),
}

impl From<io::Error> for RequestError {
    fn from(error: io::Error) -> Self {
        RequestError::Io(error)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The request target as sent (origin-form `/p?q` or, for proxies, absolute-form).
    pub target: String,
    pub version: String,
    /// Path of the target, still percent-encoded (Go unescapes it; no handler here cares).
    pub path: String,
    pub raw_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// Builds a GET request for `target` (used by netexec's `--http-override`).
    pub fn get(target: &str) -> Request {
        let (path, raw_query) = split_target(target);
        Request {
            method: "GET".into(),
            target: target.into(),
            version: "HTTP/1.1".into(),
            path,
            raw_query,
            ..Request::default()
        }
    }

    /// First value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// `r.URL.Query().Get(key)`.
    pub fn query(&self, key: &str) -> String {
        first_value(&parse_query(&self.raw_query), key)
    }

    /// `r.FormValue(key)`: url-encoded POST/PUT/PATCH body first, then the query.
    pub fn form_value(&self, key: &str) -> String {
        let is_form = self.header("content-type").is_some_and(|value| {
            value
                .trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
        if is_form && matches!(self.method.as_str(), "POST" | "PUT" | "PATCH") {
            let body = String::from_utf8_lossy(&self.body);
            let pairs = parse_query(&body);
            if pairs.iter().any(|(name, _)| name == key) {
                return first_value(&pairs, key);
            }
        }
        self.query(key)
    }
}

/// Reads one request (head and, if `Content-Length` says so, body).
pub fn read_request(reader: &mut impl BufRead) -> Result<Request, RequestError> {
    let mut head_bytes = 0;
    let mut line = String::new();
    // Go tolerates (and skips) empty lines before the request line.
    loop {
        line.clear();
        let read = reader.read_line(&mut line)?;
        if read == 0 {
            return Err(RequestError::Closed);
        }
        head_bytes += read;
        if !line.trim_end().is_empty() {
            break;
        }
        if head_bytes > MAX_HEAD_BYTES {
            return Err(RequestError::Malformed("request head too large"));
        }
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(RequestError::Malformed("malformed HTTP request line"));
    };
    if !version.starts_with("HTTP/") {
        return Err(RequestError::Malformed("malformed HTTP version"));
    }
    let (path, raw_query) = split_target(target);
    let mut request = Request {
        method: method.to_string(),
        target: target.to_string(),
        version: version.to_string(),
        path,
        raw_query,
        ..Request::default()
    };
    loop {
        line.clear();
        let read = reader.read_line(&mut line)?;
        head_bytes += read;
        if head_bytes > MAX_HEAD_BYTES {
            return Err(RequestError::Malformed("request head too large"));
        }
        let trimmed = line.trim_end_matches(['\r', '\n']);
        if read == 0 || trimmed.is_empty() {
            break;
        }
        let Some((name, value)) = trimmed.split_once(':') else {
            return Err(RequestError::Malformed("malformed MIME header line"));
        };
        request
            .headers
            .push((name.trim().to_string(), value.trim().to_string()));
    }
    let length: usize = request
        .header("content-length")
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    if length > 0 {
        let mut body = Vec::new();
        reader
            .take(length.min(MAX_BODY_BYTES) as u64)
            .read_to_end(&mut body)?;
        request.body = body;
    }
    Ok(request)
}

/// Splits a request target into (path, raw query). Absolute-form targets keep only the path.
pub fn split_target(target: &str) -> (String, String) {
    let without_fragment = target.split('#').next().unwrap_or("");
    let (before_query, query) = without_fragment
        .split_once('?')
        .unwrap_or((without_fragment, ""));
    let path = match before_query.find("://") {
        Some(index) => {
            let after_scheme = &before_query[index + 3..];
            after_scheme
                .find('/')
                .map_or("/", |slash| &after_scheme[slash..])
        }
        None => before_query,
    };
    (path.to_string(), query.to_string())
}

/// `url.ParseQuery`: pairs in order; pairs that do not unescape (or contain `;`) are dropped.
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty() && !pair.contains(';'))
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((query_unescape(key)?, query_unescape(value)?))
        })
        .collect()
}

fn first_value(pairs: &[(String, String)], key: &str) -> String {
    pairs
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.clone())
        .unwrap_or_default()
}

/// `url.QueryUnescape`: `+` is a space, `%XX` a byte; bad escapes are an error (`None`).
pub fn query_unescape(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'%' => {
                let hex = bytes.get(index + 1..index + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                index += 3;
            }
            b'+' => {
                out.push(b' ');
                index += 1;
            }
            byte => {
                out.push(byte);
                index += 1;
            }
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Go's `http.CanonicalHeaderKey`: `content-type` → `Content-Type`.
pub fn canonical_header_key(name: &str) -> String {
    let mut upper = true;
    name.chars()
        .map(|c| {
            let mapped = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            mapped
        })
        .collect()
}

/// Go's `http.StatusText`; unknown codes have none.
pub fn status_text(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        412 => "Precondition Failed",
        417 => "Expectation Failed",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// A response whose Content-Type Go would sniff from the body.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn ok(body: impl Into<Vec<u8>>) -> Response {
        Response::new(200, body)
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers
            .retain(|(key, _)| !key.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// `http.Error(w, message, status)`.
    pub fn go_error(status: u16, message: &str) -> Response {
        Response::new(status, format!("{message}\n"))
            .with_header("Content-Type", "text/plain; charset=utf-8")
            .with_header("X-Content-Type-Options", "nosniff")
    }

    /// `http.NotFound`.
    pub fn not_found() -> Response {
        Response::go_error(404, "404 page not found")
    }

    /// `http.Redirect(w, r, url, code)`.
    pub fn redirect(request: &Request, url: &str, code: u16) -> Response {
        let location = absolute_redirect_target(&request.path, url);
        let mut response = Response::new(code, Vec::new())
            .with_header("Location", &hex_escape_non_ascii(&location));
        if matches!(request.method.as_str(), "GET" | "HEAD") {
            response = response.with_header("Content-Type", "text/html; charset=utf-8");
        }
        if request.method == "GET" {
            response.body = format!(
                "<a href=\"{}\">{}</a>.\n\n",
                html_escape(&location),
                status_text(code)
            )
            .into_bytes();
        }
        response
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The status line and headers, Go style, for a body sent with Content-Length (`None`:
    /// chunked) on a connection that closes afterwards.
    pub fn head_bytes(&self, content_length: Option<usize>, date: &str) -> Vec<u8> {
        let reason = match status_text(self.status) {
            "" => format!("status code {}", self.status),
            text => text.to_string(),
        };
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason);
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if self.header("content-type").is_none() && !self.body.is_empty() {
            head.push_str(&format!(
                "Content-Type: {}\r\n",
                sniff_content_type(&self.body)
            ));
        }
        head.push_str(&format!("Date: {date}\r\n"));
        match content_length {
            Some(length) => head.push_str(&format!("Content-Length: {length}\r\n")),
            None => head.push_str("Transfer-Encoding: chunked\r\n"),
        }
        head.push_str("Connection: close\r\n\r\n");
        head.into_bytes()
    }

    /// The whole response on the wire; HEAD answers carry no body.
    pub fn to_bytes(&self, method: &str, date: &str) -> Vec<u8> {
        let mut bytes = self.head_bytes(Some(self.body.len()), date);
        if method != "HEAD" {
            bytes.extend_from_slice(&self.body);
        }
        bytes
    }
}

/// Go's `http.DetectContentType`, reduced to the cases these servers produce.
pub fn sniff_content_type(body: &[u8]) -> &'static str {
    const HTML_TAGS: [&str; 17] = [
        "<!DOCTYPE HTML",
        "<HTML",
        "<HEAD",
        "<SCRIPT",
        "<IFRAME",
        "<H1",
        "<DIV",
        "<FONT",
        "<TABLE",
        "<A",
        "<STYLE",
        "<TITLE",
        "<B",
        "<BODY",
        "<BR",
        "<P",
        "<!--",
    ];
    let start = body
        .iter()
        .position(|b| !matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' '))
        .unwrap_or(body.len());
    let data = &body[start..];
    for tag in HTML_TAGS {
        let tag = tag.as_bytes();
        if data.len() > tag.len()
            && data[..tag.len()].eq_ignore_ascii_case(tag)
            && matches!(data[tag.len()], b' ' | b'>')
        {
            return "text/html; charset=utf-8";
        }
    }
    let binary = body
        .iter()
        .take(512)
        .any(|b| matches!(b, 0x00..=0x08 | 0x0b | 0x0e..=0x1a | 0x1c..=0x1f));
    if binary {
        "application/octet-stream"
    } else {
        "text/plain; charset=utf-8"
    }
}

/// Go's htmlEscape in net/http.
pub fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

fn hex_escape_non_ascii(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b >= 0x80 {
                format!("%{b:x}")
            } else {
                (b as char).to_string()
            }
        })
        .collect()
}

/// Whether Go's url.Parse would find a scheme or a host (then Redirect leaves the URL alone).
fn has_scheme_or_host(url: &str) -> bool {
    if url.starts_with("//") {
        return true;
    }
    let Some(colon) = url.find(':') else {
        return false;
    };
    let scheme = &url[..colon];
    let mut chars = scheme.chars();
    // A colon before any letter (":foo") is a parse error in Go: the URL is used as is.
    if colon == 0 {
        return true;
    }
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// http.Redirect's rule: relative targets are resolved against the request path and cleaned,
/// keeping a trailing slash and the query.
fn absolute_redirect_target(request_path: &str, url: &str) -> String {
    if has_scheme_or_host(url) {
        return url.to_string();
    }
    let mut target = url.to_string();
    if !target.starts_with('/') {
        let directory = match request_path.rfind('/') {
            Some(index) => &request_path[..=index],
            None => "",
        };
        target = format!("{directory}{target}");
    }
    let (path, query) = match target.find('?') {
        Some(index) => (target[..index].to_string(), target[index..].to_string()),
        None => (target, String::new()),
    };
    let mut cleaned = clean_path(&path);
    if path.ends_with('/') && !cleaned.ends_with('/') {
        cleaned.push('/');
    }
    cleaned + &query
}

/// Go's `path.Clean`.
pub fn clean_path(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// JSON string literal as Go's encoding/json writes it (HTML-safe escaping).
pub fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn parse(text: &str) -> Request {
        read_request(&mut Cursor::new(text.as_bytes().to_vec())).expect("parses")
    }

    #[test]
    fn parses_a_probe_request() {
        let request = parse(
            "GET /healthz?x=1 HTTP/1.1\r\nHost: 10.0.0.1:8080\r\nUser-Agent: kube-probe/1.33\r\n\r\n",
        );
        assert_eq!(request.method, "GET");
        assert_eq!(request.path, "/healthz");
        assert_eq!(request.raw_query, "x=1");
        assert_eq!(request.header("user-agent"), Some("kube-probe/1.33"));
    }

    #[test]
    fn reads_form_bodies_and_queries() {
        let request = parse(
            "POST /echo?msg=query HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 12\r\n\r\nmsg=body+one",
        );
        assert_eq!(request.form_value("msg"), "body one");
        let request = parse("GET /echo?msg=hello%20world&code=404 HTTP/1.1\r\n\r\n");
        assert_eq!(request.form_value("msg"), "hello world");
        assert_eq!(request.form_value("code"), "404");
        assert_eq!(request.form_value("missing"), "");
    }

    #[test]
    fn closed_and_garbage_connections_are_errors() {
        let closed = read_request(&mut Cursor::new(Vec::new()));
        assert!(matches!(closed, Err(RequestError::Closed)));
        let garbage = read_request(&mut Cursor::new(b"hello\r\n\r\n".to_vec()));
        assert!(matches!(garbage, Err(RequestError::Malformed(_))));
    }

    #[test]
    fn absolute_targets_keep_their_path() {
        assert_eq!(
            split_target("http://example.com/a/b?c=d"),
            ("/a/b".to_string(), "c=d".to_string())
        );
        assert_eq!(
            split_target("http://example.com"),
            ("/".to_string(), String::new())
        );
    }

    #[test]
    fn query_unescape_rejects_bad_escapes() {
        assert_eq!(query_unescape("a%2Fb+c").as_deref(), Some("a/b c"));
        assert_eq!(query_unescape("%zz"), None);
        assert_eq!(query_unescape("%4"), None);
    }

    #[test]
    fn go_error_and_not_found_bodies() {
        let response = Response::not_found();
        assert_eq!(response.status, 404);
        assert_eq!(response.body, b"404 page not found\n");
        assert_eq!(
            response.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
    }

    #[test]
    fn redirects_like_net_http() {
        let request = Request::get("/redirect?loc=x");
        let response = Response::redirect(&request, "http://0.0.0.0/", 302);
        assert_eq!(response.header("location"), Some("http://0.0.0.0/"));
        assert_eq!(
            String::from_utf8_lossy(&response.body),
            "<a href=\"http://0.0.0.0/\">Found</a>.\n\n"
        );
        let response = Response::redirect(&request, "healthz?a=1&b=2", 302);
        assert_eq!(response.header("location"), Some("/healthz?a=1&b=2"));
        assert_eq!(
            String::from_utf8_lossy(&response.body),
            "<a href=\"/healthz?a=1&amp;b=2\">Found</a>.\n\n"
        );
        let nested = Request::get("/a/b/c");
        let response = Response::redirect(&nested, "../d/", 307);
        assert_eq!(response.header("location"), Some("/a/d/"));
        let mut head = Request::get("/redirect");
        head.method = "HEAD".into();
        assert!(Response::redirect(&head, "/x", 302).body.is_empty());
    }

    #[test]
    fn responses_serialize_with_sniffed_type_and_close() {
        let bytes = Response::new(500, "error: 10.5").to_bytes("GET", "DATE");
        let text = String::from_utf8(bytes).expect("utf-8");
        assert_eq!(
            text,
            "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\nDate: DATE\r\nContent-Length: 11\r\nConnection: close\r\n\r\nerror: 10.5"
        );
        let empty = String::from_utf8(Response::new(200, "").to_bytes("GET", "D")).expect("utf-8");
        assert!(!empty.contains("Content-Type"));
        assert!(empty.contains("Content-Length: 0\r\n"));
        let odd = String::from_utf8(Response::new(299, "x").to_bytes("HEAD", "D")).expect("utf-8");
        assert!(odd.starts_with("HTTP/1.1 299 status code 299\r\n"));
        assert!(odd.ends_with("\r\n\r\n"));
    }

    #[test]
    fn sniffing_spots_html() {
        assert_eq!(
            sniff_content_type(b"<html><body>"),
            "text/html; charset=utf-8"
        );
        assert_eq!(sniff_content_type(b"ok"), "text/plain; charset=utf-8");
        assert_eq!(sniff_content_type(b"\x00\x01"), "application/octet-stream");
    }

    #[test]
    fn path_cleaning_and_header_keys() {
        assert_eq!(clean_path("/a/./b/../c//"), "/a/c");
        assert_eq!(clean_path("/../x"), "/x");
        assert_eq!(clean_path(""), ".");
        assert_eq!(canonical_header_key("x-forwarded-for"), "X-Forwarded-For");
        assert_eq!(json_string("a<b>\"c\""), "\"a\\u003cb\\u003e\\\"c\\\"\"");
    }
}
