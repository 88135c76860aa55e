//! The fieldwork store: the only module that knows sled.
//!
//! Layout under the data directory:
//! - `doorstep.lock` — held (OS file lock) by the process using the store; holds its pid.
//! - `store/` — the sled database: trees `responses`, `doors`, `settings`, `actions`, `exports`,
//!   `device_pins` (see [`batches`]), each value a JSON record `{"format": 1, "record": …}`
//!   so it can be inspected; tree `meta` holds the journal mark and the door corrections and
//!   removals made on this device (for its exports). Beside sled's files,
//!   `closed-at-journal` (the journal's length at the last clean close; see
//!   [`Store::open_read_only`]) and `home-counts` (home's counts at that close, for the
//!   field app to show before sled opens; see [`home_file`]).
//! - `device.key` — this device's batch signing key (mode 0600; see [`batches`]).
//! - `journal/journal.jsonl` — the append-only, checksummed journal of drafts and their
//!   answers, finalized responses, doors, knocks, settings, actions, merges and device
//!   pins (see [`journal`]); `doorstep recover` rebuilds the store from it (trees not
//!   journaled, such as `exports`, are copied over from the old store).
//! - `recovering` — present while `doorstep recover` rebuilds the store; nothing else
//!   opens the store until a recover completes.
//!
//! Durability. Every journaled write (an answer, a finalized response, a door, a knock, a
//! setting, an action, a device pin) is appended to the journal and made durable with one
//! `fdatasync` before the caller is told it is saved; then it goes to sled with the journal
//! mark it reflects (tree `meta`), in memory. sled writes its log to disk by itself every
//! [`FLUSH_EVERY_MS`] ms, and the store flushes it on every clean close (dropping the
//! [`Store`]), when the field app changes screen, and after writes that are not journaled
//! (typed-but-unconfirmed text, merges, exports, boundaries). So the journal is the
//! durable record and sled may be up to a flush behind it after a kill or a power
//! cut. sled recovers a prefix of its own writes (its log is replayed up to the first
//! incomplete write), so its mark never claims more than it holds, and it never holds
//! more than the journal (the journal is synced first); at the next open the journal's
//! tail past the mark is replayed in order, which reproduces exactly the state that was
//! acknowledged. A short tail ([`QUIET_TAIL`] entries or fewer) is what an unexpected
//! close leaves and is only logged; a longer one means sled lost more than its last flush
//! and the user is told. Unjournaled state written since the last flush (the question to
//! resume a draft at) can be lost by a kill; nothing the resident said can.
//!
//! Damage at rest breaks the prefix argument: sled, reading a damaged file, may stop short
//! of writes it had flushed and also lose records from well before its mark, and nothing
//! in its files says so. A clean close records the mark sled holds ([`CLOSED_FILE`]); an
//! open that finds another mark refuses, read or write, until `recover` has rebuilt the
//! store from the whole journal (replaying the tail would look whole and not be).

mod actions;
mod areas;
pub mod batches;
mod crime;
mod doors;
pub mod export;
mod home_file;
mod journal;
mod kept_counts;
mod lock;
pub mod merge;
pub mod merge_actions;
mod merge_doors;
mod own;
mod periods;
mod recover;
mod replay;
mod responses;
mod revisions;
mod settings;
mod tallies;
#[cfg(test)]
mod test_support;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

pub use actions::ActionListing;
pub use crime::CrimeInsert;
pub use home_file::{DayCount, HOME_COUNTS_FILE, HomeCounts};
pub use journal::{
    CorruptLine, DoorChangeMeta, JOURNAL_DIR, JOURNAL_FILE, JournalContents, JournalEntry,
    JournalMark, each_journal_entry, encode_line, journal_path, read_journal,
};
pub use kept_counts::CountsStamp;
use lock::FilesHold;
pub use lock::{DirLock, Hold, LOCK_FILE};
pub use merge::{
    Conflict, ConflictVersion, DryRun, FileCheck, Gap, MergeCounts, MergeResult, MergedBatch,
    PinCheck, Refusal, Rejection, Source, Stage, Verified, batch_files,
};
pub use merge_actions::{ActionConflict, ActionVersion, ActionVersions};
pub use own::NotExported;
pub use periods::{InPeriod, InPeriodUnread, RawRecord};
pub use recover::{RecoveryReport, StoreState, recover, recover_in_slices};
pub use responses::{Listing, StoredResponse, Summaries, id_prefix};
pub use tallies::{Completed, Tallies};

use crate::exit;
use crate::response::{Door, Env, ResponseError, Status};
use crate::seal::SealError;
use journal::Journal;

