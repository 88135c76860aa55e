//! `doorstep export responses`: the raw table for analysts (see `EXPORT.md`).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};

use super::{print, warn};
use crate::Error;
use crate::export::{self, ExportError};
use crate::output::{Document, Fields, Format};
use crate::response::{Period, ResponseFilter};
use crate::survey::registry::Registry;

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// One row per completed response of a period (the latest revision), one column per
    /// answer value; personal and internal answers are never included.
    Responses {
        /// The fieldwork quarter, e.g. 2026-Q4.
        #[arg(long, value_name = "P")]
        period: Period,
        /// Only this survey (needed when the period holds more than one).
        #[arg(long, value_name = "ID")]
        survey: Option<String>,
        /// csv (one header line, then a line per response) or jsonl (an object per line).
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// The file to write; it is written whole or not at all.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Print what was written as JSON: fields `export` (`file`, `format`, `period`,
        /// `responses`, `columns`).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

impl ExportFormat {
    fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Jsonl => "jsonl",
        }
    }
}

impl From<ExportError> for Error {
    fn from(e: ExportError) -> Error {
        if e.exit_code() == crate::exit::USAGE {
            Error::Usage(e.to_string())
        } else {
            Error::BadInput(e.to_string())
        }
    }
}

pub fn run(
    cmd: &ExportCommand,
    data_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let ExportCommand::Responses {
        period,
        survey,
        format,
        out: file,
        json,
    } = cmd;
    let (registry, diagnostics) = Registry::load(data_dir)?;
    for d in diagnostics.iter().filter(|d| d.is_error()) {
        warn(err, &format!("survey file skipped: {d}"))?;
    }
    let store = super::open_store_read_only(data_dir, err)?;
    let listing = store.list(&ResponseFilter {
        period: Some(*period),
        ..ResponseFilter::default()
    })?;
    if !listing.unreadable.is_empty() {
        for e in &listing.unreadable {
            warn(err, &e.to_string())?;
        }
        return Err(Error::BadInput(format!(
            "{} stored response(s) could not be read, so the export would be incomplete; nothing was written (run `doorstep recover`)",
            listing.unreadable.len()
        )));
    }
    let geography = store.stored_geography()?.or_builtin()?;
    let table = export::build(
        &listing.responses,
        &registry,
        &geography,
        *period,
        survey.as_deref(),
    )?;
    let mut bytes = Vec::new();
    match format {
        ExportFormat::Csv => export::write_csv(&table, &mut bytes),
        ExportFormat::Jsonl => export::write_jsonl(&table, &mut bytes),
    }
    .map_err(|e| Error::Failure(format!("the export could not be built: {e}")))?;
    write_whole(file, &bytes)?;

    let mut f = Fields::new("export");
    f.add("file", file.display().to_string());
    f.add("format", format.as_str());
    f.add("period", period.to_string());
    f.add("responses", table.rows.len());
    f.add("columns", table.columns.len());
    let mut doc = Document::new();
    doc.fields(f);
    if table.rows.is_empty() {
        doc.warning(format!(
            "no completed responses in {period}: the file holds the header only"
        ));
    }
    print(out, &doc, Format::json_if(*json))
}

/// Writes `bytes` to `path` through a temporary file in the same folder, renamed into
/// place: a failure leaves no file, or the earlier one, never half of one.
pub(crate) fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    if path.is_dir() {
        return Err(Error::Usage(format!(
            "{} is a folder: give a file name to write",
            path.display()
        )));
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(&folder).map_err(|e| Error::io(path, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(path, e))?;
    tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}
