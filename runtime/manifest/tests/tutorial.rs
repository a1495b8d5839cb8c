//! The seed tutorial's pods parse, default exactly like the API server and validate clean.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use wasmpod_manifest::{apply_defaults, parse, validate};

const HEALTH1: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: health1
spec:
  containers:
  - image: huqianakls/health_image:latest
    name: health1
    imagePullPolicy: IfNotPresent
    ports:
    - containerPort: 8080
      protocol: TCP
    livenessProbe:
      httpGet:
        path: /
        port: 8080
";

const HEALTH2: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: health2
spec:
  containers:
  - image: httpd
    name: health2
    ports:
    - containerPort: 80
    livenessProbe:
      tcpSocket:
        port: 8080
      initialDelaySeconds: 15
      periodSeconds: 20
";

#[test]
fn health1_parses_and_defaults() {
    let pods = parse("health1.yaml", HEALTH1).unwrap();
    assert_eq!(pods.len(), 1);
    let pod = &pods[0];
    assert_eq!(pod.metadata.name.as_deref(), Some("health1"));
    assert_eq!(pod.metadata.namespace.as_deref(), Some("default"));
    assert_eq!(pod.metadata.uid, None);
    assert_eq!(pod.metadata.creation_timestamp, None);

    let spec = pod.spec.as_ref().unwrap();
    assert_eq!(spec.restart_policy.as_deref(), Some("Always"));
    assert_eq!(spec.termination_grace_period_seconds, Some(30));
    assert_eq!(spec.dns_policy.as_deref(), Some("ClusterFirst"));
    assert_eq!(spec.scheduler_name.as_deref(), Some("default-scheduler"));
    assert_eq!(spec.enable_service_links, Some(true));
    assert_eq!(spec.security_context, Some(Default::default()));
    assert_eq!(spec.node_name, None);

    let container = &spec.containers[0];
    // Explicit policy kept even though the tag is `latest`.
    assert_eq!(container.image_pull_policy.as_deref(), Some("IfNotPresent"));
    assert_eq!(
        container.termination_message_path.as_deref(),
        Some("/dev/termination-log")
    );
    assert_eq!(
        container.termination_message_policy.as_deref(),
        Some("File")
    );
    let port = &container.ports.as_ref().unwrap()[0];
    assert_eq!(
        (port.container_port, port.protocol.as_deref()),
        (8080, Some("TCP"))
    );

    let probe = container.liveness_probe.as_ref().unwrap();
    assert_eq!(probe.initial_delay_seconds, None);
    assert_eq!(probe.timeout_seconds, Some(1));
    assert_eq!(probe.period_seconds, Some(10));
    assert_eq!(probe.success_threshold, Some(1));
    assert_eq!(probe.failure_threshold, Some(3));
    let http = probe.http_get.as_ref().unwrap();
    assert_eq!(http.path.as_deref(), Some("/"));
    assert_eq!(http.scheme.as_deref(), Some("HTTP"));
    assert_eq!(http.port, IntOrString::Int(8080));
    assert!(validate(pod).is_empty());
}

#[test]
fn health2_parses_and_defaults() {
    let pods = parse("health2.yaml", HEALTH2).unwrap();
    let container = &pods[0].spec.as_ref().unwrap().containers[0];
    // `httpd` has neither tag nor digest → pulled as `latest` → Always.
    assert_eq!(container.image_pull_policy.as_deref(), Some("Always"));
    let port = &container.ports.as_ref().unwrap()[0];
    assert_eq!(
        (port.container_port, port.protocol.as_deref()),
        (80, Some("TCP"))
    );
    let probe = container.liveness_probe.as_ref().unwrap();
    assert_eq!(
        probe.tcp_socket.as_ref().unwrap().port,
        IntOrString::Int(8080)
    );
    assert_eq!(probe.initial_delay_seconds, Some(15));
    assert_eq!(probe.timeout_seconds, Some(1));
    assert_eq!(probe.period_seconds, Some(20));
    assert_eq!(probe.success_threshold, Some(1));
    assert_eq!(probe.failure_threshold, Some(3));
    assert!(validate(&pods[0]).is_empty());
}

#[test]
fn both_pods_in_one_stream_and_defaults_are_idempotent() {
    let text = format!("{HEALTH1}---\n{HEALTH2}");
    let pods = parse("pods.yaml", &text).unwrap();
    assert_eq!(pods.len(), 2);
    for pod in &pods {
        let mut again = pod.clone();
        apply_defaults(&mut again);
        assert_eq!(&again, pod);
        // The defaulted object, written out and read back, is the same object.
        let json = serde_json::to_string(pod).unwrap();
        assert_eq!(&parse("roundtrip.json", &json).unwrap()[0], pod);
    }
}
