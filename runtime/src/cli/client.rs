//! The other commands' side of the local API: find the running node, GET JSON, stream logs.

use std::io::Write;
use std::path::Path;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::CliError;

pub const SERVER_ENV: &str = "WASMPOD_SERVER";

/// `--server`, else `WASMPOD_SERVER`, else the address the running `wasmpod run` recorded.
pub fn server_url(flag: Option<String>, home: &Path) -> Result<String, CliError> {
    if let Some(url) = flag
        .or_else(|| std::env::var(SERVER_ENV).ok())
        .filter(|s| !s.is_empty())
    {
        return Ok(url);
    }
    let file = crate::api::discovery_file(home);
    std::fs::read_to_string(&file)
        .map(|s| s.trim().to_string())
        .map_err(|_| CliError::NoServer { file })
}

pub struct ApiClient {
    base: String,
    authority: String,
}

impl ApiClient {
    pub fn new(url: &str) -> Result<Self, CliError> {
        let authority = url
            .strip_prefix("http://")
            .ok_or_else(|| CliError::Usage(format!("--server must be an http:// URL, got {url}")))?
            .trim_end_matches('/')
            .to_string();
        Ok(ApiClient {
            base: format!("http://{authority}"),
            authority,
        })
    }

    async fn request(
        &self,
        method: &str,
        path: &str,
    ) -> Result<hyper::Response<hyper::body::Incoming>, CliError> {
        self.request_with_body(method, path, None).await
    }

    /// A request with an optional (content type, body).
    async fn request_with_body(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, CliError> {
        let unreachable = |e: &dyn std::fmt::Display| CliError::Unreachable {
            server: self.base.clone(),
            reason: e.to_string(),
        };
        let stream = TcpStream::connect(&self.authority)
            .await
            .map_err(|e| unreachable(&e))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| unreachable(&e))?;
        tokio::spawn(connection);
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, &self.authority);
        let payload = match body {
            Some((content_type, bytes)) => {
                request = request.header(http::header::CONTENT_TYPE, content_type);
                Full::new(Bytes::from(bytes))
            }
            None => Full::new(Bytes::new()),
        };
        let request = request.body(payload).map_err(|e| unreachable(&e))?;
        sender
            .send_request(request)
            .await
            .map_err(|e| unreachable(&e))
    }

    /// GETs `path`; a non-2xx answer becomes the server's Status message.
    pub async fn get_json(&self, path: &str) -> Result<serde_json::Value, CliError> {
        self.call_json("GET", path).await
    }

    pub async fn call_json(&self, method: &str, path: &str) -> Result<serde_json::Value, CliError> {
        self.send_json(method, path, None).await
    }

    /// `method` on `path` with a JSON body of `content_type`; the answer as JSON, or the
    /// server's Status message for a non-2xx answer.
    pub async fn send_json(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, &serde_json::Value)>,
    ) -> Result<serde_json::Value, CliError> {
        let body = body.map(|(content_type, value)| {
            (content_type, serde_json::to_vec(value).unwrap_or_default())
        });
        let response = self.request_with_body(method, path, body).await?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| CliError::Unreachable {
                server: self.base.clone(),
                reason: e.to_string(),
            })?
            .to_bytes();
        let value: serde_json::Value =
            serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        if status.is_success() {
            Ok(value)
        } else {
            Err(CliError::Server(
                value["message"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{status}: {}", String::from_utf8_lossy(&body))),
            ))
        }
    }

    /// GETs `path` and copies the body to stdout as it arrives.
    pub async fn stream_to_stdout(&self, path: &str) -> Result<(), CliError> {
        let response = self.request("GET", path).await?;
        let status = response.status();
        let mut body = response.into_body();
        if !status.is_success() {
            let bytes = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            return Err(CliError::Server(
                value["message"]
                    .as_str()
                    .unwrap_or("request failed")
                    .to_string(),
            ));
        }
        let mut stdout = std::io::stdout();
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { break };
            if let Some(data) = frame.data_ref() {
                let _ = stdout.write_all(data);
                let _ = stdout.flush();
            }
        }
        Ok(())
    }
}
