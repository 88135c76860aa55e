//! `doorstep recover`: rebuild the store from the journal.
//!
//! If the sled store is missing it is rebuilt; if it will not open it is moved aside
//! (never deleted) and rebuilt; if it opens, anything the journal has that the store lacks
//! (or holds only an older draft of, or cannot read) is written back.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use uuid::Uuid;

use super::doors::door_key;
use super::responses::RESPONSES;
use super::{
    CorruptLine, DirLock, JournalEntry, STORE_DIR, Store, StoreError, decode, journal_path,
    open_db, read_journal,
};
use crate::response::{DoorRecord, Env, Response, SettingKey, Status};

/// What state the sled store was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreState {
    /// It opened; the journal was checked against it.
    Healthy,
    /// There was no store directory.
    Missing,
    /// It would not open; it was moved aside and a new one built.
    Damaged { error: String, moved_to: PathBuf },
}

/// What `recover` found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    pub store: StoreState,
    pub journal: PathBuf,
    /// Lines in the journal, good and bad.
    pub lines: usize,
    /// Lines read successfully.
    pub entries: usize,
    pub corrupt: Vec<CorruptLine>,
    /// Responses written back, by status.
    pub restored: BTreeMap<Status, usize>,
    /// Responses the store already held as the journal has them (or newer).
    pub already_present: usize,
    pub doors_restored: usize,
    pub knocks_restored: usize,
    pub settings_restored: usize,
}

impl RecoveryReport {
    pub fn responses_restored(&self) -> usize {
        self.restored.values().sum()
    }
}

impl fmt::Display for RecoveryReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.store {
            StoreState::Healthy => writeln!(f, "store: opened fine; checked against the journal")?,
            StoreState::Missing => writeln!(f, "store: missing; rebuilt from the journal")?,
            StoreState::Damaged { error, moved_to } => writeln!(
                f,
                "store: would not open ({error}); moved aside to {} and rebuilt from the journal",
                moved_to.display()
            )?,
        }
        writeln!(
            f,
            "journal: {} line(s) read from {}, {} good, {} corrupt",
            self.lines,
            self.journal.display(),
            self.entries,
            self.corrupt.len()
        )?;
        let by_status: Vec<String> = self
            .restored
            .iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        write!(f, "restored: {} response(s)", self.responses_restored())?;
        if !by_status.is_empty() {
            write!(f, " ({})", by_status.join(", "))?;
        }
        writeln!(
            f,
            ", {} door(s), {} knock(s), {} setting(s)",
            self.doors_restored, self.knocks_restored, self.settings_restored
        )?;
        writeln!(
            f,
            "already in the store: {} response(s)",
            self.already_present
        )?;
        for c in &self.corrupt {
            writeln!(f, "skipped corrupt journal line {}: {}", c.line, c.reason)?;
        }
        Ok(())
    }
}

