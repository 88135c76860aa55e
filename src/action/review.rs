//! Scrutiny (the PACT cycle, step 5): for each area and period, what is due, what is
//! overdue and by how long, what was done, what was not possible and why, how each agency
//! and owner stands, which escalations are open, and which issues residents keep raising
//! with no action done. Pure: the caller passes the register, the areas and the issues
//! the report model found persisting.

use chrono::NaiveDate;

use super::{Action, ActionStatus, Overdue};
use crate::report::{AreaSpec, IssueChange};
use crate::response::Period;

/// One area's review.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaReview {
    pub code: String,
    pub name: String,
    /// Live actions not yet past their due date, soonest first.
    pub due: Vec<Action>,
    /// Live actions past their due date, longest overdue first.
    pub overdue: Vec<(Action, Overdue)>,
    pub done: Vec<Action>,
    pub not_possible: Vec<Action>,
    /// Actions escalated and not since resolved.
    pub escalations: Vec<Action>,
    pub by_agency: Vec<AgencyRow>,
    /// Issues among the area's most named in 2 or more consecutive periods with no action
    /// on them done in the area.
    pub recurring: Vec<Recurring>,
}

impl AreaReview {
    pub fn is_empty(&self) -> bool {
        self.due.is_empty()
            && self.overdue.is_empty()
            && self.done.is_empty()
            && self.not_possible.is_empty()
            && self.recurring.is_empty()
    }
}

/// How one lead agency and owner stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyRow {
    pub lead: String,
    pub owner: String,
    pub actions: usize,
    pub done: usize,
    pub overdue: usize,
    pub not_possible: usize,
    pub escalated: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurring {
    pub issue: String,
    pub label: String,
    /// Consecutive periods, ending with the one reviewed, it was among the most named.
    pub periods: u32,
    /// Actions on it in the area that are not done (open, in progress, escalated, not
    /// possible).
    pub actions_not_done: usize,
}

/// The review of `area` for the priorities of `period`, on `today` (UK date). `changes`
/// is the report model's issue changes for the same area and period.
pub fn review_area(
    area: &AreaSpec,
    actions: &[Action],
    period: Period,
    today: NaiveDate,
    changes: &[IssueChange],
) -> AreaReview {
    let here: Vec<&Action> = actions
        .iter()
        .filter(|a| area.holds(&a.priority.area))
        .collect();
    let now: Vec<&Action> = here
        .iter()
        .copied()
        .filter(|a| a.priority.period == period)
        .collect();
    let mut due: Vec<Action> = now
        .iter()
        .filter(|a| a.status.is_live() && a.overdue(today).is_none())
        .map(|a| (*a).clone())
        .collect();
    due.sort_by_key(|a| (a.due, a.id));
    let mut overdue: Vec<(Action, Overdue)> = now
        .iter()
        .filter_map(|a| a.overdue(today).map(|o| ((*a).clone(), o)))
        .collect();
    overdue.sort_by_key(|(a, o)| (std::cmp::Reverse(o.days), a.id));
    let with = |s: ActionStatus| -> Vec<Action> {
        now.iter()
            .filter(|a| a.status == s)
            .map(|a| (*a).clone())
            .collect()
    };
    let mut by_agency: Vec<AgencyRow> = Vec::new();
    for a in &now {
        let row = match by_agency
            .iter_mut()
            .find(|r| r.lead == a.lead && r.owner == a.owner)
        {
            Some(r) => r,
            None => {
                by_agency.push(AgencyRow {
                    lead: a.lead.clone(),
                    owner: a.owner.clone(),
                    actions: 0,
                    done: 0,
                    overdue: 0,
                    not_possible: 0,
                    escalated: 0,
                });
                let last = by_agency.len() - 1;
                &mut by_agency[last]
            }
        };
        row.actions += 1;
        row.done += usize::from(a.status == ActionStatus::Done);
        row.not_possible += usize::from(a.status == ActionStatus::NotPossible);
        row.escalated += usize::from(a.status == ActionStatus::Escalated);
        row.overdue += usize::from(a.overdue(today).is_some());
    }
    by_agency.sort_by(|x, y| (&x.lead, &x.owner).cmp(&(&y.lead, &y.owner)));
    // Actions of this period and earlier ones count: an issue dealt with last quarter is
    // not "no action done".
    let recurring = changes
        .iter()
        .filter(|c| c.persisting)
        .filter(|c| {
            !here.iter().any(|a| {
                a.priority.issue == c.issue
                    && a.priority.period <= period
                    && a.status == ActionStatus::Done
            })
        })
        .map(|c| Recurring {
            issue: c.issue.clone(),
            label: c.label.clone(),
            periods: c.consecutive_periods,
            actions_not_done: here
                .iter()
                .filter(|a| a.priority.issue == c.issue && a.priority.period <= period)
                .count(),
        })
        .collect();
    AreaReview {
        code: area.code.clone(),
        name: area.name.clone(),
        due,
        overdue,
        done: with(ActionStatus::Done),
        not_possible: with(ActionStatus::NotPossible),
        escalations: with(ActionStatus::Escalated),
        by_agency,
        recurring,
    }
}

