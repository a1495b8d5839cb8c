//! Pushing a component as a CNCF Wasm OCI artifact: config
//! `application/vnd.wasm.config.v0+json`, one `application/wasm` layer, OCI manifest.

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};

use crate::client::{PushedArtifact, RegistryClient, Target};
use crate::digest::sha256_digest;
use crate::error::{RegistryError, Stage};
use crate::keyring::Credential;
use crate::layout::{Descriptor, ImageManifest};
use crate::media_types::{self, ref_key};
use crate::session::{status_error, Access, Session};
use crate::transport::resolve_location;

const WASM_MAGIC: &[u8] = b"\0asm";
const COMPONENT_VERSION: &[u8] = &[0x0d, 0x00, 0x01, 0x00];

pub(crate) async fn push(
    client: &RegistryClient,
    target: &Target,
    credential: &Credential,
    component: &[u8],
) -> Result<PushedArtifact, RegistryError> {
    let reference = target.normalized();
    let os = wasi_os(component).ok_or_else(|| RegistryError::UnsupportedArtifact {
        reference: reference.clone(),
        detail: "content is not a WebAssembly binary (no \\0asm header)".to_string(),
        media_types: vec![media_types::WASM_LAYER.to_string()],
    })?;
    let layer = descriptor(media_types::WASM_LAYER, component);
    let config_bytes = wasm_config(os, &layer.digest);
    let config = descriptor(media_types::WASM_CONFIG, &config_bytes);
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(media_types::OCI_MANIFEST.to_string()),
        config: config.clone(),
        layers: vec![layer.clone()],
    };
    let manifest_bytes = serde_json::to_vec(&manifest).map_err(|e| RegistryError::Transport {
        stage: Stage::Push,
        message: format!("encoding manifest: {e}"),
    })?;
    let manifest_digest = sha256_digest(&manifest_bytes);
    if let Some(wanted) = target.reference.digest() {
        if wanted != manifest_digest {
            return Err(RegistryError::DigestMismatch {
                ref_key: ref_key(media_types::OCI_MANIFEST, wanted),
                expected: wanted.to_string(),
                actual: manifest_digest,
            });
        }
    }

    let mut session = Session::new(
        &client.transport,
        &target.endpoint,
        credential,
        Access::Push,
    );
    upload_blob(
        &mut session,
        &config.digest,
        Bytes::from(config_bytes.clone()),
    )
    .await?;
    upload_blob(
        &mut session,
        &layer.digest,
        Bytes::copy_from_slice(component),
    )
    .await?;

    let url = session
        .endpoint()
        .url(&format!("manifests/{}", target.object()));
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media_types::OCI_MANIFEST),
    );
    let fetched = session
        .request(
            Method::PUT,
            &url,
            &headers,
            Bytes::from(manifest_bytes.clone()),
            Stage::Push,
        )
        .await?;
    let status = fetched.response.status();
    if !status.is_success() {
        return Err(status_error(
            Stage::Push,
            &fetched.method,
            &fetched.url,
            status,
        ));
    }
    let stored = fetched
        .response
        .headers()
        .get("docker-content-digest")
        .and_then(|value| value.to_str().ok());
    if let Some(stored) = stored {
        if stored != manifest_digest {
            return Err(RegistryError::DigestMismatch {
                ref_key: ref_key(media_types::OCI_MANIFEST, &manifest_digest),
                expected: manifest_digest,
                actual: stored.to_string(),
            });
        }
    }
    Ok(PushedArtifact {
        reference,
        manifest_digest,
        size: (manifest_bytes.len() + config_bytes.len() + component.len()) as u64,
    })
}

fn descriptor(media_type: &str, content: &[u8]) -> Descriptor {
    Descriptor {
        media_type: media_type.to_string(),
        digest: sha256_digest(content),
        size: content.len() as u64,
        platform: None,
        annotations: None,
    }
}

/// `wasip2` for components, `wasip1` for core modules, None for anything else.
fn wasi_os(content: &[u8]) -> Option<&'static str> {
    if content.len() < 8 || &content[..4] != WASM_MAGIC {
        return None;
    }
    Some(if &content[4..8] == COMPONENT_VERSION {
        "wasip2"
    } else {
        "wasip1"
    })
}

/// The CNCF Wasm config. `created` is the Unix epoch so that pushing the same component
/// twice yields the same manifest digest (as reproducible image builders do).
fn wasm_config(os: &str, layer_digest: &str) -> Vec<u8> {
    let config = serde_json::json!({
        "created": "1970-01-01T00:00:00Z",
        "architecture": "wasm",
        "os": os,
        "layerDigests": [layer_digest],
    });
    config.to_string().into_bytes()
}

/// HEAD the blob (skip if present), else POST an upload and PUT it monolithically.
async fn upload_blob(
    session: &mut Session<'_>,
    digest: &str,
    content: Bytes,
) -> Result<(), RegistryError> {
    let blob_url = session.endpoint().url(&format!("blobs/{digest}"));
    let fetched = session
        .request(
            Method::HEAD,
            &blob_url,
            &HeaderMap::new(),
            Bytes::new(),
            Stage::Push,
        )
        .await?;
    if fetched.response.status().is_success() {
        return Ok(());
    }
    let start_url = session.endpoint().url("blobs/uploads/");
    let fetched = session
        .request(
            Method::POST,
            &start_url,
            &HeaderMap::new(),
            Bytes::new(),
            Stage::Push,
        )
        .await?;
    let status = fetched.response.status();
    if status != StatusCode::ACCEPTED && !status.is_success() {
        return Err(status_error(
            Stage::Push,
            &fetched.method,
            &fetched.url,
            status,
        ));
    }
    let location = fetched
        .response
        .headers()
        .get(header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| RegistryError::Transport {
            stage: Stage::Push,
            message: format!("POST {start_url} answered {status} without a Location"),
        })?;
    let base = fetched.url.parse().map_err(|e| RegistryError::Transport {
        stage: Stage::Push,
        message: format!("invalid URL {}: {e}", fetched.url),
    })?;
    let upload_url = resolve_location(&base, location);
    let separator = if upload_url.contains('?') { '&' } else { '?' };
    let put_url = format!(
        "{upload_url}{separator}digest={}",
        digest.replace(':', "%3A")
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    let fetched = session
        .request(Method::PUT, &put_url, &headers, content, Stage::Push)
        .await?;
    let status = fetched.response.status();
    if !status.is_success() {
        return Err(status_error(
            Stage::Push,
            &fetched.method,
            &fetched.url,
            status,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_and_modules_are_told_apart() {
        assert_eq!(wasi_os(b"\0asm\x0d\x00\x01\x00rest"), Some("wasip2"));
        assert_eq!(wasi_os(b"\0asm\x01\x00\x00\x00"), Some("wasip1"));
        assert_eq!(wasi_os(b"#!/bin/sh\n"), None);
    }

    #[test]
    fn config_is_deterministic() {
        assert_eq!(
            wasm_config("wasip2", "sha256:1"),
            wasm_config("wasip2", "sha256:1")
        );
        let text = String::from_utf8(wasm_config("wasip2", "sha256:1")).unwrap();
        assert!(text.contains(r#""layerDigests":["sha256:1"]"#), "{text}");
    }
}
