//! Patch metadata (Go struct tags `patchStrategy` / `patchMergeKey`) for the kinds wasmpod serves.
//! Transcribed from k8s.io/api core/v1, apps/v1 and apimachinery meta/v1 `types.go`; fields not
//! listed here carry no tag, so their lists are replaced and their maps merged key by key.
//! The `const fn` constructors let callers describe further types.

/// The strategy part of a `patchStrategy` tag (`retainKeys` is kept separately).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// No tag: maps merge recursively, lists are replaced.
    Default,
    /// `patchStrategy:"merge"`: lists merge (by `patchMergeKey` for lists of objects).
    Merge,
    /// `patchStrategy:"replace"`: the value is replaced wholesale.
    Replace,
}

/// Metadata of one JSON field of a Go struct.
#[derive(Debug, Clone, Copy)]
pub struct FieldMeta {
    pub name: &'static str,
    pub strategy: Strategy,
    /// `retainKeys` is part of the tag. Only diff generation uses it: applying a patch honours a
    /// `$retainKeys` directive wherever it appears.
    pub retain_keys: bool,
    pub merge_key: Option<&'static str>,
    /// Schema of the field's value (of its elements, for lists).
    pub child: &'static Schema,
}

/// Patch metadata of a Go struct type: its tagged or nested fields.
#[derive(Debug)]
pub struct Schema {
    pub fields: &'static [FieldMeta],
}

impl Schema {
    /// A type about whose fields nothing is known (maps like labels, untagged structs).
    pub const OPAQUE: Schema = Schema { fields: &[] };

    /// Go's `LookupPatchMetadata`, lenient about unknown fields: the API server's original object
    /// comes from a typed struct, so unknown fields never reach the lookup there.
    pub fn lookup(&self, name: &str) -> FieldMeta {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .copied()
            .unwrap_or(FieldMeta {
                name: "",
                strategy: Strategy::Default,
                retain_keys: false,
                merge_key: None,
                child: &Schema::OPAQUE,
            })
    }
}

pub const fn nested(name: &'static str, child: &'static Schema) -> FieldMeta {
    FieldMeta {
        name,
        strategy: Strategy::Default,
        retain_keys: false,
        merge_key: None,
        child,
    }
}

pub const fn merge_by(name: &'static str, key: &'static str, child: &'static Schema) -> FieldMeta {
    FieldMeta {
        name,
        strategy: Strategy::Merge,
        retain_keys: false,
        merge_key: Some(key),
        child,
    }
}

pub const fn merge_retain_by(
    name: &'static str,
    key: &'static str,
    child: &'static Schema,
) -> FieldMeta {
    FieldMeta {
        name,
        strategy: Strategy::Merge,
        retain_keys: true,
        merge_key: Some(key),
        child,
    }
}

/// `patchStrategy:"merge"` on a list of scalars (set union), or a nested struct pointer.
pub const fn merge_scalars(name: &'static str) -> FieldMeta {
    FieldMeta {
        name,
        strategy: Strategy::Merge,
        retain_keys: false,
        merge_key: None,
        child: &Schema::OPAQUE,
    }
}

/// `patchStrategy:"retainKeys"` on a struct field.
pub const fn retain_keys(name: &'static str) -> FieldMeta {
    FieldMeta {
        name,
        strategy: Strategy::Default,
        retain_keys: true,
        merge_key: None,
        child: &Schema::OPAQUE,
    }
}

/// `patchStrategy:"replace"` on a struct field.
pub const fn replace(name: &'static str) -> FieldMeta {
    FieldMeta {
        name,
        strategy: Strategy::Replace,
        retain_keys: false,
        merge_key: None,
        child: &Schema::OPAQUE,
    }
}

const OPAQUE: &Schema = &Schema::OPAQUE;

/// metav1.ObjectMeta: `finalizers` (merge), `ownerReferences` (merge by uid).
pub static OBJECT_META: Schema = Schema {
    fields: &[
        merge_scalars("finalizers"),
        merge_by("ownerReferences", "uid", OPAQUE),
    ],
};

/// core/v1 Container and EphemeralContainer (its inline EphemeralContainerCommon has the same
/// tags). Note container ports merge by `containerPort`.
pub static CONTAINER: Schema = Schema {
    fields: &[
        merge_by("ports", "containerPort", OPAQUE),
        merge_by("env", "name", OPAQUE),
        merge_by("volumeMounts", "mountPath", OPAQUE),
        merge_by("volumeDevices", "devicePath", OPAQUE),
    ],
};

/// core/v1 PodSpec. `tolerations` and `readinessGates` carry no patch tags (atomic lists).
pub static POD_SPEC: Schema = Schema {
    fields: &[
        merge_retain_by("volumes", "name", OPAQUE),
        merge_by("initContainers", "name", &CONTAINER),
        merge_by("containers", "name", &CONTAINER),
        merge_by("ephemeralContainers", "name", &CONTAINER),
        merge_by("imagePullSecrets", "name", OPAQUE),
        merge_by("hostAliases", "ip", OPAQUE),
        merge_by("topologySpreadConstraints", "topologyKey", OPAQUE),
        merge_by("schedulingGates", "name", OPAQUE),
        merge_retain_by("resourceClaims", "name", OPAQUE),
    ],
};

