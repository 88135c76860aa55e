//! `doorstep actions add|list|show|update`: the register of local tasking — the actions
//! that answer each agreed priority, followed until done.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use clap::Subcommand;

use super::{print, warn};
use crate::Error;
use crate::action::build::{self, KnownIssue};
use crate::action::{
    Action, ActionStatus, Change, Escalation, Evidence, NewAction, Priority, parse_date,
    parse_finding_ref, parse_spend, pounds,
};
use crate::geography::{AreaSelection, Geography, Level};
use crate::output::{Cell, Column, Document, Fields, Format, Item, Outline, Table, Value};
use crate::response::{Env, Period};
use crate::store::Store;
use crate::survey::registry::Registry;

#[derive(Debug, Subcommand)]
pub enum ActionsCommand {
    /// Add an action for an agreed priority (an issue in an area for a period).
    Add {
        /// The ward or priority action area the priority is for (taken from the finding
        /// with --from-finding).
        #[arg(long, value_name = "CODE")]
        area: Option<String>,
        /// The period of the priority, e.g. 2026-Q4 (the finding's with --from-finding).
        #[arg(long, value_name = "P")]
        period: Option<String>,
        /// The issue id of the priority, as in the issue list (e.g. litter).
        #[arg(long, value_name = "ID")]
        issue: Option<String>,
        /// What will be done.
        #[arg(long, value_name = "TEXT")]
        action: String,
        /// The lead agency (the finding's agency with --from-finding).
        #[arg(long, value_name = "AGENCY")]
        lead: Option<String>,
        /// The named owner or role answerable for it.
        #[arg(long, value_name = "NAME_OR_ROLE")]
        owner: String,
        /// A supporting agency (repeat for more).
        #[arg(long, value_name = "AGENCY")]
        support: Vec<String>,
        /// The target date, YEAR-MM-DD.
        #[arg(long, value_name = "DATE")]
        due: String,
        /// The date it was agreed, YEAR-MM-DD (default: today, UK date).
        #[arg(long, value_name = "DATE")]
        agreed: Option<String>,
        /// The problem in the partnership's words.
        #[arg(long, value_name = "TEXT")]
        problem: Option<String>,
        /// Start from an EVA finding: RESPONSE/ITEM (response id or its start, item id).
        #[arg(long, value_name = "RESPONSE/ITEM")]
        from_finding: Option<String>,
    },
    /// List actions, soonest due first.
    List {
        /// Only this area: a ward or township (with the priority action areas inside it),
        /// or a priority action area.
        #[arg(long, value_name = "CODE")]
        area: Option<String>,
        /// Only priorities of this period, e.g. 2026-Q4.
        #[arg(long, value_name = "P")]
        period: Option<String>,
        /// Only this status: open, in_progress, done, not_possible or escalated.
        #[arg(long, value_name = "S")]
        status: Option<String>,
        /// Only actions this agency leads or supports.
        #[arg(long, value_name = "AGENCY")]
        agency: Option<String>,
        /// Only actions past their due date and not done or not possible.
        #[arg(long)]
        overdue: bool,
        /// Print JSON: table `actions` with `id`, `area`, `period`, `issue`, `action`,
        /// `lead`, `owner`, `support`, `agreed`, `due`, `status`, `overdue_days`, `public`.
        #[arg(long)]
        json: bool,
    },
    /// Show one action with its whole history.
    Show {
        /// The action id, or its first characters.
        #[arg(value_name = "ID")]
        id: String,
        /// Print JSON: fields `action` and outline `history` (`at`, `by`, `status`, `note`,
        /// `outcome`, `evidence`, `public`, `spend_pence`, `escalated_to`, `why`).
        #[arg(long)]
        json: bool,
    },
    /// Record a change: status, note, outcome, evidence, public line, spend, escalation.
    Update {
        /// The action id, or its first characters.
        #[arg(value_name = "ID")]
        id: String,
        /// open, in_progress, done, not_possible (needs --note with the reason) or
        /// escalated (needs --escalate-to and --why).
        #[arg(long, value_name = "S")]
        status: Option<String>,
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        #[arg(long, value_name = "TEXT")]
        outcome: Option<String>,
        /// Free text, `reaudit:RESPONSE[:GRADE]` (a re-audit of the street) or
        /// `crime:CHANGE` (a change in recorded crime).
        #[arg(long, value_name = "EVIDENCE")]
        evidence: Option<String>,
        /// The approved plain-language line for "You said, We did" (the only text of an
        /// action that goes public).
        #[arg(long, value_name = "TEXT")]
        public: Option<String>,
        /// Spend to date in pounds, e.g. 120.50.
        #[arg(long, value_name = "POUNDS")]
        spend: Option<String>,
        /// Escalate to whom (e.g. the Joint Action Group); needs --why.
        #[arg(long, value_name = "WHO", requires = "why")]
        escalate_to: Option<String>,
        /// Why it is escalated.
        #[arg(long, value_name = "TEXT", requires = "escalate_to")]
        why: Option<String>,
    },
}

