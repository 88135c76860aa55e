//! The door log in the store: one record per door per area, each knock appended,
//! journaled (on disk before the call returns).

use chrono::{DateTime, Utc};

use super::{JournalEntry, Store, StoreError, decode, encode};
use crate::response::{Door, DoorRecord, Knock, Outcome, ResponseError};

pub(super) const DOORS: &str = "doors";

/// The key prefix for an area: its code, case-insensitive.
fn area_prefix(area: &str) -> Result<Vec<u8>, StoreError> {
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
        };
        record.correct_door(to);
        self.journaled(&entry, || {
            self.tree(DOORS)?.remove(&from_key)?;
            self.put_door(&to_key, &record)?;
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
        };
        self.journaled(&entry, || {
            self.tree(DOORS)?.remove(&key)?;
            Ok(())
        })?;
        Ok(record)
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

    /// Every door in every area, and how many stored doors could not be read.
    pub(super) fn readable_doors(&self) -> Result<(Vec<DoorRecord>, usize), StoreError> {
        let mut out = Vec::new();
        let mut unreadable = 0;
        for entry in self.tree(DOORS)?.iter() {
            let (key, value) = entry?;
            match decode(|| door_key_name(&key), &value) {
                Ok(r) => out.push(r),
                Err(_) => unreadable += 1,
            }
        }
        Ok((out, unreadable))
    }

    pub(super) fn door_record(&self, key: &[u8]) -> Result<Option<DoorRecord>, StoreError> {
        match self.read(DOORS, key)? {
            None => Ok(None),
            Some(bytes) => decode(|| door_key_name(key), &bytes).map(Some),
        }
    }

    pub(super) fn put_door(&self, key: &[u8], record: &DoorRecord) -> Result<(), StoreError> {
        self.tree(DOORS)?.insert(key, encode(record)?)?;
        Ok(())
    }
}

fn door_key_name(key: &[u8]) -> String {
    let text = String::from_utf8_lossy(key);
    format!("door {}", text.replace(['\u{1e}', '\u{1f}'], "/"))
}
