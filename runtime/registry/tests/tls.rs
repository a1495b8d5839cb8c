//! TLS against a real registry: its certificate is trusted exactly when the system's roots
//! (here `SSL_CERT_FILE`, honoured as OpenSSL does) include its CA. One test per binary
//! because it sets the process environment.

use wasmpod_registry::testing::TestRegistry;
use wasmpod_registry::{Keyring, RegistryClient, RegistryOptions};

fn client() -> RegistryClient {
    RegistryClient::new(RegistryOptions {
        insecure_registries: Vec::new(),
        user_agent: "wasmpod-registry-test".to_string(),
    })
}

#[tokio::test]
async fn https_registries_are_verified_against_the_system_roots() {
    let Some(registry) = TestRegistry::start_with(None, true) else {
        return;
    };
    let image = registry.image("app:1");
    let component = b"\0asm\x0d\x00\x01\x00tls".to_vec();

    let untrusted = client()
        .push(&image, &component, &Keyring::empty())
        .await
        .expect_err("a certificate from an unknown CA is refused");
    let message = untrusted.to_string();
    assert!(
        message.contains("https://127.0.0.1") && message.to_lowercase().contains("certificate"),
        "{message}"
    );

    // Trusting the CA the way a system administrator would.
    std::env::set_var("SSL_CERT_FILE", registry.ca_file.as_ref().unwrap());
    let trusting = client();
    let pushed = trusting
        .push(&image, &component, &Keyring::empty())
        .await
        .expect("push over verified TLS");
    let pulled = trusting
        .pull(&image, &Keyring::empty(), &|_| {})
        .await
        .expect("pull over verified TLS");
    assert_eq!(pulled.component, component);
    assert_eq!(pulled.manifest_digest, pushed.manifest_digest);
}
