//! Event recording with client-go's correlation (tools/record/events_cache.go): a spam filter
//! per object, aggregation of similar messages, and de-duplication into `count`.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};

use crate::clock::{since, SharedClock};
use crate::store::ObjectStore;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// The pod (and optionally the container inside it) an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectRef {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    /// `spec.containers{name}` for container events.
    pub field_path: Option<String>,
}

impl ObjectRef {
    pub fn container(&self, container: &str) -> ObjectRef {
        self.with_field_path(format!("spec.containers{{{container}}}"))
    }

    pub fn with_field_path(&self, field_path: String) -> ObjectRef {
        ObjectRef {
            field_path: Some(field_path),
            ..self.clone()
        }
    }

    fn to_api(&self) -> ObjectReference {
        ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Pod".into()),
            namespace: Some(self.namespace.clone()),
            name: Some(self.name.clone()),
            uid: Some(self.uid.clone()),
            field_path: self.field_path.clone(),
            ..Default::default()
        }
    }
}

/// client-go defaults (events_cache.go).
const AGGREGATE_MAX_EVENTS: usize = 10;
const AGGREGATE_INTERVAL: Duration = Duration::from_secs(600);
const SPAM_BURST: f64 = 25.0;
const SPAM_REFILL_EVERY: Duration = Duration::from_secs(300);
const DEDUP_CACHE_SIZE: usize = 4096;

pub struct EventRecorder {
    store: Arc<ObjectStore>,
    clock: SharedClock,
    node_name: String,
    state: Mutex<Correlator>,
}

