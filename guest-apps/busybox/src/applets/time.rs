//! `sleep` and `date` (UTC; WASI clocks).

use crate::io::Io;
use crate::shell::Shell;
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `sleep N[smhd]…` (fractions allowed, arguments add up); `inf`/`infinity` sleeps forever.
pub fn sleep(_: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    if argv.len() < 2 {
        io.error(format_args!("sleep: missing operand"));
        return 1;
    }
    let mut total = 0f64;
    for arg in &argv[1..] {
        match parse_duration(arg) {
            Some(seconds) => total += seconds,
            None => {
                io.error(format_args!("sleep: invalid number '{arg}'"));
                return 1;
            }
        }
    }
    if total.is_infinite() {
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    std::thread::sleep(Duration::from_secs_f64(total));
    0
}

pub fn parse_duration(text: &str) -> Option<f64> {
    if matches!(text, "inf" | "infinity" | "INF" | "Infinity") {
        return Some(f64::INFINITY);
    }
    let (number, unit) = match text.char_indices().last()? {
        (cut, 's') => (&text[..cut], 1.0),
        (cut, 'm') => (&text[..cut], 60.0),
        (cut, 'h') => (&text[..cut], 3600.0),
        (cut, 'd') => (&text[..cut], 86400.0),
        _ => (text, 1.0),
    };
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let seconds = number.parse::<f64>().ok()? * unit;
    seconds.is_finite().then_some(seconds)
}

/// A broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Sunday.
    pub weekday: u32,
}

/// Seconds since the epoch → UTC calendar time (Howard Hinnant's days-from-civil inverse).
pub fn civil(epoch_seconds: i64) -> Civil {
    let days = epoch_seconds.div_euclid(86400);
    let second_of_day = epoch_seconds.rem_euclid(86400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: (second_of_day / 3600) as u32,
        minute: (second_of_day % 3600 / 60) as u32,
        second: (second_of_day % 60) as u32,
        weekday: (days + 4).rem_euclid(7) as u32,
    }
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// strftime subset; the default is busybox's `%a %b %e %H:%M:%S %Z %Y`.
pub fn format_time(format: &str, epoch_seconds: i64) -> String {
    let t = civil(epoch_seconds);
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let piece = match chars.next() {
            Some('a') => WEEKDAYS[t.weekday as usize].to_string(),
            Some('b') | Some('h') => MONTHS[(t.month - 1) as usize].to_string(),
            Some('d') => format!("{:02}", t.day),
            Some('e') => format!("{:>2}", t.day),
            Some('H') => format!("{:02}", t.hour),
            Some('M') => format!("{:02}", t.minute),
            Some('S') => format!("{:02}", t.second),
            Some('Y') => t.year.to_string(),
            Some('y') => format!("{:02}", t.year.rem_euclid(100)),
            Some('m') => format!("{:02}", t.month),
            Some('j') => {
                let start = civil_days(t.year, 1, 1);
                format!("{:03}", epoch_seconds.div_euclid(86400) - start + 1)
            }
            Some('Z') => "UTC".into(),
            Some('z') => "+0000".into(),
            Some('s') => epoch_seconds.to_string(),
            Some('T') => format!("{:02}:{:02}:{:02}", t.hour, t.minute, t.second),
            Some('R') => format!("{:02}:{:02}", t.hour, t.minute),
            Some('F') => format!("{}-{:02}-{:02}", t.year, t.month, t.day),
            Some('D') => format!("{:02}/{:02}/{:02}", t.month, t.day, t.year.rem_euclid(100)),
            Some('n') => "\n".into(),
            Some('t') => "\t".into(),
            Some('%') => "%".into(),
            Some(other) => format!("%{other}"),
            None => "%".into(),
        };
        out.push_str(&piece);
    }
    out
}

fn civil_days(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let shifted = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

/// `date [-u] [-R] [-I] [+FORMAT]`; setting the clock is not possible.
pub fn date(_: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let mut format = "%a %b %e %H:%M:%S %Z %Y".to_string();
    for arg in &argv[1..] {
        match arg.as_str() {
            "-u" | "--utc" => {}
            "-R" => format = "%a, %d %b %Y %H:%M:%S %z".into(),
            "-I" => format = "%F".into(),
            _ if arg.starts_with('+') => format = arg[1..].to_string(),
            _ => {
                io.error(format_args!(
                    "date: can't set date: Operation not permitted"
                ));
                return 1;
            }
        }
    }
    let _ = writeln!(io.stdout, "{}", format_time(&format, now_seconds()));
    0
}

/// `ls -l` timestamp: `Mon DD HH:MM`.
pub fn ls_time(time: SystemTime) -> String {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64);
    format_time("%b %e %H:%M", seconds)
}
