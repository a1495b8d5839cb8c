//! The guest components from `guest-apps/`, compiled by `build.rs` and embedded.

// Defines `BUILTIN_IMAGES: &[(&str, &[u8])]`, one `("<crate>:latest", bytes)` per guest.
include!(concat!(env!("OUT_DIR"), "/builtin_images.rs"));

/// The built-in images as `(familiar reference, component bytes)`, e.g.
/// `("health_image:latest", …)`; `ImageStore::open` seeds them into every store.
pub fn builtin_images() -> &'static [(&'static str, &'static [u8])] {
    BUILTIN_IMAGES
}

/// Where the guest build put the components that are not seeded (test guests such as
/// `misbehave`): `guest_artifact("misbehave")` is its `.wasm` file.
pub fn guest_artifact(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("WASMPOD_GUEST_ARTIFACTS")).join(format!("{name}.wasm"))
}
