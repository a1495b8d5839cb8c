//! Go standard-library texts the kubelet's outputs are made of: `strconv.Quote`,
//! syscall errno strings, `url.Error`, canonical header keys.

use std::fmt::Write as _;
use std::io;

/// `strconv.Quote` of a UTF-8 string (what `%q` prints).
pub(crate) fn go_quote(text: &str) -> String {
    go_quote_bytes(text.as_bytes())
}

/// `strconv.Quote` of arbitrary bytes: invalid UTF-8 bytes become `\xHH`.
pub(crate) fn go_quote_bytes(bytes: &[u8]) -> String {
    let mut quoted = String::with_capacity(bytes.len() + 2);
    quoted.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_quoted_char(&mut quoted, c);
        }
        for byte in chunk.invalid() {
            let _ = write!(quoted, "\\x{byte:02x}");
        }
    }
    quoted.push('"');
    quoted
}

fn push_quoted_char(out: &mut String, c: char) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        c if (c as u32) < 0x20 || c == '\u{7f}' => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        // Approximates Go's unicode.IsPrint: controls and non-ASCII spaces are escaped.
        c if c.is_control() || (c != ' ' && c.is_whitespace()) => {
            if (c as u32) < 0x10000 {
                let _ = write!(out, "\\u{:04x}", c as u32);
            } else {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
        c => out.push(c),
    }
}

/// The text of Go's `syscall.Errno` for an OS error (`connection refused`, ...).
/// Go's Linux table is glibc's `strerror` with a lower-case first letter.
pub(crate) fn errno_text(error: &io::Error) -> String {
    let known = match error.kind() {
        io::ErrorKind::ConnectionRefused => Some("connection refused"),
        io::ErrorKind::ConnectionReset => Some("connection reset by peer"),
        io::ErrorKind::ConnectionAborted => Some("software caused connection abort"),
        io::ErrorKind::BrokenPipe => Some("broken pipe"),
        io::ErrorKind::NetworkUnreachable => Some("network is unreachable"),
        io::ErrorKind::HostUnreachable => Some("no route to host"),
        io::ErrorKind::AddrNotAvailable => Some("cannot assign requested address"),
        io::ErrorKind::PermissionDenied if error.raw_os_error() == Some(1) => {
            Some("operation not permitted")
        }
        io::ErrorKind::PermissionDenied => Some("permission denied"),
        _ => None,
    };
    if let Some(text) = known {
        return text.to_string();
    }
    let display = error.to_string();
    let message = match display.rfind(" (os error ") {
        Some(index) => &display[..index],
        None => &display,
    };
    lower_first(message)
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `url.Error.Error()` for a GET: `Get "<url>": <cause>`.
pub(crate) fn get_url_error(url: &str, cause: &str) -> String {
    format!("Get {}: {cause}", go_quote(url))
}

/// `textproto.CanonicalMIMEHeaderKey`: `x-custom-header` → `X-Custom-Header`.
/// Keys with bytes that are not valid token characters are returned unchanged.
pub(crate) fn canonical_header_key(key: &str) -> String {
    if !key.bytes().all(is_token_byte) {
        return key.to_string();
    }
    let mut upper = true;
    key.chars()
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

/// RFC 7230 `tchar`.
pub(crate) fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_strconv_quote() {
        assert_eq!(go_quote("http://a/b"), r#""http://a/b""#);
        assert_eq!(go_quote("a\"b\\c\n\t\u{1}"), r#""a\"b\\c\n\t\x01""#);
        assert_eq!(go_quote("é"), "\"é\"");
        assert_eq!(go_quote_bytes(b"\x15\x03ok\xff"), r#""\x15\x03ok\xff""#);
    }

    #[test]
    fn errno_texts_match_go() {
        let refused = io::Error::from_raw_os_error(111);
        assert_eq!(errno_text(&refused), "connection refused");
        let unreachable = io::Error::from_raw_os_error(101);
        assert_eq!(errno_text(&unreachable), "network is unreachable");
        let no_route = io::Error::from_raw_os_error(113);
        assert_eq!(errno_text(&no_route), "no route to host");
        let timed_out = io::Error::from_raw_os_error(110);
        assert_eq!(errno_text(&timed_out), "connection timed out");
        let eagain = io::Error::from_raw_os_error(11);
        assert_eq!(errno_text(&eagain), "resource temporarily unavailable");
    }

    #[test]
    fn canonical_header_keys() {
        assert_eq!(canonical_header_key("x-custom-header"), "X-Custom-Header");
        assert_eq!(canonical_header_key("USER-AGENT"), "User-Agent");
        assert_eq!(canonical_header_key("host"), "Host");
        assert_eq!(canonical_header_key("bad key"), "bad key");
    }
}
