//! The top-level error: every command returns it, and the binary maps it to one sentence
//! and an exit code (see [`crate::exit`]).

use std::path::PathBuf;

use crate::exit;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input data is invalid; the diagnostics have already been printed.
    #[error("{0}")]
    BadInput(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Survey(#[from] crate::survey::SurveyError),
    #[error(transparent)]
    Geography(#[from] crate::geography::GeographyError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Export(#[from] crate::store::export::ExportError),
    #[error(transparent)]
    Response(#[from] crate::response::ResponseError),
    #[error(transparent)]
    Seal(#[from] crate::seal::SealError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Failure(String),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::BadInput(_) => exit::DATA_ERR,
            Error::Survey(e) => e.exit_code(),
            Error::Geography(e) => e.exit_code(),
            Error::Store(e) => e.exit_code(),
            Error::Export(e) => e.exit_code(),
            Error::Response(e) => e.exit_code(),
            Error::Seal(e) => e.exit_code(),
            Error::Usage(_) => exit::USAGE,
            Error::Io { .. } | Error::Failure(_) => exit::FAILURE,
        }
    }
}
