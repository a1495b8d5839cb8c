//! `Events:` section of `kubectl describe` (`describe.go` `DescribeEvents`, kubectl 1.33:
//! messages without the `<fieldPath>: ` prefix that kubectl 1.35 added).

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, Pod};

use super::prefix_writer::{PrefixWriter, LEVEL_0, LEVEL_1};
use crate::text::{age_since, micro_age_since, or_empty};

/// Annotation carrying the UID of the static pod a mirror pod stands for.
const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// The events `kubectl describe pod` lists: field selector on involvedObject name, namespace and
/// (when known) UID; the kind is deliberately not filtered.
pub fn events_for_pod<'a>(pod: &Pod, events: &'a [Event]) -> Vec<&'a Event> {
    let name = or_empty(&pod.metadata.name);
    let namespace = or_empty(&pod.metadata.namespace);
    let mirror_uid = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(MIRROR_POD_ANNOTATION));
    let uid = mirror_uid
        .map(String::as_str)
        .unwrap_or(or_empty(&pod.metadata.uid));
    events
        .iter()
        .filter(|e| {
            let obj = &e.involved_object;
            or_empty(&obj.name) == name
                && or_empty(&obj.namespace) == namespace
                && (uid.is_empty() || or_empty(&obj.uid) == uid)
        })
        .collect()
}

/// kubectl `util/event.SortableEvents`: by series.lastObservedTime, else lastTimestamp, else
/// eventTime (unset = earliest). Stable, like Go's insertion sort on short lists.
fn sort_key(event: &Event) -> Option<Timestamp> {
    if let Some(series) = &event.series {
        return series.last_observed_time.as_ref().map(|t| t.0);
    }
    if let Some(last) = &event.last_timestamp {
        return Some(last.0);
    }
    event.event_time.as_ref().map(|t| t.0)
}

/// The Age column: `<first seen>` or `<last seen> (x<count> over <first seen>)`.
pub fn event_interval(event: &Event, now: Timestamp) -> String {
    let first_seen = match &event.event_time {
        Some(event_time) => micro_age_since(Some(event_time), now),
        None => age_since(event.first_timestamp.as_ref(), now),
    };
    if let Some(series) = &event.series {
        return format!(
            "{} (x{} over {first_seen})",
            micro_age_since(series.last_observed_time.as_ref(), now),
            series.count.unwrap_or(0)
        );
    }
    match event.count {
        Some(count) if count > 1 => format!(
            "{} (x{count} over {first_seen})",
            age_since(event.last_timestamp.as_ref(), now)
        ),
        _ => first_seen,
    }
}

pub fn describe_events(w: &mut PrefixWriter, events: &[&Event], now: Timestamp) {
    if events.is_empty() {
        w.write(LEVEL_0, "Events:\t<none>\n");
        return;
    }
    let mut sorted = events.to_vec();
    sorted.sort_by_key(|e| sort_key(e));
    w.write(LEVEL_0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
    w.write(LEVEL_1, "----\t------\t----\t----\t-------\n");
    for event in sorted {
        let source = event
            .source
            .as_ref()
            .and_then(|s| s.component.as_deref())
            .filter(|c| !c.is_empty())
            .unwrap_or(or_empty(&event.reporting_component));
        w.write(
            LEVEL_1,
            &format!(
                "{}\t{}\t{}\t{}\t{}\n",
                or_empty(&event.type_),
                or_empty(&event.reason),
                event_interval(event, now),
                source,
                or_empty(&event.message).trim()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2026-07-06T10:03:35Z".parse().expect("timestamp")
    }

    fn event(value: serde_json::Value) -> Event {
        serde_json::from_value(value).expect("valid event")
    }

    #[test]
    fn intervals() {
        let counted = event(json!({
            "metadata": {"name": "e"}, "involvedObject": {},
            "firstTimestamp": "2026-07-06T10:00:10Z", "lastTimestamp": "2026-07-06T10:02:40Z", "count": 9,
        }));
        assert_eq!(event_interval(&counted, now()), "55s (x9 over 3m25s)");
        let once = event(json!({
            "metadata": {"name": "e"}, "involvedObject": {},
            "firstTimestamp": "2026-07-06T10:03:30Z", "lastTimestamp": "2026-07-06T10:03:30Z", "count": 1,
        }));
        assert_eq!(event_interval(&once, now()), "5s");
        let series = event(json!({
            "metadata": {"name": "e"}, "involvedObject": {},
            "eventTime": "2026-07-06T10:00:00.000000Z",
            "series": {"count": 4, "lastObservedTime": "2026-07-06T10:03:00.000000Z"},
        }));
        assert_eq!(event_interval(&series, now()), "35s (x4 over 3m35s)");
        let unknown = event(json!({"metadata": {"name": "e"}, "involvedObject": {}}));
        assert_eq!(event_interval(&unknown, now()), "<unknown>");
    }

    #[test]
    fn filter_by_name_namespace_and_uid() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
        }))
        .expect("pod");
        let events = vec![
            event(
                json!({"metadata": {"name": "a"}, "involvedObject": {"kind": "Pod", "name": "p", "namespace": "ns", "uid": "u1"}}),
            ),
            // Same name, older pod incarnation.
            event(
                json!({"metadata": {"name": "b"}, "involvedObject": {"kind": "Pod", "name": "p", "namespace": "ns", "uid": "u0"}}),
            ),
            // No UID (e.g. TaintManagerEviction): not shown by describe.
            event(
                json!({"metadata": {"name": "c"}, "involvedObject": {"kind": "Pod", "name": "p", "namespace": "ns"}}),
            ),
            event(
                json!({"metadata": {"name": "d"}, "involvedObject": {"kind": "Pod", "name": "q", "namespace": "ns", "uid": "u1"}}),
            ),
        ];
        let names: Vec<&str> = events_for_pod(&pod, &events)
            .iter()
            .map(|e| e.metadata.name.as_deref().unwrap_or_default())
            .collect();
        assert_eq!(names, vec!["a"]);
    }

    #[test]
    fn empty_events_line() {
        let mut w = PrefixWriter::new();
        describe_events(&mut w, &[], now());
        assert_eq!(w.finish(), "Events:  <none>\n");
    }
}
