//! The action register of local tasking (the PACT cycle, step 4): each agreed priority gets
//! actions with a lead agency, a named owner or role and a target date; every change of
//! status is kept with when and who, so scrutiny can see what is due, overdue or stuck, and
//! only the approved plain-language line ever goes public ("You said, We did").
//!
//! Pure domain code: no store, no terminal. Dates are UK local dates (the meeting's), so
//! "overdue" is counted from [`crate::response::Env::today`].

pub mod build;
pub mod review;
pub mod yousaid;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::exit;
use crate::response::Period;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    #[error("{flag} is empty: give {what}")]
    Empty {
        flag: &'static str,
        what: &'static str,
    },
    #[error("no area with code `{0}` (see `doorstep areas list --tree`)")]
    UnknownArea(String),
    #[error(
        "--area {input}: `{name}` is a township; give the ward or priority action area the action serves"
    )]
    TownshipArea { input: String, name: String },
    #[error("{0}")]
    BadPeriod(String),
    #[error(
        "--from-finding {reference}: response {response} has no finding on item `{item}`{}",
        build::items_with_findings(has)
    )]
    NoSuchFinding {
        reference: String,
        response: Uuid,
        item: String,
        has: Vec<String>,
    },
    #[error("no issue `{input}` in the issue list (known: {known})")]
    UnknownIssue { input: String, known: String },
    #[error("bad date `{input}` for {flag}: expected YEAR-MM-DD, such as 2026-11-30")]
    BadDate { flag: &'static str, input: String },
    #[error("the due date {due} is before the agreed date {agreed}")]
    DueBeforeAgreed { agreed: NaiveDate, due: NaiveDate },
    #[error("unknown status `{0}`: expected open, in_progress, done, not_possible or escalated")]
    BadStatus(String),
    #[error("action {id} is done: reopening it as {to} needs --note saying why")]
    ReopenWithoutNote { id: Uuid, to: ActionStatus },
    #[error("not_possible needs --note giving the reason")]
    NotPossibleWithoutReason,
    #[error("escalated needs --escalate-to (to whom) and --why")]
    EscalationIncomplete,
    #[error(
        "--escalate-to and --why escalate the action: leave --status out or give escalated, not {0}"
    )]
    EscalationWithStatus(ActionStatus),
    #[error(
        "nothing to change: give --status, --note, --outcome, --evidence, --public, --spend or --escalate-to"
    )]
    NothingToChange,
    #[error(
        "bad spend `{0}`: expected pounds, such as 120 or 120.50 (a £ sign and commas are fine)"
    )]
    BadSpend(String),
    #[error("bad evidence `{input}`: {reason}")]
    BadEvidence { input: String, reason: String },
    #[error("bad finding `{0}`: expected RESPONSE/ITEM, such as 0196f2a1/needles")]
    BadFindingRef(String),
}

impl ActionError {
    pub fn exit_code(&self) -> u8 {
        exit::DATA_ERR
    }
}

/// Where an action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Open,
    InProgress,
    Done,
    NotPossible,
    Escalated,
}

impl ActionStatus {
    pub const ALL: [ActionStatus; 5] = [
        ActionStatus::Open,
        ActionStatus::InProgress,
        ActionStatus::Done,
        ActionStatus::NotPossible,
        ActionStatus::Escalated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::InProgress => "in_progress",
            ActionStatus::Done => "done",
            ActionStatus::NotPossible => "not_possible",
            ActionStatus::Escalated => "escalated",
        }
    }

    /// Still to be delivered: it can be overdue.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            ActionStatus::Open | ActionStatus::InProgress | ActionStatus::Escalated
        )
    }
}

impl fmt::Display for ActionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ActionStatus {
    type Err = ActionError;

    fn from_str(s: &str) -> Result<Self, ActionError> {
        let t = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        ActionStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == t)
            .ok_or_else(|| ActionError::BadStatus(s.to_owned()))
    }
}

/// The priority an action serves: an issue in an area for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Priority {
    pub issue: String,
    pub area: String,
    pub period: Period,
}

/// What shows an action worked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    Text {
        text: String,
    },
    /// A re-audit of the street (an EVA response), with the grade it gave.
    Reaudit {
        response: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grade: Option<String>,
    },
    /// A change in police.uk recorded crime, in words (e.g. "ASB down from 14 to 6").
    Crime {
        change: String,
    },
}

