//! `wasmpod image ls | build | import | tag | rm`.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use wasmpod_images::ImageStore;

use super::CliError;

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
}

pub fn image(home: &Path, command: ImageCommand) -> Result<(), CliError> {
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
    }
    Ok(())
}
