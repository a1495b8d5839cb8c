//! Media types of manifests, configs and Wasm layers, and containerd's content-store
//! key prefixes for them.

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// CNCF TAG-Runtime Wasm OCI artifact (wkg / wasm-pkg-tools, `oci-wasm`, runwasi `--as-artifact`).
pub const WASM_CONFIG: &str = "application/vnd.wasm.config.v0+json";
pub const WASM_LAYER: &str = "application/wasm";

/// Layer media types that carry one raw Wasm binary (component or core module).
pub const WASM_LAYERS: &[&str] = &[
    // CNCF Wasm OCI artifact; also accepted by runwasi's containerd-shim-wasm.
    WASM_LAYER,
    // runwasi's oci-tar-builder (image mode) and containerd-shim-wasm's default layer type.
    "application/vnd.bytecodealliance.wasm.component.layer.v0+wasm",
    // Older runwasi oci-tar-builder releases (`--module` and `--components`).
    "application/vnd.w3c.wasm.module.v1+wasm",
    "application/vnd.wasm.component.v1+wasm",
    // Spin (`spin registry push`) and wasm-to-oci.
    "application/vnd.wasm.content.layer.v1+wasm",
];

/// What we ask for when resolving: every manifest and index type we can read.
pub(crate) const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, */*";

pub(crate) fn is_index(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_MANIFEST_LIST
}

pub(crate) fn is_manifest(media_type: &str) -> bool {
    media_type == OCI_MANIFEST || media_type == DOCKER_MANIFEST
}

pub(crate) fn is_wasm_layer(media_type: &str) -> bool {
    WASM_LAYERS.contains(&media_type)
}

/// containerd `remotes.MakeRefKey`: the `ref` named in its "failed commit on ref" errors.
pub(crate) fn ref_key(media_type: &str, digest: &str) -> String {
    let prefix = if is_manifest(media_type) {
        "manifest"
    } else if is_index(media_type) {
        "index"
    } else if is_container_layer(media_type) {
        "layer"
    } else if media_type == OCI_CONFIG || media_type == DOCKER_CONFIG {
        "config"
    } else {
        "unknown"
    };
    format!("{prefix}-{digest}")
}

/// containerd `images.IsLayerType`: tar layers only; Wasm layers are "unknown" to it.
fn is_container_layer(media_type: &str) -> bool {
    media_type.starts_with("application/vnd.oci.image.layer.")
        || media_type.starts_with("application/vnd.docker.image.rootfs.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_keys_follow_containerd() {
        assert_eq!(ref_key(OCI_MANIFEST, "sha256:1"), "manifest-sha256:1");
        assert_eq!(ref_key(DOCKER_MANIFEST_LIST, "sha256:1"), "index-sha256:1");
        assert_eq!(
            ref_key("application/vnd.oci.image.layer.v1.tar+gzip", "sha256:1"),
            "layer-sha256:1"
        );
        assert_eq!(ref_key(OCI_CONFIG, "sha256:1"), "config-sha256:1");
        assert_eq!(ref_key(WASM_LAYER, "sha256:1"), "unknown-sha256:1");
    }
}
