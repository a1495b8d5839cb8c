//! Which resources can be printed, and the `includeObject` table option.

use std::str::FromStr;

use crate::error::TableError;

/// A resource kind with a kube-apiserver table printer in this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    Pod,
    Event,
    ReplicaSet,
    Deployment,
    ReplicationController,
    ConfigMap,
    Secret,
    Namespace,
    Service,
    Endpoints,
    Node,
    Lease,
    EndpointSlice,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 13] = [
        ResourceKind::Pod,
        ResourceKind::Event,
        ResourceKind::ReplicaSet,
        ResourceKind::Deployment,
        ResourceKind::ReplicationController,
        ResourceKind::ConfigMap,
        ResourceKind::Secret,
        ResourceKind::Namespace,
        ResourceKind::Service,
        ResourceKind::Endpoints,
        ResourceKind::Node,
        ResourceKind::Lease,
        ResourceKind::EndpointSlice,
    ];

    /// The kind from the plural resource name of a request path (`pods`, `replicasets`, …).
    pub fn from_resource(resource: &str) -> Option<ResourceKind> {
        Some(match resource {
            "pods" => ResourceKind::Pod,
            "events" => ResourceKind::Event,
            "replicasets" => ResourceKind::ReplicaSet,
            "deployments" => ResourceKind::Deployment,
            "replicationcontrollers" => ResourceKind::ReplicationController,
            "configmaps" => ResourceKind::ConfigMap,
            "secrets" => ResourceKind::Secret,
            "namespaces" => ResourceKind::Namespace,
            "services" => ResourceKind::Service,
            "endpoints" => ResourceKind::Endpoints,
            "nodes" => ResourceKind::Node,
            "leases" => ResourceKind::Lease,
            "endpointslices" => ResourceKind::EndpointSlice,
            _ => return None,
        })
    }

    /// The object's `kind`.
    pub fn kind(self) -> &'static str {
        match self {
            ResourceKind::Pod => "Pod",
            ResourceKind::Event => "Event",
            ResourceKind::ReplicaSet => "ReplicaSet",
            ResourceKind::Deployment => "Deployment",
            ResourceKind::ReplicationController => "ReplicationController",
            ResourceKind::ConfigMap => "ConfigMap",
            ResourceKind::Secret => "Secret",
            ResourceKind::Namespace => "Namespace",
            ResourceKind::Service => "Service",
            ResourceKind::Endpoints => "Endpoints",
            ResourceKind::Node => "Node",
            ResourceKind::Lease => "Lease",
            ResourceKind::EndpointSlice => "EndpointSlice",
        }
    }

    /// The object's `apiVersion` as served (`v1` core, `apps/v1`).
    pub fn api_version(self) -> &'static str {
        match self {
            ResourceKind::ReplicaSet | ResourceKind::Deployment => "apps/v1",
            _ => "v1",
        }
    }
}

/// `TableOptions.includeObject`: what each row's `object` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    /// `object: null`.
    None,
    /// A `meta.k8s.io/v1` `PartialObjectMetadata` (the default, and what kubectl gets).
    #[default]
    Metadata,
    /// The full object in its served version.
    Object,
}

impl IncludeObject {
    /// From the optional `includeObject` query parameter (absent or empty = `Metadata`).
    pub fn from_query(value: Option<&str>) -> Result<IncludeObject, TableError> {
        value.unwrap_or("").parse()
    }
}

impl FromStr for IncludeObject {
    type Err = TableError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "None" => Ok(IncludeObject::None),
            "Metadata" | "" => Ok(IncludeObject::Metadata),
            "Object" => Ok(IncludeObject::Object),
            other => Err(TableError::UnknownIncludeObject(other.to_string())),
        }
    }
}
