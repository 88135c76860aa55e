//! The street and the record: per issue, what EVA transects showed on the items that
//! observe it and what police recorded in the categories mapped to it, and where those
//! disagree with what people said.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::figure::{Rules, Tally};
use super::issues::{IssueTallies, label};
use super::model::{Disagreement, StreetAndRecord};
use super::{AreaPeriod, AreaSpec, Counted, step};
use crate::geography::crime::CrimeRecord;
use crate::response::Period;
use crate::survey::{Answer, Grade, Taxonomy};

/// Named by at least this share of interviews: high concern.
pub const HIGH_CONCERN: f64 = 0.20;
/// Named by less than this share: little concern.
pub const LITTLE_CONCERN: f64 = 0.05;
/// Fewer recorded incidents than this per month: little recorded.
pub const LITTLE_RECORDED_PER_MONTH: f64 = 1.0;
/// At least this many recorded incidents per month: much recorded.
pub const MUCH_RECORDED_PER_MONTH: f64 = 3.0;

/// A row with the raw shares the priority score needs.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordRow {
    pub row: StreetAndRecord,
    /// Share of audited transects with evidence (0 when none audited).
    pub street_share: f64,
    /// The issue's one-to-one recorded count over all recorded crime in the area and months
    /// (0 when not one-to-one or nothing recorded).
    pub recorded_share: f64,
}

/// Whether an answer on an EVA item is evidence of the issue: B− or worse for a grade, a
/// count above zero, a yes.
pub fn is_evidence(a: &Answer) -> bool {
    match a {
        Answer::Grade(g) => *g >= Grade::BMinus,
        Answer::Count(n) => *n > 0,
        Answer::Number(n) => *n > 0.0,
        Answer::YesNo(b) => *b,
        _ => false,
    }
}

/// The one police.uk category that records this issue alone: the issue maps to exactly one
/// category and no other issue maps to it.
pub fn one_to_one<'a>(taxonomy: &'a Taxonomy, issue: &str) -> Option<&'a str> {
    let def = taxonomy.get(issue)?;
    let [category] = def.police_categories.as_slice() else {
        return None;
    };
    let shared = taxonomy
        .issues
        .iter()
        .any(|other| other.id != issue && other.police_categories.contains(category));
    (!shared).then_some(category.as_str())
}

