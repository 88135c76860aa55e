//! Geography for the PACT cycle: boundary layers (wards, LSOAs, priority action areas), the
//! area plan grouping wards into townships, point location, grid references, and police.uk
//! street-level crime. Pure domain code: no store, no terminal.

pub mod bng;
pub mod boundary;
pub mod builtin;
pub mod crime;
mod grid;
pub mod index;
pub mod plan;
mod prepared;
pub mod validity;

use std::path::PathBuf;

pub use boundary::{Area, Layer, LayerChange, Level};
pub use index::{AreaRef, AreaSelection, Geography, Located, Locator};
pub use plan::{AreaPlan, Paa, Township};

use crate::exit;

#[derive(Debug, thiserror::Error)]
pub enum GeographyError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid JSON/GeoJSON at all.
    #[error("{file}:{line}:{column}: not valid GeoJSON: {message}")]
    Json {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// A problem with a whole file (its structure, its CRS, its columns).
    #[error("{file}: {message}")]
    File { file: String, message: String },
    /// A problem with one feature of a boundary file.
    #[error("{file}: feature {code} ({name}): {problem}")]
    Feature {
        file: String,
        code: String,
        name: String,
        problem: String,
    },
    /// Several features are bad; each was reported on its own line.
    #[error("{file}: {count} feature(s) rejected:\n{details}")]
    Features {
        file: String,
        count: usize,
        details: String,
    },
    /// A TOML file (area plan, issue taxonomy) that does not parse or holds a bad value.
    #[error("{file}:{line}:{column}: {message}")]
    Toml {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// Several problems in an area plan; each is on its own `file:line:col:` line.
    #[error("{count} problem(s) in the area plan:\n{details}")]
    PlanProblems { count: usize, details: String },
    #[error("bad grid reference `{input}`: {reason}")]
    GridRef { input: String, reason: String },
    #[error("{0}")]
    Coordinate(String),
    #[error("no area with code or name `{0}` (see `doorstep areas list --tree`)")]
    UnknownArea(String),
    #[error("{0}")]
    Usage(String),
}

impl GeographyError {
    pub fn exit_code(&self) -> u8 {
        match self {
            GeographyError::Io { .. } => exit::FAILURE,
            GeographyError::Json { .. }
            | GeographyError::File { .. }
            | GeographyError::Feature { .. }
            | GeographyError::Features { .. }
            | GeographyError::Toml { .. }
            | GeographyError::PlanProblems { .. } => exit::DATA_ERR,
            GeographyError::GridRef { .. }
            | GeographyError::Coordinate(_)
            | GeographyError::UnknownArea(_)
            | GeographyError::Usage(_) => exit::USAGE,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        GeographyError::Io {
            path: path.into(),
            source,
        }
    }
}

/// The largest boundary (GeoJSON) or area plan file read. A council's full-resolution ward
/// boundaries are tens of MB; parsing takes about three times the file size in memory.
pub const MAX_BOUNDARY_FILE: u64 = 200 * 1024 * 1024;

/// Reads a whole input file (at most [`MAX_BOUNDARY_FILE`]), naming it in the error.
pub(crate) fn read_file(path: &std::path::Path) -> Result<String, GeographyError> {
    use crate::input::{InputError, read_capped};
    let bytes =
        read_capped(path, MAX_BOUNDARY_FILE, "boundary or plan file").map_err(|e| match e {
            InputError::Io { source, .. } => GeographyError::io(path, source),
            too_large @ InputError::TooLarge { .. } => GeographyError::File {
                file: path.display().to_string(),
                message: too_large.reason(),
            },
        })?;
    String::from_utf8(bytes).map_err(|e| GeographyError::File {
        file: path.display().to_string(),
        message: format!(
            "not UTF-8 text (bad byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
    })
}