pub fn run(
    cmd: &ActionsCommand,
    data_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    match cmd {
        ActionsCommand::Add {
            area,
            period,
            issue,
            action,
            lead,
            owner,
            support,
            due,
            agreed,
            problem,
            from_finding,
        } => {
            let store = super::open_store(data_dir, err)?;
            let env = store.env().clone();
            let mut area = area.clone();
            let mut period = match period {
                Some(p) => Some(parse_period(p)?),
                None => None,
            };
            let mut issue = issue.clone();
            let mut lead = lead.clone();
            let mut problem = problem.clone();
            let taxonomy = known_issues(data_dir, err)?;
            let source = match from_finding {
                None => None,
                Some(reference) => {
                    let (response, item) = parse_finding_ref(reference)?;
                    let r = store.get(store.resolve_id(&response)?)?;
                    let f = build::from_finding(reference, &r, &item, &taxonomy)?;
                    area.get_or_insert(f.area);
                    period.get_or_insert(f.period);
                    if lead.is_none() {
                        lead = f.lead;
                    }
                    if issue.is_none() {
                        issue = f.issue;
                    }
                    problem.get_or_insert(f.problem);
                    Some(f.source)
                }
            };
            let geography = store.stored_geography()?.or_builtin()?;
            let area = build::area_code(&geography, area.as_deref().unwrap_or(""))?;
            let issue = issue.unwrap_or_default();
            build::check_issue(&issue, &taxonomy)?;
            // No period given and no finding to take it from: the same refusal as the form's.
            let period = match period {
                Some(p) => p,
                None => build::period(None)?,
            };
            let due = parse_date("--due", due)?;
            let agreed = match agreed {
                Some(a) => parse_date("--agreed", a)?,
                None => env.today(),
            };
            let new = NewAction {
                priority: Priority {
                    issue,
                    area,
                    period,
                },
                problem,
                action: action.clone(),
                lead: lead.unwrap_or_default(),
                owner: owner.clone(),
                support: support.clone(),
                agreed,
                due,
                source,
            };
            let officer = store.settings()?.officer.unwrap_or_default();
            let action = Action::new(env.new_id(), new, env.now(), &officer)?;
            store.add_action(&action)?;
            let mut doc = show_document(&action, &env);
            doc.note(format!("added action {}", action.id));
            print(out, &doc, Format::Text)
        }
        ActionsCommand::List {
            area,
            period,
            status,
            agency,
            overdue,
            json,
        } => {
            let period = period.as_deref().map(parse_period).transpose()?;
            let status = status
                .as_deref()
                .map(str::parse::<ActionStatus>)
                .transpose()?;
            let store = super::open_store_read_only(data_dir, err)?;
            let env = Env::system();
            let today = env.today();
            let listing = store.actions()?;
            let codes = match area {
                Some(a) => Some(area_codes(&store.stored_geography()?.or_builtin()?, a)),
                None => None,
            };
            let mut actions: Vec<&Action> = listing
                .actions
                .iter()
                .filter(|a| period.is_none_or(|p| a.priority.period == p))
                .filter(|a| status.is_none_or(|s| a.status == s))
                .filter(|a| {
                    codes
                        .as_ref()
                        .is_none_or(|c| c.iter().any(|c| c.eq_ignore_ascii_case(&a.priority.area)))
                })
                .filter(|a| agency.as_deref().is_none_or(|g| serves(a, g)))
                .filter(|a| !*overdue || a.overdue(today).is_some())
                .collect();
            actions.sort_by_key(|a| (a.due, a.id));
            print(out, &list_document(&actions, today), Format::json_if(*json))?;
            unreadable(err, listing.unreadable.len(), &listing.unreadable)
        }
        ActionsCommand::Show { id, json } => {
            let store = super::open_store_read_only(data_dir, err)?;
            let action = store.action(store.resolve_action_id(id)?)?;
            print(
                out,
                &show_document(&action, &Env::system()),
                Format::json_if(*json),
            )
        }
        ActionsCommand::Update {
            id,
            status,
            note,
            outcome,
            evidence,
            public,
            spend,
            escalate_to,
            why,
        } => {
            let status = status
                .as_deref()
                .map(str::parse::<ActionStatus>)
                .transpose()?;
            let spend = spend.as_deref().map(parse_spend).transpose()?;
            let store = super::open_store(data_dir, err)?;
            let env = store.env().clone();
            let id = store.resolve_action_id(id)?;
            let evidence = match evidence {
                None => None,
                Some(text) => Some(full_reaudit_id(&store, Evidence::parse(text)?, text)?),
            };
            let mut change = Change::new(env.now(), store.settings()?.officer.unwrap_or_default());
            change.status = status;
            change.note.clone_from(note);
            change.outcome.clone_from(outcome);
            change.evidence = evidence;
            change.public.clone_from(public);
            change.spend_pence = spend;
            if let (Some(to), Some(why)) = (escalate_to, why) {
                change.escalation = Some(Escalation {
                    to: to.clone(),
                    at: env.now(),
                    why: why.clone(),
                });
            }
            let action = store.update_action(id, change)?;
            let mut doc = show_document(&action, &env);
            doc.note(format!("updated action {}", action.id));
            print(out, &doc, Format::Text)
        }
    }
}

