//! Serves the API over in-memory storage:
//! `cargo run -p wasmpod-apiserver --example serve -- 127.0.0.1:18080`.
//! With `WASMPOD_TLS_DIR=<dir>` it serves HTTPS with the identity and token kept in `<dir>`
//! and writes the matching kubeconfig to `<dir>/kubeconfig`.

use std::sync::Arc;

use wasmpod_apiserver::{kubeconfig, load_or_create_token, ApiOptions, ApiServer, ServingIdentity};
use wasmpod_storage::MemoryStorage;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18080".into());
    let listener = tokio::net::TcpListener::bind(&address).await?;
    let local = listener.local_addr()?;
    let Some(dir) = std::env::var_os("WASMPOD_TLS_DIR").map(std::path::PathBuf::from) else {
        eprintln!("serving on http://{local}");
        let server = ApiServer::new(
            Arc::new(MemoryStorage::new()),
            ApiOptions {
                bearer_token: std::env::var("WASMPOD_TOKEN").ok(),
                ..ApiOptions::default()
            },
        );
        return Ok(server.serve(listener).await?);
    };
    let token = load_or_create_token(&dir)?;
    let identity = ServingIdentity::load_or_create(&dir, &[local.ip().to_string()])?;
    let url = format!("https://{local}");
    std::fs::write(
        dir.join("kubeconfig"),
        kubeconfig(&url, Some(identity.cert_pem()), Some(&token)),
    )?;
    eprintln!(
        "serving on {url}; kubeconfig in {}",
        dir.join("kubeconfig").display()
    );
    let server = ApiServer::new(
        Arc::new(MemoryStorage::new()),
        ApiOptions {
            bearer_token: Some(token),
            ..ApiOptions::default()
        },
    );
    Ok(server.serve_tls(listener, &identity).await?)
}
