//! The surveys available on this device: the built-in ones compiled into the binary, plus
//! files in `<data-dir>/surveys/`, which add surveys or replace a built-in of the same id
//! and version.

use std::fmt;
use std::path::{Path, PathBuf};

use super::SurveyError;
use super::diagnostic::{Diagnostic, Severity, SourceFile};
use super::load::{FileRole, load_set};
use super::model::Survey;
use crate::input::{InputError, read_capped};

/// The built-in definition files, exactly as in the repository's `surveys/` folder. Every
/// released version of a built-in survey stays here unchanged: responses collected on it
/// (laptops not yet upgraded send them for weeks) must still open, validate and report.
pub const BUILTIN: [(&str, &str); 8] = [
    ("issues.toml", include_str!("../../surveys/issues.toml")),
    ("scales.toml", include_str!("../../surveys/scales.toml")),
    ("words.toml", include_str!("../../surveys/words.toml")),
    ("kin.toml", include_str!("../../surveys/kin.toml")),
    ("kin_v2.toml", include_str!("../../surveys/kin_v2.toml")),
    (
        "kin_youth_v1.toml",
        include_str!("../../surveys/kin_youth_v1.toml"),
    ),
    ("eva.toml", include_str!("../../surveys/eva.toml")),
    ("eva_v2.toml", include_str!("../../surveys/eva_v2.toml")),
];

pub fn builtin_files() -> Vec<SourceFile> {
    BUILTIN
        .iter()
        .map(|(name, text)| SourceFile::new(format!("built-in:{name}"), *text))
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    BuiltIn,
    File(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::BuiltIn => f.write_str("built-in"),
            Source::File(p) => write!(f, "{}", p.display()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub survey: Survey,
    pub source: Source,
}

#[derive(Debug, Clone, Default)]
pub struct Registry {
    entries: Vec<Entry>,
}

impl Registry {
    /// Only the built-in surveys.
    pub fn builtin() -> Result<Registry, SurveyError> {
        let files = builtin_files();
        let loaded = load_set(&files, &[]);
        if loaded.error_count() > 0 {
            // The test suite keeps this from ever shipping; say what broke if it does.
            let first = loaded
                .diagnostics
                .iter()
                .find(|d| d.is_error())
                .map(ToString::to_string)
                .unwrap_or_default();
            return Err(SurveyError::BuiltIn(first));
        }
        Ok(Registry {
            entries: loaded
                .surveys
                .into_iter()
                .map(|(survey, _)| Entry {
                    survey,
                    source: Source::BuiltIn,
                })
                .collect(),
        })
    }

    /// Built-in surveys plus those in `<data_dir>/surveys/`. A broken file there is
    /// reported in the returned diagnostics and skipped; the rest still load.
    pub fn load(data_dir: &Path) -> Result<(Registry, Vec<Diagnostic>), SurveyError> {
        let mut registry = Registry::builtin()?;
        let dir = data_dir.join("surveys");
        if !dir.is_dir() {
            return Ok((registry, Vec::new()));
        }
        let (files, mut diagnostics) = read_folder(&dir);
        let loaded = load_set(&files, &builtin_files());
        diagnostics.extend(loaded.diagnostics);
        for (survey, i) in loaded.surveys {
            let path = PathBuf::from(&files[i].name);
            registry
                .entries
                .retain(|e| !(e.survey.id == survey.id && e.survey.version == survey.version));
            registry.entries.push(Entry {
                survey,
                source: Source::File(path),
            });
        }
        registry.entries.sort_by(|a, b| {
            (&a.survey.id, a.survey.version).cmp(&(&b.survey.id, b.survey.version))
        });
        Ok((registry, diagnostics))
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// A survey by id: the given version, or the highest version when `None`.
    pub fn get(&self, id: &str, version: Option<u32>) -> Option<&Survey> {
        self.entries
            .iter()
            .filter(|e| e.survey.id == id && version.is_none_or(|v| e.survey.version == v))
            .map(|e| &e.survey)
            .max_by_key(|s| s.version)
    }

    pub fn by_fingerprint(&self, fingerprint: &str) -> Option<&Survey> {
        self.entries
            .iter()
            .map(|e| &e.survey)
            .find(|s| s.fingerprint == fingerprint)
    }
}

/// Reads every `*.toml` in a folder (sorted, so reports are stable). Unreadable files
/// become diagnostics rather than failures.
pub fn read_folder(dir: &Path) -> (Vec<SourceFile>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut diagnostics = Vec::new();
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect(),
        Err(e) => {
            diagnostics.push(io_diagnostic(dir, &e));
            return (files, diagnostics);
        }
    };
    paths.sort();
    for p in paths {
        // A FIFO or device named `*.toml` would block or never end; only plain files are read.
        if !p.is_file() {
            diagnostics.push(Diagnostic {
                file: p.display().to_string(),
                line: 1,
                col: 1,
                severity: Severity::Error,
                message: "not a regular file; skipped".into(),
            });
            continue;
        }
        match read_file(&p) {
            Ok(f) => files.push(f),
            Err(d) => diagnostics.push(d),
        }
    }
    (files, diagnostics)
}

/// The largest survey definition file read. The built-in KIN survey is under 40 KB; a file
/// far beyond this is not a questionnaire (or is endless, like `/dev/zero`).
pub const MAX_SURVEY_FILE: u64 = 2 * 1024 * 1024;

pub fn read_file(path: &Path) -> Result<SourceFile, Diagnostic> {
    match read_capped(path, MAX_SURVEY_FILE, "survey file") {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Ok(SourceFile::new(path.display().to_string(), text)),
            Err(e) => {
                let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                let text = String::from_utf8_lossy(valid);
                let file = SourceFile::new(path.display().to_string(), text.clone());
                let (line, col) = file.line_col(text.len());
                Err(Diagnostic {
                    file: file.name,
                    line,
                    col,
                    severity: Severity::Error,
                    message: "the file is not valid UTF-8 text".into(),
                })
            }
        },
        Err(InputError::Io { source, .. }) => Err(io_diagnostic(path, &source)),
        Err(too_large @ InputError::TooLarge { .. }) => Err(Diagnostic {
            file: path.display().to_string(),
            line: 1,
            col: 1,
            severity: Severity::Error,
            message: too_large.reason(),
        }),
    }
}

fn io_diagnostic(path: &Path, e: &std::io::Error) -> Diagnostic {
    Diagnostic {
        file: path.display().to_string(),
        line: 1,
        col: 1,
        severity: Severity::Error,
        message: format!("cannot read: {e}"),
    }
}

/// Whether a file name is one of the shared lists rather than a survey.
pub fn is_shared_list(name: &str) -> bool {
    FileRole::of(name) != FileRole::Survey
}
