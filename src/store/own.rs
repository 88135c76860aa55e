//! Which records this device made itself, and which of those are not yet exported.
//!
//! A merged record remembers the batches that carried it (`from\x1f…` in tree `merge`); a
//! record made on this machine has none. An export takes only this device's own records:
//! merged ones already travel, signed by the laptop that made them, in their own batch
//! files. An action is this device's when its current version (its digest) was made here:
//! a merged action changed here afterwards goes out whole, as any changed action does.
//! A revision made here that lost a conflict of revisions is out of the responses but
//! still this device's: it counts (and is exported) from the conflict record.
//!
//! What is not yet exported is kept as an index in tree `tallies`, so the home screen
//! reads counts, not records: `p\x1f<kind><record key>` for each own record not yet marked
//! exported (kinds `r` response (its uuid bytes), `d` door (its door key), `k` knock (its
//! uuid bytes), `a` action (its uuid bytes), `c` door correction or removal (its uuid
//! bytes: these are always this device's, merged ones are kept as fates, not changes)), and `n\x1fpending\x1f<kind>` → how many, u64
//! big-endian. Every write of a response, door or action, every merge and every export
//! sets the entries of the records it touched to what those records now are (not a
//! difference from before, so doing it twice does no harm), in the same transaction as the
//! write where the write is one. A knock that was at a door written and stays there is
//! not touched (only a batch carrying it or an export marking it changes its entry).
//! `recover` (and the first open of a store from before the index, `built\x1fpending`
//! absent) builds it again from the records.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::value::RawValue;

use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use uuid::Uuid;

use super::batches::{EXPORTS, RecordKey};
use super::merge::{
    CONFLICT_PREFIX, Conflict, FROM_PREFIX, MERGE, door_record_key, knock_key, response_key,
    revisions_of_key, set_aside,
};
use super::merge_actions::{ACTION_PREFIX, ActionVersions};
use super::replay::AppendedDoors;
use super::responses::key_name;
use super::{Store, StoreError, Tree, Write, decode};
use crate::action::Action;
use crate::response::{Door, DoorRecord, Knock, ResponseSummary};

const PENDING_PREFIX: &[u8] = b"p\x1f";
const COUNT_PREFIX: &[u8] = b"n\x1fpending\x1f";
/// Set once the index reflects the records (a store from before it has none).
pub(super) const PENDING_BUILT: &[u8] = b"built\x1fpending";

/// An own record in the index of what is not yet exported.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Pending {
    Response(Uuid),
    /// Its key in tree `doors`.
    Door(Vec<u8>),
    Knock(Uuid),
    Action(Uuid),
    /// A door correction or removal made here.
    DoorChange(Uuid),
}

impl Pending {
    fn kind(&self) -> u8 {
        match self {
            Pending::Response(_) => b'r',
            Pending::Door(_) => b'd',
            Pending::Knock(_) => b'k',
            Pending::Action(_) => b'a',
            Pending::DoorChange(_) => b'c',
        }
    }

    fn key(&self) -> Vec<u8> {
        let mut key = PENDING_PREFIX.to_vec();
        key.push(self.kind());
        match self {
            Pending::Response(id)
            | Pending::Knock(id)
            | Pending::Action(id)
            | Pending::DoorChange(id) => key.extend_from_slice(id.as_bytes()),
            Pending::Door(door) => key.extend_from_slice(door),
        }
        key
    }

    fn count_key(&self) -> Vec<u8> {
        let mut key = COUNT_PREFIX.to_vec();
        key.push(self.kind());
        key
    }

    /// The entry of the record an export mark names (an action by its id: whether its
    /// current version is the one marked is checked where it is used).
    fn of_mark(record: &RecordKey) -> Pending {
        match record {
            RecordKey::Response(id) => Pending::Response(*id),
            RecordKey::Knock(id) => Pending::Knock(*id),
            RecordKey::Action(id, _) => Pending::Action(*id),
            RecordKey::DoorChange(id) => Pending::DoorChange(*id),
            RecordKey::Door(area, door) => {
                // The door log's key: the area, a record separator, the door's key.
                let mut key = area.as_bytes().to_vec();
                key.push(0x1e);
                key.extend_from_slice(door.as_bytes());
                Pending::Door(key)
            }
        }
    }
}

