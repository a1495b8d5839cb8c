//! HTTPS serving: a self-signed serving identity and a bearer token, both kept on disk.
//!
//! client-go only sends bearer tokens over TLS, so a token-protected server must speak HTTPS.

mod identity;
mod secret_files;
mod serve;
mod token;

use std::path::{Path, PathBuf};

pub use identity::ServingIdentity;
pub use token::load_or_create_token;

/// Why the serving identity or the token could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("not an IP address or DNS name: {0:?}")]
    InvalidHost(String),
    #[error("generating the serving certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("the serving certificate or key is unusable: {0}")]
    Certificate(String),
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("the system random number generator failed")]
    Random,
    #[error("{path}: holds no usable bearer token")]
    InvalidToken { path: PathBuf },
}

impl TlsError {
    fn io(path: &Path, source: std::io::Error) -> TlsError {
        TlsError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The crypto provider everywhere in this crate: ring, never the process default (which
/// may be unset or aws-lc-rs).
fn crypto_provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}
