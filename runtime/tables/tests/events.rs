//! Event tables (`printEvent`, always wide on the server).

mod common;

use common::{cells, column_shapes, kubectl_render, now};
use serde_json::json;
use wasmpod_tables::{table_for, IncludeObject, ResourceKind};

fn s(name: &str, type_: &str, priority: i64) -> (String, String, i64) {
    (name.to_string(), type_.to_string(), priority)
}

#[test]
fn event_columns_and_cells() {
    let kubelet_event = json!({
        "metadata": {"name": "health1.17f0a", "namespace": "default", "creationTimestamp": "2026-07-06T10:00:10Z"},
        "involvedObject": {"kind": "Pod", "name": "health1", "namespace": "default",
                           "fieldPath": "spec.containers{app}"},
        "reason": "Unhealthy",
        "message": "Liveness probe failed: HTTP probe failed with statuscode: 500\n",
        "source": {"component": "kubelet", "host": "worker-1"},
        "firstTimestamp": "2026-07-06T10:00:10Z",
        "lastTimestamp": "2026-07-06T10:02:40Z",
        "count": 9,
        "type": "Warning",
    });
    let scheduler_event = json!({
        "metadata": {"name": "health1.17e01", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "health1"},
        "reason": "Scheduled",
        "message": "Successfully assigned default/health1 to worker-1",
        "source": {},
        "eventTime": "2026-07-06T10:00:00.000000Z",
        "reportingComponent": "default-scheduler",
        "reportingInstance": "default-scheduler-control-plane",
        "type": "Normal",
    });
    let series_event = json!({
        "metadata": {"name": "node.1"},
        "involvedObject": {"kind": "Node"},
        "eventTime": "2026-07-06T10:00:00.000000Z",
        "series": {"count": 4, "lastObservedTime": "2026-07-06T10:03:30.000000Z"},
        "type": "Normal", "reason": "Rebooted", "message": "  padded  ",
        "reportingComponent": "kubelet",
    });
    let table = table_for(
        ResourceKind::Event,
        &[scheduler_event, kubelet_event, series_event],
        now(),
        IncludeObject::Metadata,
        ("55".to_string(), None),
    )
    .expect("table");
    assert_eq!(
        column_shapes(&table),
        vec![
            s("Last Seen", "string", 0),
            s("Type", "string", 0),
            s("Reason", "string", 0),
            s("Object", "string", 0),
            s("Subobject", "string", 1),
            s("Source", "string", 1),
            s("Message", "string", 0),
            s("First Seen", "string", 1),
            s("Count", "string", 1),
            s("Name", "string", 1),
        ]
    );
    assert_eq!(table["columnDefinitions"][9]["format"], "name");
    assert_eq!(
        table["columnDefinitions"][3]["description"],
        "The object that this event is about."
    );
    assert_eq!(
        cells(&table),
        vec![
            json!([
                "3m35s",
                "Normal",
                "Scheduled",
                "pod/health1",
                "",
                "default-scheduler, default-scheduler-control-plane",
                "Successfully assigned default/health1 to worker-1",
                "3m35s",
                1,
                "health1.17e01"
            ]),
            json!([
                "55s",
                "Warning",
                "Unhealthy",
                "pod/health1",
                "spec.containers{app}",
                "kubelet, worker-1",
                "Liveness probe failed: HTTP probe failed with statuscode: 500",
                "3m25s",
                9,
                "health1.17f0a"
            ]),
            json!([
                "5s", "Normal", "Rebooted", "node", "", "kubelet", "padded", "3m35s", 4, "node.1"
            ]),
        ]
    );
    // kubectl shows the five priority-0 columns.
    assert_eq!(
        kubectl_render(&table, false),
        "LAST SEEN   TYPE      REASON      OBJECT        MESSAGE\n\
         3m35s       Normal    Scheduled   pod/health1   Successfully assigned default/health1 to worker-1\n\
         55s         Warning   Unhealthy   pod/health1   Liveness probe failed: HTTP probe failed with statuscode: 500\n\
         5s          Normal    Rebooted    node          padded\n"
    );
}