/// This device's records not yet in any exported batch, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotExported {
    /// Finalized responses and revisions (complete, refused, abandoned).
    pub responses: u64,
    pub doors: u64,
    pub knocks: u64,
    /// Actions added or changed here whose current version is in no batch.
    pub actions: u64,
    /// Door corrections and removals made here.
    pub door_changes: u64,
}

impl NotExported {
    pub fn total(&self) -> u64 {
        self.responses + self.doors + self.knocks + self.actions + self.door_changes
    }
}

impl std::fmt::Display for NotExported {
    /// "12 interviews or audits, 30 knocks, 2 actions"; "nothing" when all are none.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = [
            (self.responses, "interview or audit", "interviews or audits"),
            (self.doors, "door", "doors"),
            (self.knocks, "knock", "knocks"),
            (self.actions, "action", "actions"),
            (
                self.door_changes,
                "door correction or removal",
                "door corrections or removals",
            ),
        ]
        .iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
        .collect();
        if parts.is_empty() {
            f.write_str("nothing")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// The entries a write sets: each record touched and whether it is now pending.
pub(super) type PendingChanges = BTreeMap<Pending, bool>;

fn read_u64(bytes: Option<&[u8]>) -> u64 {
    bytes
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_be_bytes)
}

/// Sets the entries of `changes` inside a transaction on tree `tallies`, moving the
/// counts only where an entry really comes or goes.
pub(super) fn apply_pending<E>(
    t: &TransactionalTree,
    changes: &PendingChanges,
) -> Result<(), ConflictableTransactionError<E>> {
    for (record, pending) in changes {
        let key = record.key();
        let present = t.get(&key)?.is_some();
        let delta: i64 = match (present, *pending) {
            (false, true) => {
                t.insert(key, &[][..])?;
                1
            }
            (true, false) => {
                t.remove(key)?;
                -1
            }
            _ => continue,
        };
        let count_key = record.count_key();
        let now = read_u64(t.get(&count_key)?.as_deref());
        t.insert(count_key, &now.saturating_add_signed(delta).to_be_bytes())?;
    }
    Ok(())
}

impl Store {
    /// Whether any batch carried the record with this provenance key.
    fn merged(&self, record: &[u8]) -> Result<bool, StoreError> {
        let mut key = FROM_PREFIX.to_vec();
        key.extend_from_slice(record);
        Ok(self.tree(MERGE)?.contains_key(key)?)
    }

    fn marked(&self, record: &RecordKey) -> Result<bool, StoreError> {
        Ok(self.tree(EXPORTS)?.contains_key(record.bytes())?)
    }

    /// Whether this device made the response as it stands: no batch carried it here, or
    /// it is in conflict with what batches carried and the version active is the one made
    /// here.
    pub(super) fn own_response(&self, id: Uuid) -> Result<bool, StoreError> {
        if !self.merged(&response_key(id))? {
            return Ok(true);
        }
        let conflict = self.merge_get::<Conflict>(CONFLICT_PREFIX, id.as_bytes())?;
        Ok(local_active(conflict.as_ref()))
    }

    /// Whether this device made the door (`key`: its key in the door log).
    pub(super) fn own_door(&self, key: &[u8]) -> Result<bool, StoreError> {
        Ok(!self.merged(&door_record_key(key))?)
    }

    pub(super) fn own_knock(&self, id: Uuid) -> Result<bool, StoreError> {
        Ok(!self.merged(&knock_key(id))?)
    }

    /// Whether the door at `key` (`door` of `area`), as written, is this machine's and not
    /// yet exported; never one a batch in the same writes carries (`merged`).
    fn door_pending(
        &self,
        merged: &BTreeSet<Pending>,
        key: &[u8],
        area: &str,
        door: &Door,
    ) -> Result<bool, StoreError> {
        Ok(!merged.contains(&Pending::Door(key.to_vec()))
            && self.own_door(key)?
            && !self.marked(&RecordKey::door(area, door))?)
    }