/// The version of the record layout written to sled and the journal.
pub const FORMAT: u32 = 1;
/// The sled directory under the data directory.
pub const STORE_DIR: &str = "store";
/// In the sled directory: the journal's length when the store was last closed cleanly
/// (removed when it is opened for writing), so a read can tell without opening sled
/// whether the store's own files may be read where they are.
pub const CLOSED_FILE: &str = "closed-at-journal";
/// Present in the data directory while a recover is rebuilding the store.
pub const RECOVERING_FILE: &str = "recovering";
/// The tree holding the journal mark.
const META: &str = "meta";
const MARK_KEY: &str = "journal";
/// How often sled writes its log to disk by itself (sled's default, stated here because
/// the durability argument above leans on it).
pub const FLUSH_EVERY_MS: u64 = 500;
/// sled's page cache. Its default is 1 GiB, which a coordinator's store of 100,000
/// responses fills; reads past the cache go to the OS page cache, which is shared and
/// given back under pressure, so a small bound costs little. sled holds well beyond it
/// (pages read past the bound, new versions of what it writes): 32 MiB rather than 64 MiB
/// took 25-30 MB off the peak of a merge into a store of 1,000,000 responses, for 3-10 %
/// more time (BENCHMARKS.md).
pub const CACHE_BYTES: u64 = 32 * 1024 * 1024;
/// A journal tail this short after an unexpected close is what the background flush had
/// not written yet: replayed quietly (logged). Ten seconds of brisk answering fits easily.
pub const QUIET_TAIL: usize = 64;

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
    #[error(
        "the store is damaged ({message}): run `doorstep recover` to rebuild it from the journal"
    )]
    Damaged { message: String },
    #[error("the disk holding {} is full: free some space and start again", path.display())]
    DiskFull { path: PathBuf },
    #[error("reading this store needs a private copy of its files ({}), since it was not closed in step with its journal or another reader has it open, but the disk holding {} has {} free: start `doorstep` once (opening it for writing brings it into step), or set TMPDIR to a folder on a disk with room, and read again", gigabytes(*needed), dir.display(), gigabytes(*free))]
    NoRoomForCopy {
        needed: u64,
        free: u64,
        dir: PathBuf,
    },
    #[error("doorstep may not write to {} ({source}): give your user write access to the data directory and start again", path.display())]
    NoAccess {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("a `doorstep recover` in {} was interrupted before it finished: run `doorstep recover` again to complete it", dir.display())]
    RecoveryInterrupted { dir: PathBuf },
    #[error("the journal {} has {lines} line(s) but none could be read (line {first_line}: {first_reason}); nothing was restored and nothing was changed", path.display())]
    UnreadableJournal {
        path: PathBuf,
        lines: usize,
        first_line: usize,
        first_reason: String,
    },
    #[error("{}: {reason}", path.display())]
    NotDataDir { path: PathBuf, reason: String },
    #[error("the store was opened read-only for this command and cannot be changed")]
    ReadOnly,
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
    #[error("{}: refused, nothing of it merged: {reason}", path.display())]
    BatchRefused { path: PathBuf, reason: String },
    #[error("response {id} has no conflict to resolve (`doorstep batch conflicts` lists them)")]
    NoConflict { id: Uuid },
    #[error("the conflict of response {id} has no version {asked}: it has {versions} (A to {last})", last = merge::Conflict::letter(versions.saturating_sub(1)))]
    NoSuchVersion {
        id: Uuid,
        asked: String,
        versions: usize,
    },
    #[error("`{input}` is not an action id: give the id, or its first characters (hex digits)")]
    BadActionId { input: String },
    #[error("no action id is or starts with `{input}` (see `doorstep actions list`)")]
    NoSuchAction { input: String },
    #[error("`{prefix}` is the start of {} action ids ({}): give more of the id", ids.len(), ids.iter().take(5).map(|u| u.to_string()).collect::<Vec<_>>().join(", "))]
    AmbiguousAction { prefix: String, ids: Vec<Uuid> },
    #[error(transparent)]
    Action(#[from] crate::action::ActionError),
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
            | StoreError::DoorInterviewed { .. }
            | StoreError::NoConflict { .. }
            | StoreError::NoSuchVersion { .. }
            | StoreError::BadActionId { .. }
            | StoreError::NoSuchAction { .. }
            | StoreError::AmbiguousAction { .. } => exit::USAGE,
            StoreError::BatchRefused { .. } => exit::DATA_ERR,
            StoreError::Action(e) => e.exit_code(),
            StoreError::NoRecipient { .. } | StoreError::UnreadableJournal { .. } => exit::DATA_ERR,
            StoreError::NotDataDir { .. } => exit::USAGE,
            StoreError::Response(e) => e.exit_code(),
            StoreError::Seal(e) => e.exit_code(),
            _ => exit::FAILURE,
        }
    }

    /// An I/O error on `path`, told apart by kind: a full disk and a refused write are not
    /// damage, and recovering would not help.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        use std::io::ErrorKind;
        let path = path.into();
        match source.kind() {
            ErrorKind::StorageFull | ErrorKind::QuotaExceeded => StoreError::DiskFull { path },
            ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
                StoreError::NoAccess { path, source }
            }
            _ => StoreError::Io { path, source },
        }
    }

    /// Whether this error means the store's files are damaged (so `recover` is the cure).
    pub fn is_damage(&self) -> bool {
        matches!(self, StoreError::Open { .. } | StoreError::Damaged { .. })
    }

    /// A sled error on the store at `path`: I/O by kind, anything else is damage.
    fn from_sled(path: &Path, e: sled::Error) -> Self {
        match e {
            sled::Error::Io(io) => StoreError::io(path, io),
            other => StoreError::Damaged {
                message: sled_message(&other),
            },
        }
    }
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::from_sled(Path::new(STORE_DIR), e)
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
    /// What opening found and repaired, for the user to be told (journal rebuilt,
    /// entries replayed).
    notices: Vec<String>,
    /// None only for a store `recover` is building aside (recover holds the lock).
    _lock: Option<DirLock>,
    /// The journal length sled's files were last closed in step with ([`CLOSED_FILE`]),
    /// read before they were opened. Nothing writes to them between a clean close and
    /// the next open, so a mark other than this at open means sled lost writes it had
    /// flushed (damage at rest): records anywhere in it may be gone, not only its last.
    closed_at: Option<u64>,
    /// Set when opening found that damage: the close leaves [`CLOSED_FILE`] as it was,
    /// so every open refuses until `recover` has rebuilt the store.
    lost_flushed_writes: bool,
    /// For a store opened read-only: where its sled files are read (see [`ReadOnly`]).
    read_only: Option<ReadOnly>,
    /// The writes-to-be of a merge being worked out (its slices before, or a dry run's
    /// batches before), read before the store by its lookups (see [`DryRun`]); None but
    /// while a batch is worked out.
    overlay: Mutex<Option<sled::Db>>,
    /// How many records of a batch a merge works out at a time (see
    /// [`Store::set_merge_slice`]).
    merge_slice: std::sync::atomic::AtomicUsize,
}

/// How a store opened read-only reads its sled files.
enum ReadOnly {
    /// The store's own files, opened where they are: nothing is written to them but what
    /// sled itself writes while opening (see [`Store::open_read_only`]).
    InPlace {
        /// The trees the store holds. sled creates a tree that is opened and missing (a
        /// write, kept at close), so those read as empty trees of `missing` instead.
        trees: Vec<sled::IVec>,
        missing: std::sync::OnceLock<sled::Db>,
    },
    /// A private copy of the files (the directory may not be written, another reader has
    /// them open, or the store is behind its journal and what the journal adds is
    /// replayed into the copy); thrown away on drop.
    Copy(#[allow(dead_code)] tempfile::TempDir),
}

/// A data directory checked and locked for writing, its store not opened yet: nothing can
/// be written until [`LockedStore::open`] returns the [`Store`].
pub struct LockedStore {
    data_dir: PathBuf,
    env: Env,
    lock: DirLock,
    slice: usize,
}

impl LockedStore {
    /// Home's counts as the store was last closed cleanly, read without opening sled;
    /// `None` unless that close was at the journal's present length (nothing written
    /// since), as for a read in place.
    pub fn saved_home_counts(&self) -> Option<HomeCounts> {
        let journal_bytes = std::fs::metadata(journal_path(&self.data_dir))
            .map(|m| m.len())
            .ok();
        home_file::load(&self.data_dir.join(STORE_DIR), journal_bytes)
    }

    /// How many records of a merged batch are worked out at a time, by the replay of a
    /// journal line the store missed as it opens and by later merges (see
    /// [`Store::set_merge_slice`]); what they make does not depend on it.
    pub fn slice(mut self, records: usize) -> LockedStore {
        self.slice = records.max(1);
        self
    }

