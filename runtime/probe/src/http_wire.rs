//! How Go's `net/http` puts a probe request on the wire: `Host`, `User-Agent`, then the
//! other headers sorted by key (values in order), then the transport's
//! `Connection: close` (keep-alives are disabled). Names are written in canonical case
//! (the hyper connection is set to title-case them).

use http::header::{HeaderMap, HeaderName, HeaderValue};

use crate::go_text::{go_quote, is_token_byte};
use crate::http_request::first_header_value;

/// Headers Go's `Request.write` never copies from `req.Header`.
const EXCLUDED_KEYS: [&str; 5] = [
    "Host",
    "User-Agent",
    "Content-Length",
    "Transfer-Encoding",
    "Trailer",
];

/// Go's default when a request carries no `User-Agent` key at all.
const GO_DEFAULT_USER_AGENT: &str = "Go-http-client/1.1";

/// One hop's header set: the request's headers plus what the client adds on redirects.
pub(crate) struct WireHeaders<'a> {
    pub headers: &'a [(String, String)],
    /// `req.Host`, or the URL's host when `None`.
    pub host: &'a str,
    /// `Referer` set by the client when following a redirect (replaces user values).
    pub referer: Option<&'a str>,
}

impl WireHeaders<'_> {
    /// Validates like Go's transport and builds the ordered header map.
    /// Errors are Go's texts (`net/http: invalid header field name "x y"`).
    pub fn to_header_map(&self) -> Result<HeaderMap, String> {
        let mut entries: Vec<(&str, &str)> = self
            .headers
            .iter()
            .filter(|(name, _)| !(self.referer.is_some() && name == "Referer"))
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        if let Some(referer) = self.referer {
            entries.push(("Referer", referer));
        }
        for (name, value) in &entries {
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return Err(format!(
                    "net/http: invalid header field name {}",
                    go_quote(name)
                ));
            }
            if !valid_field_value(value) {
                return Err(format!(
                    "net/http: invalid header field value for {}",
                    go_quote(name)
                ));
            }
        }

        let mut map = HeaderMap::new();
        append(&mut map, "Host", self.host)?;
        let user_agent = match self.headers.iter().any(|(name, _)| name == "User-Agent") {
            true => first_header_value(self.headers, "User-Agent").unwrap_or_default(),
            false => GO_DEFAULT_USER_AGENT,
        };
        if !user_agent.trim_matches([' ', '\t']).is_empty() {
            append(&mut map, "User-Agent", user_agent)?;
        }
        let mut keys: Vec<&str> = entries
            .iter()
            .map(|(name, _)| *name)
            .filter(|name| !EXCLUDED_KEYS.contains(name))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            for (_, value) in entries.iter().filter(|(name, _)| *name == key) {
                append(&mut map, key, value)?;
            }
        }
        let wants_close = first_header_value(self.headers, "Connection").is_some_and(|value| {
            value
                .split(',')
                .any(|token| token.trim().eq_ignore_ascii_case("close"))
        });
        if !wants_close {
            append(&mut map, "Connection", "close")?;
        }
        Ok(map)
    }
}

/// `httpguts.ValidHeaderFieldValue`: no control bytes other than horizontal tab.
fn valid_field_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

fn append(map: &mut HeaderMap, name: &str, value: &str) -> Result<(), String> {
    // Go's writer trims spaces and tabs around each value (`textproto.TrimString`).
    let value = value.trim_matches([' ', '\t']);
    let header_name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("net/http: invalid header field name {}", go_quote(name)))?;
    let header_value = HeaderValue::from_str(value).map_err(|_| {
        format!(
            "net/http: invalid header field value for {}",
            go_quote(name)
        )
    })?;
    map.append(header_name, header_value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).into(), (*v).into()))
            .collect()
    }

    fn wire(list: &[(&str, &str)], referer: Option<&str>) -> Result<Vec<(String, String)>, String> {
        let headers = headers(list);
        let map = WireHeaders {
            headers: &headers,
            host: "10.0.0.1:80",
            referer,
        }
        .to_header_map()?;
        Ok(map
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string()))
            .collect())
    }

    #[test]
    fn orders_like_go_request_write() {
        let got = wire(
            &[
                ("X-B", "2"),
                ("User-Agent", "ua"),
                ("Accept", "*/*"),
                ("X-A", "1"),
                ("X-B", " 3 "),
            ],
            None,
        )
        .unwrap();
        assert_eq!(
            got,
            headers(&[
                ("host", "10.0.0.1:80"),
                ("user-agent", "ua"),
                ("accept", "*/*"),
                ("x-a", "1"),
                ("x-b", "2"),
                ("x-b", "3"),
                ("connection", "close"),
            ])
        );
    }

    #[test]
    fn empty_user_agent_is_omitted_and_referer_replaces_user_value() {
        let got = wire(
            &[("User-Agent", ""), ("Referer", "mine")],
            Some("http://a/"),
        )
        .unwrap();
        assert_eq!(
            got,
            headers(&[
                ("host", "10.0.0.1:80"),
                ("referer", "http://a/"),
                ("connection", "close"),
            ])
        );
    }

    #[test]
    fn invalid_headers_are_rejected_with_go_texts() {
        assert_eq!(
            wire(&[("bad name", "x")], None).unwrap_err(),
            r#"net/http: invalid header field name "bad name""#
        );
        assert_eq!(
            wire(&[("X-Bad", "a\nb")], None).unwrap_err(),
            r#"net/http: invalid header field value for "X-Bad""#
        );
    }
}