    /// As [`Store::door_pending`], for knock `id`.
    fn knock_pending(&self, merged: &BTreeSet<Pending>, id: Uuid) -> Result<bool, StoreError> {
        Ok(!merged.contains(&Pending::Knock(id))
            && self.own_knock(id)?
            && !self.marked(&RecordKey::Knock(id))?)
    }

    /// Whether the action as it stands was made here: no batch carried this version.
    pub(super) fn own_action(&self, action: &Action) -> Result<bool, StoreError> {
        let versions = self.merge_get::<ActionVersions>(ACTION_PREFIX, action.id.as_bytes())?;
        Ok(own_version(action, versions.as_ref()))
    }

    /// This device's records not yet exported, from the index (no record is read).
    pub fn not_exported(&self) -> Result<NotExported, StoreError> {
        let t = self.tree(super::tallies::TALLIES)?;
        let count = |p: Pending| -> Result<u64, StoreError> {
            Ok(read_u64(t.get(p.count_key())?.as_deref()))
        };
        Ok(NotExported {
            responses: count(Pending::Response(Uuid::nil()))?,
            doors: count(Pending::Door(Vec::new()))?,
            knocks: count(Pending::Knock(Uuid::nil()))?,
            actions: count(Pending::Action(Uuid::nil()))?,
            door_changes: count(Pending::DoorChange(Uuid::nil()))?,
        })
    }

    /// The entries `writes` (about to be made, none of them yet) call for: each response,
    /// door, knock and action they touch, and whether it will then be an own record not
    /// yet exported. Reads the records they replace and what the store knows of their
    /// provenance and export marks; the writes themselves are taken as already made.
    pub(super) fn pending_changes(&self, writes: &[Write]) -> Result<PendingChanges, StoreError> {
        self.pending_changes_appended(writes, &AppendedDoors::new())
    }

    /// [`Store::pending_changes`], told which door writes only add knocks to the door as
    /// stored (`appended`, by door key, as a merge knows them): those doors are not read
    /// and decoded again, before and after, to find the knocks that changed. A door
    /// record holds every knock made there, so at a busy door that was most of a merge's
    /// reading here.
    pub(super) fn pending_changes_appended(
        &self,
        writes: &[Write],
        appended: &AppendedDoors,
    ) -> Result<PendingChanges, StoreError> {
        self.pending_changes_staged(writes, appended, None)
    }