impl Evidence {
    /// `reaudit:RESPONSE[:GRADE]`, `crime:CHANGE`, or any other text as it is.
    pub fn parse(input: &str) -> Result<Evidence, ActionError> {
        let bad = |reason: &str| ActionError::BadEvidence {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let t = input.trim();
        if t.is_empty() {
            return Err(bad("it is empty"));
        }
        if let Some(rest) = t.strip_prefix("reaudit:") {
            let (response, grade) = match rest.split_once(':') {
                Some((r, g)) => (r.trim(), Some(g.trim())),
                None => (rest.trim(), None),
            };
            if response.is_empty() || !response.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
            {
                return Err(bad(
                    "expected reaudit:RESPONSE_ID[:GRADE], the id of the re-audit response",
                ));
            }
            let grade = match grade {
                Some("") => return Err(bad("the grade after the second `:` is empty")),
                Some(g) => Some(g.to_uppercase().replace('-', "−")),
                None => None,
            };
            return Ok(Evidence::Reaudit {
                response: response.to_ascii_lowercase(),
                grade,
            });
        }
        if let Some(rest) = t.strip_prefix("crime:") {
            let change = rest.trim();
            if change.is_empty() {
                return Err(bad(
                    "expected crime:CHANGE, such as crime:ASB down from 14 to 6",
                ));
            }
            return Ok(Evidence::Crime {
                change: change.to_owned(),
            });
        }
        Ok(Evidence::Text { text: t.to_owned() })
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::Text { text } => f.write_str(text),
            Evidence::Reaudit {
                response,
                grade: Some(g),
            } => write!(f, "re-audit {response}: grade {g}"),
            Evidence::Reaudit {
                response,
                grade: None,
            } => write!(f, "re-audit {response}"),
            Evidence::Crime { change } => write!(f, "recorded crime: {change}"),
        }
    }
}

/// An escalation beyond local managers (e.g. to the Joint Action Group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    pub to: String,
    pub at: DateTime<Utc>,
    pub why: String,
}

/// The urgent EVA finding an action answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFinding {
    pub response: Uuid,
    /// The checklist item (question id).
    pub item: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// One change to an action, dated and signed: the history keeps every one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub at: DateTime<Utc>,
    /// The officer setting of whoever made it.
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ActionStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<String>,
    /// Spend to date, in pence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spend_pence: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<Escalation>,
}

impl Change {
    /// What the change did, in words ("status done; note: …"), as the register shows it.
    pub fn describe(&self) -> String {
        let c = self;
        let mut parts = Vec::new();
        if let Some(s) = c.status {
            parts.push(format!("status {s}"));
        }
        if let Some(n) = &c.note {
            parts.push(format!("note: {n}"));
        }
        if let Some(o) = &c.outcome {
            parts.push(format!("outcome: {o}"));
        }
        if let Some(e) = &c.evidence {
            parts.push(format!("evidence: {e}"));
        }
        if let Some(p) = &c.public {
            parts.push(format!("public line: {p}"));
        }
        if let Some(s) = c.spend_pence {
            parts.push(format!("spend {}", pounds(s)));
        }
        if let Some(e) = &c.escalation {
            parts.push(format!("escalated to {}: {}", e.to, e.why));
        }
        parts.join("; ")
    }

    pub fn new(at: DateTime<Utc>, by: impl Into<String>) -> Change {
        Change {
            at,
            by: by.into(),
            status: None,
            note: None,
            outcome: None,
            evidence: None,
            public: None,
            spend_pence: None,
            escalation: None,
        }
    }

    fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.note.is_none()
            && self.outcome.is_none()
            && self.evidence.is_none()
            && self.public.is_none()
            && self.spend_pence.is_none()
            && self.escalation.is_none()
    }
}

