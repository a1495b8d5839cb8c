//! Watch: newline-delimited `{"type","object"}` events over a chunked response, with the watch
//! cache's semantics (initial ADDED events for `resourceVersion` ""/"0", selector transitions
//! as ADDED/DELETED, BOOKMARKs, `timeoutSeconds`, 410 `Expired` as an ERROR event).

use std::time::Duration;

use bytes::Bytes;
use http::Response;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use wasmpod_storage::{StorageError, WatchEvent};
use wasmpod_tables::WatchTables;

use crate::body::{channel_response, BoxBody, JSON};
use crate::list::Filter;
use crate::negotiate::{Representation, TABLE_CONTENT_TYPE};
use crate::objects::{decode_object, set_resource_version};
use crate::query::Query;
use crate::resources::Resource;
use crate::status_errors::ApiError;
use crate::tables::{include_object, kind_of};
use crate::ApiServer;

/// Everything a watch stream needs, checked before the response starts.
pub(crate) struct WatchRequest {
    pub resource: &'static Resource,
    pub namespace: Option<String>,
    pub filter: Filter,
    pub resource_version: Option<i64>,
    pub bookmarks: bool,
    pub timeout: Duration,
    pub tables: Option<WatchTables>,
}

impl WatchRequest {
    pub fn new(
        server: &ApiServer,
        resource: &'static Resource,
        namespace: Option<String>,
        name: Option<&str>,
        query: &Query,
        representation: Representation,
    ) -> Result<WatchRequest, ApiError> {
        let mut filter = Filter::from_query(resource, query)?;
        if let Some(name) = name {
            filter = filter.with_name(name)?;
        }
        let resource_version =
            match query.text("resourceVersion") {
                None | Some("0") => None,
                Some(rv) => Some(rv.parse::<i64>().map_err(|_| {
                    ApiError::bad_request(format!("invalid resource version: {rv}"))
                })?),
            };
        let timeout = match query.int("timeoutSeconds")? {
            None => server.options().default_watch_timeout,
            // Go's `time.Duration(seconds) * time.Second` wraps on overflow; zero means the
            // default, a negative timer fires at once (the watch ends right away).
            Some(seconds) => match seconds.wrapping_mul(1_000_000_000) {
                0 => server.options().default_watch_timeout,
                nanos => Duration::from_nanos(nanos.max(0).unsigned_abs()),
            },
        };
        let tables = match representation {
            Representation::Table => Some(WatchTables::new(
                kind_of(resource)?,
                include_object(query)?,
                query.flag("noHeaders").unwrap_or(false),
            )),
            Representation::Object => None,
        };
        Ok(WatchRequest {
            resource,
            namespace,
            filter,
            resource_version,
            bookmarks: query.flag("allowWatchBookmarks")?,
            timeout,
            tables,
        })
    }
}

impl ApiServer {
    /// Starts the watch and returns its streaming response.
    pub(crate) async fn watch_response(&self, request: WatchRequest) -> Response<BoxBody> {
        let content_type = if request.tables.is_some() {
            TABLE_CONTENT_TYPE
        } else {
            JSON
        };
        let (sender, response) = channel_response(content_type, 64);
        let server = self.clone();
        tokio::spawn(async move {
            let mut session = Session {
                sender,
                tables: request.tables.clone(),
                resource: request.resource,
            };
            // The session ends when it returns: the client left, the timeout passed, or
            // storage failed; dropping the sender ends the chunked body.
            let _ = server.run_watch(&request, &mut session).await;
        });
        response
    }

