//! `doorstep export responses`: the raw table for analysts (see `EXPORT.md`).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};

use super::{print, warn};
use crate::Error;
use crate::export::{self, ExportError, Head};
use crate::output::{Document, Fields, Format};
use crate::response::Period;
use crate::store::InPeriod;
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
    // First what is chosen and in what order (no answers decoded), then each chosen
    // response read and written as its row: no more than one response in memory.
    let mut heads = Vec::new();
    // Only the period's records are read when the store's index of periods allows.
    let unreadable = store.each_in_period(*period, false, |r| {
        let InPeriod::Stored(r) = r else {
            return Ok(());
        };
        if r.period == *period && survey.as_deref().is_none_or(|s| r.survey_id == s) {
            heads.push(Head {
                id: r.id,
                survey_id: r.survey_id,
                survey_version: r.survey_version,
                fingerprint: r.fingerprint,
                started_at: r.started_at,
                status: r.status,
                replaces: r.replaces,
            });
        }
        Ok(())
    })?;
    let incomplete = |n: usize| {
        Error::BadInput(format!(
            "{n} stored response(s) could not be read, so the export would be incomplete; nothing was written (run `doorstep recover`)"
        ))
    };
    if !unreadable.is_empty() {
        for e in &unreadable {
            warn(err, &e.to_string())?;
        }
        return Err(incomplete(unreadable.len()));
    }
    let geography = store.stored_geography()?.or_builtin()?;
    let plan = export::plan(heads, &registry, *period, survey.as_deref())?;
    let mut unreadable = None;
    let written = write_streamed(file, |out| {
        let failed =
            |e: std::io::Error| Error::Failure(format!("the export could not be built: {e}"));
        // Each chosen response's row in turn; `None` once one cannot be read.
        let mut rows = plan.chosen.iter().map(|(id, s)| match store.get(*id) {
            Ok(r) => Some(plan.row(&r, s, &geography)),
            Err(e) => {
                unreadable = Some(e);
                None
            }
        });
        match format {
            ExportFormat::Csv => {
                let mut w = export::csv_writer(&mut *out, &plan.columns).map_err(failed)?;
                for row in rows.by_ref() {
                    let Some(row) = row else { return Ok(false) };
                    export::csv_row(&mut w, &row).map_err(failed)?;
                }
                w.flush().map_err(failed)?;
            }
            ExportFormat::Jsonl => {
                for row in rows.by_ref() {
                    let Some(row) = row else { return Ok(false) };
                    export::jsonl_row(&plan.columns, &row, &mut *out).map_err(failed)?;
                }
            }
        }
        Ok(true)
    })?;
    if let (false, Some(e)) = (written, unreadable) {
        warn(err, &e.to_string())?;
        return Err(incomplete(1));
    }

    let mut f = Fields::new("export");
    f.add("file", file.display().to_string());
    f.add("format", format.as_str());
    f.add("period", period.to_string());
    f.add("responses", plan.chosen.len());
    f.add("columns", plan.columns.len());
    let mut doc = Document::new();
    doc.fields(f);
    if plan.chosen.is_empty() {
        doc.warning(format!(
            "no completed responses in {period}: the file holds the header only"
        ));
    }
    print(out, &doc, Format::json_if(*json))
}

/// Writes to `path` through a temporary file in the same folder, renamed into place when
/// `write` returns `Ok(true)`; with `Ok(false)` or an error nothing is written (the earlier
/// file, if any, stays).
pub(crate) fn write_streamed(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<bool, Error>,
) -> Result<bool, Error> {
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
    let tmp = tempfile::NamedTempFile::new_in(&folder).map_err(|e| Error::io(path, e))?;
    let mut out = std::io::BufWriter::new(tmp);
    if !write(&mut out)? {
        return Ok(false);
    }
    let tmp = out
        .into_inner()
        .map_err(|e| Error::io(path, e.into_error()))?;
    tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::response::{Env, NewResponse, Status};
    use crate::store::Store;
    use crate::survey::{Answer, QuestionKind};

    #[test]
    fn a_chosen_response_unreadable_when_its_row_is_written_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let registry = Registry::builtin().unwrap();
        let kin = registry.get("kin", None).unwrap();
        let at = Utc.with_ymd_and_hms(2026, 10, 5, 9, 0, 0).unwrap();
        let store = Store::open_with(&data, Env::manual(at).0).unwrap();
        let r = store
            .create_draft(NewResponse {
                survey_id: kin.id.clone(),
                survey_version: kin.version,
                fingerprint: kin.fingerprint.clone(),
                area: "E05000841".into(),
                period: None,
                interviewer: "PC 1".into(),
                device: "D1".into(),
                language: "en".into(),
                started_at: at,
            })
            .unwrap();
        let q = kin
            .questions
            .iter()
            .find(|q| matches!(q.kind, QuestionKind::YesNo) && !q.personal)
            .unwrap();
        store
            .record_answer(r.id, q, Answer::YesNo(true), at)
            .unwrap();
        store.finalize(r.id, Status::Complete, at).unwrap();
        // The answer garbled in the stored record, the record around it intact: it is
        // chosen from its head, and found unreadable only when its row is built.
        let tree = store.tree("responses").unwrap();
        let text = String::from_utf8(tree.get(r.id.as_bytes()).unwrap().unwrap().to_vec()).unwrap();
        let garbled = text.replace(r#""type":"yes_no""#, r#""type":"garbled""#);
        assert_ne!(garbled, text);
        tree.insert(r.id.as_bytes(), garbled.as_bytes()).unwrap();
        store.flush().unwrap();
        drop(tree);
        drop(store);

        let file = dir.path().join("out.csv");
        std::fs::write(&file, "earlier export\n").unwrap();
        let cmd = ExportCommand::Responses {
            period: "2026-Q4".parse().unwrap(),
            survey: None,
            format: ExportFormat::Csv,
            out: file.clone(),
            json: false,
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let e = run(&cmd, &data, &mut out, &mut err).unwrap_err();
        assert_eq!(e.exit_code(), crate::exit::DATA_ERR);
        assert!(
            e.to_string()
                .contains("1 stored response(s) could not be read"),
            "{e}"
        );
        let err = String::from_utf8(err).unwrap();
        assert!(err.contains(&r.id.to_string()), "{err}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "earlier export\n");
        // Nothing else in the folder: no temporary file left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        // The stored record is as it was.
        let store = Store::open_with(&data, Env::manual(at).0).unwrap();
        let tree = store.tree("responses").unwrap();
        assert_eq!(
            tree.get(r.id.as_bytes()).unwrap().unwrap().as_ref(),
            garbled.as_bytes()
        );
    }
}