#[allow(clippy::too_many_arguments)]
pub fn street_and_record(
    now: &AreaPeriod,
    tallies: &IssueTallies,
    taxonomy: &Taxonomy,
    crime: &[CrimeRecord],
    spec: &AreaSpec,
    period: Period,
    rules: &Rules,
) -> Vec<RecordRow> {
    let months = period.months();
    let months_with_data: Vec<String> = months
        .iter()
        .filter(|m| crime.iter().any(|r| &r.month == *m))
        .cloned()
        .collect();
    let in_area: Vec<&CrimeRecord> = crime
        .iter()
        .filter(|r| months.contains(&r.month) && r.is_in(&spec.crime))
        .collect();
    let total_recorded = in_area.len() as u64;
    let recorded_in = |category: &str| in_area.iter().filter(|r| r.category == category).count();
    // Issues named, then issues nobody named whose own category recorded something (a
    // hidden problem can only show up here).
    let mut ids: Vec<String> = tallies.issues.iter().map(|t| t.issue.clone()).collect();
    let named: BTreeSet<String> = ids.iter().cloned().collect();
    if !months_with_data.is_empty() {
        for def in &taxonomy.issues {
            if named.contains(&def.id) || ids.contains(&def.id) {
                continue;
            }
            if one_to_one(taxonomy, &def.id).is_some_and(|c| recorded_in(c) > 0) {
                ids.push(def.id.clone());
            }
        }
    }
    let interviews = tallies.interviews.all;
    ids.iter()
        .map(|id| {
            let named_count = tallies.get(id).map_or(0, |t| t.named.all);
            let concern = Tally::new(named_count, interviews);
            let items: Vec<String> = taxonomy
                .get(id)
                .map(|d| d.eva_items.clone())
                .unwrap_or_default();
            let e = now.evidence.get(id);
            let (audited, evidence, urgent) = (e.audited, e.with_evidence, e.urgent);
            let categories = taxonomy
                .get(id)
                .map(|d| d.police_categories.clone())
                .unwrap_or_default();
            let single = one_to_one(taxonomy, id);
            let (recorded, note) = if categories.is_empty() {
                (None, "no police.uk category records this")
            } else if months_with_data.is_empty() {
                (None, "no recorded crime loaded for these months")
            } else if let Some(c) = single {
                (Some(recorded_in(c) as u64), "recorded")
            } else {
                (None, "recorded in related categories")
            };
            let disagreement = recorded.and_then(|n| {
                let per_month = n as f64 / months_with_data.len() as f64;
                let share = concern.fraction()?;
                if share >= HIGH_CONCERN && per_month < LITTLE_RECORDED_PER_MONTH {
                    Some(Disagreement::HighConcernLittleRecorded)
                } else if share < LITTLE_CONCERN && per_month >= MUCH_RECORDED_PER_MONTH {
                    Some(Disagreement::LittleConcernMuchRecorded)
                } else {
                    None
                }
            });
            RecordRow {
                street_share: if audited > 0 {
                    evidence as f64 / audited as f64
                } else {
                    0.0
                },
                recorded_share: match recorded {
                    Some(n) if total_recorded > 0 => n as f64 / total_recorded as f64,
                    _ => 0.0,
                },
                row: StreetAndRecord {
                    issue: id.clone(),
                    label: label(taxonomy, id),
                    concern: rules.figure(concern),
                    eva_items: items,
                    transects_audited: audited,
                    transects_with_evidence: evidence,
                    urgent_findings: urgent,
                    police_categories: categories,
                    recorded,
                    recorded_note: note.to_owned(),
                    months: months_with_data.clone(),
                    disagreement,
                    disagreement_note: disagreement.map(|d| {
                        match d {
                            Disagreement::HighConcernLittleRecorded => {
                                "high concern, little recorded: reassurance and visibility"
                            }
                            Disagreement::LittleConcernMuchRecorded => {
                                "little concern, much recorded: a hidden problem to raise"
                            }
                        }
                        .to_owned()
                    }),
                },
            }
        })
        .collect()
}

/// Transects audited on an issue's EVA items, those with evidence on one of them, and
/// the urgent findings on them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueEvidence {
    pub audited: u64,
    pub with_evidence: u64,
    pub urgent: u64,
}

/// Each issue's [`IssueEvidence`], added to one audit at a time.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Evidence {
    by_issue: BTreeMap<String, IssueEvidence>,
}

impl Evidence {
    /// Counts an audit in (`add`) or back out; `items` are each issue's EVA items.
    pub fn count(&mut self, items: &[(String, Vec<String>)], c: &Counted<'_>, add: bool) {
        for (issue, items) in items {
            let answers: Vec<&Answer> = items.iter().filter_map(|i| c.answer(i)).collect();
            if answers.is_empty() {
                continue;
            }
            let e = self.by_issue.entry(issue.clone()).or_default();
            e.audited = step(e.audited, add);
            if answers.iter().any(|a| is_evidence(a)) {
                e.with_evidence = step(e.with_evidence, add);
            }
            let urgent = items
                .iter()
                .filter(|i| c.response.findings.get(*i).is_some_and(|f| f.urgent))
                .count() as u64;
            e.urgent = if add {
                e.urgent + urgent
            } else {
                e.urgent.saturating_sub(urgent)
            };
        }
    }

    /// Adds the counts of other audits (another area code's) to these.
    pub fn absorb(&mut self, other: &Evidence) {
        for (issue, o) in &other.by_issue {
            let e = self.by_issue.entry(issue.clone()).or_default();
            e.audited += o.audited;
            e.with_evidence += o.with_evidence;
            e.urgent += o.urgent;
        }
    }

    /// The evidence on `issue` (none when it has no EVA items).
    pub fn get(&self, issue: &str) -> IssueEvidence {
        self.by_issue.get(issue).copied().unwrap_or_default()
    }
}
