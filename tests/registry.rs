//! Images from a registry, end to end: Debian's docker-registry on loopback, `wasmpod image
//! push` from one machine's store, and `wasmpod run` on another (a fresh WASMPOD_HOME) pulling
//! it as the kubelet does — events, statuses and back-off included.

mod common;

use std::time::Duration;

use common::{container_status, restart_count, wait_until, Home, Running};
use wasmpod_registry::testing::{corrupt_file, TestRegistry};

/// The tutorial's health1 with its image in a registry and `imagePullPolicy: Always`.
fn health1(image: &str, policy: &str, extra_spec: &str) -> String {
    format!(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: health1
spec:
  terminationGracePeriodSeconds: 1{extra_spec}
  containers:
  - image: {image}
    name: health1
    imagePullPolicy: {policy}
    ports:
    - containerPort: 8080
    livenessProbe:
      httpGet:
        path: /
        port: 8080
      periodSeconds: 1
"#
    )
}

/// Tags the bundled seed image as `reference` in `home` and pushes it; returns the manifest
/// digest `push` printed.
fn push_seed_image(home: &Home, registry: &TestRegistry, reference: &str) -> String {
    let (code, _, err) = home.exec(&["image", "tag", "health_image:latest", reference]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = home.exec(&[
        "image",
        "push",
        reference,
        "--insecure-registry",
        &registry.host,
    ]);
    assert_eq!(code, 0, "push failed: {err}");
    let repository = reference.rsplit_once(':').unwrap().0;
    assert!(
        out.starts_with(&format!("The push refers to repository [{repository}]\n")),
        "{out}"
    );
    let line = out.lines().nth(1).unwrap();
    let digest = line.split_whitespace().nth(2).unwrap().to_string();
    assert!(
        line.starts_with(&format!(
            "{}: digest: sha256:",
            reference.rsplit(':').next().unwrap()
        )),
        "{out}"
    );
    digest
}

/// Another machine — nothing of the image in its store — running health1 with `Always`.
fn run_health1_on_a_fresh_node(registry: &TestRegistry, image: &str) -> (Home, Running) {
    let node = Home::new();
    let manifest = node.write("health1.yaml", &health1(image, "Always", ""));
    let run = node.run(&[
        manifest.to_str().unwrap(),
        "--insecure-registry",
        &registry.host,
    ]);
    (node, run)
}

fn describe(home: &Home, pod: &str) -> String {
    home.exec(&["describe", "pod", pod]).1
}

#[test]
fn the_tutorials_pod_pulls_its_image_with_always_and_restarts_from_it() {
    let Some(registry) = TestRegistry::start(None) else {
        return;
    };
    let laptop = Home::new();
    let image = registry.image("huqianakls/health_image:latest");
    let digest = push_seed_image(&laptop, &registry, &image);

    let (node, run) = run_health1_on_a_fresh_node(&registry, &image);
    run.wait_for_output(
        &format!("Successfully pulled image \"{image}\" in "),
        Duration::from_secs(30),
    );
    let events = run.stdout();
    assert!(
        events.contains(&format!("Pulling image \"{image}\"")),
        "{events}"
    );
    let pulled = events
        .lines()
        .find(|l| l.contains("Successfully pulled image"))
        .unwrap();
    assert!(
        pulled.contains(" including waiting). Image size: ") && pulled.ends_with(" bytes."),
        "{pulled}"
    );

    // The liveness probe restarts it; with Always every start pulls again.
    let pod = wait_until(Duration::from_secs(60), "health1 restarted", || {
        node.pod("health1").filter(|pod| restart_count(pod) >= 1)
    });
    let status = container_status(&pod);
    assert_eq!(status["image"], image);
    assert_eq!(
        status["imageID"],
        format!("{}@{digest}", image.rsplit_once(':').unwrap().0)
    );
    wait_until(Duration::from_secs(30), "a second pull", || {
        let described = describe(&node, "health1");
        let pulling = described
            .lines()
            .find(|l| l.contains("Pulling image"))
            .unwrap_or_default()
            .to_string();
        // `describe` folds repeats into a count: "(x2 over …)".
        (pulling.contains("(x2") || pulling.contains("(x3")).then_some(())
    });
    let (_, images, _) = node.exec(&["image", "ls"]);
    assert!(
        images.contains(&format!("{}/huqianakls/health_image", registry.host)),
        "{images}"
    );
    drop(run);

    // By digest, with `image pull` first: IfNotPresent then finds it on the machine.
    let by_digest = format!("{}@{digest}", image.rsplit_once(':').unwrap().0);
    let third = Home::new();
    let (code, out, err) = third.exec(&[
        "image",
        "pull",
        &by_digest,
        "--insecure-registry",
        &registry.host,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("Digest: {digest}\n")), "{out}");
    assert!(out.contains("Status: Downloaded newer image for "), "{out}");
    assert!(err.is_empty(), "no progress bar off a terminal: {err}");
    let manifest = third.write("health1.yaml", &health1(&by_digest, "IfNotPresent", ""));
    let run = third.run(&[manifest.to_str().unwrap(), "--for", "60s"]);
    run.wait_for_output(
        &format!("Container image \"{by_digest}\" already present on machine"),
        Duration::from_secs(30),
    );
    run.wait_for_output("Started container health1", Duration::from_secs(30));
}

#[test]
fn a_missing_tag_backs_off_and_the_pod_starts_once_it_is_pushed() {
    let Some(registry) = TestRegistry::start(None) else {
        return;
    };
    let image = registry.image("health:2");
    let (node, run) = run_health1_on_a_fresh_node(&registry, &image);
    let not_found = format!(
        "Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {image}: not found"
    );
    run.wait_for_output(&not_found, Duration::from_secs(30));
    run.wait_for_output("Error: ErrImagePull", Duration::from_secs(10));
    run.wait_for_output(
        &format!("Back-off pulling image \"{image}\""),
        Duration::from_secs(30),
    );
    run.wait_for_output("Error: ImagePullBackOff", Duration::from_secs(10));
    let pod = node.pod("health1").unwrap();
    let waiting = &container_status(&pod)["state"]["waiting"];
    assert!(
        waiting["reason"] == "ImagePullBackOff" || waiting["reason"] == "ErrImagePull",
        "{waiting}"
    );
    let (_, table, _) = node.exec(&["get", "pods"]);
    assert!(
        table.contains("ImagePullBackOff") || table.contains("ErrImagePull"),
        "{table}"
    );

    // The tag appears: the next attempt after the back-off pulls it and the pod runs.
    push_seed_image(&Home::new(), &registry, &image);
    wait_until(Duration::from_secs(60), "health1 running", || {
        let pod = node.pod("health1")?;
        container_status(&pod)["state"]["running"]
            .is_object()
            .then_some(())
    });
    run.wait_for_output(
        &format!("Successfully pulled image \"{image}\""),
        Duration::from_secs(10),
    );
}

#[test]
fn pull_secrets_authenticate_against_a_registry_with_htpasswd() {
    let Some(registry) = TestRegistry::start(Some(("alice", "s3cret"))) else {
        return;
    };
    let image = registry.image("private/health:1");
    let auth = |user: &str, password: &str| {
        use base64::Engine as _;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!(
            r#"{{"auths":{{"{}":{{"auth":"{token}"}}}}}}"#,
            registry.host
        )
    };

    // `docker login` leaves a config file; `image push` uses it.
    let laptop = Home::new();
    let docker_config = laptop.path().join("docker");
    std::fs::create_dir_all(&docker_config).unwrap();
    std::fs::write(docker_config.join("config.json"), auth("alice", "s3cret")).unwrap();
    let (code, _, err) = laptop.exec(&["image", "tag", "health_image:latest", &image]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = laptop.exec(&[
        "image",
        "push",
        &image,
        "--insecure-registry",
        &registry.host,
    ]);
    assert_ne!(code, 0, "anonymous push must be refused");
    assert!(err.contains("401 Unauthorized"), "{err}");
    let output = laptop
        .command()
        .env("DOCKER_CONFIG", &docker_config)
        .args([
            "image",
            "push",
            &image,
            "--insecure-registry",
            &registry.host,
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The node: one pod with the right secret, one with a wrong one, one naming a missing one.
    let secret = |name: &str, config: &str| {
        use base64::Engine as _;
        let data = base64::engine::general_purpose::STANDARD.encode(config);
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {data}\n---\n"
        )
    };
    let pod = |name: &str, secret: &str| {
        health1(
            &image,
            "IfNotPresent",
            &format!("\n  imagePullSecrets: [{{name: {secret}}}]"),
        )
        .replace("name: health1\nspec", &format!("name: {name}\nspec"))
    };
    let manifest = format!(
        "{}{}{}---{}---{}",
        secret("regcred", &auth("alice", "s3cret")),
        secret("wrongcred", &auth("alice", "guess")),
        pod("good", "regcred"),
        pod("bad", "wrongcred"),
        pod("orphan", "nosuchsecret"),
    );
    let node = Home::new();
    let file = node.write("pods.yaml", &manifest);
    let run = node.run(&[
        file.to_str().unwrap(),
        "--insecure-registry",
        &registry.host,
    ]);
    wait_until(
        Duration::from_secs(60),
        "the pod with credentials running",
        || {
            let pod = node.pod("good")?;
            container_status(&pod)["state"]["running"]
                .is_object()
                .then_some(())
        },
    );
    let unauthorized = format!(
        "failed to resolve reference \"{image}\": unexpected status from HEAD request to http://{}/v2/private/health/manifests/1: 401 Unauthorized",
        registry.host
    );
    run.wait_for_output(&unauthorized, Duration::from_secs(30));
    run.wait_for_output(
        "Unable to retrieve some image pull secrets (nosuchsecret); attempting to pull the image may not succeed.",
        Duration::from_secs(30),
    );
    let bad = node.pod("bad").unwrap();
    let reason = &container_status(&bad)["state"]["waiting"]["reason"];
    assert!(
        reason == "ErrImagePull" || reason == "ImagePullBackOff",
        "{bad}"
    );
}

#[test]
fn a_corrupt_blob_is_refused_and_nothing_is_stored() {
    let Some(registry) = TestRegistry::start(None) else {
        return;
    };
    let image = registry.image("health:corrupt");
    let laptop = Home::new();
    push_seed_image(&laptop, &registry, &image);
    // The CNCF artifact's layer is the component itself: its blob digest is the image's.
    let store = wasmpod::images::ImageStore::open(laptop.path()).unwrap();
    let layer = store.resolve(&image).unwrap().unwrap().digest;
    corrupt_file(&registry.blob_data_path(&layer));

    let (node, run) = run_health1_on_a_fresh_node(&registry, &image);
    run.wait_for_output(
        &format!("Failed to pull image \"{image}\": "),
        Duration::from_secs(30),
    );
    let events = run.stdout();
    let failed = events
        .lines()
        .find(|l| l.contains("Failed to pull image"))
        .unwrap();
    assert!(
        failed.contains("unexpected commit digest")
            && failed.contains(&format!("expected {layer}")),
        "{failed}"
    );
    let stored = wasmpod::images::ImageStore::open(node.path())
        .unwrap()
        .resolve(&image)
        .unwrap();
    assert!(stored.is_none(), "a corrupt pull was stored: {stored:?}");
}
