//! Applying journal entries to records: to an empty model (recover builds a new store from
//! the whole journal), or to the records a store already holds (the part of the journal
//! the store missed, after a crash between the two writes or after damage).

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use super::batches::DevicePin;
use super::doors::{DoorChange, door_key};
use super::journal::{self, Item};
use super::merge::{MergeKey, MergeState};
use super::{JournalEntry, Store, StoreError, Tree, Write, encode};
use crate::action::Action;
use crate::response::{DoorRecord, Response, SettingKey, Status};

/// Records as the journal makes them, and which of them an entry changed.
#[derive(Debug, Default)]
pub(super) struct Model {
    pub responses: BTreeMap<Uuid, Response>,
    pub doors: BTreeMap<Vec<u8>, DoorRecord>,
    pub settings: BTreeMap<SettingKey, String>,
    pub changed_responses: BTreeSet<Uuid>,
    pub changed_doors: BTreeSet<Vec<u8>>,
    /// Doors corrected away from (their old key) or removed: to take out of a store that
    /// still has them.
    pub removed_doors: BTreeSet<Vec<u8>>,
    /// Revisions set aside by a merge (they lost a conflict of revisions and live on in
    /// its record): to take out of the responses.
    pub removed_responses: BTreeSet<Uuid>,
    pub knocks_added: usize,
    pub actions: BTreeMap<Uuid, Action>,
    pub changed_actions: BTreeSet<Uuid>,
    /// Door corrections and removals made on this device (for its exports), by id.
    pub door_changes: BTreeMap<Uuid, DoorChange>,
    /// Areas whose every door is loaded (lower case): not read again for the next change.
    pub areas_loaded: BTreeSet<String>,
    /// Draft events whose draft the journal never started (or that came after it was
    /// finalized): nothing to apply them to.
    pub orphans: usize,
    /// Merged batches, conflicts and where merged records came from.
    pub merge: MergeState,
    /// Each device's pinned key as the journal last set it, by device name.
    pub pins: BTreeMap<String, DevicePin>,
    /// The knocks of each door looked up in the store, as loaded (none for a door the
    /// store lacks), and the knocks a merge added to each door since: see
    /// [`Model::appended`].
    pub knocks_loaded: BTreeMap<Vec<u8>, KnockSum>,
    pub knock_ids_added: BTreeMap<Vec<u8>, Vec<Uuid>>,
    /// Filled by [`Model::take_write_set`]: the door writes that only add knocks.
    pub appended: AppendedDoors,
}

/// A door's knocks summed up, enough to tell whether they are still those loaded plus
/// those added: how many, and their ids added up (as u128, wrapping). A sum, not the set:
/// ids made to cancel out could pass it, and what would then go wrong is only whether
/// this machine's own knocks there count as not yet exported.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct KnockSum {
    n: usize,
    sum: u128,
}

impl KnockSum {
    fn add(&mut self, id: Uuid) {
        self.n += 1;
        self.sum = self.sum.wrapping_add(id.as_u128());
    }

    fn of(record: &DoorRecord) -> KnockSum {
        let mut s = KnockSum::default();
        for k in &record.knocks {
            s.add(k.identity(&record.area, &record.door));
        }
        s
    }
}

/// A door write that keeps every knock the stored door had and adds `added`, which the
/// merge knows without reading the stored door again (see `Store::pending_changes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Appended {
    pub area: String,
    pub door: crate::response::Door,
    pub added: Vec<Uuid>,
}

/// By door key.
pub(crate) type AppendedDoors = BTreeMap<Vec<u8>, Appended>;

impl Model {
    /// Records `first..` of a `Merged` line applied: `recover` applies a long line a
    /// slice at a time, then [`Model::finish_merged`]; [`Model::apply`] the whole line at
    /// once.
    pub(super) fn apply_merged_records(
        &mut self,
        batch: &super::merge::MergedBatch,
        records: Vec<crate::batch::Record>,
        first: usize,
        counts: &mut super::merge::MergeCounts,
    ) {
        let mut rejected = Vec::new();
        let records = records.into_iter().map(std::borrow::Cow::Owned);
        self.apply_records(batch, records, first, counts, &mut rejected);
    }

