//! Raw HTTP helpers to store layouts the client never writes; the registry itself is
//! `wasmpod_registry::testing::TestRegistry`.

#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use sha2::{Digest, Sha256};
pub use wasmpod_registry::testing::{corrupt_file, TestRegistry};

pub fn sha256(content: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(content)))
}

/// A tiny byte string that starts like a WebAssembly component.
pub fn fake_component(seed: &str) -> Vec<u8> {
    let mut bytes = b"\0asm\x0d\x00\x01\x00".to_vec();
    bytes.extend_from_slice(seed.as_bytes());
    bytes.extend((0..4096u32).map(|i| (i % 251) as u8));
    bytes
}

async fn send(
    method: &str,
    url: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (u16, http::HeaderMap) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut request = http::Request::builder().method(method).uri(url);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = client
        .request(request.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .expect("raw request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let _ = response.into_body().collect().await;
    (status, headers)
}

/// Uploads a blob to an anonymous registry; returns its descriptor JSON.
pub async fn raw_blob(
    host: &str,
    repository: &str,
    media_type: &str,
    content: &[u8],
) -> serde_json::Value {
    let digest = sha256(content);
    let (status, headers) = send(
        "POST",
        &format!("http://{host}/v2/{repository}/blobs/uploads/"),
        None,
        Vec::new(),
    )
    .await;
    assert_eq!(status, 202);
    let location = headers["location"].to_str().unwrap().to_string();
    let location = if location.starts_with("http") {
        location
    } else {
        format!("http://{host}{location}")
    };
    let separator = if location.contains('?') { '&' } else { '?' };
    let (status, _) = send(
        "PUT",
        &format!("{location}{separator}digest={digest}"),
        Some("application/octet-stream"),
        content.to_vec(),
    )
    .await;
    assert_eq!(status, 201);
    serde_json::json!({ "mediaType": media_type, "digest": digest, "size": content.len() })
}

/// Stores a manifest/index document under `reference`; returns its digest.
pub async fn raw_manifest(
    host: &str,
    repository: &str,
    reference: &str,
    media_type: &str,
    document: &serde_json::Value,
) -> String {
    let body = serde_json::to_vec(document).unwrap();
    let digest = sha256(&body);
    let (status, _) = send(
        "PUT",
        &format!("http://{host}/v2/{repository}/manifests/{reference}"),
        Some(media_type),
        body,
    )
    .await;
    assert_eq!(status, 201, "manifest PUT for {media_type}");
    digest
}

/// An image manifest with the given config and layers (each `(media_type, content)`).
pub async fn raw_image(
    host: &str,
    repository: &str,
    tag: &str,
    config: (&str, &[u8]),
    layers: &[(&str, &[u8])],
) -> (String, usize) {
    let config_descriptor = raw_blob(host, repository, config.0, config.1).await;
    let mut layer_descriptors = Vec::new();
    for (media_type, content) in layers {
        layer_descriptors.push(raw_blob(host, repository, media_type, content).await);
    }
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config_descriptor,
        "layers": layer_descriptors,
    });
    let size = serde_json::to_vec(&manifest).unwrap().len();
    let digest = raw_manifest(
        host,
        repository,
        tag,
        "application/vnd.oci.image.manifest.v1+json",
        &manifest,
    )
    .await;
    (digest, size)
}
