//! Typed registry errors, plus the text containerd's CRI plugin would put after the
//! kubelet's `Failed to pull image "<image>": ` for the same failure.

use std::collections::BTreeSet;

use wasmpod_reference::{Reference, ReferenceError};

/// Which part of an operation failed; containerd wraps each stage's error differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Turning the reference into a manifest digest (`HEAD`/`GET /v2/<name>/manifests/<ref>`).
    Resolve,
    /// Fetching a manifest, config or layer by digest.
    Fetch,
    /// Uploading blobs or the manifest.
    Push,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("invalid image reference {image:?}: {source}")]
    InvalidReference {
        image: String,
        source: ReferenceError,
    },
    /// The tag or digest does not exist (`reference` is the normalized name), or a blob
    /// the manifest names is missing (`url` is set).
    #[error("{}", not_found_text(.reference, .url.as_deref()))]
    NotFound {
        reference: String,
        url: Option<String>,
    },
    /// The registry answered 401 (or 403) to a request even after the credential was offered.
    #[error("unexpected status from {method} request to {url}: {status}")]
    Unauthorized {
        stage: Stage,
        method: String,
        url: String,
        status: String,
    },
    /// Any other non-success HTTP status.
    #[error("unexpected status from {method} request to {url}: {status}")]
    UnexpectedStatus {
        stage: Stage,
        method: String,
        url: String,
        status: String,
    },
    /// Content whose sha256 is not the digest that named it: refused, never returned.
    #[error("digest mismatch for {ref_key}: expected {expected}, content hashes to {actual}")]
    DigestMismatch {
        /// containerd's content-store key: `manifest-sha256:…`, `layer-sha256:…`, `unknown-sha256:…`.
        ref_key: String,
        expected: String,
        actual: String,
    },
    /// The manifest is readable but carries no layout wasmpod runs (see the crate docs).
    #[error("unsupported artifact {reference}: {detail} (media types found: {})", .media_types.join(", "))]
    UnsupportedArtifact {
        reference: String,
        detail: String,
        media_types: Vec<String>,
    },
    /// Connecting, TLS, or reading a response failed, or the registry sent malformed data.
    #[error("{message}")]
    Transport { stage: Stage, message: String },
    /// A Docker config / pull secret could not be parsed.
    #[error("invalid docker config: {0}")]
    InvalidDockerConfig(String),
    /// Every matching credential was tried and each failed (the kubelet's error aggregate).
    #[error("{}", aggregate_text(.0.iter().map(|e| e.to_string())))]
    AllCredentialsFailed(Vec<RegistryError>),
}

fn not_found_text(reference: &str, url: Option<&str>) -> String {
    match url {
        Some(url) => format!("content at {url} not found: not found"),
        None => format!("{reference}: not found"),
    }
}

/// `utilerrors.NewAggregate(...).Error()`: one distinct message alone, several in brackets.
fn aggregate_text(messages: impl Iterator<Item = String>) -> String {
    let mut seen = BTreeSet::new();
    let mut distinct = Vec::new();
    for message in messages {
        if seen.insert(message.clone()) {
            distinct.push(message);
        }
    }
    if distinct.len() == 1 {
        distinct.remove(0)
    } else {
        format!("[{}]", distinct.join(", "))
    }
}

impl RegistryError {
    /// True when the image (tag, digest or blob) does not exist.
    pub fn is_not_found(&self) -> bool {
        match self {
            RegistryError::NotFound { .. } => true,
            RegistryError::AllCredentialsFailed(errors) => errors.iter().all(Self::is_not_found),
            _ => false,
        }
    }

    /// True when the registry refused the credentials (or their absence).
    pub fn is_unauthorized(&self) -> bool {
        match self {
            RegistryError::Unauthorized { .. } => true,
            RegistryError::AllCredentialsFailed(errors) => errors.iter().all(Self::is_unauthorized),
            _ => false,
        }
    }

    /// The message the kubelet shows after `Failed to pull image "<image>": `, as
    /// containerd 1.7/2.x's CRI plugin words it (`rpc error: code = … desc = …`).
    pub fn kubelet_message(&self, image: &str) -> String {
        if let RegistryError::AllCredentialsFailed(errors) = self {
            return aggregate_text(errors.iter().map(|e| e.kubelet_message(image)));
        }
        let reference = match Reference::parse(image) {
            Ok(reference) => reference.to_string(),
            Err(error) => {
                return format!(
                    "rpc error: code = Unknown desc = failed to parse image reference {image:?}: {error}"
                )
            }
        };
        let (code, detail) = self.containerd_detail(&reference);
        format!("rpc error: code = {code} desc = failed to pull and unpack image {reference:?}: {detail}")
    }

    /// The gRPC code containerd's `errgrpc.ToGRPC` picks and the error text below
    /// `failed to pull and unpack image "<ref>": `.
    fn containerd_detail(&self, reference: &str) -> (&'static str, String) {
        let resolve = |inner: String| format!("failed to resolve reference {reference:?}: {inner}");
        // remotes/docker/httpreadseeker.go + content.Copy wrap blob fetch errors this way.
        let fetch = |inner: String| format!("failed to copy: httpReadSeeker: failed open: {inner}");
        let staged = |stage: Stage, inner: String| match stage {
            Stage::Resolve => resolve(inner),
            Stage::Fetch | Stage::Push => fetch(inner),
        };
        match self {
            RegistryError::NotFound { url: None, .. } => ("NotFound", resolve(self.to_string())),
            RegistryError::NotFound { url: Some(_), .. } => ("NotFound", fetch(self.to_string())),
            RegistryError::Unauthorized { stage, .. } | RegistryError::UnexpectedStatus { stage, .. } => {
                ("Unknown", staged(*stage, self.to_string()))
            }
            RegistryError::Transport { stage, message } => ("Unknown", staged(*stage, message.clone())),
            RegistryError::DigestMismatch {
                ref_key,
                expected,
                actual,
            } => (
                "FailedPrecondition",
                format!(
                    "failed commit on ref {ref_key:?}: unexpected commit digest {actual}, expected {expected}: failed precondition"
                ),
            ),
            RegistryError::UnsupportedArtifact { .. } => ("Unknown", self.to_string()),
            RegistryError::InvalidReference { image, source } => {
                ("Unknown", format!("failed to parse image reference {image:?}: {source}"))
            }
            RegistryError::InvalidDockerConfig(_) => ("Unknown", self.to_string()),
            RegistryError::AllCredentialsFailed(_) => ("Unknown", self.to_string()),
        }
    }
}

/// Go's `resp.Status`: `401 Unauthorized`.
pub(crate) fn status_text(status: http::StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// Go's `url.Error` spells the method with one capital: `Head "http://…"`.
pub(crate) fn go_method(method: &http::Method) -> String {
    let text = method.as_str();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => {
            first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
        }
        None => String::new(),
    }
}
