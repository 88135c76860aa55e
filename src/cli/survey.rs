//! `doorstep survey check|list|show`.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::emit;
use crate::Error;
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
    },
    /// List the available surveys: built-in and from the data directory.
    List,
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

pub fn run(cmd: &SurveyCommand, data_dir: &Path, out: &mut dyn Write) -> Result<(), Error> {
    match cmd {
        SurveyCommand::Check { paths } => check(paths, out),
        SurveyCommand::List => list(data_dir, out),
        SurveyCommand::Show { id, version, lang } => {
            show(data_dir, id, *version, lang.as_deref(), out)
        }
    }
}

fn check(paths: &[PathBuf], out: &mut dyn Write) -> Result<(), Error> {
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
    let mut text = String::new();
    for d in &diagnostics {
        text.push_str(&d.to_string());
        text.push('\n');
    }
    let surveys = loaded.surveys.len();
    text.push_str(&format!(
        "checked {} file(s): {surveys} survey(s) ok, {errors} error(s), {warnings} warning(s)\n",
        files.len()
    ));
    emit(out, &text)?;
    if errors > 0 {
        return Err(SurveyError::Invalid { count: errors }.into());
    }
    Ok(())
}

fn load_registry(data_dir: &Path) -> Result<Registry, Error> {
    let (registry, diagnostics) = Registry::load(data_dir)?;
    // Broken files in the data dir must not hide the working surveys; say what was skipped.
    for d in diagnostics {
        eprintln!("{d}");
    }
    Ok(registry)
}

fn list(data_dir: &Path, out: &mut dyn Write) -> Result<(), Error> {
    let registry = load_registry(data_dir)?;
    let rows: Vec<[String; 7]> = registry
        .entries()
        .iter()
        .map(|e| {
            let s = &e.survey;
            [
                s.id.clone(),
                s.version.to_string(),
                s.kind.to_string(),
                s.title.get("en").to_owned(),
                s.answerable_count().to_string(),
                short_fingerprint(&s.fingerprint).to_owned(),
                e.source.to_string(),
            ]
        })
        .collect();
    let header = [
        "ID",
        "VERSION",
        "KIND",
        "TITLE",
        "QUESTIONS",
        "FINGERPRINT",
        "SOURCE",
    ]
    .map(String::from);
    emit(out, &table(&header, &rows))
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
) -> Result<(), Error> {
    let registry = load_registry(data_dir)?;
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
    emit(out, &paper::render(survey, lang))
}

/// A plain left-aligned table, columns two spaces apart.
pub fn table(header: &[String], rows: &[impl AsRef<[String]>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.as_ref().iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let mut l = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else {
                let pad = widths[i] - cell.chars().count();
                l.push_str(cell);
                l.push_str(&" ".repeat(pad + 2));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header);
    for row in rows {
        line(row.as_ref());
    }
    out
}
