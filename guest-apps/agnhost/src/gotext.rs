//! Go's text formats that the real images put on the wire or in their logs: `Duration.String()`,
//! `%v` of `Duration.Seconds()`, `time.ParseDuration`, `Time.String()`, the `log` prefix,
//! the HTTP `Date` header and `%q`.

const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// Go's `time.Duration.String()`, e.g. `1m2.5s`, `3.000000001s`, `1.5ms`, `0s`.
pub fn duration_string(nanos: i128) -> String {
    if nanos == 0 {
        return "0s".to_string();
    }
    let negative = nanos < 0;
    let mut u = nanos.unsigned_abs();
    let mut out = String::new();
    if u < NANOS_PER_SECOND as u128 {
        // Below one second Go switches to a smaller unit, keeping a fraction.
        let (precision, unit) = match u {
            0..=999 => (0, "ns"),
            1_000..=999_999 => (3, "µs"),
            _ => (6, "ms"),
        };
        let (fraction, whole) = fraction_digits(u, precision);
        out.push_str(&whole.to_string());
        out.push_str(&fraction);
        out.push_str(unit);
    } else {
        let (fraction, whole_seconds) = fraction_digits(u, 9);
        u = whole_seconds;
        let seconds = u % 60;
        u /= 60;
        if u > 0 {
            let minutes = u % 60;
            let hours = u / 60;
            if hours > 0 {
                out.push_str(&format!("{hours}h"));
            }
            out.push_str(&format!("{minutes}m"));
        }
        out.push_str(&format!("{seconds}{fraction}s"));
    }
    if negative {
        out.insert(0, '-');
    }
    out
}

/// Go's `fmtFrac`: the `precision` low decimal digits of `value` as `.ddd` without trailing
/// zeros (empty when they are all zero), and the remaining high part.
fn fraction_digits(value: u128, precision: u32) -> (String, u128) {
    let divisor = 10u128.pow(precision);
    let low = value % divisor;
    if low == 0 {
        return (String::new(), value / divisor);
    }
    let digits = format!("{low:0width$}", width = precision as usize);
    (
        format!(".{}", digits.trim_end_matches('0')),
        value / divisor,
    )
}

/// `fmt.Sprintf("%v", d.Seconds())`: Go computes `float64(sec) + float64(nsec)/1e9` and prints
/// the shortest representation that round-trips, as Rust's `Display` for f64 does (both print
/// without an exponent in the range that matters here, 1e-4..1e21).
pub fn seconds_float(nanos: i64) -> String {
    let whole = nanos / NANOS_PER_SECOND as i64;
    let fraction = nanos % NANOS_PER_SECOND as i64;
    let seconds = whole as f64 + fraction as f64 / 1e9;
    format!("{seconds}")
}

/// Go's `time.ParseDuration` (units ns, us, µs, μs, ms, s, m, h; decimals allowed). Returns
/// nanoseconds.
pub fn parse_duration(text: &str) -> Option<i128> {
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let integer_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let integer = &rest[..integer_len];
        rest = &rest[integer_len..];
        let mut fraction = "";
        if let Some(after_dot) = rest.strip_prefix('.') {
            let fraction_len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
            fraction = &after_dot[..fraction_len];
            rest = &after_dot[fraction_len..];
        }
        if integer.is_empty() && fraction.is_empty() {
            return None;
        }
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(rest.len(), |(index, _)| index);
        let unit: i128 = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => NANOS_PER_SECOND,
            "m" => 60 * NANOS_PER_SECOND,
            "h" => 3600 * NANOS_PER_SECOND,
            _ => return None,
        };
        rest = &rest[unit_len..];
        let whole: i128 = if integer.is_empty() {
            0
        } else {
            integer.parse().ok()?
        };
        let mut value = whole.checked_mul(unit)?;
        if !fraction.is_empty() {
            let digits = &fraction[..fraction.len().min(30)];
            let numerator: i128 = digits.parse().ok()?;
            value += numerator * unit / 10i128.pow(digits.len() as u32);
        }
        total = total.checked_add(value)?;
    }
    Some(if negative { -total } else { total })
}

/// A calendar date and time of day in UTC.
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    weekday: usize,
}

