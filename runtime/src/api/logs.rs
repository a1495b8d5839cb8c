//! `GET …/pods/{name}/log`: container, previous, follow, timestamps, tailLines, sinceSeconds.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;

use super::server::{full, node_error, query_value, status_error, Body};
use crate::clock::since;
use crate::logs::LogLine;
use crate::node::Node;

struct LogQuery {
    container: Option<String>,
    previous: bool,
    follow: bool,
    timestamps: bool,
    tail_lines: Option<usize>,
    since_seconds: Option<u64>,
}

impl LogQuery {
    fn parse(query: &str) -> Self {
        let flag = |key| query_value(query, key).is_some_and(|v| v == "true" || v == "1");
        LogQuery {
            container: query_value(query, "container").filter(|c| !c.is_empty()),
            previous: flag("previous"),
            follow: flag("follow"),
            timestamps: flag("timestamps"),
            tail_lines: query_value(query, "tailLines").and_then(|v| v.parse().ok()),
            since_seconds: query_value(query, "sinceSeconds").and_then(|v| v.parse().ok()),
        }
    }

    fn format(&self, line: &LogLine) -> String {
        if self.timestamps {
            format!("{} {}\n", line.timestamp, line.text)
        } else {
            format!("{}\n", line.text)
        }
    }
}

pub(super) async fn pod_log(
    node: &Node,
    namespace: &str,
    pod: &str,
    query: &str,
) -> Response<Body> {
    let query = LogQuery::parse(query);
    let logs = match node.logs(namespace, pod, query.container.as_deref()) {
        Ok(logs) => logs,
        Err(error) => return node_error(&error),
    };
    let now = node.clock().now();
    let keep = |lines: Vec<LogLine>| -> Vec<LogLine> {
        let mut lines: Vec<LogLine> = lines
            .into_iter()
            .filter(|l| {
                query
                    .since_seconds
                    .is_none_or(|s| since(now, l.timestamp) <= Duration::from_secs(s))
            })
            .collect();
        if let Some(tail) = query.tail_lines {
            let skip = lines.len().saturating_sub(tail);
            lines.drain(..skip);
        }
        lines
    };

    if query.previous || !query.follow {
        let Some(lines) = logs.lines(query.previous) else {
            let container = query.container.clone().unwrap_or_else(|| pod.to_string());
            return status_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!(
                    "previous terminated container \"{container}\" in pod \"{pod}\" not found"
                ),
            );
        };
        let text: String = keep(lines).iter().map(|l| query.format(l)).collect();
        return Response::new(full(text));
    }

    let (lines, feed) = logs.follow();
    let (tx, rx) = mpsc::channel::<String>(64);
    let backlog: String = keep(lines).iter().map(|l| query.format(l)).collect();
    tokio::spawn(async move {
        if !backlog.is_empty() && tx.send(backlog).await.is_err() {
            return;
        }
        // The stream ends with the instance, as `kubectl logs -f` does when the container exits.
        let Some(mut feed) = feed else { return };
        while let Some(line) = feed.next().await {
            if tx.send(query.format(&line)).await.is_err() {
                return;
            }
        }
    });
    let stream =
        ReceiverStream::new(rx).map(|text| Ok::<_, Infallible>(Frame::data(Bytes::from(text))));
    Response::new(StreamBody::new(stream).boxed())
}
