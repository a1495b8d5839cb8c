//! wasmtime glue for wasmpod, behind a small non-generic API.
//!
//! Everything that instantiates wasmtime's generic bindings lives in this crate, so that the
//! rest of wasmpod rebuilds in seconds (a crate that monomorphises the linker takes minutes).
//!
//! - [`Engine`]: one per node. Compiles components (with an on-disk cache keyed by image digest
//!   and the engine's compatibility hash) and ticks the epoch used to interrupt guests.
//! - [`Image`]: a compiled, linked component, ready to instantiate in microseconds.
//! - [`Instance`]: one running container incarnation: a long-lived instance that serves HTTP
//!   requests one at a time, and ends with an [`ExitStatus`].

mod ctx;
mod engine;
mod error;
mod exit;
mod image;
mod instance;
mod logs;
mod sockets;
mod time;

pub use ctx::MemoryUsage;
pub use engine::Engine;
pub use error::LoadError;
pub use exit::{ExitReason, ExitStatus};
pub use image::{Image, ImageKind};
pub use instance::{ExecError, ExecOutput, Instance, InstanceConfig, Mount, ResponseBody};
pub use logs::{LogSink, LogStream};
pub use time::{SimulatedTime, SIMULATED_COST_PER_BUSY_TICK};