    /// A `Merged` line's batch recorded, after its records.
    pub(super) fn finish_merged(
        &mut self,
        batch: super::merge::MergedBatch,
        counts: super::merge::MergeCounts,
    ) {
        self.record_batch(&batch, counts);
        // The counts as they were when it was merged, not as a replay finds them.
        if self
            .merge
            .batches
            .get(&batch.batch)
            .is_some_and(|b| b.digest == batch.digest && *b != batch)
        {
            self.merge.changed.insert(MergeKey::Batch(batch.batch));
            self.merge.batches.insert(batch.batch, batch);
        }
    }

    /// Applies one entry. Entries are applied in journal order; applying an entry that is
    /// already reflected changes nothing, except that an answer event re-applied after a
    /// later one would bring the older value back — so callers replay only from where the
    /// store's mark says it stopped.
    pub fn apply(&mut self, entry: JournalEntry) {
        match entry {
            JournalEntry::Response(r) => {
                // A finalized response never changes again (revisions are new records).
                let keep = self
                    .responses
                    .get(&r.id)
                    .is_some_and(|c| c.status.is_final());
                if !keep {
                    let revision = r
                        .replaces
                        .filter(|_| r.status.is_final())
                        .map(|_| r.clone());
                    self.changed_responses.insert(r.id);
                    self.responses.insert(r.id, r);
                    if let Some(r) = revision {
                        self.finalized_revision(&r);
                    }
                }
            }
            JournalEntry::Draft(r) => {
                if !self.responses.contains_key(&r.id) {
                    self.changed_responses.insert(r.id);
                    self.responses.insert(r.id, r);
                }
            }
            JournalEntry::Answer {
                id,
                question,
                value,
                at,
            } => match self.draft(id) {
                Some(d) => {
                    d.set_answer(&question, value, at);
                    // The resume position is not journaled and may predate this answer
                    // (sled had not flushed it): resume at the first unanswered question.
                    d.position = None;
                    self.changed_responses.insert(id);
                }
                None => self.orphans += 1,
            },
            JournalEntry::Finding {
                id,
                question,
                finding,
                at,
            } => match self.draft(id) {
                Some(d) => {
                    d.findings.insert(question, finding);
                    d.position = None;
                    d.touch(at);
                    self.changed_responses.insert(id);
                }
                None => self.orphans += 1,
            },
            JournalEntry::DraftDoor { id, door } => match self.draft(id) {
                Some(d) => {
                    d.door = Some(door);
                    self.changed_responses.insert(id);
                }
                None => self.orphans += 1,
            },
            JournalEntry::Door { area, door } => {
                let Ok(key) = door_key(&area, &door) else {
                    return;
                };
                self.removed_doors.remove(&key);
                if !self.doors.contains_key(&key) {
                    self.doors
                        .insert(key.clone(), DoorRecord::new(area.trim(), door));
                    self.changed_doors.insert(key);
                }
            }
            JournalEntry::Knock { area, door, knock } => {
                let Ok(key) = door_key(&area, &door) else {
                    return;
                };
                self.removed_doors.remove(&key);
                let record = self
                    .doors
                    .entry(key.clone())
                    .or_insert_with(|| DoorRecord::new(area.trim(), door));
                if !record.knocks.contains(&knock) {
                    record.add_knock(knock);
                    self.knocks_added += 1;
                    self.changed_doors.insert(key);
                }
            }
            JournalEntry::DoorEdited {
                area,
                from,
                to,
                change,
            } => {
                self.note_door_change(&area, &from, Some(&to), change);
                let (Ok(from_key), Ok(to_key)) = (door_key(&area, &from), door_key(&area, &to))
                else {
                    return;
                };
                let mut record = self
                    .doors
                    .remove(&from_key)
                    .unwrap_or_else(|| DoorRecord::new(area.trim(), from.clone()));
                record.correct_door(to.clone());
                // Drafts started at the door follow it.
                for r in self.responses.values_mut() {
                    if r.status == Status::Draft
                        && r.area.eq_ignore_ascii_case(area.trim())
                        && r.door.as_ref().is_some_and(|d| d.key() == from.key())
                    {
                        r.door = Some(to.clone());
                        self.changed_responses.insert(r.id);
                    }
                }
                self.changed_doors.remove(&from_key);
                if from_key != to_key {
                    self.removed_doors.insert(from_key);
                }
                self.removed_doors.remove(&to_key);
                self.changed_doors.insert(to_key.clone());
                self.doors.insert(to_key, record);
            }
            JournalEntry::DoorRemoved { area, door, change } => {
                self.note_door_change(&area, &door, None, change);
                let Ok(key) = door_key(&area, &door) else {
                    return;
                };
                self.doors.remove(&key);
                self.changed_doors.remove(&key);
                self.removed_doors.insert(key);
            }
            JournalEntry::DoorChangeKept {
                area,
                from,
                to,
                change,
            } => self.note_door_change(&area, &from, to.as_ref(), Some(change)),
            JournalEntry::Setting { key, value } => {
                self.settings.insert(key, value);
            }
            JournalEntry::DevicePin(pin) => {
                self.pins.insert(pin.device.clone(), pin);
            }
            JournalEntry::Merged { batch, records } => {
                let mut counts = super::merge::MergeCounts::default();
                self.apply_merged_records(&batch, records, 0, &mut counts);
                self.finish_merged(batch, counts);
            }
            JournalEntry::Resolved { id, keep, at } => {
                // The id is a response's or an action's; the other does nothing.
                self.apply_resolution(id, &keep, at);
                self.apply_action_resolution(id, &keep, at);
            }
            JournalEntry::ActionAdded(action) => {
                // A journal rebuilt from the store carries each action as it stood; one
                // already held with as much history is not taken back.
                let newer = self
                    .actions
                    .get(&action.id)
                    .is_none_or(|a| a.history.len() < action.history.len());
                if newer {
                    self.changed_actions.insert(action.id);
                    self.actions.insert(action.id, action);
                }
            }
            JournalEntry::ActionChanged { id, change } => match self.actions.get_mut(&id) {
                // The same change (same time, same officer, same content) is applied once.
                Some(a) if a.history.contains(&change) => {}
                Some(a) => {
                    a.apply(change);
                    self.changed_actions.insert(id);
                }
                None => self.orphans += 1,
            },
        }
    }

