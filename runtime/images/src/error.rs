use std::path::PathBuf;
use std::process::ExitStatus;

use crate::toolchain::TARGET_MISSING_MESSAGE;
use wasmpod_reference::ReferenceError;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Worded like the kubelet's `InvalidImageName` message.
    #[error("couldn't parse image name {reference:?}: {source}")]
    InvalidReference {
        reference: String,
        source: ReferenceError,
    },
    #[error("No such image: {0}")]
    NotFound(String),
    #[error(
        "{file:?} is a core WebAssembly module, not a component: build with --target wasm32-wasip2 (or run wasm-tools component new)"
    )]
    CoreModule { file: String },
    #[error("{file:?} is not a WebAssembly file")]
    NotWasm { file: String },
    #[error("{reference}: content digest is {actual}, not the {expected} named in the reference")]
    DigestMismatch {
        reference: String,
        expected: String,
        actual: String,
    },
    #[error("refusing to create a tag with a digest reference: {0}")]
    TagWithDigest(String),
    #[error("image ID prefix {0:?} matches more than one image")]
    AmbiguousId(String),
    #[error(
        "conflict: unable to delete {short_id} (must be forced) - image is referenced in multiple repositories"
    )]
    ReferencedInMultipleRepositories { short_id: String },
    #[error("{context} {path}: {source}")]
    Io {
        context: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("image index {path} is corrupt: {source}")]
    CorruptIndex {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{}", TARGET_MISSING_MESSAGE)]
    WasiTargetMissing,
    #[error("could not run cargo in {dir}: {source}")]
    CargoSpawn {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cargo build in {dir} failed ({status})")]
    BuildFailed { dir: PathBuf, status: ExitStatus },
    #[error("cargo build in {dir} produced no .wasm component (is it a cdylib or bin crate?)")]
    NoBuildArtifact { dir: PathBuf },
    #[error(
        "cargo build in {dir} produced several components ({}): run the build in the directory of the crate you want",
        names.join(", ")
    )]
    SeveralBuildArtifacts { dir: PathBuf, names: Vec<String> },
}

impl ImageError {
    pub(crate) fn io(
        context: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> ImageError {
        let path = path.into();
        move |source| ImageError::Io {
            context,
            path,
            source,
        }
    }

    pub(crate) fn invalid_reference(
        reference: &str,
    ) -> impl FnOnce(ReferenceError) -> ImageError + '_ {
        move |source| ImageError::InvalidReference {
            reference: reference.to_string(),
            source,
        }
    }
}