    /// [`Store::pending_changes_appended`] for a merge worked out into a scratch
    /// database (`staged`, its responses tree): `writes` then carries the responses'
    /// keys alone, and the few values needed (of responses made here) are read from it.
    pub(super) fn pending_changes_staged(
        &self,
        writes: &[Write],
        appended: &AppendedDoors,
        staged: Option<&sled::Tree>,
    ) -> Result<PendingChanges, StoreError> {
        let mut changes = PendingChanges::new();
        // The last write of each response and action (a merge writes thousands at once).
        let last_write: std::collections::HashMap<(u8, &[u8]), &Write> = writes
            .iter()
            .filter(|w| matches!(w.tree, Tree::Responses | Tree::Actions))
            .map(|w| ((w.tree as u8, w.key.as_slice()), w))
            .collect();
        // Records a batch carries in this same write: never pending, whatever else says.
        let mut merged = BTreeSet::new();
        let mut versions: BTreeMap<Uuid, Option<ActionVersions>> = BTreeMap::new();
        let mut conflicts: BTreeMap<Uuid, Option<Conflict>> = BTreeMap::new();
        // Revisions in the conflicts of revisions this write sets: whether each is set
        // aside (on a side that is not the active one).
        let mut aside: BTreeMap<Uuid, bool> = BTreeMap::new();
        for w in writes.iter().filter(|w| w.tree == Tree::Merge) {
            if let Some(original) = revisions_of_key(&w.key) {
                if let Some(bytes) = &w.value {
                    let c: Conflict = decode(
                        || format!("merge record conflict of the revisions of {original}"),
                        bytes,
                    )?;
                    for v in &c.versions {
                        aside.extend(v.chain().map(|r| (r.id, false)));
                    }
                    aside.extend(set_aside(&c).map(|r| (r.id, true)));
                }
            } else if let Some(id) = w.key.strip_prefix(CONFLICT_PREFIX)
                && let Ok(id) = Uuid::from_slice(id)
            {
                let c = match &w.value {
                    Some(bytes) => Some(decode(|| format!("merge record conflict {id}"), bytes)?),
                    None => None,
                };
                conflicts.insert(id, c);
            } else if let Some(record) = w.key.strip_prefix(FROM_PREFIX) {
                if let Some(p) = pending_of_provenance(record) {
                    merged.insert(p);
                }
            } else if let Some(id) = w.key.strip_prefix(ACTION_PREFIX)
                && let Ok(id) = Uuid::from_slice(id)
            {
                let v = match &w.value {
                    Some(bytes) => Some(decode(|| format!("merge record action {id}"), bytes)?),
                    None => None,
                };
                versions.insert(id, v);
            }
        }
        let actions = self.tree(super::actions::ACTIONS)?;
        let action_ids: BTreeSet<Uuid> = writes
            .iter()
            .filter(|w| w.tree == Tree::Actions)
            .filter_map(|w| Uuid::from_slice(&w.key).ok())
            .chain(versions.keys().copied())
            .collect();
        // Responses: those written, and those a batch now carries (one in conflict with
        // a response made here may still be this device's).
        let responses = self.tree(super::responses::RESPONSES)?;
        let response_ids: BTreeSet<Uuid> = writes
            .iter()
            .filter(|w| w.tree == Tree::Responses)
            .filter_map(|w| Uuid::from_slice(&w.key).ok())
            .chain(merged.iter().filter_map(|p| match p {
                Pending::Response(id) => Some(*id),
                _ => None,
            }))
            .collect();
        for id in response_ids {
            let record = Pending::Response(id);
            let own = match (merged.contains(&record), conflicts.get(&id)) {
                (_, Some(c)) => local_active(c.as_ref()),
                (true, None) => local_active(
                    self.merge_get::<Conflict>(CONFLICT_PREFIX, id.as_bytes())?
                        .as_ref(),
                ),
                (false, None) => self.own_response(id)?,
            };
            // A merge's new responses stop here: nothing of them is read.
            if !own {
                changes.insert(record, false);
                continue;
            }
            let written = match staged {
                Some(staged) => staged
                    .get(id.as_bytes())?
                    .map(|held| super::merge::overlay_value(&held).map(|v| v.to_vec())),
                None => last_write
                    .get(&(Tree::Responses as u8, id.as_bytes().as_slice()))
                    .map(|w| w.value.clone()),
            };
            let bytes = match written {
                Some(value) => value,
                None => responses.get(id.as_bytes())?.map(|b| b.to_vec()),
            };
            let finalized = match bytes.as_deref() {
                Some(b) => decode::<ResponseSummary>(|| key_name(id.as_bytes()), b)
                    .is_ok_and(|s| s.status.is_final()),
                // A revision made here that lost a conflict of revisions is still its
                // work: the other side needs it to see the same conflict.
                None => match aside.get(&id) {
                    Some(out) => *out,
                    None => self.is_set_aside(id)?,
                },
            };
            let pending = finalized && !self.marked(&RecordKey::Response(id))?;
            changes.insert(record, pending);
        }
        for w in writes.iter().filter(|w| w.tree == Tree::Doors) {
            if w.value.is_some()
                && let Some(a) = appended.get(&w.key)
            {
                // Every knock the door had stays, as the loop below leaves one that stays.
                let door = Pending::Door(w.key.clone());
                let pending = self.door_pending(&merged, &w.key, &a.area, &a.door)?;
                changes.insert(door, pending);
                for id in &a.added {
                    changes.insert(Pending::Knock(*id), self.knock_pending(&merged, *id)?);
                }
                continue;
            }
            let before = self.read(super::doors::DOORS, &w.key).ok().flatten();
            let before = before.as_deref().and_then(DoorKnocks::ids);
            let after = w.value.as_deref().and_then(DoorKnocks::ids);
            let after_ids: HashSet<Uuid> = after
                .iter()
                .flat_map(|(_, ids)| ids.iter().copied())
                .collect();
            // The knocks already at the door: each of them that stays is left as its
            // entry stands (whether a knock is pending changes only when a batch carries
            // it, which `merged` says, or when an export marks it, never here), so a merge
            // adding a knock to a door does not look up the provenance of every knock
            // there before it.
            let mut stays = HashSet::new();
            for id in before.into_iter().flat_map(|(_, ids)| ids) {
                if after_ids.contains(&id) {
                    stays.insert(id);
                } else {
                    // Taken off this door, it may be put on another in the same writes
                    // (a correction): what that door says of it stands.
                    changes.entry(Pending::Knock(id)).or_insert(false);
                }
            }
            let door = Pending::Door(w.key.clone());
            let Some(((area, at_door), knocks)) = after else {
                changes.insert(door, false);
                continue;
            };
            let pending = self.door_pending(&merged, &w.key, &area, &at_door)?;
            changes.insert(door, pending);
            for id in knocks {
                let record = Pending::Knock(id);
                if stays.contains(&id) && !merged.contains(&record) {
                    continue;
                }
                changes.insert(record, self.knock_pending(&merged, id)?);
            }
        }
        for id in action_ids {
            let bytes = match last_write.get(&(Tree::Actions as u8, id.as_bytes().as_slice())) {
                Some(w) => w.value.clone(),
                None => actions.get(id.as_bytes())?.map(|b| b.to_vec()),
            };
            let action = bytes.and_then(|b| decode::<Action>(|| format!("action {id}"), &b).ok());
            let record = Pending::Action(id);
            let pending = match action {
                None => false,
                Some(action) => {
                    let own = match versions.get(&id) {
                        Some(v) => own_version(&action, v.as_ref()),
                        None => self.own_action(&action)?,
                    };
                    own && !self.marked(&RecordKey::Action(id, action.digest()))?
                }
            };
            changes.insert(record, pending);
        }
        for w in writes.iter().filter(|w| w.tree == Tree::Meta) {
            if let Some(id) = w.key.strip_prefix(super::doors::DOOR_CHANGE_PREFIX)
                && let Ok(id) = Uuid::from_slice(id)
            {
                let pending = w.value.is_some() && !self.marked(&RecordKey::DoorChange(id))?;
                changes.insert(Pending::DoorChange(id), pending);
            }
        }
        // A door or knock a batch carried here is not this device's, whatever was written.
        for record in merged {
            if matches!(record, Pending::Door(_) | Pending::Knock(_)) {
                changes.insert(record, false);
            }
        }
        Ok(changes)
    }