    /// Keeps a door correction or removal made on this device for its next export (lines
    /// of earlier releases carry none).
    fn note_door_change(
        &mut self,
        area: &str,
        from: &crate::response::Door,
        to: Option<&crate::response::Door>,
        meta: Option<super::DoorChangeMeta>,
    ) {
        if let Some(meta) = meta {
            self.door_changes.insert(
                meta.id,
                DoorChange {
                    area: area.to_owned(),
                    from: from.clone(),
                    to: to.cloned(),
                    meta,
                },
            );
        }
    }

    /// A revision finalized on this machine is checked as a merged one is: beside another
    /// revision of the same response it makes (or joins) a conflict of revisions, and a
    /// revision of a revision in such a conflict joins that side. Otherwise it is recorded
    /// as the revision of its original, so a revision merged later finds it.
    pub(super) fn finalized_revision(&mut self, r: &Response) {
        let Some(original) = r.replaces else {
            return;
        };
        if self.merge_revision(r, None).is_some() {
            return;
        }
        if self.merge.revised.get(&original).is_none_or(|c| r.id < *c) {
            self.merge.revised.insert(original, r.id);
            self.merge.changed.insert(MergeKey::Revised(original));
        }
    }

    /// Loads from `store` what finalizing revision `r` here reads (see
    /// [`Model::finalized_revision`]).
    pub(super) fn load_revision(&mut self, store: &Store, r: &Response) -> Result<(), StoreError> {
        self.load_records(
            store,
            std::slice::from_ref(&crate::batch::Record::Response(r.clone())),
        )?;
        self.merge.load_response_record(store, r)
    }

