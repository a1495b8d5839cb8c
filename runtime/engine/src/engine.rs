//! The node's wasm engine: one wasmtime `Engine` + `Linker`, the epoch ticker, the compile cache.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::{Component, Linker};

use crate::ctx::Ctx;
use crate::error::LoadError;
use crate::image::Image;

/// How often the epoch advances: the latency of a kill, and the time slice of a busy guest
/// before it yields to the other tasks on its thread.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    engine: wasmtime::Engine,
    linker: Linker<Ctx>,
    compatibility: String,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for EngineInner {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

impl Engine {
    pub fn new() -> Result<Engine, LoadError> {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let engine =
            wasmtime::Engine::new(&config).map_err(|e| LoadError::Engine(e.to_string()))?;

        let mut linker = Linker::<Ctx>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| LoadError::Engine(e.to_string()))?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(|e| LoadError::Engine(e.to_string()))?;
        crate::sockets::add_bind_rewrite(&mut linker)
            .map_err(|e| LoadError::Engine(e.to_string()))?;
        crate::ctx::add_termination_to_linker(&mut linker)
            .map_err(|e| LoadError::Engine(e.to_string()))?;

        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let compatibility = format!("{:016x}", hasher.finish());

        let ticker_stop = Arc::new(AtomicBool::new(false));
        spawn_epoch_ticker(engine.weak(), ticker_stop.clone());

        Ok(Engine {
            inner: Arc::new(EngineInner {
                engine,
                linker,
                compatibility,
                ticker_stop,
            }),
        })
    }

    /// Loads the component at `wasm_path` whose content digest is `digest` ("sha256:<hex>").
    /// Compiled code is cached in `cache_dir` under the digest and the engine's compatibility
    /// hash, so a second load deserializes (sub-millisecond) instead of compiling.
    pub fn load(
        &self,
        digest: &str,
        wasm_path: &Path,
        cache_dir: &Path,
    ) -> Result<Image, LoadError> {
        let cache_path = self.cache_path(digest, cache_dir);
        let component = match self.deserialize_cached(&cache_path) {
            Some(component) => component,
            None => {
                let component = self.compile(wasm_path)?;
                write_cache(&component, &cache_path)?;
                component
            }
        };
        Image::link(&self.inner.engine, &self.inner.linker, component)
    }

    /// Where the compiled form of `digest` is cached.
    pub fn cache_path(&self, digest: &str, cache_dir: &Path) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        cache_dir.join(format!("{hex}-{}.cwasm", self.inner.compatibility))
    }

    fn deserialize_cached(&self, cache_path: &Path) -> Option<Component> {
        let bytes = std::fs::read(cache_path).ok()?;
        // Only code whose checksum matches is loaded: wasmtime checks the header and the
        // engine's compatibility but would run flipped bits in the machine code. A damaged
        // entry is recompiled (and rewritten) instead.
        let code = verified_code(&bytes)?;
        // SAFETY: the bytes are exactly what `write_cache` serialized with an engine of the
        // same compatibility hash (part of the file name), as the checksum proves.
        unsafe { Component::deserialize(&self.inner.engine, code) }.ok()
    }

    fn compile(&self, wasm_path: &Path) -> Result<Component, LoadError> {
        let bytes = std::fs::read(wasm_path).map_err(|source| LoadError::Read {
            path: wasm_path.to_path_buf(),
            source,
        })?;
        match bytes.get(0..8) {
            Some([0, b'a', b's', b'm', 0x0d, 0, 1, 0]) => {}
            Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => {
                return Err(LoadError::CoreModule {
                    path: wasm_path.to_path_buf(),
                })
            }
            _ => {
                return Err(LoadError::NotWasm {
                    path: wasm_path.to_path_buf(),
                })
            }
        }
        Component::new(&self.inner.engine, &bytes).map_err(|e| LoadError::Compile(format!("{e:#}")))
    }
}

/// Ends every cache file: the SHA-256 of the serialized code before it, then this tag.
const CACHE_TRAILER_TAG: &[u8; 8] = b"wpcwasm1";
const CACHE_TRAILER_LEN: usize = 32 + CACHE_TRAILER_TAG.len();

/// The serialized code of a cache file whose trailer vouches for it.
fn verified_code(file: &[u8]) -> Option<&[u8]> {
    let split = file.len().checked_sub(CACHE_TRAILER_LEN)?;
    let (code, trailer) = file.split_at(split);
    let (checksum, tag) = trailer.split_at(32);
    (tag == CACHE_TRAILER_TAG && Sha256::digest(code).as_slice() == checksum).then_some(code)
}

fn write_cache(component: &Component, cache_path: &Path) -> Result<(), LoadError> {
    let cache_error = |source| LoadError::Cache {
        path: cache_path.to_path_buf(),
        source,
    };
    let mut bytes = component
        .serialize()
        .map_err(|e| cache_error(std::io::Error::other(e.to_string())))?;
    let checksum = Sha256::digest(&bytes);
    bytes.extend_from_slice(&checksum);
    bytes.extend_from_slice(CACHE_TRAILER_TAG);
    if let Some(dir) = cache_path.parent() {
        std::fs::create_dir_all(dir).map_err(cache_error)?;
    }
    // Write then rename, so a concurrent reader never sees half a file.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let unique = NEXT.fetch_add(1, Ordering::Relaxed);
    let tmp = cache_path.with_extension(format!("tmp{}-{unique}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(cache_error)?;
    std::fs::rename(&tmp, cache_path).map_err(cache_error)
}

fn spawn_epoch_ticker(engine: wasmtime::EngineWeak, stop: Arc<AtomicBool>) {
    std::thread::Builder::new()
        .name("wasmpod-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                match engine.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => return,
                }
            }
        })
        .expect("spawn the epoch ticker thread");
}
