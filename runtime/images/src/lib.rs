//! wasmpod-images: the local content-addressed store for WebAssembly component images,
//! Docker-style image references, and the built-in guest images.

mod builtin;
mod cargo_build;
mod cargo_messages;
mod error;
mod go_units;
mod home;
mod index;
mod list_format;
mod lookup;
mod store;
mod toolchain;
mod wasm_header;

pub use builtin::{any_tag_image, builtin_images, embedded, guest_artifact, Bundled, BUNDLED};
pub use error::ImageError;
pub use go_units::{human_duration, human_size};
pub use home::{default_home, home_from, HOME_ENV};
pub use list_format::format_image_list;
pub use store::{ImageRecord, ImageStore};
pub use toolchain::{TARGET_MISSING_MESSAGE, WASI_TARGET};
pub use wasm_header::{ensure_component, is_component};
pub use wasmpod_reference::{Reference, ReferenceError, DEFAULT_DOMAIN, DEFAULT_TAG};
