//! What changed since the compared period, and which issues persist.

use std::collections::BTreeMap;

use super::figure::{LOW_BASE, Rules, Tally};
use super::issues::{IssueTallies, label};
use super::model::{Change, Changes, IssueChange};
use super::wilson::overlap;
use crate::response::Period;
use crate::survey::Taxonomy;

/// The area's issue counts in every period it has interviews in.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub periods: BTreeMap<Period, IssueTallies>,
}

impl History {
    /// How many consecutive periods, ending with `period`, had `issue` among the three most
    /// named. A period without interviews breaks the run.
    pub fn consecutive(&self, issue: &str, period: Period) -> u32 {
        let mut n = 0;
        let mut p = period;
        while let Some(t) = self.periods.get(&p) {
            if !t.most_named().contains(issue) {
                break;
            }
            n += 1;
            p = p.previous();
        }
        n
    }
}

/// The change between two shares of interviews naming an issue.
pub fn change(now: Tally, before: Option<Tally>) -> Change {
    let Some(before) = before.filter(|b| b.base > 0) else {
        return Change::NotComparable;
    };
    if now.count > 0 && before.count == 0 {
        return Change::New;
    }
    if now.base < LOW_BASE || before.base < LOW_BASE {
        return Change::NotComparable;
    }
    match (now.interval(), before.interval()) {
        (Some(a), Some(b)) if !overlap(a, b) => {
            if a.0 > b.1 {
                Change::Up
            } else {
                Change::Down
            }
        }
        _ => Change::Same,
    }
}

pub fn changes(
    now: &IssueTallies,
    history: &History,
    period: Period,
    compare: Option<Period>,
    taxonomy: &Taxonomy,
    rules: &Rules,
) -> Changes {
    let empty = IssueTallies::default();
    let before = compare.map(|p| history.periods.get(&p).unwrap_or(&empty));
    let mut ids: Vec<String> = now.issues.iter().map(|t| t.issue.clone()).collect();
    let mut earlier: Vec<String> = before
        .map(|b| {
            b.issues
                .iter()
                .filter(|t| !ids.contains(&t.issue))
                .map(|t| t.issue.clone())
                .collect()
        })
        .unwrap_or_default();
    earlier.sort();
    ids.extend(earlier);
    let issues = ids
        .iter()
        .map(|id| {
            let n = Tally::new(now.get(id).map_or(0, |t| t.named.all), now.interviews.all);
            let b =
                before.map(|b| Tally::new(b.get(id).map_or(0, |t| t.named.all), b.interviews.all));
            let run = history.consecutive(id, period);
            IssueChange {
                issue: id.clone(),
                label: label(taxonomy, id),
                now: rules.figure(n),
                before: rules.figure(b.unwrap_or_default()),
                change: change(n, b),
                consecutive_periods: run,
                persisting: run >= 2,
            }
        })
        .collect();
    Changes {
        compared_with: compare,
        interviews_before: rules.count(before.map_or(0, |b| b.interviews.all)),
        issues,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_needs_two_bases_of_thirty_and_apart_intervals() {
        // 20/40 (0.3520–0.6480) against 5/40 (0.0546–0.2611): apart, so up.
        assert_eq!(
            change(Tally::new(20, 40), Some(Tally::new(5, 40))),
            Change::Up
        );
        assert_eq!(
            change(Tally::new(5, 40), Some(Tally::new(20, 40))),
            Change::Down
        );
        // 12/40 (0.1807–0.4543) against 8/40 (0.1050–0.3476): overlap, so same.
        assert_eq!(
            change(Tally::new(12, 40), Some(Tally::new(8, 40))),
            Change::Same
        );
        // 20/29 against 2/40 would be far apart, but a base is under 30.
        assert_eq!(
            change(Tally::new(20, 29), Some(Tally::new(2, 40))),
            Change::NotComparable
        );
        // Named now by anyone, by nobody before: new, whatever the bases.
        assert_eq!(
            change(Tally::new(1, 10), Some(Tally::new(0, 12))),
            Change::New
        );
        // No interviews before, or no compared period: nothing to compare.
        assert_eq!(
            change(Tally::new(3, 10), Some(Tally::new(0, 0))),
            Change::NotComparable
        );
        assert_eq!(change(Tally::new(3, 10), None), Change::NotComparable);
    }
}
