//! Bearer-token authentication (kube-apiserver's static token file, one token).

use http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::status_errors::ApiError;

/// Ok when no token is configured or the request carries `Authorization: Bearer <token>`.
pub(crate) fn authenticate(expected: Option<&str>, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let presented = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    match presented {
        // Compare digests so the comparison time does not depend on the token's prefix.
        Some(token) if Sha256::digest(token.as_bytes()) == Sha256::digest(expected.as_bytes()) => {
            Ok(())
        }
        _ => Err(ApiError::unauthorized()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requires_the_configured_bearer_token() {
        let mut headers = HeaderMap::new();
        assert!(authenticate(None, &headers).is_ok());
        assert_eq!(
            authenticate(Some("s3cret"), &headers).unwrap_err().code,
            401
        );
        headers.insert(http::header::AUTHORIZATION, "Bearer wrong".parse().unwrap());
        assert_eq!(
            authenticate(Some("s3cret"), &headers).unwrap_err().reason,
            "Unauthorized"
        );
        headers.insert(
            http::header::AUTHORIZATION,
            "Bearer s3cret".parse().unwrap(),
        );
        assert!(authenticate(Some("s3cret"), &headers).is_ok());
    }
}
