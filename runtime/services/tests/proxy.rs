//! The service proxy end to end: pods (echo servers on loopback IPs) behind Services, the
//! endpoint controllers writing slices, and proxies forwarding real TCP connections.

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;

use common::*;
use serde_json::{json, Value};
use wasmpod_apiserver::ApiServer;
use wasmpod_services::{ListenerInfo, ListenerKind, ListenerState, ProxyOptions, ServiceProxy};

fn proxy(api: &ApiServer, node: &str) -> ServiceProxy {
    ServiceProxy::start(
        api.clone(),
        ProxyOptions {
            node_name: node.into(),
            bind_retry_interval: std::time::Duration::from_millis(50),
            ..ProxyOptions::default()
        },
    )
}

fn service(name: &str, cluster_ip: &str, port: u16, extra: Value) -> Value {
    let mut spec = json!({
        "clusterIP": cluster_ip,
        "selector": {"app": name},
        "ports": [{"name": "http", "port": port, "targetPort": "http"}]
    });
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec})
}

/// A "pod" named `name` labelled `app: <app>` whose server listens on `ip`.
async fn pod(api: &ApiServer, app: &str, name: &str, ip: &str, ready: bool) -> EchoServer {
    let server = EchoServer::start(ip, name).await;
    create_pod(
        api,
        name,
        json!({"app": app}),
        "node-a",
        &[("http", server.port())],
    )
    .await;
    set_pod_status(api, name, ip, ready).await;
    server
}

fn listener(proxy: &ServiceProxy, address: SocketAddr) -> Option<ListenerInfo> {
    proxy.listeners().into_iter().find(|l| l.address == address)
}

/// Waits until the listener on `address` is open with exactly `backends`.
async fn open_with(
    proxy: &ServiceProxy,
    address: SocketAddr,
    backends: &[SocketAddr],
) -> ListenerInfo {
    let mut wanted = backends.to_vec();
    wanted.sort();
    eventually(
        &format!("listener {address} open with {wanted:?}"),
        || async {
            let info = listener(proxy, address)?;
            (info.state == ListenerState::Open && info.backends == wanted).then_some(info)
        },
    )
    .await
}

#[tokio::test]
async fn forwards_round_robin_to_ready_endpoints_and_fails_over() {
    let api = api();
    let _controllers = controllers(&api);
    let proxy = proxy(&api, "node-a");
    create_node(&api, "node-a").await;
    create(
        &api,
        "services",
        service("rr", "127.0.128.30", 24030, json!({})),
    )
    .await;
    let a = pod(&api, "rr", "a", "127.1.1.1", true).await;
    let b = pod(&api, "rr", "b", "127.1.1.2", true).await;
    let c = pod(&api, "rr", "c", "127.1.1.3", false).await;
    let address: SocketAddr = "127.0.128.30:24030".parse().unwrap();
    let info = open_with(&proxy, address, &[a.address, b.address]).await;
    assert_eq!(
        (
            info.kind,
            info.namespace.as_str(),
            info.service.as_str(),
            info.port_name.as_str()
        ),
        (ListenerKind::ClusterIp, "default", "rr", "http")
    );

    // Round-robin over the two ready pods; the unready one gets nothing.
    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(who_answers(address).await);
    }
    assert_ne!(answers[0], answers[1], "{answers:?}");
    assert_eq!(answers[0], answers[2], "{answers:?}");
    assert_eq!(answers[1], answers[3], "{answers:?}");
    assert_eq!(
        answers.iter().collect::<HashSet<_>>(),
        HashSet::from([&"a".to_string(), &"b".to_string()])
    );
    drop(c);

    // Pod a stops listening while still Ready: its turns fail over to b.
    a.stop().await;
    for _ in 0..4 {
        assert_eq!(who_answers(address).await, "b");
    }
    // No endpoint accepts at all: the client's connection is reset or closed unanswered.
    b.stop().await;
    let reply = request(address, "ping").await;
    assert!(reply.as_deref().map_or(true, str::is_empty), "{reply:?}");

    // No ready endpoints: the listener closes and connections are refused (REJECT).
    set_pod_status(&api, "a", "127.1.1.1", false).await;
    set_pod_status(&api, "b", "127.1.1.2", false).await;
    eventually("listener closed without ready endpoints", || async {
        (listener(&proxy, address)?.state == ListenerState::NoEndpoints).then_some(())
    })
    .await;
    let refused = tokio::net::TcpStream::connect(address).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn node_ports_and_port_changes() {
    let api = api();
    let _controllers = controllers(&api);
    let proxy = proxy(&api, "node-a");
    create_node(&api, "node-a").await;
    let mut svc = service("np", "127.0.128.31", 24031, json!({"type": "NodePort"}));
    svc["spec"]["ports"][0]["nodePort"] = json!(31731);
    create(&api, "services", svc).await;
    let server = pod(&api, "np", "np-1", "127.1.2.1", true).await;

    let cluster: SocketAddr = "127.0.128.31:24031".parse().unwrap();
    let node_port: SocketAddr = "0.0.0.0:31731".parse().unwrap();
    open_with(&proxy, cluster, &[server.address]).await;
    let info = open_with(&proxy, node_port, &[server.address]).await;
    assert_eq!(info.kind, ListenerKind::NodePort);
    assert_eq!(
        who_answers("127.0.0.1:31731".parse().unwrap()).await,
        "np-1"
    );
    assert_eq!(who_answers(cluster).await, "np-1");

    // A second port opens a listener; removing it closes that listener again.
    let mut current = get(&api, "services", "np").await.unwrap();
    current["spec"]["ports"] = json!([
        {"name": "http", "port": 24031, "targetPort": "http", "nodePort": 31731},
        {"name": "alt", "port": 24032, "targetPort": "http", "nodePort": 31732}
    ]);
    api.update_object("services", "default", "np", current)
        .await
        .unwrap();
    let alt: SocketAddr = "127.0.128.31:24032".parse().unwrap();
    open_with(&proxy, alt, &[server.address]).await;
    assert_eq!(who_answers(alt).await, "np-1");
    assert_eq!(
        who_answers("127.0.0.1:31732".parse().unwrap()).await,
        "np-1"
    );

    let mut current = get(&api, "services", "np").await.unwrap();
    current["spec"]["ports"] =
        json!([{"name": "http", "port": 24031, "targetPort": "http", "nodePort": 31731}]);
    api.update_object("services", "default", "np", current)
        .await
        .unwrap();
    eventually("alt listener closed", || async {
        listener(&proxy, alt).is_none().then_some(())
    })
    .await;
    let refused = tokio::net::TcpStream::connect(alt).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);

    // Deleting the service closes everything.
    delete(&api, "services", "np", None).await;
    eventually("all listeners closed", || async {
        proxy.listeners().is_empty().then_some(())
    })
    .await;
    assert!(tokio::net::TcpStream::connect(cluster).await.is_err());
}

