//! The fieldwork store: the only module that knows sled.
//!
//! Layout under the data directory:
//! - `doorstep.lock` — held (OS file lock) by the process using the store; holds its pid.
//! - `store/` — the sled database: trees `responses`, `doors`, `settings`, `exports`,
//!   `device_pins` (see [`batches`]), each value a JSON record `{"format": 1, "record": …}`
//!   so it can be inspected.
//! - `device.key` — this device's batch signing key (mode 0600; see [`batches`]).
//! - `journal/journal.jsonl` — the append-only, checksummed journal of finalized
//!   responses, knocks and settings (see [`journal`]); `doorstep recover` rebuilds the
//!   store from it.
//!
//! Every write is flushed (fsync) before the call returns, so whatever the caller was told
//! is saved survives a crash.

mod areas;
pub mod batches;
mod crime;
mod doors;
mod journal;
mod lock;
mod recover;
mod responses;
mod settings;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

pub use crime::CrimeInsert;
pub use journal::{
    CorruptLine, JOURNAL_DIR, JOURNAL_FILE, JournalContents, JournalEntry, encode_line,
    journal_path, read_journal,
};
pub use lock::DirLock;
pub use recover::{RecoveryReport, StoreState, recover};
pub use responses::{Listing, Summaries};

use crate::exit;
use crate::response::{Door, Env, ResponseError, Status};
use crate::seal::SealError;
use journal::Journal;