fn parse_period(input: &str) -> Result<Period, Error> {
    input.parse::<Period>().map_err(Error::from)
}

fn unreadable(
    err: &mut dyn Write,
    n: usize,
    errors: &[crate::store::StoreError],
) -> Result<(), Error> {
    if n == 0 {
        return Ok(());
    }
    for e in errors {
        warn(err, &e.to_string())?;
    }
    Err(Error::BadInput(format!(
        "{n} stored action(s) could not be read (run `doorstep recover` to restore them from the journal)"
    )))
}

/// A re-audit named by the start of its id is stored under its whole id.
fn full_reaudit_id(store: &Store, evidence: Evidence, input: &str) -> Result<Evidence, Error> {
    Ok(build::with_whole_reaudit_id(evidence, input, |r| {
        store.resolve_id(r).map_err(|e| e.to_string())
    })?)
}

/// Whether the action is led or supported by `agency` (case-insensitive).
pub fn serves(a: &Action, agency: &str) -> bool {
    a.serves(agency)
}

/// Every issue id in the issue lists of the installed surveys, with the EVA items that
/// observe it.
pub fn known_issues(data_dir: &Path, err: &mut dyn Write) -> Result<Vec<KnownIssue>, Error> {
    let (registry, diagnostics) = Registry::load(data_dir)?;
    for d in diagnostics.iter().filter(|d| d.is_error()) {
        warn(err, &format!("survey file skipped: {d}"))?;
    }
    Ok(build::known_issues(&registry))
}

/// The area codes `key` covers: a township or ward with every priority action area inside
/// it; any other code as itself.
pub fn area_codes(geography: &Geography, key: &str) -> Vec<String> {
    let wards: Vec<String> = match geography.select(key) {
        Some(AreaSelection::Township(t)) => t.wards.clone(),
        Some(AreaSelection::Area {
            level: Level::Ward,
            area,
        }) => vec![area.code],
        Some(AreaSelection::Area { area, .. }) => return vec![area.code],
        None => return vec![key.trim().to_owned()],
    };
    let mut codes = wards.clone();
    for t in geography.tree() {
        for w in t.wards.iter().filter(|w| wards.contains(&w.ward.code)) {
            codes.extend(w.paas.iter().map(|p| p.code.clone()));
        }
    }
    codes
}

fn date(d: NaiveDate) -> Cell {
    Cell::from(d.format("%Y-%m-%d").to_string())
}

fn when(t: DateTime<Utc>, env: &Env) -> String {
    env.local(t).format("%Y-%m-%d %H:%M").to_string()
}

/// The register as a table.
pub fn list_document(actions: &[&Action], today: NaiveDate) -> Document {
    let mut table = Table::new(
        "actions",
        vec![
            Column::text("id", "ID"),
            Column::text("area", "AREA"),
            Column::text("period", "PERIOD"),
            Column::text("issue", "ISSUE"),
            Column::text("action", "ACTION").max_width(32),
            Column::text("lead", "LEAD").max_width(24),
            Column::text("owner", "OWNER").max_width(24),
            Column::new("support", "SUPPORT", crate::output::Kind::List).machine_only(),
            Column::time("agreed", "AGREED").machine_only(),
            Column::time("due", "DUE"),
            Column::text("status", "STATUS"),
            Column::integer("overdue_days", "OVERDUE"),
            Column::text("public", "PUBLIC LINE").machine_only(),
        ],
    )
    .when_empty("no actions");
    for a in actions {
        let overdue = a.overdue(today);
        table.push(vec![
            Cell::from(a.id.to_string()),
            Cell::from(&a.priority.area),
            Cell::from(a.priority.period.to_string()),
            Cell::from(&a.priority.issue),
            Cell::from(&a.action),
            Cell::from(&a.lead),
            Cell::from(&a.owner),
            Cell::from(a.support.clone()),
            date(a.agreed),
            date(a.due),
            Cell::from(a.status.to_string()),
            match overdue {
                Some(o) => Cell::from(Value::Integer(o.days)).shown_as(o.to_string()),
                None => Cell::from(Value::Null),
            },
            Cell::from(a.public.clone()),
        ]);
    }
    let mut doc = Document::new();
    doc.table(table);
    if !actions.is_empty() {
        let late = actions
            .iter()
            .filter(|a| a.overdue(today).is_some())
            .count();
        doc.note(format!(
            "{} action(s), {late} overdue on {}",
            actions.len(),
            today.format("%Y-%m-%d")
        ));
    }
    doc
}

