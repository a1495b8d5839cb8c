//! The two github.com/docker/go-units helpers `docker image ls` uses, byte for byte.

const DECIMAL_UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];

/// `units.HumanDuration`: "Less than a second", "5 minutes", "About an hour", "3 days" …
pub fn human_duration(duration: jiff::SignedDuration) -> String {
    let seconds = duration.as_secs_f64();
    let whole_seconds = seconds as i64;
    if whole_seconds < 1 {
        return "Less than a second".to_string();
    }
    if whole_seconds == 1 {
        return "1 second".to_string();
    }
    if whole_seconds < 60 {
        return format!("{whole_seconds} seconds");
    }
    let minutes = (seconds / 60.0) as i64;
    if minutes == 1 {
        return "About a minute".to_string();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    // Go rounds hours to the nearest one here.
    let hours = (seconds / 3600.0 + 0.5) as i64;
    if hours == 1 {
        return "About an hour".to_string();
    }
    if hours < 48 {
        return format!("{hours} hours");
    }
    if hours < 24 * 7 * 2 {
        return format!("{} days", hours / 24);
    }
    if hours < 24 * 30 * 2 {
        return format!("{} weeks", hours / 24 / 7);
    }
    if hours < 24 * 365 * 2 {
        return format!("{} months", hours / 24 / 30);
    }
    format!("{} years", (seconds / 3600.0) as i64 / 24 / 365)
}

/// `units.HumanSizeWithPrecision(size, 3)`: "85.9kB", "2.42MB", "187MB".
pub fn human_size(bytes: u64) -> String {
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit < DECIMAL_UNITS.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    format!("{}{}", format_g(size, 3), DECIMAL_UNITS[unit])
}

/// Go's `%.<precision>g`: shortest of fixed/exponent notation, trailing zeros removed.
fn format_g(value: f64, precision: usize) -> String {
    if value == 0.0 {
        return "0".to_string();
    }
    // Round to `precision` significant digits first; the exponent is taken afterwards
    // (999.6 becomes 1.00e3), exactly as strconv does.
    let scientific = format!("{:.*e}", precision - 1, value);
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if exponent < -4 || exponent >= precision as i32 {
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{}e{sign}{:02}", trim_fraction(mantissa), exponent.abs());
    }
    let decimals = (precision as i32 - 1 - exponent).max(0) as usize;
    trim_fraction(&format!("{value:.decimals$}")).to_string()
}

fn trim_fraction(number: &str) -> &str {
    match number.contains('.') {
        true => number.trim_end_matches('0').trim_end_matches('.'),
        false => number,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;

    #[test]
    fn sizes_match_docker() {
        let cases = [
            (0, "0B"),
            (999, "999B"),
            (1000, "1kB"),
            (85_912, "85.9kB"),
            (100_000, "100kB"),
            (2_417_531, "2.42MB"),
            (187_000_000, "187MB"),
            (999_600, "1e+03kB"),
            (1_500_000_000, "1.5GB"),
        ];
        for (bytes, text) in cases {
            assert_eq!(human_size(bytes), text, "{bytes} bytes");
        }
    }

    #[test]
    fn durations_match_docker() {
        let cases = [
            (0, "Less than a second"),
            (1, "1 second"),
            (59, "59 seconds"),
            (60, "About a minute"),
            (119, "About a minute"),
            (300, "5 minutes"),
            (3599, "59 minutes"),
            (3600, "About an hour"),
            (5399, "About an hour"),
            (5400, "2 hours"),
            (47 * 3600, "47 hours"),
            (48 * 3600, "2 days"),
            (14 * 24 * 3600, "2 weeks"),
            (60 * 24 * 3600, "2 months"),
            (2 * 365 * 24 * 3600, "2 years"),
        ];
        for (seconds, text) in cases {
            assert_eq!(
                human_duration(SignedDuration::from_secs(seconds)),
                text,
                "{seconds}s"
            );
        }
    }
}
