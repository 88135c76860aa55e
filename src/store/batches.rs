//! What the store keeps for batches: which records went out in which batch (tree
//! `exports`), the device pins a coordinator trusts (tree `device_pins`), and this
//! device's signing key (file `device.key` beside the store, mode 0600).
//!
//! Export marks are never deleted. Keys in `exports`: `batch\x1f<batch uuid bytes>` → the
//! [`ExportedBatch`]; `mark\x1f<record key>` → the batch id that first carried the record.
//! Record keys: `response\x1f<uuid>`, `knock\x1f<uuid>`, `door\x1f<area>\x1f<door key>`,
//! `action\x1f<uuid>\x1f<digest>` (each version of an action is marked, so a changed action
//! goes out again), `door-change\x1f<uuid>` (a door correction or removal).

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::doors::DOORS;
use super::{JournalEntry, Store, StoreError, decode, encode};
use crate::batch::{Counts, DeviceKey, DevicePublicKey};
use crate::response::{DoorRecord, Response};
use sled::Transactional;

pub(super) const EXPORTS: &str = "exports";
pub(super) const DEVICE_PINS: &str = "device_pins";
/// This device's batch signing key, in the data directory.
pub const DEVICE_KEY_FILE: &str = "device.key";

const BATCH_PREFIX: &[u8] = b"batch\x1f";
const MARK_PREFIX: &[u8] = b"mark\x1f";
/// Marks of responses (prefix of their keys).
pub(super) const RESPONSE_MARK_PREFIX: &[u8] = b"mark\x1fresponse\x1f";
/// How many responses are marked: kept with the marks, read by the home screen.
pub(super) const EXPORTED_RESPONSES: &[u8] = b"count\x1fresponses";

/// A batch this device wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedBatch {
    pub batch: Uuid,
    pub sequence: u64,
    pub previous: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub counts: Counts,
}

/// The key of a record in the export marks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RecordKey {
    Response(Uuid),
    Knock(Uuid),
    /// Area and [`crate::response::Door::key`].
    Door(String, String),
    /// An action as it stood: its id and [`crate::action::Action::digest`].
    Action(Uuid, String),
    /// A door correction or removal made on this device.
    DoorChange(Uuid),
}

impl RecordKey {
    /// A door's key: area compared case-insensitively, like the door log does.
    pub fn door(area: &str, door: &crate::response::Door) -> RecordKey {
        RecordKey::Door(area.trim().to_lowercase(), door.key())
    }

    pub(super) fn bytes(&self) -> Vec<u8> {
        let text = match self {
            RecordKey::Response(id) => format!("response\x1f{id}"),
            RecordKey::Knock(id) => format!("knock\x1f{id}"),
            RecordKey::Door(area, door) => format!("door\x1f{area}\x1f{door}"),
            RecordKey::Action(id, digest) => format!("action\x1f{id}\x1f{digest}"),
            RecordKey::DoorChange(id) => format!("door-change\x1f{id}"),
        };
        let mut key = MARK_PREFIX.to_vec();
        key.extend(text.into_bytes());
        key
    }
}

/// How a coordinator came to trust a device's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PinSource {
    /// The first verified batch from the device carried it.
    FirstUse,
    /// Set by `doorstep devices trust`.
    Trusted,
}

