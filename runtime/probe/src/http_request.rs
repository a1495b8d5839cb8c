//! `pkg/probe/http/request.go`: `NewRequestForHTTPGetAction` / `newProbeRequest`.

use k8s_openapi::api::core::v1::{Container, HTTPGetAction};

use crate::go_text::canonical_header_key;
use crate::port::resolve_port;
use crate::probe_url::ProbeUrl;
use crate::KUBE_PROBE_USER_AGENT;

/// A probe request as the kubelet builds it, before any I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpGetRequest {
    /// Lower-case scheme, `http` when the action left it empty.
    pub url_scheme: String,
    /// `httpGet.host`, or the pod IP when empty.
    pub host: String,
    pub port: u16,
    /// What Go's `URL.String()` prints after `host:port` (escaped path, `?query`).
    pub path_and_query: String,
    /// Go's `req.Header` in order: the user's `httpHeaders` (canonical names, repeats
    /// kept), then `User-Agent` and `Accept` defaults where the user gave none.
    pub headers: Vec<(String, String)>,
}

impl HttpGetRequest {
    /// Builds the request for `action`. The error is the port resolution error, which the
    /// kubelet turns into a probe *error* (`Unknown` + error).
    pub fn new(
        action: &HTTPGetAction,
        pod_ip: &str,
        container: &Container,
    ) -> Result<Self, String> {
        let scheme = match action.scheme.as_deref().unwrap_or_default().to_lowercase() {
            scheme if scheme.is_empty() => "http".to_string(),
            scheme => scheme,
        };
        let host = match action.host.as_deref() {
            Some(host) if !host.is_empty() => host.to_string(),
            _ => pod_ip.to_string(),
        };
        let port = resolve_port(&action.port, container)?;
        let path = action.path.as_deref().unwrap_or_default();
        let url = ProbeUrl::for_probe(&scheme, &host, port, path);
        let user_headers = action
            .http_headers
            .iter()
            .flatten()
            .map(|header| (canonical_header_key(&header.name), header.value.clone()))
            .collect();
        Ok(Self {
            url_scheme: scheme,
            host,
            port,
            path_and_query: url.suffix(),
            headers: with_probe_defaults(user_headers),
        })
    }

    /// The probe URL as Go prints it, e.g. `http://10.244.1.5:8080/healthz`.
    pub fn url(&self) -> String {
        self.probe_url().to_string()
    }

    pub(crate) fn probe_url(&self) -> ProbeUrl {
        ProbeUrl::from_parts(
            &self.url_scheme,
            &self.host,
            self.port,
            &self.path_and_query,
        )
    }
}

/// `newProbeRequest`: default `User-Agent` and `Accept: */*`; an empty user `Accept`
/// removes the header altogether.
fn with_probe_defaults(mut headers: Vec<(String, String)>) -> Vec<(String, String)> {
    if first_header_value(&headers, "User-Agent").is_none() {
        headers.push(("User-Agent".into(), KUBE_PROBE_USER_AGENT.into()));
    }
    match first_header_value(&headers, "Accept") {
        None => headers.push(("Accept".into(), "*/*".into())),
        Some("") => headers.retain(|(name, _)| name != "Accept"),
        Some(_) => {}
    }
    headers
}

/// `http.Header.Get`: the first value of a (canonical) key.
pub(crate) fn first_header_value<'a>(
    headers: &'a [(String, String)],
    key: &str,
) -> Option<&'a str> {
    headers
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ContainerPort, HTTPHeader};
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    fn action(path: &str, headers: &[(&str, &str)]) -> HTTPGetAction {
        HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::String("web".into()),
            http_headers: Some(
                headers
                    .iter()
                    .map(|(name, value)| HTTPHeader {
                        name: (*name).into(),
                        value: (*value).into(),
                    })
                    .collect(),
            ),
            ..Default::default()
        }
    }

    fn container() -> Container {
        Container {
            name: "app".into(),
            ports: Some(vec![ContainerPort {
                name: Some("web".into()),
                container_port: 8080,
                ..Default::default()
            }]),
            ..Default::default()
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn builds_url_from_pod_ip_named_port_and_path() {
        let request =
            HttpGetRequest::new(&action("/healthz?x=1", &[]), "127.1.0.5", &container()).unwrap();
        assert_eq!(request.url(), "http://127.1.0.5:8080/healthz?x=1");
        assert_eq!(
            request.headers,
            pairs(&[("User-Agent", "kube-probe/1.33"), ("Accept", "*/*")])
        );
    }

    #[test]
    fn scheme_is_lowercased_and_host_overrides_pod_ip() {
        let mut action = action("/", &[]);
        action.scheme = Some("HTTPS".into());
        action.host = Some("example.test".into());
        let request = HttpGetRequest::new(&action, "10.0.0.1", &container()).unwrap();
        assert_eq!(request.url(), "https://example.test:8080/");
    }

    #[test]
    fn user_headers_are_canonical_and_override_defaults() {
        let request = HttpGetRequest::new(
            &action(
                "/",
                &[("x-custom", "a"), ("user-agent", "mine"), ("X-CUSTOM", "b")],
            ),
            "10.0.0.1",
            &container(),
        )
        .unwrap();
        assert_eq!(
            request.headers,
            pairs(&[
                ("X-Custom", "a"),
                ("User-Agent", "mine"),
                ("X-Custom", "b"),
                ("Accept", "*/*")
            ])
        );
    }

    #[test]
    fn empty_user_accept_removes_the_header() {
        let request =
            HttpGetRequest::new(&action("/", &[("Accept", "")]), "10.0.0.1", &container()).unwrap();
        assert_eq!(request.headers, pairs(&[("User-Agent", "kube-probe/1.33")]));
    }

    #[test]
    fn unresolvable_port_is_an_error() {
        let mut action = action("/", &[]);
        action.port = IntOrString::String("metrics".into());
        assert_eq!(
            HttpGetRequest::new(&action, "10.0.0.1", &container()),
            Err(r#"strconv.Atoi: parsing "metrics": invalid syntax"#.into())
        );
    }
}
