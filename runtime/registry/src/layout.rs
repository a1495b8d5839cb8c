//! Manifest and index documents, and the choice of the one Wasm layer to run.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{RegistryError, Stage};
use crate::media_types::{self, is_index, is_manifest, is_wasm_layer};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImageManifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImageIndex {
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

/// A fetched manifest document, classified.
pub(crate) enum Document {
    Manifest(ImageManifest),
    Index(ImageIndex),
}

/// Only the fields needed to classify a document whose Content-Type is unhelpful.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    #[serde(default)]
    schema_version: u32,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<serde_json::Value>,
    #[serde(default)]
    config: Option<serde_json::Value>,
}

/// Classifies by Content-Type, then by the document's own `mediaType`, then by shape.
pub(crate) fn parse_document(
    body: &[u8],
    content_type: Option<&str>,
    reference: &str,
) -> Result<(Document, String), RegistryError> {
    let malformed = |error: serde_json::Error| RegistryError::Transport {
        stage: Stage::Fetch,
        message: format!("failed to parse manifest of {reference}: {error}"),
    };
    let probe: Probe = serde_json::from_slice(body).map_err(malformed)?;
    let header_type = content_type
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_string()
        })
        .filter(|value| is_index(value) || is_manifest(value));
    let media_type = header_type.or(probe.media_type.clone()).unwrap_or_else(|| {
        if probe.manifests.is_some() {
            media_types::OCI_INDEX.to_string()
        } else if probe.config.is_some() {
            media_types::OCI_MANIFEST.to_string()
        } else {
            String::new()
        }
    });
    if probe.schema_version != 2 || !(is_index(&media_type) || is_manifest(&media_type)) {
        let found = if media_type.is_empty() {
            format!("schemaVersion {}", probe.schema_version)
        } else {
            media_type
        };
        return Err(RegistryError::UnsupportedArtifact {
            reference: reference.to_string(),
            detail: "not an OCI or Docker schema 2 manifest or index".to_string(),
            media_types: vec![found],
        });
    }
    let document = if is_index(&media_type) {
        Document::Index(serde_json::from_slice(body).map_err(malformed)?)
    } else {
        Document::Manifest(serde_json::from_slice(body).map_err(malformed)?)
    };
    Ok((document, media_type))
}

/// The index entry for a Wasm platform: `wasip2`, then `wasip1`, then `wasi`, then any
/// `wasm` architecture.
pub(crate) fn select_platform(
    index: &ImageIndex,
    reference: &str,
) -> Result<Descriptor, RegistryError> {
    let rank = |descriptor: &Descriptor| -> Option<u8> {
        if !is_manifest(&descriptor.media_type) {
            return None;
        }
        let platform = descriptor.platform.as_ref()?;
        match platform.os.as_str() {
            "wasip2" => Some(0),
            "wasip1" => Some(1),
            "wasi" => Some(2),
            _ if platform.architecture == "wasm" => Some(3),
            _ => None,
        }
    };
    index
        .manifests
        .iter()
        .filter_map(|descriptor| rank(descriptor).map(|r| (r, descriptor)))
        .min_by_key(|(r, _)| *r)
        .map(|(_, descriptor)| descriptor.clone())
        .ok_or_else(|| RegistryError::UnsupportedArtifact {
            reference: reference.to_string(),
            detail: "image index has no wasip2/wasip1/wasi or wasm-architecture entry".to_string(),
            media_types: index
                .manifests
                .iter()
                .map(|d| match &d.platform {
                    Some(p) => format!("{} ({}/{})", d.media_type, p.os, p.architecture),
                    None => d.media_type.clone(),
                })
                .collect(),
        })
}

