//! What people told us: per issue, how many named it, ranked it first and put it in their
//! top three, as shares of every interview (those naming nothing included); residents and
//! businesses also apart.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::figure::{Rules, Tally};
use super::model::{IssueGroup, IssueRow, Issues};
use super::{Counted, Respondent, step};
use crate::survey::model::QuestionKind;
use crate::survey::{Answer, Taxonomy};

/// The open question whose answers are coded to the taxonomy (both KIN versions).
pub const ISSUES_QUESTION: &str = "unsafe_issues";

/// What one interview said about issues.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Said {
    /// Issue ids named (taxonomy ids only, each once, in the order coded).
    pub named: Vec<String>,
    /// The issue ranked first, or the only one named.
    pub first: Option<String>,
    /// The issues ranked in the top three, or all named when three or fewer were named
    /// and none ranked.
    pub top_three: Vec<String>,
}

/// Reads an interview's issues answer and ranking.
pub fn said(c: &Counted<'_>, taxonomy: &Taxonomy) -> Said {
    let mut named: Vec<String> = Vec::new();
    if let Some(a @ Answer::Issues(_)) = c.answer(ISSUES_QUESTION) {
        for v in a.values() {
            if taxonomy.get(&v).is_some() && !named.contains(&v) {
                named.push(v);
            }
        }
    }
    let rank_question =
        c.survey.questions.iter().find(
            |q| matches!(&q.kind, QuestionKind::Rank { from, .. } if from == ISSUES_QUESTION),
        );
    let ranked: Vec<String> = match rank_question.and_then(|q| c.answer(&q.id)) {
        Some(Answer::Rank(v)) => v.iter().filter(|i| named.contains(i)).cloned().collect(),
        _ => Vec::new(),
    };
    let (first, top_three) = if !ranked.is_empty() {
        (
            ranked.first().cloned(),
            ranked.into_iter().take(3).collect(),
        )
    } else if named.len() == 1 {
        (named.first().cloned(), named.clone())
    } else if named.len() <= 3 {
        (None, named.clone())
    } else {
        (None, Vec::new())
    };
    Said {
        named,
        first,
        top_three,
    }
}

/// A count among all interviews, residents and businesses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Split {
    pub all: u64,
    pub residents: u64,
    pub businesses: u64,
}

impl Split {
    fn absorb(&mut self, other: Split) {
        self.all += other.all;
        self.residents += other.residents;
        self.businesses += other.businesses;
    }

    fn count(&mut self, who: Respondent, add: bool) {
        self.all = step(self.all, add);
        match who {
            Respondent::Resident => self.residents = step(self.residents, add),
            Respondent::Business => self.businesses = step(self.businesses, add),
            _ => {}
        }
    }
}

/// One issue's counts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IssueTally {
    pub issue: String,
    pub named: Split,
    pub first: Split,
    pub top_three: Split,
}

/// All issue counts of an area and period.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IssueTallies {
    /// The bases: interviews among all, residents, businesses.
    pub interviews: Split,
    pub named_nothing: u64,
    /// Issues named at least once, most named first, then by id.
    pub issues: Vec<IssueTally>,
}

impl IssueTallies {
    pub fn get(&self, issue: &str) -> Option<&IssueTally> {
        self.issues.iter().find(|t| t.issue == issue)
    }

    /// The issues among the three most named (ties at third place included).
    pub fn most_named(&self) -> BTreeSet<&str> {
        let third = self.issues.get(2).map_or(1, |t| t.named.all.max(1));
        self.issues
            .iter()
            .filter(|t| t.named.all >= third)
            .map(|t| t.issue.as_str())
            .collect()
    }
}

/// Issue counts added to (and taken from) one interview at a time.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TallyAcc {
    interviews: Split,
    named_nothing: u64,
    by_issue: BTreeMap<String, IssueTally>,
}

impl TallyAcc {
    /// Counts one interview in (`add`) or takes it back out (an interview counted before
    /// the revision replacing it was read).
    pub fn count(&mut self, who: Respondent, s: &Said, add: bool) {
        self.interviews.count(who, add);
        if s.named.is_empty() {
            self.named_nothing = step(self.named_nothing, add);
        }
        for id in &s.named {
            let t = self.issue(id);
            t.named.count(who, add);
            if s.first.as_deref() == Some(id.as_str()) {
                t.first.count(who, add);
            }
            if s.top_three.contains(id) {
                t.top_three.count(who, add);
            }
        }
    }