    /// Opens sled's files and brings the store and the journal into step: the part of
    /// opening whose cost grows with the store.
    pub fn open(self) -> Result<Store, StoreError> {
        let db_path = self.data_dir.join(STORE_DIR);
        remove_snapshot_leftovers(&db_path)?;
        let closed_at = read_closed_at(&db_path);
        // Written again at a clean close: until then a reader must not take the store as
        // in step with its journal without looking, nor home show counts from before.
        forget_closed_at(&db_path)?;
        home_file::forget(&db_path)?;
        let db = open_db(&db_path, Access::ReadWrite)?;
        let mut store = Store::assemble(db, &self.data_dir, self.env, Some(self.lock))?;
        store.closed_at = closed_at;
        store.set_merge_slice(self.slice);
        store.reconcile()?;
        store.ensure_tallies()?;
        store.ensure_revisions_recorded()?;
        Ok(store)
    }
}

impl Store {
    /// Opens (creating if needed) the store under `data_dir`. Fails fast with
    /// [`StoreError::Busy`] when another doorstep process holds it.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(data_dir, Env::system())
    }

    /// Opens the store with a given clock and id source.
    pub fn open_with(data_dir: &Path, env: Env) -> Result<Store, StoreError> {
        Store::lock(data_dir, env)?.open()
    }

