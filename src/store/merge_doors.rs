//! Merging door corrections and removals (`door_edit`, `door_remove` batch records): the
//! rules are in the notes of [`super::merge`] and in `BATCH_FORMAT.md`.
//!
//! What the merge keeps so that the order batches arrive in does not matter, in tree
//! `merge`:
//! - `knock-fate\x1f<uuid bytes>` → [`KnockFate`]: for every knock a correction or removal
//!   named, each device's latest such change (by time, then id) and where it puts the
//!   knock (the corrected door, or out). Only the knock's own device's changes move it: a
//!   batch signed by one device that names another device's knock leaves that knock where
//!   it is, whichever arrives first (a knock's device is the one it names, else the device
//!   of the batch that carried it; a knock recorded here before knocks named their device
//!   is this machine's, which no batch moves). A knock that arrives later goes where its
//!   own device's latest change says. The
//!   knock itself is kept there once seen, so a move cut off between taking it from one
//!   door and putting it on the other (a kill among the writes) is completed by a replay.
//! - `door-fate\x1f<door key>` → [`DoorFate`]: for each device that corrected a door to or
//!   away from this door, or removed it, whether its latest change leaves the door in the
//!   log; and the spelling of the latest correction to it.
//!
//! A door is in the log when it has knocks, or a device's latest change puts it there, or
//! a device that sent it (its `door` record) has not corrected or removed it since; a door
//! only this machine has stays unless a change names it. Every decision is a function of
//! the set of records merged, which is what makes the result independent of order.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::doors::{area_prefix, door_key};
use super::merge::{
    FROM_PREFIX, MergeKey, MergeState, Outcome, Source, door_record_key, knock_key,
};
use super::replay::Model;
use super::{Store, StoreError, decode};
use crate::batch::{DoorEditEntry, DoorEntry, DoorRemoveEntry};
use crate::response::{Door, DoorRecord, Knock};

pub(super) const KNOCK_FATE_PREFIX: &[u8] = b"knock-fate\x1f";
pub(super) const DOOR_FATE_PREFIX: &[u8] = b"door-fate\x1f";

/// Where the corrections and removals that named a knock put it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnockFate {
    /// The latest change of any device: when, its id, and the corrected door (None when
    /// the knock was removed). What counts is in `devices`; these decide only for a fate
    /// kept before changes were kept by device (`devices` empty).
    pub at: DateTime<Utc>,
    pub change: Uuid,
    pub to: Option<DoorEntry>,
    /// The knock, once this store has seen it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knock: Option<Knock>,
    /// Each device's latest change naming the knock; only the knock's own device's counts.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub devices: BTreeMap<String, Placement>,
}

/// Where one device's latest change naming a knock puts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    pub at: DateTime<Utc>,
    pub change: Uuid,
    /// The corrected door; None when the knock was removed.
    pub to: Option<DoorEntry>,
}

impl KnockFate {
    /// Where the changes of the knock's own `device` put it: `Some(None)` out, `None` no
    /// change of that device named it (it stays where it was recorded).
    pub fn placement(&self, device: Option<&str>) -> Option<Option<&DoorEntry>> {
        if self.devices.is_empty() {
            return Some(self.to.as_ref());
        }
        self.devices.get(device?).map(|p| p.to.as_ref())
    }

    /// Every door a change put the knock at (to load before merging it).
    pub(super) fn targets(&self) -> impl Iterator<Item = &DoorEntry> {
        self.to
            .iter()
            .chain(self.devices.values().filter_map(|p| p.to.as_ref()))
    }
}

/// What corrections and removals say about one door.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorFate {
    /// By device: its latest change to or away from this door.
    pub devices: BTreeMap<String, DeviceMark>,
    /// The spelling of the latest correction to this door.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spelling: Option<Spelling>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceMark {
    pub at: DateTime<Utc>,
    pub change: Uuid,
    /// Corrected to this door (true), or corrected away from it or removed (false).
    pub present: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spelling {
    pub at: DateTime<Utc>,
    pub change: Uuid,
    pub door: Door,
}

/// The order "latest wins" goes by: time, then id.
type Stamp = (DateTime<Utc>, Uuid);

/// The key of a correction in the merge provenance.
pub(super) fn edit_key(id: Uuid) -> Vec<u8> {
    format!("door-edit:{id}").into_bytes()
}

/// The key of a removal in the merge provenance.
pub(super) fn remove_key(id: Uuid) -> Vec<u8> {
    format!("door-remove:{id}").into_bytes()
}

