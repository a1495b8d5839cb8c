//! `pods/log`: validated here as kube-apiserver does, then served by a [`LogSource`] (the
//! kubelet's role).

use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::Response;
use serde_json::Value;

use crate::body::{channel_response, full, BoxBody};
use crate::query::Query;
use crate::status_errors::ApiError;
use crate::ApiServer;

/// The log bytes of one container, `text/plain`; ends when the log does (or, with `follow`,
/// when the container stops).
pub type LogStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// `PodLogOptions`, with the container resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogOptions {
    pub container: String,
    pub follow: bool,
    pub previous: bool,
    pub tail_lines: Option<i64>,
    pub since_seconds: Option<i64>,
    /// RFC 3339 `sinceTime`, as sent.
    pub since_time: Option<String>,
    pub timestamps: bool,
    pub limit_bytes: Option<i64>,
}

/// Where container logs come from (the node).
#[async_trait]
pub trait LogSource: Send + Sync {
    async fn logs(
        &self,
        namespace: &str,
        pod: &str,
        options: LogOptions,
    ) -> Result<LogStream, ApiError>;
}

fn positive(query: &Query, name: &str) -> Result<Option<i64>, ApiError> {
    match query.int(name)? {
        Some(value) if value < 0 || (value == 0 && name != "tailLines") => {
            let rule = if name == "tailLines" {
                "must be greater than or equal to 0"
            } else {
                "must be greater than 0"
            };
            Err(ApiError::bad_request(format!(
                "{name}: Invalid value: {value}: {rule}"
            )))
        }
        other => Ok(other),
    }
}

/// The container `pod` logs are read from (`validateContainer` of the pod registry).
fn resolve_container(pod: &Value, name: &str, requested: Option<&str>) -> Result<String, ApiError> {
    let names = |list: &str| -> Vec<String> {
        pod.pointer(&format!("/spec/{list}"))
            .and_then(Value::as_array)
            .map(|c| {
                c.iter()
                    .filter_map(|c| c.get("name").and_then(Value::as_str).map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let containers = names("containers");
    let init = names("initContainers");
    let ephemeral = names("ephemeralContainers");
    match requested {
        Some(container) => {
            if containers
                .iter()
                .chain(&init)
                .chain(&ephemeral)
                .any(|c| c == container)
            {
                Ok(container.to_string())
            } else {
                Err(ApiError::bad_request(format!(
                    "container {container} is not valid for pod {name}"
                )))
            }
        }
        None if containers.len() == 1 => Ok(containers[0].clone()),
        None => {
            let mut message = format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                containers.join(" ")
            );
            if !init.is_empty() {
                message.push_str(&format!(
                    " or one of the init containers: [{}]",
                    init.join(" ")
                ));
            }
            if !ephemeral.is_empty() {
                message.push_str(&format!(
                    " or one of the ephemeral containers: [{}]",
                    ephemeral.join(" ")
                ));
            }
            Err(ApiError::bad_request(message))
        }
    }
}

impl ApiServer {
    pub(crate) async fn logs_response(
        &self,
        namespace: &str,
        name: &str,
        query: &Query,
    ) -> Result<Response<BoxBody>, ApiError> {
        let pods = Self::resolve("pods")?;
        let (pod, _) = self.get_in(pods, namespace, name).await?;
        let container = resolve_container(&pod, name, query.text("container"))?;
        let options = LogOptions {
            container,
            follow: query.flag("follow")?,
            previous: query.flag("previous")?,
            tail_lines: positive(query, "tailLines")?,
            since_seconds: positive(query, "sinceSeconds")?,
            since_time: query.text("sinceTime").map(String::from),
            timestamps: query.flag("timestamps")?,
            limit_bytes: positive(query, "limitBytes")?,
        };
        let node = pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or("");
        if node.is_empty() {
            // A pod without a node has no log location: kube-apiserver answers 200, empty.
            let mut response = Response::new(full(Bytes::new()));
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                "text/plain".parse().expect("static"),
            );
            return Ok(response);
        }
        let Some(source) = self.options().log_source.clone() else {
            return Err(ApiError::unknown(format!(
                "Get \"https://{node}:10250/containerLogs/{namespace}/{name}/{}\": dial tcp: lookup {node}: no such host",
                options.container
            )));
        };
        let mut stream = source.logs(namespace, name, options).await?;
        let (sender, response) = channel_response("text/plain", 16);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    chunk = stream.next() => match chunk {
                        Some(Ok(bytes)) => {
                            if sender.send(bytes).await.is_err() {
                                return;
                            }
                        }
                        Some(Err(_)) | None => return,
                    },
                    _ = sender.closed() => return,
                }
            }
        });
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn container_must_be_named_when_ambiguous() {
        let pod = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}], "initContainers": [{"name": "i"}]}});
        let error = resolve_container(&pod, "p", None).unwrap_err();
        assert_eq!(
            error.message,
            "a container name must be specified for pod p, choose one of: [a b] or one of the init containers: [i]"
        );
        assert_eq!(resolve_container(&pod, "p", Some("i")).unwrap(), "i");
        assert_eq!(
            resolve_container(&pod, "p", Some("z")).unwrap_err().message,
            "container z is not valid for pod p"
        );
    }
}
