//! The guest components from `guest-apps/` that ship inside wasmpod, compiled by `build.rs`
//! and embedded, and the image references they answer to.

// Defines `BUILTIN_IMAGES: &[(&str, &[u8])]`: (guest crate name, component bytes).
include!(concat!(env!("OUT_DIR"), "/builtin_images.rs"));

/// A bundled image: the guest that implements it, the references every fresh store holds,
/// and repositories whose every tag resolves to it (the tags the Kubernetes docs and e2e
/// tests name, e.g. `registry.k8s.io/busybox:1.27.2`).
pub struct Bundled {
    pub guest: &'static str,
    pub seeded: &'static [&'static str],
    pub any_tag_of: &'static [&'static str],
}

pub const BUNDLED: &[Bundled] = &[
    Bundled {
        guest: "health_image",
        seeded: &["health_image:latest"],
        any_tag_of: &[],
    },
    Bundled {
        guest: "httpd",
        seeded: &["httpd:latest"],
        any_tag_of: &["docker.io/library/httpd"],
    },
    Bundled {
        guest: "busybox",
        seeded: &["busybox:latest"],
        any_tag_of: &["docker.io/library/busybox", "registry.k8s.io/busybox"],
    },
    Bundled {
        guest: "agnhost",
        seeded: &["registry.k8s.io/e2e-test-images/agnhost:2.40"],
        any_tag_of: &["registry.k8s.io/e2e-test-images/agnhost"],
    },
    Bundled {
        guest: "goproxy",
        seeded: &["registry.k8s.io/goproxy:0.1"],
        any_tag_of: &["registry.k8s.io/goproxy"],
    },
    Bundled {
        guest: "nginx",
        seeded: &["nginx:latest"],
        any_tag_of: &[
            "docker.io/library/nginx",
            "registry.k8s.io/e2e-test-images/nginx",
        ],
    },
    Bundled {
        guest: "redis",
        seeded: &[],
        any_tag_of: &["docker.io/library/redis"],
    },
    // The docs' grpc-liveness example names etcd; its gRPC health service is all a probe sees.
    Bundled {
        guest: "grpc_health",
        seeded: &[],
        any_tag_of: &["registry.k8s.io/etcd"],
    },
];

/// The component bytes of a bundled guest, if this build embedded it.
pub fn embedded(guest: &str) -> Option<&'static [u8]> {
    BUILTIN_IMAGES
        .iter()
        .find(|(name, _)| *name == guest)
        .map(|(_, bytes)| *bytes)
}

/// The seeded images as `(familiar reference, component bytes)`, e.g.
/// `("health_image:latest", …)`; `ImageStore::open` seeds them into every store.
pub fn builtin_images() -> Vec<(&'static str, &'static [u8])> {
    BUNDLED
        .iter()
        .filter_map(|b| Some((b, embedded(b.guest)?)))
        .flat_map(|(b, bytes)| b.seeded.iter().map(move |reference| (*reference, bytes)))
        .collect()
}

/// The bundled guest that answers to `repository` (a normalised name without tag) at any tag.
pub fn any_tag_image(repository: &str) -> Option<&'static [u8]> {
    BUNDLED
        .iter()
        .find(|b| b.any_tag_of.contains(&repository))
        .and_then(|b| embedded(b.guest))
}

/// Where the guest build put its components, test guests included (such as `misbehave`):
/// `guest_artifact("misbehave")` is its `.wasm` file.
pub fn guest_artifact(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("WASMPOD_GUEST_ARTIFACTS")).join(format!("{name}.wasm"))
}