/// One action: its details, then every change.
pub fn show_document(a: &Action, env: &Env) -> Document {
    let today = env.today();
    let mut f = Fields::new("action");
    f.add("id", a.id.to_string());
    f.add(
        "priority",
        Cell::from(format!(
            "{} in {} for {}",
            a.priority.issue, a.priority.area, a.priority.period
        )),
    );
    f.add_hidden("issue", &a.priority.issue);
    f.add_hidden("area", &a.priority.area);
    f.add_hidden("period", a.priority.period.to_string());
    f.add("problem", a.problem.clone());
    f.add("action", &a.action);
    f.add("lead", &a.lead);
    f.add("owner", &a.owner);
    f.add(
        "support",
        Cell::from(a.support.clone()).shown_as(if a.support.is_empty() {
            "(none)".to_owned()
        } else {
            a.support.join(", ")
        }),
    );
    f.add("agreed", date(a.agreed));
    let due = match a.overdue(today) {
        Some(o) => format!("{} (overdue by {o})", a.due.format("%Y-%m-%d")),
        None => a.due.format("%Y-%m-%d").to_string(),
    };
    f.add("due", date(a.due).shown_as(due));
    f.add("status", a.status.to_string());
    f.add("outcome", a.outcome.clone());
    f.add(
        "evidence",
        Cell::from(
            a.evidence
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
        ),
    );
    f.add(
        "spend",
        Cell::from(a.spend_pence.map(|p| p.to_string()))
            .shown_as(a.spend_pence.map(pounds).unwrap_or_default()),
    );
    match &a.escalation {
        Some(e) => f.add(
            "escalation",
            Cell::from(e.to.clone()).shown_as(format!(
                "to {} on {}: {}{}",
                e.to,
                when(e.at, env),
                e.why,
                if a.status == ActionStatus::Escalated {
                    ""
                } else {
                    " (no longer open)"
                }
            )),
        ),
        None => f.add("escalation", Value::Null),
    };
    f.add_labelled("public", "public line", a.public.clone());
    match &a.source {
        Some(s) => f.add_labelled(
            "finding",
            "answers finding",
            Cell::from(format!("{}/{}", s.response, s.item)).shown_as(format!(
                "{}/{}{}",
                s.response,
                s.item,
                s.location
                    .as_ref()
                    .map(|l| format!(" at {l}"))
                    .unwrap_or_default()
            )),
        ),
        None => f.add_labelled("finding", "answers finding", Value::Null),
    };
    let mut doc = Document::new();
    doc.fields(f);
    doc.heading("History:");
    let items = a
        .history
        .iter()
        .map(|c| {
            Item::new(format!("{} by {}: {}", when(c.at, env), c.by, c.describe()))
                .field("at", c.at.to_rfc3339_opts(SecondsFormat::Secs, true))
                .field("by", &c.by)
                .field("status", c.status.map(|s| s.to_string()))
                .field("note", c.note.clone())
                .field("outcome", c.outcome.clone())
                .field("evidence", c.evidence.as_ref().map(ToString::to_string))
                .field("public", c.public.clone())
                .field(
                    "spend_pence",
                    c.spend_pence.map_or(Value::Null, Value::Integer),
                )
                .field("escalated_to", c.escalation.as_ref().map(|e| e.to.clone()))
                .field("why", c.escalation.as_ref().map(|e| e.why.clone()))
        })
        .collect();
    doc.outline(Outline::new("history", items));
    doc
}

/// The actions answering the findings of response `id`, for `responses show`.
pub fn answering_findings(actions: &[Action], id: uuid::Uuid) -> Option<Table> {
    let answering: Vec<&Action> = actions
        .iter()
        .filter(|a| a.source.as_ref().is_some_and(|s| s.response == id))
        .collect();
    if answering.is_empty() {
        return None;
    }
    let mut t = Table::new(
        "answered_by",
        vec![
            Column::text("item", "ITEM"),
            Column::text("action_id", "ACTION"),
            Column::text("status", "STATUS"),
            Column::text("lead", "LEAD"),
            Column::time("due", "DUE"),
        ],
    );
    for a in answering {
        t.push(vec![
            Cell::from(a.source.as_ref().map(|s| s.item.clone())),
            Cell::from(a.id.to_string()),
            Cell::from(a.status.to_string()),
            Cell::from(&a.lead),
            date(a.due),
        ]);
    }
    Some(t)
}