pub(super) fn knock_fate_key(id: Uuid) -> Vec<u8> {
    let mut k = KNOCK_FATE_PREFIX.to_vec();
    k.extend_from_slice(id.as_bytes());
    k
}

pub(super) fn door_fate_key(door_key: &[u8]) -> Vec<u8> {
    let mut k = DOOR_FATE_PREFIX.to_vec();
    k.extend_from_slice(door_key);
    k
}

impl MergeState {
    /// Loads the fate of knock `id`, unless held; returns it.
    pub(super) fn load_knock_fate(
        &mut self,
        store: &Store,
        id: Uuid,
    ) -> Result<Option<&KnockFate>, StoreError> {
        if !self.knock_fates.contains_key(&id)
            && let Some(bytes) = store.read(super::merge::MERGE, &knock_fate_key(id))?
        {
            let fate = decode(|| format!("merge record knock fate {id}"), &bytes)?;
            self.knock_fates.insert(id, fate);
        }
        Ok(self.knock_fates.get(&id))
    }

    /// Loads the fate of the door at `key`, unless held.
    pub(super) fn load_door_fate(&mut self, store: &Store, key: &[u8]) -> Result<(), StoreError> {
        if !self.door_fates.contains_key(key)
            && let Some(bytes) = store.read(super::merge::MERGE, &door_fate_key(key))?
        {
            let fate = decode(
                || format!("merge record door fate {}", String::from_utf8_lossy(key)),
                &bytes,
            )?;
            self.door_fates.insert(key.to_vec(), fate);
        }
        Ok(())
    }

    /// Loads what a correction or removal in `area` needs: the fates of the knocks it
    /// names, and the fates and sources of every door of the area (its knocks may be at
    /// any of them by now).
    pub(super) fn load_for_door_change(
        &mut self,
        store: &Store,
        area: &str,
        knocks: &[Uuid],
    ) -> Result<(), StoreError> {
        for id in knocks {
            self.load_knock_fate(store, *id)?;
            // Which device sent the knock, for one that does not name its device.
            self.load_sources(store, knock_key(*id))?;
        }
        let Ok(prefix) = area_prefix(area) else {
            return Ok(());
        };
        if !self.door_areas_loaded.insert(area.trim().to_lowercase()) {
            return Ok(());
        }
        // Read through an overlay, so earlier slices of a merge (or batches of a dry run) count.
        for (key, value) in store.read_prefix(super::merge::MERGE, &door_fate_key(&prefix))? {
            let door = key[DOOR_FATE_PREFIX.len()..].to_vec();
            if let Entry::Vacant(e) = self.door_fates.entry(door) {
                e.insert(decode(
                    || format!("merge record {}", String::from_utf8_lossy(&key)),
                    &value,
                )?);
            }
        }
        let mut from = FROM_PREFIX.to_vec();
        from.extend(door_record_key(&prefix));
        for (key, value) in store.read_prefix(super::merge::MERGE, &from)? {
            let record = key[FROM_PREFIX.len()..].to_vec();
            if let Entry::Vacant(e) = self.sources.entry(record) {
                e.insert(decode(
                    || format!("merge record {}", String::from_utf8_lossy(&key)),
                    &value,
                )?);
            }
        }
        Ok(())
    }

    /// Records `device`'s change at `stamp` to the door at `key`, unless it has a later one.
    fn mark_door(&mut self, key: &[u8], device: &str, stamp: Stamp, present: bool) {
        let fate = self.door_fates.entry(key.to_vec()).or_default();
        let later = fate
            .devices
            .get(device)
            .is_none_or(|m| (m.at, m.change) < stamp);
        if later {
            fate.devices.insert(
                device.to_owned(),
                DeviceMark {
                    at: stamp.0,
                    change: stamp.1,
                    present,
                },
            );
            self.changed.insert(MergeKey::DoorFate(key.to_vec()));
        }
    }

    /// Records the spelling a correction at `stamp` gives the door at `key`, unless a later
    /// correction spelled it.
    fn spell_door(&mut self, key: &[u8], stamp: Stamp, door: &Door) {
        let fate = self.door_fates.entry(key.to_vec()).or_default();
        if fate
            .spelling
            .as_ref()
            .is_none_or(|s| (s.at, s.change) < stamp)
        {
            fate.spelling = Some(Spelling {
                at: stamp.0,
                change: stamp.1,
                door: door.clone(),
            });
            self.changed.insert(MergeKey::DoorFate(key.to_vec()));
        }
    }

