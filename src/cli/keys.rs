//! `doorstep keys new --out FILE`: a coordinator identity for opening sealed answers.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::Utc;
use clap::Subcommand;

use super::{print, remark};
use crate::Error;
use crate::output::{Document, Format};
use crate::seal::CoordinatorIdentity;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a coordinator identity in FILE and print its recipient (`age1…`) to set on
    /// each field device with `doorstep config set recipient`.
    New {
        /// Where to write the identity (must not exist; created readable by you only).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

pub fn run(cmd: &KeysCommand, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Error> {
    match cmd {
        KeysCommand::New { out: path } => new_identity(path, out, err),
    }
}

fn new_identity(path: &Path, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Error> {
    let identity = CoordinatorIdentity::generate();
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Failure(format!(
                "{} already exists; not overwriting an identity (sealed answers need it)",
                path.display()
            ))
        } else {
            Error::io(path, e)
        }
    })?;
    file.write_all(identity.to_file_text(Utc::now()).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(path, e))?;
    // On standard error, so standard output is the recipient alone (`$(doorstep keys new …)`).
    remark(
        err,
        &format!(
            "coordinator identity written to {}; keep it safe and off field devices",
            path.display()
        ),
    )?;
    let mut doc = Document::new();
    doc.paragraph(identity.recipient().to_string());
    print(out, &doc, Format::Text)
}
