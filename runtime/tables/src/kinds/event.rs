//! `printEvent` (wide form: the server always prints all ten cells).

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Event;
use serde::Deserialize;
use serde_json::{json, Value};
use wasmpod_printers::event_cells;

use super::Row;
use crate::format::{age, micro_age, text};

pub fn row(object: &Value, now: Timestamp) -> Result<Row, serde_json::Error> {
    let event = Event::deserialize(object)?;
    // LAST SEEN, TYPE, REASON, OBJECT (MESSAGE is redone below: the server trims it).
    let narrow = event_cells(&event, now);
    let first_seen = match &event.first_timestamp {
        Some(first) => age(Some(first), now),
        None => micro_age(event.event_time.as_ref(), now),
    };
    let count = match &event.series {
        Some(series) => series.count.unwrap_or(0),
        // Singleton events of the events.k8s.io API have no count.
        None => match event.count.unwrap_or(0) {
            0 => 1,
            n => n,
        },
    };
    let mut cells: Vec<Value> = narrow.into_iter().take(4).map(Value::from).collect();
    cells.extend([
        json!(text(event.involved_object.field_path.as_ref())),
        json!(event_source(&event)),
        json!(text(event.message.as_ref()).trim()),
        json!(first_seen),
        json!(i64::from(count)),
        json!(text(event.metadata.name.as_ref())),
    ]);
    Ok(Row::cells(cells))
}

/// `formatEventSource`: component (else reportingController), then `, host` (else
/// reportingInstance) when there is one.
fn event_source(event: &Event) -> String {
    let source = event.source.clone().unwrap_or_default();
    let first_non_empty = |a: Option<String>, b: Option<&String>| {
        a.filter(|s| !s.is_empty())
            .unwrap_or_else(|| text(b).to_string())
    };
    let component = first_non_empty(source.component, event.reporting_component.as_ref());
    let instance = first_non_empty(source.host, event.reporting_instance.as_ref());
    if instance.is_empty() {
        component
    } else {
        format!("{component}, {instance}")
    }
}