    /// The spelling the latest correction gave the door at `key`, if any.
    pub(super) fn spelling(&self, key: &[u8]) -> Option<&Door> {
        self.door_fates
            .get(key)
            .and_then(|f| f.spelling.as_ref())
            .map(|s| &s.door)
    }

    /// Keeps the knock in its fate once seen (the same whichever of the change and the
    /// knock arrived first).
    pub(super) fn keep_knock(&mut self, id: Uuid, knock: &Knock) {
        if let Some(fate) = self.knock_fates.get_mut(&id)
            && fate.knock.is_none()
        {
            let mut knock = knock.clone();
            knock.id = Some(id);
            fate.knock = Some(knock);
            self.changed.insert(MergeKey::KnockFate(id));
        }
    }
}

impl Model {
    /// A correction: the knocks it names go to the corrected door (see the module notes).
    pub(super) fn merge_door_edit(
        &mut self,
        e: &DoorEditEntry,
        source: &Source,
    ) -> Result<Outcome, String> {
        let from_key = door_key(&e.area, &e.from).map_err(|e| e.to_string())?;
        let to_key = door_key(&e.area, &e.to).map_err(|e| e.to_string())?;
        let stamp = (e.at, e.id);
        let record = edit_key(e.id);
        let seen = self.merge.sources.contains_key(&record);
        self.merge.add_source(record, source);
        if from_key != to_key {
            self.merge
                .mark_door(&from_key, &source.device, stamp, false);
        }
        self.merge.mark_door(&to_key, &source.device, stamp, true);
        self.merge.spell_door(&to_key, stamp, &e.to);
        let target = DoorEntry {
            area: e.area.trim().to_owned(),
            door: e.to.clone(),
        };
        let mut touched = BTreeSet::from([from_key, to_key]);
        for id in &e.knocks {
            let to = Some(&target);
            self.send_knock(*id, stamp, to, &target.area, &source.device, &mut touched);
        }
        for key in &touched {
            self.settle_door(key, &target.area);
        }
        Ok(if seen {
            Outcome::Duplicate
        } else {
            Outcome::New
        })
    }

    /// A removal: the knocks it names go, and the door when nothing keeps it.
    pub(super) fn merge_door_remove(
        &mut self,
        r: &DoorRemoveEntry,
        source: &Source,
    ) -> Result<Outcome, String> {
        let key = door_key(&r.area, &r.door).map_err(|e| e.to_string())?;
        let stamp = (r.at, r.id);
        let record = remove_key(r.id);
        let seen = self.merge.sources.contains_key(&record);
        self.merge.add_source(record, source);
        self.merge.mark_door(&key, &source.device, stamp, false);
        let mut touched = BTreeSet::from([key]);
        for id in &r.knocks {
            self.send_knock(
                *id,
                stamp,
                None,
                r.area.trim(),
                &source.device,
                &mut touched,
            );
        }
        for key in &touched {
            self.settle_door(key, r.area.trim());
        }
        Ok(if seen {
            Outcome::Duplicate
        } else {
            Outcome::New
        })
    }

