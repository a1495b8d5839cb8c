//! Duration texts: apimachinery `HumanDuration` (ages) and Go's `time.Duration.String()`
//! (kubelet messages such as `back-off 1m20s …` or `Successfully pulled image … in 1.387s`).

use std::time::Duration;

use jiff::SignedDuration;

/// Port of `k8s.io/apimachinery/pkg/util/duration.HumanDuration`.
///
/// Seconds are truncated, never rounded; up to one second in the future still reads `0s`
/// (clock skew tolerance), anything further in the future is `<invalid>`.
pub fn human_duration(d: SignedDuration) -> String {
    // Go: `int(d.Seconds())` truncates toward zero, so -1.9 s counts as -1.
    let seconds = d.as_secs();
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        return format!("{hours}h{m}m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        return format!("{}d{}h", hours / 24, h);
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        return format!("{}y{}d", hours / 24 / 365, dy);
    }
    format!("{}y", hours / 24 / 365)
}

/// Port of Go's `time.Duration.String()`: `0s`, `488ms`, `1.387s`, `1m20s`, `5m0s`, `1h0m0s`.
pub fn go_duration(d: Duration) -> String {
    go_duration_nanos(d.as_nanos(), false)
}

/// Same as [`go_duration`] for a signed duration (negative values get a leading `-`).
pub fn go_signed_duration(d: SignedDuration) -> String {
    let nanos = d.as_nanos();
    go_duration_nanos(nanos.unsigned_abs(), nanos < 0)
}

const NANOS_PER_MICRO: u128 = 1_000;
const NANOS_PER_MILLI: u128 = 1_000_000;
const NANOS_PER_SECOND: u128 = 1_000_000_000;

fn go_duration_nanos(mut u: u128, negative: bool) -> String {
    // Built back to front, like Go's `Duration.format`.
    let mut rev: Vec<char> = Vec::with_capacity(32);
    rev.push('s');
    if u < NANOS_PER_SECOND {
        let precision = if u == 0 {
            return "0s".to_string();
        } else if u < NANOS_PER_MICRO {
            rev.push('n');
            0
        } else if u < NANOS_PER_MILLI {
            rev.push('µ');
            3
        } else {
            rev.push('m');
            6
        };
        u = push_fraction(&mut rev, u, precision);
        push_integer(&mut rev, u);
    } else {
        u = push_fraction(&mut rev, u, 9);
        push_integer(&mut rev, u % 60);
        u /= 60;
        if u > 0 {
            rev.push('m');
            push_integer(&mut rev, u % 60);
            u /= 60;
            if u > 0 {
                rev.push('h');
                push_integer(&mut rev, u);
            }
        }
    }
    if negative {
        rev.push('-');
    }
    rev.iter().rev().collect()
}

/// Go `fmtFrac`: the `precision` lowest digits as a fraction without trailing zeros
/// (and without the dot when the fraction is zero). Returns the remaining integer part.
fn push_fraction(rev: &mut Vec<char>, mut v: u128, precision: u32) -> u128 {
    let mut printing = false;
    for _ in 0..precision {
        let digit = (v % 10) as u8;
        printing = printing || digit != 0;
        if printing {
            rev.push(char::from(b'0' + digit));
        }
        v /= 10;
    }
    if printing {
        rev.push('.');
    }
    v
}

fn push_integer(rev: &mut Vec<char>, mut v: u128) {
    if v == 0 {
        rev.push('0');
        return;
    }
    while v > 0 {
        rev.push(char::from(b'0' + (v % 10) as u8));
        v /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: i64) -> SignedDuration {
        SignedDuration::from_secs(s)
    }

    #[test]
    fn human_duration_spec_table_and_boundaries() {
        let cases: &[(SignedDuration, &str)] = &[
            (secs(-3), "<invalid>"),
            (secs(-2), "<invalid>"),
            (SignedDuration::from_millis(-1999), "0s"),
            (secs(-1), "0s"),
            (secs(0), "0s"),
            (SignedDuration::from_millis(999), "0s"),
            (secs(5), "5s"),
            (secs(94), "94s"),
            (SignedDuration::from_millis(119_999), "119s"),
            (secs(120), "2m"),
            (secs(121), "2m1s"),
            (secs(215), "3m35s"),
            (secs(300), "5m"),
            (secs(599), "9m59s"),
            (secs(600), "10m"),
            (secs(16 * 60 + 59), "16m"),
            (secs(179 * 60 + 59), "179m"),
            (secs(3 * 3600), "3h"),
            (secs(3 * 3600 + 60), "3h1m"),
            (secs(7 * 3600 + 59 * 60 + 59), "7h59m"),
            (secs(8 * 3600), "8h"),
            (secs(47 * 3600 + 3599), "47h"),
            (secs(48 * 3600), "2d"),
            (secs(50 * 3600), "2d2h"),
            (secs(8 * 24 * 3600 - 1), "7d23h"),
            (secs(8 * 24 * 3600), "8d"),
            (secs(729 * 24 * 3600), "729d"),
            (secs(730 * 24 * 3600), "2y"),
            (secs(731 * 24 * 3600), "2y1d"),
            (secs(8 * 365 * 24 * 3600 - 1), "7y364d"),
            (secs(8 * 365 * 24 * 3600), "8y"),
            (secs(20 * 365 * 24 * 3600), "20y"),
        ];
        for (d, want) in cases {
            assert_eq!(human_duration(*d), *want, "for {d:?}");
        }
    }

    #[test]
    fn go_duration_matches_go_strings() {
        let cases: &[(Duration, &str)] = &[
            (Duration::ZERO, "0s"),
            (Duration::from_nanos(1), "1ns"),
            (Duration::from_nanos(1_100), "1.1µs"),
            (Duration::from_millis(488), "488ms"),
            (Duration::from_micros(2_200), "2.2ms"),
            (Duration::from_millis(1_387), "1.387s"),
            (Duration::from_millis(4_100), "4.1s"),
            (Duration::from_secs(10), "10s"),
            (Duration::from_secs(20), "20s"),
            (Duration::from_secs(40), "40s"),
            (Duration::from_secs(80), "1m20s"),
            (Duration::from_secs(160), "2m40s"),
            (Duration::from_secs(300), "5m0s"),
            (Duration::from_secs(3600), "1h0m0s"),
            (Duration::from_millis(3_723_500), "1h2m3.5s"),
        ];
        for (d, want) in cases {
            assert_eq!(go_duration(*d), *want, "for {d:?}");
        }
        assert_eq!(go_signed_duration(SignedDuration::from_secs(-80)), "-1m20s");
    }
}
