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
