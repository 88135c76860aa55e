//! The door log in the store: one record per door per area, each knock appended,
//! journaled (on disk before the call returns).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::journal::DoorChangeMeta;
use super::{JournalEntry, META, Store, StoreError, Tree, Write, decode, encode};
use crate::batch::{DoorEditEntry, DoorRemoveEntry, Record};
use crate::response::{Door, DoorRecord, Knock, Outcome, ResponseError};

pub(super) const DOORS: &str = "doors";
/// Door corrections and removals made on this device, kept (tree `meta`, never deleted)
/// so an export can send them: `door-change\x1f<uuid bytes>` → [`DoorChange`].
pub(super) const DOOR_CHANGE_PREFIX: &[u8] = b"door-change\x1f";

/// A door correction or removal made on this device, as its journal line holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct DoorChange {
    pub area: String,
    /// The door as it was.
    pub from: Door,
    /// The corrected door; None for a removal.
    pub to: Option<Door>,
    pub meta: DoorChangeMeta,
}

impl DoorChange {
    /// The journal entry's change, if it carries one (lines of earlier releases do not).
    pub fn of(entry: &JournalEntry) -> Option<DoorChange> {
        match entry {
            JournalEntry::DoorEdited {
                area,
                from,
                to,
                change: Some(meta),
            } => Some(DoorChange {
                area: area.clone(),
                from: from.clone(),
                to: Some(to.clone()),
                meta: meta.clone(),
            }),
            JournalEntry::DoorRemoved {
                area,
                door,
                change: Some(meta),
            } => Some(DoorChange {
                area: area.clone(),
                from: door.clone(),
                to: None,
                meta: meta.clone(),
            }),
            _ => None,
        }
    }

    pub fn key(&self) -> Vec<u8> {
        let mut key = DOOR_CHANGE_PREFIX.to_vec();
        key.extend_from_slice(self.meta.id.as_bytes());
        key
    }

    /// The batch record; `device` names it when the device had no name yet.
    pub fn record(&self, device: &str) -> Record {
        let m = &self.meta;
        let device = m.device.clone().unwrap_or_else(|| device.to_owned());
        match &self.to {
            Some(to) => Record::DoorEdit(DoorEditEntry {
                id: m.id,
                area: self.area.clone(),
                from: self.from.clone(),
                to: to.clone(),
                at: m.at,
                device,
                officer: m.officer.clone(),
                knocks: m.knocks.clone(),
            }),
            None => Record::DoorRemove(DoorRemoveEntry {
                id: m.id,
                area: self.area.clone(),
                door: self.from.clone(),
                at: m.at,
                device,
                officer: m.officer.clone(),
                knocks: m.knocks.clone(),
            }),
        }
    }
}

/// The key prefix for an area: its code, case-insensitive.
pub(super) fn area_prefix(area: &str) -> Result<Vec<u8>, StoreError> {
    let area = area.trim();
    if area.is_empty() {
        return Err(ResponseError::Incomplete {
            what: "an area code",
        }
        .into());
    }
    let mut key = area.to_lowercase().into_bytes();
    key.push(0x1e);
    Ok(key)
}

pub(super) fn door_key(area: &str, door: &Door) -> Result<Vec<u8>, StoreError> {
    let mut key = area_prefix(area)?;
    key.extend_from_slice(door.key().as_bytes());
    Ok(key)
}

impl Store {
    /// Adds a door to an area's log (to knock later); nothing changes if it is there.
    pub fn add_door(&self, area: &str, door: Door) -> Result<DoorRecord, StoreError> {
        let key = door_key(area, &door)?;
        let _guard = self.write_guard();
        if let Some(existing) = self.door_record(&key)? {
            return Ok(existing);
        }
        let record = DoorRecord::new(area.trim(), door.clone());
        let entry = JournalEntry::Door {
            area: record.area.clone(),
            door,
        };
        self.journaled(&entry, || self.put_door(&key, &record))?;
        Ok(record)
    }

