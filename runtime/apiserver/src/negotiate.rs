//! Content negotiation: which representation the `Accept` header asks for, and which body
//! formats `Content-Type` allows.

use serde_json::Value;

use crate::status_errors::ApiError;

pub(crate) const TABLE_CONTENT_TYPE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";
pub(crate) const DISCOVERY_V2_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// What a resource request's `Accept` selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Representation {
    Object,
    Table,
}

struct MediaRange<'a> {
    essence: &'a str,
    params: Vec<(&'a str, &'a str)>,
}

impl MediaRange<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

fn media_ranges(accept: &str) -> Vec<MediaRange<'_>> {
    accept
        .split(',')
        .map(|range| {
            let mut parts = range.split(';').map(str::trim);
            let essence = parts.next().unwrap_or("");
            let params = parts
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k.trim(), v.trim()))
                .collect();
            MediaRange { essence, params }
        })
        .collect()
}

fn is_json(essence: &str) -> bool {
    matches!(essence, "application/json" | "application/*" | "*/*" | "")
}

/// The first acceptable representation in `Accept` order (kube-apiserver's negotiation).
pub(crate) fn representation(accept: Option<&str>) -> Result<Representation, ApiError> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Ok(Representation::Object);
    };
    for range in media_ranges(accept) {
        if !is_json(range.essence) && range.essence != "application/yaml" {
            continue;
        }
        match range.param("as") {
            None => return Ok(Representation::Object),
            Some("Table") if range.param("g") == Some("meta.k8s.io") => {
                if matches!(range.param("v"), Some("v1" | "v1beta1")) {
                    return Ok(Representation::Table);
                }
            }
            Some(_) => {}
        }
    }
    Err(ApiError::not_acceptable())
}

/// Does `Accept` ask for aggregated discovery (`APIGroupDiscoveryList` v2)?
pub(crate) fn wants_aggregated_discovery(accept: Option<&str>) -> bool {
    let Some(accept) = accept else {
        return false;
    };
    for range in media_ranges(accept) {
        match range.param("as") {
            Some("APIGroupDiscoveryList")
                if range.param("g") == Some("apidiscovery.k8s.io")
                    && range.param("v") == Some("v2") =>
            {
                return true
            }
            None if is_json(range.essence) => return false,
            _ => {}
        }
    }
    false
}

/// Decodes a create/update body (JSON or YAML).
pub(crate) fn decode_body(
    content_type: Option<&str>,
    kind: &str,
    body: &[u8],
) -> Result<Value, ApiError> {
    let essence = content_type
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or("")
        .trim();
    match essence {
        "application/json" | "" => serde_json::from_slice(body).map_err(|error| {
            ApiError::bad_request(format!(
                "couldn't get version/kind; json parse error: {error}"
            ))
        }),
        "application/yaml" => serde_yaml::from_slice(body).map_err(|error| {
            ApiError::bad_request(format!(
                "couldn't get version/kind; yaml parse error: {error}"
            ))
        }),
        crate::protobuf::PROTOBUF => crate::protobuf::decode(kind, body),
        other => Err(ApiError::unsupported_media_type(
            other,
            &[
                "application/json",
                "application/yaml",
                "application/vnd.kubernetes.protobuf",
            ],
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_get_accept_selects_table() {
        let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(representation(Some(accept)).unwrap(), Representation::Table);
        assert_eq!(
            representation(Some("application/json")).unwrap(),
            Representation::Object
        );
        assert_eq!(representation(None).unwrap(), Representation::Object);
        assert_eq!(
            representation(Some("application/vnd.kubernetes.protobuf"))
                .unwrap_err()
                .code,
            406
        );
    }

    #[test]
    fn discovery_accept() {
        let accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert!(wants_aggregated_discovery(Some(accept)));
        assert!(!wants_aggregated_discovery(Some("application/json")));
    }
}
