use base64::Engine as _;

use super::*;

fn basic(username: &str) -> Credential {
    Credential::Basic {
        username: username.to_string(),
        password: format!("{username}-pw"),
    }
}

fn auth(username: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{username}:{username}-pw"))
}

fn keyring(entries: &[(&str, &str)]) -> Keyring {
    let auths: serde_json::Map<String, serde_json::Value> = entries
        .iter()
        .map(|(location, user)| {
            (
                location.to_string(),
                serde_json::json!({ "auth": auth(user) }),
            )
        })
        .collect();
    let document = serde_json::json!({ "auths": auths });
    Keyring::from_docker_config_json(document.to_string().as_bytes()).unwrap()
}

#[test]
fn host_with_and_without_port_are_distinct() {
    let ring = keyring(&[
        ("registry.example", "plain"),
        ("registry.example:5000", "ported"),
    ]);
    assert_eq!(ring.lookup("registry.example/app:1"), vec![basic("plain")]);
    assert_eq!(
        ring.lookup("registry.example:5000/app:1"),
        vec![basic("ported")]
    );
    assert_eq!(ring.lookup("registry.example:5001/app"), vec![]);
}

#[test]
fn most_specific_path_prefix_first() {
    let ring = keyring(&[
        ("quay.io", "host"),
        ("quay.io/coreos", "org"),
        ("https://quay.io/coreos/etcd", "repo"),
    ]);
    assert_eq!(
        ring.lookup("quay.io/coreos/etcd:v3"),
        vec![basic("repo"), basic("org"), basic("host")]
    );
    assert_eq!(
        ring.lookup("quay.io/coreos/flannel"),
        vec![basic("org"), basic("host")]
    );
    assert_eq!(ring.lookup("quay.io/other/x"), vec![basic("host")]);
}

#[test]
fn scheme_and_api_version_paths_are_stripped() {
    let ring = keyring(&[("http://127.0.0.1:5000/v2/", "local")]);
    let by_digest = format!("127.0.0.1:5000/app@sha256:{}", "a".repeat(64));
    assert_eq!(ring.lookup(&by_digest), vec![basic("local")]);
}

#[test]
fn docker_hub_aliases() {
    let legacy = keyring(&[("https://index.docker.io/v1/", "hub")]);
    assert_eq!(legacy.lookup("busybox"), vec![basic("hub")]);
    assert_eq!(
        legacy.lookup("docker.io/library/busybox:1"),
        vec![basic("hub")]
    );
    assert_eq!(legacy.lookup("someone/app"), vec![basic("hub")]);
    assert_eq!(legacy.lookup("quay.io/someone/app"), vec![]);

    let plain = keyring(&[("docker.io", "hub")]);
    assert_eq!(plain.lookup("busybox"), vec![basic("hub")]);

    // The kubelet only aliases index.docker.io; a registry-1.docker.io key matches
    // nothing the reference grammar normalises to docker.io.
    let api_host = keyring(&[("registry-1.docker.io", "api")]);
    assert_eq!(api_host.lookup("busybox"), vec![]);
}

#[test]
fn wildcard_hosts() {
    let ring = keyring(&[("*.example.com", "wild")]);
    assert_eq!(ring.lookup("eu.example.com/app"), vec![basic("wild")]);
    assert_eq!(ring.lookup("example.com/app"), vec![]);
}

#[test]
fn merged_keyrings_keep_order() {
    let secrets = keyring(&[("registry.example", "secret")]);
    let node = keyring(&[("registry.example", "node")]);
    assert_eq!(
        secrets.merged(&node).lookup("registry.example/app"),
        vec![basic("secret"), basic("node")]
    );
}

#[test]
fn entry_forms() {
    let document = br#"{"auths": {
        "a.example": {"username": "u", "password": "p"},
        "b.example": {"auth": "dTpwOng=", "username": "ignored"},
        "c.example": {"identitytoken": "id-token"},
        "d.example": {"registrytoken": "reg-token"},
        "e.example": {}
    }}"#;
    let ring = Keyring::from_docker_config_json(document).unwrap();
    let user_pass = |u: &str, p: &str| Credential::Basic {
        username: u.to_string(),
        password: p.to_string(),
    };
    assert_eq!(ring.lookup("a.example/x"), vec![user_pass("u", "p")]);
    // "u:p:x": only the first colon splits.
    assert_eq!(ring.lookup("b.example/x"), vec![user_pass("u", "p:x")]);
    assert_eq!(
        ring.lookup("c.example/x"),
        vec![Credential::Bearer("id-token".into())]
    );
    assert_eq!(
        ring.lookup("d.example/x"),
        vec![Credential::Bearer("reg-token".into())]
    );
    assert_eq!(ring.lookup("e.example/x"), vec![Credential::Anonymous]);
}

#[test]
fn legacy_dockercfg_and_bad_auth() {
    let dockercfg = format!(r#"{{"registry.example": {{"auth": "{}"}}}}"#, auth("old"));
    let ring = Keyring::from_dockercfg(dockercfg.as_bytes()).unwrap();
    assert_eq!(ring.lookup("registry.example/app"), vec![basic("old")]);

    let bad = br#"{"auths": {"x.example": {"auth": "bm9jb2xvbg=="}}}"#;
    let error = Keyring::from_docker_config_json(bad).unwrap_err();
    assert!(
        error.to_string().contains("base64(username:password)"),
        "{error}"
    );
    assert!(Keyring::from_docker_config_json(b"not json").is_err());
}

#[test]
fn config_file_and_missing_default() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("config.json");
    std::fs::write(
        &path,
        format!(
            r#"{{"auths": {{"r.example": {{"auth": "{}"}}}}, "credsStore": "desktop"}}"#,
            auth("file")
        ),
    )
    .unwrap();
    assert_eq!(
        Keyring::from_docker_config_file(&path)
            .unwrap()
            .lookup("r.example/a"),
        vec![basic("file")]
    );
    assert!(Keyring::from_docker_config_file(&directory.path().join("missing.json")).is_err());
}

#[test]
fn credentials_are_redacted_in_debug() {
    let text = format!("{:?}", basic("user"));
    assert!(!text.contains("user-pw"), "{text}");
}
