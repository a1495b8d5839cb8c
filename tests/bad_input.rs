//! Bad input gets a clear error or the kubelet's event and status; nothing else is lost.

mod common;

use std::time::Duration;

use common::{container_status, http_get, wait_until, Home};

fn run_fails(home: &Home, file: &str, text: &str) -> String {
    let path = home.write(file, text);
    let (code, stdout, stderr) = home.exec(&["run", path.to_str().unwrap(), "--for", "5s"]);
    assert_ne!(code, 0, "an invalid manifest must fail; stdout:\n{stdout}");
    assert!(stdout.is_empty(), "nothing starts: {stdout}");
    assert!(!home.path().join("run/api-server").exists());
    stderr
}

#[test]
fn malformed_yaml_names_the_file_and_document() {
    let home = Home::new();
    let stderr = run_fails(
        &home,
        "broken.yaml",
        "apiVersion: v1\nkind: Pod\n---\nmetadata: [unclosed\n",
    );
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        stderr.contains("broken.yaml") && stderr.contains("document 2"),
        "{stderr}"
    );
}

#[test]
fn unknown_fields_are_rejected_with_their_path() {
    let home = Home::new();
    let stderr = run_fails(
        &home,
        "typo.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: httpd\n    livenessProbe:\n      httpGet:\n        pth: /\n        port: 80\n",
    );
    assert!(
        stderr.contains(
            r#"strict decoding error: unknown field "spec.containers[0].livenessProbe.httpGet.pth""#
        ),
        "{stderr}"
    );
}

#[test]
fn invalid_probes_and_kinds_are_refused() {
    let home = Home::new();
    let stderr = run_fails(
        &home,
        "probe.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: httpd\n    livenessProbe:\n      successThreshold: 2\n      tcpSocket:\n        port: 80\n",
    );
    assert!(
        stderr.contains(
            "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"
        ),
        "{stderr}"
    );
    let stderr = run_fails(
        &home,
        "deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n",
    );
    assert!(
        stderr.contains("Deployment") && stderr.contains("Pod"),
        "{stderr}"
    );
}

#[test]
fn missing_images_back_off_while_other_pods_keep_running() {
    let home = Home::new();
    let manifest = home.write(
        "pods.yaml",
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: ghost
spec:
  containers:
  - name: ghost
    image: nosuch:1.0
---
apiVersion: v1
kind: Pod
metadata:
  name: never
spec:
  containers:
  - name: never
    image: nosuch:2.0
    imagePullPolicy: Never
---
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: httpd:latest
    ports:
    - containerPort: 80
"#,
    );
    let run = home.run(&[manifest.to_str().unwrap()]);
    run.wait_for_output(
        r#"Failed to pull image "nosuch:1.0": "#,
        Duration::from_secs(30),
    );
    run.wait_for_output("Error: ErrImagePull", Duration::from_secs(5));
    run.wait_for_output(
        r#"Container image "nosuch:2.0" is not present with pull policy of Never"#,
        Duration::from_secs(5),
    );
    let ghost = wait_until(Duration::from_secs(30), "ImagePullBackOff", || {
        home.pod("ghost")
            .filter(|pod| container_status(pod)["state"]["waiting"]["reason"] == "ImagePullBackOff")
    });
    assert_eq!(ghost["status"]["phase"], "Pending");
    run.wait_for_output(
        r#"Back-off pulling image "nosuch:1.0""#,
        Duration::from_secs(5),
    );
    let never = home.pod("never").unwrap();
    assert_eq!(
        container_status(&never)["state"]["waiting"]["reason"],
        "ErrImageNeverPull"
    );

    let web = home.pod("web").unwrap();
    let ip = web["status"]["podIP"].as_str().unwrap();
    let (status, _) = wait_until(Duration::from_secs(10), "web to answer", || {
        http_get(&format!("{ip}:80"), "/").ok()
    });
    assert_eq!(status, 200);
    let (_, table, _) = home.exec(&["get", "pods"]);
    assert!(
        table.contains("ghost   0/1     ImagePullBackOff"),
        "{table}"
    );
    assert!(
        table.contains("never   0/1     ErrImageNeverPull"),
        "{table}"
    );
    let (code, _, _) = run.terminate();
    assert_eq!(code, 0);
}

