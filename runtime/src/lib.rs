//! wasmpod: run Kubernetes Pod manifests whose containers are WebAssembly components, with
//! the kubelet's probe, restart, status and event semantics.
//!
//! The library is the product; the `wasmpod` binary is a thin shell over it. Data flows one
//! way: manifest ([`wasmpod_manifest`]) → [`Node::apply`] → store → pod worker → container
//! instances ([`wasmpod_engine`]) and probe workers → status and events → API and printers.

pub mod api;
pub mod cli;
pub mod clock;
pub mod control;
pub mod events;
pub mod ids;
pub mod ip;
pub mod logs;
pub mod network;
pub mod node;
pub mod prober;
pub mod quantity;
pub mod store;
pub mod testing;

pub use node::puller::RegistrySettings;
pub use node::{Node, NodeConfig, NodeError};

pub use wasmpod_engine as engine;
pub use wasmpod_images as images;
pub use wasmpod_manifest as manifest;
pub use wasmpod_printers as printers;

/// The README's Rust examples compile as doctests, so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;