    /// The entries an export's marks settle: every record marked is no longer pending
    /// (an action only if the version marked is the one it now has).
    pub(super) fn pending_after_export(
        &self,
        records: &[RecordKey],
    ) -> Result<PendingChanges, StoreError> {
        let mut changes = PendingChanges::new();
        for record in records {
            if let RecordKey::Action(id, digest) = record {
                let current = match self.action(*id) {
                    Ok(a) => Some(a.digest()),
                    Err(StoreError::NoSuchAction { .. } | StoreError::Corrupt { .. }) => None,
                    Err(e) => return Err(e),
                };
                if current.as_ref() != Some(digest) {
                    continue;
                }
            }
            changes.insert(Pending::of_mark(record), false);
        }
        Ok(changes)
    }

    /// Builds the index of what is not yet exported afresh from every response, door and
    /// action (one at a time), and marks it built.
    pub(super) fn rebuild_pending(&self) -> Result<(), StoreError> {
        let tallies = self.tree(super::tallies::TALLIES)?;
        // Not built until the end (the old entries go a slice at a time).
        tallies.remove(PENDING_BUILT)?;
        super::tallies::remove_prefix(&tallies, PENDING_PREFIX)?;
        super::tallies::remove_prefix(&tallies, COUNT_PREFIX)?;
        let mut counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        let mut batch = sled::Batch::default();
        let mut pending = 0usize;
        let mut add = |record: Pending, batch: &mut sled::Batch| {
            *counts.entry(record.count_key()).or_default() += 1;
            batch.insert(record.key(), &[][..]);
            pending += 1;
            pending.is_multiple_of(super::tallies::REBUILD_SLICE)
        };
        for entry in self.tree(super::responses::RESPONSES)?.iter() {
            let (key, value) = entry?;
            let Ok(s) = decode::<ResponseSummary>(|| key_name(&key), &value) else {
                continue;
            };
            if s.status.is_final()
                && self.own_response(s.id)?
                && !self.marked(&RecordKey::Response(s.id))?
                && add(Pending::Response(s.id), &mut batch)
            {
                tallies.apply_batch(std::mem::take(&mut batch))?;
            }
        }
        let responses = self.tree(super::responses::RESPONSES)?;
        for r in self.set_aside_revisions()? {
            if !responses.contains_key(r.id.as_bytes())?
                && self.own_response(r.id)?
                && !self.marked(&RecordKey::Response(r.id))?
                && add(Pending::Response(r.id), &mut batch)
            {
                tallies.apply_batch(std::mem::take(&mut batch))?;
            }
        }
        for entry in self.tree(super::doors::DOORS)?.iter() {
            let (key, value) = entry?;
            let Ok(d) = decode::<DoorRecord>(|| "door".to_owned(), &value) else {
                continue;
            };
            if self.own_door(&key)?
                && !self.marked(&RecordKey::door(&d.area, &d.door))?
                && add(Pending::Door(key.to_vec()), &mut batch)
            {
                tallies.apply_batch(std::mem::take(&mut batch))?;
            }
            for knock in &d.knocks {
                let id = knock.identity(&d.area, &d.door);
                if self.own_knock(id)?
                    && !self.marked(&RecordKey::Knock(id))?
                    && add(Pending::Knock(id), &mut batch)
                {
                    tallies.apply_batch(std::mem::take(&mut batch))?;
                }
            }
        }
        for entry in self.tree(super::actions::ACTIONS)?.iter() {
            let (_, value) = entry?;
            let Ok(a) = decode::<Action>(|| "action".to_owned(), &value) else {
                continue;
            };
            if self.own_action(&a)?
                && !self.marked(&RecordKey::Action(a.id, a.digest()))?
                && add(Pending::Action(a.id), &mut batch)
            {
                tallies.apply_batch(std::mem::take(&mut batch))?;
            }
        }
        for change in self.door_changes()? {
            let id = change.meta.id;
            if !self.marked(&RecordKey::DoorChange(id))? && add(Pending::DoorChange(id), &mut batch)
            {
                tallies.apply_batch(std::mem::take(&mut batch))?;
            }
        }
        for (key, n) in counts {
            batch.insert(key, &n.to_be_bytes());
        }
        batch.insert(PENDING_BUILT, &[1u8]);
        tallies.apply_batch(batch)?;
        Ok(())
    }
}