    /// Records a knock on a door (adding the door if new), journaled (on disk before it returns).
    pub fn knock(
        &self,
        area: &str,
        door: Door,
        outcome: Outcome,
        at: DateTime<Utc>,
    ) -> Result<DoorRecord, StoreError> {
        let key = door_key(area, &door)?;
        let _guard = self.write_guard();
        let mut record = self
            .door_record(&key)?
            .unwrap_or_else(|| DoorRecord::new(area.trim(), door.clone()));
        // Who knocked travels with the knock, so merged door logs keep it.
        let settings = self.settings()?;
        let knock = Knock {
            id: Some(self.env.new_id()),
            device: settings.device,
            officer: settings.officer,
            ..Knock::new(at, outcome)
        };
        let entry = JournalEntry::Knock {
            area: record.area.clone(),
            door,
            knock: knock.clone(),
        };
        record.add_knock(knock);
        self.journaled(&entry, || self.put_door(&key, &record))?;
        Ok(record)
    }

    /// Corrects a door's street or number; its knocks go with it, and so does any draft
    /// interview started at it. Journaled and flushed. Refused (nothing changes) when the
    /// door is not in the log or the corrected door is already another door in it.
    pub fn edit_door(&self, area: &str, from: &Door, to: Door) -> Result<DoorRecord, StoreError> {
        let from_key = door_key(area, from)?;
        let to_key = door_key(area, &to)?;
        let _guard = self.write_guard();
        let Some(mut record) = self.door_record(&from_key)? else {
            return Err(StoreError::NoSuchDoor {
                area: area.trim().to_owned(),
                door: from.clone(),
            });
        };
        if to_key != from_key && self.door_record(&to_key)?.is_some() {
            return Err(StoreError::DoorExists {
                area: record.area,
                door: to,
            });
        }
        let old = record.door.clone();
        let entry = JournalEntry::DoorEdited {
            area: record.area.clone(),
            from: old.clone(),
            to: to.clone(),
            change: Some(self.door_change_meta(&record)?),
        };
        let change = DoorChange::of(&entry);
        record.correct_door(to);
        self.journaled(&entry, || {
            let mut writes = vec![
                Write {
                    tree: Tree::Doors,
                    key: from_key.clone(),
                    value: None,
                },
                Write::put(Tree::Doors, to_key.clone(), encode(&record)?),
            ];
            writes.extend(change_write(change.as_ref())?);
            self.apply_writes(&writes, None)?;
            self.move_drafts_at(&record.area, &old, &record.door)
        })?;
        Ok(record)
    }

    /// Takes a door entered by mistake out of the log, with its knocks, so it no longer
    /// counts against the response rate. Journaled and flushed. A door with an interview
    /// is refused: it is a real door, to be corrected with [`Store::edit_door`].
    pub fn remove_door(&self, area: &str, door: &Door) -> Result<DoorRecord, StoreError> {
        let key = door_key(area, door)?;
        let _guard = self.write_guard();
        let Some(record) = self.door_record(&key)? else {
            return Err(StoreError::NoSuchDoor {
                area: area.trim().to_owned(),
                door: door.clone(),
            });
        };
        if record.interviewed() {
            return Err(StoreError::DoorInterviewed {
                area: record.area,
                door: record.door,
            });
        }
        let entry = JournalEntry::DoorRemoved {
            area: record.area.clone(),
            door: record.door.clone(),
            change: Some(self.door_change_meta(&record)?),
        };
        let change = DoorChange::of(&entry);
        self.journaled(&entry, || {
            let mut writes = vec![Write {
                tree: Tree::Doors,
                key: key.clone(),
                value: None,
            }];
            writes.extend(change_write(change.as_ref())?);
            self.apply_writes(&writes, None)
        })?;
        Ok(record)
    }

    /// Who is changing `record`'s door now, and the knocks it has, for the change's batch
    /// record.
    fn door_change_meta(&self, record: &DoorRecord) -> Result<DoorChangeMeta, StoreError> {
        let settings = self.settings()?;
        Ok(DoorChangeMeta {
            id: self.env.new_id(),
            at: self.env.now(),
            device: settings.device,
            officer: settings.officer,
            knocks: record
                .knocks
                .iter()
                .map(|k| k.identity(&record.area, &record.door))
                .collect(),
        })
    }

