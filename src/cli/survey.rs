//! `doorstep survey check|list|show`.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::print;
use crate::Error;
use crate::output::{
    Align, Cell, Column, Document, Fields, Format, Item, Outline, Table, escape_keeping_lines,
};
use crate::survey::SurveyError;
use crate::survey::diagnostic::{Diagnostic, Severity};
use crate::survey::load::load_set;
use crate::survey::paper;
use crate::survey::registry::{self, Registry};

#[derive(Debug, Subcommand)]
pub enum SurveyCommand {
    /// Check survey definition files (or folders of them); report every problem.
    Check {
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Print JSON: outline `diagnostics` (`file`, `line`, `col`, `severity`, `message`)
        /// and fields `checked` (`files`, `surveys`, `errors`, `warnings`).
        #[arg(long)]
        json: bool,
    },
    /// List the available surveys: built-in and from the data directory.
    List {
        /// Print JSON: table `surveys` with `id`, `version`, `kind`, `title` (English),
        /// `questions`, `fingerprint` (in full), `source`.
        #[arg(long)]
        json: bool,
    },
    /// Print a questionnaire as readable text (the paper fallback).
    Show {
        /// Survey id, e.g. kin or eva.
        id: String,
        /// A specific version (default: the highest).
        #[arg(long)]
        version: Option<u32>,
        /// Language code, e.g. en or pl (default: en).
        #[arg(long, value_name = "CODE")]
        lang: Option<String>,
    },
}

pub fn run(
    cmd: &SurveyCommand,
    data_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    match cmd {
        SurveyCommand::Check { paths, json } => check(paths, Format::json_if(*json), out),
        SurveyCommand::List { json } => list(data_dir, Format::json_if(*json), out, err),
        SurveyCommand::Show { id, version, lang } => {
            show(data_dir, id, *version, lang.as_deref(), out, err)
        }
    }
}

fn check(paths: &[PathBuf], format: Format, out: &mut dyn Write) -> Result<(), Error> {
    let mut files = Vec::new();
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    for path in paths {
        if path.is_dir() {
            let (f, d) = registry::read_folder(path);
            if f.is_empty() && d.is_empty() {
                diagnostics.push(Diagnostic {
                    file: path.display().to_string(),
                    line: 1,
                    col: 1,
                    severity: Severity::Warning,
                    message: "the folder holds no .toml files".into(),
                });
            }
            files.extend(f);
            diagnostics.extend(d);
        } else {
            match registry::read_file(path) {
                Ok(f) => files.push(f),
                Err(d) => diagnostics.push(d),
            }
        }
    }
    let loaded = load_set(&files, &registry::builtin_files());
    diagnostics.extend(loaded.diagnostics);
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let items = diagnostics
        .iter()
        .map(|d| {
            Item::new(d.to_string())
                .field("file", &d.file)
                .field("line", d.line)
                .field("col", d.col)
                .field("severity", if d.is_error() { "error" } else { "warning" })
                .field("message", &d.message)
        })
        .collect();
    let surveys = loaded.surveys.len();
    let mut summary = Fields::new("checked");
    summary.add_hidden("files", files.len());
    summary.add_hidden("surveys", surveys);
    summary.add_hidden("errors", errors);
    summary.add_hidden("warnings", warnings);
    let mut doc = Document::new();
    doc.outline(Outline::new("diagnostics", items));
    doc.paragraph(format!(
        "checked {} file(s): {surveys} survey(s) ok, {errors} error(s), {warnings} warning(s)",
        files.len()
    ));
    doc.fields(summary);
    print(out, &doc, format)?;
    if errors > 0 {
        return Err(SurveyError::Invalid { count: errors }.into());
    }
    Ok(())
}

fn load_registry(data_dir: &Path, err: &mut dyn Write) -> Result<Registry, Error> {
    let (registry, diagnostics) = Registry::load(data_dir)?;
    // Broken files in the data dir must not hide the working surveys; say what was skipped.
    for d in diagnostics {
        writeln!(err, "{}", escape_keeping_lines(&d.to_string()))
            .map_err(|e| Error::io("standard error", e))?;
    }
    Ok(registry)
}

fn list(
    data_dir: &Path,
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let registry = load_registry(data_dir, err)?;
    let mut table = Table::new(
        "surveys",
        vec![
            Column::text("id", "ID"),
            Column::integer("version", "VERSION").align(Align::Left),
            Column::text("kind", "KIND"),
            Column::text("title", "TITLE"),
            Column::integer("questions", "QUESTIONS").align(Align::Left),
            Column::text("fingerprint", "FINGERPRINT"),
            Column::text("source", "SOURCE"),
        ],
    )
    .when_empty("no surveys");
    for e in registry.entries() {
        let s = &e.survey;
        table.push(vec![
            Cell::from(&s.id),
            Cell::from(s.version),
            Cell::from(s.kind.to_string()),
            Cell::from(s.title.get("en")),
            Cell::from(s.answerable_count()),
            Cell::from(&s.fingerprint).shown_as(short_fingerprint(&s.fingerprint)),
            Cell::from(e.source.to_string()),
        ]);
    }
    let mut doc = Document::new();
    doc.table(table);
    print(out, &doc, format)
}

/// The first 12 hex digits: enough to tell versions apart at a glance.
pub fn short_fingerprint(fp: &str) -> &str {
    let hex = fp.strip_prefix("sha256:").unwrap_or(fp);
    hex.get(..12).unwrap_or(hex)
}

fn show(
    data_dir: &Path,
    id: &str,
    version: Option<u32>,
    lang: Option<&str>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let registry = load_registry(data_dir, err)?;
    let survey = registry
        .get(id, version)
        .ok_or_else(|| SurveyError::NotFound {
            id: id.to_owned(),
            version,
        })?;
    let lang = lang.unwrap_or("en");
    if !survey.languages.iter().any(|l| l == lang) {
        return Err(Error::Usage(format!(
            "survey `{}` is not offered in `{lang}` (it offers: {})",
            survey.id,
            survey.languages.join(", ")
        )));
    }
    let mut doc = Document::new();
    doc.preformatted("questionnaire", paper::render(survey, lang));
    print(out, &doc, Format::Text)
}
