//! The subset of Go's `net/url` the HTTP prober depends on: building the probe URL
//! (`formatURL`), printing it (`URL.String`), the request target (`URL.RequestURI`),
//! resolving `Location` headers (`URL.Parse` + `ResolveReference`) and `URL.Hostname`.

use std::fmt;

use crate::go_text::go_quote;

/// A parsed absolute http(s) URL, kept in Go's escaped forms so that printing it gives
/// the same text as Go's `URL.String()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProbeUrl {
    /// Lower-case scheme (`http`, `https`, ...).
    pub scheme: String,
    /// Go's `URL.Host`: `host`, `host:port` or `[v6]:port`, as written.
    pub host: String,
    /// Escaped path (Go's `EscapedPath()`); may be empty or relative.
    pub path: String,
    /// Raw query; `Some("")` is Go's `ForceQuery` (a trailing `?`).
    pub query: Option<String>,
    /// Raw fragment, only when non-empty.
    pub fragment: Option<String>,
}

/// A URL reference as written in a `Location` header.
#[derive(Debug, Default)]
struct Reference {
    scheme: Option<String>,
    host: Option<String>,
    path: String,
    query: Option<String>,
    fragment: Option<String>,
}

impl ProbeUrl {
    /// `formatURL(scheme, host, port, path)` of `pkg/probe/http/request.go`.
    pub fn for_probe(scheme: &str, host: &str, port: u16, path: &str) -> Self {
        let host = join_host_port(host, port);
        match parse_reference(path) {
            Ok(reference) if reference.scheme.is_none() && reference.host.is_none() => Self {
                scheme: scheme.to_string(),
                host,
                path: reference.path,
                query: reference.query,
                fragment: reference.fragment,
            },
            // Go: "something is busted with the path, but it's too late to reject it":
            // the whole text becomes the (escaped) path.
            _ => Self {
                scheme: scheme.to_string(),
                host,
                path: escape_path(path.as_bytes()),
                query: None,
                fragment: None,
            },
        }
    }

    /// Parses the `path_and_query` part printed by [`ProbeUrl::suffix`] back.
    pub fn from_parts(scheme: &str, host: &str, port: u16, suffix: &str) -> Self {
        Self::for_probe(scheme, host, port, suffix)
    }

    /// Everything Go's `URL.String()` prints after the host.
    pub fn suffix(&self) -> String {
        let mut out = String::new();
        if !self.path.is_empty() && !self.path.starts_with('/') && !self.host.is_empty() {
            out.push('/');
        }
        out.push_str(&self.path);
        if let Some(query) = &self.query {
            out.push('?');
            out.push_str(query);
        }
        if let Some(fragment) = &self.fragment {
            out.push('#');
            out.push_str(fragment);
        }
        out
    }

    /// The origin-form request target (`URL.RequestURI()`); a relative path gets a
    /// leading `/` so that it is a valid HTTP/1.1 target.
    pub fn request_target(&self) -> String {
        let mut target = if self.path.starts_with('/') {
            self.path.clone()
        } else {
            format!("/{}", self.path)
        };
        if let Some(query) = &self.query {
            target.push('?');
            target.push_str(query);
        }
        target
    }

    /// `URL.Hostname()`: host without port and brackets.
    pub fn hostname(&self) -> &str {
        split_host_port(&self.host).0
    }

    /// `canonicalAddr`: the hostname and the explicit or scheme-default port.
    pub fn dial_target(&self) -> (String, Option<u16>) {
        let (hostname, port) = split_host_port(&self.host);
        let port = match port {
            Some(port) if !port.is_empty() => port.parse().ok(),
            _ => match self.scheme.as_str() {
                "https" => Some(443),
                _ => Some(80),
            },
        };
        (hostname.to_string(), port)
    }

    /// `req.URL.Parse(location)`: resolves a `Location` header against this URL.
    /// Errors are Go's `url.Error` texts (`parse "<loc>": <reason>`).
    pub fn resolve(&self, location: &str) -> Result<Self, String> {
        let reference = parse_reference(location)
            .map_err(|reason| format!("parse {}: {reason}", go_quote(location)))?;
        if reference.scheme.is_some() || reference.host.is_some() {
            return Ok(Self {
                scheme: reference.scheme.unwrap_or_else(|| self.scheme.clone()),
                host: reference.host.unwrap_or_default(),
                path: resolve_path(&reference.path, ""),
                query: reference.query,
                fragment: reference.fragment,
            });
        }
        let (query, fragment) = if reference.path.is_empty() && reference.query.is_none() {
            let fragment = reference.fragment.or_else(|| self.fragment.clone());
            (self.query.clone(), fragment)
        } else {
            (reference.query, reference.fragment)
        };
        Ok(Self {
            scheme: self.scheme.clone(),
            host: self.host.clone(),
            path: resolve_path(&self.path, &reference.path),
            query,
            fragment,
        })
    }

