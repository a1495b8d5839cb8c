//! Node tables.

mod common;

use common::{cells, column_shapes, kubectl_render, now};
use serde_json::json;
use wasmpod_tables::{table_for, IncludeObject, ResourceKind};

#[test]
fn node_rows() {
    let control_plane = json!({
        "metadata": {"name": "control-plane", "creationTimestamp": "2026-07-01T10:03:35Z",
                     "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "master",
                                "node-role.kubernetes.io/": "x"}},
        "spec": {"unschedulable": true},
        "status": {
            "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
            "addresses": [{"type": "InternalIP", "address": "172.18.0.2"}, {"type": "Hostname", "address": "control-plane"}],
            "nodeInfo": {"kubeletVersion": "v1.33.1", "osImage": "Debian GNU/Linux 12 (bookworm)",
                         "kernelVersion": "6.8.0", "containerRuntimeVersion": "containerd://2.1.1"},
        },
    });
    let lost = json!({
        "metadata": {"name": "worker-1", "creationTimestamp": "2026-07-06T10:00:00Z"},
        "status": {"conditions": [{"type": "Ready", "status": "Unknown"}],
                   "addresses": [{"type": "ExternalIP", "address": "34.0.0.1"}]},
    });
    let fresh = json!({"metadata": {"name": "fresh", "creationTimestamp": "2026-07-06T10:03:35Z"}});
    let t = table_for(
        ResourceKind::Node,
        &[control_plane, lost, fresh],
        now(),
        IncludeObject::Metadata,
        ("77".to_string(), None),
    )
    .expect("table");
    let names: Vec<(String, i64)> = column_shapes(&t).into_iter().map(|c| (c.0, c.2)).collect();
    assert_eq!(
        names,
        [
            ("Name", 0),
            ("Status", 0),
            ("Roles", 0),
            ("Age", 0),
            ("Version", 0),
            ("Internal-IP", 1),
            ("External-IP", 1),
            ("OS-Image", 1),
            ("Kernel-Version", 1),
            ("Container-Runtime", 1)
        ]
        .map(|(n, p)| (n.to_string(), p))
    );
    assert_eq!(
        cells(&t),
        vec![
            json!([
                "control-plane",
                "Ready,SchedulingDisabled",
                "control-plane,master",
                "5d",
                "v1.33.1",
                "172.18.0.2",
                "<none>",
                "Debian GNU/Linux 12 (bookworm)",
                "6.8.0",
                "containerd://2.1.1"
            ]),
            json!([
                "worker-1",
                "NotReady",
                "<none>",
                "3m35s",
                "",
                "<none>",
                "34.0.0.1",
                "<unknown>",
                "<unknown>",
                "<unknown>"
            ]),
            json!([
                "fresh",
                "Unknown",
                "<none>",
                "0s",
                "",
                "<none>",
                "<none>",
                "<unknown>",
                "<unknown>",
                "<unknown>"
            ]),
        ]
    );
    assert_eq!(
        kubectl_render(&t, false),
        "NAME            STATUS                     ROLES                  AGE     VERSION\n\
         control-plane   Ready,SchedulingDisabled   control-plane,master   5d      v1.33.1\n\
         worker-1        NotReady                   <none>                 3m35s   \n\
         fresh           Unknown                    <none>                 0s      \n"
    );
}