/// One ward's year: priorities set and actions completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearRow {
    pub code: String,
    pub name: String,
    /// Distinct (issue, period) priorities with at least one action.
    pub priorities: usize,
    pub actions: usize,
    pub done: usize,
    pub not_possible: usize,
    /// Live and past due on `today`.
    pub overdue: usize,
}

/// Ward by ward, the actions of every period of `year`.
pub fn year_summary(
    wards: &[AreaSpec],
    actions: &[Action],
    year: i32,
    today: NaiveDate,
) -> Vec<YearRow> {
    wards
        .iter()
        .map(|w| {
            let mine: Vec<&Action> = actions
                .iter()
                .filter(|a| a.priority.period.year() == year && w.holds(&a.priority.area))
                .collect();
            let mut priorities: Vec<(&str, Period)> = mine
                .iter()
                .map(|a| (a.priority.issue.as_str(), a.priority.period))
                .collect();
            priorities.sort();
            priorities.dedup();
            YearRow {
                code: w.code.clone(),
                name: w.name.clone(),
                priorities: priorities.len(),
                actions: mine.len(),
                done: mine
                    .iter()
                    .filter(|a| a.status == ActionStatus::Done)
                    .count(),
                not_possible: mine
                    .iter()
                    .filter(|a| a.status == ActionStatus::NotPossible)
                    .count(),
                overdue: mine.iter().filter(|a| a.overdue(today).is_some()).count(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::action::{Change, NewAction, Priority};
    use crate::geography::{AreaRef, AreaSelection, Level};
    use crate::report::{AreaLevel, Figure};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn ward(code: &str, paas: &[&str]) -> AreaSpec {
        let mut members = BTreeSet::from([code.to_owned()]);
        members.extend(paas.iter().map(|p| (*p).to_owned()));
        AreaSpec {
            code: code.into(),
            name: format!("Ward {code}"),
            level: AreaLevel::Ward,
            parent: None,
            members,
            crime: AreaSelection::Area {
                level: Level::Ward,
                area: AreaRef {
                    code: code.into(),
                    name: code.into(),
                },
            },
        }
    }

    fn action(
        n: u128,
        area: &str,
        issue: &str,
        period: &str,
        lead: &str,
        due: NaiveDate,
    ) -> Action {
        Action::new(
            Uuid::from_u128(n),
            NewAction {
                priority: Priority {
                    issue: issue.into(),
                    area: area.into(),
                    period: period.parse().unwrap(),
                },
                problem: None,
                action: format!("action {n}"),
                lead: lead.into(),
                owner: "NM".into(),
                support: vec![],
                agreed: d(2026, 1, 1),
                due,
                source: None,
            },
            Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap(),
            "PC 1",
        )
        .unwrap()
    }

    fn set(a: &mut Action, s: ActionStatus, note: Option<&str>) {
        let mut c = Change::new(Utc.with_ymd_and_hms(2026, 2, 1, 9, 0, 0).unwrap(), "PC 1");
        c.status = Some(s);
        c.note = note.map(str::to_owned);
        a.update(c).unwrap();
    }

    fn persisting(issue: &str, periods: u32) -> IssueChange {
        IssueChange {
            issue: issue.into(),
            label: issue.to_uppercase(),
            now: Figure::default(),
            before: Figure::default(),
            change: crate::report::Change::Same,
            consecutive_periods: periods,
            persisting: periods >= 2,
        }
    }

    #[test]
    fn sections_by_status_due_date_and_area() {
        let today = d(2026, 12, 1);
        let q4 = "2026-Q4";
        let mut done = action(1, "W1", "litter", q4, "Council", d(2026, 11, 1));
        set(&mut done, ActionStatus::Done, None);
        let late_long = action(2, "PAA1", "drugs", q4, "Police", d(2026, 10, 31)); // 31 days
        let late_short = action(3, "W1", "drugs", q4, "Police", d(2026, 11, 30)); // 1 day
        let not_yet = action(4, "W1", "parking", q4, "Council", d(2026, 12, 1)); // due today
        let mut impossible = action(5, "W1", "parking", q4, "Council", d(2026, 11, 1));
        set(
            &mut impossible,
            ActionStatus::NotPossible,
            Some("private land"),
        );
        let other_ward = action(6, "W2", "litter", q4, "Council", d(2026, 10, 1));
        let other_period = action(7, "W1", "litter", "2026-Q3", "Council", d(2026, 8, 1));
        let all = vec![
            done,
            late_long,
            late_short,
            not_yet,
            impossible,
            other_ward,
            other_period,
        ];
        let r = review_area(
            &ward("W1", &["PAA1"]),
            &all,
            q4.parse().unwrap(),
            today,
            &[
                persisting("litter", 3),
                persisting("drugs", 2),
                persisting("noise", 1),
            ],
        );
        assert_eq!(
            r.due.iter().map(|a| a.id.as_u128()).collect::<Vec<_>>(),
            [4]
        );
        assert_eq!(
            r.overdue
                .iter()
                .map(|(a, o)| (a.id.as_u128(), o.days))
                .collect::<Vec<_>>(),
            [(2, 31), (3, 1)]
        );
        // A month after 31 October is 30 November (no 31st); 1 December is a day later.
        assert_eq!(r.overdue[0].1.to_string(), "1 month 1 day");
        assert_eq!(r.done.len(), 1);
        assert_eq!(
            r.not_possible[0].reason_not_possible(),
            Some("private land")
        );
        assert_eq!(
            r.by_agency,
            vec![
                AgencyRow {
                    lead: "Council".into(),
                    owner: "NM".into(),
                    actions: 3,
                    done: 1,
                    overdue: 0,
                    not_possible: 1,
                    escalated: 0
                },
                AgencyRow {
                    lead: "Police".into(),
                    owner: "NM".into(),
                    actions: 2,
                    done: 0,
                    overdue: 2,
                    not_possible: 0,
                    escalated: 0
                },
            ]
        );
        // Litter had an action done; drugs persists with two actions not done; noise was
        // raised in one period only.
        assert_eq!(
            r.recurring,
            vec![Recurring {
                issue: "drugs".into(),
                label: "DRUGS".into(),
                periods: 2,
                actions_not_done: 2
            }]
        );
    }

    #[test]
    fn the_year_counts_priorities_and_completions_per_ward() {
        let mut a = action(1, "W1", "litter", "2026-Q1", "C", d(2026, 3, 1));
        set(&mut a, ActionStatus::Done, None);
        let b = action(2, "PAA1", "litter", "2026-Q1", "C", d(2026, 3, 1));
        let c = action(3, "W1", "drugs", "2026-Q3", "P", d(2026, 9, 1));
        let e = action(4, "W1", "drugs", "2027-Q1", "P", d(2027, 3, 1));
        let rows = year_summary(
            &[ward("W1", &["PAA1"]), ward("W2", &[])],
            &[a, b, c, e],
            2026,
            d(2026, 12, 1),
        );
        assert_eq!(
            (
                rows[0].priorities,
                rows[0].actions,
                rows[0].done,
                rows[0].overdue
            ),
            (2, 3, 1, 2)
        );
        assert_eq!((rows[1].priorities, rows[1].actions), (0, 0));
    }
}
