//! Pull/push against a real distribution registry on loopback.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use base64::Engine as _;
use support::{corrupt_file, fake_component, raw_image, raw_manifest, sha256, TestRegistry};
use wasmpod_registry::{Keyring, PullProgress, RegistryClient, RegistryError, RegistryOptions};

fn client_for(registry: &TestRegistry) -> RegistryClient {
    RegistryClient::new(RegistryOptions {
        insecure_registries: vec![registry.host.clone()],
        user_agent: "wasmpod-registry-test".to_string(),
    })
}

fn no_progress(_: PullProgress) {}

fn keyring(entries: &[(&str, &str, &str)]) -> Keyring {
    let auths: serde_json::Map<String, serde_json::Value> = entries
        .iter()
        .map(|(location, user, password)| {
            let auth =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            (location.to_string(), serde_json::json!({ "auth": auth }))
        })
        .collect();
    Keyring::from_docker_config_json(serde_json::json!({ "auths": auths }).to_string().as_bytes())
        .unwrap()
}

#[tokio::test]
async fn push_then_pull_round_trips_bytes_and_digests() {
    let Some(registry) = TestRegistry::start(None) else {
        return;
    };
    let client = client_for(&registry);
    let component = fake_component("round-trip");
    let image = registry.image("apps/hello:1.0");

    let pushed = client
        .push(&image, &component, &Keyring::empty())
        .await
        .unwrap();
    assert_eq!(pushed.reference, image);
    let again = client
        .push(&image, &component, &Keyring::empty())
        .await
        .unwrap();
    assert_eq!(
        again.manifest_digest, pushed.manifest_digest,
        "push is deterministic"
    );

    let seen = Arc::new(AtomicU64::new(0));
    let last_total = Arc::new(AtomicU64::new(0));
    let (seen_in, total_in) = (seen.clone(), last_total.clone());
    let progress = move |p: PullProgress| {
        seen_in.store(p.done, Ordering::SeqCst);
        total_in.store(p.total, Ordering::SeqCst);
    };
    let pulled = client
        .pull(&image, &Keyring::empty(), &progress)
        .await
        .unwrap();
    assert_eq!(pulled.component, component);
    assert_eq!(pulled.reference, image);
    assert_eq!(pulled.manifest_digest, pushed.manifest_digest);
    assert_eq!(pulled.layer_digest, sha256(&component));
    assert_eq!(pulled.layer_media_type, "application/wasm");
    assert_eq!(pulled.size, pushed.size);
    assert_eq!(seen.load(Ordering::SeqCst), component.len() as u64);
    assert_eq!(last_total.load(Ordering::SeqCst), component.len() as u64);

    let resolved = client.resolve(&image, &Keyring::empty()).await.unwrap();
    assert_eq!(resolved, pushed.manifest_digest);
}

#[tokio::test]
async fn pull_by_digest_and_unknown_digest() {
    let Some(registry) = TestRegistry::start(None) else {
        return;
    };
    let client = client_for(&registry);
    let component = fake_component("by-digest");
    let pushed = client
        .push(&registry.image("app:1"), &component, &Keyring::empty())
        .await
        .unwrap();

    let by_digest = registry.image(&format!("app@{}", pushed.manifest_digest));
    let pulled = client
        .pull(&by_digest, &Keyring::empty(), &no_progress)
        .await
        .unwrap();
    assert_eq!(pulled.component, component);
    assert_eq!(pulled.manifest_digest, pushed.manifest_digest);
    assert_eq!(pulled.reference, by_digest);

    let unknown = registry.image(&format!("app@{}", sha256(b"nothing")));
    let error = client
        .pull(&unknown, &Keyring::empty(), &no_progress)
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
}

#[tokio::test]
async fn missing_tag_is_not_found_with_containerd_text() {
    let Some(registry) = TestRegistry::start(None) else {
        return;
    };
    let client = client_for(&registry);
    client
        .push(
            &registry.image("app:1"),
            &fake_component("x"),
            &Keyring::empty(),
        )
        .await
        .unwrap();

    let image = registry.image("app:missing");
    let error = client
        .pull(&image, &Keyring::empty(), &no_progress)
        .await
        .unwrap_err();
    assert!(matches!(error, RegistryError::NotFound { .. }), "{error:?}");
    assert_eq!(
        error.kubelet_message(&image),
        format!(
            "rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {image}: not found"
        )
    );
    let error = client
        .resolve(&registry.image("never-pushed:1"), &Keyring::empty())
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
}

