//! The registry of served resources: names, scope, storage layout, discovery metadata.

mod admission;
mod pod_status;
mod typed;

pub(crate) use admission::{admit, Operation};
pub(crate) use typed::{normalize, FieldValidation};

/// Which subresource families a resource has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subresources {
    pub status: bool,
    pub scale: bool,
    pub log: bool,
}

/// One served resource (kube-apiserver's `APIResource` plus its storage strategy).
#[derive(Debug, PartialEq, Eq)]
pub struct Resource {
    /// Plural name in paths (`pods`).
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    /// API group ("" = core).
    pub group: &'static str,
    pub version: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    /// Path under `/registry/` (RCs live under `controllers`, services under `services/specs`).
    pub storage_prefix: &'static str,
    pub subresources: Subresources,
    /// `metadata.generation` is set on create and bumped when `spec` changes.
    pub tracks_generation: bool,
    /// DELETE answers with the deleted object rather than a `Status` (`ReturnDeletedObject`).
    pub delete_returns_object: bool,
}

const NONE: Subresources = Subresources {
    status: false,
    scale: false,
    log: false,
};
const STATUS: Subresources = Subresources {
    status: true,
    scale: false,
    log: false,
};
const SCALABLE: Subresources = Subresources {
    status: true,
    scale: true,
    log: false,
};

/// Every resource wasmpod serves, in discovery order.
pub static RESOURCES: &[Resource] = &[
    Resource {
        plural: "configmaps",
        singular: "configmap",
        kind: "ConfigMap",
        group: "",
        version: "v1",
        namespaced: true,
        short_names: &["cm"],
        categories: &[],
        storage_prefix: "configmaps",
        subresources: NONE,
        tracks_generation: false,
        delete_returns_object: false,
    },
    Resource {
        plural: "endpoints",
        singular: "endpoints",
        kind: "Endpoints",
        group: "",
        version: "v1",
        namespaced: true,
        short_names: &["ep"],
        categories: &[],
        storage_prefix: "services/endpoints",
        subresources: NONE,
        tracks_generation: false,
        delete_returns_object: false,
    },
    Resource {
        plural: "events",
        singular: "event",
        kind: "Event",
        group: "",
        version: "v1",
        namespaced: true,
        short_names: &["ev"],
        categories: &[],
        storage_prefix: "events",
        subresources: NONE,
        tracks_generation: false,
        delete_returns_object: false,
    },
    Resource {
        plural: "namespaces",
        singular: "namespace",
        kind: "Namespace",
        group: "",
        version: "v1",
        namespaced: false,
        short_names: &["ns"],
        categories: &[],
        storage_prefix: "namespaces",
        subresources: STATUS,
        tracks_generation: false,
        delete_returns_object: true,
    },
    Resource {
        plural: "nodes",
        singular: "node",
        kind: "Node",
        group: "",
        version: "v1",
        namespaced: false,
        short_names: &["no"],
        categories: &[],
        // kube-apiserver keeps nodes under their pre-1.0 name.
        storage_prefix: "minions",
        subresources: STATUS,
        tracks_generation: false,
        delete_returns_object: false,
    },
    Resource {
        plural: "pods",
        singular: "pod",
        kind: "Pod",
        group: "",
        version: "v1",
        namespaced: true,
        short_names: &["po"],
        categories: &["all"],
        storage_prefix: "pods",
        subresources: Subresources {
            status: true,
            scale: false,
            log: true,
        },
        tracks_generation: true,
        delete_returns_object: true,
    },
    Resource {
        plural: "replicationcontrollers",
        singular: "replicationcontroller",
        kind: "ReplicationController",
        group: "",
        version: "v1",
        namespaced: true,
        short_names: &["rc"],
        categories: &["all"],
        storage_prefix: "controllers",
        subresources: SCALABLE,
        tracks_generation: true,
        delete_returns_object: false,
    },
    Resource {
        plural: "secrets",
        singular: "secret",
        kind: "Secret",
        group: "",
        version: "v1",
        namespaced: true,
        short_names: &[],
        categories: &[],
        storage_prefix: "secrets",
        subresources: NONE,
        tracks_generation: false,
        delete_returns_object: false,
    },
    Resource {
        plural: "services",
        singular: "service",
        kind: "Service",
        group: "",
        version: "v1",
        namespaced: true,
        short_names: &["svc"],
        categories: &["all"],
        storage_prefix: "services/specs",
        subresources: STATUS,
        tracks_generation: false,
        delete_returns_object: true,
    },
    Resource {
        plural: "deployments",
        singular: "deployment",
        kind: "Deployment",
        group: "apps",
        version: "v1",
        namespaced: true,
        short_names: &["deploy"],
        categories: &["all"],
        storage_prefix: "deployments",
        subresources: SCALABLE,
        tracks_generation: true,
        delete_returns_object: false,
    },
    Resource {
        plural: "replicasets",
        singular: "replicaset",
        kind: "ReplicaSet",
        group: "apps",
        version: "v1",
        namespaced: true,
        short_names: &["rs"],
        categories: &["all"],
        storage_prefix: "replicasets",
        subresources: SCALABLE,
        tracks_generation: true,
        delete_returns_object: false,
    },
    Resource {
        plural: "leases",
        singular: "lease",
        kind: "Lease",
        group: "coordination.k8s.io",
        version: "v1",
        namespaced: true,
        short_names: &[],
        categories: &[],
        storage_prefix: "leases",
        subresources: NONE,
        tracks_generation: false,
        delete_returns_object: false,
    },
    Resource {
        plural: "endpointslices",
        singular: "endpointslice",
        kind: "EndpointSlice",
        group: "discovery.k8s.io",
        version: "v1",
        namespaced: true,
        short_names: &[],
        categories: &[],
        storage_prefix: "endpointslices",
        subresources: NONE,
        tracks_generation: true,
        delete_returns_object: false,
    },
];

