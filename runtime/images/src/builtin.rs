//! The guest components from `guest-apps/`, compiled by `build.rs` and embedded.

// Defines `BUILTIN_IMAGES: &[(&str, &[u8])]`, one `("<crate>:latest", bytes)` per guest.
include!(concat!(env!("OUT_DIR"), "/builtin_images.rs"));

/// The built-in images as `(familiar reference, component bytes)`, e.g.
/// `("health_image:latest", …)`; `ImageStore::open` seeds them into every store.
pub fn builtin_images() -> &'static [(&'static str, &'static [u8])] {
    BUILTIN_IMAGES
}