    /// Issue `id`'s counts, begun at nothing.
    fn issue(&mut self, id: &str) -> &mut IssueTally {
        self.by_issue
            .entry(id.to_owned())
            .or_insert_with(|| IssueTally {
                issue: id.to_owned(),
                ..IssueTally::default()
            })
    }

    pub fn interviews(&self) -> u64 {
        self.interviews.all
    }

    /// Adds the counts of other interviews (another area code's) to these.
    pub fn absorb(&mut self, other: &TallyAcc) {
        self.interviews.absorb(other.interviews);
        self.named_nothing += other.named_nothing;
        for (id, t) in &other.by_issue {
            let mine = self.issue(id);
            mine.named.absorb(t.named);
            mine.first.absorb(t.first);
            mine.top_three.absorb(t.top_three);
        }
    }

    /// The tallies: issues named at least once, most named first, then by id.
    pub fn finish(self) -> IssueTallies {
        let mut issues: Vec<IssueTally> = self
            .by_issue
            .into_values()
            .filter(|t| t.named.all > 0)
            .collect();
        issues.sort_by(|a, b| b.named.all.cmp(&a.named.all).then(a.issue.cmp(&b.issue)));
        IssueTallies {
            interviews: self.interviews,
            named_nothing: self.named_nothing,
            issues,
        }
    }
}

/// An issue's English label (its id when the taxonomy does not know it).
pub fn label(taxonomy: &Taxonomy, issue: &str) -> String {
    taxonomy
        .get(issue)
        .map_or_else(|| issue.to_owned(), |d| d.label.get("en").to_owned())
}

/// Whether a figure of `count` out of `base` is hidden by the primary rule.
fn hides(rules: &Rules, count: u64, base: u64) -> bool {
    rules.is_small(base) || rules.is_small(count) || rules.is_small(base - count.min(base))
}

/// The issue tables; `hidden_types` says which respondent-type totals are hidden (see
/// [`super::AreaPeriod::hidden_types`]): a hidden group's figures are hidden whole.
pub fn tables(
    t: &IssueTallies,
    taxonomy: &Taxonomy,
    rules: &Rules,
    hidden_types: &[bool],
) -> Issues {
    let base = t.interviews;
    let residents_hidden = hidden_types.first().copied().unwrap_or(false);
    let businesses_hidden = hidden_types.get(1).copied().unwrap_or(false);
    let mut all = Vec::new();
    let mut residents = Vec::new();
    let mut businesses = Vec::new();
    for it in &t.issues {
        let label = label(taxonomy, &it.issue);
        // Residents and businesses: when one side is hidden and the other shown, hide both,
        // or the hidden one is the whole less the shown one (where no one else named it).
        let pair = |s: Split| {
            let r = residents_hidden || hides(rules, s.residents, base.residents);
            let b = businesses_hidden || hides(rules, s.businesses, base.businesses);
            let both = r || b;
            let figure = |count: u64, base: u64, whole: bool| {
                if whole {
                    rules.figure_whole_hidden(Tally::new(count, base))
                } else {
                    rules.figure_hidden(Tally::new(count, base), both)
                }
            };
            (
                figure(s.residents, base.residents, residents_hidden),
                figure(s.businesses, base.businesses, businesses_hidden),
            )
        };
        let (rn, bn) = pair(it.named);
        let (rf, bf) = pair(it.first);
        let (rt, bt) = pair(it.top_three);
        all.push(IssueRow {
            issue: it.issue.clone(),
            label: label.clone(),
            named: rules.figure(Tally::new(it.named.all, base.all)),
            ranked_first: rules.figure(Tally::new(it.first.all, base.all)),
            top_three: rules.figure(Tally::new(it.top_three.all, base.all)),
        });
        residents.push(IssueRow {
            issue: it.issue.clone(),
            label: label.clone(),
            named: rn,
            ranked_first: rf,
            top_three: rt,
        });
        businesses.push(IssueRow {
            issue: it.issue.clone(),
            label,
            named: bn,
            ranked_first: bf,
            top_three: bt,
        });
    }
    Issues {
        interviews: rules.count(base.all),
        named_nothing: rules.count(t.named_nothing),
        all,
        residents: IssueGroup {
            interviews: rules.count_hidden(base.residents, residents_hidden),
            rows: residents,
        },
        businesses: IssueGroup {
            interviews: rules.count_hidden(base.businesses, businesses_hidden),
            rows: businesses,
        },
    }
}
