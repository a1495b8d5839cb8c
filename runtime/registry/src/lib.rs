//! Pull and push WebAssembly components stored as OCI artifacts.
//!
//! # Artifact layouts accepted on pull
//!
//! A reference may name an image manifest (OCI `application/vnd.oci.image.manifest.v1+json`
//! or Docker `application/vnd.docker.distribution.manifest.v2+json`) or an image index
//! (OCI `application/vnd.oci.image.index.v1+json` or Docker manifest list).
//!
//! - **CNCF Wasm OCI artifact** (wkg / wasm-pkg-tools, `oci-wasm`, runwasi
//!   `oci-tar-builder --as-artifact`): config `application/vnd.wasm.config.v0+json`, one
//!   layer `application/wasm`.
//! - **runwasi / containerd-shim-wasm images**: OCI image config
//!   (`os: wasip1`, `architecture: wasm`) with layers
//!   `application/vnd.bytecodealliance.wasm.component.layer.v0+wasm` (what runwasi's
//!   `oci-tar-builder` writes and the shim's default `supported_layers_types`), and the
//!   older `application/vnd.w3c.wasm.module.v1+wasm` / `application/vnd.wasm.component.v1+wasm`.
//! - **Spin / wasm-to-oci**: layers `application/vnd.wasm.content.layer.v1+wasm`.
//! - **Image index**: the entry whose platform `os` is `wasip2`, else `wasip1`, else
//!   `wasi`, else whose `architecture` is `wasm`.
//!
//! The manifest must carry exactly one layer of the Wasm media types above (any config
//! type; other non-Wasm layers, such as Spin's static-file bundles, are ignored).
//! Anything else — a tar-layer container image, several Wasm layers, an index without a
//! Wasm platform, Docker schema 1 — is refused with [`RegistryError::UnsupportedArtifact`]
//! naming the media types found.
//!
//! # Integrity
//!
//! Every manifest, index, config and layer is fetched by digest and its sha256 checked
//! before use; a mismatch is [`RegistryError::DigestMismatch`]. Pull by `@sha256:…`
//! checks the manifest against the reference's digest.
//!
//! # Push
//!
//! [`RegistryClient::push`] writes the CNCF layout: config
//! `{"architecture":"wasm","os":"wasip2"|"wasip1","layerDigests":[…],"created":"1970-01-01T00:00:00Z"}`
//! (fixed `created`, so the same component always gets the same manifest digest), one
//! `application/wasm` layer, OCI manifest.
//!
//! # Credentials
//!
//! [`Keyring`] matches registry credentials to images like the kubelet's
//! credentialprovider; pull, resolve and push try each matching credential in turn and
//! return the kubelet's aggregate of the failures; with no match they go anonymous.
//! TLS uses rustls with the ring provider and Mozilla's roots;
//! [`RegistryOptions::insecure_registries`] names plain-HTTP registries.

mod client;
mod digest;
mod error;
mod keyring;
mod layout;
pub mod media_types;
mod pull;
mod push;
mod session;
#[cfg(feature = "testing")]
pub mod testing;
mod transport;

pub use client::{PullProgress, PulledArtifact, PushedArtifact, RegistryClient, RegistryOptions};
pub use error::{RegistryError, Stage};
pub use keyring::{Credential, Keyring};