    fn draft(&mut self, id: Uuid) -> Option<&mut Response> {
        self.responses
            .get_mut(&id)
            .filter(|r| r.status == Status::Draft)
    }

    /// Loads from `store` every record `entries` touch, so applying them works on what
    /// the store holds. A record the store cannot read is left out: the journal's wins.
    fn load_for(
        &mut self,
        store: &Store,
        entries: &[(usize, JournalEntry)],
    ) -> Result<(), StoreError> {
        for (_, entry) in entries {
            match entry {
                JournalEntry::Response(r) if r.replaces.is_some() && r.status.is_final() => {
                    self.load_revision(store, r)?;
                }
                JournalEntry::Response(Response { id, .. })
                | JournalEntry::Draft(Response { id, .. })
                | JournalEntry::Answer { id, .. }
                | JournalEntry::Finding { id, .. }
                | JournalEntry::DraftDoor { id, .. } => {
                    if self.responses.contains_key(id) {
                        continue;
                    }
                    match store.get(*id) {
                        Ok(r) => {
                            self.responses.insert(*id, r);
                        }
                        Err(StoreError::NotFound { .. } | StoreError::Corrupt { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
                JournalEntry::Door { area, door } | JournalEntry::Knock { area, door, .. } => {
                    let Ok(key) = door_key(area, door) else {
                        continue;
                    };
                    if self.doors.contains_key(&key) {
                        continue;
                    }
                    match store.door_record(&key) {
                        Ok(Some(r)) => {
                            self.doors.insert(key, r);
                        }
                        Ok(None) | Err(StoreError::Corrupt { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
                JournalEntry::DoorEdited { area, from, to, .. } => {
                    for door in [from, to] {
                        self.load_door(store, area, door)?;
                    }
                }
                JournalEntry::DoorRemoved { area, door, .. } => {
                    self.load_door(store, area, door)?
                }
                JournalEntry::Setting { .. }
                | JournalEntry::DoorChangeKept { .. }
                | JournalEntry::DevicePin(_) => {}
                JournalEntry::Merged { batch, records } => {
                    self.load_records(store, records)?;
                    self.merge.load_for(store, batch, records)?;
                }
                JournalEntry::Resolved { id, .. } => {
                    self.load_response(store, *id)?;
                    self.merge.load_conflict(store, *id)?;
                    self.load_action(store, *id)?;
                    self.merge.load_action_versions(store, *id)?;
                }
                JournalEntry::ActionAdded(Action { id, .. })
                | JournalEntry::ActionChanged { id, .. } => {
                    if self.actions.contains_key(id) {
                        continue;
                    }
                    match store.action(*id) {
                        Ok(a) => {
                            self.actions.insert(*id, a);
                        }
                        Err(StoreError::NoSuchAction { .. } | StoreError::Corrupt { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(())
    }

    /// Loads from `store` the responses and doors a batch's records touch (a revision's
    /// original too), unless already held.
    pub(super) fn load_records<'r>(
        &mut self,
        store: &Store,
        records: impl IntoIterator<Item = &'r crate::batch::Record>,
    ) -> Result<(), StoreError> {
        use crate::batch::Record;
        let records: Vec<&Record> = records.into_iter().collect();
        for record in &records {
            match record {
                Record::Response(r) => {
                    for id in std::iter::once(r.id).chain(r.replaces) {
                        self.load_response(store, id)?;
                    }
                }
                // Before the doors: a knock's fate says where a correction moved it.
                Record::Knock(k) => {
                    self.merge
                        .load_knock_fate(store, k.knock.identity(&k.area, &k.door))?;
                }
                Record::Action(a) => self.load_action(store, a.id)?,
                Record::Door(_)
                | Record::Setting(_)
                | Record::DoorEdit(_)
                | Record::DoorRemove(_) => {}
            }
        }
        let (mut keys, mut areas) = (Vec::new(), Vec::new());
        self.doors_of_records(records, &mut keys, &mut areas);
        for area in areas {
            self.load_area_doors(store, &area)?;
        }
        for key in keys {
            self.load_door_key(store, key)?;
        }
        Ok(())
    }

    /// The doors applying `records` reads or changes: the doors its doors and knocks name,
    /// the door a correction moved a knock to (from the knock's fate as the model holds
    /// it: load fates first), and as `areas` those whose every door it may read (a
    /// correction's or removal's knocks may be at any door of the area by now).
    pub(super) fn doors_of_records<'r>(
        &self,
        records: impl IntoIterator<Item = &'r crate::batch::Record>,
        keys: &mut Vec<Vec<u8>>,
        areas: &mut Vec<String>,
    ) {
        use crate::batch::Record;
        let mut name = |area: &str, door: &crate::response::Door| {
            keys.extend(door_key(area, door).ok());
        };
        for record in records {
            match record {
                Record::Door(d) => name(&d.area, &d.door),
                Record::Knock(k) => {
                    name(&k.area, &k.door);
                    let id = k.knock.identity(&k.area, &k.door);
                    if let Some(fate) = self.merge.knock_fates.get(&id) {
                        for to in fate.targets() {
                            name(&to.area, &to.door);
                        }
                    }
                }
                Record::DoorEdit(crate::batch::DoorEditEntry { area, .. })
                | Record::DoorRemove(crate::batch::DoorRemoveEntry { area, .. }) => {
                    areas.push(area.clone())
                }
                Record::Response(_) | Record::Setting(_) | Record::Action(_) => {}
            }
        }
    }

    fn load_response(&mut self, store: &Store, id: Uuid) -> Result<(), StoreError> {
        // Most ids a batch brings are new here: the index says so without reading a
        // leaf of response bodies.
        if self.responses.contains_key(&id) || !store.may_have_response(id)? {
            return Ok(());
        }
        match store.get(id) {
            Ok(r) => {
                self.responses.insert(id, r);
            }
            Err(StoreError::NotFound { .. } | StoreError::Corrupt { .. }) => {}
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// Loads every door of `area` from `store` that is not already held (or taken out).
    fn load_area_doors(&mut self, store: &Store, area: &str) -> Result<(), StoreError> {
        if area.trim().is_empty() || !self.areas_loaded.insert(area.trim().to_lowercase()) {
            return Ok(());
        }
        for (key, record) in store.area_door_records(area)? {
            if !self.doors.contains_key(&key) && !self.removed_doors.contains(&key) {
                self.knocks_loaded
                    .insert(key.clone(), KnockSum::of(&record));
                self.doors.insert(key, record);
            }
        }
        Ok(())
    }

    /// Loads the door `door` of `area` from `store` unless already held.
    fn load_door(
        &mut self,
        store: &Store,
        area: &str,
        door: &crate::response::Door,
    ) -> Result<(), StoreError> {
        match door_key(area, door) {
            Ok(key) => self.load_door_key(store, key),
            Err(_) => Ok(()),
        }
    }

    /// Loads the door at `key` from `store` unless already held.
    fn load_door_key(&mut self, store: &Store, key: Vec<u8>) -> Result<(), StoreError> {
        // A door this model took out is not brought back from the store.
        if self.doors.contains_key(&key) || self.removed_doors.contains(&key) {
            return Ok(());
        }
        match store.door_record(&key) {
            Ok(Some(r)) => {
                self.knocks_loaded.insert(key.clone(), KnockSum::of(&r));
                self.doors.insert(key, r);
            }
            Ok(None) => {
                self.knocks_loaded.insert(key, KnockSum::default());
            }
            // Unreadable: what the store holds is not known here.
            Err(StoreError::Corrupt { .. }) => {}
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// Every write an applied entry calls for, to make in one transaction.
    pub fn write_set(&self) -> Result<Vec<Write>, StoreError> {
        let mut out = Vec::new();
        for id in &self.changed_responses {
            if let Some(r) = self.responses.get(id) {
                out.push(Write::put(
                    Tree::Responses,
                    id.as_bytes().to_vec(),
                    encode(r)?,
                ));
            }
        }
        for id in &self.removed_responses {
            if !self.responses.contains_key(id) {
                out.push(Write {
                    tree: Tree::Responses,
                    key: id.as_bytes().to_vec(),
                    value: None,
                });
            }
        }
        for key in &self.changed_doors {
            if let Some(d) = self.doors.get(key) {
                out.push(Write::put(Tree::Doors, key.clone(), encode(d)?));
            }
        }
        for key in &self.removed_doors {
            if !self.doors.contains_key(key) {
                out.push(Write {
                    tree: Tree::Doors,
                    key: key.clone(),
                    value: None,
                });
            }
        }
        for (key, value) in &self.settings {
            out.push(Write::put(
                Tree::Settings,
                key.as_str().as_bytes().to_vec(),
                encode(value)?,
            ));
        }
        for change in self.door_changes.values() {
            out.push(Write::put(Tree::Meta, change.key(), encode(change)?));
        }
        for id in &self.changed_actions {
            if let Some(a) = self.actions.get(id) {
                out.push(Write::put(
                    Tree::Actions,
                    id.as_bytes().to_vec(),
                    encode(a)?,
                ));
            }
        }
        for key in &self.merge.changed {
            if let Some((k, v)) = self.merge.write_for(key)? {
                out.push(Write::put(Tree::Merge, k, v));
            }
        }
        Ok(out)
    }

    /// Whether door `d` (to be written at `key`) holds exactly the knocks loaded for it
    /// plus those a merge added: then its write only adds them. Anything else that moved
    /// a knock (a correction or removal) leaves other sums, and the write is read in full.
    fn appended_to(&self, key: &[u8], d: &DoorRecord) -> Option<Appended> {
        let mut expected = *self.knocks_loaded.get(key)?;
        let added = self.knock_ids_added.get(key).cloned().unwrap_or_default();
        for id in &added {
            expected.add(*id);
        }
        (KnockSum::of(d) == expected).then(|| Appended {
            area: d.area.clone(),
            door: d.door.clone(),
            added,
        })
    }

    /// [`Model::write_set`] that lets go of each changed response, door and merge record
    /// as it is encoded, so a merge never holds them decoded and encoded at once (door
    /// records and their sources grow with every batch that knocked there, so this is
    /// what grows with the store). What was written is gone from the model afterwards:
    /// only for a model dropped after its writes are taken.
    pub fn take_write_set(&mut self) -> Result<Vec<Write>, StoreError> {
        let mut out = Vec::with_capacity(self.changed_responses.len());
        for id in std::mem::take(&mut self.changed_responses) {
            if let Some(r) = self.responses.remove(&id) {
                // Live again: `write_set` must not read its absence as a removal.
                self.removed_responses.remove(&id);
                out.push(Write::put(
                    Tree::Responses,
                    id.as_bytes().to_vec(),
                    encode(&r)?,
                ));
            }
        }
        for key in std::mem::take(&mut self.changed_doors) {
            if let Some(d) = self.doors.remove(&key) {
                // As for responses: written, so not a removal.
                self.removed_doors.remove(&key);
                if let Some(a) = self.appended_to(&key, &d) {
                    self.appended.insert(key.clone(), a);
                }
                let value = encode(&d)?;
                out.push(Write::put(Tree::Doors, key, value));
            }
        }
        for key in std::mem::take(&mut self.merge.changed) {
            if let Some((k, v)) = self.merge.take_write(&key)? {
                out.push(Write::put(Tree::Merge, k, v));
            }
        }
        out.extend(self.write_set()?);
        Ok(out)
    }

    /// Writes every record an applied entry changed, in one transaction (not flushed:
    /// the caller flushes).
    pub fn write_changed(&self, store: &Store) -> Result<(), StoreError> {
        self.write_changed_to(store, None)
    }

    /// [`Model::write_changed`], the transaction also moving the store's mark to `to` if
    /// given (past the journal lines these writes replayed).
    pub(super) fn write_changed_to(
        &self,
        store: &Store,
        to: Option<super::JournalMark>,
    ) -> Result<(), StoreError> {
        // Before the writes that move the journal's mark past the lines that set them.
        for pin in self.pins.values() {
            store.write_device_pin(pin)?;
        }
        store.apply_writes(&self.write_set()?, to)
    }
}

/// How many journal entries other than merged batches a replay onto a store applies and
/// writes at a time: the part of a journal a store missed may be all of it (a store from
/// a release before the mark). The unit tests take two at a time, so their tails cross
/// groups.
#[cfg(not(test))]
const REPLAY_GROUP: usize = 1024;
#[cfg(test)]
const REPLAY_GROUP: usize = 2;

#[cfg(test)]
thread_local! {
    /// Unit tests: how many more groups a replay writes before it fails, as a kill
    /// during it would stop it.
    pub(super) static STOP_REPLAY_AFTER: std::cell::Cell<Option<usize>> =
        const { std::cell::Cell::new(None) };
}

/// Replays onto `store` what the journal at `path` holds past `from` (the lines after
/// `from.lines`; see [`journal::each_journal_item_after`]), in journal order, a group of
/// entries at a time and a merged batch `slice` records at a time (worked out and written
/// slice after slice, as a merge does), so that what is held is a group or a slice
/// whatever the tail's length. A merged batch with a record that does not decode is left
/// out whole, like any line that does not decode. With `marks`, each group's writes, and
/// a merged batch's last, move the store's mark past the lines they replayed, in the same
/// transaction: a kill during the replay leaves it to go on from there (an answer
/// replayed twice would be in its answer's history twice), and a merged batch it stopped
/// in is replayed again onto what of it was written, which completes it (see
/// `Store::apply_staged`). Returns how many entries were replayed and how far the
/// journal goes.
pub(super) fn replay_after(
    store: &Store,
    path: &std::path::Path,
    from: super::JournalMark,
    slice: usize,
    marks: bool,
) -> Result<(usize, journal::JournalContents), StoreError> {
    let mut group: Vec<(usize, JournalEntry)> = Vec::new();
    let mut group_to = from;
    let mut replayed = 0usize;
    let mut reader = journal::RecordsReader::new(path, slice);
    let mark = |to: super::JournalMark| marks.then_some(to);
    let contents = journal::each_journal_item_after(path, from, |to, item| {
        if to.lines <= from.lines {
            return Ok(());
        }
        match item {
            Item::Entry(entry) => {
                group.push((to.lines as usize, entry));
                group_to = to;
                if group.len() >= REPLAY_GROUP {
                    replayed += replay_group(store, std::mem::take(&mut group), mark(to))?;
                }
            }
            Item::Merged(merged) => {
                replayed += replay_group(store, std::mem::take(&mut group), mark(group_to))?;
                if replay_merged(store, &mut reader, merged, mark(to))? {
                    replayed += 1;
                }
            }
        }
        Ok(())
    })?;
    replayed += replay_group(store, group, mark(group_to))?;
    Ok((replayed, contents))
}

/// Applies a group of `entries` (in journal order) on top of what `store` holds and writes
/// what changed, the writes moving the store's mark to `to` if given. Returns how many
/// entries there were.
fn replay_group(
    store: &Store,
    entries: Vec<(usize, JournalEntry)>,
    to: Option<super::JournalMark>,
) -> Result<usize, StoreError> {
    if entries.is_empty() {
        return Ok(0);
    }
    #[cfg(test)]
    if let Some(left) = STOP_REPLAY_AFTER.get() {
        if left == 0 {
            return Err(StoreError::Encode("the replay was stopped (a test)".into()));
        }
        STOP_REPLAY_AFTER.set(Some(left - 1));
    }
    let mut model = Model::default();
    model.load_for(store, &entries)?;
    let n = entries.len();
    for (_, entry) in entries {
        model.apply(entry);
    }
    model.write_changed_to(store, to)?;
    Ok(n)
}

/// One merged batch's line replayed onto `store` a slice at a time, its last write moving
/// the store's mark to `to` if given; false (nothing written) when one of its records does
/// not decode.
fn replay_merged(
    store: &Store,
    reader: &mut journal::RecordsReader<'_>,
    merged: journal::MergedLine,
    to: Option<super::JournalMark>,
) -> Result<bool, StoreError> {
    // Every record read first: all of a batch or none of it.
    match reader.each_slice(&merged, |_, _| Ok(())) {
        Ok(()) => {}
        Err(StoreError::Corrupt { key, message }) => {
            tracing::warn!("not replayed: {key} is not readable: {message}");
            return Ok(false);
        }
        Err(e) => return Err(e),
    }
    let batch = &merged.batch;
    let mut counts = super::merge::MergeCounts::default();
    reader.each_slice(&merged, |first, records| {
        let mut model = Model::default();
        model.load_records(store, &records)?;
        model.merge.load_for(store, batch, &records)?;
        model.apply_merged_records(batch, records, first, &mut counts);
        model.write_changed(store)
    })?;
    let mut model = Model::default();
    model.merge.load_for(store, batch, [])?;
    model.finish_merged(merged.batch, counts);
    model.write_changed_to(store, to)?;
    Ok(true)
}

/// Calls `emit` with the journal entries that say what `store` holds, one at a time (a
/// store of any size in bounded memory): settings, doors with their knocks, finalized
/// responses, drafts as they stand, and actions as they stand. A record that cannot be
/// read is left out and counted: returns how many.
pub(super) fn each_entry_from_store(
    store: &Store,
    emit: &mut journal::Emit<'_>,
) -> Result<usize, StoreError> {
    let settings = store.settings().unwrap_or_default();
    for key in SettingKey::ALL {
        if let Some(value) = settings.get(key) {
            emit(&JournalEntry::Setting {
                key,
                value: value.to_owned(),
            })?;
        }
    }
    let (pins, mut unreadable) = store.readable_device_pins()?;
    for pin in pins {
        emit(&JournalEntry::DevicePin(pin))?;
    }
    unreadable += store.each_readable_door(|record| {
        emit(&JournalEntry::Door {
            area: record.area.clone(),
            door: record.door.clone(),
        })?;
        for knock in record.knocks {
            emit(&JournalEntry::Knock {
                area: record.area.clone(),
                door: record.door.clone(),
                knock,
            })?;
        }
        Ok(())
    })?;
    // Corrections and removals the next exports may still send; the doors above already
    // show them.
    let (changes, bad) = store.readable_door_changes()?;
    unreadable += bad;
    for c in changes {
        emit(&JournalEntry::DoorChangeKept {
            area: c.area,
            from: c.from,
            to: c.to,
            change: c.meta,
        })?;
    }
    let filter = crate::response::ResponseFilter::default();
    unreadable += store
        .each_response(&filter, |r| {
            emit(&if r.status.is_final() {
                JournalEntry::Response(r)
            } else {
                JournalEntry::Draft(r)
            })
        })?
        .len();
    let actions = store.actions()?;
    unreadable += actions.unreadable.len();
    for action in actions.actions {
        emit(&JournalEntry::ActionAdded(action))?;
    }
    Ok(unreadable)
}
