//! Service and Endpoints tables.

mod common;

use common::{cells, column_shapes, now};
use serde_json::json;
use wasmpod_tables::{table_for, IncludeObject, ResourceKind};

fn table(kind: ResourceKind, objects: &[serde_json::Value]) -> serde_json::Value {
    table_for(
        kind,
        objects,
        now(),
        IncludeObject::Metadata,
        ("3".to_string(), None),
    )
    .expect("table")
}

#[test]
fn service_rows() {
    let kubernetes = json!({
        "metadata": {"name": "kubernetes", "creationTimestamp": "2026-07-05T10:03:35Z"},
        "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"],
                 "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]},
    });
    let node_port = json!({
        "metadata": {"name": "web", "creationTimestamp": "2026-07-06T10:00:00Z"},
        "spec": {"type": "NodePort", "clusterIPs": ["10.96.12.7"], "selector": {"app": "web"},
                 "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"},
                           {"port": 53, "protocol": "UDP"}]},
    });
    let lb = json!({
        "metadata": {"name": "lb", "creationTimestamp": "2026-07-06T10:00:00Z"},
        "spec": {"type": "LoadBalancer", "clusterIPs": ["10.96.3.3"], "externalIPs": ["1.2.3.4"],
                 "ports": [{"port": 443, "nodePort": 31443}]},
        "status": {"loadBalancer": {"ingress": [{"hostname": "a-very-long-load-balancer.example.com"},
                                               {"ip": "34.1.1.1"}]}},
    });
    let pending = json!({
        "metadata": {"name": "pending", "creationTimestamp": "2026-07-06T10:00:00Z"},
        "spec": {"type": "LoadBalancer", "clusterIPs": ["10.96.3.4"]},
    });
    let headless = json!({
        "metadata": {"name": "db", "creationTimestamp": "2026-07-06T10:00:00Z"},
        "spec": {"clusterIP": "None", "clusterIPs": ["None"], "selector": {"app": "db"}},
    });
    let external = json!({
        "metadata": {"name": "ext", "creationTimestamp": "2026-07-06T10:00:00Z"},
        "spec": {"type": "ExternalName", "externalName": "example.com"},
    });
    let t = table(
        ResourceKind::Service,
        &[kubernetes, node_port, lb, pending, headless, external],
    );
    let names: Vec<(String, i64)> = column_shapes(&t).into_iter().map(|c| (c.0, c.2)).collect();
    assert_eq!(
        names,
        [
            ("Name", 0),
            ("Type", 0),
            ("Cluster-IP", 0),
            ("External-IP", 0),
            ("Port(s)", 0),
            ("Age", 0),
            ("Selector", 1)
        ]
        .map(|(n, p)| (n.to_string(), p))
    );
    assert_eq!(
        cells(&t),
        vec![
            json!([
                "kubernetes",
                "ClusterIP",
                "10.96.0.1",
                "<none>",
                "443/TCP",
                "24h",
                "<none>"
            ]),
            json!([
                "web",
                "NodePort",
                "10.96.12.7",
                "<none>",
                "80:30080/TCP,53/UDP",
                "3m35s",
                "app=web"
            ]),
            // Never clipped to 16 characters: the server prints wide.
            json!([
                "lb",
                "LoadBalancer",
                "10.96.3.3",
                "34.1.1.1,a-very-long-load-balancer.example.com,1.2.3.4",
                "443:31443/TCP",
                "3m35s",
                "<none>"
            ]),
            json!([
                "pending",
                "LoadBalancer",
                "10.96.3.4",
                "<pending>",
                "<none>",
                "3m35s",
                "<none>"
            ]),
            json!([
                "db",
                "ClusterIP",
                "None",
                "<none>",
                "<none>",
                "3m35s",
                "app=db"
            ]),
            json!([
                "ext",
                "ExternalName",
                "<none>",
                "example.com",
                "<none>",
                "3m35s",
                "<none>"
            ]),
        ]
    );
}

#[test]
fn endpoints_rows() {
    let web = json!({
        "metadata": {"name": "web", "creationTimestamp": "2026-07-06T10:00:00Z"},
        "subsets": [{"addresses": [{"ip": "10.244.1.5"}, {"ip": "10.244.2.9"}],
                     "ports": [{"port": 8080}, {"port": 9090}]}],
    });
    let headless = json!({
        "metadata": {"name": "db", "creationTimestamp": "2026-07-06T10:00:00Z"},
        "subsets": [{"addresses": [{"ip": "fd00::1"}, {"ip": "fd00::2"}]}],
    });
    let v6 = json!({
        "metadata": {"name": "v6", "creationTimestamp": "2026-07-06T10:00:00Z"},
        "subsets": [{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}],
    });
    let empty = json!({"metadata": {"name": "none", "creationTimestamp": "2026-07-06T10:00:00Z"}});
    let t = table(ResourceKind::Endpoints, &[web, headless, v6, empty]);
    assert_eq!(
        cells(&t),
        vec![
            json!([
                "web",
                "10.244.1.5:8080,10.244.2.9:8080,10.244.1.5:9090 + 1 more...",
                "3m35s"
            ]),
            json!(["db", "fd00::1,fd00::2", "3m35s"]),
            json!(["v6", "[fd00::1]:80", "3m35s"]),
            json!(["none", "<none>", "3m35s"]),
        ]
    );
}
