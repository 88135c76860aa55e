//! The command line: one module per command, each composing the domain and the store.

pub mod actions;
pub mod areas;
pub mod batch;
pub mod completions;
pub mod config;
pub mod contacts;
pub mod crime;
pub mod devices;
pub mod export;
pub mod keys;
pub mod man;
pub mod recover;
pub mod report;
pub mod responses;
pub mod review;
pub mod simulate;
pub mod survey;
pub mod yousaid;

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::Error;
use crate::output::{Document, Format, escape_keeping_lines};
use crate::store::Store;

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
    /// Batches of fieldwork for the coordinator: export on the laptop, verify on arrival.
    #[command(subcommand)]
    Batch(batch::BatchCommand),
    /// The action register of local tasking: add, list, show, update.
    #[command(subcommand)]
    Actions(actions::ActionsCommand),
    /// Scrutiny of the action register per township or ward: due, overdue, done, not
    /// possible, escalations, and issues that keep coming back.
    Review(review::ReviewArgs),
    /// "You said, We did": a printable page per ward for every address, in English or Polish.
    Yousaid(yousaid::YousaidArgs),
    /// The device keys this coordinator's machine trusts: list, trust, revoke.
    #[command(subcommand)]
    Devices(devices::DevicesCommand),
    /// The contact details of respondents who asked to hear back, unsealed with the
    /// coordinator's identity: the only command that prints personal data.
    Contacts(contacts::ContactsArgs),
    /// Tables for analysts: every completed response of a period as CSV or JSON Lines.
    #[command(subcommand)]
    Export(export::ExportCommand),
    /// The priority-setting pack for the PACT meeting: per area and period, what people said,
    /// the indicators, the street and the record, what changed, the proposed top three and
    /// who we heard. Public (small numbers suppressed) unless --internal.
    Report(report::ReportArgs),
    /// Write realistic batch files from simulated laptops (training, demos, benchmarks).
    Simulate(simulate::SimulateArgs),
    /// Print the shell completion script for bash, zsh, fish, powershell or elvish.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page, or write one page per command into a folder.
    Man {
        /// Write `doorstep.1` and a page per subcommand into DIR (created if missing).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

/// Runs a parsed command line, writing normal output to `out` and warnings and progress
/// remarks to `err` (the binary passes standard output and standard error). Library code
/// never prints anywhere else.
pub fn run(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Error> {
    let data_dir = cli.data_dir()?;
    match &cli.command {
        Some(Command::Survey(cmd)) => survey::run(cmd, &data_dir, out, err),
        Some(Command::Config(cmd)) => config::run(cmd, &data_dir, out, err),
        Some(Command::Keys(cmd)) => keys::run(cmd, out, err),
        Some(Command::Responses(cmd)) => responses::run(cmd, &data_dir, out, err),
        Some(Command::Recover) => recover::run(&data_dir, out),
        Some(Command::Areas(cmd)) => areas::run(cmd, &data_dir, out, err),
        Some(Command::Crime(cmd)) => crime::run(cmd, &data_dir, out, err),
        Some(Command::Batch(cmd)) => batch::run(cmd, &data_dir, out, err),
        Some(Command::Devices(cmd)) => devices::run(cmd, &data_dir, out, err),
        Some(Command::Actions(cmd)) => actions::run(cmd, &data_dir, out, err),
        Some(Command::Review(args)) => review::run(args, &data_dir, out, err),
        Some(Command::Yousaid(args)) => yousaid::run(args, &data_dir, out, err),
        Some(Command::Contacts(args)) => contacts::run(args, &data_dir, out, err),
        Some(Command::Export(cmd)) => export::run(cmd, &data_dir, out, err),
        Some(Command::Report(args)) => report::run(args, &data_dir, out, err),
        Some(Command::Simulate(args)) => simulate::run(args, &data_dir, out, err),
        Some(Command::Completions { shell }) => completions::run(*shell, out),
        Some(Command::Man { out: dir }) => man::run(dir.as_deref(), out),
        None => crate::tui::run(&data_dir),
    }
}

/// Renders a command's document to its output in the format asked for.
pub(crate) fn print(out: &mut dyn Write, doc: &Document, format: Format) -> Result<(), Error> {
    format
        .renderer()
        .render(doc, out)
        .map_err(|e| Error::io("standard output", e))
}

/// Prose output of the commands not yet built on the document model (batch, devices):
/// escaped like all output, since batch manifests carry names typed on other machines.
pub(crate) fn emit(out: &mut dyn Write, text: &str) -> Result<(), Error> {
    out.write_all(escape_keeping_lines(text).as_bytes())
        .map_err(|e| Error::io("standard output", e))
}

/// A remark on standard error (`doorstep: …`), escaped like all output: it may quote file
/// names and data.
pub(crate) fn remark(err: &mut dyn Write, text: &str) -> Result<(), Error> {
    writeln!(err, "doorstep: {}", escape_keeping_lines(text))
        .map_err(|e| Error::io("standard error", e))
}

/// A warning on standard error.
pub(crate) fn warn(err: &mut dyn Write, text: &str) -> Result<(), Error> {
    remark(err, &format!("warning: {text}"))
}

/// Opens the store for a command, telling the user on standard error what opening found
/// and repaired (a journal rebuilt, entries replayed).
pub(crate) fn open_store(data_dir: &Path, err: &mut dyn Write) -> Result<Store, Error> {
    let store = Store::open(data_dir)?;
    for notice in store.notices() {
        warn(err, notice)?;
    }
    Ok(store)
}

/// Opens the store for a command that only reads: nothing stored changes and nothing in
/// the data directory is created (see [`Store::open_read_only`]).
pub(crate) fn open_store_read_only(data_dir: &Path, err: &mut dyn Write) -> Result<Store, Error> {
    let store = Store::open_read_only_with(data_dir, || {
        // Only a remark: a failure to write it is no reason not to go on.
        let _ = remark(
            err,
            "waiting for another doorstep command reading the store to finish",
        );
    })?;
    for notice in store.notices() {
        warn(err, notice)?;
    }
    Ok(store)
}
