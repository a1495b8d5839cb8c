//! Request paths → what they address.

use crate::resources::{self, Resource};

/// A resource request path, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourcePath {
    pub resource: &'static Resource,
    /// `None` for cluster-scoped resources and all-namespaces lists.
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
    /// The deprecated `/api/v1/watch/…` form.
    pub legacy_watch: bool,
}

/// Every path the server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Version,
    Health,
    CoreVersions,
    Groups,
    GroupVersions { group: String },
    ResourceList { group: String, version: String },
    OpenApiV3Root,
    OpenApiV3Group { path: String },
    Resource(ResourcePath),
    NotFound,
}

pub(crate) fn route(path: &str) -> Route {
    let segments: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    match segments.as_slice() {
        ["version"] => Route::Version,
        ["healthz" | "livez" | "readyz"] => Route::Health,
        ["api"] => Route::CoreVersions,
        ["apis"] => Route::Groups,
        ["openapi", "v3"] => Route::OpenApiV3Root,
        ["openapi", "v3", rest @ ..] if !rest.is_empty() => Route::OpenApiV3Group {
            path: rest.join("/"),
        },
        ["api", "v1"] => Route::ResourceList {
            group: String::new(),
            version: "v1".into(),
        },
        ["apis", group] if is_served_group(group) => Route::GroupVersions {
            group: group.to_string(),
        },
        ["apis", group, version] if is_served_group_version(group, version) => {
            Route::ResourceList {
                group: group.to_string(),
                version: version.to_string(),
            }
        }
        ["api", "v1", rest @ ..] => resource_route("", rest),
        ["apis", group, version, rest @ ..] if is_served_group_version(group, version) => {
            resource_route(group, rest)
        }
        _ => Route::NotFound,
    }
}

fn is_served_group(group: &str) -> bool {
    resources::GROUPS.iter().any(|(g, _)| *g == group)
}

fn is_served_group_version(group: &str, version: &str) -> bool {
    resources::GROUPS
        .iter()
        .any(|(g, v)| *g == group && *v == version)
}

fn resource_route(group: &str, segments: &[&str]) -> Route {
    let (legacy_watch, segments) = match segments {
        ["watch", rest @ ..] => (true, rest),
        _ => (false, segments),
    };
    let lookup = |plural: &str| resources::lookup_in_group(group, plural);
    let path = match segments {
        // namespaces/{ns}/{resource}[/{name}[/{subresource}]]
        ["namespaces", namespace, plural, rest @ ..]
            if lookup(plural).is_some_and(|r| r.namespaced) && rest.len() <= 2 =>
        {
            ResourcePath {
                resource: lookup(plural).expect("checked"),
                namespace: Some(namespace.to_string()),
                name: rest.first().map(|s| s.to_string()),
                subresource: rest.get(1).map(|s| s.to_string()),
                legacy_watch,
            }
        }
        // {resource}[/{name}[/{subresource}]] (cluster-scoped, or all namespaces)
        [plural, rest @ ..] if lookup(plural).is_some() && rest.len() <= 2 => {
            let resource = lookup(plural).expect("checked");
            if resource.namespaced && !rest.is_empty() {
                return Route::NotFound;
            }
            ResourcePath {
                resource,
                namespace: None,
                name: rest.first().map(|s| s.to_string()),
                subresource: rest.get(1).map(|s| s.to_string()),
                legacy_watch,
            }
        }
        _ => return Route::NotFound,
    };
    Route::Resource(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(path: &str) -> ResourcePath {
        match route(path) {
            Route::Resource(p) => p,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn parses_namespaced_cluster_and_legacy_watch_paths() {
        let p = resource("/api/v1/namespaces/default/pods/x/log");
        assert_eq!(p.resource.plural, "pods");
        assert_eq!(p.namespace.as_deref(), Some("default"));
        assert_eq!(p.name.as_deref(), Some("x"));
        assert_eq!(p.subresource.as_deref(), Some("log"));
        let p = resource("/api/v1/namespaces/kube-system");
        assert_eq!(p.resource.plural, "namespaces");
        assert_eq!(p.name.as_deref(), Some("kube-system"));
        let p = resource("/api/v1/namespaces/x/status");
        assert_eq!(p.subresource.as_deref(), Some("status"));
        let p = resource("/api/v1/pods");
        assert!(p.namespace.is_none() && p.name.is_none());
        let p = resource("/api/v1/watch/namespaces/default/pods");
        assert!(p.legacy_watch);
        let p = resource("/apis/apps/v1/namespaces/d/replicasets/r/scale");
        assert_eq!(p.resource.kind, "ReplicaSet");
        assert_eq!(route("/apis/apps/v1/namespaces/d/pods"), Route::NotFound);
        assert_eq!(route("/api/v1/foos"), Route::NotFound);
        assert_eq!(
            route("/openapi/v3/apis/apps/v1"),
            Route::OpenApiV3Group {
                path: "apis/apps/v1".into()
            }
        );
    }
}
