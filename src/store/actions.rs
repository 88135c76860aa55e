//! The action register in the store: tree `actions`, one record per action keyed by its
//! id. Adding an action journals the whole record; each later change journals only the
//! change, which replay applies to the record (see [`super::replay`]).

use uuid::Uuid;

use super::responses::IdPrefix;
use super::{JournalEntry, Store, StoreError, Tree, Write, decode, encode};
use crate::action::{Action, Change};

pub(super) const ACTIONS: &str = "actions";

/// Every readable action, oldest first, and the records that could not be read.
#[derive(Debug, Default)]
pub struct ActionListing {
    pub actions: Vec<Action>,
    pub unreadable: Vec<StoreError>,
}

impl Store {
    /// Stores a new (already checked) action, journaled (on disk before it returns).
    pub fn add_action(&self, action: &Action) -> Result<(), StoreError> {
        let _guard = self.write_guard();
        let entry = JournalEntry::ActionAdded(action.clone());
        self.journaled(&entry, || self.put_action(action))
    }

    /// Checks `change` against the stored action and records it, journaled (on disk before it returns).
    /// A refused change writes nothing.
    pub fn update_action(&self, id: Uuid, change: Change) -> Result<Action, StoreError> {
        let _guard = self.write_guard();
        let mut action = self.action(id)?;
        let change = action.check(change)?;
        action.apply(change.clone());
        let entry = JournalEntry::ActionChanged { id, change };
        self.journaled(&entry, || self.put_action(&action))?;
        Ok(action)
    }

    /// One action.
    pub fn action(&self, id: Uuid) -> Result<Action, StoreError> {
        match self.read(ACTIONS, id.as_bytes())? {
            Some(bytes) => decode(|| format!("action {id}"), &bytes),
            None => Err(StoreError::NoSuchAction {
                input: id.to_string(),
            }),
        }
    }

    /// Every action (ids are UUID v7, so key order is the order they were added).
    pub fn actions(&self) -> Result<ActionListing, StoreError> {
        let mut out = ActionListing::default();
        for item in self.tree(ACTIONS)?.iter() {
            let (key, bytes) = item?;
            let name = || format!("action {}", Uuid::from_slice(&key).unwrap_or_default());
            match decode::<Action>(name, &bytes) {
                Ok(a) => out.actions.push(a),
                Err(e) => out.unreadable.push(e),
            }
        }
        Ok(out)
    }

    /// The action whose id is `input` or starts with it (hex digits, dashes ignored).
    pub fn resolve_action_id(&self, input: &str) -> Result<Uuid, StoreError> {
        match self.ids_starting(ACTIONS, input)? {
            IdPrefix::Bad => Err(StoreError::BadActionId {
                input: input.to_owned(),
            }),
            IdPrefix::One(id) => Ok(id),
            IdPrefix::None { .. } => Err(StoreError::NoSuchAction {
                input: input.trim().to_owned(),
            }),
            IdPrefix::Many(ids) => Err(StoreError::AmbiguousAction {
                prefix: input.trim().to_owned(),
                ids,
            }),
        }
    }

    /// Writes an action, with the index of what is not yet exported.
    pub(super) fn put_action(&self, action: &Action) -> Result<(), StoreError> {
        let write = Write::put(
            Tree::Actions,
            action.id.as_bytes().to_vec(),
            encode(action)?,
        );
        self.apply_writes(&[write], None)
    }
}