/// The key a coordinator expects for a device name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicePin {
    pub device: String,
    pub key: DevicePublicKey,
    pub since: DateTime<Utc>,
    pub source: PinSource,
    /// When set, batches signed with this key are refused.
    #[serde(default)]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Store {
    /// This device's signing key, made (mode 0600, fsynced) on first use. The bool says
    /// whether it was made now.
    pub fn device_key(&self) -> Result<(DeviceKey, bool), StoreError> {
        let path = self.device_key_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => DeviceKey::from_file_text(&text)
                .map(|k| (k, false))
                .map_err(|e| StoreError::Corrupt {
                    key: format!("device key {}", path.display()),
                    message: e.to_string(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = DeviceKey::generate().map_err(|e| StoreError::Encode(e.to_string()))?;
                write_private(&path, key.to_file_text().as_bytes())?;
                Ok((key, true))
            }
            Err(e) => Err(StoreError::io(path, e)),
        }
    }

    pub fn device_key_path(&self) -> PathBuf {
        self.data_dir.join(DEVICE_KEY_FILE)
    }

    /// Every batch this device wrote, oldest first.
    pub fn exported_batches(&self) -> Result<Vec<ExportedBatch>, StoreError> {
        let mut out = Vec::new();
        for entry in self.tree(EXPORTS)?.scan_prefix(BATCH_PREFIX) {
            let (key, value) = entry?;
            out.push(decode(
                || format!("export {}", String::from_utf8_lossy(&key)),
                &value,
            )?);
        }
        // UUID v7 keys sort by time; the sequence is the order that counts.
        out.sort_by_key(|b: &ExportedBatch| b.sequence);
        Ok(out)
    }

    /// The batch that first carried each exported record.
    pub fn export_marks(&self) -> Result<HashMap<RecordKey, Uuid>, StoreError> {
        let mut out = HashMap::new();
        for entry in self.tree(EXPORTS)?.scan_prefix(MARK_PREFIX) {
            let (key, value) = entry?;
            let name = || format!("export mark {}", String::from_utf8_lossy(&key));
            let batch: Uuid = decode(name, &value)?;
            let text = String::from_utf8_lossy(&key[MARK_PREFIX.len()..]).into_owned();
            let mut parts = text.splitn(3, '\x1f');
            let parsed = match (parts.next(), parts.next(), parts.next()) {
                (Some("response"), Some(id), None) => id.parse().ok().map(RecordKey::Response),
                (Some("knock"), Some(id), None) => id.parse().ok().map(RecordKey::Knock),
                (Some("door-change"), Some(id), None) => id.parse().ok().map(RecordKey::DoorChange),
                // The door key itself holds a separator (street, number): the rest is it.
                (Some("action"), Some(id), Some(digest)) => id
                    .parse()
                    .ok()
                    .map(|id| RecordKey::Action(id, digest.to_owned())),
                (Some("door"), Some(area), Some(door)) => {
                    Some(RecordKey::Door(area.to_owned(), door.to_owned()))
                }
                _ => None,
            };
            let parsed = parsed.ok_or_else(|| StoreError::Corrupt {
                key: name(),
                message: "not a record key".into(),
            })?;
            out.insert(parsed, batch);
        }
        Ok(out)
    }

    /// Records a written batch and marks its records, in one atomic write, flushed.
    /// Records already marked keep the batch that first carried them.
    pub fn record_export(
        &self,
        batch: &ExportedBatch,
        records: &[RecordKey],
    ) -> Result<(), StoreError> {
        let _guard = self.write_guard();
        let tree = self.tree(EXPORTS)?;
        let pending = self.pending_after_export(records)?;
        let mut writes = sled::Batch::default();
        let mut key = BATCH_PREFIX.to_vec();
        key.extend_from_slice(batch.batch.as_bytes());
        writes.insert(key, encode(batch)?);
        let mark = encode(&batch.batch)?;
        let mut responses = 0u64;
        for record in records {
            let key = record.bytes();
            if tree.get(&key)?.is_none() {
                responses += u64::from(matches!(record, RecordKey::Response(_)));
                writes.insert(key, mark.clone());
            }
        }
        let before = tree
            .get(EXPORTED_RESPONSES)?
            .and_then(|b| <[u8; 8]>::try_from(b.as_ref()).ok())
            .map_or(0, u64::from_be_bytes);
        writes.insert(EXPORTED_RESPONSES, &(before + responses).to_be_bytes());
        // The marks and what home counts as not yet exported move together.
        let tallies = self.tree(super::tallies::TALLIES)?;
        let result: Result<(), sled::transaction::TransactionError<()>> = (&tree, &tallies)
            .transaction(|(e, t)| {
                e.apply_batch(&writes)?;
                super::own::apply_pending(t, &pending)
            });
        super::transaction_result(result)?;
        self.flush()
    }

    /// Every door record in every area.
    pub fn all_doors(&self) -> Result<Vec<DoorRecord>, StoreError> {
        let mut out = Vec::new();
        for entry in self.tree(DOORS)?.iter() {
            let (key, value) = entry?;
            out.push(decode(
                || format!("door {}", String::from_utf8_lossy(&key)),
                &value,
            )?);
        }
        Ok(out)
    }

    /// Calls `each` with every door, one at a time (nothing kept between calls); an
    /// unreadable door is an error, as in [`Store::all_doors`].
    pub fn each_door(
        &self,
        mut each: impl FnMut(DoorRecord) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for entry in self.tree(DOORS)?.iter() {
            let (key, value) = entry?;
            each(decode(
                || format!("door {}", String::from_utf8_lossy(&key)),
                &value,
            )?)?;
        }
        Ok(())
    }

    /// Every finalized response and revision, oldest first; an unreadable record is an
    /// error (an export must not silently leave one behind).
    pub fn finalized_responses(&self) -> Result<Vec<Response>, StoreError> {
        let listing = self.list(&crate::response::ResponseFilter::default())?;
        if let Some(e) = listing.unreadable.into_iter().next() {
            return Err(e);
        }
        Ok(listing
            .responses
            .into_iter()
            .filter(|r| r.status.is_final())
            .collect())
    }

    /// The pinned key for a device name.
    pub fn device_pin(&self, device: &str) -> Result<Option<DevicePin>, StoreError> {
        match self.tree(DEVICE_PINS)?.get(device.as_bytes())? {
            None => Ok(None),
            Some(bytes) => decode(|| format!("device pin {device}"), &bytes).map(Some),
        }
    }

    /// Every pinned device, by name.
    pub fn device_pins(&self) -> Result<Vec<DevicePin>, StoreError> {
        let mut out = Vec::new();
        for entry in self.tree(DEVICE_PINS)?.iter() {
            let (key, value) = entry?;
            out.push(decode(
                || format!("device pin {}", String::from_utf8_lossy(&key)),
                &value,
            )?);
        }
        Ok(out)
    }

    /// Every pin that reads, and how many do not (for a journal rebuilt from the store).
    pub(super) fn readable_device_pins(&self) -> Result<(Vec<DevicePin>, usize), StoreError> {
        let mut pins = Vec::new();
        let mut unreadable = 0;
        for entry in self.tree(DEVICE_PINS)?.iter() {
            let (key, value) = entry?;
            match decode(|| String::from_utf8_lossy(&key).into_owned(), &value) {
                Ok(pin) => pins.push(pin),
                Err(_) => unreadable += 1,
            }
        }
        Ok((pins, unreadable))
    }

    /// Pins (or re-pins, or revokes) a device's key: journaled, then written, flushed.
    pub fn put_device_pin(&self, pin: &DevicePin) -> Result<(), StoreError> {
        let _guard = self.write_guard();
        self.journaled(&JournalEntry::DevicePin(pin.clone()), || {
            self.write_device_pin(pin)
        })?;
        self.flush()
    }

    /// Writes a pin as it stands, unjournaled: for replay and recover, which read it from
    /// the journal.
    pub(super) fn write_device_pin(&self, pin: &DevicePin) -> Result<(), StoreError> {
        self.tree(DEVICE_PINS)?
            .insert(pin.device.as_bytes(), encode(pin)?)?;
        Ok(())
    }
}

/// Writes a new file readable by its owner only, and makes it durable.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| StoreError::io(path, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| StoreError::io(path, e))?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| StoreError::io(dir, e))?;
    }
    Ok(())
}
