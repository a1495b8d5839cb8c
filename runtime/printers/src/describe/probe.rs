//! Probe line of `kubectl describe` (`describe.go` `DescribeProbe`, kubectl ≤ 1.36 form).

use k8s_openapi::api::core::v1::Probe;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::text::or_empty;

/// e.g. `http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3`.
///
/// Unset numeric fields print their API defaults (the API server always fills them in, so this
/// is what kubectl would see): delay 0, timeout 1, period 10, success 1, failure 3.
pub fn describe_probe(probe: &Probe) -> String {
    let attrs = format!(
        "delay={}s timeout={}s period={}s #success={} #failure={}",
        probe.initial_delay_seconds.unwrap_or(0),
        probe.timeout_seconds.unwrap_or(1),
        probe.period_seconds.unwrap_or(10),
        probe.success_threshold.unwrap_or(1),
        probe.failure_threshold.unwrap_or(3),
    );
    if let Some(exec) = &probe.exec {
        // Go `%v` of a []string: `[a b c]`.
        let command = exec.command.as_deref().unwrap_or_default().join(" ");
        return format!("exec [{command}] {attrs}");
    }
    if let Some(http) = &probe.http_get {
        // Scheme and path defaults (HTTP, "/") as applied by the API server.
        let scheme = http.scheme.as_deref().unwrap_or("HTTP").to_lowercase();
        let port = int_or_string(&http.port);
        let host = or_empty(&http.host);
        let host = if port.is_empty() {
            host.to_string()
        } else {
            join_host_port(host, &port)
        };
        let path = http.path.as_deref().unwrap_or("/");
        return format!("http-get {} {attrs}", format_url(&scheme, &host, path));
    }
    if let Some(tcp) = &probe.tcp_socket {
        return format!(
            "tcp-socket {}:{} {attrs}",
            or_empty(&tcp.host),
            int_or_string(&tcp.port)
        );
    }
    if let Some(grpc) = &probe.grpc {
        return format!(
            "grpc <pod>:{} {} {attrs}",
            grpc.port,
            or_empty(&grpc.service)
        );
    }
    format!("unknown {attrs}")
}

fn int_or_string(value: &IntOrString) -> String {
    match value {
        IntOrString::Int(n) => n.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

/// Go `net.JoinHostPort`: brackets hosts that contain a colon (IPv6).
fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Go `(&url.URL{Scheme, Host, Path}).String()` for the shapes a probe produces.
fn format_url(scheme: &str, host: &str, path: &str) -> String {
    let mut url = String::new();
    if !scheme.is_empty() {
        url.push_str(scheme);
        url.push(':');
    }
    if !scheme.is_empty() || !host.is_empty() {
        if !host.is_empty() || !path.is_empty() {
            url.push_str("//");
        }
        url.push_str(host);
    }
    if !path.is_empty() && !path.starts_with('/') && !host.is_empty() {
        url.push('/');
    }
    url.push_str(&escape_path(path));
    url
}

/// Go `url.PathEscape`-like escaping used by `URL.EscapedPath` (mode encodePath).
fn escape_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &byte in path.as_bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'-' | b'_'
                    | b'.'
                    | b'~'
                    | b'$'
                    | b'&'
                    | b'+'
                    | b','
                    | b'/'
                    | b':'
                    | b';'
                    | b'='
                    | b'@'
            );
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn probe(value: serde_json::Value) -> Probe {
        serde_json::from_value(value).expect("valid probe")
    }

    #[test]
    fn spec_examples() {
        assert_eq!(
            describe_probe(&probe(
                json!({"httpGet": {"path": "/healthz", "port": 8080}})
            )),
            "http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3"
        );
        assert_eq!(
            describe_probe(&probe(
                json!({"httpGet": {"path": "/", "port": 8080, "scheme": "HTTP"}})
            )),
            "http-get http://:8080/ delay=0s timeout=1s period=10s #success=1 #failure=3"
        );
        assert_eq!(
            describe_probe(&probe(json!({"httpGet": {"path": "/healthz", "port": "liveness-port"}}))),
            "http-get http://:liveness-port/healthz delay=0s timeout=1s period=10s #success=1 #failure=3"
        );
        assert_eq!(
            describe_probe(&probe(json!({"httpGet": {"host": "example.com", "path": "/healthz", "port": 8443, "scheme": "HTTPS"}}))),
            "http-get https://example.com:8443/healthz delay=0s timeout=1s period=10s #success=1 #failure=3"
        );
        assert_eq!(
            describe_probe(&probe(
                json!({"tcpSocket": {"port": 8080}, "initialDelaySeconds": 15, "periodSeconds": 20})
            )),
            "tcp-socket :8080 delay=15s timeout=1s period=20s #success=1 #failure=3"
        );
        assert_eq!(
            describe_probe(&probe(
                json!({"exec": {"command": ["cat", "/tmp/healthy"]}, "initialDelaySeconds": 5, "periodSeconds": 5})
            )),
            "exec [cat /tmp/healthy] delay=5s timeout=1s period=5s #success=1 #failure=3"
        );
        assert_eq!(
            describe_probe(&probe(
                json!({"grpc": {"port": 2379}, "initialDelaySeconds": 10})
            )),
            "grpc <pod>:2379  delay=10s timeout=1s period=10s #success=1 #failure=3"
        );
        assert_eq!(
            describe_probe(&probe(json!({}))),
            "unknown delay=0s timeout=1s period=10s #success=1 #failure=3"
        );
    }

    #[test]
    fn url_edge_cases() {
        assert_eq!(format_url("http", ":80", "healthz"), "http://:80/healthz");
        assert_eq!(format_url("http", ":80", "/a b"), "http://:80/a%20b");
        assert_eq!(join_host_port("::1", "80"), "[::1]:80");
    }
}
