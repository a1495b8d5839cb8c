use std::path::PathBuf;

/// Why an image could not be turned into something we can run.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is a core WebAssembly module, not a component: build it with --target wasm32-wasip2")]
    CoreModule { path: PathBuf },
    #[error("{path} is not a WebAssembly component")]
    NotWasm { path: PathBuf },
    #[error("the component does not compile: {0}")]
    Compile(String),
    #[error("the component needs imports wasmpod does not provide: {0}")]
    Link(String),
    #[error("the component exports neither wasi:http/incoming-handler nor wasi:cli/run (it exports: {exports}); wasmpod runs wasi:http and command components")]
    NotHttp { exports: String },
    #[error("cannot write the compile cache {path}: {source}")]
    Cache {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the wasm engine could not be created: {0}")]
    Engine(String),
}