    /// The quick first half of [`Store::open_with`]: checks the data directory and takes
    /// its lock (so a busy or half-recovered store is refused at once), leaving the slow
    /// half, sled opening its files, to [`LockedStore::open`]. The field app draws its
    /// first frame in between, so start-up does not wait on the store's size.
    pub fn lock(data_dir: &Path, env: Env) -> Result<LockedStore, StoreError> {
        crate::paths::check_data_dir(data_dir).map_err(|reason| StoreError::NotDataDir {
            path: data_dir.to_path_buf(),
            reason,
        })?;
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::io(data_dir, e))?;
        let lock = DirLock::acquire(data_dir)?;
        if data_dir.join(RECOVERING_FILE).exists() {
            return Err(StoreError::RecoveryInterrupted {
                dir: data_dir.to_path_buf(),
            });
        }
        let db_path = data_dir.join(STORE_DIR);
        if !db_path.exists() {
            let jpath = journal_path(data_dir);
            let has_records = std::fs::metadata(&jpath).is_ok_and(|m| m.len() > 0);
            if has_records {
                return Err(StoreError::NeedsRecovery { path: db_path });
            }
        }
        Ok(LockedStore {
            data_dir: data_dir.to_path_buf(),
            env,
            lock,
            slice: merge::STAGE_RECORDS,
        })
    }

    /// Opens the store for a command that only reads (`responses list`, `report` …):
    /// nothing stored changes, and nothing in the data directory is created. When this
    /// reader is the only one and the store is in step with its journal, sled's files are
    /// opened where they are (sled may write to its own files while opening them,
    /// and sled tidies its tree as it reads it: completes splits, merges small nodes —
    /// the records stay as they were). Otherwise the sled files are copied to a private
    /// temporary folder and read there: when the directory may not be written (so this
    /// works on a folder the user may only read, whoever the user is), when another
    /// reader holds the directory (the copy waits until no reader has the files open
    /// where they are), or when the journal goes beyond the store (what it adds is
    /// replayed into the copy, with a notice when it is more than a kill leaves).
    pub fn open_read_only(data_dir: &Path) -> Result<Store, StoreError> {
        Store::open_read_only_with(data_dir, || {})
    }

    /// [`Store::open_read_only`], calling `waiting` once if it has to wait more than a
    /// moment for another reader (which has the store's files open) to finish.
    pub fn open_read_only_with(
        data_dir: &Path,
        waiting: impl FnMut(),
    ) -> Result<Store, StoreError> {
        crate::paths::check_data_dir(data_dir).map_err(|reason| StoreError::NotDataDir {
            path: data_dir.to_path_buf(),
            reason,
        })?;
        let hold = DirLock::for_reading(data_dir)?;
        if data_dir.join(RECOVERING_FILE).exists() {
            return Err(StoreError::RecoveryInterrupted {
                dir: data_dir.to_path_buf(),
            });
        }
        let db_path = data_dir.join(STORE_DIR);
        let jpath = journal_path(data_dir);
        if !db_path.exists() && std::fs::metadata(&jpath).is_ok_and(|m| m.len() > 0) {
            return Err(StoreError::NeedsRecovery { path: db_path });
        }
        let (mut lock, in_place) = match hold {
            Some((lock, Hold::Exclusive)) => (Some(lock), db_path.exists()),
            Some((lock, Hold::Shared)) => (Some(lock), false),
            None => (None, false),
        };
        if in_place && let Some(held) = lock.take() {
            // Holding the directory exclusively, no other reader is copying the files.
            let opened = Store::open_in_place(data_dir, &db_path);
            // Other readers may start now: they wait for sled's lock before copying.
            held.share(data_dir)?;
            match opened {
                Ok(Some(mut store)) => {
                    store._lock = Some(held);
                    return Ok(store);
                }
                // Behind its journal, or not ours to write: read a copy.
                Ok(None) | Err(StoreError::NoAccess { .. } | StoreError::DiskFull { .. }) => {}
                Err(e) => return Err(e),
            }
            lock = Some(held);
        }
        let copy = tempfile::Builder::new()
            .prefix("doorstep-read-")
            .tempdir()
            .map_err(|e| StoreError::io(std::env::temp_dir(), e))?;
        let copy_path = copy.path().join(STORE_DIR);
        std::fs::create_dir_all(&copy_path).map_err(|e| StoreError::io(&copy_path, e))?;
        let mut closed_at = None;
        if db_path.exists() {
            if IN_PLACE.load(std::sync::atomic::Ordering::SeqCst) > 0 {
                // This process has the files open where they are: waiting would never end.
                return Err(StoreError::Busy {
                    dir: data_dir.to_path_buf(),
                    pid: std::process::id().to_string(),
                });
            }
            let files = FilesHold::wait(&db_path.join("db"), waiting)?;
            check_room_for_copy(&db_path, &copy_path)?;
            // Read while no writer has the files open, so it speaks of the files copied.
            closed_at = read_closed_at(&db_path);
            copy_store_files(&db_path, &copy_path)?;
            drop(files);
        }
        remove_snapshot_leftovers(&copy_path)?;
        // Named by the store the user has, not the private copy found damaged.
        let db = open_db(&copy_path, Access::ReadOnly).map_err(|e| match e {
            StoreError::Open { message, .. } => StoreError::Open {
                path: db_path.clone(),
                message,
            },
            other => other,
        })?;
        let mut store = Store::assemble_reading(db, data_dir, lock, ReadOnly::Copy(copy))?;
        store.closed_at = closed_at;
        store.reconcile()?;
        store.ensure_tallies()?;
        Ok(store)
    }

    /// Opens the store's own sled files for reading, the caller holding the directory
    /// exclusively; `None` (and nothing written) when the store is not in step with the
    /// journal or its tallies are not built, which only a copy may be brought up to.
    fn open_in_place(data_dir: &Path, db_path: &Path) -> Result<Option<Store>, StoreError> {
        // sled writes its own files while opening them (a summary of its log, the end of
        // a log cut short): only worth it, and only done, on a store closed cleanly at
        // the journal's present length. Checked again from the store's mark below.
        let journal_bytes = std::fs::metadata(journal_path(data_dir))
            .map(|m| m.len())
            .ok();
        let closed_at = read_closed_at(db_path);
        if journal_bytes.is_none() || closed_at != journal_bytes {
            return Ok(None);
        }
        remove_snapshot_leftovers(db_path)?;
        let db = open_db(db_path, Access::ReadOnly)?;
        let trees = db.tree_names();
        let in_place = ReadOnly::InPlace {
            trees,
            missing: std::sync::OnceLock::new(),
        };
        let mut store = Store::assemble_reading(db, data_dir, None, in_place)?;
        store.closed_at = closed_at;
        // Counted until dropped (see `Drop`).
        IN_PLACE.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let in_step = {
            let stored = store.stored_mark()?;
            let j = store.journal_guard();
            !j.created && stored.is_some_and(|m| m.bytes == j.mark.bytes)
        };
        if !in_step || !store.tallies_built()? {
            return Ok(None);
        }
        // In step: this only reads the mark's line count.
        store.reconcile()?;
        Ok(Some(store))
    }

    /// What opening found and repaired, one sentence each.
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// Brings the store and the journal into step at open:
    /// - the store's mark matches the journal's length: nothing to do (the usual case,
    ///   without reading the journal);
    /// - the journal is missing or empty but the store holds records: the journal is
    ///   rebuilt from the store, and the user told;
    /// - the journal goes further than the store's mark: the rest is replayed;
    /// - the journal is shorter than the store reflects (cut or replaced): it is moved
    ///   aside and rebuilt from the store;
    /// - no mark (a store from an earlier release): the whole journal is merged in once;
    ///   that release journaled only finalized work, doors, knocks and settings, which
    ///   merge without changing anything already there.
    fn reconcile(&mut self) -> Result<(), StoreError> {
        let stored = self.stored_mark()?;
        if let Some(closed) = self.closed_at
            && stored.map(|m| m.bytes) != Some(closed)
        {
            // Replaying the journal's tail would bring back only what came after the
            // mark sled kept: a record it lost from before stays lost, and the store
            // would look whole. Only a rebuild from the whole journal is sound.
            self.lost_flushed_writes = true;
            tracing::warn!(
                "the store was closed in step with {closed} journal bytes and now reflects {:?}",
                stored.map(|m| m.bytes)
            );
            return Err(StoreError::Damaged {
                message: "its files have lost records they held when doorstep last closed them"
                    .into(),
            });
        }
        let (created, size) = {
            let j = self.journal_guard();
            (j.created, j.mark.bytes)
        };
        if let Some(m) = stored
            && !created
            && m.bytes == size
        {
            self.journal_guard().mark.lines = m.lines;
            return Ok(());
        }
        let jpath = self.journal_path();
        if created || size == 0 {
            if self.read_only.is_some() {
                if self.holds_records()? {
                    self.notices.push(format!(
                        "the journal {} is missing or empty: run `doorstep recover` to rebuild it from the store",
                        jpath.display()
                    ));
                }
                return Ok(());
            }
            if stored.is_some_and(|m| m.lines > 0) || self.holds_records()? {
                let what = if created { "was missing" } else { "was empty" };
                self.rebuild_journal(what)?;
            } else {
                self.put_mark(JournalMark::default())?;
                self.flush()?;
            }
            return Ok(());
        }
        let from = stored.unwrap_or_default();
        // A journal that does not end a line at the mark is read from its start: first
        // counted, since one shorter than the store reflects is not replayed at all.
        if let Some(m) = stored
            && !journal::starts_at(&jpath, m)?
        {
            let lines = journal::line_count(&jpath)? as u64;
            if lines < m.lines && self.read_only.is_some() {
                self.notices.push(format!(
                    "the journal {} has {lines} line(s) where the store reflects {}: run `doorstep recover` to rebuild it from the store",
                    jpath.display(),
                    m.lines
                ));
                return Ok(());
            }
            if lines < m.lines {
                let aside = aside_name(&jpath, "short", &self.env);
                std::fs::rename(&jpath, &aside).map_err(|e| StoreError::io(&jpath, e))?;
                let what = format!(
                    "had {lines} line(s) where the store reflects {} (cut short or replaced; kept as {})",
                    m.lines,
                    aside.display()
                );
                return self.rebuild_journal(&what);
            }
        }
        // Only the part past the mark is read and replayed, a group of entries or a slice
        // of a merged batch at a time: after a kill that is a few entries (or one batch)
        // of a journal that may be gigabytes.
        let marks = self.read_only.is_none();
        let (n, contents) = replay::replay_after(self, &jpath, from, self.merge_slice(), marks)?;
        let lines = contents.lines as u64;
        if stored.is_some() && n > 0 {
            match (self.read_only.is_some(), n <= QUIET_TAIL) {
                // The next writable open brings the store itself up to date.
                (true, true) => tracing::info!(
                    "showing the last {n} journal entries the store has not written yet"
                ),
                (true, false) => self.notices.push(format!(
                    "the store is missing the last {n} journal entries; shown from the journal here (run `doorstep recover` to repair the store)"
                )),
                // What a close without the last background flush leaves: normal.
                (false, true) => tracing::info!(
                    "brought the store up to date with the last {n} journal entries (doorstep was not closed normally)"
                ),
                // Short enough for the field app's one-line notice at 80 columns.
                (false, false) => self.notices.push(format!(
                    "replayed {n} journal entries the store had lost (damage?)"
                )),
            }
        }
        let mark = JournalMark { lines, bytes: size };
        self.journal_guard().mark = mark;
        self.put_mark(mark)?;
        self.flush()
    }

    /// Writes a new journal holding what the store holds, tells the user why, and
    /// appends to it from now on.
    fn rebuild_journal(&mut self, why: &str) -> Result<(), StoreError> {
        let jpath = self.journal_path();
        let mut unreadable = 0;
        let mark = journal::write_journal_with(&jpath, |emit| {
            unreadable = replay::each_entry_from_store(self, emit)?;
            Ok(())
        })?;
        let entries = mark.lines;
        let mut journal = Journal::open(&self.data_dir)?;
        journal.mark = mark;
        *self.journal_guard() = journal;
        self.put_mark(mark)?;
        self.flush()?;
        let mut notice = format!(
            "the journal {} {why}: rebuilt it from the store ({} entr{})",
            jpath.display(),
            entries,
            if entries == 1 { "y" } else { "ies" }
        );
        if unreadable > 0 {
            notice.push_str(&format!(
                "; {unreadable} stored record(s) could not be read and are not in it"
            ));
        }
        self.notices.push(notice);
        Ok(())
    }

    /// Whether the store holds any response, door, setting or action.
    fn holds_records(&self) -> Result<bool, StoreError> {
        for name in [
            responses::RESPONSES,
            doors::DOORS,
            settings::SETTINGS,
            actions::ACTIONS,
        ] {
            if !self.tree(name)?.is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn stored_mark(&self) -> Result<Option<JournalMark>, StoreError> {
        match self.tree(META)?.get(MARK_KEY)? {
            None => Ok(None),
            Some(bytes) => decode(|| "journal mark".to_owned(), &bytes).map(Some),
        }
    }

    fn put_mark(&self, mark: JournalMark) -> Result<(), StoreError> {
        self.tree(META)?.insert(MARK_KEY, encode(&mark)?)?;
        Ok(())
    }

    fn journal_guard(&self) -> MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// [`Store::assemble`] for reading: the journal only read, sled's files where
    /// `read_only` says.
    fn assemble_reading(
        db: sled::Db,
        data_dir: &Path,
        lock: Option<DirLock>,
        read_only: ReadOnly,
    ) -> Result<Store, StoreError> {
        Ok(Store {
            db,
            data_dir: data_dir.to_path_buf(),
            env: Env::system(),
            journal: Mutex::new(Journal::read_only(data_dir)?),
            write: Mutex::new(()),
            notices: Vec::new(),
            _lock: lock,
            closed_at: None,
            lost_flushed_writes: false,
            read_only: Some(read_only),
            overlay: Mutex::new(None),
            merge_slice: std::sync::atomic::AtomicUsize::new(merge::STAGE_RECORDS),
        })
    }

    fn assemble(
        db: sled::Db,
        data_dir: &Path,
        env: Env,
        lock: Option<DirLock>,
    ) -> Result<Store, StoreError> {
        let journal = Journal::open(data_dir)?;
        Ok(Store {
            db,
            data_dir: data_dir.to_path_buf(),
            env,
            journal: Mutex::new(journal),
            write: Mutex::new(()),
            notices: Vec::new(),
            _lock: lock,
            closed_at: None,
            lost_flushed_writes: false,
            read_only: None,
            overlay: Mutex::new(None),
            merge_slice: std::sync::atomic::AtomicUsize::new(merge::STAGE_RECORDS),
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
        if let Some(ReadOnly::InPlace { trees, missing }) = &self.read_only
            && !trees.iter().any(|t| t == name.as_bytes())
        {
            let db = match missing.get() {
                Some(db) => db,
                None => {
                    let db = sled::Config::new().temporary(true).open()?;
                    missing.get_or_init(|| db)
                }
            };
            return Ok(db.open_tree(name)?);
        }
        Ok(self.db.open_tree(name)?)
    }

    /// The value of `key` in tree `name`, as an overlay has it if one is set
    /// (a key it removed reads as absent), else as the store has it.
    pub(crate) fn read(&self, name: &str, key: &[u8]) -> Result<Option<sled::IVec>, StoreError> {
        let overlay = self.overlay_slot().clone();
        if let Some(overlay) = overlay
            && let Some(held) = overlay.open_tree(name)?.get(key)?
        {
            return Ok(merge::overlay_value(&held));
        }
        Ok(self.tree(name)?.get(key)?)
    }

    /// Every key under `prefix` in tree `name` with its value, as an overlay has
    /// them if one is set (keys it removed left out), in key order.
    pub(crate) fn read_prefix(
        &self,
        name: &str,
        prefix: &[u8],
    ) -> Result<Vec<(sled::IVec, sled::IVec)>, StoreError> {
        let overlay = self.overlay_slot().clone();
        let mut all: std::collections::BTreeMap<sled::IVec, Option<sled::IVec>> =
            std::collections::BTreeMap::new();
        for entry in self.tree(name)?.scan_prefix(prefix) {
            let (k, v) = entry?;
            all.insert(k, Some(v));
        }
        if let Some(overlay) = overlay {
            for entry in overlay.open_tree(name)?.scan_prefix(prefix) {
                let (k, held) = entry?;
                all.insert(k, merge::overlay_value(&held));
            }
        }
        Ok(all
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect())
    }

    fn overlay_slot(&self) -> std::sync::MutexGuard<'_, Option<sled::Db>> {
        // Only ever set and cleared whole: a panic elsewhere cannot leave it half-made.
        self.overlay
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Flushes everything written so far to disk (fsync). Journaled writes do not need
    /// it to be durable; it keeps the next open from replaying them.
    pub fn flush(&self) -> Result<(), StoreError> {
        if self.read_only.is_some() {
            // Nothing was written (in place), or a private copy thrown away on drop.
            return Ok(());
        }
        self.db.flush()?;
        Ok(())
    }

    fn write_guard(&self) -> MutexGuard<'_, ()> {
        self.write.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes `writes` (and the journal mark, when given) in one sled transaction: all of
    /// them or, if the process dies, none. Not flushed: the caller flushes.
    fn apply_writes(&self, writes: &[Write], mark: Option<JournalMark>) -> Result<(), StoreError> {
        if self.read_only.is_some() && mark.is_some() {
            return Err(StoreError::ReadOnly);
        }
        let mut batches: [sled::Batch; 6] = Default::default();
        for w in writes.iter().filter(|w| w.tree != Tree::Responses) {
            let b = &mut batches[w.tree as usize];
            match &w.value {
                Some(v) => b.insert(w.key.as_slice(), v.as_slice()),
                None => b.remove(w.key.as_slice()),
            }
        }
        if let Some(mark) = mark {
            batches[Tree::Meta as usize].insert(MARK_KEY, encode(&mark)?);
        }
        let trees = (
            self.tree(responses::RESPONSES)?,
            self.tree(doors::DOORS)?,
            self.tree(settings::SETTINGS)?,
            self.tree(merge::MERGE)?,
            self.tree(META)?,
            self.tree(actions::ACTIONS)?,
            self.tree(tallies::TALLIES)?,
        );
        let response_writes: Vec<&Write> = writes
            .iter()
            .filter(|w| w.tree == Tree::Responses)
            .collect();
        // Worked out before: it reads the records the writes replace.
        let pending = self.pending_changes(writes)?;
        use sled::Transactional;
        let result: Result<(), sled::transaction::TransactionError<()>> = (
            &trees.0, &trees.1, &trees.2, &trees.3, &trees.4, &trees.5, &trees.6,
        )
            .transaction(|(r, d, s, m, meta, a, t)| {
                // One at a time, so the home screen's tallies move with each response.
                for w in &response_writes {
                    let old = match &w.value {
                        Some(v) => r.insert(w.key.as_slice(), v.as_slice())?,
                        None => r.remove(w.key.as_slice())?,
                    };
                    tallies::count_write(t, &w.key, old.as_deref(), w.value.as_deref())?;
                }
                d.apply_batch(&batches[1])?;
                s.apply_batch(&batches[2])?;
                m.apply_batch(&batches[3])?;
                meta.apply_batch(&batches[4])?;
                a.apply_batch(&batches[5])?;
                own::apply_pending(t, &pending)?;
                Ok(())
            });
        transaction_result(result)
    }

    /// One journaled change: the entry is appended to the journal and synced (the one
    /// sync on this path), then `write` puts the records into sled with the journal mark
    /// they now reflect. sled reaches the disk by its background flush; a kill before
    /// that is repaired from the journal at the next open (see the module doc).
    fn journaled(
        &self,
        entry: &JournalEntry,
        write: impl FnOnce() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        if self.read_only.is_some() {
            return Err(StoreError::ReadOnly);
        }
        let mark = self.journal_guard().append(entry)?;
        write()?;
        self.put_mark(mark)
    }
}

/// Stores of this process opened read-only where they are (see [`Store::open_read_only`]).
static IN_PLACE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Drop for Store {
    /// A clean close leaves sled in step with the journal, so the next open replays
    /// nothing. A failure here loses nothing acknowledged (the journal has it).
    fn drop(&mut self) {
        if matches!(self.read_only, Some(ReadOnly::InPlace { .. })) {
            IN_PLACE.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
        let closed_file = self.data_dir.join(STORE_DIR).join(CLOSED_FILE);
        if self.lost_flushed_writes {
            // Put back as it was, so the next open finds the damage again.
            if self.read_only.is_none()
                && let Some(closed) = self.closed_at
                && let Err(e) = std::fs::write(&closed_file, format!("{closed}\n"))
            {
                tracing::warn!("{}: {e}", closed_file.display());
            }
            return;
        }
        if let Err(e) = self.flush() {
            tracing::warn!("the store was not flushed on close: {e}");
            return;
        }
        if self.read_only.is_none() && self._lock.is_some() {
            let db_path = self.data_dir.join(STORE_DIR);
            // What sled holds, which is less than the journal when a write after its
            // journal line failed: the next open replays that line, and must not take
            // the shortfall for damage.
            let bytes = match self.stored_mark() {
                Ok(Some(mark)) => mark.bytes,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!("the store's journal mark not read on close: {e}");
                    return;
                }
            };
            // Home's counts for the next start, shown before sled opens; only from
            // tallies that reflect the records (an open that failed may leave them unbuilt).
            match self.tallies_built().and_then(|built| {
                if built {
                    self.home_counts().map(Some)
                } else {
                    Ok(None)
                }
            }) {
                Ok(None) => {}
                Ok(Some(counts)) => {
                    if let Err(e) = home_file::save(&db_path, bytes, &counts) {
                        tracing::warn!("home's counts not kept for the next start: {e}");
                    }
                }
                Err(e) => tracing::warn!("home's counts not kept for the next start: {e}"),
            }
            // Tells readers the store was closed in step with the journal's length.
            if let Err(e) = record_closed_at(&db_path, bytes) {
                tracing::warn!("{}: {e}", closed_file.display());
            }
        }
    }
}

/// The trees a transaction of [`Store::apply_writes`] spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tree {
    Responses = 0,
    Doors = 1,
    Settings = 2,
    Merge = 3,
    Meta = 4,
    Actions = 5,
}

/// One write of a transaction: `None` removes the key.
#[derive(Debug, Clone)]
pub(crate) struct Write {
    pub tree: Tree,
    pub key: Vec<u8>,
    pub value: Option<Vec<u8>>,
}

impl Write {
    pub fn put(tree: Tree, key: Vec<u8>, value: Vec<u8>) -> Write {
        Write {
            tree,
            key,
            value: Some(value),
        }
    }
}

/// Copies the sled files (a flat folder and its `blobs/`) for a read-only open.
fn copy_store_files(from: &Path, to: &Path) -> Result<(), StoreError> {
    let entries = std::fs::read_dir(from).map_err(|e| StoreError::io(from, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::io(from, e))?;
        let source = entry.path();
        let target = to.join(entry.file_name());
        if source.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| StoreError::io(&target, e))?;
            copy_store_files(&source, &target)?;
        } else {
            std::fs::copy(&source, &target).map_err(|e| {
                // A full disk is the copy's, not the store's.
                let full = matches!(
                    e.kind(),
                    std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
                );
                StoreError::io(if full { &target } else { &source }, e)
            })?;
        }
    }
    Ok(())
}

