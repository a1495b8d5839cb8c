//! `TableColumnDefinition`s of each printer, as registered by `AddHandlers`
//! (`pkg/printers/internalversion/printers.go`, v1.33).

use serde_json::{json, Value};

use crate::docs::*;
use crate::kind::ResourceKind;

/// `metav1.TableColumnDefinition`. Every field is always serialised (no `omitempty`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnDefinition {
    pub name: &'static str,
    /// OpenAPI type: `string` or `integer` here.
    pub type_: &'static str,
    /// `name` for the object-name column, else empty.
    pub format: &'static str,
    pub description: &'static str,
    /// 0 = always shown; 1 = only with `-o wide` (kubectl filters, the server sends all).
    pub priority: i32,
}

impl ColumnDefinition {
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.type_,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

const fn column(
    name: &'static str,
    type_: &'static str,
    description: &'static str,
    priority: i32,
) -> ColumnDefinition {
    ColumnDefinition {
        name,
        type_,
        format: "",
        description,
        priority,
    }
}

const NAME: ColumnDefinition = ColumnDefinition {
    name: "Name",
    type_: "string",
    format: "name",
    description: META_NAME,
    priority: 0,
};
const AGE: ColumnDefinition = column("Age", "string", META_CREATION_TIMESTAMP, 0);
const CONTAINERS: ColumnDefinition = column(
    "Containers",
    "string",
    "Names of each container in the template.",
    1,
);
const IMAGES: ColumnDefinition = column(
    "Images",
    "string",
    "Images referenced by each container in the template.",
    1,
);

const POD: [ColumnDefinition; 9] = [
    NAME,
    column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic.", 0),
    column("Status", "string", "The aggregate status of the containers in this pod.", 0),
    column("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", 0),
    AGE,
    column("IP", "string", POD_STATUS_POD_IP, 1),
    column("Node", "string", POD_SPEC_NODE_NAME, 1),
    column("Nominated Node", "string", POD_STATUS_NOMINATED_NODE_NAME, 1),
    column("Readiness Gates", "string", POD_SPEC_READINESS_GATES, 1),
];

const REPLICATION_CONTROLLER: [ColumnDefinition; 8] = [
    NAME,
    column("Desired", "integer", RC_SPEC_REPLICAS, 0),
    column("Current", "integer", RC_STATUS_REPLICAS, 0),
    column("Ready", "integer", RC_STATUS_READY_REPLICAS, 0),
    AGE,
    CONTAINERS,
    IMAGES,
    column("Selector", "string", RC_SPEC_SELECTOR, 1),
];

const REPLICA_SET: [ColumnDefinition; 8] = [
    NAME,
    column("Desired", "integer", EXT_REPLICA_SET_SPEC_REPLICAS, 0),
    column("Current", "integer", EXT_REPLICA_SET_STATUS_REPLICAS, 0),
    column("Ready", "integer", EXT_REPLICA_SET_STATUS_READY_REPLICAS, 0),
    AGE,
    CONTAINERS,
    IMAGES,
    column("Selector", "string", EXT_REPLICA_SET_SPEC_SELECTOR, 1),
];

const DEPLOYMENT: [ColumnDefinition; 8] = [
    NAME,
    column("Ready", "string", "Number of the pod with ready state", 0),
    column(
        "Up-to-date",
        "string",
        EXT_DEPLOYMENT_STATUS_UPDATED_REPLICAS,
        0,
    ),
    column(
        "Available",
        "string",
        EXT_DEPLOYMENT_STATUS_AVAILABLE_REPLICAS,
        0,
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    column("Selector", "string", EXT_DEPLOYMENT_SPEC_SELECTOR, 1),
];

const SERVICE: [ColumnDefinition; 7] = [
    NAME,
    column("Type", "string", SERVICE_SPEC_TYPE, 0),
    column("Cluster-IP", "string", SERVICE_SPEC_CLUSTER_IP, 0),
    column("External-IP", "string", SERVICE_SPEC_EXTERNAL_IPS, 0),
    column("Port(s)", "string", SERVICE_SPEC_PORTS, 0),
    AGE,
    column("Selector", "string", SERVICE_SPEC_SELECTOR, 1),
];

const ENDPOINTS: [ColumnDefinition; 3] = [
    NAME,
    column("Endpoints", "string", ENDPOINTS_SUBSETS, 0),
    AGE,
];

const LEASE: [ColumnDefinition; 3] = [
    NAME,
    column("Holder", "string", "Name of the Lease holder", 0),
    AGE,
];

const ENDPOINT_SLICE: [ColumnDefinition; 5] = [
    NAME,
    column(
        "AddressType",
        "string",
        "Type of address held by this EndpointSlice",
        0,
    ),
    column("Ports", "string", "Ports held by this EndpointSlice", 0),
    column(
        "Endpoints",
        "string",
        "Endpoints held by this EndpointSlice",
        0,
    ),
    AGE,
];

const NODE: [ColumnDefinition; 10] = [
    NAME,
    column("Status", "string", "The status of the node", 0),
    column("Roles", "string", "The roles of the node", 0),
    AGE,
    column("Version", "string", NODE_INFO_KUBELET_VERSION, 0),
    column("Internal-IP", "string", NODE_STATUS_ADDRESSES, 1),
    column("External-IP", "string", NODE_STATUS_ADDRESSES, 1),
    column("OS-Image", "string", NODE_INFO_OS_IMAGE, 1),
    column("Kernel-Version", "string", NODE_INFO_KERNEL_VERSION, 1),
    column(
        "Container-Runtime",
        "string",
        NODE_INFO_CONTAINER_RUNTIME_VERSION,
        1,
    ),
];

const EVENT: [ColumnDefinition; 10] = [
    column("Last Seen", "string", EVENT_LAST_TIMESTAMP, 0),
    column("Type", "string", EVENT_TYPE, 0),
    column("Reason", "string", EVENT_REASON, 0),
    column("Object", "string", EVENT_INVOLVED_OBJECT, 0),
    column("Subobject", "string", OBJECT_REFERENCE_FIELD_PATH, 1),
    column("Source", "string", EVENT_SOURCE, 1),
    column("Message", "string", EVENT_MESSAGE, 0),
    column("First Seen", "string", EVENT_FIRST_TIMESTAMP, 1),
    column("Count", "string", EVENT_COUNT, 1),
    ColumnDefinition {
        priority: 1,
        ..NAME
    },
];

const NAMESPACE: [ColumnDefinition; 3] = [
    NAME,
    column("Status", "string", "The status of the namespace", 0),
    AGE,
];

const SECRET: [ColumnDefinition; 4] = [
    NAME,
    column("Type", "string", SECRET_TYPE, 0),
    column("Data", "string", SECRET_DATA, 0),
    AGE,
];

const CONFIG_MAP: [ColumnDefinition; 3] = [NAME, column("Data", "string", CONFIG_MAP_DATA, 0), AGE];

/// The column definitions kube-apiserver registers for `kind`, wide ones included (the
/// server always generates wide tables; kubectl drops priority > 0 columns without `-o wide`).
pub fn column_definitions(kind: ResourceKind) -> &'static [ColumnDefinition] {
    match kind {
        ResourceKind::Pod => &POD,
        ResourceKind::Event => &EVENT,
        ResourceKind::ReplicaSet => &REPLICA_SET,
        ResourceKind::Deployment => &DEPLOYMENT,
        ResourceKind::ReplicationController => &REPLICATION_CONTROLLER,
        ResourceKind::ConfigMap => &CONFIG_MAP,
        ResourceKind::Secret => &SECRET,
        ResourceKind::Namespace => &NAMESPACE,
        ResourceKind::Service => &SERVICE,
        ResourceKind::Endpoints => &ENDPOINTS,
        ResourceKind::Node => &NODE,
        ResourceKind::Lease => &LEASE,
        ResourceKind::EndpointSlice => &ENDPOINT_SLICE,
    }
}
