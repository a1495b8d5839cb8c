//! Serves the API over in-memory storage: `cargo run -p wasmpod-apiserver --example serve -- 127.0.0.1:18080`.

use std::sync::Arc;

use wasmpod_apiserver::{ApiOptions, ApiServer};
use wasmpod_storage::MemoryStorage;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18080".into());
    let listener = tokio::net::TcpListener::bind(&address).await?;
    eprintln!("serving on http://{}", listener.local_addr()?);
    let server = ApiServer::new(
        Arc::new(MemoryStorage::new()),
        ApiOptions {
            bearer_token: std::env::var("WASMPOD_TOKEN").ok(),
            ..ApiOptions::default()
        },
    );
    server.serve(listener).await
}
