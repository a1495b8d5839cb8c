//! One operation's conversation with one repository under one credential: requests are
//! retried once after a 401 with Basic credentials or a bearer token obtained from the
//! challenge's realm (the distribution token flow), as containerd's authorizer does.

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use serde::Deserialize;

use base64::Engine as _;

use crate::error::{status_text, RegistryError, Stage};
use crate::keyring::Credential;
use crate::transport::{read_body, Fetched, Transport};

const TOKEN_RESPONSE_LIMIT: u64 = 1 << 20;

/// Where a repository lives: `http://127.0.0.1:5000` + `app`.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub scheme: &'static str,
    /// `host[:port]` of the registry API (`registry-1.docker.io` for docker.io).
    pub host: String,
    pub repository: String,
}

impl Endpoint {
    pub(crate) fn url(&self, tail: &str) -> String {
        format!(
            "{}://{}/v2/{}/{tail}",
            self.scheme, self.host, self.repository
        )
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Access {
    Pull,
    Push,
}

pub(crate) struct Session<'a> {
    transport: &'a Transport,
    endpoint: &'a Endpoint,
    credential: &'a Credential,
    access: Access,
    authorization: Option<HeaderValue>,
}

impl<'a> Session<'a> {
    pub(crate) fn new(
        transport: &'a Transport,
        endpoint: &'a Endpoint,
        credential: &'a Credential,
        access: Access,
    ) -> Session<'a> {
        Session {
            transport,
            endpoint,
            credential,
            access,
            authorization: None,
        }
    }

    pub(crate) fn endpoint(&self) -> &Endpoint {
        self.endpoint
    }

    /// Sends a request; on 401 authorizes from the challenge and sends it once more.
    pub(crate) async fn request(
        &mut self,
        method: Method,
        url: &str,
        headers: &HeaderMap,
        body: Bytes,
        stage: Stage,
    ) -> Result<Fetched, RegistryError> {
        let fetched = self
            .send(method.clone(), url, headers, body.clone(), stage)
            .await?;
        if fetched.response.status() != StatusCode::UNAUTHORIZED {
            return Ok(fetched);
        }
        let challenges: Vec<Challenge> = fetched
            .response
            .headers()
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(Challenge::parse)
            .collect();
        match self.authorize(&challenges, stage).await? {
            Some(authorization) => {
                self.authorization = Some(authorization);
                self.send(method, url, headers, body, stage).await
            }
            None => Ok(fetched),
        }
    }

    async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &HeaderMap,
        body: Bytes,
        stage: Stage,
    ) -> Result<Fetched, RegistryError> {
        let authorization = self
            .authorization
            .as_ref()
            .map(|value| (self.endpoint.host.as_str(), value));
        self.transport
            .send(method, url, headers, body, authorization, stage)
            .await
    }

    /// The Authorization header answering one of `challenges`, or None when this
    /// credential cannot answer any (e.g. anonymous against Basic).
    async fn authorize(
        &self,
        challenges: &[Challenge],
        stage: Stage,
    ) -> Result<Option<HeaderValue>, RegistryError> {
        if let Credential::Bearer(token) = self.credential {
            return Ok(header_value(&format!("Bearer {token}")));
        }
        if let Some(bearer) = challenges
            .iter()
            .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))
        {
            let token = self.fetch_token(bearer, stage).await?;
            return Ok(header_value(&format!("Bearer {token}")));
        }
        let basic_offered = challenges
            .iter()
            .any(|c| c.scheme.eq_ignore_ascii_case("basic"));
        match self.credential {
            Credential::Basic { username, password } if basic_offered => {
                Ok(basic_header(username, password))
            }
            _ => Ok(None),
        }
    }

    /// `GET <realm>?scope=repository:<name>:pull[,push]&service=<service>`.
    async fn fetch_token(
        &self,
        challenge: &Challenge,
        stage: Stage,
    ) -> Result<String, RegistryError> {
        let realm = challenge.param("realm").unwrap_or_default();
        let actions = match self.access {
            Access::Pull => "pull",
            Access::Push => "pull,push",
        };
        let mut query = vec![(
            "scope".to_string(),
            format!("repository:{}:{actions}", self.endpoint.repository),
        )];
        if let Some(service) = challenge.param("service") {
            query.push(("service".to_string(), service.to_string()));
        }
        let encoded: Vec<String> = query
            .iter()
            .map(|(key, value)| format!("{key}={}", percent_encode(value)))
            .collect();
        let separator = if realm.contains('?') { '&' } else { '?' };
        let url = format!("{realm}{separator}{}", encoded.join("&"));
        let realm_host = url
            .parse::<Uri>()
            .ok()
            .and_then(|uri| uri.authority().map(|a| a.to_string()))
            .unwrap_or_default();
        let basic = match self.credential {
            Credential::Basic { username, password } => basic_header(username, password),
            _ => None,
        };
        let authorization = basic.as_ref().map(|value| (realm_host.as_str(), value));
        let fetched = self
            .transport
            .send(
                Method::GET,
                &url,
                &HeaderMap::new(),
                Bytes::new(),
                authorization,
                stage,
            )
            .await?;
        let status = fetched.response.status();
        if !status.is_success() {
            return Err(status_error(stage, &fetched.method, &fetched.url, status));
        }
        let body = read_body(
            fetched.response,
            TOKEN_RESPONSE_LIMIT,
            stage,
            &url,
            &mut |_| {},
        )
        .await?;
        #[derive(Deserialize)]
        struct TokenResponse {
            #[serde(default)]
            token: String,
            #[serde(default)]
            access_token: String,
        }
        let parsed: TokenResponse =
            serde_json::from_slice(&body).map_err(|e| RegistryError::Transport {
                stage,
                message: format!("failed to decode token response from {url}: {e}"),
            })?;
        let token = if parsed.token.is_empty() {
            parsed.access_token
        } else {
            parsed.token
        };
        if token.is_empty() {
            return Err(RegistryError::Transport {
                stage,
                message: format!("token response from {url} carries no token"),
            });
        }
        Ok(token)
    }
}