#[test]
fn non_components_are_refused_and_non_http_components_fail_to_create() {
    let home = Home::new();
    let core = home.write("core.wasm", "\0asm\u{1}\0\0\0");
    let (code, _, stderr) = home.exec(&["image", "import", "core:1", core.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("core WebAssembly module, not a component"),
        "{stderr}"
    );

    // An empty component is a valid component that serves nothing.
    let empty = home.write("empty.wasm", "\0asm\u{d}\0\u{1}\0");
    let (code, _, stderr) = home.exec(&["image", "import", "empty:1", empty.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let manifest = home.write(
        "empty.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: empty\nspec:\n  containers:\n  - name: empty\n    image: empty:1\n",
    );
    let run = home.run(&[manifest.to_str().unwrap()]);
    run.wait_for_output(
        "exports neither wasi:http/incoming-handler nor wasi:cli/run",
        Duration::from_secs(30),
    );
    let pod = home.pod("empty").unwrap();
    assert_eq!(
        container_status(&pod)["state"]["waiting"]["reason"],
        "CreateContainerError"
    );
    let (code, _, _) = run.terminate();
    assert_eq!(code, 0);
}

#[test]
fn commands_without_a_running_node_say_so() {
    let home = Home::new();
    let (code, _, stderr) = home.exec(&["get", "pods"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("no running wasmpod found"), "{stderr}");
}

/// A component importing an interface wasmpod does not provide, and a truncated component,
/// get the kubelet's CreateContainerError with a message that names the problem; the other pod
/// in the same run is unaffected.
#[test]
fn missing_imports_and_truncated_components_are_create_container_errors() {
    let home = Home::new();
    let needs = wasmpod::images::guest_artifact("needs_imports");
    let (code, _, stderr) = home.exec(&["image", "import", "needs:1", needs.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let whole = std::fs::read(wasmpod::images::guest_artifact("hostile")).unwrap();
    let truncated = home.write_bytes("truncated.wasm", &whole[..whole.len() / 2]);
    let (code, _, stderr) = home.exec(&[
        "image",
        "import",
        "truncated:1",
        truncated.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "only the header is checked on import: {stderr}");
    let manifest = home.write(
        "bad.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: needs\nspec:\n  containers:\n  - name: needs\n    image: needs:1\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: truncated\nspec:\n  containers:\n  - name: truncated\n    image: truncated:1\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: fine\nspec:\n  containers:\n  - name: fine\n    image: httpd\n    imagePullPolicy: IfNotPresent\n    ports: [{containerPort: 80}]\n",
    );
    let run = home.run(&[manifest.to_str().unwrap()]);
    run.wait_for_output(
        "Error: the component needs imports wasmpod does not provide: example:needs/greeter",
        Duration::from_secs(30),
    );
    run.wait_for_output(
        "Error: the component does not compile: ",
        Duration::from_secs(30),
    );
    for name in ["needs", "truncated"] {
        let pod = wait_until(Duration::from_secs(30), "the waiting reason", || {
            home.pod(name).filter(|pod| {
                container_status(pod)["state"]["waiting"]["reason"] == "CreateContainerError"
            })
        });
        assert_eq!(pod["status"]["phase"], "Pending", "{name}");
    }
    let fine = wait_until(Duration::from_secs(30), "the fine pod running", || {
        home.pod("fine")
            .filter(|pod| container_status(pod)["state"]["running"].is_object())
    });
    let ip = fine["status"]["podIP"].as_str().unwrap().to_string();
    assert_eq!(http_get(&format!("{ip}:80"), "/").unwrap().0, 200);
    let (code, _, _) = run.terminate();
    assert_eq!(code, 0);
}