/// The single Wasm layer of an image manifest; other (non-Wasm) layers are ignored.
pub(crate) fn select_wasm_layer(
    manifest: &ImageManifest,
    reference: &str,
) -> Result<Descriptor, RegistryError> {
    let wasm_layers: Vec<&Descriptor> = manifest
        .layers
        .iter()
        .filter(|l| is_wasm_layer(&l.media_type))
        .collect();
    let detail = match wasm_layers.as_slice() {
        [only] => return Ok((*only).clone()),
        [] => "no Wasm layer".to_string(),
        many => format!("{} Wasm layers, exactly one expected", many.len()),
    };
    let mut found = vec![format!("config {}", manifest.config.media_type)];
    found.extend(
        manifest
            .layers
            .iter()
            .map(|l| format!("layer {}", l.media_type)),
    );
    Err(RegistryError::UnsupportedArtifact {
        reference: reference.to_string(),
        detail,
        media_types: found,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn descriptor(media_type: &str, platform: Option<(&str, &str)>) -> Descriptor {
        Descriptor {
            media_type: media_type.to_string(),
            digest: format!("sha256:{}", "0".repeat(64)),
            size: 1,
            platform: platform.map(|(os, architecture)| Platform {
                os: os.to_string(),
                architecture: architecture.to_string(),
            }),
            annotations: None,
        }
    }

    fn manifest(layers: &[&str]) -> ImageManifest {
        ImageManifest {
            schema_version: 2,
            media_type: Some(media_types::OCI_MANIFEST.to_string()),
            config: descriptor(media_types::WASM_CONFIG, None),
            layers: layers.iter().map(|m| descriptor(m, None)).collect(),
        }
    }

    #[test]
    fn one_wasm_layer_among_others_is_chosen() {
        let spin = manifest(&[
            "application/vnd.wasm.content.layer.v1+wasm",
            "application/vnd.wasm.content.bundle.v1.tar+gzip",
        ]);
        let layer = select_wasm_layer(&spin, "r").unwrap();
        assert_eq!(
            layer.media_type,
            "application/vnd.wasm.content.layer.v1+wasm"
        );
    }

    #[test]
    fn two_wasm_layers_are_refused_naming_types() {
        let error = select_wasm_layer(&manifest(&[WASM, WASM]), "r").unwrap_err();
        let text = error.to_string();
        assert!(text.contains("2 Wasm layers"), "{text}");
        assert!(text.contains("layer application/wasm"), "{text}");
    }
    const WASM: &str = media_types::WASM_LAYER;

    #[test]
    fn tar_image_is_refused_naming_types() {
        let error = select_wasm_layer(
            &manifest(&["application/vnd.oci.image.layer.v1.tar+gzip"]),
            "r",
        )
        .unwrap_err();
        assert!(error
            .to_string()
            .contains("application/vnd.oci.image.layer.v1.tar+gzip"));
    }

    #[test]
    fn index_prefers_wasip2_then_wasm_arch() {
        let index = ImageIndex {
            manifests: vec![
                descriptor(media_types::OCI_MANIFEST, Some(("linux", "amd64"))),
                descriptor(media_types::OCI_MANIFEST, Some(("unknown", "wasm"))),
                descriptor(media_types::OCI_MANIFEST, Some(("wasip2", "wasm"))),
            ],
        };
        assert_eq!(
            select_platform(&index, "r").unwrap().platform.unwrap().os,
            "wasip2"
        );
        let linux_only = ImageIndex {
            manifests: vec![descriptor(
                media_types::OCI_MANIFEST,
                Some(("linux", "arm64")),
            )],
        };
        let text = select_platform(&linux_only, "r").unwrap_err().to_string();
        assert!(text.contains("(linux/arm64)"), "{text}");
    }

    #[test]
    fn documents_are_classified_without_content_type() {
        let body = br#"{"schemaVersion":2,"manifests":[]}"#;
        assert!(matches!(
            parse_document(body, None, "r").unwrap().0,
            Document::Index(_)
        ));
        let schema1 = br#"{"schemaVersion":1,"name":"x"}"#;
        assert!(matches!(
            parse_document(
                schema1,
                Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
                "r"
            ),
            Err(RegistryError::UnsupportedArtifact { .. })
        ));
    }
}
