//! Writing this device's work to a batch file: `doorstep batch export` and the field app's
//! export both call [`Store::export_batch`], so a batch is the same whichever wrote it.
//!
//! The records not yet exported (or all, or those first exported after a given batch) are
//! gathered, signed with the device key, encrypted to the coordinator's recipient unless the
//! caller asked for a clear file, written whole or not at all, and only then marked exported.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use uuid::Uuid;

use super::batches::{ExportedBatch, RecordKey};
use super::doors::door_key;
use super::{Store, StoreError};
use crate::batch::{
    self, BatchError, Counts, DoorEntry, KnockEntry, Manifest, Origin, Record, Selection,
    SettingEntry,
};
use crate::exit;
use crate::response::{SettingKey, Settings};
use crate::seal::SealRecipient;

/// Why an export wrote nothing. Each message is one sentence saying what to do instead.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(
        "this device has no name yet, and batches are signed in its name: set one with `doorstep config set device NAME`"
    )]
    NoDevice,
    #[error(
        "no coordinator recipient is set, so the batch cannot be encrypted: set one with `doorstep config set recipient age1…` (the coordinator's `doorstep keys new` prints it), or give --unencrypted to write it in the clear"
    )]
    NoRecipient,
    #[error("{0} already exists; batches are never overwritten, so choose another file name")]
    Exists(PathBuf),
    #[error("{0} is not a file name")]
    NotAFileName(PathBuf),
    #[error("this device exported no batch {batch}{known}")]
    NoSuchBatch { batch: Uuid, known: String },
    #[error("{path}: {source}")]
    Batch {
        path: PathBuf,
        #[source]
        source: BatchError,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ExportError {
    pub fn exit_code(&self) -> u8 {
        match self {
            ExportError::NoDevice
            | ExportError::NoRecipient
            | ExportError::Exists(_)
            | ExportError::NotAFileName(_)
            | ExportError::NoSuchBatch { .. } => exit::USAGE,
            ExportError::Batch { source, .. } => match source.exit_code() {
                exit::DATA_ERR => exit::DATA_ERR,
                _ => exit::FAILURE,
            },
            ExportError::Io { .. } => exit::FAILURE,
            ExportError::Store(e) => e.exit_code(),
        }
    }
}

/// What an export did.
#[derive(Debug)]
pub enum Exported {
    /// A batch file was written and its records marked exported.
    Written(Box<Written>),
    /// There was nothing to export, so no file was written.
    Nothing(Nothing),
}

/// A batch written.
#[derive(Debug)]
pub struct Written {
    pub path: PathBuf,
    pub manifest: Manifest,
    /// Whom it is encrypted to; `None` for a clear file.
    pub recipient: Option<SealRecipient>,
    /// This export made the device's signing key (its first batch), in this file.
    pub key_made: Option<PathBuf>,
}

/// Why nothing was exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nothing {
    /// The device holds no finalized responses, doors, knocks or actions of its own (or
    /// none were asked for).
    NoFieldwork,
    /// Everything is already in a batch; the last one this device wrote.
    AllExported { last: ExportedBatch },
}

impl Store {
    /// Writes the records `selection` takes to a new batch file at `path` (which must not
    /// exist), encrypted to the coordinator's recipient unless `unencrypted`, then marks them
    /// exported. Refuses, changing nothing, without a device name, without a recipient
    /// (unless `unencrypted`), or when `path` exists.
    pub fn export_batch(
        &self,
        path: &Path,
        selection: Selection,
        unencrypted: bool,
    ) -> Result<Exported, ExportError> {
        let settings = self.settings()?;
        let device = settings.device.clone().ok_or(ExportError::NoDevice)?;
        // Unencrypted is an explicit choice: it writes in the clear even when a recipient
        // is set.
        let recipient = if unencrypted {
            None
        } else {
            Some(self.recipient()?.ok_or(ExportError::NoRecipient)?)
        };
        if path.exists() {
            return Err(ExportError::Exists(path.to_path_buf()));
        }
        let batches = self.exported_batches()?;
        let marks = self.export_marks()?;
        let since_sequence = match &selection {
            Selection::Since { batch } => Some(
                batches
                    .iter()
                    .find(|b| b.batch == *batch)
                    .map(|b| b.sequence)
                    .ok_or_else(|| ExportError::NoSuchBatch {
                        batch: *batch,
                        known: match batches.last() {
                            Some(b) => format!(
                                " (its batches are numbered 1 to {}, the last {})",
                                b.sequence, b.batch
                            ),
                            None => " (it has exported none yet)".to_owned(),
                        },
                    })?,
            ),
            _ => None,
        };
        let sequence_of: HashMap<Uuid, u64> =
            batches.iter().map(|b| (b.batch, b.sequence)).collect();
        let wanted = |key: &RecordKey| match (&selection, marks.get(key)) {
            (Selection::All, _) | (_, None) => true,
            (Selection::New, Some(_)) => false,
            (Selection::Since { .. }, Some(first)) => {
                sequence_of.get(first).copied().unwrap_or(u64::MAX) > since_sequence.unwrap_or(0)
            }
        };

        let (records, keys) = self.gather(&settings, &device, &wanted)?;
        if Counts::of(&records).fieldwork() == 0 {
            return Ok(Exported::Nothing(match (&selection, batches.last()) {
                (Selection::All, _) | (_, None) => Nothing::NoFieldwork,
                (_, Some(last)) => Nothing::AllExported { last: last.clone() },
            }));
        }

        let (key, made) = self.device_key()?;
        let previous = batches.last();
        let origin = Origin {
            batch: self.env().new_id(),
            sequence: previous.map_or(1, |b| b.sequence + 1),
            previous: previous.map(|b| b.batch),
            device,
            officer: settings.officer.clone(),
            created_at: self.env().now(),
            selection,
        };
        let manifest = Manifest::describe(origin, &key.public(), &records);
        let bytes = match &recipient {
            Some(r) => batch::write_encrypted(&manifest, &records, &key, r),
            None => batch::write(&manifest, &records, &key),
        }
        .map_err(|source| ExportError::Batch {
            path: path.to_path_buf(),
            source,
        })?;
        write_atomically(path, &bytes, manifest.batch)?;
        // The file is durable before the marks: a crash between the two re-exports the same
        // records next time, which a merge recognises as duplicates; nothing is lost.
        self.record_export(
            &ExportedBatch {
                batch: manifest.batch,
                sequence: manifest.sequence,
                previous: manifest.previous,
                created_at: manifest.created_at,
                counts: manifest.counts,
            },
            &keys,
        )?;
        Ok(Exported::Written(Box::new(Written {
            path: path.to_path_buf(),
            manifest,
            recipient,
            key_made: made.then(|| self.device_key_path()),
        })))
    }

