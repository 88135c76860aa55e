//! The command line: one module per command, each composing the domain and the store.

pub mod areas;
pub mod config;
pub mod crime;
pub mod keys;
pub mod recover;
pub mod responses;
pub mod survey;

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::Error;

#[derive(Debug, Parser)]
#[command(
    name = "doorstep",
    version,
    about = "Offline PACT fieldwork: KIN doorstep interviews and Environmental Visual Audits",
    long_about = None
)]
pub struct Cli {
    /// Where doorstep keeps its store, journal, surveys and logs.
    /// An empty value (e.g. `DOORSTEP_DATA_DIR=`) counts as not given.
    #[arg(long, global = true, env = "DOORSTEP_DATA_DIR", value_name = "DIR",
          value_parser = clap::builder::TypedValueParser::map(clap::builder::OsStringValueParser::new(), PathBuf::from))]
    pub data_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The data directory: `--data-dir`, else `DOORSTEP_DATA_DIR` (empty counts as unset),
    /// else the platform default; a leading `~` is the home directory.
    pub fn data_dir(&self) -> Result<PathBuf, Error> {
        crate::paths::resolve_data_dir(self.data_dir.as_deref()).map_err(Error::Usage)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check, list and print survey definitions.
    #[command(subcommand)]
    Survey(survey::SurveyCommand),
    /// Read and change this device's settings: officer, device, recipient, language, area.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Create coordinator keys for sealing personal answers.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// List and show the responses recorded on this device.
    #[command(subcommand)]
    Responses(responses::ResponsesCommand),
    /// Rebuild the store from the journal after a crash damaged or deleted it.
    Recover,
    /// Wards, LSOAs, priority action areas and townships: import, plan, list, locate.
    #[command(subcommand)]
    Areas(areas::AreasCommand),
    /// police.uk recorded crime for the area profile: import and summarise.
    #[command(subcommand)]
    Crime(crime::CrimeCommand),
}

/// Runs a parsed command line, writing normal output to `out`.
pub fn run(cli: &Cli, out: &mut dyn Write) -> Result<(), Error> {
    let data_dir = cli.data_dir()?;
    match &cli.command {
        Some(Command::Survey(cmd)) => survey::run(cmd, &data_dir, out),
        Some(Command::Config(cmd)) => config::run(cmd, &data_dir, out),
        Some(Command::Keys(cmd)) => keys::run(cmd, out),
        Some(Command::Responses(cmd)) => responses::run(cmd, &data_dir, out),
        Some(Command::Recover) => recover::run(&data_dir, out),
        Some(Command::Areas(cmd)) => areas::run(cmd, &data_dir, out),
        Some(Command::Crime(cmd)) => crime::run(cmd, &data_dir, out),
        None => crate::tui::run(&data_dir),
    }
}

/// Opens the store for a command, telling the user on standard error what opening found
/// and repaired (a journal rebuilt, entries replayed).
pub(crate) fn open_store(data_dir: &std::path::Path) -> Result<crate::store::Store, Error> {
    let store = crate::store::Store::open(data_dir)?;
    for notice in store.notices() {
        eprintln!("doorstep: warning: {notice}");
    }
    Ok(store)
}

/// Opens the store for a command that only reads: nothing in the data directory is
/// created or written (see [`crate::store::Store::open_read_only`]).
pub(crate) fn open_store_read_only(
    data_dir: &std::path::Path,
) -> Result<crate::store::Store, Error> {
    let store = crate::store::Store::open_read_only(data_dir)?;
    for notice in store.notices() {
        eprintln!("doorstep: warning: {notice}");
    }
    Ok(store)
}

/// Writes to the command's output; a closed pipe (`| head`) is not an error worth a trace.
pub(crate) fn emit(out: &mut dyn Write, text: &str) -> Result<(), Error> {
    out.write_all(text.as_bytes())
        .map_err(|e| Error::io("standard output", e))
}
