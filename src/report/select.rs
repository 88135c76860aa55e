//! Which responses a report counts: the one place that decides, so that counting the active
//! side of unresolved merge conflicts is one change here when merging lands.

use std::collections::BTreeSet;

use uuid::Uuid;

use crate::response::{Response, Status};

/// The responses to count, and what was left aside.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Active<'a> {
    /// Finished responses (complete or refused), the latest revision of each, oldest first.
    pub responses: Vec<&'a Response>,
    /// Merge conflicts still unresolved (their active side is in `responses`). The store
    /// keeps no conflicts yet, so this is 0.
    pub unresolved_conflicts: u64,
}

/// The latest finished revision of every response. A revision names the response it
/// replaces; the replaced one drops out once the revision is finished as complete or
/// refused (a draft or abandoned revision leaves the original standing). Drafts and
/// abandoned responses are never counted.
pub fn active_responses(all: &[Response]) -> Active<'_> {
    let counted = |r: &Response| matches!(r.status, Status::Complete | Status::Refused);
    let replaced: BTreeSet<Uuid> = all
        .iter()
        .filter(|r| counted(r))
        .filter_map(|r| r.replaces)
        .collect();
    Active {
        responses: all
            .iter()
            .filter(|r| counted(r) && !replaced.contains(&r.id))
            .collect(),
        unresolved_conflicts: 0,
    }
}
