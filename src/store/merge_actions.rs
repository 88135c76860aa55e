//! Merging the action register: the response rules mapped onto an action's append-only
//! history (also in `BATCH_FORMAT.md`).
//!
//! - same id, same content → duplicate, no change;
//! - one version's history extends another's (the other is a prefix, the rest of the
//!   record the same) → the longer supersedes, whichever arrives first;
//! - histories that diverged (two people changed the same action differently) → conflict:
//!   every version is kept, and the active one (the one in `actions`) is the line of
//!   changes that diverged first (the earlier change at the first place the change times
//!   differ, then the smaller digest), so arrival order does not matter;
//!   [`Store::resolve_action_conflict`] picks another; a further diverging version
//!   reopens it.
//!
//! Every version that reached the store is kept in tree `merge` under
//! `action\x1f<uuid bytes>` ([`ActionVersions`]), with the batches that carried it; the
//! register's own version (added or changed on this machine) joins them, with no batch,
//! when a merge or a resolution meets it. What is active is worked out from that set
//! alone, so any order of the same batches gives the same register.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::merge::{Conflict, MergeKey, MergeState, Outcome, Source};
use super::replay::Model;
use super::{JournalEntry, Store, StoreError, decode};
use crate::action::Action;

/// The key prefix of an action's versions in tree `merge`.
pub(super) const ACTION_PREFIX: &[u8] = b"action\x1f";

/// The key of an action in the merge provenance (`from\x1faction:<uuid>`).
pub(super) fn action_key(id: Uuid) -> Vec<u8> {
    format!("action:{id}").into_bytes()
}

/// One version of an action that reached this store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionVersion {
    pub action: Action,
    /// [`Action::digest`].
    pub digest: String,
    /// The batches that carried it (in a conflict's view: it or an earlier stage of it);
    /// empty when it was made on this machine.
    pub sources: BTreeSet<Source>,
}

/// Every version of one action merged here, and the coordinator's choice among them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionVersions {
    pub id: Uuid,
    /// By digest.
    pub versions: Vec<ActionVersion>,
    /// The digest of the version the coordinator kept, if any.
    pub kept: Option<String>,
    /// When the coordinator settled it; cleared when a further diverging version arrives.
    pub resolved_at: Option<DateTime<Utc>>,
}

/// An action whose versions diverged, as `batch conflicts` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionConflict {
    pub id: Uuid,
    /// The latest version of each line of changes (none extends another), in the fixed
    /// order (first divergent change first, then digest); shown as A, B, …
    pub versions: Vec<ActionVersion>,
    /// The index of the active version (the one in the register).
    pub active: usize,
    pub kept: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
}

impl ActionConflict {
    pub fn is_resolved(&self) -> bool {
        self.resolved_at.is_some()
    }

    /// The index of the version shown as `letter` (case-insensitive).
    pub fn index_of(&self, letter: &str) -> Option<usize> {
        (0..self.versions.len()).find(|i| Conflict::letter(*i).eq_ignore_ascii_case(letter.trim()))
    }

    /// How many changes the versions share before they part.
    pub fn shared_changes(&self) -> usize {
        let mut n = 0;
        while let Some(first) = self.versions.first().and_then(|v| v.action.history.get(n)) {
            if self
                .versions
                .iter()
                .all(|v| v.action.history.get(n) == Some(first))
            {
                n += 1;
            } else {
                break;
            }
        }
        n
    }
}

/// The fixed order of diverged versions: change times compared one by one (so the first
/// place they differ decides), then the digest.
fn order(a: &ActionVersion, b: &ActionVersion) -> Ordering {
    let times = |v: &ActionVersion| v.action.history.iter().map(|c| c.at).collect::<Vec<_>>();
    times(a)
        .cmp(&times(b))
        .then_with(|| a.digest.cmp(&b.digest))
}

impl ActionVersions {
    fn new(id: Uuid) -> ActionVersions {
        ActionVersions {
            id,
            versions: Vec::new(),
            kept: None,
            resolved_at: None,
        }
    }

    /// Adds a version (or the source to the same version held). Returns whether anything
    /// changed.
    fn add(&mut self, action: &Action, source: Option<&Source>) -> bool {
        let digest = action.digest();
        if let Some(v) = self.versions.iter_mut().find(|v| v.digest == digest) {
            return source.is_some_and(|s| v.sources.insert(s.clone()));
        }
        self.versions.push(ActionVersion {
            action: action.clone(),
            digest,
            sources: source.cloned().into_iter().collect(),
        });
        self.versions.sort_by(|a, b| a.digest.cmp(&b.digest));
        true
    }

