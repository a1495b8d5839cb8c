//! `pods/log` from the node's log buffers: container, previous, follow, timestamps,
//! tailLines, sinceSeconds, limitBytes.

use std::time::Duration;

use bytes::Bytes;
use tokio_stream::StreamExt;
use wasmpod_apiserver::{ApiError, LogOptions, LogSource, LogStream};

use crate::clock::since;
use crate::logs::LogLine;
use crate::node::NodeError;
use crate::Node;

pub struct NodeLogs {
    node: Node,
}

impl NodeLogs {
    pub fn new(node: Node) -> Self {
        NodeLogs { node }
    }
}

#[async_trait::async_trait]
impl LogSource for NodeLogs {
    async fn logs(
        &self,
        namespace: &str,
        pod: &str,
        options: LogOptions,
    ) -> Result<LogStream, ApiError> {
        let container = Some(options.container.as_str()).filter(|c| !c.is_empty());
        let logs = self
            .node
            .logs(namespace, pod, container)
            .map_err(|error| match error {
                NodeError::NotFound { .. } => ApiError {
                    code: 404,
                    reason: "NotFound".into(),
                    message: format!("pods \"{pod}\" not found"),
                    details: None,
                },
                other => ApiError::bad_request(other.to_string()),
            })?;
        let now = self.node.clock().now();
        let format = move |line: &LogLine| -> Bytes {
            if options.timestamps {
                Bytes::from(format!("{} {}\n", line.timestamp, line.text))
            } else {
                Bytes::from(format!("{}\n", line.text))
            }
        };
        let keep = |lines: Vec<LogLine>| -> Vec<LogLine> {
            let mut lines: Vec<LogLine> = lines
                .into_iter()
                .filter(|l| {
                    options.since_seconds.is_none_or(|s| {
                        since(now, l.timestamp) <= Duration::from_secs(s.max(0) as u64)
                    })
                })
                .collect();
            if let Some(tail) = options.tail_lines {
                let skip = lines.len().saturating_sub(tail.max(0) as usize);
                lines.drain(..skip);
            }
            lines
        };
        let limit = options.limit_bytes.map(|n| n.max(0) as usize);
        let backlog_of = |lines: Vec<LogLine>| -> Vec<Bytes> {
            let mut out = Vec::new();
            let mut written = 0;
            for line in keep(lines) {
                let bytes = format(&line);
                if limit.is_some_and(|limit| written + bytes.len() > limit) {
                    let room = limit.unwrap_or(0).saturating_sub(written);
                    out.push(bytes.slice(..room));
                    break;
                }
                written += bytes.len();
                out.push(bytes);
            }
            out
        };
        if options.previous || !options.follow {
            let Some(lines) = logs.lines(options.previous) else {
                let name = container.unwrap_or(pod);
                return Err(ApiError::bad_request(format!(
                    "previous terminated container \"{name}\" in pod \"{pod}\" not found"
                )));
            };
            let chunks = backlog_of(lines);
            return Ok(Box::pin(tokio_stream::iter(chunks.into_iter().map(Ok))));
        }
        let (lines, feed) = logs.follow();
        let backlog = tokio_stream::iter(backlog_of(lines).into_iter().map(Ok));
        // The stream ends with the instance, as `kubectl logs -f` does when the container
        // exits.
        let Some(mut feed) = feed else {
            return Ok(Box::pin(backlog));
        };
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(64);
        tokio::spawn(async move {
            while let Some(line) = feed.next().await {
                if tx.send(format(&line)).await.is_err() {
                    return;
                }
            }
        });
        let live = tokio_stream::wrappers::ReceiverStream::new(rx).map(Ok);
        Ok(Box::pin(backlog.chain(live)))
    }
}