/// The API groups served besides core, with their versions (autoscaling only for `Scale`).
pub static GROUPS: &[(&str, &str)] = &[
    ("apps", "v1"),
    ("autoscaling", "v1"),
    ("coordination.k8s.io", "v1"),
    ("discovery.k8s.io", "v1"),
];

/// The resource with this plural name, if served.
pub fn lookup(plural: &str) -> Option<&'static Resource> {
    RESOURCES.iter().find(|r| r.plural == plural)
}

/// The resource served at `plural` in `group`.
pub fn lookup_in_group(group: &str, plural: &str) -> Option<&'static Resource> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.plural == plural)
}

/// The resources of one group/version.
pub fn in_group_version<'a>(
    group: &'a str,
    version: &'a str,
) -> impl Iterator<Item = &'static Resource> + 'a {
    RESOURCES
        .iter()
        .filter(move |r| r.group == group && r.version == version)
}

impl Resource {
    /// `GroupResource.String()`: `pods`, `replicasets.apps`.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The object's `apiVersion`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn table_kind(&self) -> Option<wasmpod_tables::ResourceKind> {
        wasmpod_tables::ResourceKind::from_resource(self.plural)
    }

    /// The storage prefix of every object of this resource, or of those in `namespace`.
    pub fn list_prefix(&self, namespace: Option<&str>) -> String {
        match namespace.filter(|_| self.namespaced) {
            Some(namespace) => format!("/registry/{}/{namespace}/", self.storage_prefix),
            None => format!("/registry/{}/", self.storage_prefix),
        }
    }

    /// The storage key of one object.
    pub fn key(&self, namespace: Option<&str>, name: &str) -> String {
        format!("{}{name}", self.list_prefix(namespace))
    }
}

impl Resource {
    /// The `autoscaling/v1` Scale pseudo-resource, for error messages.
    pub fn scale() -> Resource {
        Resource {
            plural: "scale",
            singular: "scale",
            kind: "Scale",
            group: "autoscaling",
            version: "v1",
            namespaced: true,
            short_names: &[],
            categories: &[],
            storage_prefix: "",
            subresources: NONE,
            tracks_generation: false,
            delete_returns_object: false,
        }
    }
}