#[derive(Default)]
struct Correlator {
    spam: HashMap<(String, ObjectRef, EventType), TokenBucket>,
    aggregate: HashMap<AggregateKey, AggregateRecord>,
    /// Full event key → (namespace, name) of the stored event it updates.
    seen: HashMap<String, (String, String)>,
    last_event_nanos: i128,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct AggregateKey {
    component: String,
    object: ObjectRef,
    event_type: EventType,
    reason: String,
}

struct AggregateRecord {
    messages: BTreeSet<String>,
    last: Timestamp,
}

struct TokenBucket {
    tokens: f64,
    last: Timestamp,
}

impl TokenBucket {
    fn take(&mut self, now: Timestamp) -> bool {
        let refill = since(now, self.last).as_secs_f64() / SPAM_REFILL_EVERY.as_secs_f64();
        self.tokens = (self.tokens + refill).min(SPAM_BURST);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

impl EventRecorder {
    pub fn new(store: Arc<ObjectStore>, clock: SharedClock, node_name: String) -> Self {
        EventRecorder {
            store,
            clock,
            node_name,
            state: Mutex::new(Correlator::default()),
        }
    }

    /// Records a kubelet event about `object`.
    pub fn kubelet(
        &self,
        object: &ObjectRef,
        event_type: EventType,
        reason: &str,
        message: impl Into<String>,
    ) {
        self.record("kubelet", object, event_type, reason, message.into());
    }

    /// Records the scheduler's `Scheduled` event, which (like the real scheduler's, written
    /// through events.k8s.io) has an eventTime and no first/last timestamps.
    pub fn scheduled(&self, object: &ObjectRef) {
        let now = self.clock.now();
        let name = self.lock().unique_name(&object.name, now);
        let message = format!(
            "Successfully assigned {}/{} to {}",
            object.namespace, object.name, self.node_name
        );
        let event = Event {
            event_time: Some(MicroTime(now)),
            action: Some("Binding".into()),
            reporting_component: Some("default-scheduler".into()),
            reporting_instance: Some(format!("default-scheduler-{}", self.node_name)),
            source: Some(EventSource::default()),
            ..new_event(object, name, now, EventType::Normal, "Scheduled", message)
        };
        self.store.put_event(event);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Correlator> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn record(
        &self,
        component: &str,
        object: &ObjectRef,
        event_type: EventType,
        reason: &str,
        message: String,
    ) {
        let now = self.clock.now();
        let mut state = self.lock();

        // Spam filter: per source and object (fieldPath excluded), any reason or message.
        let spam_object = ObjectRef {
            field_path: None,
            ..object.clone()
        };
        let bucket = state
            .spam
            .entry((component.to_string(), spam_object.clone(), event_type))
            .or_insert(TokenBucket {
                tokens: SPAM_BURST,
                last: now,
            });
        if !bucket.take(now) {
            return;
        }

        // Aggregation: the 10th distinct message of a group within 10 minutes turns into a
        // "(combined from similar events)" event that later variants keep updating.
        let aggregate_key = AggregateKey {
            component: component.to_string(),
            object: spam_object,
            event_type,
            reason: reason.to_string(),
        };
        let record = state
            .aggregate
            .entry(aggregate_key.clone())
            .or_insert_with(|| AggregateRecord {
                messages: BTreeSet::new(),
                last: now,
            });
        if since(now, record.last) > AGGREGATE_INTERVAL {
            record.messages.clear();
        }
        record.last = now;
        record.messages.insert(message.clone());
        let (message, dedup_key) = if record.messages.len() < AGGREGATE_MAX_EVENTS {
            let key = format!(
                "{component}|{}|{:?}|{}|{reason}|{message}",
                self.node_name,
                object,
                event_type.as_str()
            );
            (message, key)
        } else {
            let dropped = record.messages.iter().next().cloned();
            if let Some(dropped) = dropped {
                record.messages.remove(&dropped);
            }
            let key = format!(
                "aggregate|{component}|{}|{:?}|{}|{reason}",
                self.node_name,
                aggregate_key.object,
                event_type.as_str()
            );
            (format!("(combined from similar events): {message}"), key)
        };

        // De-duplication: the same event again bumps count and lastTimestamp.
        if let Some((namespace, name)) = state.seen.get(&dedup_key).cloned() {
            drop(state);
            let existing = self
                .store
                .events(Some(&namespace))
                .into_iter()
                .find(|e| e.metadata.name.as_deref() == Some(name.as_str()));
            if let Some(mut event) = existing {
                event.count = Some(event.count.unwrap_or(1) + 1);
                event.last_timestamp = Some(Time(now));
                event.message = Some(message);
                self.store.put_event(event);
                return;
            }
            state = self.lock();
        }
        let name = state.unique_name(&object.name, now);
        if state.seen.len() >= DEDUP_CACHE_SIZE {
            state.seen.clear();
        }
        state
            .seen
            .insert(dedup_key, (object.namespace.clone(), name.clone()));
        drop(state);
        let event = Event {
            count: Some(1),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            source: Some(EventSource {
                component: Some(component.to_string()),
                host: Some(self.node_name.clone()),
            }),
            reporting_component: Some(component.to_string()),
            reporting_instance: Some(self.node_name.clone()),
            ..new_event(object, name, now, event_type, reason, message)
        };
        self.store.put_event(event);
    }
}

/// The fields every event has, whoever reports it.
fn new_event(
    object: &ObjectRef,
    name: String,
    now: Timestamp,
    event_type: EventType,
    reason: &str,
    message: String,
) -> Event {
    Event {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(object.namespace.clone()),
            creation_timestamp: Some(Time(now)),
            ..Default::default()
        },
        involved_object: object.to_api(),
        reason: Some(reason.to_string()),
        message: Some(message),
        type_: Some(event_type.as_str().into()),
        ..Default::default()
    }
}

impl Correlator {
    /// `<object>.<hex unix nanos>`, as client-go names events; bumped to stay unique.
    fn unique_name(&mut self, object: &str, now: Timestamp) -> String {
        let nanos = now.as_nanosecond().max(self.last_event_nanos + 1);
        self.last_event_nanos = nanos;
        format!("{object}.{nanos:x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, Sleep};
    use std::sync::Mutex as StdMutex;

    /// A clock the test moves by hand.
    struct ManualClock(StdMutex<Timestamp>);

    impl ManualClock {
        fn advance(&self, seconds: i64) {
            let mut now = self.0.lock().unwrap();
            *now = now
                .checked_add(jiff::SignedDuration::from_secs(seconds))
                .unwrap();
        }
    }

    impl Clock for ManualClock {
        fn now(&self) -> Timestamp {
            *self.0.lock().unwrap()
        }
        fn sleep_until(&self, _deadline: Timestamp) -> Sleep {
            Box::pin(std::future::pending())
        }
    }

    fn recorder() -> (EventRecorder, Arc<ObjectStore>, Arc<ManualClock>) {
        let store = Arc::new(ObjectStore::new());
        let clock = Arc::new(ManualClock(StdMutex::new(
            "2026-07-06T10:00:00Z".parse().unwrap(),
        )));
        let recorder = EventRecorder::new(store.clone(), clock.clone(), "node-1".into());
        (recorder, store, clock)
    }

    fn pod() -> ObjectRef {
        ObjectRef {
            namespace: "default".into(),
            name: "health1".into(),
            uid: "uid-1".into(),
            field_path: None,
        }
    }

    #[test]
    fn identical_events_are_counted_into_one_object() {
        let (recorder, store, clock) = recorder();
        let container = pod().container("health1");
        for _ in 0..3 {
            recorder.kubelet(
                &container,
                EventType::Warning,
                "Unhealthy",
                "Liveness probe failed: x",
            );
            clock.advance(10);
        }
        recorder.kubelet(
            &container,
            EventType::Normal,
            "Killing",
            "Container health1 failed liveness probe, will be restarted",
        );
        let events = store.events(Some("default"));
        assert_eq!(events.len(), 2);
        let unhealthy = events
            .iter()
            .find(|e| e.reason.as_deref() == Some("Unhealthy"))
            .unwrap();
        assert_eq!(unhealthy.count, Some(3));
        assert_eq!(
            unhealthy.first_timestamp.as_ref().unwrap().0.to_string(),
            "2026-07-06T10:00:00Z"
        );
        assert_eq!(
            unhealthy.last_timestamp.as_ref().unwrap().0.to_string(),
            "2026-07-06T10:00:20Z"
        );
        assert_eq!(
            unhealthy.involved_object.field_path.as_deref(),
            Some("spec.containers{health1}")
        );
        assert_eq!(
            unhealthy.source.as_ref().unwrap().component.as_deref(),
            Some("kubelet")
        );
        assert!(unhealthy
            .metadata
            .name
            .as_deref()
            .unwrap()
            .starts_with("health1."));
    }

    #[test]
    fn the_tenth_distinct_message_is_combined() {
        let (recorder, store, clock) = recorder();
        for i in 0..12 {
            recorder.kubelet(
                &pod(),
                EventType::Normal,
                "Pulled",
                format!("Successfully pulled image in {i}ms"),
            );
            clock.advance(1);
        }
        let events = store.events(Some("default"));
        let combined: Vec<_> = events
            .iter()
            .filter(|e| {
                e.message
                    .as_deref()
                    .unwrap()
                    .starts_with("(combined from similar events): ")
            })
            .collect();
        assert_eq!(
            events.len() - combined.len(),
            9,
            "the first nine stand alone"
        );
        assert_eq!(combined.len(), 1);
        assert_eq!(combined[0].count, Some(3));
        assert_eq!(
            combined[0].message.as_deref(),
            Some("(combined from similar events): Successfully pulled image in 11ms")
        );
    }

    #[test]
    fn a_burst_of_25_then_one_every_five_minutes() {
        let (recorder, store, clock) = recorder();
        for _ in 0..30 {
            recorder.kubelet(
                &pod(),
                EventType::Warning,
                "BackOff",
                "Back-off restarting failed container",
            );
        }
        let count = |store: &ObjectStore| store.events(None)[0].count.unwrap();
        assert_eq!(count(&store), 25);
        clock.advance(299);
        recorder.kubelet(
            &pod(),
            EventType::Warning,
            "BackOff",
            "Back-off restarting failed container",
        );
        assert_eq!(count(&store), 25);
        clock.advance(2);
        recorder.kubelet(
            &pod(),
            EventType::Warning,
            "BackOff",
            "Back-off restarting failed container",
        );
        assert_eq!(count(&store), 26);
        // Normal events have their own bucket.
        recorder.kubelet(&pod(), EventType::Normal, "Pulled", "x");
        assert_eq!(store.events(None).len(), 2);
    }
}