/// A reader's private copy takes as much room as the store's files (15 GB at 1,000,000
/// responses): refused before copying when the copy's disk lacks it, rather than filling
/// that disk and failing at the end.
fn check_room_for_copy(from: &Path, to: &Path) -> Result<(), StoreError> {
    let needed = files_size(from)?;
    // Where the free space cannot be read, the copy itself will say if the disk fills.
    let Ok(stat) = rustix::fs::statvfs(to) else {
        return Ok(());
    };
    // Named by the temporary folder the user can change (TMPDIR), not the copy's own.
    let free = stat.f_bavail.saturating_mul(stat.f_frsize);
    room_for_copy(needed, free, &std::env::temp_dir())
}

fn room_for_copy(needed: u64, free: u64, dir: &Path) -> Result<(), StoreError> {
    if needed <= free {
        return Ok(());
    }
    Err(StoreError::NoRoomForCopy {
        needed,
        free,
        dir: dir.to_path_buf(),
    })
}

/// The bytes of the files under `dir`, its folders included.
fn files_size(dir: &Path) -> Result<u64, StoreError> {
    let mut total = 0u64;
    for entry in std::fs::read_dir(dir).map_err(|e| StoreError::io(dir, e))? {
        let entry = entry.map_err(|e| StoreError::io(dir, e))?;
        let meta = entry
            .metadata()
            .map_err(|e| StoreError::io(entry.path(), e))?;
        total = total.saturating_add(if meta.is_dir() {
            files_size(&entry.path())?
        } else {
            meta.len()
        });
    }
    Ok(total)
}