/// The version of the record layout written to sled and the journal.
pub const FORMAT: u32 = 1;
/// The sled directory under the data directory.
pub const STORE_DIR: &str = "store";

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
    #[error("the store in {} cannot be opened: {message} (run `doorstep recover` to rebuild it from the journal)", path.display())]
    Open { path: PathBuf, message: String },
    #[error("the store in {} is missing but the journal has records (run `doorstep recover` to rebuild it)", path.display())]
    NeedsRecovery { path: PathBuf },
    #[error("store error: {0}")]
    Sled(#[from] sled::Error),
    #[error("stored record {key} is unreadable: {message}")]
    Corrupt { key: String, message: String },
    #[error("a record could not be encoded: {0}")]
    Encode(String),
    #[error("no response with id {id}")]
    NotFound { id: Uuid },
    #[error("response {id} is {status}, not a draft (use a revision to change it)")]
    NotDraft { id: Uuid, status: Status },
    #[error("response {id} is still a draft; only finalized responses can be revised")]
    NotFinal { id: Uuid },
    #[error("response {id} was already revised by {by}; revise that one instead")]
    AlreadyRevised { id: Uuid, by: Uuid },
    #[error("response {id} cannot be finalized as a draft: choose complete, refused or abandoned")]
    FinalizeAsDraft { id: Uuid },
    #[error(
        "question `{question}` is personal and no coordinator recipient is set (`doorstep config set recipient age1…`), so it is skipped rather than stored in the clear"
    )]
    NoRecipient { question: String },
    #[error(
        "`{input}` is not a response id: give the id, or its first characters as shown in the app (hex digits)"
    )]
    BadId { input: String },
    #[error("no response id starts with `{prefix}`")]
    NoSuchPrefix { prefix: String },
    #[error("`{prefix}` is the start of {} response ids ({}): give more of the id", ids.len(), ids.iter().take(5).map(|u| u.to_string()).collect::<Vec<_>>().join(", "))]
    AmbiguousPrefix { prefix: String, ids: Vec<Uuid> },
    #[error("{door} is not in the door log of {area}")]
    NoSuchDoor { area: String, door: Door },
    #[error("{door} is already in the door log of {area}: choose another street or number")]
    DoorExists { area: String, door: Door },
    #[error(
        "{door} has an interview recorded: correct its street or number instead of removing it"
    )]
    DoorInterviewed { area: String, door: Door },
    #[error(transparent)]
    Response(#[from] ResponseError),
    #[error(transparent)]
    Seal(#[from] SealError),
}

impl StoreError {
    pub fn exit_code(&self) -> u8 {
        match self {
            StoreError::Busy { .. } => exit::TEMP_FAIL,
            StoreError::Corrupt { .. } => exit::DATA_ERR,
            StoreError::NotFound { .. }
            | StoreError::NotDraft { .. }
            | StoreError::NotFinal { .. }
            | StoreError::AlreadyRevised { .. }
            | StoreError::FinalizeAsDraft { .. }
            | StoreError::BadId { .. }
            | StoreError::NoSuchPrefix { .. }
            | StoreError::AmbiguousPrefix { .. }
            | StoreError::NoSuchDoor { .. }
            | StoreError::DoorExists { .. }
            | StoreError::DoorInterviewed { .. } => exit::USAGE,
            StoreError::NoRecipient { .. } => exit::DATA_ERR,
            StoreError::Response(e) => e.exit_code(),
            StoreError::Seal(e) => e.exit_code(),
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
    env: Env,
    journal: Mutex<Journal>,
    /// Serialises read-modify-write of records.
    write: Mutex<()>,
    _lock: DirLock,
}

impl Store {
    /// Opens (creating if needed) the store under `data_dir`. Fails fast with
    /// [`StoreError::Busy`] when another doorstep process holds it.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(data_dir, Env::system())
    }

    /// Opens the store with a given clock and id source.
    pub fn open_with(data_dir: &Path, env: Env) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::io(data_dir, e))?;
        let lock = DirLock::acquire(data_dir)?;
        let db_path = data_dir.join(STORE_DIR);
        if !db_path.exists() {
            let jpath = journal_path(data_dir);
            let has_records = std::fs::metadata(&jpath).is_ok_and(|m| m.len() > 0);
            if has_records {
                return Err(StoreError::NeedsRecovery { path: db_path });
            }
        }
        let db = open_db(&db_path)?;
        Store::assemble(db, data_dir, env, lock)
    }

    fn assemble(
        db: sled::Db,
        data_dir: &Path,
        env: Env,
        lock: DirLock,
    ) -> Result<Store, StoreError> {
        let journal = Journal::open(data_dir)?;
        Ok(Store {
            db,
            data_dir: data_dir.to_path_buf(),
            env,
            journal: Mutex::new(journal),
            write: Mutex::new(()),
            _lock: lock,
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn env(&self) -> &Env {
        &self.env
    }

    pub fn journal_path(&self) -> PathBuf {
        journal_path(&self.data_dir)
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

    fn write_guard(&self) -> MutexGuard<'_, ()> {
        self.write.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn append_journal(&self, entry: &JournalEntry) -> Result<(), StoreError> {
        self.journal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .append(entry)
    }
}

/// Opens the sled database at `path`. sled can panic on some damaged files; that is
/// caught and reported like any other failure to open.
fn open_db(path: &Path) -> Result<sled::Db, StoreError> {
    let config = sled::Config::new().path(path);
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| config.open())) {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(e)) => Err(StoreError::Open {
            path: path.to_path_buf(),
            message: e.to_string(),
        }),
        Err(panic) => Err(StoreError::Open {
            path: path.to_path_buf(),
            message: panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "the store engine gave up reading it".to_owned()),
        }),
    }
}

#[derive(Serialize)]
struct RecordOut<'a, T> {
    format: u32,
    record: &'a T,
}

#[derive(serde::Deserialize)]
struct RecordIn<T> {
    format: u32,
    record: T,
}

/// Encodes a record as `{"format": FORMAT, "record": …}`.
fn encode<T: Serialize>(record: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(&RecordOut {
        format: FORMAT,
        record,
    })
    .map_err(|e| StoreError::Encode(e.to_string()))
}

/// Decodes a stored record; `key` names it in errors.
fn decode<T: DeserializeOwned>(key: impl Fn() -> String, bytes: &[u8]) -> Result<T, StoreError> {
    let rec: RecordIn<T> = serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        key: key(),
        message: e.to_string(),
    })?;
    if rec.format != FORMAT {
        return Err(StoreError::Corrupt {
            key: key(),
            message: format!(
                "record format {} is not one this doorstep reads ({FORMAT})",
                rec.format
            ),
        });
    }
    Ok(rec.record)
}
