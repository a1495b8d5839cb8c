//! Pulls from registries for the node's pods: one pull per image (and credentials) at a time —
//! concurrent requests for the same image wait for the pull in flight instead of starting
//! their own — and the pulled component goes into the node's image store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use tokio::sync::watch;
// tokio's clock: on simulated time a pull takes no time, and prints the same every run.
use tokio::time::Instant;
use wasmpod_images::{ImageError, ImageRecord, ImageStore};
use wasmpod_registry::{Keyring, RegistryClient, RegistryError, RegistryOptions};

use crate::store::ObjectStore;

/// How a node reaches registries.
#[derive(Debug, Clone, Default)]
pub struct RegistrySettings {
    /// `host:port` of registries reached over plain HTTP (`--insecure-registry`).
    pub insecure_registries: Vec<String>,
    /// The Docker config file with the node's own credentials; `None` means the user's
    /// (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`, if present).
    pub docker_config: Option<std::path::PathBuf>,
}

/// A finished pull: the stored image and how long the registry work itself took.
#[derive(Debug)]
pub(crate) struct Pulled {
    pub record: ImageRecord,
    pub pulled_in: Duration,
    /// Bytes of manifest, config and layer, as the kubelet's "Image size".
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum PullFailure {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Store(#[from] ImageError),
}

impl PullFailure {
    /// The text after `Failed to pull image "<image>": `, as containerd words it.
    pub fn kubelet_message(&self, image: &str) -> String {
        match self {
            PullFailure::Registry(error) => error.kubelet_message(image),
            PullFailure::Store(error) => format!(
                "rpc error: code = Unknown desc = failed to pull and unpack image \"{image}\": {error}"
            ),
        }
    }
}

type Outcome = Result<Arc<Pulled>, Arc<PullFailure>>;

pub(crate) struct ImagePuller {
    client: RegistryClient,
    node_keyring: Keyring,
    in_flight: Mutex<HashMap<String, watch::Receiver<Option<Outcome>>>>,
}

impl ImagePuller {
    pub fn new(settings: &RegistrySettings) -> ImagePuller {
        let node_keyring = match &settings.docker_config {
            Some(path) => Keyring::from_docker_config_file(path).unwrap_or_else(|error| {
                eprintln!(
                    "wasmpod: ignoring registry credentials in {}: {error}",
                    path.display()
                );
                Keyring::empty()
            }),
            None => Keyring::user_default(),
        };
        ImagePuller {
            client: RegistryClient::new(RegistryOptions {
                insecure_registries: settings.insecure_registries.clone(),
                user_agent: format!("wasmpod/{}", env!("CARGO_PKG_VERSION")),
            }),
            node_keyring,
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// Pulls `image` with the pod's pull secrets (before the node's own credentials) into
    /// `images`; joins a pull of the same image with the same secrets already under way.
    pub async fn pull(
        self: &Arc<Self>,
        images: &Arc<ImageStore>,
        image: &str,
        secrets: PullSecrets,
    ) -> Outcome {
        let key = format!("{image}\n{}", secrets.identity);
        let mut receiver = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            match in_flight.get(&key) {
                Some(receiver) => receiver.clone(),
                None => {
                    let (sender, receiver) = watch::channel(None);
                    in_flight.insert(key.clone(), receiver.clone());
                    let puller = self.clone();
                    let images = images.clone();
                    let image = image.to_string();
                    let keyring = secrets.keyring.merged(&self.node_keyring);
                    tokio::spawn(async move {
                        let outcome = puller.pull_now(&images, &image, &keyring).await;
                        puller
                            .in_flight
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .remove(&key);
                        let _ = sender.send(Some(outcome));
                    });
                    receiver
                }
            }
        };
        let outcome = receiver
            .wait_for(Option::is_some)
            .await
            .map(|outcome| outcome.clone());
        match outcome {
            Ok(Some(outcome)) => outcome,
            // The pulling task ended without an answer (the runtime is shutting down).
            _ => Err(Arc::new(PullFailure::Registry(RegistryError::Transport {
                stage: wasmpod_registry::Stage::Fetch,
                message: "the pull was cancelled".into(),
            }))),
        }
    }

    async fn pull_now(&self, images: &ImageStore, image: &str, keyring: &Keyring) -> Outcome {
        let started = Instant::now();
        let artifact = self
            .client
            .pull(image, keyring, &|_| {})
            .await
            .map_err(|e| Arc::new(e.into()))?;
        let pulled_in = started.elapsed();
        let record = images
            .store_pulled(image, &artifact.component, &artifact.manifest_digest)
            .map_err(|e| Arc::new(e.into()))?;
        Ok(Arc::new(Pulled {
            record,
            pulled_in,
            size: artifact.size,
        }))
    }
}

/// A pod's `imagePullSecrets` as a keyring, with what could not be used.
pub(crate) struct PullSecrets {
    pub keyring: Keyring,
    /// Names of secrets that could not be retrieved.
    pub unusable: Vec<String>,
    /// Distinguishes pulls with different credentials (so they are not coalesced).
    identity: String,
}

impl PullSecrets {
    /// Reads the pod's `imagePullSecrets` from the store (`kubernetes.io/dockerconfigjson`
    /// and legacy `kubernetes.io/dockercfg` Secrets), in the pod's order.
    pub fn of(pod: &Pod, store: &ObjectStore) -> PullSecrets {
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let mut keyring = Keyring::empty();
        let mut unusable = Vec::new();
        let mut identity = String::new();
        let names = pod
            .spec
            .as_ref()
            .and_then(|spec| spec.image_pull_secrets.clone())
            .unwrap_or_default();
        for reference in names {
            let name = reference.name;
            if name.is_empty() {
                continue;
            }
            let Some(secret) = store.secret(&namespace, &name) else {
                unusable.push(name);
                continue;
            };
            let data = secret.data.unwrap_or_default();
            // Secrets of other types hold no registry credentials: skipped, as the kubelet's
            // keyring does.
            let parsed = match secret.type_.as_deref() {
                Some("kubernetes.io/dockerconfigjson") => data
                    .get(".dockerconfigjson")
                    .and_then(|bytes| Keyring::from_docker_config_json(&bytes.0).ok()),
                Some("kubernetes.io/dockercfg") => data
                    .get(".dockercfg")
                    .and_then(|bytes| Keyring::from_dockercfg(&bytes.0).ok()),
                _ => None,
            };
            if let Some(secret_keyring) = parsed {
                keyring = keyring.merged(&secret_keyring);
                let version = secret.metadata.resource_version.unwrap_or_default();
                identity.push_str(&format!("{name}@{version};"));
            }
        }
        PullSecrets {
            keyring,
            unusable,
            identity,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmpod_registry::testing::TestRegistry;

    /// Concurrent pulls of one image make one trip to the registry: every caller registers
    /// before the pull task runs (one thread), so the count is exact, not timing-dependent.
    #[test]
    fn concurrent_pulls_of_one_image_are_coalesced() {
        let Some(registry) = TestRegistry::start(None) else {
            return;
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let image = registry.image("health:1");
            let component = wasmpod_images::embedded("health_image").expect("bundled guest");
            let settings = RegistrySettings {
                insecure_registries: vec![registry.host.clone()],
                docker_config: Some("/nonexistent/config.json".into()),
            };
            let puller = Arc::new(ImagePuller::new(&settings));
            puller
                .client
                .push(&image, component, &Keyring::empty())
                .await
                .expect("push");
            let home = tempfile::tempdir().unwrap();
            let images = Arc::new(ImageStore::open(home.path()).unwrap());
            let store = ObjectStore::new();
            let pulls = (0..4).map(|_| {
                let secrets = PullSecrets::of(&Pod::default(), &store);
                let puller = puller.clone();
                let images = images.clone();
                let image = image.clone();
                async move { puller.pull(&images, &image, secrets).await }
            });
            let outcomes = futures_util::future::join_all(pulls).await;
            let digests: Vec<String> = outcomes
                .iter()
                .map(|o| o.as_ref().expect("pulled").record.digest.clone())
                .collect();
            assert!(digests.windows(2).all(|w| w[0] == w[1]), "{digests:?}");
            let layer_fetches = registry
                .requests()
                .iter()
                .filter(|r| r.starts_with("GET ") && r.contains("/blobs/"))
                .count();
            // One config and one layer blob: fetched once for all four callers.
            assert_eq!(layer_fetches, 2, "{:?}", registry.requests());
            // A later pull goes to the registry again (nothing cached in flight).
            let secrets = PullSecrets::of(&Pod::default(), &store);
            puller.pull(&images, &image, secrets).await.expect("pull");
            let fetches = registry
                .requests()
                .iter()
                .filter(|r| r.starts_with("GET ") && r.contains("/blobs/"))
                .count();
            assert_eq!(fetches, 4);
        });
    }
}
