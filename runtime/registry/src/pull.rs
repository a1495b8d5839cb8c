//! Resolving and pulling: manifest (and index) by digest, config, then the Wasm layer;
//! everything hashed before it is believed.

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};

use crate::client::{PullProgress, PulledArtifact, RegistryClient, Target};
use crate::digest::{is_sha256, sha256_digest, verify};
use crate::error::{RegistryError, Stage};
use crate::keyring::Credential;
use crate::layout::{parse_document, select_platform, select_wasm_layer, Descriptor, Document};
use crate::media_types::{self, MANIFEST_ACCEPT};
use crate::session::{status_error, Access, Session};
use crate::transport::read_body;

/// containerd's `MaxManifestSize`: larger manifests are refused.
const MAX_MANIFEST_SIZE: u64 = 4 << 20;
const DOCKER_CONTENT_DIGEST: &str = "docker-content-digest";

pub(crate) async fn resolve(
    client: &RegistryClient,
    target: &Target,
    credential: &Credential,
) -> Result<String, RegistryError> {
    let mut session = Session::new(
        &client.transport,
        &target.endpoint,
        credential,
        Access::Pull,
    );
    resolve_in(&mut session, target).await
}

pub(crate) async fn pull(
    client: &RegistryClient,
    target: &Target,
    credential: &Credential,
    progress: &(dyn Fn(PullProgress) + Send + Sync),
) -> Result<PulledArtifact, RegistryError> {
    let reference = target.normalized();
    let mut session = Session::new(
        &client.transport,
        &target.endpoint,
        credential,
        Access::Pull,
    );
    let manifest_digest = resolve_in(&mut session, target).await?;

    let (body, content_type) =
        fetch_manifest(&mut session, &manifest_digest, media_types::OCI_MANIFEST).await?;
    let mut size = body.len() as u64;
    let manifest = match parse_document(&body, content_type.as_deref(), &reference)?.0 {
        Document::Manifest(manifest) => manifest,
        Document::Index(index) => {
            let chosen = select_platform(&index, &reference)?;
            let (body, content_type) =
                fetch_manifest(&mut session, &chosen.digest, &chosen.media_type).await?;
            size += body.len() as u64;
            match parse_document(&body, content_type.as_deref(), &reference)?.0 {
                Document::Manifest(manifest) => manifest,
                Document::Index(_) => {
                    return Err(RegistryError::UnsupportedArtifact {
                        reference,
                        detail: "nested image index".to_string(),
                        media_types: vec![chosen.media_type],
                    })
                }
            }
        }
    };
    let layer = select_wasm_layer(&manifest, &reference)?;
    let config = fetch_blob(&mut session, &manifest.config, &|_| {}).await?;
    let component = fetch_blob(&mut session, &layer, progress).await?;
    size += (config.len() + component.len()) as u64;
    Ok(PulledArtifact {
        reference,
        manifest_digest,
        layer_digest: layer.digest,
        layer_media_type: layer.media_type,
        component,
        size,
    })
}

fn manifest_accept() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, HeaderValue::from_static(MANIFEST_ACCEPT));
    headers
}