    /// Takes in the register's own version unless a version here is it or extends it (a
    /// coordinator's edit after a merge is a line of changes like any other).
    fn absorb(&mut self, local: &Action) -> bool {
        if self.versions.iter().any(|v| v.action.extends(local)) {
            return false;
        }
        self.add(local, None)
    }

    /// The digests of the versions no other version extends.
    fn tip_digests(&self) -> BTreeSet<String> {
        self.tips().into_iter().map(|v| v.digest).collect()
    }

    /// The latest version of each line of changes, in the fixed order, each with the
    /// batches that carried it or an earlier stage of it.
    fn tips(&self) -> Vec<ActionVersion> {
        let mut tips: Vec<ActionVersion> = self
            .versions
            .iter()
            .filter(|v| {
                !self
                    .versions
                    .iter()
                    .any(|w| w.digest != v.digest && w.action.extends(&v.action))
            })
            .map(|tip| {
                let mut tip = tip.clone();
                for v in &self.versions {
                    if tip.action.extends(&v.action) {
                        tip.sources.extend(v.sources.iter().cloned());
                    }
                }
                tip
            })
            .collect();
        tips.sort_by(order);
        tips
    }

    /// The index among `tips` of the active version: the first line of changes that holds
    /// the kept version, else the first.
    fn active_index(&self, tips: &[ActionVersion]) -> usize {
        let kept = self
            .kept
            .as_ref()
            .and_then(|k| self.versions.iter().find(|v| &v.digest == k));
        kept.and_then(|k| tips.iter().position(|t| t.action.extends(&k.action)))
            .unwrap_or(0)
    }

    /// The version the register holds.
    fn active(&self) -> Option<Action> {
        let tips = self.tips();
        let i = self.active_index(&tips);
        tips.into_iter().nth(i).map(|v| v.action)
    }

    /// The conflict, when the versions diverged.
    fn conflict(&self) -> Option<ActionConflict> {
        let tips = self.tips();
        if tips.len() < 2 {
            return None;
        }
        Some(ActionConflict {
            id: self.id,
            active: self.active_index(&tips),
            versions: tips,
            kept: self.kept.clone(),
            resolved_at: self.resolved_at,
        })
    }
}

impl MergeState {
    /// Loads an action's versions from the store unless already held.
    pub(super) fn load_action_versions(
        &mut self,
        store: &Store,
        id: Uuid,
    ) -> Result<(), StoreError> {
        if !self.actions.contains_key(&id)
            && let Some(v) = store.merge_get::<ActionVersions>(ACTION_PREFIX, id.as_bytes())?
        {
            self.actions.insert(id, v);
        }
        Ok(())
    }
}

impl Model {
    /// Merges one action record of a batch (see the module notes).
    pub(super) fn merge_action(&mut self, a: &Action, source: &Source) -> Result<Outcome, String> {
        a.check_record()?;
        self.merge.add_source(action_key(a.id), source);
        let local = self.actions.get(&a.id).cloned();
        let record = self
            .merge
            .actions
            .entry(a.id)
            .or_insert_with(|| ActionVersions::new(a.id));
        let first = record.versions.is_empty() && local.is_none();
        if let Some(l) = &local {
            record.absorb(l);
        }
        let digest = a.digest();
        let held = record.versions.iter().any(|v| v.digest == digest);
        let tips_before = record.tip_digests().len();
        record.add(a, Some(source));
        let outcome = if held {
            Outcome::Duplicate
        } else if first {
            Outcome::New
        } else if record.tip_digests().len() > tips_before {
            // A new line of changes: it reopens a settled conflict.
            record.resolved_at = None;
            Outcome::Conflict
        } else {
            Outcome::Superseded
        };
        let active = record.active();
        self.merge.changed.insert(MergeKey::Action(a.id));
        if let Some(active) = active
            && local.as_ref() != Some(&active)
        {
            self.actions.insert(a.id, active);
            self.changed_actions.insert(a.id);
        }
        Ok(outcome)
    }

    /// Keeps the action version with `digest` (and the changes made after it) active;
    /// marks its conflict resolved. Nothing happens for an id that is no action here.
    pub(super) fn apply_action_resolution(&mut self, id: Uuid, digest: &str, at: DateTime<Utc>) {
        let local = self.actions.get(&id).cloned();
        let Some(record) = self.merge.actions.get_mut(&id) else {
            return;
        };
        if let Some(l) = &local {
            record.absorb(l);
        }
        if !record.versions.iter().any(|v| v.digest == digest) {
            return;
        }
        record.kept = Some(digest.to_owned());
        record.resolved_at = Some(at);
        let active = record.active();
        self.merge.changed.insert(MergeKey::Action(id));
        if let Some(active) = active
            && local.as_ref() != Some(&active)
        {
            self.actions.insert(id, active);
            self.changed_actions.insert(id);
        }
    }