#[tokio::test]
async fn htpasswd_auth_with_right_wrong_and_missing_credentials() {
    let Some(registry) = TestRegistry::start(Some(("alice", "s3cret"))) else {
        return;
    };
    let client = client_for(&registry);
    let host = registry.host.as_str();
    let right = keyring(&[(host, "alice", "s3cret")]);
    let wrong = keyring(&[(host, "alice", "guess")]);
    let component = fake_component("private");
    let image = registry.image("app:1");

    let pushed = client.push(&image, &component, &right).await.unwrap();
    let pulled = client.pull(&image, &right, &no_progress).await.unwrap();
    assert_eq!(pulled.component, component);
    assert_eq!(
        client.resolve(&image, &right).await.unwrap(),
        pushed.manifest_digest
    );

    let expected = format!(
        "rpc error: code = Unknown desc = failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": unexpected status from HEAD request to http://{host}/v2/app/manifests/1: 401 Unauthorized"
    );
    for (name, keys) in [("wrong", &wrong), ("missing", &Keyring::empty())] {
        let error = client.pull(&image, keys, &no_progress).await.unwrap_err();
        assert!(error.is_unauthorized(), "{name}: {error:?}");
        assert_eq!(error.kubelet_message(&image), expected, "{name}");
    }
    let push_error = client
        .push(&registry.image("app:2"), &component, &wrong)
        .await
        .unwrap_err();
    assert!(push_error.is_unauthorized(), "{push_error:?}");

    // Each matching credential is tried in turn: the wrong, more specific one first.
    let both = keyring(&[
        (&format!("{host}/app"), "alice", "guess"),
        (host, "alice", "s3cret"),
    ]);
    assert_eq!(
        client
            .pull(&image, &both, &no_progress)
            .await
            .unwrap()
            .component,
        component
    );

    // All failing: the kubelet's aggregate, identical messages collapsed into one.
    let both_wrong = keyring(&[
        (&format!("{host}/app"), "alice", "guess"),
        (host, "bob", "nope"),
    ]);
    let error = client
        .pull(&image, &both_wrong, &no_progress)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, RegistryError::AllCredentialsFailed(errors) if errors.len() == 2),
        "{error:?}"
    );
    assert_eq!(error.kubelet_message(&image), expected);
}