/// What `actions add` is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAction {
    pub priority: Priority,
    pub problem: Option<String>,
    pub action: String,
    pub lead: String,
    pub owner: String,
    pub support: Vec<String>,
    pub agreed: NaiveDate,
    pub due: NaiveDate,
    pub source: Option<SourceFinding>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub id: Uuid,
    pub priority: Priority,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    pub action: String,
    pub lead: String,
    pub owner: String,
    #[serde(default)]
    pub support: Vec<String>,
    pub agreed: NaiveDate,
    pub due: NaiveDate,
    pub status: ActionStatus,
    /// Every change, the first being the action's creation (status open).
    pub history: Vec<Change>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spend_pence: Option<i64>,
    /// The latest escalation (kept after it is resolved; `status` says whether it is open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<Escalation>,
    /// The approved plain-language line for the public: the only text of an action that
    /// may leave the partnership.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceFinding>,
}

/// How long an action is past its due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overdue {
    /// Calendar days after the due date.
    pub days: i64,
    /// Whole calendar months after the due date (a month after 31 January is the last day
    /// of February), and the days after those.
    pub months: u32,
    pub extra_days: i64,
}

impl fmt::Display for Overdue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: i64, one: &str| {
            if n == 1 {
                format!("1 {one}")
            } else {
                format!("{n} {one}s")
            }
        };
        match (self.months, self.extra_days) {
            (0, d) => f.write_str(&plural(d, "day")),
            (m, 0) => f.write_str(&plural(i64::from(m), "month")),
            (m, d) => write!(f, "{} {}", plural(i64::from(m), "month"), plural(d, "day")),
        }
    }
}

/// How long after `due` the date `today` is; `None` when it is not after it.
pub fn overdue_by(due: NaiveDate, today: NaiveDate) -> Option<Overdue> {
    if today <= due {
        return None;
    }
    let days = (today - due).num_days();
    let mut months = 0u32;
    while due
        .checked_add_months(Months::new(months + 1))
        .is_some_and(|d| d <= today)
    {
        months += 1;
    }
    let base = due.checked_add_months(Months::new(months)).unwrap_or(due);
    Some(Overdue {
        days,
        months,
        extra_days: (today - base).num_days(),
    })
}

fn required(flag: &'static str, what: &'static str, text: &str) -> Result<String, ActionError> {
    let t = text.trim();
    if t.is_empty() {
        Err(ActionError::Empty { flag, what })
    } else {
        Ok(t.to_owned())
    }
}

