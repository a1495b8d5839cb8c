//! A compiled and linked component, plus what it exports of wasmpod's lifecycle interfaces.

use std::sync::Arc;

use wasmtime::component::{Component, ComponentExportIndex, InstancePre, Linker};
use wasmtime_wasi::p2::bindings::CommandIndices;
use wasmtime_wasi_http::p2::bindings::ProxyIndices;

use crate::ctx::Ctx;
use crate::error::LoadError;

/// Cheap to clone; instantiating it takes tens of microseconds.
#[derive(Clone)]
pub struct Image {
    pub(crate) inner: Arc<ImageInner>,
}

pub(crate) struct ImageInner {
    pub(crate) engine: wasmtime::Engine,
    pub(crate) pre: InstancePre<Ctx>,
    pub(crate) entry: Entry,
    pub(crate) startup: Option<ComponentExportIndex>,
    pub(crate) shutdown: Option<ComponentExportIndex>,
    pub(crate) exec: Option<ComponentExportIndex>,
    pub(crate) uses_filesystem: bool,
}

/// What the container runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// A `wasi:http` handler: the host listens on the container's ports and feeds requests in.
    Http,
    /// A program (`wasi:cli/run`): it runs until it returns, listening itself if it wants to.
    Command,
}

pub(crate) enum Entry {
    Http(ProxyIndices),
    Command(CommandIndices),
}

const COMMAND_INTERFACE: &str = "wasi:cli/run@0.2";
const STARTUP_INTERFACE: &str = "wasmpod:container/startup@0.1";
const SHUTDOWN_INTERFACE: &str = "wasmpod:container/shutdown@0.1";
const EXEC_INTERFACE: &str = "wasmpod:container/exec@0.1";
const HTTP_HANDLER_INTERFACE: &str = "wasi:http/incoming-handler@0.2";
const PREOPENS_INTERFACE: &str = "wasi:filesystem/preopens@0.2";

/// Packages the linker provides (at their 0.2 versions): an import from anywhere else cannot
/// be satisfied.
const PROVIDED_PACKAGES: &[&str] = &[
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:filesystem/",
    "wasi:io/",
    "wasi:random/",
    "wasi:sockets/",
    "wasi:http/",
    "wasmpod:container/",
];

/// Every import outside the provided packages, then wasmtime's own account of the first
/// failure (which also covers a provided package at a version wasmpod lacks).
fn missing_imports(
    engine: &wasmtime::Engine,
    component: &Component,
    first_failure: &str,
) -> String {
    let unknown: Vec<String> = component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .filter(|name| !PROVIDED_PACKAGES.iter().any(|p| name.starts_with(p)))
        .collect();
    match unknown.is_empty() {
        true => first_failure.to_string(),
        false => format!("{} ({first_failure})", unknown.join(", ")),
    }
}

impl Image {
    pub(crate) fn link(
        engine: &wasmtime::Engine,
        linker: &Linker<Ctx>,
        component: Component,
    ) -> Result<Image, LoadError> {
        let exports: Vec<String> = component
            .component_type()
            .exports(engine)
            .map(|(name, _)| name.to_string())
            .collect();
        let exports_any = |prefix: &str| exports.iter().any(|e| e.starts_with(prefix));
        let is_http = exports_any(HTTP_HANDLER_INTERFACE);
        if !is_http && !exports_any(COMMAND_INTERFACE) {
            return Err(LoadError::NotHttp {
                exports: if exports.is_empty() {
                    "nothing".into()
                } else {
                    exports.join(", ")
                },
            });
        }
        let uses_filesystem = component
            .component_type()
            .imports(engine)
            .any(|(name, _)| name.starts_with(PREOPENS_INTERFACE));
        let pre = linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Link(missing_imports(engine, &component, &format!("{e:#}"))))?;
        let link_error = |e: wasmtime::Error| LoadError::Link(format!("{e:#}"));
        let entry = if is_http {
            Entry::Http(ProxyIndices::new(&pre).map_err(link_error)?)
        } else {
            Entry::Command(CommandIndices::new(&pre).map_err(link_error)?)
        };
        let lifecycle_func = |interface: &str, func: &str| {
            let name = exports.iter().find(|e| e.starts_with(interface))?;
            let instance = component.get_export_index(None, name)?;
            component.get_export_index(Some(&instance), func)
        };
        let startup = lifecycle_func(STARTUP_INTERFACE, "start");
        let shutdown = lifecycle_func(SHUTDOWN_INTERFACE, "stop");
        let exec = lifecycle_func(EXEC_INTERFACE, "run");
        Ok(Image {
            inner: Arc::new(ImageInner {
                engine: engine.clone(),
                pre,
                entry,
                startup,
                shutdown,
                exec,
                uses_filesystem,
            }),
        })
    }

    /// Whether the guest imports `wasi:filesystem/preopens`: one that does not can never see
    /// a file, so its instances need no root directory (no directory to create on every
    /// restart, no descriptor held per container).
    pub fn uses_filesystem(&self) -> bool {
        self.inner.uses_filesystem
    }

    pub fn kind(&self) -> ImageKind {
        match self.inner.entry {
            Entry::Http(_) => ImageKind::Http,
            Entry::Command(_) => ImageKind::Command,
        }
    }
}