    /// Loads an action from `store` unless already held (an unreadable one is left out).
    pub(super) fn load_action(&mut self, store: &Store, id: Uuid) -> Result<(), StoreError> {
        if self.actions.contains_key(&id) {
            return Ok(());
        }
        match store.action(id) {
            Ok(a) => {
                self.actions.insert(id, a);
            }
            Err(StoreError::NoSuchAction { .. } | StoreError::Corrupt { .. }) => {}
            Err(e) => return Err(e),
        }
        Ok(())
    }
}

impl Store {
    /// Every action whose merged versions diverged, resolved or not, by id; the register's
    /// own version counts as one (as the resolution will take it).
    pub fn action_conflicts(&self) -> Result<Vec<ActionConflict>, StoreError> {
        let mut out = Vec::new();
        for entry in self.tree(super::merge::MERGE)?.scan_prefix(ACTION_PREFIX) {
            let (key, value) = entry?;
            let mut record: ActionVersions = decode(
                || format!("merge record {}", String::from_utf8_lossy(&key)),
                &value,
            )?;
            if let Ok(local) = self.action(record.id) {
                record.absorb(&local);
            }
            out.extend(record.conflict());
        }
        Ok(out)
    }

    /// The action conflicts the coordinator has not settled, by id.
    pub fn unresolved_action_conflicts(&self) -> Result<Vec<ActionConflict>, StoreError> {
        Ok(self
            .action_conflicts()?
            .into_iter()
            .filter(|c| !c.is_resolved())
            .collect())
    }

    /// The conflict of one action, if its versions diverged.
    pub fn action_conflict(&self, id: Uuid) -> Result<Option<ActionConflict>, StoreError> {
        let Some(mut record) = self.merge_get::<ActionVersions>(ACTION_PREFIX, id.as_bytes())?
        else {
            return Ok(None);
        };
        if let Ok(local) = self.action(id) {
            record.absorb(&local);
        }
        Ok(record.conflict())
    }

    /// Settles an action's conflict: the version at `keep` (0 for A) becomes the active
    /// one. Journaled as a resolution (so `recover` keeps it) and flushed.
    pub fn resolve_action_conflict(
        &self,
        id: Uuid,
        keep: usize,
    ) -> Result<ActionConflict, StoreError> {
        let _guard = self.write_guard();
        let conflict = self
            .action_conflict(id)?
            .ok_or(StoreError::NoConflict { id })?;
        let Some(version) = conflict.versions.get(keep) else {
            return Err(StoreError::NoSuchVersion {
                id,
                asked: Conflict::letter(keep),
                versions: conflict.versions.len(),
            });
        };
        let (digest, at) = (version.digest.clone(), self.env.now());
        let mut model = Model::default();
        model.load_action(self, id)?;
        model.merge.load_action_versions(self, id)?;
        model.apply_action_resolution(id, &digest, at);
        let entry = JournalEntry::Resolved {
            id,
            keep: digest,
            at,
        };
        let mark = self.journal_guard().append(&entry)?;
        self.apply_writes(&model.write_set()?, Some(mark))?;
        self.flush()?;
        self.action_conflict(id)?
            .ok_or(StoreError::NoConflict { id })
    }

    /// The batches (and devices) that carried an action here; empty if it was only ever
    /// added and changed on this machine.
    pub fn action_sources(&self, id: Uuid) -> Result<BTreeSet<Source>, StoreError> {
        Ok(self
            .merge_get(super::merge::FROM_PREFIX, &action_key(id))?
            .unwrap_or_default())
    }

    /// Every action's versions as merged, by id (for checks that a store holds the same
    /// register whatever order batches came in).
    pub fn action_versions(&self) -> Result<BTreeMap<Uuid, ActionVersions>, StoreError> {
        let mut out = BTreeMap::new();
        for entry in self.tree(super::merge::MERGE)?.scan_prefix(ACTION_PREFIX) {
            let (key, value) = entry?;
            let record: ActionVersions = decode(
                || format!("merge record {}", String::from_utf8_lossy(&key)),
                &value,
            )?;
            out.insert(record.id, record);
        }
        Ok(out)
    }
}