/// Days-to-civil (Howard Hinnant's algorithm) for a Unix time in seconds.
fn civil(unix_seconds: i64) -> Civil {
    let days = unix_seconds.div_euclid(86_400);
    let second_of_day = unix_seconds.rem_euclid(86_400) as u32;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: second_of_day / 3600,
        minute: second_of_day / 60 % 60,
        second: second_of_day % 60,
        // 1970-01-01 was a Thursday.
        weekday: (days + 4).rem_euclid(7) as usize,
    }
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Go's `Time.String()` in UTC (containers run without TZ), with the monotonic reading:
/// `2026-07-06 10:00:00.123456789 +0000 UTC m=+12.345678901`.
pub fn time_string(unix_nanos: i128, monotonic_nanos: u128) -> String {
    let seconds = unix_nanos.div_euclid(NANOS_PER_SECOND) as i64;
    let nanos = unix_nanos.rem_euclid(NANOS_PER_SECOND) as u128;
    let c = civil(seconds);
    let (fraction, _) = fraction_digits(nanos, 9);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}{} +0000 UTC m=+{}.{:09}",
        c.year,
        c.month,
        c.day,
        c.hour,
        c.minute,
        c.second,
        fraction,
        monotonic_nanos / NANOS_PER_SECOND as u128,
        monotonic_nanos % NANOS_PER_SECOND as u128
    )
}

/// The standard `log` prefix without its trailing space: `2006/01/02 15:04:05`.
pub fn log_timestamp(unix_seconds: i64) -> String {
    let c = civil(unix_seconds);
    format!(
        "{:04}/{:02}/{:02} {:02}:{:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// The HTTP `Date` header: `Mon, 06 Jul 2026 10:00:00 GMT`.
pub fn http_date(unix_seconds: i64) -> String {
    let c = civil(unix_seconds);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[c.weekday],
        c.day,
        MONTHS[(c.month - 1) as usize],
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}

/// nginx's access-log time: `06/Jul/2026:10:00:00 +0000`.
pub fn common_log_time(unix_seconds: i64) -> String {
    let c = civil(unix_seconds);
    format!(
        "{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000",
        c.day,
        MONTHS[(c.month - 1) as usize],
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}

/// Go's `%q` (strconv.Quote) for the strings that show up in error texts.
pub fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i128 = 1_000_000;
    const S: i128 = 1_000_000_000;

    #[test]
    fn durations_print_like_go() {
        assert_eq!(duration_string(0), "0s");
        assert_eq!(duration_string(1), "1ns");
        assert_eq!(duration_string(1_100), "1.1µs");
        assert_eq!(duration_string(2_200_000), "2.2ms");
        assert_eq!(duration_string(3 * S + 1), "3.000000001s");
        assert_eq!(duration_string(10 * S + 500 * MS), "10.5s");
        assert_eq!(duration_string(62 * S + 500 * MS), "1m2.5s");
        assert_eq!(duration_string(3600 * S), "1h0m0s");
        assert_eq!(duration_string(-1500 * MS), "-1.5s");
        assert_eq!(duration_string(5 * S), "5s");
    }

    #[test]
    fn seconds_print_like_go_percent_v() {
        assert_eq!(seconds_float(10_000_000_000), "10");
        assert_eq!(seconds_float(12_345_678_901), "12.345678901");
        assert_eq!(seconds_float(10_500_000_000), "10.5");
        // float64(10) + float64(123)/1e9 is not exactly representable; shortest repr wins.
        assert_eq!(seconds_float(10_000_000_123), "10.000000123");
    }

    #[test]
    fn go_durations_parse() {
        assert_eq!(parse_duration("0"), Some(0));
        assert_eq!(parse_duration("1s"), Some(S));
        assert_eq!(parse_duration("1.5s"), Some(1500 * MS));
        assert_eq!(parse_duration("1m30s"), Some(90 * S));
        assert_eq!(parse_duration("300ms"), Some(300 * MS));
        assert_eq!(parse_duration("2h45m"), Some((2 * 3600 + 45 * 60) * S));
        assert_eq!(parse_duration("1µs"), Some(1_000));
        assert_eq!(parse_duration("-.5s"), Some(-500 * MS));
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("1"), None);
        assert_eq!(parse_duration("abc"), None);
        assert_eq!(parse_duration("1x"), None);
    }

    #[test]
    fn times_print_like_go() {
        // 2026-07-06T10:00:00Z = 1783332000
        let unix = 1_783_332_000i128 * S;
        assert_eq!(
            time_string(unix + 123_456_789, 12 * S as u128 + 5),
            "2026-07-06 10:00:00.123456789 +0000 UTC m=+12.000000005"
        );
        assert_eq!(
            time_string(unix + 500 * MS, 0),
            "2026-07-06 10:00:00.5 +0000 UTC m=+0.000000000"
        );
        assert_eq!(log_timestamp(1_783_332_000), "2026/07/06 10:00:00");
        assert_eq!(http_date(1_783_332_000), "Mon, 06 Jul 2026 10:00:00 GMT");
        assert_eq!(common_log_time(1_783_332_000), "06/Jul/2026:10:00:00 +0000");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(log_timestamp(951_782_400), "2000/02/29 00:00:00");
    }

    #[test]
    fn quoting_matches_strconv_quote() {
        assert_eq!(quote("abc"), "\"abc\"");
        assert_eq!(quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(quote("\u{1}"), "\"\\x01\"");
    }
}