fn optional(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

impl Action {
    /// Whether `agency` leads or supports it (case-insensitive).
    pub fn serves(&self, agency: &str) -> bool {
        let g = agency.trim();
        self.lead.eq_ignore_ascii_case(g) || self.support.iter().any(|s| s.eq_ignore_ascii_case(g))
    }

    /// A new open action, checked. `by` is the officer adding it.
    pub fn new(
        id: Uuid,
        new: NewAction,
        at: DateTime<Utc>,
        by: &str,
    ) -> Result<Action, ActionError> {
        let issue = required(
            "--issue",
            "the issue id the priority is about",
            &new.priority.issue,
        )?;
        let area = required("--area", "the area code", &new.priority.area)?;
        let action = required("--action", "what will be done", &new.action)?;
        let lead = required("--lead", "the lead agency", &new.lead)?;
        let owner = required("--owner", "a named owner or role", &new.owner)?;
        let by = required(
            "the officer setting",
            "`doorstep config set officer NAME`",
            by,
        )?;
        let mut support = Vec::new();
        for s in &new.support {
            let s = required("--support", "a supporting agency", s)?;
            if !support.contains(&s) && s != lead {
                support.push(s);
            }
        }
        if new.due < new.agreed {
            return Err(ActionError::DueBeforeAgreed {
                agreed: new.agreed,
                due: new.due,
            });
        }
        let mut created = Change::new(at, by);
        created.status = Some(ActionStatus::Open);
        Ok(Action {
            id,
            priority: Priority {
                issue,
                area,
                period: new.priority.period,
            },
            problem: optional(new.problem.as_deref()),
            action,
            lead,
            owner,
            support,
            agreed: new.agreed,
            due: new.due,
            status: ActionStatus::Open,
            history: vec![created],
            outcome: None,
            evidence: Vec::new(),
            spend_pence: None,
            escalation: None,
            public: None,
            source: new.source,
        })
    }

    /// Checks `change` against the action as it stands, tidies its text, and returns it
    /// ready to [`apply`](Action::apply).
    pub fn check(&self, mut change: Change) -> Result<Change, ActionError> {
        change.by = required(
            "the officer setting",
            "`doorstep config set officer NAME`",
            &change.by,
        )?;
        change.note = optional(change.note.as_deref());
        change.outcome = optional(change.outcome.as_deref());
        if let Some(p) = &change.public {
            change.public = Some(required("--public", "the approved line for the public", p)?);
        }
        if let Some(e) = &mut change.escalation {
            e.to = required("--escalate-to", "to whom it is escalated", &e.to)?;
            e.why = required("--why", "why it is escalated", &e.why)?;
            match change.status {
                None | Some(ActionStatus::Escalated) => {
                    change.status = Some(ActionStatus::Escalated)
                }
                Some(other) => return Err(ActionError::EscalationWithStatus(other)),
            }
        }
        if change.is_empty() {
            return Err(ActionError::NothingToChange);
        }
        match change.status {
            Some(ActionStatus::Escalated) if change.escalation.is_none() => {
                return Err(ActionError::EscalationIncomplete);
            }
            Some(ActionStatus::NotPossible) if change.note.is_none() => {
                return Err(ActionError::NotPossibleWithoutReason);
            }
            Some(to @ (ActionStatus::Open | ActionStatus::InProgress))
                if self.status == ActionStatus::Done && change.note.is_none() =>
            {
                return Err(ActionError::ReopenWithoutNote { id: self.id, to });
            }
            _ => {}
        }
        Ok(change)
    }

    /// Applies a checked change (replay applies journaled changes as they were).
    pub fn apply(&mut self, change: Change) {
        if let Some(s) = change.status {
            self.status = s;
        }
        if let Some(o) = &change.outcome {
            self.outcome = Some(o.clone());
        }
        if let Some(e) = &change.evidence {
            self.evidence.push(e.clone());
        }
        if let Some(p) = &change.public {
            self.public = Some(p.clone());
        }
        if let Some(s) = change.spend_pence {
            self.spend_pence = Some(s);
        }
        if let Some(e) = &change.escalation {
            self.escalation = Some(e.clone());
        }
        self.history.push(change);
    }

    /// Checks and applies `change`.
    pub fn update(&mut self, change: Change) -> Result<(), ActionError> {
        let change = self.check(change)?;
        self.apply(change);
        Ok(())
    }

    /// How long it is past its due date on `today` (UK local date); `None` when it is not
    /// due yet or no longer live (done, not possible).
    pub fn overdue(&self, today: NaiveDate) -> Option<Overdue> {
        if !self.status.is_live() {
            return None;
        }
        overdue_by(self.due, today)
    }

    /// The notes of every change, oldest first.
    pub fn notes(&self) -> impl Iterator<Item = (&Change, &str)> {
        self.history
            .iter()
            .filter_map(|c| c.note.as_deref().map(|n| (c, n)))
    }

    /// The reason given when it was marked not possible (the latest such note).
    pub fn reason_not_possible(&self) -> Option<&str> {
        self.history
            .iter()
            .rev()
            .find(|c| c.status == Some(ActionStatus::NotPossible))
            .and_then(|c| c.note.as_deref())
    }

    /// When it was last marked done.
    pub fn done_at(&self) -> Option<DateTime<Utc>> {
        self.history
            .iter()
            .rev()
            .find(|c| c.status == Some(ActionStatus::Done))
            .map(|c| c.at)
    }

    /// Whether an action record that came from elsewhere (a batch) is one doorstep could
    /// have written: its creation first in the history, its required text present, and its
    /// state what its history makes. The reason when it is not.
    pub fn check_record(&self) -> Result<(), String> {
        let Some(first) = self.history.first() else {
            return Err("its history is empty (the first change is its creation)".into());
        };
        if first.status != Some(ActionStatus::Open) {
            return Err("the first change of its history does not open it".into());
        }
        for (name, text) in [
            ("issue", &self.priority.issue),
            ("area", &self.priority.area),
            ("action", &self.action),
            ("lead", &self.lead),
            ("owner", &self.owner),
        ] {
            if text.trim().is_empty() {
                return Err(format!("its {name} is empty"));
            }
        }
        if let Some(n) = self.history.iter().position(|c| c.by.trim().is_empty()) {
            return Err(format!(
                "change {} of its history names nobody (`by`)",
                n + 1
            ));
        }
        if self.due < self.agreed {
            return Err(format!(
                "its due date {} is before its agreed date {}",
                self.due, self.agreed
            ));
        }
        let mut rebuilt = self.base();
        for change in &self.history {
            rebuilt.apply(change.clone());
        }
        if rebuilt != *self {
            return Err(
                "its status, outcome, evidence, spend, escalation or public line is not what its history makes"
                    .into(),
            );
        }
        Ok(())
    }

    /// `sha256:` of the action's JSON: two versions with the same digest are the same.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("sha256:{}", crate::batch::to_hex(&Sha256::digest(&json)))
    }

    /// The action as added, before any change: what every version of it shares.
    pub fn base(&self) -> Action {
        Action {
            status: ActionStatus::Open,
            history: Vec::new(),
            outcome: None,
            evidence: Vec::new(),
            spend_pence: None,
            escalation: None,
            public: None,
            ..self.clone()
        }
    }

    /// Whether this version of the action is `earlier` with changes added after it (or
    /// is the same): the same action, `earlier`'s history a prefix of this one's.
    pub fn extends(&self, earlier: &Action) -> bool {
        self.history.starts_with(&earlier.history) && self.base() == earlier.base()
    }

    pub fn changed_at(&self) -> DateTime<Utc> {
        self.history
            .last()
            .map_or(DateTime::<Utc>::MIN_UTC, |c| c.at)
    }
}