/// 401/403 are authorization failures; every other failure status is unexpected.
pub(crate) fn status_error(
    stage: Stage,
    method: &Method,
    url: &str,
    status: StatusCode,
) -> RegistryError {
    let (method, url, status_line) = (method.to_string(), url.to_string(), status_text(status));
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        RegistryError::Unauthorized {
            stage,
            method,
            url,
            status: status_line,
        }
    } else {
        RegistryError::UnexpectedStatus {
            stage,
            method,
            url,
            status: status_line,
        }
    }
}

fn basic_header(username: &str, password: &str) -> Option<HeaderValue> {
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    header_value(&format!("Basic {encoded}"))
}

fn header_value(text: &str) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(text).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// RFC 3986 query component: everything but unreserved characters is escaped.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One `WWW-Authenticate` challenge: `Bearer realm="…",service="…",scope="…"`.
#[derive(Debug, PartialEq, Eq)]
struct Challenge {
    scheme: String,
    params: Vec<(String, String)>,
}

impl Challenge {
    fn parse(header: &str) -> Option<Challenge> {
        let header = header.trim();
        let (scheme, mut rest) = match header.split_once(' ') {
            Some((scheme, rest)) => (scheme, rest.trim_start()),
            None => (header, ""),
        };
        if scheme.is_empty() {
            return None;
        }
        let mut params = Vec::new();
        while let Some((key, after)) = rest.split_once('=') {
            let key = key
                .trim()
                .trim_start_matches(',')
                .trim()
                .to_ascii_lowercase();
            let after = after.trim_start();
            let (value, remainder) = if let Some(quoted) = after.strip_prefix('"') {
                let mut value = String::new();
                let mut chars = quoted.char_indices();
                let mut end = quoted.len();
                while let Some((index, ch)) = chars.next() {
                    match ch {
                        '\\' => {
                            if let Some((_, escaped)) = chars.next() {
                                value.push(escaped);
                            }
                        }
                        '"' => {
                            end = index + 1;
                            break;
                        }
                        other => value.push(other),
                    }
                }
                (value, &quoted[end..])
            } else {
                let end = after.find(',').unwrap_or(after.len());
                (after[..end].trim().to_string(), &after[end..])
            };
            params.push((key, value));
            rest = remainder.trim_start().trim_start_matches(',');
        }
        Some(Challenge {
            scheme: scheme.to_string(),
            params,
        })
    }

    fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenge_with_commas_in_scope() {
        let challenge = Challenge::parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/a:pull,push""#,
        )
        .unwrap();
        assert_eq!(challenge.scheme, "Bearer");
        assert_eq!(
            challenge.param("realm"),
            Some("https://auth.docker.io/token")
        );
        assert_eq!(challenge.param("service"), Some("registry.docker.io"));
        assert_eq!(
            challenge.param("scope"),
            Some("repository:library/a:pull,push")
        );
    }

    #[test]
    fn basic_challenge() {
        let challenge = Challenge::parse(r#"Basic realm="basic-realm""#).unwrap();
        assert_eq!(challenge.scheme, "Basic");
        assert_eq!(challenge.param("realm"), Some("basic-realm"));
    }

    #[test]
    fn query_values_are_escaped() {
        assert_eq!(
            percent_encode("repository:a/b:pull,push"),
            "repository%3Aa%2Fb%3Apull%2Cpush"
        );
    }
}
