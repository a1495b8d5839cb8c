//! `kubectl get events` (and its `-w` streaming form): port of the API server's `printEvent`
//! (`pkg/printers/internalversion/printers.go`) with the client-side table layout.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Event;

use crate::table::{render_table, write_header, write_row};
use crate::tabwriter::TabWriter;
use crate::text::{age_since, micro_age_since, or_empty};

const COLUMNS: [&str; 5] = ["Last Seen", "Type", "Reason", "Object", "Message"];

/// The non-wide cells of `printEvent`: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE.
pub fn event_cells(event: &Event, now: Timestamp) -> Vec<String> {
    let first_seen = match &event.first_timestamp {
        Some(first) => age_since(Some(first), now),
        None => micro_age_since(event.event_time.as_ref(), now),
    };
    let mut last_seen = match &event.last_timestamp {
        Some(last) => age_since(Some(last), now),
        None => first_seen,
    };
    if let Some(series) = &event.series {
        last_seen = micro_age_since(series.last_observed_time.as_ref(), now);
    }
    vec![
        last_seen,
        or_empty(&event.type_).to_string(),
        or_empty(&event.reason).to_string(),
        event_target(event),
        // printEvent trims the message (strings.TrimSpace).
        or_empty(&event.message).trim().to_string(),
    ]
}

/// OBJECT column: `<kind lower-cased>/<name>`, or just the kind without a name.
fn event_target(event: &Event) -> String {
    let kind = or_empty(&event.involved_object.kind).to_lowercase();
    match event.involved_object.name.as_deref() {
        Some(name) if !name.is_empty() => format!("{kind}/{name}"),
        _ => kind,
    }
}

/// Events in the order the event list printer sorts them: ascending `lastTimestamp`
/// (unset first), stable for equal times.
pub fn sorted_by_last_timestamp(events: &[Event]) -> Vec<&Event> {
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by_key(|e| e.last_timestamp.as_ref().map(|t| t.0));
    sorted
}

/// `kubectl get events`, header included; empty when there are no events.
pub fn get_events(events: &[Event], now: Timestamp) -> String {
    let rows: Vec<Vec<String>> = sorted_by_last_timestamp(events)
        .into_iter()
        .map(|e| event_cells(e, now))
        .collect();
    render_table(&COLUMNS, &rows)
}

/// Streaming `kubectl get events -w`: the header together with the first event (kubectl
/// prints them as one table), then one line per event. Every piece is flushed on its own,
/// and column widths are remembered across flushes (never shrink), exactly as cli-runtime's
/// RememberWidths tabwriter does.
#[derive(Debug, Clone)]
pub struct EventStreamPrinter {
    writer: TabWriter,
    header_written: bool,
}

impl Default for EventStreamPrinter {
    fn default() -> Self {
        Self::new()
    }
}

impl EventStreamPrinter {
    pub fn new() -> Self {
        EventStreamPrinter {
            writer: TabWriter::for_get(),
            header_written: false,
        }
    }

    /// One event line, ending with a newline; the first one comes with the header line
    /// (`LAST SEEN   TYPE     REASON      OBJECT        MESSAGE`), aligned with it.
    pub fn line(&mut self, event: &Event, now: Timestamp) -> String {
        if !self.header_written {
            write_header(&mut self.writer, &COLUMNS);
            self.header_written = true;
        }
        write_row(&mut self.writer, &event_cells(event, now));
        self.writer.flush();
        self.writer.take_output()
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
    fn last_seen_falls_back_to_first_seen_then_event_time() {
        let scheduler = event(json!({
            "metadata": {"name": "e1"},
            "involvedObject": {"kind": "Pod", "name": "health1"},
            "eventTime": "2026-07-06T10:00:00.000000Z",
            "type": "Normal", "reason": "Scheduled", "message": "m",
        }));
        assert_eq!(event_cells(&scheduler, now())[0], "3m35s");
        let counted = event(json!({
            "metadata": {"name": "e2"},
            "involvedObject": {"kind": "Pod", "name": "health1"},
            "firstTimestamp": "2026-07-06T10:00:10Z",
            "lastTimestamp": "2026-07-06T10:02:40Z",
            "count": 9,
        }));
        // `get events` shows only the age of the last occurrence, never "(x9 over …)".
        assert_eq!(event_cells(&counted, now())[0], "55s");
        let series = event(json!({
            "metadata": {"name": "e3"},
            "involvedObject": {"kind": "Node"},
            "eventTime": "2026-07-06T10:00:00.000000Z",
            "series": {"count": 3, "lastObservedTime": "2026-07-06T10:03:30.000000Z"},
        }));
        let cells = event_cells(&series, now());
        assert_eq!(cells[0], "5s");
        assert_eq!(cells[3], "node");
        let nothing = event(json!({"metadata": {"name": "e4"}, "involvedObject": {}}));
        assert_eq!(event_cells(&nothing, now())[0], "<unknown>");
    }

    #[test]
    fn the_message_is_trimmed_like_print_event() {
        let e = event(json!({
            "metadata": {"name": "e"},
            "involvedObject": {"kind": "Pod", "name": "health1"},
            "message": "  Liveness probe failed: HTTP probe failed with statuscode: 500\n",
        }));
        assert_eq!(
            event_cells(&e, now())[4],
            "Liveness probe failed: HTTP probe failed with statuscode: 500"
        );
    }

    #[test]
    fn stream_remembers_widths() {
        let mut printer = EventStreamPrinter::new();
        let e = event(json!({
            "metadata": {"name": "e"},
            "involvedObject": {"kind": "Pod", "name": "health1"},
            "firstTimestamp": "2026-07-06T10:03:34Z",
            "lastTimestamp": "2026-07-06T10:03:34Z",
            "type": "Warning", "reason": "Unhealthy", "message": "Liveness probe failed",
        }));
        assert_eq!(
            printer.line(&e, now()),
            "LAST SEEN   TYPE      REASON      OBJECT        MESSAGE\n\
             1s          Warning   Unhealthy   pod/health1   Liveness probe failed\n"
        );
        let short = event(json!({
            "metadata": {"name": "s"},
            "involvedObject": {"kind": "Pod", "name": "p"},
            "lastTimestamp": "2026-07-06T10:03:35Z",
            "type": "Normal", "reason": "X", "message": "y",
        }));
        assert_eq!(
            printer.line(&short, now()),
            "0s          Normal    X           pod/p         y\n"
        );
    }
}