    /// The records an export takes, in file order (settings, responses, doors, knocks,
    /// door corrections and removals, actions), and the keys to mark.
    fn gather(
        &self,
        settings: &Settings,
        device: &str,
        wanted: &dyn Fn(&RecordKey) -> bool,
    ) -> Result<(Vec<Record>, Vec<RecordKey>), StoreError> {
        let mut records = Vec::new();
        let mut keys = Vec::new();
        for key in [SettingKey::Device, SettingKey::Officer] {
            if let Some(value) = settings.get(key) {
                records.push(Record::Setting(SettingEntry {
                    key,
                    value: value.to_owned(),
                }));
            }
        }
        // Only this device's own records: merged ones travel in the batch files that
        // brought them, signed by the laptop that made them.
        for response in self.finalized_responses()? {
            let key = RecordKey::Response(response.id);
            if wanted(&key) && self.own_response(response.id)? {
                keys.push(key);
                records.push(Record::Response(response));
            }
        }
        // A revision made here that lost a conflict of revisions (kept in the conflict
        // record, out of the responses) goes too: the other side needs it to see the
        // same conflict.
        let held = self.tree(super::responses::RESPONSES)?;
        for response in self.set_aside_revisions()? {
            let key = RecordKey::Response(response.id);
            if wanted(&key)
                && !held.contains_key(response.id.as_bytes())?
                && self.own_response(response.id)?
            {
                keys.push(key);
                records.push(Record::Response(response));
            }
        }
        let doors = self.all_doors()?;
        for d in &doors {
            let key = RecordKey::door(&d.area, &d.door);
            let own = door_key(&d.area, &d.door).map_or(Ok(false), |k| self.own_door(&k))?;
            if wanted(&key) && own {
                keys.push(key);
                records.push(Record::Door(DoorEntry {
                    area: d.area.clone(),
                    door: d.door.clone(),
                }));
            }
        }
        for d in &doors {
            for knock in &d.knocks {
                let id = knock.identity(&d.area, &d.door);
                let key = RecordKey::Knock(id);
                if wanted(&key) && self.own_knock(id)? {
                    keys.push(key);
                    // Knocks from before knocks had identity were all made on this device.
                    let mut knock = knock.clone();
                    knock.id = Some(id);
                    knock.device = knock.device.or_else(|| Some(device.to_owned()));
                    knock.officer = knock.officer.or_else(|| settings.officer.clone());
                    records.push(Record::Knock(KnockEntry {
                        area: d.area.clone(),
                        door: d.door.clone(),
                        knock,
                    }));
                }
            }
        }
        // Corrections and removals after the knocks they name, oldest first.
        for change in self.door_changes()? {
            let key = RecordKey::DoorChange(change.meta.id);
            if wanted(&key) {
                keys.push(key);
                records.push(change.record(device));
            }
        }
        // Each action as it stands: a version not exported before goes out whole, history
        // and all, so the coordinator's merge can tell an extension from a divergence.
        let actions = self.actions()?;
        if let Some(e) = actions.unreadable.into_iter().next() {
            return Err(e);
        }
        for action in actions.actions {
            let key = RecordKey::Action(action.id, action.digest());
            if wanted(&key) && self.own_action(&action)? {
                keys.push(key);
                records.push(Record::Action(action));
            }
        }
        Ok((records, keys))
    }
}

/// Writes a new file whole or not at all: a temporary file beside it, fsynced, renamed
/// into place, and the folder fsynced.
fn write_atomically(path: &Path, bytes: &[u8], batch: Uuid) -> Result<(), ExportError> {
    let io = |path: &Path, source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| ExportError::NotAFileName(path.to_path_buf()))?;
    let temp = dir.join(format!(".{name}.{batch}.partial"));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .map_err(|e| io(&temp, e));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    // A file that appeared meanwhile is not replaced.
    if path.exists() {
        let _ = std::fs::remove_file(&temp);
        return Err(ExportError::Exists(path.to_path_buf()));
    }
    if let Err(e) = std::fs::rename(&temp, path) {
        let _ = std::fs::remove_file(&temp);
        return Err(io(path, e));
    }
    std::fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io(&dir, e))
}
