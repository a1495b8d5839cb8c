//! The Kubernetes documentation's probe examples (examples/k8s-docs, copied byte for
//! byte from kubernetes/website) are what users run unmodified: each must parse,
//! default and validate, flow-style KYAML and comments included.

use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{Pod, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use wasmpod_manifest::{apply_defaults, load_paths, load_set, parse, validate};

const EXPECTED_FILES: &[&str] = &[
    "exec-liveness.yaml",
    "grpc-liveness.yaml",
    "http-liveness.yaml",
    "pod-with-http-healthcheck.yaml",
    "pod-with-tcp-socket-healthcheck.yaml",
    "tcp-liveness-readiness.yaml",
];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/k8s-docs")
}

fn corpus_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("examples/k8s-docs exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn load_one(name: &str) -> Pod {
    let path = corpus_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut pods = parse(name, &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(pods.len(), 1, "{name}");
    pods.remove(0)
}

fn liveness(pod: &Pod) -> &Probe {
    pod.spec.as_ref().unwrap().containers[0]
        .liveness_probe
        .as_ref()
        .unwrap()
}

#[test]
fn corpus_holds_the_documented_examples() {
    let names: Vec<String> = corpus_files()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, EXPECTED_FILES);
}

#[test]
fn every_file_parses_defaults_and_validates() {
    for file in corpus_files() {
        let name = file.display().to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        let pods = parse(&name, &text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pods.len(), 1, "{name}");
        let pod = &pods[0];
        // Defaulted: re-applying defaults changes nothing and validation is clean.
        let mut again = pod.clone();
        apply_defaults(&mut again);
        assert_eq!(&again, pod, "{name}: defaults not idempotent");
        assert!(validate(pod).is_empty(), "{name}: {:?}", validate(pod));
        assert_eq!(pod.metadata.namespace.as_deref(), Some("default"), "{name}");
        let spec = pod.spec.as_ref().unwrap();
        assert_eq!(spec.restart_policy.as_deref(), Some("Always"), "{name}");
        for container in &spec.containers {
            for probe in [&container.liveness_probe, &container.readiness_probe]
                .into_iter()
                .flatten()
            {
                assert_eq!(probe.timeout_seconds, Some(1), "{name}");
                assert_eq!(probe.success_threshold, Some(1), "{name}");
                assert_eq!(probe.failure_threshold, Some(3), "{name}");
            }
        }
    }
}

#[test]
fn the_whole_directory_loads_as_one_set() {
    let set = load_set(&[corpus_dir()]).unwrap();
    assert_eq!(set.pods.len(), EXPECTED_FILES.len());
    assert!(set.config_maps.is_empty() && set.secrets.is_empty());
    assert_eq!(load_paths(&[corpus_dir()]).unwrap(), set.pods);
}

#[test]
fn exec_liveness_content() {
    let pod = load_one("exec-liveness.yaml");
    assert_eq!(pod.metadata.name.as_deref(), Some("liveness-exec"));
    let container = &pod.spec.as_ref().unwrap().containers[0];
    assert_eq!(
        container.image.as_deref(),
        Some("registry.k8s.io/busybox:1.27.2")
    );
    assert_eq!(container.image_pull_policy.as_deref(), Some("IfNotPresent"));
    assert_eq!(container.args.as_ref().unwrap().len(), 3);
    let probe = liveness(&pod);
    assert_eq!(
        probe.exec.as_ref().unwrap().command.as_deref(),
        Some(&["cat".to_owned(), "/tmp/healthy".to_owned()][..])
    );
    assert_eq!(
        (probe.initial_delay_seconds, probe.period_seconds),
        (Some(5), Some(5))
    );
}

#[test]
fn http_liveness_content() {
    let pod = load_one("http-liveness.yaml");
    let http = liveness(&pod).http_get.as_ref().unwrap();
    assert_eq!(http.path.as_deref(), Some("/healthz"));
    assert_eq!(http.port, IntOrString::Int(8080));
    assert_eq!(http.scheme.as_deref(), Some("HTTP"));
    let header = &http.http_headers.as_ref().unwrap()[0];
    assert_eq!(
        (header.name.as_str(), header.value.as_str()),
        ("Custom-Header", "Awesome")
    );
}

#[test]
fn grpc_liveness_content() {
    let pod = load_one("grpc-liveness.yaml");
    let probe = liveness(&pod);
    assert_eq!(probe.grpc.as_ref().unwrap().port, 2379);
    assert_eq!(probe.grpc.as_ref().unwrap().service, None);
    assert_eq!(probe.initial_delay_seconds, Some(10));
    let container = &pod.spec.as_ref().unwrap().containers[0];
    assert_eq!(container.command.as_ref().unwrap().len(), 9);
    assert_eq!(
        container.ports.as_ref().unwrap()[0].protocol.as_deref(),
        Some("TCP")
    );
}

#[test]
fn commented_flow_style_examples_content() {
    let http = load_one("pod-with-http-healthcheck.yaml");
    let probe = liveness(&http);
    assert_eq!(
        probe.http_get.as_ref().unwrap().path.as_deref(),
        Some("/_status/healthz")
    );
    assert_eq!(probe.http_get.as_ref().unwrap().port, IntOrString::Int(80));
    assert_eq!(
        (probe.initial_delay_seconds, probe.timeout_seconds),
        (Some(30), Some(1))
    );
    let tcp = load_one("pod-with-tcp-socket-healthcheck.yaml");
    assert_eq!(
        liveness(&tcp).tcp_socket.as_ref().unwrap().port,
        IntOrString::Int(6379)
    );
    // No tag: the default pull policy is Always.
    assert_eq!(
        tcp.spec.as_ref().unwrap().containers[0]
            .image_pull_policy
            .as_deref(),
        Some("Always")
    );
}

#[test]
fn tcp_liveness_readiness_content() {
    let pod = load_one("tcp-liveness-readiness.yaml");
    let container = &pod.spec.as_ref().unwrap().containers[0];
    let readiness = container.readiness_probe.as_ref().unwrap();
    assert_eq!(
        readiness.tcp_socket.as_ref().unwrap().port,
        IntOrString::Int(8080)
    );
    assert_eq!(
        (readiness.initial_delay_seconds, readiness.period_seconds),
        (Some(15), Some(10))
    );
    assert_eq!(
        liveness(&pod).tcp_socket.as_ref().unwrap().port,
        IntOrString::Int(8080)
    );
}