/// core/v1 PodStatus.
pub static POD_STATUS: Schema = Schema {
    fields: &[
        merge_by("conditions", "type", OPAQUE),
        merge_by("podIPs", "ip", OPAQUE),
        merge_by("hostIPs", "ip", OPAQUE),
        merge_retain_by("resourceClaimStatuses", "name", OPAQUE),
    ],
};

pub static POD: Schema = Schema {
    fields: &[
        nested("metadata", &OBJECT_META),
        nested("spec", &POD_SPEC),
        nested("status", &POD_STATUS),
    ],
};

pub static POD_TEMPLATE_SPEC: Schema = Schema {
    fields: &[nested("metadata", &OBJECT_META), nested("spec", &POD_SPEC)],
};

/// core/v1 PodTemplate (`template` is a PodTemplateSpec).
pub static POD_TEMPLATE: Schema = Schema {
    fields: &[
        nested("metadata", &OBJECT_META),
        nested("template", &POD_TEMPLATE_SPEC),
    ],
};

/// Status of ReplicaSet, ReplicationController and Deployment: conditions merge by type.
static WORKLOAD_STATUS: Schema = Schema {
    fields: &[merge_by("conditions", "type", OPAQUE)],
};

/// apps/v1 ReplicaSetSpec and core/v1 ReplicationControllerSpec.
static REPLICA_SET_SPEC: Schema = Schema {
    fields: &[nested("template", &POD_TEMPLATE_SPEC)],
};

pub static REPLICA_SET: Schema = Schema {
    fields: &[
        nested("metadata", &OBJECT_META),
        nested("spec", &REPLICA_SET_SPEC),
        nested("status", &WORKLOAD_STATUS),
    ],
};

/// apps/v1 DeploymentSpec: `strategy` has `patchStrategy:"retainKeys"`.
static DEPLOYMENT_SPEC: Schema = Schema {
    fields: &[
        nested("template", &POD_TEMPLATE_SPEC),
        retain_keys("strategy"),
    ],
};

pub static DEPLOYMENT: Schema = Schema {
    fields: &[
        nested("metadata", &OBJECT_META),
        nested("spec", &DEPLOYMENT_SPEC),
        nested("status", &WORKLOAD_STATUS),
    ],
};

/// core/v1 ServiceSpec: ports merge by `port`.
static SERVICE_SPEC: Schema = Schema {
    fields: &[merge_by("ports", "port", OPAQUE)],
};

/// core/v1 ServiceStatus: conditions (metav1.Condition) merge by type.
static SERVICE_STATUS: Schema = Schema {
    fields: &[merge_by("conditions", "type", OPAQUE)],
};

pub static SERVICE: Schema = Schema {
    fields: &[
        nested("metadata", &OBJECT_META),
        nested("spec", &SERVICE_SPEC),
        nested("status", &SERVICE_STATUS),
    ],
};

/// ConfigMap, Secret, Event and any other kind whose only tagged fields live in ObjectMeta.
pub static METADATA_ONLY: Schema = Schema {
    fields: &[nested("metadata", &OBJECT_META)],
};

/// The kinds wasmpod's API server patches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    Pod,
    PodTemplate,
    ReplicaSet,
    ReplicationController,
    Deployment,
    Service,
    ConfigMap,
    Secret,
    Event,
    /// Any other kind: only ObjectMeta's tags apply.
    Other,
}

impl PatchKind {
    /// From an object's `kind`.
    pub fn from_kind(kind: &str) -> PatchKind {
        match kind {
            "Pod" => PatchKind::Pod,
            "PodTemplate" => PatchKind::PodTemplate,
            "ReplicaSet" => PatchKind::ReplicaSet,
            "ReplicationController" => PatchKind::ReplicationController,
            "Deployment" => PatchKind::Deployment,
            "Service" => PatchKind::Service,
            "ConfigMap" => PatchKind::ConfigMap,
            "Secret" => PatchKind::Secret,
            "Event" => PatchKind::Event,
            _ => PatchKind::Other,
        }
    }

    pub fn schema(self) -> &'static Schema {
        match self {
            PatchKind::Pod => &POD,
            PatchKind::PodTemplate => &POD_TEMPLATE,
            PatchKind::ReplicaSet | PatchKind::ReplicationController => &REPLICA_SET,
            PatchKind::Deployment => &DEPLOYMENT,
            PatchKind::Service => &SERVICE,
            PatchKind::ConfigMap | PatchKind::Secret | PatchKind::Event | PatchKind::Other => {
                &METADATA_ONLY
            }
        }
    }
}
