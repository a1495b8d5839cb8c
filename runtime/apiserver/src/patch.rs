//! PATCH bodies: strategic merge patch, JSON merge patch (RFC 7386), JSON patch (RFC 6902).
//! Server-side apply is not served.

use serde_json::Value;
use wasmpod_apimachinery::{
    apply_json_patch, json_merge_patch, strategic_merge_patch, strip_patch_directives, PatchKind,
};

use crate::status_errors::ApiError;

pub(crate) const PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
];

/// A parsed PATCH request body.
#[derive(Debug, Clone)]
pub(crate) enum Patch {
    Strategic(Value),
    Merge(Value),
    Json(Value),
}

impl Patch {
    pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Patch, ApiError> {
        let essence = content_type
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim();
        let parse = || -> Result<Value, ApiError> {
            serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))
        };
        match essence {
            "application/strategic-merge-patch+json" => Ok(Patch::Strategic(parse()?)),
            "application/merge-patch+json" => Ok(Patch::Merge(parse()?)),
            "application/json-patch+json" => Ok(Patch::Json(parse()?)),
            other => Err(ApiError::unsupported_media_type(other, PATCH_TYPES)),
        }
    }

    /// The patched object; `kind` picks the strategic-merge metadata.
    pub fn apply(&self, kind: &str, current: &Value) -> Result<Value, ApiError> {
        match self {
            Patch::Strategic(patch) => {
                let mut patched =
                    strategic_merge_patch(current, patch, PatchKind::from_kind(kind).schema())
                        .map_err(|e| status(e.http_status(), e.to_string()))?;
                strip_patch_directives(&mut patched);
                Ok(patched)
            }
            Patch::Merge(patch) => {
                json_merge_patch(current, patch).map_err(|e| status(e.http_status(), e.to_string()))
            }
            Patch::Json(patch) => {
                apply_json_patch(current, patch).map_err(|e| status(e.http_status(), e.to_string()))
            }
        }
    }
}

fn status(code: u16, message: String) -> ApiError {
    match code {
        400 => ApiError::bad_request(message),
        422 => ApiError {
            code: 422,
            reason: "Invalid".into(),
            message,
            details: None,
        },
        _ => ApiError::internal(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategic_patch_merges_containers_by_name() {
        let current = json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}});
        let patch = Patch::parse(
            Some("application/strategic-merge-patch+json"),
            br#"{"spec":{"containers":[{"name":"b","image":"z"}]}}"#,
        )
        .unwrap();
        let patched = patch.apply("Pod", &current).unwrap();
        assert_eq!(patched["spec"]["containers"][0]["image"], "x");
        assert_eq!(patched["spec"]["containers"][1]["image"], "z");
    }

    #[test]
    fn apply_patch_is_unsupported_media_type() {
        let error = Patch::parse(Some("application/apply-patch+yaml"), b"{}").unwrap_err();
        assert_eq!(error.code, 415);
        assert!(error
            .message
            .contains("application/strategic-merge-patch+json"));
    }
}
