//! Building a new action from what an officer gives, shared by `doorstep actions add` and
//! the field app's actions screen so both check the same things with the same words: the
//! area's stored code, the issue from the issue lists, and what an urgent EVA finding fills
//! in (area, period, lead agency, issue, problem).

use std::collections::BTreeSet;

use uuid::Uuid;

use super::{ActionError, SourceFinding};
use crate::geography::{AreaSelection, Geography};
use crate::response::{Period, Response};
use crate::survey::registry::Registry;

/// An issue of the installed surveys' issue lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownIssue {
    pub id: String,
    /// Its label in English, as the report names it.
    pub label: String,
    /// The EVA items (question ids) that observe it.
    pub eva_items: Vec<String>,
}

/// Every issue in the issue lists of `registry`'s surveys, first listing first.
pub fn known_issues(registry: &Registry) -> Vec<KnownIssue> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for e in registry.entries() {
        for i in &e.survey.taxonomy.issues {
            if seen.insert(i.id.clone()) {
                out.push(KnownIssue {
                    id: i.id.clone(),
                    label: i.label.get("en").to_owned(),
                    eva_items: i.eva_items.clone(),
                });
            }
        }
    }
    out
}

/// Refuses an issue id that is in no issue list (an empty one is left for
/// [`super::Action::new`] to name).
pub fn check_issue(issue: &str, known: &[KnownIssue]) -> Result<(), ActionError> {
    if issue.trim().is_empty() || known.iter().any(|k| k.id == issue.trim()) {
        return Ok(());
    }
    Err(ActionError::UnknownIssue {
        input: issue.to_owned(),
        known: known
            .iter()
            .map(|k| k.id.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// The stored code of the ward, priority action area or LSOA `input` names.
pub fn area_code(geography: &Geography, input: &str) -> Result<String, ActionError> {
    if input.trim().is_empty() {
        return Err(ActionError::Empty {
            flag: "--area",
            what: "the ward or priority action area code",
        });
    }
    match geography.select(input) {
        Some(AreaSelection::Area { area, .. }) => Ok(area.code),
        Some(AreaSelection::Township(t)) => Err(ActionError::TownshipArea {
            input: input.trim().to_owned(),
            name: t.name,
        }),
        None => Err(ActionError::UnknownArea(input.trim().to_owned())),
    }
}

/// The period typed for `--period`; empty is refused with what to give.
pub fn period(input: Option<&str>) -> Result<Period, ActionError> {
    match input.map(str::trim).filter(|p| !p.is_empty()) {
        None => Err(ActionError::Empty {
            flag: "--period",
            what: "the period of the priority, such as 2026-Q4",
        }),
        Some(p) => p
            .parse::<Period>()
            .map_err(|e| ActionError::BadPeriod(e.to_string())),
    }
}

/// What an urgent EVA finding fills in of a new action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingPrefill {
    pub area: String,
    pub period: Period,
    /// The agency the auditor named for it.
    pub lead: Option<String>,
    /// The issue whose EVA items include the finding's item.
    pub issue: Option<String>,
    /// "EVA finding on ITEM, at LOCATION, NOTE".
    pub problem: String,
    pub source: SourceFinding,
}

/// What the finding on `item` of `response` fills in; `reference` is the `RESPONSE/ITEM`
/// as typed, for the message when the response has no finding on that item.
pub fn from_finding(
    reference: &str,
    response: &Response,
    item: &str,
    known: &[KnownIssue],
) -> Result<FindingPrefill, ActionError> {
    let Some(f) = response.findings.get(item) else {
        return Err(ActionError::NoSuchFinding {
            reference: reference.trim().to_owned(),
            response: response.id,
            item: item.to_owned(),
            has: response.findings.keys().cloned().collect(),
        });
    };
    let mut words = vec![format!("EVA finding on {item}")];
    words.extend(f.location.as_ref().map(|l| format!("at {l}")));
    words.extend(f.note.clone());
    Ok(FindingPrefill {
        area: response.area.clone(),
        period: response.period,
        lead: f.agency.clone(),
        issue: known
            .iter()
            .find(|k| k.eva_items.iter().any(|i| i == item))
            .map(|k| k.id.clone()),
        problem: words.join(", "),
        source: SourceFinding {
            response: response.id,
            item: item.to_owned(),
            location: f.location.clone(),
        },
    })
}

/// Lists the items that have findings, for [`ActionError::NoSuchFinding`].
pub(super) fn items_with_findings(has: &[String]) -> String {
    if has.is_empty() {
        String::new()
    } else {
        format!(" (it has findings on {})", has.join(", "))
    }
}

/// A re-audit named by the start of its id is stored under its whole id: `resolve` finds
/// it (in the store) or says why not.
pub fn with_whole_reaudit_id(
    evidence: super::Evidence,
    input: &str,
    resolve: impl FnOnce(&str) -> Result<Uuid, String>,
) -> Result<super::Evidence, ActionError> {
    match evidence {
        super::Evidence::Reaudit { response, grade } => {
            let id = resolve(&response).map_err(|reason| ActionError::BadEvidence {
                input: input.to_owned(),
                reason,
            })?;
            Ok(super::Evidence::Reaudit {
                response: id.to_string(),
                grade,
            })
        }
        other => Ok(other),
    }
}