#[tokio::test]
async fn two_proxies_share_a_cluster_ip_through_reuseport() {
    let api = api();
    let _controllers = controllers(&api);
    let first = proxy(&api, "node-a");
    let second = proxy(&api, "node-b");
    create_node(&api, "node-a").await;
    create(
        &api,
        "services",
        service("shared", "127.0.128.32", 24033, json!({})),
    )
    .await;
    let server = pod(&api, "shared", "s-1", "127.1.3.1", true).await;
    let address: SocketAddr = "127.0.128.32:24033".parse().unwrap();
    open_with(&first, address, &[server.address]).await;
    open_with(&second, address, &[server.address]).await;

    // The kernel spreads connections over both sockets (by client port hash).
    for _ in 0..40 {
        assert_eq!(who_answers(address).await, "s-1");
    }
    let accepted = |proxy: &ServiceProxy| listener(proxy, address).unwrap().accepted;
    assert!(
        accepted(&first) > 0 && accepted(&second) > 0,
        "{} / {}",
        accepted(&first),
        accepted(&second)
    );
    assert_eq!(accepted(&first) + accepted(&second), 40);

    // One node goes away; the other keeps serving every connection.
    first.stop().await;
    let before = accepted(&second);
    for _ in 0..10 {
        assert_eq!(who_answers(address).await, "s-1");
    }
    assert_eq!(accepted(&second), before + 10);
}

#[tokio::test]
async fn client_ip_affinity_and_hand_made_endpoints() {
    let api = api();
    let _controllers = controllers(&api);
    let proxy = proxy(&api, "node-a");
    create_node(&api, "node-a").await;
    create(
        &api,
        "services",
        service(
            "sticky",
            "127.0.128.33",
            24034,
            json!({"sessionAffinity": "ClientIP"}),
        ),
    )
    .await;
    let one = pod(&api, "sticky", "one", "127.1.4.1", true).await;
    let two = pod(&api, "sticky", "two", "127.1.4.2", true).await;
    let address: SocketAddr = "127.0.128.33:24034".parse().unwrap();
    open_with(&proxy, address, &[one.address, two.address]).await;
    let first = who_answers(address).await;
    for _ in 0..5 {
        assert_eq!(
            who_answers(address).await,
            first,
            "same client IP, same backend"
        );
    }

    // A selectorless service is served from its hand-made Endpoints.
    let manual = EchoServer::start("127.1.4.9", "manual").await;
    create(
        &api,
        "services",
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "external"},
            "spec": {"clusterIP": "127.0.128.34", "ports": [{"port": 24035}]}
        }),
    )
    .await;
    create(
        &api,
        "endpoints",
        json!({
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "external"},
            "subsets": [{"addresses": [{"ip": "127.1.4.9"}], "ports": [{"port": manual.port()}]}]
        }),
    )
    .await;
    let external: SocketAddr = "127.0.128.34:24035".parse().unwrap();
    open_with(&proxy, external, &[manual.address]).await;
    assert_eq!(who_answers(external).await, "manual");
}
