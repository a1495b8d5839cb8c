//! Table-driven validation tests: each case mutates a valid pod and lists every
//! message the API server would return, in its order.

use serde_json::{json, Value};
use wasmpod_manifest::{parse, validate, ManifestError};

fn base() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web"},
        "spec": {
            "containers": [{
                "name": "web",
                "image": "httpd",
                "ports": [{"name": "http", "containerPort": 80}]
            }]
        }
    })
}

fn container(pod: &mut Value) -> &mut Value {
    &mut pod["spec"]["containers"][0]
}

/// Errors for `pod`, as strings; empty when it is accepted.
fn errors_of(pod: &Value) -> Vec<String> {
    match parse("pod.json", &pod.to_string()) {
        Ok(_) => Vec::new(),
        Err(ManifestError::Invalid { errors, .. }) => {
            errors.iter().map(ToString::to_string).collect()
        }
        Err(other) => panic!("expected a validation error, got: {other}"),
    }
}

type Mutation = fn(&mut Value);

const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

#[test]
fn validation_table() {
    let cases: Vec<(&str, Mutation, Vec<String>)> = vec![
        ("valid", |_| {}, vec![]),
        // metadata
        ("name required", |p| { p["metadata"] = json!({}); },
            vec!["metadata.name: Required value: name or generateName is required".into()]),
        ("name subdomain", |p| { p["metadata"]["name"] = json!("Web_1"); },
            vec![format!("metadata.name: Invalid value: \"Web_1\": {SUBDOMAIN_MSG}")]),
        ("name with dots ok", |p| { p["metadata"]["name"] = json!("web.v1"); }, vec![]),
        ("name too long", |p| { p["metadata"]["name"] = json!("a".repeat(254)); },
            vec![format!("metadata.name: Invalid value: \"{}\": must be no more than 253 characters", "a".repeat(254))]),
        ("generateName only", |p| { p["metadata"] = json!({"generateName": "web-"}); }, vec![]),
        ("generateName invalid", |p| { p["metadata"] = json!({"generateName": "Web-"}); },
            vec![format!("metadata.generateName: Invalid value: \"Web-\": {SUBDOMAIN_MSG}")]),
        ("namespace label", |p| { p["metadata"]["namespace"] = json!("team.a"); },
            vec!["metadata.namespace: Invalid value: \"team.a\": must not contain dots".into()]),
        ("namespace regex", |p| { p["metadata"]["namespace"] = json!("Team"); },
            vec![format!("metadata.namespace: Invalid value: \"Team\": {LABEL_MSG}")]),
        ("label key and value", |p| { p["metadata"]["labels"] = json!({"app": "web", "-bad": "ok", "k": "bad value"}); },
            vec![
                "metadata.labels: Invalid value: \"-bad\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')".into(),
                "metadata.labels: Invalid value: \"bad value\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')".into(),
            ]),
        ("label prefix", |p| { p["metadata"]["labels"] = json!({"Example.com/app": "web"}); },
            vec![format!("metadata.labels: Invalid value: \"Example.com/app\": prefix part {SUBDOMAIN_MSG}")]),
        ("annotation keys are case-insensitive", |p| { p["metadata"]["annotations"] = json!({"Example.COM/Note": "x"}); }, vec![]),
        ("annotation key invalid", |p| { p["metadata"]["annotations"] = json!({"a/b/c": "x"}); },
            vec!["metadata.annotations: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".into()]),
        ("annotations too large", |p| { p["metadata"]["annotations"] = json!({"big": "x".repeat(256 * 1024)}); },
            vec!["metadata.annotations: Too long: may not be more than 262144 bytes".into()]),
        // containers
        ("no containers", |p| { p["spec"]["containers"] = json!([]); },
            vec!["spec.containers: Required value".into()]),
        ("container name required", |p| { container(p)["name"] = json!(""); },
            vec!["spec.containers[0].name: Required value".into()]),
        ("container name label", |p| { container(p)["name"] = json!("Web"); },
            vec![format!("spec.containers[0].name: Invalid value: \"Web\": {LABEL_MSG}")]),
        ("duplicate container", |p| {
            let second = p["spec"]["containers"][0].clone();
            p["spec"]["containers"].as_array_mut().unwrap().push(second);
        }, vec!["spec.containers[1].name: Duplicate value: \"web\"".into()]),
        ("image required", |p| { container(p).as_object_mut().unwrap().remove("image"); },
            vec!["spec.containers[0].image: Required value".into()]),
        ("pull policy", |p| { container(p)["imagePullPolicy"] = json!("Sometimes"); },
            vec!["spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"".into()]),
        ("termination message policy", |p| { container(p)["terminationMessagePolicy"] = json!("Logs"); },
            vec!["spec.containers[0].terminationMessagePolicy: Unsupported value: \"Logs\": supported values: \"File\", \"FallbackToLogsOnError\"".into()]),
        ("restartPolicy on regular container", |p| { container(p)["restartPolicy"] = json!("Always"); },
            vec!["spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers".into()]),
        // ports
        ("container port range", |p| { container(p)["ports"][0]["containerPort"] = json!(70000); },
            vec!["spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive".into()]),
        ("container port required", |p| { container(p)["ports"][0] = json!({"name": "http"}); },
            vec!["spec.containers[0].ports[0].containerPort: Required value".into()]),
        ("host port range", |p| { container(p)["ports"][0]["hostPort"] = json!(-1); },
            vec!["spec.containers[0].ports[0].hostPort: Invalid value: -1: must be between 1 and 65535, inclusive".into()]),
        ("host port zero ok", |p| { container(p)["ports"][0]["hostPort"] = json!(0); }, vec![]),
        ("protocol", |p| { container(p)["ports"][0]["protocol"] = json!("tcp"); },
            vec!["spec.containers[0].ports[0].protocol: Unsupported value: \"tcp\": supported values: \"SCTP\", \"TCP\", \"UDP\"".into()]),
        ("udp and sctp ok", |p| { container(p)["ports"] = json!([{"containerPort": 53, "protocol": "UDP"}, {"containerPort": 9, "protocol": "SCTP"}]); }, vec![]),
        ("port name rules", |p| { container(p)["ports"][0]["name"] = json!("HTTP_1"); },
            vec!["spec.containers[0].ports[0].name: Invalid value: \"HTTP_1\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into()]),
        ("port name digits only", |p| { container(p)["ports"][0]["name"] = json!("8080"); },
            vec!["spec.containers[0].ports[0].name: Invalid value: \"8080\": must contain at least one letter (a-z)".into()]),
        ("duplicate port name", |p| { container(p)["ports"] = json!([{"name": "http", "containerPort": 80}, {"name": "http", "containerPort": 81}]); },
            vec!["spec.containers[0].ports[1].name: Duplicate value: \"http\"".into()]),
        ("host port conflict", |p| { container(p)["ports"] = json!([{"containerPort": 80, "hostPort": 8080}, {"containerPort": 81, "hostPort": 8080}]); },
            vec!["spec.containers[0].ports[1].hostPort: Duplicate value: \"/TCP/8080\"".into()]),
        // pod spec
        ("restart policy", |p| { p["spec"]["restartPolicy"] = json!("Sometimes"); },
            vec!["spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"".into()]),
        ("restart policies ok", |p| { p["spec"]["restartPolicy"] = json!("OnFailure"); }, vec![]),
        ("dns policy", |p| { p["spec"]["dnsPolicy"] = json!("Cluster"); },
            vec!["spec.dnsPolicy: Unsupported value: \"Cluster\": supported values: \"ClusterFirst\", \"ClusterFirstWithHostNet\", \"Default\", \"None\"".into()]),
        ("dns none needs config", |p| { p["spec"]["dnsPolicy"] = json!("None"); },
            vec!["spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None".into()]),
        ("grace period negative", |p| { p["spec"]["terminationGracePeriodSeconds"] = json!(-1); },
            vec!["spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0".into()]),
        ("grace period zero ok", |p| { p["spec"]["terminationGracePeriodSeconds"] = json!(0); }, vec![]),
        ("active deadline", |p| { p["spec"]["activeDeadlineSeconds"] = json!(0); },
            vec!["spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive".into()]),
        ("ephemeral containers on create", |p| { p["spec"]["ephemeralContainers"] = json!([{"name": "debug", "image": "busybox"}]); },
            vec!["spec.ephemeralContainers: Forbidden: cannot be set on create".into()]),
        // init containers
        ("init container name clash", |p| { p["spec"]["initContainers"] = json!([{"name": "web", "image": "busybox"}]); },
            vec!["spec.initContainers[0].name: Duplicate value: \"web\"".into()]),
        ("init container probe", |p| { p["spec"]["initContainers"] = json!([{"name": "init", "image": "busybox", "livenessProbe": {"tcpSocket": {"port": 80}}}]); },
            vec!["spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always".into()]),
        ("sidecar probe ok", |p| { p["spec"]["initContainers"] = json!([{"name": "side", "image": "busybox", "restartPolicy": "Always", "ports": [{"name": "admin", "containerPort": 9000}], "livenessProbe": {"httpGet": {"port": "admin"}}}]); }, vec![]),
        ("init restart policy", |p| { p["spec"]["initContainers"] = json!([{"name": "init", "image": "busybox", "restartPolicy": "Never"}]); },
            vec!["spec.initContainers[0].restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"".into()]),
    ];
    run(cases);
}

#[test]
fn probe_validation_table() {
    fn probe(p: &mut Value, kind: &str, value: Value) {
        container(p)[kind] = value;
    }
    let cases: Vec<(&str, Mutation, Vec<String>)> = vec![
        ("http by number", |p| probe(p, "livenessProbe", json!({"httpGet": {"port": 80}})), vec![]),
        ("http by name", |p| probe(p, "livenessProbe", json!({"httpGet": {"port": "http"}})), vec![]),
        ("tcp, exec and grpc", |p| {
            probe(p, "livenessProbe", json!({"tcpSocket": {"port": 80}}));
            probe(p, "readinessProbe", json!({"exec": {"command": ["true"]}}));
            probe(p, "startupProbe", json!({"grpc": {"port": 9090}}));
        }, vec![]),
        ("no handler", |p| probe(p, "livenessProbe", json!({"periodSeconds": 5})),
            vec!["spec.containers[0].livenessProbe: Required value: must specify a handler type".into()]),
        ("two handlers", |p| probe(p, "readinessProbe", json!({"httpGet": {"port": 80}, "tcpSocket": {"port": 80}, "exec": {"command": ["true"]}})),
            vec![
                "spec.containers[0].readinessProbe.httpGet: Forbidden: may not specify more than 1 handler type".into(),
                "spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type".into(),
            ]),
        ("exec command required", |p| probe(p, "livenessProbe", json!({"exec": {}})),
            vec!["spec.containers[0].livenessProbe.exec.command: Required value".into()]),
        ("liveness success threshold", |p| probe(p, "livenessProbe", json!({"tcpSocket": {"port": 80}, "successThreshold": 2})),
            vec!["spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1".into()]),
        ("startup success threshold", |p| probe(p, "startupProbe", json!({"tcpSocket": {"port": 80}, "successThreshold": 3})),
            vec!["spec.containers[0].startupProbe.successThreshold: Invalid value: 3: must be 1".into()]),
        ("readiness success threshold may exceed 1", |p| probe(p, "readinessProbe", json!({"tcpSocket": {"port": 80}, "successThreshold": 3})), vec![]),
        ("negative timings", |p| probe(p, "readinessProbe", json!({"tcpSocket": {"port": 80}, "initialDelaySeconds": -1, "timeoutSeconds": -2, "periodSeconds": -3, "successThreshold": -4, "failureThreshold": -5})),
            vec![
                "spec.containers[0].readinessProbe.initialDelaySeconds: Invalid value: -1: must be greater than or equal to 0".into(),
                "spec.containers[0].readinessProbe.timeoutSeconds: Invalid value: -2: must be greater than or equal to 0".into(),
                "spec.containers[0].readinessProbe.periodSeconds: Invalid value: -3: must be greater than or equal to 0".into(),
                "spec.containers[0].readinessProbe.successThreshold: Invalid value: -4: must be greater than or equal to 0".into(),
                "spec.containers[0].readinessProbe.failureThreshold: Invalid value: -5: must be greater than or equal to 0".into(),
            ]),
        ("negative liveness success threshold", |p| probe(p, "livenessProbe", json!({"tcpSocket": {"port": 80}, "successThreshold": -1})),
            vec![
                "spec.containers[0].livenessProbe.successThreshold: Invalid value: -1: must be greater than or equal to 0".into(),
                "spec.containers[0].livenessProbe.successThreshold: Invalid value: -1: must be 1".into(),
            ]),
        ("probe grace on readiness", |p| probe(p, "readinessProbe", json!({"tcpSocket": {"port": 80}, "terminationGracePeriodSeconds": 10})),
            vec!["spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 10: must not be set for readinessProbes".into()]),
        ("probe grace zero", |p| probe(p, "livenessProbe", json!({"tcpSocket": {"port": 80}, "terminationGracePeriodSeconds": 0})),
            vec!["spec.containers[0].livenessProbe.terminationGracePeriodSeconds: Invalid value: 0: must be greater than 0".into()]),
        ("probe grace positive ok", |p| probe(p, "startupProbe", json!({"tcpSocket": {"port": 80}, "terminationGracePeriodSeconds": 5})), vec![]),
        ("http port range", |p| probe(p, "livenessProbe", json!({"httpGet": {"port": 0}})),
            vec!["spec.containers[0].livenessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive".into()]),
        ("tcp port range", |p| probe(p, "livenessProbe", json!({"tcpSocket": {"port": 65536}})),
            vec!["spec.containers[0].livenessProbe.tcpSocket.port: Invalid value: 65536: must be between 1 and 65535, inclusive".into()]),
        ("grpc port range", |p| probe(p, "livenessProbe", json!({"grpc": {"port": -1}})),
            vec!["spec.containers[0].livenessProbe.grpc.port: Invalid value: -1: must be between 1 and 65535, inclusive".into()]),
        ("named port missing", |p| probe(p, "livenessProbe", json!({"httpGet": {"port": "metrics"}})),
            vec!["spec.containers[0].livenessProbe.httpGet.port: Invalid value: \"metrics\": port name not found in container ports".into()]),
        ("named tcp port missing", |p| probe(p, "readinessProbe", json!({"tcpSocket": {"port": "admin"}})),
            vec!["spec.containers[0].readinessProbe.tcpSocket.port: Invalid value: \"admin\": port name not found in container ports".into()]),
        ("invalid port name", |p| probe(p, "livenessProbe", json!({"httpGet": {"port": "Http"}})),
            vec!["spec.containers[0].livenessProbe.httpGet.port: Invalid value: \"Http\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into()]),
        ("http scheme", |p| probe(p, "livenessProbe", json!({"httpGet": {"port": 80, "scheme": "https"}})),
            vec!["spec.containers[0].livenessProbe.httpGet.scheme: Unsupported value: \"https\": supported values: \"HTTP\", \"HTTPS\"".into()]),
        ("https ok", |p| probe(p, "livenessProbe", json!({"httpGet": {"port": 443, "scheme": "HTTPS"}})), vec![]),
        ("http header name", |p| probe(p, "livenessProbe", json!({"httpGet": {"port": 80, "httpHeaders": [{"name": "X Bad", "value": "1"}]}})),
            vec!["spec.containers[0].livenessProbe.httpGet.httpHeaders: Invalid value: \"X Bad\": a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')".into()]),
        ("lifecycle handler", |p| { container(p)["lifecycle"] = json!({"preStop": {}}); },
            vec!["spec.containers[0].lifecycle.preStop: Required value: must specify a handler type".into()]),
        ("lifecycle named port not checked", |p| { container(p)["lifecycle"] = json!({"postStart": {"httpGet": {"port": "other"}}}); }, vec![]),
    ];
    run(cases);
}

fn run(cases: Vec<(&str, Mutation, Vec<String>)>) {
    let mut failures = Vec::new();
    for (name, mutate, expected) in cases {
        let mut pod = base();
        mutate(&mut pod);
        let actual = errors_of(&pod);
        if actual != expected {
            failures.push(format!(
                "{name}:\n  expected {expected:#?}\n  actual   {actual:#?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn invalid_error_lists_all_errors_api_server_style() {
    let mut pod = base();
    container(&mut pod)["ports"][0]["containerPort"] = json!(70000);
    container(&mut pod)["image"] = json!("");
    let message = parse("pod.json", &pod.to_string()).unwrap_err().to_string();
    assert_eq!(
        message,
        "pod.json (document 1): The Pod \"web\" is invalid: [spec.containers[0].image: Required value, spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive]"
    );
}

#[test]
fn validate_without_defaults_reports_missing_required_enums() {
    let pod: k8s_openapi::api::core::v1::Pod = serde_json::from_value(base()).unwrap();
    let errors: Vec<String> = validate(&pod).iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        vec![
            "metadata.namespace: Required value",
            "spec.containers[0].terminationMessagePolicy: Required value",
            "spec.containers[0].ports[0].protocol: Required value",
            "spec.containers[0].imagePullPolicy: Required value",
            "spec.restartPolicy: Required value",
            "spec.dnsPolicy: Required value",
        ]
    );
}
