//! Errors of one controller step. Controllers never stop on them: a failed step is retried on
//! the next pass (level-triggered), as client-go controllers requeue.

use wasmpod_apiserver::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("API request failed: {0}")]
    Api(#[from] ApiError),
    #[error("object {what} does not decode: {source}")]
    Decode {
        what: String,
        source: serde_json::Error,
    },
    #[error("gave up on {what} after {attempts} conflicting writes")]
    Conflicts { what: String, attempts: usize },
}

impl ClusterError {
    /// The object no longer exists (404).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ClusterError::Api(error) if error.code == 404)
    }

    /// A compare-and-swap lost a race or a precondition failed (409).
    pub fn is_conflict(&self) -> bool {
        matches!(self, ClusterError::Api(error) if error.code == 409)
    }
}
