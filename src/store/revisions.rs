//! Revisions finalized on this machine by a release before revisions were recorded as
//! their originals' revisions (`revised\x1f<uuid>` in tree `merge`, see [`super::merge`]).
//!
//! Without that record a revision merged later does not find the one made here, so two
//! revisions of one response would both count. The first open of such a store (and
//! `recover`, whose new store has no mark) passes every revision made here through the
//! same rule a revision finalized today goes through, and marks the store done
//! (`built\x1frevised` in tree `merge`). The rule is idempotent, so doing it again (a
//! crash before the mark) changes nothing; what it writes is derived from the responses,
//! which the journal already holds, so it is not journaled: `recover` replays the same
//! rule from the journal.

use super::merge::MERGE;
use super::replay::Model;
use super::responses::{RESPONSES, key_name};
use super::{Store, StoreError, decode};
use crate::response::{Response, ResponseSummary};

/// Set once every revision made here is recorded as its original's revision.
const REVISED_BUILT: &[u8] = b"built\x1frevised";

impl Store {
    /// Records the revisions made here once, for a store written before they were.
    pub(super) fn ensure_revisions_recorded(&self) -> Result<(), StoreError> {
        if self.tree(MERGE)?.contains_key(REVISED_BUILT)? {
            return Ok(());
        }
        self.record_revisions()?;
        self.flush()
    }

    /// Passes every finalized revision made on this machine through
    /// [`Model::finalized_revision`], then sets the mark.
    pub(super) fn record_revisions(&self) -> Result<(), StoreError> {
        // Summaries first (no answers decoded); the few revisions are then read whole.
        let mut revisions = Vec::new();
        for entry in self.tree(RESPONSES)?.iter() {
            let (key, value) = entry?;
            let Ok(s) = decode::<ResponseSummary>(|| key_name(&key), &value) else {
                continue;
            };
            if s.replaces.is_some() && s.status.is_final() && self.own_response(s.id)? {
                revisions.push(s.id);
            }
        }
        for id in revisions {
            let r: Response = match self.get(id) {
                Ok(r) => r,
                Err(StoreError::NotFound { .. } | StoreError::Corrupt { .. }) => continue,
                Err(e) => return Err(e),
            };
            let mut model = Model::default();
            model.load_revision(self, &r)?;
            model.finalized_revision(&r);
            self.apply_writes(&model.write_set()?, None)?;
        }
        self.tree(MERGE)?.insert(REVISED_BUILT, &[1u8])?;
        Ok(())
    }
}
