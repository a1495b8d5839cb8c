//! Registry credentials matched to images the way the kubelet's `credentialprovider`
//! keyring does: entries keyed by `host[:port][/path]` (scheme and `/v1/`, `/v2/`
//! stripped), most specific key first (reverse-sorted), host labels as globs, exact port,
//! path as a string prefix; Docker Hub images fall back to an `index.docker.io` entry.

mod docker_config;
mod url_match;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use wasmpod_reference::Reference;

use crate::error::RegistryError;
use docker_config::DockerConfigEntry;
use url_match::{urls_match, SchemelessUrl};

/// One way to authenticate to a registry.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Anonymous,
    Basic {
        username: String,
        password: String,
    },
    /// A registry token or identity token sent as `Authorization: Bearer`.
    Bearer(String),
}

impl fmt::Debug for Credential {
    // Secrets never reach logs or test output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Anonymous => f.write_str("Anonymous"),
            Credential::Basic { username, .. } => write!(
                f,
                "Basic {{ username: {username:?}, password: <redacted> }}"
            ),
            Credential::Bearer(_) => f.write_str("Bearer(<redacted>)"),
        }
    }
}

const DEFAULT_REGISTRY_HOST: &str = "index.docker.io";

/// Credentials for registries. A union of layers: each layer is one kubelet
/// `BasicDockerKeyring`; `merged` stacks them like `UnionDockerKeyring`.
#[derive(Clone, Default, Debug)]
pub struct Keyring {
    layers: Vec<BasicKeyring>,
}

#[derive(Clone, Default, Debug)]
struct BasicKeyring {
    credentials: BTreeMap<String, Vec<Credential>>,
    /// Keys, deduplicated and reverse-sorted so `quay.io/coreos` is tried before `quay.io`.
    index: Vec<String>,
}

impl BasicKeyring {
    fn from_entries(
        entries: BTreeMap<String, DockerConfigEntry>,
    ) -> Result<BasicKeyring, RegistryError> {
        let mut keyring = BasicKeyring::default();
        for (location, entry) in entries {
            let credential = entry.credential(&location)?;
            let key = keyring_key(&location);
            keyring
                .credentials
                .entry(key.clone())
                .or_default()
                .push(credential);
            keyring.index.push(key);
        }
        keyring.index.sort();
        keyring.index.dedup();
        keyring.index.reverse();
        Ok(keyring)
    }

    fn lookup(&self, repository: &str) -> Vec<Credential> {
        let target = SchemelessUrl::parse(repository);
        let found: Vec<Credential> = self
            .index
            .iter()
            .filter(|key| urls_match(&SchemelessUrl::parse(key), &target))
            .flat_map(|key| self.credentials[key.as_str()].iter().cloned())
            .collect();
        if !found.is_empty() {
            return found;
        }
        if is_default_registry_match(repository) {
            if let Some(credentials) = self.credentials.get(DEFAULT_REGISTRY_HOST) {
                return credentials.clone();
            }
        }
        Vec::new()
    }
}

/// `BasicDockerKeyring.Add`: drop the scheme, treat `/v1/…` and `/v2/…` as the host.
fn keyring_key(location: &str) -> String {
    let schemeless = location
        .strip_prefix("https://")
        .or_else(|| location.strip_prefix("http://"))
        .unwrap_or(location);
    let url = SchemelessUrl::parse(schemeless);
    let mut path = url.path.as_str();
    if path.starts_with("/v2/") || path.starts_with("/v1/") {
        path = &path[3..];
    }
    if path.is_empty() || path == "/" {
        url.host
    } else {
        format!("{}{path}", url.host)
    }
}

/// `isDefaultRegistryMatch`: would this repository be pulled from Docker Hub?
fn is_default_registry_match(repository: &str) -> bool {
    let mut parts = repository.splitn(2, '/');
    let first = parts.next().unwrap_or_default();
    if first.is_empty() {
        return false;
    }
    if parts.next().is_none() {
        return true;
    }
    first == "docker.io" || first == DEFAULT_REGISTRY_HOST || !first.contains(['.', ':'])
}

impl Keyring {
    /// No credentials: every pull is anonymous.
    pub fn empty() -> Keyring {
        Keyring::default()
    }

    /// A `kubernetes.io/dockerconfigjson` Secret's `.dockerconfigjson` (or a Docker
    /// `config.json`): `{"auths": {"<registry>": {"auth": "…"}}}`.
    pub fn from_docker_config_json(bytes: &[u8]) -> Result<Keyring, RegistryError> {
        Self::single(BasicKeyring::from_entries(
            docker_config::parse_config_json(bytes)?,
        )?)
    }

    /// A legacy `kubernetes.io/dockercfg` Secret's `.dockercfg`: the `auths` map alone.
    pub fn from_dockercfg(bytes: &[u8]) -> Result<Keyring, RegistryError> {
        Self::single(BasicKeyring::from_entries(docker_config::parse_dockercfg(
            bytes,
        )?)?)
    }

    /// A Docker CLI config file (`auths` only; credential helpers are not run).
    pub fn from_docker_config_file(path: &Path) -> Result<Keyring, RegistryError> {
        let bytes = std::fs::read(path).map_err(|e| {
            RegistryError::InvalidDockerConfig(format!("reading {}: {e}", path.display()))
        })?;
        Self::from_docker_config_json(&bytes)
    }

    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`; missing or unreadable
    /// means no credentials.
    pub fn user_default() -> Keyring {
        let directory = match std::env::var_os("DOCKER_CONFIG") {
            Some(directory) if !directory.is_empty() => PathBuf::from(directory),
            _ => match std::env::var_os("HOME") {
                Some(home) => PathBuf::from(home).join(".docker"),
                None => return Keyring::empty(),
            },
        };
        Self::from_docker_config_file(&directory.join("config.json")).unwrap_or_default()
    }

    /// `self`'s credentials first, then `other`'s (pod pull secrets before the node's).
    pub fn merged(&self, other: &Keyring) -> Keyring {
        let mut layers = self.layers.clone();
        layers.extend(other.layers.iter().cloned());
        Keyring { layers }
    }

    /// Credentials to try, in order, for `image`; empty means pull anonymously.
    pub fn lookup(&self, image: &str) -> Vec<Credential> {
        let Ok(reference) = Reference::parse_normalized_named(image) else {
            return Vec::new();
        };
        let repository = reference.name();
        self.layers
            .iter()
            .flat_map(|layer| layer.lookup(&repository))
            .collect()
    }

    fn single(layer: BasicKeyring) -> Result<Keyring, RegistryError> {
        Ok(Keyring {
            layers: vec![layer],
        })
    }
}

#[cfg(test)]
mod tests;
