//! The fieldwork store: the only module that knows sled.
//!
//! Layout under the data directory:
//! - `doorstep.lock` — held (OS file lock) by the process using the store; holds its pid.
//! - `store/` — the sled database.

mod areas;
mod crime;
mod lock;

use std::path::{Path, PathBuf};

pub use crime::CrimeInsert;
pub use lock::DirLock;

use crate::exit;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("doorstep is already running on {} (pid {pid})", dir.display())]
    Busy { dir: PathBuf, pid: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the store in {} cannot be opened: {source} (run `doorstep recover` to rebuild it from the journal)", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: sled::Error,
    },
    #[error("store error: {0}")]
    Sled(#[from] sled::Error),
    #[error("stored record {key} is unreadable: {message}")]
    Corrupt { key: String, message: String },
}

impl StoreError {
    pub fn exit_code(&self) -> u8 {
        match self {
            StoreError::Busy { .. } => exit::TEMP_FAIL,
            _ => exit::FAILURE,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }
}

/// An open store. Holding it holds the data-directory lock.
pub struct Store {
    db: sled::Db,
    data_dir: PathBuf,
    _lock: DirLock,
}

impl Store {
    /// Opens (creating if needed) the store under `data_dir`. Fails fast with
    /// [`StoreError::Busy`] when another doorstep process holds it.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::io(data_dir, e))?;
        let lock = DirLock::acquire(data_dir)?;
        let db_path = data_dir.join("store");
        let db = sled::Config::new()
            .path(&db_path)
            .open()
            .map_err(|source| StoreError::Open {
                path: db_path.clone(),
                source,
            })?;
        Ok(Store {
            db,
            data_dir: data_dir.to_path_buf(),
            _lock: lock,
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// A named sled tree; each kind of record lives in its own.
    pub(crate) fn tree(&self, name: &str) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(name)?)
    }

    /// Flushes everything written so far to disk (fsync).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}