    /// Whether a `Location` value is a relative reference (Go `!u.IsAbs()`).
    pub fn is_relative_reference(location: &str) -> bool {
        parse_reference(location)
            .map(|reference| reference.scheme.is_none())
            .unwrap_or(true)
    }
}

impl fmt::Display for ProbeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}{}", self.scheme, self.host, self.suffix())
    }
}

/// `net.JoinHostPort`.
pub(crate) fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Go's `url.splitHostPort`: the port is split off only when it is `:` or `:digits`.
fn split_host_port(host_port: &str) -> (&str, Option<&str>) {
    let (mut host, mut port) = (host_port, None);
    if let Some(colon) = host_port.rfind(':') {
        let candidate = &host_port[colon + 1..];
        if candidate.bytes().all(|b| b.is_ascii_digit()) {
            host = &host_port[..colon];
            port = Some(candidate);
        }
    }
    if host.len() >= 2 && host.starts_with('[') && host.ends_with(']') {
        host = &host[1..host.len() - 1];
    }
    (host, port)
}

/// `url.Parse` reduced to what probes meet: scheme, authority, path, query, fragment.
fn parse_reference(text: &str) -> Result<Reference, String> {
    if text.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err("net/url: invalid control character in URL".into());
    }
    let (rest, fragment) = match text.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (text, None),
    };
    if let Some(fragment) = fragment {
        unescape(fragment)?;
    }
    let mut reference = Reference {
        fragment: fragment.filter(|f| !f.is_empty()).map(str::to_string),
        ..Reference::default()
    };
    let rest = match scheme_of(rest)? {
        Some((scheme, after)) => {
            reference.scheme = Some(scheme.to_ascii_lowercase());
            after
        }
        None => rest,
    };
    let rest = if rest.ends_with('?') && rest.matches('?').count() == 1 {
        reference.query = Some(String::new());
        &rest[..rest.len() - 1]
    } else {
        match rest.split_once('?') {
            Some((before, query)) => {
                reference.query = Some(query.to_string());
                before
            }
            None => rest,
        }
    };
    let rest = match rest.strip_prefix("//") {
        Some(after) => {
            let end = after.find('/').unwrap_or(after.len());
            let authority = &after[..end];
            // Userinfo is never printed back by the client; drop it.
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            reference.host = Some(host.to_string());
            &after[end..]
        }
        None => {
            if reference.scheme.is_none() {
                let first_segment = rest.split('/').next().unwrap_or_default();
                if first_segment.contains(':') {
                    return Err("first path segment in URL cannot contain colon".into());
                }
            }
            rest
        }
    };
    let decoded = unescape(rest)?;
    reference.path = if valid_encoded_path(rest) {
        rest.to_string()
    } else {
        escape_path(&decoded)
    };
    Ok(reference)
}

/// Go's `getScheme`: `Some((scheme, rest))` when the text starts with `scheme:`.
fn scheme_of(text: &str) -> Result<Option<(&str, &str)>, String> {
    for (index, byte) in text.bytes().enumerate() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if index > 0 => {}
            b':' if index == 0 => return Err("missing protocol scheme".into()),
            b':' => return Ok(Some((&text[..index], &text[index + 1..]))),
            _ => return Ok(None),
        }
    }
    Ok(None)
}

/// Percent-decoding with Go's `invalid URL escape "%zz"` error.
fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = bytes.get(index + 1..index + 3);
            let value = hex
                .and_then(|h| std::str::from_utf8(h).ok())
                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match value {
                Some(value) => {
                    out.push(value);
                    index += 3;
                }
                None => {
                    let end = (index + 3).min(bytes.len());
                    let bad = String::from_utf8_lossy(&bytes[index..end]);
                    return Err(format!("invalid URL escape {}", go_quote(&bad)));
                }
            }
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    Ok(out)
}

/// Go's `shouldEscape(c, encodePath)`.
fn path_byte_needs_escape(byte: u8) -> bool {
    !(byte.is_ascii_alphanumeric() || b"-_.~$&+,/:;=@".contains(&byte))
}

/// Go's `validEncoded(s, encodePath)`: the raw path can be sent as written.
fn valid_encoded_path(text: &str) -> bool {
    text.bytes()
        .all(|b| b"!$&'()*+,;=:@[]%".contains(&b) || !path_byte_needs_escape(b))
}

