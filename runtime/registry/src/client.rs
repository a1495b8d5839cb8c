//! `RegistryClient`: the public entry points, reference → endpoint mapping, and the
//! kubelet's try-each-credential loop.

use std::sync::Arc;

use wasmpod_reference::Reference;

use crate::error::RegistryError;
use crate::keyring::{Credential, Keyring};
use crate::session::Endpoint;
use crate::transport::Transport;

/// The Docker Hub API host behind the `docker.io` name.
const DOCKER_HUB_API_HOST: &str = "registry-1.docker.io";

#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// `host:port` (or bare host) registries reached over plain HTTP, e.g. loopback test
    /// registries. Everything else uses HTTPS with Mozilla's root certificates.
    pub insecure_registries: Vec<String>,
    pub user_agent: String,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            insecure_registries: Vec::new(),
            user_agent: concat!("wasmpod/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// Progress of a layer download: bytes received of the layer's declared size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PullProgress {
    pub done: u64,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledArtifact {
    /// The normalized reference pulled (`docker.io/library/app:latest`).
    pub reference: String,
    /// The digest the reference resolved to (the index's, when it named an index).
    pub manifest_digest: String,
    pub layer_digest: String,
    pub layer_media_type: String,
    pub component: Vec<u8>,
    /// Bytes of index (if any) + manifest + config + Wasm layer: the kubelet's "Image size".
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedArtifact {
    pub reference: String,
    pub manifest_digest: String,
    /// Bytes of manifest + config + layer.
    pub size: u64,
}

/// A client for OCI registries; cheap to clone, safe to share between tasks.
#[derive(Clone)]
pub struct RegistryClient {
    pub(crate) transport: Transport,
    insecure_registries: Arc<Vec<String>>,
}

/// A parsed image reference and where to reach it.
pub(crate) struct Target {
    pub reference: Reference,
    pub endpoint: Endpoint,
}

impl Target {
    /// What containerd names in its errors: `127.0.0.1:5000/app:1`.
    pub(crate) fn normalized(&self) -> String {
        self.reference.to_string()
    }

    /// The tag or digest to ask the manifests endpoint for (digest wins).
    pub(crate) fn object(&self) -> String {
        self.reference
            .digest()
            .or(self.reference.tag())
            .unwrap_or(wasmpod_reference::DEFAULT_TAG)
            .to_string()
    }
}

impl RegistryClient {
    pub fn new(options: RegistryOptions) -> RegistryClient {
        RegistryClient {
            transport: Transport::new(&options.user_agent),
            insecure_registries: Arc::new(options.insecure_registries),
        }
    }

    /// The manifest digest `image` resolves to now (HEAD, or GET when the registry sends
    /// no `Docker-Content-Digest`), for pull-policy decisions.
    pub async fn resolve(&self, image: &str, keyring: &Keyring) -> Result<String, RegistryError> {
        let target = self.target(image)?;
        let mut errors = Vec::new();
        for credential in credentials_to_try(keyring, image) {
            match crate::pull::resolve(self, &target, &credential).await {
                Ok(digest) => return Ok(digest),
                Err(error) => errors.push(error),
            }
        }
        Err(aggregate(errors))
    }

    /// Pulls the Wasm component `image` names; every blob is digest-verified.
    pub async fn pull(
        &self,
        image: &str,
        keyring: &Keyring,
        progress: &(dyn Fn(PullProgress) + Send + Sync),
    ) -> Result<PulledArtifact, RegistryError> {
        let target = self.target(image)?;
        let mut errors = Vec::new();
        for credential in credentials_to_try(keyring, image) {
            match crate::pull::pull(self, &target, &credential, progress).await {
                Ok(artifact) => return Ok(artifact),
                Err(error) => errors.push(error),
            }
        }
        Err(aggregate(errors))
    }

    /// Pushes `component` as a CNCF Wasm OCI artifact under `image`'s tag (or digest).
    pub async fn push(
        &self,
        image: &str,
        component: &[u8],
        keyring: &Keyring,
    ) -> Result<PushedArtifact, RegistryError> {
        let target = self.target(image)?;
        let mut errors = Vec::new();
        for credential in credentials_to_try(keyring, image) {
            match crate::push::push(self, &target, &credential, component).await {
                Ok(artifact) => return Ok(artifact),
                Err(error) => errors.push(error),
            }
        }
        Err(aggregate(errors))
    }

    pub(crate) fn target(&self, image: &str) -> Result<Target, RegistryError> {
        let reference =
            Reference::parse(image).map_err(|source| RegistryError::InvalidReference {
                image: image.to_string(),
                source,
            })?;
        let domain = reference.domain().to_string();
        let host = if domain == wasmpod_reference::DEFAULT_DOMAIN {
            DOCKER_HUB_API_HOST.to_string()
        } else {
            domain.clone()
        };
        let insecure = self
            .insecure_registries
            .iter()
            .any(|entry| entry == &domain || entry == &host);
        let endpoint = Endpoint {
            scheme: if insecure { "http" } else { "https" },
            host,
            repository: reference.path().to_string(),
        };
        Ok(Target {
            reference,
            endpoint,
        })
    }
}

/// The kubelet tries each matching credential in order; with none it pulls anonymously.
/// (It does not fall back to anonymous after credentials fail.)
fn credentials_to_try(keyring: &Keyring, image: &str) -> Vec<Credential> {
    let credentials = keyring.lookup(image);
    if credentials.is_empty() {
        vec![Credential::Anonymous]
    } else {
        credentials
    }
}

fn aggregate(mut errors: Vec<RegistryError>) -> RegistryError {
    if errors.len() == 1 {
        errors.remove(0)
    } else {
        RegistryError::AllCredentialsFailed(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> RegistryClient {
        RegistryClient::new(RegistryOptions {
            insecure_registries: vec!["127.0.0.1:5000".into()],
            ..RegistryOptions::default()
        })
    }

    #[test]
    fn endpoints() {
        let local = client().target("127.0.0.1:5000/app:1").unwrap();
        assert_eq!(
            local.endpoint.url("manifests/1"),
            "http://127.0.0.1:5000/v2/app/manifests/1"
        );
        assert_eq!(local.normalized(), "127.0.0.1:5000/app:1");
        let hub = client().target("busybox").unwrap();
        assert_eq!(
            hub.endpoint.url("manifests/latest"),
            "https://registry-1.docker.io/v2/library/busybox/manifests/latest"
        );
        assert_eq!(hub.normalized(), "docker.io/library/busybox:latest");
        assert!(matches!(
            client().target("Bad:Ref"),
            Err(RegistryError::InvalidReference { .. })
        ));
    }

    #[test]
    fn futures_are_send() {
        fn assert_send<T: Send>(_: T) {}
        let client = client();
        let keyring = Keyring::empty();
        assert_send(client.resolve("x", &keyring));
        assert_send(client.pull("x", &keyring, &|_| {}));
        assert_send(client.push("x", b"", &keyring));
    }
}