/// A date typed for `flag`: `YYYY-MM-DD`.
pub fn parse_date(flag: &'static str, input: &str) -> Result<NaiveDate, ActionError> {
    NaiveDate::parse_from_str(input.trim(), "%Y-%m-%d").map_err(|_| ActionError::BadDate {
        flag,
        input: input.to_owned(),
    })
}

/// Pounds as typed (`120`, `120.5`, `£1,200.50`), in pence.
pub fn parse_spend(input: &str) -> Result<i64, ActionError> {
    let bad = || ActionError::BadSpend(input.to_owned());
    let t = input.trim();
    let t = t.strip_prefix('£').unwrap_or(t).replace(',', "");
    let (pounds, pence) = match t.split_once('.') {
        Some((p, d)) => (p.to_owned(), d.to_owned()),
        None => (t.clone(), String::new()),
    };
    if pounds.is_empty()
        || !pounds.bytes().all(|b| b.is_ascii_digit())
        || pence.len() > 2
        || !pence.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let pounds: i64 = pounds.parse().map_err(|_| bad())?;
    let pence: i64 = match pence.len() {
        0 => 0,
        1 => pence.parse::<i64>().map_err(|_| bad())? * 10,
        _ => pence.parse().map_err(|_| bad())?,
    };
    pounds
        .checked_mul(100)
        .and_then(|p| p.checked_add(pence))
        .ok_or_else(bad)
}

/// Pence as pounds: `£1,200.50`.
pub fn pounds(pence: i64) -> String {
    let whole = pence / 100;
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("£{grouped}.{:02}", pence % 100)
}

