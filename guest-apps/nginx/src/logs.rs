//! nginx's console output: the image entrypoint's lines (stdout), the error log's notices
//! (stderr, `2006/01/02 15:04:05 [notice] 1#1: ...`) and the `main` access-log format
//! (stdout).

/// Lines `/docker-entrypoint.sh` prints before exec'ing nginx (stdout).
pub const ENTRYPOINT_LINES: [&str; 9] = [
    "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
    "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
    "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf",
    "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf",
    "/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
    "/docker-entrypoint.sh: Configuration complete; ready for start up",
];

/// (process id, message) of the master's start-up notices.
pub const START_NOTICES: [(u32, &str); 6] = [
    (1, "using the \"epoll\" event method"),
    (1, "nginx/1.27.5"),
    (1, "built by gcc 12.2.0 (Debian 12.2.0-14) "),
    (1, "OS: Linux"),
    (1, "start worker processes"),
    (1, "start worker process 29"),
];

/// Notices of a graceful stop: the image's STOPSIGNAL is SIGQUIT.
pub const STOP_NOTICES: [(u32, &str); 7] = [
    (1, "signal 3 (SIGQUIT) received, shutting down"),
    (29, "gracefully shutting down"),
    (29, "exiting"),
    (29, "exit"),
    (1, "signal 17 (SIGCHLD) received from 29"),
    (1, "worker process 29 exited with code 0"),
    (1, "exit"),
];

pub fn notice(unix_seconds: i64, pid: u32, message: &str) -> String {
    let c = civil(unix_seconds);
    format!(
        "{:04}/{:02}/{:02} {:02}:{:02}:{:02} [notice] {pid}#{pid}: {message}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

pub struct AccessEntry<'a> {
    pub method: &'a str,
    pub path_with_query: &'a str,
    pub status: u16,
    pub body_bytes: usize,
    pub referer: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    /// The request's X-Forwarded-For as the host delivered it (peer IP appended last).
    pub forwarded_for: Option<&'a str>,
}

/// `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
/// "$http_referer" "$http_user_agent" "$http_x_forwarded_for"`. The peer is the entry the
/// host appended to X-Forwarded-For; what came before it is the client's own header.
pub fn access_line(unix_seconds: i64, entry: &AccessEntry) -> String {
    let (client_header, peer) = match entry.forwarded_for.map(str::trim) {
        Some(value) => match value.rsplit_once(',') {
            Some((before, last)) => (Some(before.trim()), last.trim()),
            None => (None, value),
        },
        None => (None, "-"),
    };
    let c = civil(unix_seconds);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{peer} - - [{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000] \"{} {} HTTP/1.1\" {} {} \"{}\" \"{}\" \"{}\"",
        c.day,
        MONTHS[(c.month - 1) as usize],
        c.year,
        c.hour,
        c.minute,
        c.second,
        entry.method,
        entry.path_with_query,
        entry.status,
        entry.body_bytes,
        entry.referer.unwrap_or("-"),
        entry.user_agent.unwrap_or("-"),
        client_header.filter(|v| !v.is_empty()).unwrap_or("-"),
    )
}

struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

/// Days-to-civil (Howard Hinnant's algorithm), UTC.
fn civil(unix_seconds: i64) -> Civil {
    let days = unix_seconds.div_euclid(86_400);
    let second_of_day = unix_seconds.rem_euclid(86_400) as u32;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    Civil {
        year: yoe + era * 400 + i64::from(month <= 2),
        month,
        day,
        hour: second_of_day / 3600,
        minute: second_of_day / 60 % 60,
        second: second_of_day % 60,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_783_332_000; // 2026-07-06 10:00:00 UTC

    #[test]
    fn notices_look_like_the_error_log() {
        assert_eq!(
            notice(T, 1, "signal 3 (SIGQUIT) received, shutting down"),
            "2026/07/06 10:00:00 [notice] 1#1: signal 3 (SIGQUIT) received, shutting down"
        );
    }

    #[test]
    fn access_lines_use_the_main_format() {
        let probe = AccessEntry {
            method: "GET",
            path_with_query: "/",
            status: 200,
            body_bytes: 615,
            referer: None,
            user_agent: Some("kube-probe/1.33"),
            forwarded_for: Some("10.244.0.1"),
        };
        assert_eq!(
            access_line(T, &probe),
            "10.244.0.1 - - [06/Jul/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 615 \"-\" \"kube-probe/1.33\" \"-\""
        );
        let proxied = AccessEntry {
            forwarded_for: Some("203.0.113.9, 10.244.0.1"),
            ..probe
        };
        assert!(access_line(T, &proxied).ends_with("\"kube-probe/1.33\" \"203.0.113.9\""));
        assert!(access_line(T, &proxied).starts_with("10.244.0.1 - - "));
    }
}