/// Rebuilds or repairs the store under `data_dir` from its journal. Takes the data
/// directory lock like any other command.
pub fn recover(data_dir: &Path, env: Env) -> Result<RecoveryReport, StoreError> {
    std::fs::create_dir_all(data_dir).map_err(|e| StoreError::io(data_dir, e))?;
    let lock = DirLock::acquire(data_dir)?;
    let jpath = journal_path(data_dir);
    let contents = read_journal(&jpath)?;
    let db_path = data_dir.join(STORE_DIR);

    let (db, state) = if !db_path.exists() {
        (open_db(&db_path)?, StoreState::Missing)
    } else {
        match open_db(&db_path) {
            Ok(db) => (db, StoreState::Healthy),
            Err(e) => {
                let error = match e {
                    StoreError::Open { message, .. } => message,
                    other => other.to_string(),
                };
                let moved_to = aside_path(data_dir, &env);
                std::fs::rename(&db_path, &moved_to).map_err(|e| StoreError::io(&db_path, e))?;
                (open_db(&db_path)?, StoreState::Damaged { error, moved_to })
            }
        }
    };
    let store = Store::assemble(db, data_dir, env, lock)?;

    let mut report = RecoveryReport {
        store: state,
        journal: jpath,
        lines: contents.lines,
        entries: contents.entries.len(),
        corrupt: contents.corrupt,
        restored: BTreeMap::new(),
        already_present: 0,
        doors_restored: 0,
        knocks_restored: 0,
        settings_restored: 0,
    };

    // The last journal line for a response is its latest finalized state.
    let mut responses: BTreeMap<Uuid, Response> = BTreeMap::new();
    // Doors as the journal leaves them, in journal order: corrections move a door (with
    // its knocks), removals take it out; `removed` are the keys to take out of the store.
    let mut doors: BTreeMap<Vec<u8>, DoorRecord> = BTreeMap::new();
    let mut removed: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut settings: BTreeMap<SettingKey, String> = BTreeMap::new();
    for (_, entry) in contents.entries {
        match entry {
            JournalEntry::Response(r) => {
                responses.insert(r.id, r);
            }
            JournalEntry::Door { area, door } => {
                let Ok(key) = door_key(&area, &door) else {
                    continue;
                };
                removed.remove(&key);
                doors
                    .entry(key)
                    .or_insert_with(|| DoorRecord::new(&area, door));
            }
            JournalEntry::Knock { area, door, knock } => {
                let Ok(key) = door_key(&area, &door) else {
                    continue;
                };
                removed.remove(&key);
                doors
                    .entry(key)
                    .or_insert_with(|| DoorRecord::new(&area, door))
                    .add_knock(knock);
            }
            JournalEntry::DoorEdited { area, from, to } => {
                let (Ok(from_key), Ok(to_key)) = (door_key(&area, &from), door_key(&area, &to))
                else {
                    continue;
                };
                let mut record = doors
                    .remove(&from_key)
                    .unwrap_or_else(|| DoorRecord::new(&area, from));
                record.correct_door(to);
                removed.insert(from_key);
                removed.remove(&to_key);
                doors.insert(to_key, record);
            }
            JournalEntry::DoorRemoved { area, door } => {
                let Ok(key) = door_key(&area, &door) else {
                    continue;
                };
                doors.remove(&key);
                removed.insert(key);
            }
            JournalEntry::Setting { key, value } => {
                settings.insert(key, value);
            }
        }
    }

    let tree = store.tree(RESPONSES)?;
    for (id, journaled) in responses {
        let current = tree
            .get(id.as_bytes())?
            .and_then(|b| decode::<Response>(|| id.to_string(), &b).ok());
        let keep_current =
            current.is_some_and(|c| c.status.is_final() || c.changed_at > journaled.changed_at);
        if keep_current {
            report.already_present += 1;
        } else {
            *report.restored.entry(journaled.status).or_default() += 1;
            store.put_response(&journaled)?;
        }
    }

    // A correction or removal journaled just before a crash may not have reached the store.
    for key in &removed {
        if store.door_record(key).ok().flatten().is_some() {
            store.tree(super::doors::DOORS)?.remove(key)?;
        }
    }
    for (key, journaled) in doors {
        // An unreadable stored door is replaced by the journal's.
        let current = store.door_record(&key).ok().flatten();
        let mut changed = current.is_none();
        let mut merged = match current {
            Some(c) => c,
            None => {
                report.doors_restored += 1;
                DoorRecord::new(&journaled.area, journaled.door.clone())
            }
        };
        // A correction of spelling only keeps the key; the journal's spelling is the latest.
        if merged.door != journaled.door {
            merged.door = journaled.door.clone();
            changed = true;
        }
        for knock in journaled.knocks {
            if !merged.knocks.contains(&knock) {
                merged.add_knock(knock);
                report.knocks_restored += 1;
                changed = true;
            }
        }
        if changed {
            store.put_door(&key, &merged)?;
        }
    }

    let current = store.settings().unwrap_or_default();
    for (key, value) in settings {
        if current.get(key) != Some(value.as_str()) {
            store.put_setting(key, &value)?;
            report.settings_restored += 1;
        }
    }
    store.flush()?;
    Ok(report)
}

/// `store.damaged-20261005T101500Z`, with a counter if that exists already.
fn aside_path(data_dir: &Path, env: &Env) -> PathBuf {
    let stamp = env.now().format("%Y%m%dT%H%M%SZ");
    let base = data_dir.join(format!("{STORE_DIR}.damaged-{stamp}"));
    if !base.exists() {
        return base;
    }
    (2..)
        .map(|n| data_dir.join(format!("{STORE_DIR}.damaged-{stamp}-{n}")))
        .find(|p| !p.exists())
        .unwrap_or(base)
}