    /// Puts knock `id` where the change at `stamp` by `device` says (the door `target`,
    /// or out), unless a later change of that device named it; wherever in `area` it is
    /// now. Another device's knock is left where it is (the change is still kept, by
    /// device, in its fate). Applying it again changes nothing.
    fn send_knock(
        &mut self,
        id: Uuid,
        stamp: Stamp,
        target: Option<&DoorEntry>,
        area: &str,
        device: &str,
        touched: &mut BTreeSet<Vec<u8>>,
    ) {
        let old = self.merge.knock_fates.get(&id).cloned();
        let later = old
            .as_ref()
            .and_then(|f| f.devices.get(device))
            .is_some_and(|p| (p.at, p.change) > stamp);
        if later {
            return;
        }
        let Ok(prefix) = area_prefix(area) else {
            return;
        };
        let mut fate = old.clone().unwrap_or_else(|| KnockFate {
            at: stamp.0,
            change: stamp.1,
            to: target.cloned(),
            knock: None,
            devices: BTreeMap::new(),
        });
        if (fate.at, fate.change) <= stamp {
            (fate.at, fate.change, fate.to) = (stamp.0, stamp.1, target.cloned());
        }
        fate.devices.insert(
            device.to_owned(),
            Placement {
                at: stamp.0,
                change: stamp.1,
                to: target.cloned(),
            },
        );
        // The knock's device, where this store has it (a door here, or kept in its fate).
        let here = self
            .doors
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .flat_map(|(_, d)| d.knocks.iter().map(move |k| (d, k)))
            .find(|(d, k)| k.identity(&d.area, &d.door) == id)
            .map(|(_, k)| k.device.clone())
            .or_else(|| fate.knock.as_ref().map(|k| k.device.clone()));
        // Not seen yet: decided when it arrives, by its own device's changes. One that
        // does not name its device (merged by an earlier release) is the device's that
        // sent it; one recorded here, this machine's.
        let mine = match here {
            None => true,
            Some(Some(d)) => d == device,
            Some(None) => self
                .merge
                .sources
                .get(&knock_key(id))
                .is_some_and(|s| s.iter().any(|s| s.device == device)),
        };
        if !mine {
            if old.as_ref() != Some(&fate) {
                self.merge.knock_fates.insert(id, fate);
                self.merge.changed.insert(MergeKey::KnockFate(id));
            }
            return;
        }
        let target_key = target.and_then(|t| door_key(&t.area, &t.door).ok());
        let holding: Vec<Vec<u8>> = self
            .doors
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(k, _)| Some(*k) != target_key.as_ref())
            .filter(|(_, d)| d.knocks.iter().any(|k| k.identity(&d.area, &d.door) == id))
            .map(|(k, _)| k.clone())
            .collect();
        let mut found: Option<Knock> = None;
        for key in holding {
            if let Some(d) = self.doors.get_mut(&key) {
                let (a, door) = (d.area.clone(), d.door.clone());
                d.knocks.retain(|k| {
                    if k.identity(&a, &door) == id {
                        let mut k = k.clone();
                        k.id = Some(id);
                        found = Some(k);
                        false
                    } else {
                        true
                    }
                });
                self.changed_doors.insert(key.clone());
                touched.insert(key);
            }
        }
        let knock = found.or_else(|| fate.knock.clone());
        fate.knock = knock.clone();
        if old.as_ref() != Some(&fate) {
            self.merge.knock_fates.insert(id, fate);
            self.merge.changed.insert(MergeKey::KnockFate(id));
        }
        let (Some(t), Some(key), Some(knock)) = (target, target_key, knock) else {
            return;
        };
        let door = self.merge.spelling(&key).cloned().unwrap_or(t.door.clone());
        self.removed_doors.remove(&key);
        let record = self
            .doors
            .entry(key.clone())
            .or_insert_with(|| DoorRecord::new(&t.area, door));
        let (a, door) = (record.area.clone(), record.door.clone());
        if !record.knocks.iter().any(|k| k.identity(&a, &door) == id) {
            record.knocks.push(knock);
            record
                .knocks
                .sort_by_cached_key(|x| (x.at, x.identity(&a, &door)));
        }
        self.changed_doors.insert(key.clone());
        touched.insert(key);
    }

    /// Whether the door at `key` belongs in the log (see the module notes).
    pub(super) fn door_wanted(&self, key: &[u8]) -> bool {
        if self.doors.get(key).is_some_and(|d| !d.knocks.is_empty()) {
            return true;
        }
        let marks = self.merge.door_fates.get(key).map(|f| &f.devices);
        if marks.is_some_and(|m| m.values().any(|m| m.present)) {
            return true;
        }
        match self.merge.sources.get(&door_record_key(key)) {
            Some(sent) => sent
                .iter()
                .any(|s| marks.is_none_or(|m| !m.contains_key(&s.device))),
            // A door no batch sent (made by a merged knock, or on this machine) and that
            // a change named or emptied: nothing keeps it.
            None => false,
        }
    }

    /// Brings the door at `key` (in `area`) in line with what corrections and removals
    /// say: out when nothing keeps it, in (spelled as the latest correction to it) when one
    /// puts it there.
    fn settle_door(&mut self, key: &[u8], area: &str) {
        let wanted = self.door_wanted(key);
        let spelling = self.merge.spelling(key).cloned();
        match self.doors.get_mut(key) {
            Some(_) if !wanted => {
                self.doors.remove(key);
                self.changed_doors.remove(key);
                self.removed_doors.insert(key.to_vec());
            }
            Some(d) => {
                if let Some(s) = spelling
                    && d.door != s
                {
                    d.correct_door(s);
                    self.changed_doors.insert(key.to_vec());
                }
            }
            // Only a correction to it puts an absent door here, and it spelled it.
            None if wanted => {
                if let Some(door) = spelling {
                    self.removed_doors.remove(key);
                    self.doors.insert(key.to_vec(), DoorRecord::new(area, door));
                    self.changed_doors.insert(key.to_vec());
                }
            }
            None => {}
        }
    }
}