    pub(super) fn put_door_change(&self, change: Option<&DoorChange>) -> Result<(), StoreError> {
        if let Some(c) = change {
            self.tree(META)?.insert(c.key(), encode(c)?)?;
        }
        Ok(())
    }

    /// Every door correction and removal made on this device, oldest first.
    pub(super) fn door_changes(&self) -> Result<Vec<DoorChange>, StoreError> {
        let mut out: Vec<DoorChange> = Vec::new();
        for entry in self.tree(META)?.scan_prefix(DOOR_CHANGE_PREFIX) {
            let (key, value) = entry?;
            out.push(decode(
                || format!("door change {}", String::from_utf8_lossy(&key)),
                &value,
            )?);
        }
        // UUID v7 ids sort by time already; the time is what counts.
        out.sort_by_key(|c| (c.meta.at, c.meta.id));
        Ok(out)
    }

    /// Every door correction and removal that reads, and how many do not.
    pub(super) fn readable_door_changes(&self) -> Result<(Vec<DoorChange>, usize), StoreError> {
        let mut out = Vec::new();
        let mut unreadable = 0;
        for entry in self.tree(META)?.scan_prefix(DOOR_CHANGE_PREFIX) {
            let (_, value) = entry?;
            match decode(String::new, &value) {
                Ok(c) => out.push(c),
                Err(_) => unreadable += 1,
            }
        }
        Ok((out, unreadable))
    }

    /// Every door of an area with its key, as stored (a merge that corrects or removes a
    /// door looks for its knocks among them).
    pub(super) fn area_door_records(
        &self,
        area: &str,
    ) -> Result<Vec<(Vec<u8>, DoorRecord)>, StoreError> {
        let prefix = area_prefix(area)?;
        let mut out = Vec::new();
        // Read through an overlay: a merge's slices before, a dry run's batches before.
        for (key, value) in self.read_prefix(DOORS, &prefix)? {
            out.push((key.to_vec(), decode(|| door_key_name(&key), &value)?));
        }
        Ok(out)
    }

    /// Every door in an area, by street then number.
    pub fn doors(&self, area: &str) -> Result<Vec<DoorRecord>, StoreError> {
        let prefix = area_prefix(area)?;
        let mut out = Vec::new();
        for entry in self.tree(DOORS)?.scan_prefix(&prefix) {
            let (key, value) = entry?;
            out.push(decode(|| door_key_name(&key), &value)?);
        }
        Ok(out)
    }

    /// Calls `each` with every door in every area, one at a time; returns how many stored
    /// doors could not be read.
    pub(super) fn each_readable_door(
        &self,
        mut each: impl FnMut(DoorRecord) -> Result<(), StoreError>,
    ) -> Result<usize, StoreError> {
        let mut unreadable = 0;
        for entry in self.tree(DOORS)?.iter() {
            let (key, value) = entry?;
            match decode(|| door_key_name(&key), &value) {
                Ok(r) => each(r)?,
                Err(_) => unreadable += 1,
            }
        }
        Ok(unreadable)
    }

    pub(super) fn door_record(&self, key: &[u8]) -> Result<Option<DoorRecord>, StoreError> {
        match self.read(DOORS, key)? {
            None => Ok(None),
            Some(bytes) => decode(|| door_key_name(key), &bytes).map(Some),
        }
    }

    /// Writes a door record, with the index of what is not yet exported.
    pub(super) fn put_door(&self, key: &[u8], record: &DoorRecord) -> Result<(), StoreError> {
        self.apply_writes(
            &[Write::put(Tree::Doors, key.to_vec(), encode(record)?)],
            None,
        )
    }
}

pub(super) fn door_key_name(key: &[u8]) -> String {
    let text = String::from_utf8_lossy(key);
    format!("door {}", text.replace(['\u{1e}', '\u{1f}'], "/"))
}

/// The write that keeps a door change for the next export (none for lines that carry none).
fn change_write(change: Option<&DoorChange>) -> Result<Option<Write>, StoreError> {
    change
        .map(|c| Ok(Write::put(Tree::Meta, c.key(), encode(c)?)))
        .transpose()
}