/// `15.3 GB`, `120 MB`: sizes in a sentence.
fn gigabytes(bytes: u64) -> String {
    let gb = bytes as f64 / 1e9;
    if gb >= 1.0 {
        format!("{gb:.1} GB")
    } else {
        format!("{:.0} MB", (bytes as f64 / 1e6).ceil())
    }
}

/// Records that the store in `db_path`, its files flushed and closed, is in step with the
/// journal's first `bytes` bytes (what a clean close records, and `recover` when done).
fn record_closed_at(db_path: &Path, bytes: u64) -> std::io::Result<()> {
    std::fs::write(db_path.join(CLOSED_FILE), format!("{bytes}\n"))
}

/// Removes the record of the store in `db_path` being closed cleanly, if there is one.
fn forget_closed_at(db_path: &Path) -> Result<(), StoreError> {
    let path = db_path.join(CLOSED_FILE);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::io(path, e)),
        _ => Ok(()),
    }
}

/// What a sled error says, for the user: its corruption error carries a debugging
/// trailer ("at file offset None backtrace ()") that says nothing to them.
fn sled_message(e: &sled::Error) -> String {
    match e {
        sled::Error::Corruption { .. } => "its files hold data that does not read back".into(),
        other => other.to_string(),
    }
}

/// The journal length the store in `db_path` was last closed in step with, if it was
/// closed cleanly and not opened for writing since.
fn read_closed_at(db_path: &Path) -> Option<u64> {
    std::fs::read_to_string(db_path.join(CLOSED_FILE))
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
}

