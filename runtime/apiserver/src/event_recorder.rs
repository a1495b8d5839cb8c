//! Events written by in-process controllers (replicaset-controller, default-scheduler,
//! node-controller, …), with client-go's de-duplication: a repeat of the same
//! (object, type, reason, message, source) bumps `count` and `lastTimestamp` of the event
//! already written instead of creating another.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::ApiServer;

/// `Normal` or `Warning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Normal,
    Warning,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Normal => "Normal",
            EventKind::Warning => "Warning",
        }
    }
}

/// Correlation key → (event namespace, event name, count) of an event already written.
type WrittenEvent = (String, String, i64);

/// Records events for one component (`source.component`); cheap to clone.
#[derive(Clone)]
pub struct EventRecorder {
    api: ApiServer,
    component: String,
    /// `source.host` (empty for cluster-level controllers).
    host: String,
    written: Arc<Mutex<HashMap<String, WrittenEvent>>>,
}

impl EventRecorder {
    pub fn new(api: ApiServer, component: &str) -> EventRecorder {
        EventRecorder {
            api,
            component: component.to_string(),
            host: String::new(),
            written: Arc::default(),
        }
    }

    /// A recorder whose events name `host` as their source host.
    pub fn on_host(mut self, host: &str) -> EventRecorder {
        self.host = host.to_string();
        self
    }

    /// Records an event about `object` (any API object with apiVersion/kind/metadata).
    /// Failures are dropped: events are best effort, as in client-go.
    pub async fn record(&self, object: &Value, kind: EventKind, reason: &str, message: &str) {
        self.record_with(object, true, kind, reason, message).await;
    }

    /// Like [`EventRecorder::record`], but the involved object carries no uid (the taint
    /// manager's `TaintManagerEviction` events, which `describe pod` therefore does not list).
    pub async fn record_without_uid(
        &self,
        object: &Value,
        kind: EventKind,
        reason: &str,
        message: &str,
    ) {
        self.record_with(object, false, kind, reason, message).await;
    }

    async fn record_with(
        &self,
        object: &Value,
        with_uid: bool,
        kind: EventKind,
        reason: &str,
        message: &str,
    ) {
        let meta = |field: &str| {
            object
                .pointer(&format!("/metadata/{field}"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let name = meta("name");
        // Node events carry the node's name as uid (the kubelet's node reference), which is
        // what `kubectl describe node` searches for.
        let uid = match (with_uid, object.get("kind").and_then(Value::as_str)) {
            (false, _) => String::new(),
            (true, Some("Node")) => name.clone(),
            (true, _) => meta("uid"),
        };
        // Cluster-scoped objects (nodes) have their events in "default", as client-go does.
        let namespace = match meta("namespace") {
            namespace if namespace.is_empty() => "default".to_string(),
            namespace => namespace,
        };
        let mut involved = json!({
            "kind": object.get("kind").cloned().unwrap_or(Value::Null),
            "name": name,
            "apiVersion": object.get("apiVersion").cloned().unwrap_or(Value::Null),
        });
        if !meta("namespace").is_empty() {
            involved["namespace"] = json!(meta("namespace"));
        }
        if !uid.is_empty() {
            involved["uid"] = json!(uid);
        }
        let now = crate::objects::format_time(jiff::Timestamp::now());
        let key = format!(
            "{}/{}/{}/{}/{}/{}/{}",
            namespace,
            name,
            uid,
            kind.as_str(),
            reason,
            message,
            self.component
        );
        let repeat = self
            .written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        if let Some((event_namespace, event_name, count)) = repeat {
            if let Ok(mut event) = self
                .api
                .get_object("events", &event_namespace, &event_name)
                .await
            {
                event["count"] = json!(count + 1);
                event["lastTimestamp"] = json!(now);
                if self
                    .api
                    .update_object("events", &event_namespace, &event_name, event)
                    .await
                    .is_ok()
                {
                    self.remember(key, event_namespace, event_name, count + 1);
                    return;
                }
            }
        }
        let nanos = jiff::Timestamp::now().as_nanosecond();
        let event_name = format!("{name}.{nanos:x}");
        let mut source = json!({"component": self.component});
        if !self.host.is_empty() {
            source["host"] = json!(self.host);
        }
        let event = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": event_name, "namespace": namespace},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "type": kind.as_str(),
            "source": source,
            "count": 1,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "reportingComponent": self.component,
            "reportingInstance": self.host,
        });
        if self
            .api
            .create_object("events", &namespace, event)
            .await
            .is_ok()
        {
            self.remember(key, namespace, event_name, 1);
        }
    }

    fn remember(&self, key: String, namespace: String, name: String, count: i64) {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded like client-go's LRU (4096 entries): forget everything rather than grow.
        if written.len() >= 4096 {
            written.clear();
        }
        written.insert(key, (namespace, name, count));
    }
}