    async fn run_watch(&self, request: &WatchRequest, session: &mut Session) -> Result<(), Closed> {
        let now = tokio::time::Instant::now();
        // Up to 292 years: never overflow the clock (a panic would silently end the watch).
        let deadline = now
            .checked_add(request.timeout)
            .unwrap_or(now + Duration::from_secs(100 * 365 * 24 * 3600));
        let prefix = request.resource.list_prefix(request.namespace.as_deref());
        let start = match request.resource_version {
            Some(revision) => revision,
            None => {
                let page = match self
                    .list_in(
                        request.resource,
                        request.namespace.as_deref(),
                        &request.filter,
                        0,
                        None,
                    )
                    .await
                {
                    Ok(page) => page,
                    Err(error) => return session.send_status("ERROR", &error).await,
                };
                for object in page.items {
                    session.send("ADDED", object).await?;
                }
                page.revision
            }
        };
        let mut stream = match self.storage().watch(&prefix, start).await {
            Ok(stream) => stream,
            Err(StorageError::Compacted { compacted_revision }) => {
                let error = ApiError::expired(format!(
                    "too old resource version: {start} ({compacted_revision})"
                ));
                return session.send_status("ERROR", &error).await;
            }
            Err(error) => {
                return session
                    .send_status(
                        "ERROR",
                        &ApiError::from_storage(error, request.resource, ""),
                    )
                    .await
            }
        };
        let mut last_revision = start;
        let mut bookmark_timer = tokio::time::interval_at(
            tokio::time::Instant::now() + self.options().bookmark_interval,
            self.options().bookmark_interval,
        );
        loop {
            tokio::select! {
                next = stream.next() => match next {
                    Some(Ok(event)) => {
                        last_revision = event.revision();
                        if let Some((kind, object)) = transition(&request.filter, &event) {
                            session.send(kind, object).await?;
                        }
                    }
                    // Too slow or failed: end the watch; the client re-lists and re-watches.
                    Some(Err(_)) | None => return Ok(()),
                },
                _ = bookmark_timer.tick(), if request.bookmarks => {
                    session.send_bookmark(last_revision).await?;
                }
                _ = tokio::time::sleep_until(deadline) => return Ok(()),
                _ = session.sender.closed() => return Err(Closed),
            }
        }
    }
}

/// The client went away.
struct Closed;

struct Session {
    sender: mpsc::Sender<Bytes>,
    tables: Option<WatchTables>,
    resource: &'static Resource,
}

impl Session {
    async fn send_line(&mut self, event: Value) -> Result<(), Closed> {
        let mut line = serde_json::to_vec(&event).unwrap_or_default();
        line.push(b'\n');
        self.sender
            .send(Bytes::from(line))
            .await
            .map_err(|_| Closed)
    }

    async fn send(&mut self, kind: &str, mut object: Value) -> Result<(), Closed> {
        object["apiVersion"] = json!(self.resource.api_version());
        object["kind"] = json!(self.resource.kind);
        let object = match &mut self.tables {
            Some(tables) => match tables.next_event(&object, jiff::Timestamp::now()) {
                Ok(table) => table,
                Err(error) => return self.send_status("ERROR", &ApiError::internal(error)).await,
            },
            None => object,
        };
        self.send_line(json!({"type": kind, "object": object}))
            .await
    }

    async fn send_status(&mut self, kind: &str, error: &ApiError) -> Result<(), Closed> {
        self.send_line(json!({"type": kind, "object": error.to_status()}))
            .await
    }

    async fn send_bookmark(&mut self, revision: i64) -> Result<(), Closed> {
        let object = if self.tables.is_some() {
            json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1",
                   "metadata": {"resourceVersion": revision.to_string()},
                   "columnDefinitions": null, "rows": []})
        } else {
            json!({"kind": self.resource.kind, "apiVersion": self.resource.api_version(),
                   "metadata": {"resourceVersion": revision.to_string()}})
        };
        self.send_line(json!({"type": "BOOKMARK", "object": object}))
            .await
    }
}

/// The watch event a storage change becomes for a filtered watcher (watch cache rules):
/// a change into the filter is ADDED, out of it DELETED.
fn transition(filter: &Filter, event: &WatchEvent) -> Option<(&'static str, Value)> {
    match event {
        WatchEvent::Put { kv, prev } => {
            let object = decode_object(kv).ok()?;
            let now = filter.matches(&object);
            let before = prev
                .as_ref()
                .and_then(|p| decode_object(p).ok())
                .is_some_and(|p| filter.matches(&p));
            match (before, now) {
                (false, true) => Some(("ADDED", object)),
                (true, true) => Some(("MODIFIED", object)),
                (true, false) => Some(("DELETED", object)),
                (false, false) => None,
            }
        }
        WatchEvent::Delete { prev, revision } => {
            let mut object = decode_object(prev).ok()?;
            if !filter.matches(&object) {
                return None;
            }
            // The deleted object carries the deletion's revision, as etcd3's watcher sends it.
            set_resource_version(&mut object, *revision);
            Some(("DELETED", object))
        }
    }
}
