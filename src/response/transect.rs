//! EVA transects over time: audits that name the same transect id (EVA version 2 on) are
//! the same stretch of street, so a re-audit is compared with the audit before it.

use super::{Response, StoredAnswer};
use crate::survey::Answer;

/// The question that holds the transect id in EVA surveys.
pub const TRANSECT_QUESTION: &str = "transect_id";

/// The transect id an audit names, as compared: trimmed, case and inner spacing ignored
/// ("pem-014 " and "PEM-014" are one transect). `None` for audits without one (EVA v1).
pub fn transect_id(r: &Response) -> Option<String> {
    match &r.answers.get(TRANSECT_QUESTION)?.value {
        StoredAnswer::Plain(Answer::Text(t)) => {
            let id: String = t
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_uppercase();
            (!id.is_empty()).then_some(id)
        }
        _ => None,
    }
}

/// The latest audit of the same transect started before `audit`, among `others` (the
/// "before" of a before-and-after comparison). Audits of any version of the same survey
/// count: the transect id is what links them.
pub fn earlier_audit<'a>(audit: &Response, others: &'a [Response]) -> Option<&'a Response> {
    let id = transect_id(audit)?;
    others
        .iter()
        .filter(|o| o.id != audit.id && o.started_at < audit.started_at)
        .filter(|o| o.survey_id == audit.survey_id)
        .filter(|o| transect_id(o).as_deref() == Some(id.as_str()))
        .max_by_key(|o| o.started_at)
}