/// Go's `escape(s, encodePath)`.
fn escape_path(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len());
    for &byte in bytes {
        if path_byte_needs_escape(byte) {
            out.push('%');
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 15)] as char);
        } else {
            out.push(byte as char);
        }
    }
    out
}

/// Go's `resolvePath(base, ref)`: merge and remove dot segments; result starts with `/`.
fn resolve_path(base: &str, reference: &str) -> String {
    let full = if reference.is_empty() {
        base.to_string()
    } else if !reference.starts_with('/') {
        let cut = base.rfind('/').map_or(0, |i| i + 1);
        format!("{}{}", &base[..cut], reference)
    } else {
        reference.to_string()
    };
    if full.is_empty() {
        return String::new();
    }
    let mut output: Vec<&str> = Vec::new();
    let segments: Vec<&str> = full.split('/').collect();
    let last = segments.len() - 1;
    for (index, segment) in segments.iter().enumerate() {
        match *segment {
            "." => {}
            ".." => {
                if output.len() > 1 || (output.len() == 1 && !output[0].is_empty()) {
                    output.pop();
                }
            }
            other => output.push(other),
        }
        if index == last && (*segment == "." || *segment == "..") {
            output.push("");
        }
    }
    let joined = output.join("/");
    format!("/{}", joined.trim_start_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe_url(path: &str) -> ProbeUrl {
        ProbeUrl::for_probe("http", "127.1.0.5", 8080, path)
    }

    #[test]
    fn formats_like_go_format_url() {
        assert_eq!(
            probe_url("/healthz").to_string(),
            "http://127.1.0.5:8080/healthz"
        );
        assert_eq!(
            probe_url("/healthz?verbose=1&x=a b").to_string(),
            "http://127.1.0.5:8080/healthz?verbose=1&x=a b"
        );
        assert_eq!(probe_url("").to_string(), "http://127.1.0.5:8080");
        assert_eq!(probe_url("").request_target(), "/");
        assert_eq!(
            probe_url("healthz").to_string(),
            "http://127.1.0.5:8080/healthz"
        );
        assert_eq!(
            probe_url("/a b/é").to_string(),
            "http://127.1.0.5:8080/a%20b/%C3%A9"
        );
        assert_eq!(probe_url("/x?").to_string(), "http://127.1.0.5:8080/x?");
        assert_eq!(
            probe_url("/x#frag").to_string(),
            "http://127.1.0.5:8080/x#frag"
        );
        assert_eq!(probe_url("/x#frag").request_target(), "/x");
        // Unparseable path: Go keeps it whole as an escaped path.
        assert_eq!(
            probe_url("/bad%zz?q=1").to_string(),
            "http://127.1.0.5:8080/bad%25zz%3Fq=1"
        );
        assert_eq!(
            ProbeUrl::for_probe("http", "fd00::1", 80, "/").to_string(),
            "http://[fd00::1]:80/"
        );
    }

    #[test]
    fn resolves_locations_like_go() {
        let base = probe_url("/a/b/c?q=1");
        assert_eq!(
            base.resolve("/x").unwrap().to_string(),
            "http://127.1.0.5:8080/x"
        );
        assert_eq!(
            base.resolve("d").unwrap().to_string(),
            "http://127.1.0.5:8080/a/b/d"
        );
        assert_eq!(
            base.resolve("../d?z").unwrap().to_string(),
            "http://127.1.0.5:8080/a/d?z"
        );
        assert_eq!(
            base.resolve("?n=2").unwrap().to_string(),
            "http://127.1.0.5:8080/a/b/c?n=2"
        );
        assert_eq!(
            base.resolve("http://127.0.0.2/p").unwrap().to_string(),
            "http://127.0.0.2/p"
        );
        assert_eq!(
            base.resolve("//other:81/p").unwrap().to_string(),
            "http://other:81/p"
        );
        assert_eq!(base.resolve("HTTPS://h").unwrap().to_string(), "https://h");
        assert_eq!(
            base.resolve("/bad%zz").unwrap_err(),
            r#"parse "/bad%zz": invalid URL escape "%zz""#
        );
    }

    #[test]
    fn hostnames_and_dial_targets() {
        let url = probe_url("/").resolve("http://[::1]:90/").unwrap();
        assert_eq!(url.hostname(), "::1");
        assert_eq!(url.dial_target(), ("::1".to_string(), Some(90)));
        let default_port = probe_url("/").resolve("http://example/").unwrap();
        assert_eq!(
            default_port.dial_target(),
            ("example".to_string(), Some(80))
        );
        assert_eq!(probe_url("/").hostname(), "127.1.0.5");
    }
}
