//! The proposed top three: a priority score over what people said, what the street showed,
//! what police recorded and whether the issue keeps coming back (the formula is
//! [`super::PRIORITY_FORMULA`], printed in the pack and the README).

use super::figure::Rules;
use super::issues::IssueTallies;
use super::model::{Changes, Figure, Priority, ScoreParts};
use super::record::RecordRow;

pub const W_NAMED: f64 = 40.0;
pub const W_FIRST: f64 = 20.0;
pub const W_STREET: f64 = 15.0;
pub const W_RECORDED: f64 = 15.0;
pub const W_PERSISTING: f64 = 10.0;

/// The score parts of one issue.
pub fn parts(
    named: u64,
    first: u64,
    interviews: u64,
    street_share: f64,
    recorded_share: f64,
    persisting: bool,
) -> ScoreParts {
    let share = |n: u64| {
        if interviews == 0 {
            0.0
        } else {
            n as f64 / interviews as f64
        }
    };
    ScoreParts {
        named: W_NAMED * share(named),
        ranked_first: W_FIRST * share(first),
        street: W_STREET * street_share,
        recorded: W_RECORDED * recorded_share,
        persisting: if persisting { W_PERSISTING } else { 0.0 },
    }
}

impl ScoreParts {
    pub fn total(&self) -> f64 {
        self.named + self.ranked_first + self.street + self.recorded + self.persisting
    }
}

/// "45% (18 of 40)", or "fewer than 5" / "hidden" where the public pack hides it.
fn share_words(f: &Figure, rules: &Rules) -> String {
    match (f.fraction, f.count, f.base) {
        (Some(x), Some(n), Some(b)) => format!("{:.0}% ({n} of {b})", x * 100.0),
        _ if f.suppressed => format!("a share hidden under the {}-count rule", rules.threshold),
        _ => "none".to_owned(),
    }
}

/// The top three issues by score (ties: more named first, then issue id), among issues
/// named at least once.
pub fn top_three(
    tallies: &IssueTallies,
    record: &[RecordRow],
    changes: &Changes,
    rules: &Rules,
) -> Vec<Priority> {
    let interviews = tallies.interviews.all;
    let mut scored: Vec<(f64, u64, String, ScoreParts, String, bool)> = tallies
        .issues
        .iter()
        .map(|t| {
            let row = record.iter().find(|r| r.row.issue == t.issue);
            let change = changes.issues.iter().find(|c| c.issue == t.issue);
            let persisting = change.is_some_and(|c| c.persisting);
            let p = parts(
                t.named.all,
                t.first.all,
                interviews,
                row.map_or(0.0, |r| r.street_share),
                row.map_or(0.0, |r| r.recorded_share),
                persisting,
            );
            let mut why = Vec::new();
            let named = rules.figure(super::Tally::new(t.named.all, interviews));
            let first = rules.figure(super::Tally::new(t.first.all, interviews));
            why.push(format!("named by {}", share_words(&named, rules)));
            if t.first.all > 0 {
                why.push(format!("ranked first by {}", share_words(&first, rules)));
            }
            let hidden = named.suppressed || first.suppressed;
            if let Some(r) = row {
                if r.row.transects_with_evidence > 0 {
                    why.push(format!(
                        "seen on {} of {} audited transects",
                        r.row.transects_with_evidence, r.row.transects_audited
                    ));
                }
                if let Some(n) = r.row.recorded.filter(|n| *n > 0) {
                    why.push(format!("{n} recorded by police"));
                }
            }
            if let Some(c) = change.filter(|c| c.persisting) {
                why.push(format!(
                    "among the most named {} periods running",
                    c.consecutive_periods
                ));
            }
            (
                p.total(),
                t.named.all,
                t.issue.clone(),
                p,
                why.join("; "),
                hidden,
            )
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    scored
        .into_iter()
        .take(3)
        .enumerate()
        .map(|(i, (score, _, issue, parts, why, hidden))| Priority {
            rank: i as u32 + 1,
            label: label_of(&issue, record),
            issue,
            score: (!hidden).then_some(score),
            parts: (!hidden).then_some(parts),
            suppressed: hidden,
            why,
        })
        .collect()
}

/// The label the street-and-record row carries (every named issue has one).
fn label_of(issue: &str, record: &[RecordRow]) -> String {
    record
        .iter()
        .find(|r| r.row.issue == issue)
        .map_or_else(|| issue.to_owned(), |r| r.row.label.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_add_up_by_the_formula() {
        // 18 of 40 named it, 8 of 40 ranked it first, 3 of 4 transects showed it, 12 of 48
        // recorded crimes are its own category, persisting.
        let p = parts(18, 8, 40, 0.75, 0.25, true);
        assert_eq!(p.named, 18.0);
        assert_eq!(p.ranked_first, 4.0);
        assert_eq!(p.street, 11.25);
        assert_eq!(p.recorded, 3.75);
        assert_eq!(p.persisting, 10.0);
        assert_eq!(p.total(), 47.0);
        assert_eq!(parts(0, 0, 0, 0.0, 0.0, false).total(), 0.0);
    }
}
