//! `wasmpod image ls | build | import | tag | rm | pull | push`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use wasmpod_images::ImageStore;
use wasmpod_registry::{Keyring, PullProgress, RegistryClient, RegistryOptions};

use super::CliError;
use crate::RegistrySettings;

/// How to reach registries: shared by `run`, `serve` and `image pull|push`.
#[derive(Args, Clone, Debug, Default)]
pub struct RegistryFlags {
    /// A registry (`host:port`) reached over plain HTTP instead of HTTPS, e.g. a test
    /// registry on loopback (repeatable).
    #[arg(long = "insecure-registry", value_name = "HOST:PORT")]
    pub insecure_registry: Vec<String>,
}

impl RegistryFlags {
    pub fn settings(&self) -> RegistrySettings {
        RegistrySettings {
            insecure_registries: self.insecure_registry.clone(),
            docker_config: None,
        }
    }

    fn client(&self) -> RegistryClient {
        RegistryClient::new(RegistryOptions {
            insecure_registries: self.insecure_registry.clone(),
            user_agent: format!("wasmpod/{}", env!("CARGO_PKG_VERSION")),
        })
    }
}

#[derive(Subcommand)]
pub enum ImageCommand {
    /// List images.
    #[command(alias = "list")]
    Ls,
    /// Build a Rust guest crate for wasm32-wasip2 and store it as REF.
    Build {
        #[arg(short = 't', long = "tag")]
        tag: String,
        dir: PathBuf,
    },
    /// Store a component file as REF.
    Import { reference: String, file: PathBuf },
    /// Give an image another name.
    Tag { source: String, target: String },
    /// Remove an image name (and the image when no name is left).
    #[command(alias = "remove")]
    Rm { reference: String },
    /// Pull a Wasm OCI artifact from its registry into the store (credentials from the
    /// Docker config file, as `docker login` writes it).
    Pull {
        reference: String,
        #[command(flatten)]
        registry: RegistryFlags,
    },
    /// Push an image of the store to its registry as a Wasm OCI artifact.
    Push {
        reference: String,
        #[command(flatten)]
        registry: RegistryFlags,
    },
}

pub async fn image(home: &Path, command: ImageCommand) -> Result<(), CliError> {
    let store = ImageStore::open(home)?;
    match command {
        ImageCommand::Ls => {
            let records = store.list()?;
            print!(
                "{}",
                wasmpod_images::format_image_list(&records, jiff::Timestamp::now())
            );
        }
        ImageCommand::Build { tag, dir } => {
            let record = store.build(&tag, &dir)?;
            println!("Successfully built {}", record.short_id());
            println!("Successfully tagged {}", record.reference.familiar());
        }
        ImageCommand::Import { reference, file } => {
            let record = store.import_file(&reference, &file)?;
            println!("{}", record.digest);
        }
        ImageCommand::Tag { source, target } => {
            store.tag(&source, &target)?;
        }
        ImageCommand::Rm { reference } => {
            let record = store.remove(&reference)?;
            println!("Untagged: {}", record.reference.familiar());
        }
        ImageCommand::Pull {
            reference,
            registry,
        } => pull(&store, &reference, &registry).await?,
        ImageCommand::Push {
            reference,
            registry,
        } => push(&store, &reference, &registry).await?,
    }
    Ok(())
}

/// Prints what `docker pull` prints; a progress bar on a terminal, nothing extra otherwise.
async fn pull(store: &ImageStore, reference: &str, flags: &RegistryFlags) -> Result<(), CliError> {
    let parsed = wasmpod_images::Reference::parse_normalized_named(reference)
        .map_err(|e| CliError::Usage(format!("invalid reference format: {e}")))?;
    let before = store.resolve(reference).ok().flatten();
    let bar = ProgressBar::new(std::io::stderr().is_terminal());
    let artifact = flags
        .client()
        .pull(reference, &Keyring::user_default(), &|p| bar.show(p))
        .await;
    bar.finish();
    let artifact = artifact.map_err(|e| registry_error(e, flags))?;
    let record = store.store_pulled(reference, &artifact.component, &artifact.manifest_digest)?;
    println!("Digest: {}", artifact.manifest_digest);
    let up_to_date = before.is_some_and(|b| b.repo_digest == record.repo_digest);
    match up_to_date {
        true => println!("Status: Image is up to date for {}", parsed.familiar()),
        false => println!("Status: Downloaded newer image for {}", parsed.familiar()),
    }
    println!("{parsed}");
    Ok(())
}

async fn push(store: &ImageStore, reference: &str, flags: &RegistryFlags) -> Result<(), CliError> {
    let record = store.resolve(reference)?.ok_or_else(|| {
        CliError::Usage(format!(
            "An image does not exist locally with the tag: {reference}"
        ))
    })?;
    let component = std::fs::read(&record.path).map_err(|source| CliError::Io {
        context: format!("reading {}", record.path.display()),
        source,
    })?;
    println!(
        "The push refers to repository [{}]",
        record.reference.name()
    );
    let pushed = flags
        .client()
        .push(reference, &component, &Keyring::user_default())
        .await
        .map_err(|e| registry_error(e, flags))?;
    // Like `docker push`, the image now has a repository digest: `Always` pulls compare with
    // the registry from here on.
    store.store_pulled(reference, &component, &pushed.manifest_digest)?;
    println!(
        "{}: digest: {} size: {}",
        record.reference.tag().unwrap_or("latest"),
        pushed.manifest_digest,
        pushed.size
    );
    Ok(())
}

/// The registry's error; for a TLS handshake that met plain HTTP, the flag that fixes it.
fn registry_error(error: wasmpod_registry::RegistryError, flags: &RegistryFlags) -> CliError {
    let text = error.to_string();
    let plain_http = text.contains("InvalidContentType") || text.contains("corrupt message");
    match (plain_http, text.split('"').nth(1)) {
        (true, Some(url)) if flags.insecure_registry.is_empty() => {
            let host = url
                .trim_start_matches("https://")
                .split('/')
                .next()
                .unwrap_or_default();
            CliError::Server(format!(
                "{text} (http: server gave HTTP response to HTTPS client; for a plain-HTTP registry pass --insecure-registry {host})"
            ))
        }
        _ => CliError::Server(text),
    }
}

/// `12.3 KiB / 40.0 KiB [=======>            ]` redrawn in place on a terminal.
struct ProgressBar {
    enabled: bool,
}

impl ProgressBar {
    const WIDTH: u64 = 30;

    fn new(enabled: bool) -> ProgressBar {
        ProgressBar { enabled }
    }

    fn show(&self, progress: PullProgress) {
        if !self.enabled || progress.total == 0 {
            return;
        }
        let filled = (progress.done.min(progress.total) * Self::WIDTH / progress.total) as usize;
        let bar = format!(
            "{}{}",
            "=".repeat(filled),
            " ".repeat(Self::WIDTH as usize - filled)
        );
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{} / {} [{bar}]",
            wasmpod_images::human_size(progress.done),
            wasmpod_images::human_size(progress.total)
        );
        let _ = err.flush();
    }

    fn finish(&self) {
        if self.enabled {
            eprintln!();
        }
    }
}
