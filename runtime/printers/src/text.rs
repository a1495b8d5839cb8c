//! Small text helpers shared by the printers: timestamps, ages, terminal escaping.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};

use crate::duration::human_duration;

/// Go's zero `time.Time` formatted with `time.RFC1123Z` (what kubectl prints for an unset time).
const ZERO_TIME_RFC1123Z: &str = "Mon, 01 Jan 0001 00:00:00 +0000";

/// Go `time.RFC1123Z` in UTC, e.g. `Mon, 06 Jul 2026 10:00:00 +0000`.
pub fn rfc1123z(ts: Timestamp) -> String {
    ts.to_zoned(TimeZone::UTC)
        .strftime("%a, %d %b %Y %H:%M:%S %z")
        .to_string()
}

/// [`rfc1123z`] of an optional API time; an unset time prints like Go's zero time.
pub fn rfc1123z_opt(time: Option<&Time>) -> String {
    match time {
        Some(t) => rfc1123z(t.0),
        None => ZERO_TIME_RFC1123Z.to_string(),
    }
}

/// kubectl `translateTimestampSince`: `<unknown>` for an unset time, else the human age.
pub fn age_since(time: Option<&Time>, now: Timestamp) -> String {
    match time {
        Some(t) => human_duration(now.duration_since(t.0)),
        None => "<unknown>".to_string(),
    }
}

/// kubectl `translateMicroTimestampSince`.
pub fn micro_age_since(time: Option<&MicroTime>, now: Timestamp) -> String {
    match time {
        Some(t) => human_duration(now.duration_since(t.0)),
        None => "<unknown>".to_string(),
    }
}

/// cli-runtime `EscapeTerminal`: neutralises ESC and CR so object data cannot drive the terminal.
pub fn escape_terminal(text: &str) -> String {
    if !text.contains(['\x1b', '\r']) {
        return text.to_string();
    }
    text.replace('\x1b', "^[").replace('\r', "\\r")
}

/// Borrow an optional string as `&str` (`""` when unset), like Go's zero value.
pub fn or_empty(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("valid timestamp")
    }

    #[test]
    fn rfc1123z_uses_utc_offset() {
        assert_eq!(
            rfc1123z(ts("2026-07-06T10:03:30Z")),
            "Mon, 06 Jul 2026 10:03:30 +0000"
        );
        assert_eq!(
            rfc1123z(ts("2026-01-01T00:00:05+02:00")),
            "Wed, 31 Dec 2025 22:00:05 +0000"
        );
        assert_eq!(rfc1123z_opt(None), ZERO_TIME_RFC1123Z);
    }

    #[test]
    fn ages() {
        let now = ts("2026-07-06T10:03:35Z");
        assert_eq!(
            age_since(Some(&Time(ts("2026-07-06T10:00:00Z"))), now),
            "3m35s"
        );
        assert_eq!(age_since(None, now), "<unknown>");
        assert_eq!(
            micro_age_since(Some(&MicroTime(ts("2026-07-06T10:03:40Z"))), now),
            "<invalid>"
        );
    }

    #[test]
    fn terminal_escaping() {
        assert_eq!(escape_terminal("a\x1b[31mb\rc"), "a^[[31mb\\rc");
        assert_eq!(escape_terminal("plain"), "plain");
    }
}
