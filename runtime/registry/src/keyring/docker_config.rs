//! Docker config documents: `.dockerconfigjson` (`{"auths": {...}}`), legacy `.dockercfg`
//! (the `auths` map alone) and the user's `config.json`.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Deserialize;

use super::Credential;
use crate::error::RegistryError;

#[derive(Deserialize)]
pub(crate) struct DockerConfigJson {
    #[serde(default)]
    pub auths: BTreeMap<String, DockerConfigEntry>,
}

#[derive(Deserialize, Default)]
pub(crate) struct DockerConfigEntry {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    auth: String,
    #[serde(default)]
    identitytoken: String,
    #[serde(default)]
    registrytoken: String,
}

impl DockerConfigEntry {
    /// As the kubelet's `DockerConfigEntry.UnmarshalJSON`: a non-empty `auth` overrides
    /// `username`/`password`; tokens (Docker CLI logins) become bearer credentials.
    pub(crate) fn credential(&self, location: &str) -> Result<Credential, RegistryError> {
        if !self.registrytoken.is_empty() {
            return Ok(Credential::Bearer(self.registrytoken.clone()));
        }
        if !self.identitytoken.is_empty() {
            return Ok(Credential::Bearer(self.identitytoken.clone()));
        }
        let (username, password) = if self.auth.is_empty() {
            (self.username.clone(), self.password.clone())
        } else {
            decode_auth_field(&self.auth, location)?
        };
        if username.is_empty() && password.is_empty() {
            return Ok(Credential::Anonymous);
        }
        Ok(Credential::Basic { username, password })
    }
}

/// `decodeDockerConfigFieldAuth`: base64(`user:password`).
fn decode_auth_field(field: &str, location: &str) -> Result<(String, String), RegistryError> {
    let invalid = || {
        RegistryError::InvalidDockerConfig(format!(
            "entry {location:?}: unable to parse auth field, must be formatted as base64(username:password)"
        ))
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(field.trim())
        .map_err(|_| invalid())?;
    let text = String::from_utf8(decoded).map_err(|_| invalid())?;
    let (username, password) = text.split_once(':').ok_or_else(invalid)?;
    Ok((
        username.to_string(),
        password.trim_matches('\0').to_string(),
    ))
}

pub(crate) fn parse_config_json(
    bytes: &[u8],
) -> Result<BTreeMap<String, DockerConfigEntry>, RegistryError> {
    let document: DockerConfigJson = serde_json::from_slice(bytes)
        .map_err(|e| RegistryError::InvalidDockerConfig(e.to_string()))?;
    Ok(document.auths)
}

pub(crate) fn parse_dockercfg(
    bytes: &[u8],
) -> Result<BTreeMap<String, DockerConfigEntry>, RegistryError> {
    serde_json::from_slice(bytes).map_err(|e| RegistryError::InvalidDockerConfig(e.to_string()))
}