/// Of a stored door record, what the index of what is not yet exported needs: the door
/// and its knocks' ids. A door record holds every knock made there, so this is read for
/// every door a merge touches; a knock's time and outcome are decoded only for a knock
/// stored without an id (its id is worked out from them), not for every knock.
#[derive(serde::Deserialize)]
struct DoorKnocks<'a> {
    area: String,
    door: Door,
    #[serde(borrow)]
    knocks: Vec<KnockIdentity<'a>>,
}

#[derive(serde::Deserialize)]
struct KnockIdentity<'a> {
    #[serde(default)]
    id: Option<Uuid>,
    #[serde(borrow)]
    at: &'a RawValue,
    #[serde(borrow)]
    outcome: &'a RawValue,
}

#[derive(serde::Deserialize)]
struct StoredDoorKnocks<'a> {
    format: u32,
    #[serde(borrow)]
    record: DoorKnocks<'a>,
}

impl DoorKnocks<'_> {
    /// The area and door of a stored door record and its knocks' ids (as
    /// [`Knock::identity`] gives them); None when it cannot be read as a door record.
    fn ids(bytes: &[u8]) -> Option<((String, Door), Vec<Uuid>)> {
        let stored: StoredDoorKnocks<'_> = serde_json::from_slice(bytes).ok()?;
        if stored.format != super::FORMAT {
            return None;
        }
        let d = stored.record;
        let ids = d
            .knocks
            .iter()
            .map(|k| match k.id {
                Some(id) => Some(id),
                None => {
                    let at = serde_json::from_str(k.at.get()).ok()?;
                    let outcome = serde_json::from_str(k.outcome.get()).ok()?;
                    Some(Knock::new(at, outcome).identity(&d.area, &d.door))
                }
            })
            .collect::<Option<Vec<Uuid>>>()?;
        Some(((d.area, d.door), ids))
    }
}

