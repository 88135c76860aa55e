//! `doorstep contacts`: the contact details of respondents who asked to hear back, unsealed
//! with the coordinator's identity. The only command that prints personal data; it says so
//! on standard error every time.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::SecondsFormat;
use clap::{Args, ValueEnum};

use super::{print, remark, warn};
use crate::Error;
use crate::export::contacts::{self, Contacts, ContactsError};
use crate::output::{Cell, Column, Document, Format, Table};
use crate::response::{Period, ResponseFilter};
use crate::seal::CoordinatorIdentity;
use crate::survey::registry::Registry;

#[derive(Debug, Args)]
pub struct ContactsArgs {
    /// The coordinator identity file (written by `doorstep keys new`).
    #[arg(long, value_name = "KEY")]
    pub identity: PathBuf,
    /// Only this area: a priority action area, or a ward or township with the PAAs in it.
    #[arg(long, value_name = "CODE")]
    pub area: Option<String>,
    /// Only this fieldwork quarter, e.g. 2026-Q4.
    #[arg(long, value_name = "P")]
    pub period: Option<Period>,
    /// md (a table to read) or csv (columns `id`, `area`, `period`, `officer`,
    /// `finalized_at`, `purposes`, then one per personal question by its id).
    #[arg(long, value_enum, default_value = "md")]
    pub format: ContactsFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ContactsFormat {
    Md,
    Csv,
}

impl From<ContactsError> for Error {
    fn from(e: ContactsError) -> Error {
        Error::BadInput(e.to_string())
    }
}

/// The largest identity file read: one is a few hundred bytes.
const MAX_IDENTITY: u64 = 64 * 1024;

fn read_identity(path: &Path) -> Result<CoordinatorIdentity, Error> {
    let bytes = crate::input::read_capped(path, MAX_IDENTITY, "identity file")
        .map_err(|e| Error::BadInput(format!("{}: {}", path.display(), e.reason())))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::BadInput(format!("{}: not a text file", path.display())))?;
    CoordinatorIdentity::from_file_text(&text)
        .map_err(|e| Error::BadInput(format!("{}: {e}", path.display())))
}

pub fn run(
    args: &ContactsArgs,
    data_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let identity = read_identity(&args.identity)?;
    let (registry, _diagnostics) = Registry::load(data_dir)?;
    let store = super::open_store_read_only(data_dir, err)?;
    let mut listing = store.list(&ResponseFilter {
        period: args.period,
        ..ResponseFilter::default()
    })?;
    for e in &listing.unreadable {
        warn(err, &e.to_string())?;
    }
    if let Some(area) = &args.area {
        let codes = super::responses::area_codes(&store.stored_geography()?.or_builtin()?, area);
        listing
            .responses
            .retain(|r| codes.iter().any(|c| c.eq_ignore_ascii_case(&r.area)));
    }
    let found = contacts::contacts(&listing.responses, &registry, &identity)?;
    remark(
        err,
        &format!(
            "this output holds personal data: the contact details of {} respondent(s). Use them only for what each agreed to (purposes), keep them off shared drives, and delete them when done.",
            found.contacts.len()
        ),
    )?;
    let format = match args.format {
        ContactsFormat::Md => Format::Markdown,
        ContactsFormat::Csv => Format::Csv,
    };
    print(out, &document(&found), format)
}

fn document(found: &Contacts<'_>) -> Document {
    let mut columns = vec![
        Column::text("id", "Response"),
        Column::text("area", "Area"),
        Column::text("period", "Period"),
        Column::text("officer", "Officer"),
        Column::time("finalized_at", "Finalized (UTC)"),
        Column::text("purposes", "Agreed to"),
    ];
    for (id, text) in &found.questions {
        columns.push(Column::text(id, text));
    }
    let mut table = Table::new("contacts", columns).when_empty("nobody asked to hear back");
    for c in &found.contacts {
        let r = c.response;
        let mut row = vec![
            Cell::from(r.id.to_string()),
            Cell::from(&r.area),
            Cell::from(r.period.to_string()),
            Cell::from(&r.interviewer),
            Cell::from(
                r.finalized_at
                    .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
            ),
            Cell::from(c.purposes.join(" ")),
        ];
        row.extend(c.values.iter().map(|v| Cell::from(v.clone())));
        table.push(row);
    }
    let mut doc = Document::new();
    doc.heading("Contacts: personal data, not for publication");
    doc.table(table);
    doc
}
