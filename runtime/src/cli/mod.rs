//! The `wasmpod` command line: a thin shell over the library.

mod client;
mod duration;
mod image;
mod run;
mod serve;
mod simulate;
mod view;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Manifest(Box<wasmpod_manifest::ManifestError>),
    #[error("{0}")]
    Node(#[from] crate::NodeError),
    #[error("{0}")]
    Image(#[from] wasmpod_images::ImageError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Server(String),
    #[error("no running wasmpod found ({file} is missing): start one with `wasmpod run FILE` or `wasmpod serve`, or pass --server URL / set WASMPOD_SERVER")]
    NoServer { file: PathBuf },
    #[error(
        "cannot reach the wasmpod API at {server}: {reason} (is `wasmpod run` or `wasmpod serve` still running?)"
    )]
    Unreachable { server: String, reason: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

impl From<wasmpod_manifest::ManifestError> for CliError {
    fn from(error: wasmpod_manifest::ManifestError) -> Self {
        CliError::Manifest(Box::new(error))
    }
}

#[derive(Parser)]
#[command(
    name = "wasmpod",
    version,
    about = "Run Kubernetes Pods whose containers are WebAssembly components"
)]
pub struct Cli {
    /// The API of a running `wasmpod run` (default: the one recorded under WASMPOD_HOME).
    #[arg(long, global = true, env = client::SERVER_ENV)]
    server: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run pod manifests in the foreground, streaming events; Ctrl-C deletes the pods and exits.
    Run {
        /// Manifest files (YAML or JSON); `-` reads standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Stop after this long (e.g. 90s, 5m) instead of waiting for Ctrl-C.
        #[arg(long = "for", value_parser = duration::parse)]
        run_for: Option<std::time::Duration>,
        /// A host directory pods may mount as a hostPath volume (repeatable); others are refused.
        #[arg(long = "allow-host-path")]
        allow_host_path: Vec<PathBuf>,
        /// Run on simulated time for this long (e.g. 10m), as fast as the guests allow, then
        /// print the pods and exit.
        #[arg(long, value_parser = duration::parse, conflicts_with = "run_for")]
        simulate: Option<std::time::Duration>,
        /// With --simulate: `json` prints the event timeline and the final pods as JSON.
        #[arg(short = 'o', long = "output", requires = "simulate", value_parser = ["json"])]
        output: Option<String>,
        /// With --simulate: seeds pod UIDs and container IDs, so runs repeat exactly.
        #[arg(long, requires = "simulate", default_value_t = 0)]
        seed: u64,
        #[command(flatten)]
        registry: image::RegistryFlags,
    },
    /// List pods or events (`get pods [NAME] [-o wide|yaml|json]`, `get events`).
    Get {
        /// `pods` (`pod`, `po`) or `events` (`event`, `ev`).
        resource: String,
        name: Option<String>,
        #[arg(short = 'o', long = "output")]
        output: Option<String>,
        #[arg(short = 'n', long = "namespace", default_value = "default")]
        namespace: String,
        #[arg(short = 'A', long = "all-namespaces")]
        all_namespaces: bool,
    },
    /// Create or update objects from manifests, as `kubectl apply -f` does.
    Apply {
        /// Manifest files (YAML or JSON); `-` reads standard input.
        #[arg(short = 'f', long = "filename", required = true)]
        files: Vec<PathBuf>,
    },
    /// Show a pod as `kubectl describe pod` does.
    Describe {
        /// `pod` (`pods`, `po`).
        resource: String,
        name: String,
        #[arg(short = 'n', long = "namespace", default_value = "default")]
        namespace: String,
    },
    /// Delete a pod gracefully, as `kubectl delete pod` does (waits until it is gone).
    Delete {
        /// `pod` (`pods`, `po`).
        resource: String,
        name: String,
        #[arg(short = 'n', long = "namespace", default_value = "default")]
        namespace: String,
        /// Seconds the containers get to stop (default: the pod's terminationGracePeriodSeconds).
        #[arg(long = "grace-period")]
        grace_period: Option<i64>,
        /// Return once the deletion is requested instead of waiting for the pod to be gone.
        #[arg(long = "wait", default_value_t = true, action = clap::ArgAction::Set)]
        wait: bool,
    },
    /// Print a container's logs.
    Logs {
        pod: String,
        #[arg(short = 'c', long = "container")]
        container: Option<String>,
        #[arg(short = 'p', long = "previous")]
        previous: bool,
        #[arg(short = 'f', long = "follow")]
        follow: bool,
        #[arg(long)]
        timestamps: bool,
        #[arg(long)]
        tail: Option<i64>,
        #[arg(short = 'n', long = "namespace", default_value = "default")]
        namespace: String,
    },
    /// Run a long-lived node serving the Kubernetes API (for kubectl), its objects kept in a
    /// durable store: pods survive restarts of wasmpod itself.
    Serve(serve::ServeArgs),
    /// Print a kubeconfig for the running `wasmpod run` or `wasmpod serve`.
    Kubeconfig,
    /// Manage the local image store.
    #[command(subcommand)]
    Image(image::ImageCommand),
}

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let home = wasmpod_images::default_home();
    // A simulation brings its own single-threaded runtime with a paused clock.
    if let Command::Run {
        files,
        allow_host_path,
        simulate: Some(duration),
        output,
        seed,
        ..
    } = &cli.command
    {
        let options = simulate::SimulateOptions {
            duration: *duration,
            json: output.is_some(),
            seed: *seed,
            allowed_host_paths: allow_host_path.clone(),
        };
        return exit_code(simulate::simulate(&home, files, options));
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return 1;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Run {
                files,
                run_for,
                allow_host_path,
                registry,
                ..
            } => run::run(&home, &files, run_for, allow_host_path, registry.settings()).await,
            Command::Image(command) => image::image(&home, command).await,
            Command::Serve(args) => serve::serve(&home, args).await,
            Command::Kubeconfig => {
                let url = client::server_url(cli.server, &home)?;
                print!("{}", serve::kubeconfig_for(&home, &url));
                Ok(())
            }
            Command::Get {
                resource,
                name,
                output,
                namespace,
                all_namespaces,
            } => {
                let client = view::connect(cli.server, &home)?;
                let namespace = (!all_namespaces).then_some(namespace);
                view::get(
                    &client,
                    &resource,
                    name.as_deref(),
                    output.as_deref(),
                    namespace.as_deref(),
                )
                .await
            }
            Command::Apply { files } => {
                let set = wasmpod_manifest::load_set(&files)?;
                let client = view::connect(cli.server, &home)?;
                view::apply(&client, set).await
            }
            Command::Describe {
                resource,
                name,
                namespace,
            } => {
                let client = view::connect(cli.server, &home)?;
                view::describe(&client, &resource, &name, &namespace).await
            }
            Command::Delete {
                resource,
                name,
                namespace,
                grace_period,
                wait,
            } => {
                let client = view::connect(cli.server, &home)?;
                view::delete(&client, &resource, &name, &namespace, grace_period, wait).await
            }
            Command::Logs {
                pod,
                container,
                previous,
                follow,
                timestamps,
                tail,
                namespace,
            } => {
                let client = view::connect(cli.server, &home)?;
                let options = view::LogOptions {
                    container,
                    previous,
                    follow,
                    timestamps,
                    tail,
                };
                view::logs(&client, &namespace, &pod, options).await
            }
        }
    });
    runtime.shutdown_background();
    exit_code(result)
}

fn exit_code(result: Result<(), CliError>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("error: {error}");
            1
        }
    }
}
