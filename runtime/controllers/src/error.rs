//! Why a sync failed; every failure is retried with back-off.

use wasmpod_apiserver::ApiError;

#[derive(Debug, thiserror::Error)]
pub(crate) enum ControllerError {
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The object is not what the controller can work with.
    #[error("{0}")]
    Invalid(String),
    /// Creating or deleting a pod failed; the text is what the ReplicaFailure condition shows.
    #[error("{0}")]
    PodControl(String),
}

pub(crate) type Result<T> = std::result::Result<T, ControllerError>;