/// containerd's `Resolve`: HEAD the manifest, trust `Docker-Content-Digest` for tags,
/// fall back to GET (hashing the body) when the header is missing or HEAD is refused.
async fn resolve_in(session: &mut Session<'_>, target: &Target) -> Result<String, RegistryError> {
    let url = session
        .endpoint()
        .url(&format!("manifests/{}", target.object()));
    let headers = manifest_accept();
    let mut fetched = session
        .request(Method::HEAD, &url, &headers, Bytes::new(), Stage::Resolve)
        .await?;
    if fetched.response.status() == StatusCode::METHOD_NOT_ALLOWED {
        fetched = session
            .request(Method::GET, &url, &headers, Bytes::new(), Stage::Resolve)
            .await?;
    }
    let status = fetched.response.status();
    if status == StatusCode::NOT_FOUND {
        return Err(RegistryError::NotFound {
            reference: target.normalized(),
            url: None,
        });
    }
    if !status.is_success() {
        return Err(status_error(
            Stage::Resolve,
            &fetched.method,
            &fetched.url,
            status,
        ));
    }
    if let Some(digest) = target.reference.digest() {
        return verifiable(digest.to_string());
    }
    let header_digest = fetched
        .response
        .headers()
        .get(DOCKER_CONTENT_DIGEST)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    if let Some(digest) = header_digest {
        return verifiable(digest);
    }
    if fetched.method == Method::HEAD {
        fetched = session
            .request(Method::GET, &url, &headers, Bytes::new(), Stage::Resolve)
            .await?;
        let status = fetched.response.status();
        if !status.is_success() {
            return Err(status_error(
                Stage::Resolve,
                &fetched.method,
                &fetched.url,
                status,
            ));
        }
    }
    let body = read_body(
        fetched.response,
        MAX_MANIFEST_SIZE,
        Stage::Resolve,
        &url,
        &mut |_| {},
    )
    .await?;
    Ok(sha256_digest(&body))
}

fn verifiable(digest: String) -> Result<String, RegistryError> {
    if is_sha256(&digest) {
        Ok(digest)
    } else {
        Err(RegistryError::Transport {
            stage: Stage::Resolve,
            message: format!("{digest:?} is not a sha256 digest; it cannot be verified"),
        })
    }
}

/// A manifest or index by digest, with its Content-Type; refused unless it hashes right.
async fn fetch_manifest(
    session: &mut Session<'_>,
    digest: &str,
    media_type: &str,
) -> Result<(Vec<u8>, Option<String>), RegistryError> {
    let url = session.endpoint().url(&format!("manifests/{digest}"));
    let fetched = session
        .request(
            Method::GET,
            &url,
            &manifest_accept(),
            Bytes::new(),
            Stage::Fetch,
        )
        .await?;
    check_fetch_status(&fetched.method, &fetched.url, fetched.response.status())?;
    let content_type = fetched
        .response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let body = read_body(
        fetched.response,
        MAX_MANIFEST_SIZE,
        Stage::Fetch,
        &url,
        &mut |_| {},
    )
    .await?;
    let media_type = content_type
        .as_deref()
        .filter(|value| media_types::is_index(value) || media_types::is_manifest(value))
        .unwrap_or(media_type);
    verify(&body, digest, media_type)?;
    Ok((body, content_type))
}

/// A blob by its descriptor; refused unless it hashes to the descriptor's digest.
async fn fetch_blob(
    session: &mut Session<'_>,
    descriptor: &Descriptor,
    progress: &(dyn Fn(PullProgress) + Send + Sync),
) -> Result<Vec<u8>, RegistryError> {
    if !is_sha256(&descriptor.digest) {
        return Err(RegistryError::Transport {
            stage: Stage::Fetch,
            message: format!(
                "blob digest {:?} is not a sha256 digest; it cannot be verified",
                descriptor.digest
            ),
        });
    }
    let url = session
        .endpoint()
        .url(&format!("blobs/{}", descriptor.digest));
    let fetched = session
        .request(
            Method::GET,
            &url,
            &HeaderMap::new(),
            Bytes::new(),
            Stage::Fetch,
        )
        .await?;
    check_fetch_status(&fetched.method, &fetched.url, fetched.response.status())?;
    let total = descriptor.size;
    progress(PullProgress { done: 0, total });
    let body = read_body(fetched.response, total, Stage::Fetch, &url, &mut |done| {
        progress(PullProgress { done, total })
    })
    .await?;
    verify(&body, &descriptor.digest, &descriptor.media_type)?;
    Ok(body)
}

fn check_fetch_status(method: &Method, url: &str, status: StatusCode) -> Result<(), RegistryError> {
    if status == StatusCode::NOT_FOUND {
        return Err(RegistryError::NotFound {
            reference: String::new(),
            url: Some(url.to_string()),
        });
    }
    if !status.is_success() {
        return Err(status_error(Stage::Fetch, method, url, status));
    }
    Ok(())
}
