//! Service environment variables against upstream's expectations
//! (pkg/kubelet/envvars/envvars_test.go `TestFromServices`, kubelet_pods.go
//! `getServiceEnvVarMap`).

use k8s_openapi::api::core::v1::{EnvVar, Service};
use serde_json::json;
use wasmpod_services::{env_from_services, service_env, service_env_with_links};

fn svc(namespace: &str, name: &str, cluster_ip: &str, ports: serde_json::Value) -> Service {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": {"bar": "baz"}, "clusterIP": cluster_ip, "ports": ports}
    }))
    .unwrap()
}

fn pairs(vars: &[EnvVar]) -> Vec<(String, String)> {
    vars.iter()
        .map(|v| (v.name.clone(), v.value.clone().unwrap_or_default()))
        .collect()
}

fn expected(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[test]
fn from_services_matches_upstream() {
    let services = vec![
        svc(
            "",
            "foo-bar",
            "1.2.3.4",
            json!([{"port": 8080, "protocol": "TCP"}]),
        ),
        svc(
            "",
            "abc-123",
            "5.6.7.8",
            json!([
                {"name": "u-d-p", "port": 8081, "protocol": "UDP"},
                {"name": "t-c-p", "port": 8081, "protocol": "TCP"}
            ]),
        ),
        svc(
            "",
            "q-u-u-x",
            "9.8.7.6",
            json!([{"port": 8082, "protocol": "TCP"}, {"name": "8083", "port": 8083, "protocol": "TCP"}]),
        ),
        svc(
            "",
            "svrc-clusterip-none",
            "None",
            json!([{"port": 8082, "protocol": "TCP"}]),
        ),
        svc(
            "",
            "svrc-clusterip-empty",
            "",
            json!([{"port": 8082, "protocol": "TCP"}]),
        ),
        svc(
            "",
            "super-ipv6",
            "2001:DB8::",
            json!([
                {"name": "u-d-p", "port": 8084, "protocol": "UDP"},
                {"name": "t-c-p", "port": 8084, "protocol": "TCP"}
            ]),
        ),
        svc(
            "",
            "sctp-1",
            "1.2.3.4",
            json!([{"port": 777, "protocol": "SCTP"}]),
        ),
    ];
    let want = expected(&[
        ("FOO_BAR_SERVICE_HOST", "1.2.3.4"),
        ("FOO_BAR_SERVICE_PORT", "8080"),
        ("FOO_BAR_PORT", "tcp://1.2.3.4:8080"),
        ("FOO_BAR_PORT_8080_TCP", "tcp://1.2.3.4:8080"),
        ("FOO_BAR_PORT_8080_TCP_PROTO", "tcp"),
        ("FOO_BAR_PORT_8080_TCP_PORT", "8080"),
        ("FOO_BAR_PORT_8080_TCP_ADDR", "1.2.3.4"),
        ("ABC_123_SERVICE_HOST", "5.6.7.8"),
        ("ABC_123_SERVICE_PORT", "8081"),
        ("ABC_123_SERVICE_PORT_U_D_P", "8081"),
        ("ABC_123_SERVICE_PORT_T_C_P", "8081"),
        ("ABC_123_PORT", "udp://5.6.7.8:8081"),
        ("ABC_123_PORT_8081_UDP", "udp://5.6.7.8:8081"),
        ("ABC_123_PORT_8081_UDP_PROTO", "udp"),
        ("ABC_123_PORT_8081_UDP_PORT", "8081"),
        ("ABC_123_PORT_8081_UDP_ADDR", "5.6.7.8"),
        ("ABC_123_PORT_8081_TCP", "tcp://5.6.7.8:8081"),
        ("ABC_123_PORT_8081_TCP_PROTO", "tcp"),
        ("ABC_123_PORT_8081_TCP_PORT", "8081"),
        ("ABC_123_PORT_8081_TCP_ADDR", "5.6.7.8"),
        ("Q_U_U_X_SERVICE_HOST", "9.8.7.6"),
        ("Q_U_U_X_SERVICE_PORT", "8082"),
        ("Q_U_U_X_SERVICE_PORT_8083", "8083"),
        ("Q_U_U_X_PORT", "tcp://9.8.7.6:8082"),
        ("Q_U_U_X_PORT_8082_TCP", "tcp://9.8.7.6:8082"),
        ("Q_U_U_X_PORT_8082_TCP_PROTO", "tcp"),
        ("Q_U_U_X_PORT_8082_TCP_PORT", "8082"),
        ("Q_U_U_X_PORT_8082_TCP_ADDR", "9.8.7.6"),
        ("Q_U_U_X_PORT_8083_TCP", "tcp://9.8.7.6:8083"),
        ("Q_U_U_X_PORT_8083_TCP_PROTO", "tcp"),
        ("Q_U_U_X_PORT_8083_TCP_PORT", "8083"),
        ("Q_U_U_X_PORT_8083_TCP_ADDR", "9.8.7.6"),
        ("SUPER_IPV6_SERVICE_HOST", "2001:DB8::"),
        ("SUPER_IPV6_SERVICE_PORT", "8084"),
        ("SUPER_IPV6_SERVICE_PORT_U_D_P", "8084"),
        ("SUPER_IPV6_SERVICE_PORT_T_C_P", "8084"),
        ("SUPER_IPV6_PORT", "udp://[2001:DB8::]:8084"),
        ("SUPER_IPV6_PORT_8084_UDP", "udp://[2001:DB8::]:8084"),
        ("SUPER_IPV6_PORT_8084_UDP_PROTO", "udp"),
        ("SUPER_IPV6_PORT_8084_UDP_PORT", "8084"),
        ("SUPER_IPV6_PORT_8084_UDP_ADDR", "2001:DB8::"),
        ("SUPER_IPV6_PORT_8084_TCP", "tcp://[2001:DB8::]:8084"),
        ("SUPER_IPV6_PORT_8084_TCP_PROTO", "tcp"),
        ("SUPER_IPV6_PORT_8084_TCP_PORT", "8084"),
        ("SUPER_IPV6_PORT_8084_TCP_ADDR", "2001:DB8::"),
        ("SCTP_1_SERVICE_HOST", "1.2.3.4"),
        ("SCTP_1_SERVICE_PORT", "777"),
        ("SCTP_1_PORT", "sctp://1.2.3.4:777"),
        ("SCTP_1_PORT_777_SCTP", "sctp://1.2.3.4:777"),
        ("SCTP_1_PORT_777_SCTP_PROTO", "sctp"),
        ("SCTP_1_PORT_777_SCTP_PORT", "777"),
        ("SCTP_1_PORT_777_SCTP_ADDR", "1.2.3.4"),
    ]);
    assert_eq!(pairs(&env_from_services(&services)), want);
}

#[test]
fn a_pod_sees_its_namespace_and_the_kubernetes_service() {
    let services = vec![
        svc(
            "default",
            "kubernetes",
            "127.0.128.1",
            json!([{"name": "https", "port": 443, "protocol": "TCP"}]),
        ),
        svc("default", "web", "127.0.128.2", json!([{"port": 80}])),
        svc("shop", "cart", "127.0.128.3", json!([{"port": 8080}])),
        svc("shop", "headless", "None", json!([{"port": 8080}])),
    ];
    let names = |vars: Vec<EnvVar>| -> Vec<String> {
        vars.into_iter()
            .filter(|v| v.name.ends_with("_SERVICE_HOST"))
            .map(|v| v.name)
            .collect()
    };
    assert_eq!(
        names(service_env(&services, "shop")),
        ["CART_SERVICE_HOST", "KUBERNETES_SERVICE_HOST"]
    );
    assert_eq!(
        names(service_env(&services, "default")),
        ["KUBERNETES_SERVICE_HOST", "WEB_SERVICE_HOST"]
    );
    assert_eq!(
        names(service_env_with_links(&services, "shop", false)),
        ["KUBERNETES_SERVICE_HOST"]
    );

    let kubernetes = service_env(&services, "shop");
    let value = |name: &str| {
        kubernetes
            .iter()
            .find(|v| v.name == name)
            .and_then(|v| v.value.clone())
    };
    assert_eq!(
        value("KUBERNETES_SERVICE_PORT_HTTPS").as_deref(),
        Some("443")
    );
    assert_eq!(
        value("KUBERNETES_PORT").as_deref(),
        Some("tcp://127.0.128.1:443")
    );

    // A "kubernetes" service in the pod's own namespace shadows default/kubernetes.
    let mut shadowed = services.clone();
    shadowed.push(svc(
        "shop",
        "kubernetes",
        "127.0.128.9",
        json!([{"port": 443}]),
    ));
    let vars = service_env(&shadowed, "shop");
    let host = vars
        .iter()
        .find(|v| v.name == "KUBERNETES_SERVICE_HOST")
        .unwrap();
    assert_eq!(host.value.as_deref(), Some("127.0.128.9"));
}