#[tokio::test]
async fn corrupt_layer_blob_is_refused_as_digest_mismatch() {
    let Some(registry) = TestRegistry::start(None) else {
        return;
    };
    let client = client_for(&registry);
    let component = fake_component("corrupt");
    let image = registry.image("app:1");
    client
        .push(&image, &component, &Keyring::empty())
        .await
        .unwrap();
    let layer_digest = sha256(&component);
    corrupt_file(&registry.blob_data_path(&layer_digest));

    let error = client
        .pull(&image, &Keyring::empty(), &no_progress)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("digest mismatch"), "{error}");
    match &error {
        RegistryError::DigestMismatch {
            expected, actual, ..
        } => {
            assert_eq!(expected, &layer_digest);
            assert_ne!(actual, &layer_digest);
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
    let message = error.kubelet_message(&image);
    assert!(
        message.starts_with(&format!(
            "rpc error: code = FailedPrecondition desc = failed to pull and unpack image \"{image}\": failed commit on ref \"unknown-{layer_digest}\": unexpected commit digest sha256:"
        )),
        "{message}"
    );
    assert!(
        message.ends_with(&format!(", expected {layer_digest}: failed precondition")),
        "{message}"
    );
}

#[tokio::test]
async fn corrupt_manifest_is_refused_when_pulled_by_digest() {
    let Some(registry) = TestRegistry::start(None) else {
        return;
    };
    let client = client_for(&registry);
    let pushed = client
        .push(
            &registry.image("app:1"),
            &fake_component("m"),
            &Keyring::empty(),
        )
        .await
        .unwrap();
    // Keep the manifest valid JSON but different: swap one hex digit of the config digest.
    let path = registry.blob_data_path(&pushed.manifest_digest);
    let text = std::fs::read_to_string(&path).unwrap();
    let at = text.find("\"digest\":\"sha256:").unwrap() + "\"digest\":\"sha256:".len();
    let replacement = if &text[at..at + 1] == "0" { "1" } else { "0" };
    std::fs::write(
        &path,
        format!("{}{replacement}{}", &text[..at], &text[at + 1..]),
    )
    .unwrap();

    let by_digest = registry.image(&format!("app@{}", pushed.manifest_digest));
    for image in [by_digest, registry.image("app:1")] {
        let error = client
            .pull(&image, &Keyring::empty(), &no_progress)
            .await
            .unwrap_err();
        assert!(
            matches!(&error, RegistryError::DigestMismatch { ref_key, .. } if ref_key.starts_with("manifest-")),
            "{image}: {error:?}"
        );
    }
}

#[tokio::test]
async fn container_image_layout_is_refused_naming_media_types() {
    let Some(registry) = TestRegistry::start(None) else {
        return;
    };
    let client = client_for(&registry);
    raw_image(
        &registry.host,
        "linux-app",
        "1",
        (
            "application/vnd.oci.image.config.v1+json",
            br#"{"os":"linux","architecture":"amd64"}"#,
        ),
        &[(
            "application/vnd.oci.image.layer.v1.tar+gzip",
            b"not really gzip",
        )],
    )
    .await;
    let image = registry.image("linux-app:1");
    let error = client
        .pull(&image, &Keyring::empty(), &no_progress)
        .await
        .unwrap_err();
    match &error {
        RegistryError::UnsupportedArtifact {
            media_types,
            detail,
            ..
        } => {
            assert_eq!(detail, "no Wasm layer");
            assert!(
                media_types
                    .contains(&"layer application/vnd.oci.image.layer.v1.tar+gzip".to_string()),
                "{media_types:?}"
            );
            assert!(
                media_types
                    .contains(&"config application/vnd.oci.image.config.v1+json".to_string()),
                "{media_types:?}"
            );
        }
        other => panic!("expected UnsupportedArtifact, got {other:?}"),
    }
    assert!(error
        .to_string()
        .contains("application/vnd.oci.image.layer.v1.tar+gzip"));
}

#[tokio::test]
async fn runwasi_spin_and_index_layouts_are_pulled() {
    let Some(registry) = TestRegistry::start(None) else {
        return;
    };
    let client = client_for(&registry);
    let host = registry.host.as_str();

    let runwasi = fake_component("runwasi");
    raw_image(
        host,
        "runwasi",
        "1",
        (
            "application/vnd.oci.image.config.v1+json",
            br#"{"os":"wasip1","architecture":"wasm"}"#,
        ),
        &[(
            "application/vnd.bytecodealliance.wasm.component.layer.v0+wasm",
            &runwasi,
        )],
    )
    .await;
    let pulled = client
        .pull(
            &registry.image("runwasi:1"),
            &Keyring::empty(),
            &no_progress,
        )
        .await
        .unwrap();
    assert_eq!(pulled.component, runwasi);
    assert_eq!(
        pulled.layer_media_type,
        "application/vnd.bytecodealliance.wasm.component.layer.v0+wasm"
    );

    let spin = fake_component("spin");
    raw_image(
        host,
        "spin",
        "1",
        ("application/vnd.fermyon.spin.application.v1+config", b"{}"),
        &[
            ("application/vnd.wasm.content.layer.v1+wasm", &spin),
            (
                "application/vnd.wasm.content.bundle.v1.tar+gzip",
                b"static files",
            ),
        ],
    )
    .await;
    let pulled = client
        .pull(&registry.image("spin:1"), &Keyring::empty(), &no_progress)
        .await
        .unwrap();
    assert_eq!(pulled.component, spin);

    raw_image(
        host,
        "spin",
        "two",
        ("application/vnd.fermyon.spin.application.v1+config", b"{}"),
        &[
            ("application/vnd.wasm.content.layer.v1+wasm", &spin),
            ("application/vnd.wasm.content.layer.v1+wasm", &runwasi),
        ],
    )
    .await;
    let error = client
        .pull(&registry.image("spin:two"), &Keyring::empty(), &no_progress)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("2 Wasm layers"), "{error}");

    // An index with a linux entry (a tar image) and a wasip2 entry (the component).
    let wasm = fake_component("indexed");
    let (wasm_digest, wasm_size) = raw_image(
        host,
        "multi",
        "wasm-only",
        ("application/vnd.wasm.config.v0+json", b"{}"),
        &[("application/wasm", &wasm)],
    )
    .await;
    let (linux_digest, linux_size) = raw_image(
        host,
        "multi",
        "linux-only",
        ("application/vnd.oci.image.config.v1+json", b"{}"),
        &[("application/vnd.oci.image.layer.v1.tar", b"tar")],
    )
    .await;
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": linux_digest, "size": linux_size,
             "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": wasm_digest, "size": wasm_size,
             "platform": {"os": "wasip2", "architecture": "wasm"}},
        ],
    });
    let index_digest = raw_manifest(
        host,
        "multi",
        "1",
        "application/vnd.oci.image.index.v1+json",
        &index,
    )
    .await;
    let pulled = client
        .pull(&registry.image("multi:1"), &Keyring::empty(), &no_progress)
        .await
        .unwrap();
    assert_eq!(pulled.component, wasm);
    assert_eq!(pulled.manifest_digest, index_digest);
    let index_size = serde_json::to_vec(&index).unwrap().len();
    assert_eq!(
        pulled.size as usize,
        index_size + wasm_size + 2 + wasm.len()
    );

    let linux_index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": linux_digest,
                       "size": linux_size, "platform": {"os": "linux", "architecture": "amd64"}}],
    });
    raw_manifest(
        host,
        "multi",
        "linux",
        "application/vnd.oci.image.index.v1+json",
        &linux_index,
    )
    .await;
    let error = client
        .pull(
            &registry.image("multi:linux"),
            &Keyring::empty(),
            &no_progress,
        )
        .await
        .unwrap_err();
    assert!(error.to_string().contains("(linux/amd64)"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pulls_share_one_client() {
    let Some(registry) = TestRegistry::start(None) else {
        return;
    };
    let client = client_for(&registry);
    let component = fake_component("concurrent");
    let image = registry.image("app:1");
    let pushed = client
        .push(&image, &component, &Keyring::empty())
        .await
        .unwrap();

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (client, image) = (client.clone(), image.clone());
        tasks.spawn(async move { client.pull(&image, &Keyring::empty(), &no_progress).await });
    }
    let mut count = 0;
    while let Some(result) = tasks.join_next().await {
        let pulled = result.unwrap().unwrap();
        assert_eq!(pulled.component, component);
        assert_eq!(pulled.manifest_digest, pushed.manifest_digest);
        count += 1;
    }
    assert_eq!(count, 8);
}

#[tokio::test]
async fn unreachable_registry_is_a_transport_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = format!("127.0.0.1:{port}");
    let client = RegistryClient::new(RegistryOptions {
        insecure_registries: vec![host.clone()],
        ..RegistryOptions::default()
    });
    let image = format!("{host}/app:1");
    let error = client
        .pull(&image, &Keyring::empty(), &no_progress)
        .await
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::Transport { .. }),
        "{error:?}"
    );
    let message = error.kubelet_message(&image);
    assert!(
        message.starts_with(&format!(
            "rpc error: code = Unknown desc = failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": failed to do request: Head \"http://{host}/v2/app/manifests/1\": "
        )),
        "{message}"
    );
}

#[tokio::test]
async fn invalid_reference_and_non_wasm_push_are_refused() {
    let client = RegistryClient::new(RegistryOptions::default());
    // Parsed before any request: nothing is looked up or dialled.
    let error = client
        .pull("Upper:1", &Keyring::empty(), &no_progress)
        .await
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::InvalidReference { .. }),
        "{error:?}"
    );
    let message = error.kubelet_message("Upper:1");
    assert!(
        message.starts_with("rpc error: code = Unknown desc = failed to parse image reference \"Upper:1\": invalid reference format"),
        "{message}"
    );
    let Some(registry) = TestRegistry::start(None) else {
        return;
    };
    let error = client_for(&registry)
        .push(
            &registry.image("app:1"),
            b"#!/bin/sh\necho hi\n",
            &Keyring::empty(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::UnsupportedArtifact { .. }),
        "{error:?}"
    );
}