/// Removes what an interrupted sled snapshot leaves behind (`snap.*.generating`, e.g.
/// zero bytes after the disk filled up); sled would trip over it.
fn remove_snapshot_leftovers(db_path: &Path) -> Result<(), StoreError> {
    let Ok(dir) = std::fs::read_dir(db_path) else {
        return Ok(());
    };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(|e| StoreError::io(&path, e))?;
        }
    }
    Ok(())
}

/// `<path>.<what>-20261005T101500Z`, with a counter if that exists already.
fn aside_name(path: &Path, what: &str, env: &Env) -> PathBuf {
    let stamp = env.now().format("%Y%m%dT%H%M%SZ");
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = path.with_file_name(format!("{name}.{what}-{stamp}"));
    if !base.exists() {
        return base;
    }
    (2..)
        .map(|n| path.with_file_name(format!("{name}.{what}-{stamp}-{n}")))
        .find(|p| !p.exists())
        .unwrap_or(base)
}

const SLED_LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);
const SLED_LOCK_POLL: std::time::Duration = std::time::Duration::from_millis(10);

/// What a store is opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    ReadWrite,
    /// No background flush: nothing is written to flush.
    ReadOnly,
}

/// Opens the sled database at `path`. sled can panic on some damaged files; that is
/// caught and reported like any other failure to open.
fn open_db(path: &Path, access: Access) -> Result<sled::Db, StoreError> {
    let config = sled::Config::new()
        .path(path)
        .cache_capacity(CACHE_BYTES)
        .flush_every_ms(match access {
            Access::ReadWrite => Some(FLUSH_EVERY_MS),
            Access::ReadOnly => None,
        });
    let open = || crate::caught::catch(|| config.open());
    let mut opened = open();
    // We hold the data directory's lock, so a holder of sled's own file lock can only be
    // this process's store just dropped, whose background flush thread lets go of the
    // files a moment after the drop returns: wait for it a little.
    let mut waited = std::time::Duration::ZERO;
    while matches!(&opened, Ok(Err(sled::Error::Io(e))) if e.to_string().starts_with("could not acquire lock"))
        && waited < SLED_LOCK_PATIENCE
    {
        std::thread::sleep(SLED_LOCK_POLL);
        waited += SLED_LOCK_POLL;
        opened = open();
    }
    match opened {
        Ok(Ok(db)) => Ok(db),
        // A full disk or a refused write is not damage: say what it is.
        // (Other I/O errors at open, such as a file cut short, are damage.)
        Ok(Err(sled::Error::Io(e))) => match StoreError::io(path, e) {
            StoreError::Io { source, .. } => Err(StoreError::Open {
                path: path.to_path_buf(),
                message: source.to_string(),
            }),
            other => Err(other),
        },
        Ok(Err(e)) => Err(StoreError::Open {
            path: path.to_path_buf(),
            message: sled_message(&e),
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

/// A sled transaction's outcome as ours: its storage error, or (for a transaction that
/// aborts without a reason of its own) a damaged store.
fn transaction_result(
    result: Result<(), sled::transaction::TransactionError<()>>,
) -> Result<(), StoreError> {
    match result {
        Ok(()) => Ok(()),
        Err(sled::transaction::TransactionError::Storage(e)) => Err(e.into()),
        Err(sled::transaction::TransactionError::Abort(())) => Err(StoreError::Damaged {
            message: "a transaction was aborted".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Error as IoError, ErrorKind};

    use super::*;

    #[test]
    fn a_readers_copy_that_cannot_fit_is_refused_before_copying() {
        let dir = Path::new("/tmp");
        let refused = room_for_copy(15_300_000_000, 13_000_000_000, dir).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "reading this store needs a private copy of its files (15.3 GB), since it was not closed in step with its journal or another reader has it open, but the disk holding /tmp has 13.0 GB free: start `doorstep` once (opening it for writing brings it into step), or set TMPDIR to a folder on a disk with room, and read again"
        );
        assert!(!refused.is_damage());
        assert!(room_for_copy(120_000_000, 120_000_000, dir).is_ok());
        assert_eq!(gigabytes(119_200_001), "120 MB");

        // Measured on real files, folders included; a small store fits anywhere.
        let tmp = tempfile::tempdir().unwrap();
        let store = tmp.path().join("store");
        std::fs::create_dir_all(store.join("blobs")).unwrap();
        std::fs::write(store.join("db"), vec![0u8; 3000]).unwrap();
        std::fs::write(store.join("blobs").join("1"), vec![0u8; 500]).unwrap();
        assert_eq!(files_size(&store).unwrap(), 3500);
        let copy = tmp.path().join("copy");
        std::fs::create_dir_all(&copy).unwrap();
        check_room_for_copy(&store, &copy).unwrap();
    }

    #[test]
    fn a_full_disk_or_a_refused_write_is_not_called_damage() {
        let p = Path::new("/data/store");
        let full = StoreError::io(p, IoError::from(ErrorKind::StorageFull));
        assert_eq!(
            full.to_string(),
            "the disk holding /data/store is full: free some space and start again"
        );
        assert!(!full.is_damage());
        let quota = StoreError::io(p, IoError::from(ErrorKind::QuotaExceeded));
        assert!(matches!(quota, StoreError::DiskFull { .. }));
        let denied = StoreError::io(p, IoError::from(ErrorKind::PermissionDenied));
        assert!(
            denied.to_string().starts_with(
                "doorstep may not write to /data/store (permission denied): give your user write access"
            ),
            "{denied}"
        );
        assert!(!denied.is_damage());
        let ro = StoreError::io(p, IoError::from(ErrorKind::ReadOnlyFilesystem));
        assert!(matches!(ro, StoreError::NoAccess { .. }));
        // Through sled, at open and later.
        let from_sled = StoreError::from(sled::Error::Io(IoError::from(ErrorKind::StorageFull)));
        assert!(
            matches!(from_sled, StoreError::DiskFull { .. }),
            "{from_sled}"
        );
        let raw = IoError::from_raw_os_error(28); // ENOSPC
        assert!(matches!(
            StoreError::io(p, raw),
            StoreError::DiskFull { .. }
        ));
    }

    #[test]
    fn damage_sled_finds_names_the_command_that_fixes_it() {
        let e = StoreError::from(sled::Error::Corruption { at: None, bt: () });
        assert!(e.is_damage());
        assert_eq!(
            e.to_string(),
            "the store is damaged (its files hold data that does not read back): run `doorstep recover` to rebuild it from the journal"
        );
        let e = StoreError::from(sled::Error::ReportableBug("x".into()));
        assert!(e.is_damage(), "{e}");
    }

    #[test]
    fn a_store_that_lost_records_after_its_mark_replays_them() {
        // What sled does after damage: it comes back with an earlier state, mark and all.
        let dir = tempfile::tempdir().unwrap();
        let (env, _) = Env::manual(chrono::Utc::now());
        let store = Store::open_with(dir.path(), env.clone()).unwrap();
        store
            .set_setting(crate::response::SettingKey::Officer, "PC 1")
            .unwrap();
        let early = store.stored_mark().unwrap().unwrap();
        store
            .set_setting(crate::response::SettingKey::Device, "laptop-1")
            .unwrap();
        store
            .tree(settings::SETTINGS)
            .unwrap()
            .remove("device")
            .unwrap();
        store.put_mark(early).unwrap();
        store.flush().unwrap();
        drop(store);
        let store = Store::open_with(dir.path(), env).unwrap();
        assert_eq!(
            store.settings().unwrap().device.as_deref(),
            Some("laptop-1")
        );
        // One entry is what a kill before the background flush leaves: no notice.
        assert!(store.notices().is_empty(), "{:?}", store.notices());
        assert_eq!(
            store.stored_mark().unwrap().unwrap().lines,
            2,
            "the mark moves to the end of the journal"
        );
    }

    #[test]
    fn a_store_that_missed_its_whole_journal_replays_it_a_group_at_a_time() {
        use crate::survey::answer::Answer;
        // Far more entries than a group (two in unit tests): one draft's answers, and its
        // finalizing, fall in different groups.
        let t0 = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 10, 5, 9, 0, 0).unwrap();
        let (env, _) = Env::manual(t0);
        let full = tempfile::tempdir().unwrap();
        let store = Store::open_with(full.path(), env.clone()).unwrap();
        store
            .set_setting(crate::response::SettingKey::Officer, "PC 1")
            .unwrap();
        for n in 0..3 {
            let r = store.create_draft(test_support::new(t0)).unwrap();
            for (k, q) in ["a", "b", "c"].into_iter().enumerate() {
                let answer = Answer::YesNo(k % 2 == n % 2);
                store
                    .record_answer(r.id, &test_support::question(q), answer, t0)
                    .unwrap();
            }
            // An answer changed: replayed out of order it would come back as it was.
            store
                .record_answer(r.id, &test_support::question("a"), Answer::Skipped, t0)
                .unwrap();
            if n < 2 {
                store.finalize(r.id, Status::Complete, t0).unwrap();
            }
        }
        // The last entry alone in its group.
        store
            .set_setting(crate::response::SettingKey::Device, "laptop-1")
            .unwrap();
        let want = (
            store.list(&Default::default()).unwrap().responses,
            store.settings().unwrap(),
            store.home_counts().unwrap(),
        );
        drop(store);
        let behind = tempfile::tempdir().unwrap();
        drop(Store::open_with(behind.path(), env.clone()).unwrap());
        std::fs::copy(journal_path(full.path()), journal_path(behind.path())).unwrap();
        let store = Store::open_with(behind.path(), env.clone()).unwrap();
        let got = (
            store.list(&Default::default()).unwrap().responses,
            store.settings().unwrap(),
            store.home_counts().unwrap(),
        );
        assert_eq!(got, want);
        assert_eq!(want.0.len(), 3);
        let lines = journal::line_count(&journal_path(full.path())).unwrap();
        assert!(lines > 10 && lines % 2 == 1, "{lines}");
        assert_eq!(store.stored_mark().unwrap().unwrap().lines, lines as u64);
        drop(store);

        // A replay stopped before its last group (a kill) has moved the mark past the
        // groups it wrote: the next open goes on from there, and no answer is replayed
        // twice (the last draft's would be in its answer's history twice).
        let stopped = tempfile::tempdir().unwrap();
        drop(Store::open_with(stopped.path(), env.clone()).unwrap());
        std::fs::copy(journal_path(full.path()), journal_path(stopped.path())).unwrap();
        replay::STOP_REPLAY_AFTER.set(Some((lines - 1) / 2));
        let failed = Store::open_with(stopped.path(), env.clone());
        replay::STOP_REPLAY_AFTER.set(None);
        assert!(failed.is_err());
        drop(failed);
        let store = Store::open_with(stopped.path(), env).unwrap();
        let again = (
            store.list(&Default::default()).unwrap().responses,
            store.settings().unwrap(),
            store.home_counts().unwrap(),
        );
        assert_eq!(again, want);
    }

    #[test]
    fn a_store_from_before_marks_merges_its_journal_once() {
        let dir = tempfile::tempdir().unwrap();
        let (env, _) = Env::manual(chrono::Utc::now());
        let store = Store::open_with(dir.path(), env.clone()).unwrap();
        store
            .set_setting(crate::response::SettingKey::Officer, "PC 1")
            .unwrap();
        store.tree(META).unwrap().clear().unwrap();
        store.flush().unwrap();
        drop(store);
        let store = Store::open_with(dir.path(), env).unwrap();
        assert!(store.notices().is_empty());
        assert_eq!(store.settings().unwrap().officer.as_deref(), Some("PC 1"));
        assert!(store.stored_mark().unwrap().is_some());
    }

    #[test]
    fn writes_kept_out_of_the_journal_leave_the_mark_in_step() {
        // Unconfirmed typing and the resume position are not journaled: they must not
        // look like a store behind its journal at the next open.
        let dir = tempfile::tempdir().unwrap();
        let (env, _) = Env::manual(chrono::Utc::now());
        let store = Store::open_with(dir.path(), env.clone()).unwrap();
        let draft = store
            .create_draft(crate::response::NewResponse {
                survey_id: "kin".into(),
                survey_version: 1,
                fingerprint: "f".into(),
                area: "E05000001".into(),
                period: None,
                interviewer: "PC 1".into(),
                device: "laptop-1".into(),
                language: "en".into(),
                started_at: env.now(),
            })
            .unwrap();
        let mark = store.stored_mark().unwrap();
        let typed = crate::response::TypedText {
            question: "q1".into(),
            text: "bins left out".into(),
        };
        store.set_typed(draft.id, Some(typed.clone())).unwrap();
        store.set_position(draft.id, "q1").unwrap();
        assert_eq!(store.stored_mark().unwrap(), mark);
        drop(store);
        let store = Store::open_with(dir.path(), env).unwrap();
        assert!(store.notices().is_empty(), "{:?}", store.notices());
        assert_eq!(store.get(draft.id).unwrap().typed.as_deref(), Some(&typed));
    }
}