/// `RESPONSE/ITEM` of `--from-finding`: the response id (or its start) and the item.
pub fn parse_finding_ref(input: &str) -> Result<(String, String), ActionError> {
    match input.trim().split_once('/') {
        Some((r, i)) if !r.trim().is_empty() && !i.trim().is_empty() => {
            Ok((r.trim().to_owned(), i.trim().to_owned()))
        }
        _ => Err(ActionError::BadFindingRef(input.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 10, 5, 9, 0, 0).unwrap()
    }

    pub(crate) fn new_action() -> NewAction {
        NewAction {
            priority: Priority {
                issue: "litter".into(),
                area: "E05000650".into(),
                period: "2026-Q4".parse().unwrap(),
            },
            problem: Some("Litter on Kay Street".into()),
            action: "Weekly litter pick".into(),
            lead: "Council street scene".into(),
            owner: "Neighbourhood manager".into(),
            support: vec!["Police".into(), "Police".into(), " ".into()],
            agreed: d(2026, 10, 5),
            due: d(2026, 11, 30),
            source: None,
        }
    }

    #[test]
    fn a_new_action_is_open_with_its_creation_in_the_history() {
        let mut n = new_action();
        n.support.pop();
        let a = Action::new(Uuid::nil(), n, at(), "PC 1").unwrap();
        assert_eq!(a.status, ActionStatus::Open);
        assert_eq!(a.support, vec!["Police".to_owned()]);
        assert_eq!(a.history.len(), 1);
        assert_eq!(a.history[0].by, "PC 1");
        assert_eq!(a.history[0].status, Some(ActionStatus::Open));
    }

    #[test]
    fn bad_new_actions_say_which_flag() {
        let err = |n: NewAction, by: &str| Action::new(Uuid::nil(), n, at(), by).unwrap_err();
        let e = err(new_action(), "PC 1");
        assert_eq!(
            e.to_string(),
            "--support is empty: give a supporting agency"
        );
        let mut n = new_action();
        n.support.clear();
        n.lead = "  ".into();
        assert_eq!(
            err(n, "PC 1").to_string(),
            "--lead is empty: give the lead agency"
        );
        let mut n = new_action();
        n.support.clear();
        n.due = d(2026, 10, 4);
        assert_eq!(
            err(n, "PC 1").to_string(),
            "the due date 2026-10-04 is before the agreed date 2026-10-05"
        );
        let mut n = new_action();
        n.support.clear();
        assert!(err(n, "").to_string().contains("officer"));
    }

    fn open_action() -> Action {
        let mut n = new_action();
        n.support.clear();
        Action::new(Uuid::nil(), n, at(), "PC 1").unwrap()
    }

    fn change(status: Option<ActionStatus>, note: Option<&str>) -> Change {
        let mut c = Change::new(at(), "PC 2");
        c.status = status;
        c.note = note.map(str::to_owned);
        c
    }

    #[test]
    fn done_back_to_open_needs_a_note() {
        let mut a = open_action();
        a.update(change(Some(ActionStatus::Done), None)).unwrap();
        let e = a
            .update(change(Some(ActionStatus::Open), None))
            .unwrap_err();
        assert!(matches!(e, ActionError::ReopenWithoutNote { .. }), "{e}");
        assert!(e.to_string().contains("needs --note"));
        assert_eq!(a.history.len(), 2, "a refused change is not recorded");
        let e = a
            .update(change(Some(ActionStatus::InProgress), Some("  ")))
            .unwrap_err();
        assert!(matches!(e, ActionError::ReopenWithoutNote { .. }));
        a.update(change(Some(ActionStatus::Open), Some("bins back")))
            .unwrap();
        assert_eq!(a.status, ActionStatus::Open);
        assert_eq!(a.history.len(), 3);
        assert_eq!(a.notes().map(|(_, n)| n).collect::<Vec<_>>(), ["bins back"]);
    }

    #[test]
    fn not_possible_needs_a_reason_and_escalation_needs_whom_and_why() {
        let mut a = open_action();
        assert_eq!(
            a.update(change(Some(ActionStatus::NotPossible), None)),
            Err(ActionError::NotPossibleWithoutReason)
        );
        assert_eq!(
            a.update(change(Some(ActionStatus::Escalated), None)),
            Err(ActionError::EscalationIncomplete)
        );
        assert_eq!(
            a.update(change(None, None)),
            Err(ActionError::NothingToChange)
        );
        let mut c = change(Some(ActionStatus::Done), None);
        c.escalation = Some(Escalation {
            to: "JAG".into(),
            at: at(),
            why: "x".into(),
        });
        assert_eq!(
            a.update(c.clone()),
            Err(ActionError::EscalationWithStatus(ActionStatus::Done))
        );
        c.status = None;
        a.update(c).unwrap();
        assert_eq!(a.status, ActionStatus::Escalated);
        a.update(change(
            Some(ActionStatus::NotPossible),
            Some("land is private"),
        ))
        .unwrap();
        assert_eq!(a.reason_not_possible(), Some("land is private"));
    }

    #[test]
    fn overdue_counts_uk_calendar_days_and_months() {
        assert_eq!(overdue_by(d(2026, 11, 30), d(2026, 11, 30)), None);
        assert_eq!(overdue_by(d(2026, 11, 30), d(2026, 11, 1)), None);
        // Across a month end.
        let o = overdue_by(d(2026, 11, 30), d(2026, 12, 1)).unwrap();
        assert_eq!((o.days, o.months, o.extra_days), (1, 0, 1));
        assert_eq!(o.to_string(), "1 day");
        // Across a year end: 31 Dec to 2 Jan is 2 days.
        let o = overdue_by(d(2026, 12, 31), d(2027, 1, 2)).unwrap();
        assert_eq!((o.days, o.months), (2, 0));
        // A month after 31 January is 28 February (2027 is not a leap year).
        let o = overdue_by(d(2027, 1, 31), d(2027, 2, 28)).unwrap();
        assert_eq!((o.days, o.months, o.extra_days), (28, 1, 0));
        assert_eq!(o.to_string(), "1 month");
        let o = overdue_by(d(2027, 1, 31), d(2027, 3, 1)).unwrap();
        assert_eq!((o.days, o.months, o.extra_days), (29, 1, 1));
        assert_eq!(o.to_string(), "1 month 1 day");
        // Leap year: 29 days in February 2028.
        let o = overdue_by(d(2028, 1, 31), d(2028, 3, 1)).unwrap();
        assert_eq!((o.days, o.months, o.extra_days), (30, 1, 1));
        // Over a year, across the year end.
        let o = overdue_by(d(2026, 12, 15), d(2028, 1, 20)).unwrap();
        assert_eq!((o.days, o.months, o.extra_days), (401, 13, 5));
        assert_eq!(o.to_string(), "13 months 5 days");
    }

    #[test]
    fn a_record_from_elsewhere_must_be_what_its_history_makes() {
        let mut a = open_action();
        a.update(change(Some(ActionStatus::Done), None)).unwrap();
        assert_eq!(a.check_record(), Ok(()));
        let earlier = open_action();
        assert!(a.extends(&earlier) && a.extends(&a) && !earlier.extends(&a));
        let mut forged = a.clone();
        forged.status = ActionStatus::Open;
        assert!(
            forged
                .check_record()
                .unwrap_err()
                .contains("not what its history makes")
        );
        let mut empty = a.clone();
        empty.history.clear();
        assert!(
            empty
                .check_record()
                .unwrap_err()
                .contains("history is empty")
        );
        let mut other = earlier.clone();
        other.owner = "Someone else".into();
        assert!(!a.extends(&other), "another base is another action");
    }

    #[test]
    fn only_live_actions_are_overdue() {
        let mut a = open_action();
        assert!(a.overdue(d(2026, 12, 1)).is_some());
        a.update(change(Some(ActionStatus::Done), None)).unwrap();
        assert_eq!(a.overdue(d(2026, 12, 1)), None);
    }

    #[test]
    fn parses_spend_evidence_statuses_and_finding_refs() {
        assert_eq!(parse_spend("120"), Ok(12000));
        assert_eq!(parse_spend("£1,200.5"), Ok(120050));
        assert_eq!(parse_spend("0.07"), Ok(7));
        for bad in ["", "-5", "12.345", "abc", "£", "1e3"] {
            assert!(parse_spend(bad).is_err(), "{bad}");
        }
        assert_eq!(pounds(120050), "£1,200.50");
        assert_eq!(pounds(7), "£0.07");
        assert_eq!(
            Evidence::parse("reaudit:0196ABCD:b-").unwrap(),
            Evidence::Reaudit {
                response: "0196abcd".into(),
                grade: Some("B−".into())
            }
        );
        assert!(Evidence::parse("reaudit:").is_err());
        assert!(Evidence::parse("crime: ").is_err());
        assert_eq!(
            Evidence::parse("bins emptied").unwrap().to_string(),
            "bins emptied"
        );
        assert_eq!("in-progress".parse(), Ok(ActionStatus::InProgress));
        assert!("closed".parse::<ActionStatus>().is_err());
        assert_eq!(
            parse_finding_ref("0196/needles"),
            Ok(("0196".into(), "needles".into()))
        );
        assert!(parse_finding_ref("0196").is_err());
        assert!(parse_date("--due", "30/11/2026").is_err());
    }
}