/// Whether the version active in a conflict of a response id is the one made here (it
/// came in no batch); with no conflict, the batches carried the response itself.
fn local_active(conflict: Option<&Conflict>) -> bool {
    conflict
        .and_then(Conflict::active)
        .is_some_and(|v| v.sources.is_empty())
}

/// Whether `action` as it stands is a version made here: none of the merged versions
/// with this digest came in a batch.
fn own_version(action: &Action, versions: Option<&ActionVersions>) -> bool {
    let digest = action.digest();
    versions.is_none_or(|v| {
        !v.versions
            .iter()
            .any(|v| v.digest == digest && !v.sources.is_empty())
    })
}

/// The index entry of a record named by its provenance key (`response:<uuid>`, …).
fn pending_of_provenance(record: &[u8]) -> Option<Pending> {
    let text = |rest: &[u8]| std::str::from_utf8(rest).ok()?.parse::<Uuid>().ok();
    if let Some(rest) = record.strip_prefix(b"response:") {
        return text(rest).map(Pending::Response);
    }
    if let Some(rest) = record.strip_prefix(b"knock:") {
        return text(rest).map(Pending::Knock);
    }
    if let Some(rest) = record.strip_prefix(b"action:") {
        return text(rest).map(Pending::Action);
    }
    record
        .strip_prefix(b"door:")
        .map(|rest| Pending::Door(rest.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::merge_actions::action_key;

    #[test]
    fn provenance_keys_name_their_index_entries() {
        let id = Uuid::from_u128(7);
        assert_eq!(
            pending_of_provenance(&response_key(id)),
            Some(Pending::Response(id))
        );
        assert_eq!(
            pending_of_provenance(&knock_key(id)),
            Some(Pending::Knock(id))
        );
        assert_eq!(
            pending_of_provenance(&action_key(id)),
            Some(Pending::Action(id))
        );
        assert_eq!(
            pending_of_provenance(&door_record_key(b"e05000650\x1ekay street\x1f12")),
            Some(Pending::Door(b"e05000650\x1ekay street\x1f12".to_vec()))
        );
        let door = crate::response::Door::new("Kay Street", "12").unwrap();
        let key = super::super::doors::door_key("E05000650", &door).unwrap();
        assert_eq!(
            Pending::of_mark(&RecordKey::door("E05000650", &door)),
            Pending::Door(key)
        );
        assert_eq!(
            NotExported {
                responses: 12,
                doors: 0,
                knocks: 30,
                actions: 1,
                door_changes: 2,
            }
            .to_string(),
            "12 interviews or audits, 30 knocks, 1 action, 2 door corrections or removals"
        );
        assert_eq!(NotExported::default().to_string(), "nothing");
    }
}
