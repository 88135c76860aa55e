//! The coordinator's actions screen (the PACT action register, issue #14): the register
//! filtered by area, status and agency with the overdue actions first; one action with its
//! dated history; forms adding and updating actions; and, from an action, the EVA finding
//! it answers or the priority it serves. Every check is the domain's ([`crate::action`]) and
//! every write goes through [`Store::add_action`] / [`Store::update_action`], journaled
//! before the screen says saved, exactly as `doorstep actions add|update`.
//!
//! [`Store::add_action`]: crate::store::Store::add_action
//! [`Store::update_action`]: crate::store::Store::update_action

use std::cmp::Reverse;

use chrono::{DateTime, NaiveDate, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Row};
use uuid::Uuid;

use super::action_form::{Choice, FieldKey, Form, FormEvent, FormField, fit};
use super::{Screen, Transition};
use crate::Error;
use crate::action::build::{self, KnownIssue};
use crate::action::{
    Action, ActionError, ActionStatus, Change, Escalation, Evidence, NewAction, Priority,
    parse_date, parse_finding_ref, parse_spend, pounds,
};
use crate::geography::AreaRef;
use crate::response::{Period, StoredAnswer};
use crate::store::StoreError;
use crate::tui::action::Action as Key;
use crate::tui::app::{Context, Flash};
use crate::tui::keys::Mode;
use crate::tui::theme::Theme;
use crate::tui::widgets::list::{self, SelectableList};

/// What the register is narrowed to; `None` is all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub area: Option<String>,
    pub status: Option<ActionStatus>,
    pub agency: Option<String>,
}

/// The EVA finding an action answers, read from the store when it is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingView {
    /// Label and value, one row each.
    pub rows: Vec<(&'static str, String)>,
}

enum Stage {
    List,
    Detail { id: Uuid, scroll: usize },
    Form { form: Box<Form>, purpose: Purpose },
    Finding { id: Uuid, view: FindingView },
    Priority { id: Uuid, scroll: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Add,
    Update(Uuid),
}

pub struct ActionsScreen {
    stage: Stage,
    /// Whether Esc from a form or a view goes back to the action (or to the register).
    from_detail: bool,
    register: Vec<Action>,
    /// Stored actions that could not be read (`doorstep recover` restores them).
    unreadable: usize,
    /// Indexes into `register`: the filtered rows in the order shown.
    shown: Vec<usize>,
    selected: usize,
    filters: Filters,
    /// Today in the UK, from the app's clock: overdue is counted from it.
    today: NaiveDate,
    issues: Vec<KnownIssue>,
    /// Every ward and priority action area of the geography, ward then its PAAs.
    areas: Vec<AreaRef>,
}

impl ActionsScreen {
    pub fn new(ctx: &Context) -> Result<ActionsScreen, Error> {
        let mut areas = Vec::new();
        for t in ctx.geography.tree() {
            for w in t.wards {
                areas.push(w.ward);
                areas.extend(w.paas);
            }
        }
        let mut s = ActionsScreen {
            stage: Stage::List,
            from_detail: false,
            register: Vec::new(),
            unreadable: 0,
            shown: Vec::new(),
            selected: 0,
            filters: Filters::default(),
            today: ctx.env().today(),
            issues: build::known_issues(&ctx.registry),
            areas,
        };
        s.reload(ctx)?;
        Ok(s)
    }

    pub fn mode(&self) -> Mode {
        match self.stage {
            Stage::List => Mode::Actions,
            Stage::Detail { .. } => Mode::ActionShow,
            Stage::Form { .. } => Mode::ActionForm,
            Stage::Finding { .. } | Stage::Priority { .. } => Mode::Outcome,
        }
    }

    pub fn filters(&self) -> &Filters {
        &self.filters
    }

    /// The actions listed, in the order shown.
    pub fn listed(&self) -> Vec<&Action> {
        self.shown.iter().map(|&i| &self.register[i]).collect()
    }

    /// The form open, if any.
    pub fn form(&self) -> Option<&Form> {
        match &self.stage {
            Stage::Form { form, .. } => Some(form),
            _ => None,
        }
    }

    /// The finding shown, if that is what is open.
    pub fn finding(&self) -> Option<&FindingView> {
        match &self.stage {
            Stage::Finding { view, .. } => Some(view),
            _ => None,
        }
    }

    /// The action open (detail, form, finding or priority), or selected in the register.
    pub fn current(&self) -> Option<&Action> {
        match &self.stage {
            Stage::Detail { id, .. } | Stage::Finding { id, .. } | Stage::Priority { id, .. } => {
                self.by_id(*id)
            }
            Stage::Form {
                purpose: Purpose::Update(id),
                ..
            } => self.by_id(*id),
            _ => self
                .shown
                .get(self.selected)
                .and_then(|&i| self.register.get(i)),
        }
    }

    fn by_id(&self, id: Uuid) -> Option<&Action> {
        self.register.iter().find(|a| a.id == id)
    }

    pub fn paste(&mut self, text: &str) {
        if let Stage::Form { form, .. } = &mut self.stage {
            form.paste(text);
        }
    }

    /// Reads the register again (after a change) and keeps the selection on the same action.
    fn reload(&mut self, ctx: &Context) -> Result<(), Error> {
        let keep = self.current().map(|a| a.id);
        let listing = ctx.store.actions()?;
        self.unreadable = listing.unreadable.len();
        for e in &listing.unreadable {
            tracing::warn!("{e}");
        }
        self.register = listing.actions;
        self.refilter(keep);
        Ok(())
    }

    fn refilter(&mut self, keep: Option<Uuid>) {
        let f = &self.filters;
        let today = self.today;
        let mut shown: Vec<usize> = (0..self.register.len())
            .filter(|&i| {
                let a = &self.register[i];
                f.area.as_deref().is_none_or(|c| a.priority.area == c)
                    && f.status.is_none_or(|s| a.status == s)
                    && f.agency.as_deref().is_none_or(|g| a.serves(g))
            })
            .collect();
        // Overdue first, the longest overdue at the top; then soonest due.
        shown.sort_by_key(|&i| {
            let a = &self.register[i];
            let late = a.overdue(today).map(|o| o.days);
            (late.is_none(), Reverse(late.unwrap_or(0)), a.due, a.id)
        });
        self.shown = shown;
        self.selected = keep
            .and_then(|id| self.shown.iter().position(|&i| self.register[i].id == id))
            .unwrap_or(0)
            .min(self.shown.len().saturating_sub(1));
    }

    /// The next value of a filter: none, each value in turn, none again.
    fn cycle<T: Clone + PartialEq>(current: &Option<T>, values: &[T]) -> Option<T> {
        match current {
            None => values.first().cloned(),
            Some(v) => values
                .iter()
                .position(|x| x == v)
                .and_then(|i| values.get(i + 1))
                .cloned(),
        }
    }

    fn register_areas(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .register
            .iter()
            .map(|a| a.priority.area.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    fn register_agencies(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for a in &self.register {
            for g in std::iter::once(&a.lead).chain(&a.support) {
                if !v.iter().any(|x| x.eq_ignore_ascii_case(g)) {
                    v.push(g.clone());
                }
            }
        }
        v.sort_by_key(|g| g.to_lowercase());
        v
    }

    pub fn update(&mut self, ctx: &mut Context, action: Key) -> Result<Transition, Error> {
        match &mut self.stage {
            Stage::List => self.update_list(ctx, action),
            Stage::Detail { id, scroll } => {
                let id = *id;
                match action {
                    Key::Leave => self.stage = Stage::List,
                    Key::Up => *scroll = scroll.saturating_sub(1),
                    Key::Down => *scroll += 1,
                    Key::PageUp => *scroll = scroll.saturating_sub(10),
                    Key::PageDown => *scroll += 10,
                    Key::UpdateAction | Key::OpenFinding | Key::OpenPriority => {
                        self.from_detail = true;
                        return self.open(ctx, id, action);
                    }
                    _ => {}
                }
                Ok(Transition::Stay)
            }
            Stage::Finding { id, .. } => {
                let id = *id;
                if matches!(action, Key::Leave | Key::Confirm) {
                    self.back(id);
                }
                Ok(Transition::Stay)
            }
            Stage::Priority { id, scroll } => {
                let id = *id;
                match action {
                    Key::Leave | Key::Confirm => self.back(id),
                    Key::Up => *scroll = scroll.saturating_sub(1),
                    Key::Down => *scroll += 1,
                    _ => {}
                }
                Ok(Transition::Stay)
            }
            Stage::Form { form, purpose } => {
                let purpose = *purpose;
                if action == Key::Leave {
                    let what = match purpose {
                        Purpose::Add => "Nothing added",
                        Purpose::Update(_) => "Nothing changed",
                    };
                    match purpose {
                        Purpose::Update(id) => self.back(id),
                        Purpose::Add => self.stage = Stage::List,
                    }
                    return Ok(Transition::Flash(Flash::Notice(what.into())));
                }
                match form.handle(action) {
                    FormEvent::None => Ok(Transition::Stay),
                    FormEvent::Left(FieldKey::Finding) => {
                        fill_from_finding(ctx, form, &self.issues);
                        Ok(Transition::Stay)
                    }
                    FormEvent::Left(_) => Ok(Transition::Stay),
                    FormEvent::Submit => match purpose {
                        Purpose::Add => self.save_new(ctx),
                        Purpose::Update(id) => self.save_change(ctx, id),
                    },
                }
            }
        }
    }

    /// Esc from a form or a view: back to the action if it was opened from there.
    fn back(&mut self, id: Uuid) {
        self.stage = if self.from_detail {
            Stage::Detail { id, scroll: 0 }
        } else {
            Stage::List
        };
    }

    fn update_list(&mut self, ctx: &mut Context, action: Key) -> Result<Transition, Error> {
        let keep = self.current().map(|a| a.id);
        match action {
            Key::Leave => {
                return Ok(Transition::Go(
                    Screen::Home(super::home::Home::new(ctx)?),
                    None,
                ));
            }
            Key::AddAction => {
                self.stage = Stage::Form {
                    form: Box::new(self.add_form(ctx)),
                    purpose: Purpose::Add,
                };
            }
            Key::Confirm | Key::UpdateAction | Key::OpenFinding | Key::OpenPriority => {
                let Some(id) = keep else {
                    return Ok(Transition::Flash(Flash::Notice(
                        "No action selected: a adds one".into(),
                    )));
                };
                self.from_detail = false;
                if action == Key::Confirm {
                    self.stage = Stage::Detail { id, scroll: 0 };
                    return Ok(Transition::Stay);
                }
                return self.open(ctx, id, action);
            }
            Key::FilterArea => {
                self.filters.area = Self::cycle(&self.filters.area, &self.register_areas());
                self.refilter(keep);
            }
            Key::FilterStatus => {
                self.filters.status = Self::cycle(&self.filters.status, &ActionStatus::ALL);
                self.refilter(keep);
            }
            Key::FilterAgency => {
                self.filters.agency = Self::cycle(&self.filters.agency, &self.register_agencies());
                self.refilter(keep);
            }
            Key::ClearFilters => {
                self.filters = Filters::default();
                self.refilter(keep);
            }
            other => {
                if let Some(s) = list::moved(self.selected, self.shown.len(), other) {
                    self.selected = s;
                }
            }
        }
        Ok(Transition::Stay)
    }

    /// u, f or p on action `id`.
    fn open(&mut self, ctx: &Context, id: Uuid, what: Key) -> Result<Transition, Error> {
        let Some(action) = self.by_id(id).cloned() else {
            return Ok(Transition::Stay);
        };
        match what {
            Key::UpdateAction => {
                self.stage = Stage::Form {
                    form: Box::new(update_form(&action)),
                    purpose: Purpose::Update(id),
                };
            }
            Key::OpenFinding => match finding_view(ctx, &action) {
                Ok(view) => self.stage = Stage::Finding { id, view },
                Err(message) => return Ok(Transition::Flash(message)),
            },
            Key::OpenPriority => self.stage = Stage::Priority { id, scroll: 0 },
            _ => {}
        }
        Ok(Transition::Stay)
    }

    fn area_choices(&self) -> Vec<Choice> {
        self.areas
            .iter()
            .map(|a| Choice {
                value: a.code.clone(),
                about: a.name.clone(),
            })
            .collect()
    }

    fn area_name(&self, code: &str) -> Option<&str> {
        self.areas
            .iter()
            .find(|a| a.code == code)
            .map(|a| a.name.as_str())
    }

    fn issue_label(&self, id: &str) -> Option<&str> {
        self.issues
            .iter()
            .find(|i| i.id == id)
            .map(|i| i.label.as_str())
    }

    fn add_form(&self, ctx: &Context) -> Form {
        let issues = self
            .issues
            .iter()
            .map(|i| Choice {
                value: i.id.clone(),
                about: i.label.clone(),
            })
            .collect();
        let area = ctx.area.as_ref().map_or("", |a| a.code.as_str());
        let today = self.today.format("%Y-%m-%d").to_string();
        let period = Period::of_fieldwork(ctx.now()).to_string();
        use FieldKey as K;
        Form::new(
            "Add an action (↑↓ fields, Enter next, Esc leaves: nothing stored)".into(),
            vec![
                FormField::text(
                    K::Finding,
                    "From finding",
                    "optional: RESPONSE/ITEM of an urgent EVA finding; Enter fills the form from it",
                    "",
                ),
                FormField::choice(
                    K::Area,
                    "Area",
                    "the ward or priority action area code",
                    area,
                    self.area_choices(),
                ),
                FormField::text(
                    K::Period,
                    "Period",
                    "the priority's quarter, such as 2026-Q4",
                    &period,
                ),
                FormField::choice(
                    K::Issue,
                    "Issue",
                    "the issue id from the issue list",
                    "",
                    issues,
                ),
                FormField::text(K::Lead, "Lead agency", "the agency leading it", ""),
                FormField::text(
                    K::Owner,
                    "Owner",
                    "a named owner or role answerable for it",
                    "",
                ),
                FormField::text(
                    K::Support,
                    "Supporting",
                    "supporting agencies, separated by commas (optional)",
                    "",
                ),
                FormField::text(
                    K::Agreed,
                    "Agreed",
                    "the date it was agreed, YEAR-MM-DD",
                    &today,
                ),
                FormField::text(K::Due, "Due", "the target date, YEAR-MM-DD", ""),
                FormField::text(K::Text, "Action", "what will be done", ""),
                FormField::text(
                    K::Problem,
                    "Problem",
                    "the problem in the partnership's words (optional)",
                    "",
                ),
            ],
            "Save the action",
        )
    }

    /// Checks the add form as `actions add` checks its flags and stores the action.
    fn save_new(&mut self, ctx: &mut Context) -> Result<Transition, Error> {
        let Stage::Form { form, .. } = &mut self.stage else {
            return Ok(Transition::Stay);
        };
        let built = new_action(ctx, form, &self.issues);
        let action = match built {
            Ok(a) => a,
            Err((key, message)) => {
                form.refuse(key, message);
                return Ok(Transition::Stay);
            }
        };
        if let Err(e) = ctx.store.add_action(&action) {
            form.refuse(None, e.to_string());
            return Ok(Transition::Stay);
        }
        // Journaled and flushed by now: only then does the screen say saved.
        self.filters = Filters::default();
        self.from_detail = false;
        self.stage = Stage::Detail {
            id: action.id,
            scroll: 0,
        };
        self.reload(ctx)?;
        Ok(Transition::Flash(Flash::Ok(format!(
            "Saved action {} (in the journal)",
            action.id
        ))))
    }

    /// Checks the update form as `actions update` checks its flags and records the change.
    fn save_change(&mut self, ctx: &mut Context, id: Uuid) -> Result<Transition, Error> {
        let Stage::Form { form, .. } = &mut self.stage else {
            return Ok(Transition::Stay);
        };
        let change = match change_of(ctx, form) {
            Ok(c) => c,
            Err((key, message)) => {
                form.refuse(key, message);
                return Ok(Transition::Stay);
            }
        };
        match ctx.store.update_action(id, change) {
            Ok(_) => {}
            Err(StoreError::Action(e)) => {
                form.refuse(FieldKey::of_error(&e), e.to_string());
                return Ok(Transition::Stay);
            }
            Err(e) => {
                form.refuse(None, e.to_string());
                return Ok(Transition::Stay);
            }
        }
        self.stage = Stage::Detail { id, scroll: 0 };
        self.from_detail = false;
        self.reload(ctx)?;
        Ok(Transition::Flash(Flash::Ok(format!(
            "Saved the change to action {} (in the journal)",
            id
        ))))
    }

    pub fn render(&self, ctx: &Context, frame: &mut Frame, area: Rect, theme: &Theme) {
        let title = match &self.stage {
            Stage::List => " Actions: the register ".to_owned(),
            Stage::Detail { .. } => " An action ".to_owned(),
            Stage::Form {
                purpose: Purpose::Add,
                ..
            } => " Add an action ".to_owned(),
            Stage::Form {
                purpose: Purpose::Update(_),
                ..
            } => " Update the action ".to_owned(),
            Stage::Finding { .. } => " The EVA finding the action answers ".to_owned(),
            Stage::Priority { .. } => " The priority the action serves ".to_owned(),
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Line::styled(title, theme.title));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        match &self.stage {
            Stage::List => self.render_list(frame, inner, theme),
            Stage::Detail { id, scroll } => {
                if let Some(a) = self.by_id(*id) {
                    let lines = self.detail_lines(ctx, a, inner.width as usize, theme);
                    scrolled(frame, inner, lines, *scroll);
                }
            }
            Stage::Form { form, .. } => form.render(frame, inner, theme),
            Stage::Finding { view, .. } => {
                let lines = labelled(&view.rows, inner.width as usize, theme);
                scrolled(frame, inner, lines, 0);
            }
            Stage::Priority { id, scroll } => {
                if let Some(a) = self.by_id(*id) {
                    let lines = self.priority_lines(a, inner.width as usize, theme);
                    scrolled(frame, inner, lines, *scroll);
                }
            }
        }
    }

    fn render_list(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let [head, columns, body] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Length(1),
            Constraint::Min(0),
        ])
        .areas(area);
        let late = self
            .shown
            .iter()
            .filter(|&&i| self.register[i].overdue(self.today).is_some())
            .count();
        let mut first = format!(
            "{} of {} action(s), {late} overdue on {}",
            self.shown.len(),
            self.register.len(),
            self.today.format("%Y-%m-%d")
        );
        if self.unreadable > 0 {
            first.push_str(&format!(
                "; {} unreadable (doorstep recover)",
                self.unreadable
            ));
        }
        let all = "all".to_owned();
        let filters = format!(
            "Filters: area {} · status {} · agency {}",
            self.filters.area.as_ref().unwrap_or(&all),
            self.filters
                .status
                .map_or_else(|| all.clone(), |s| s.to_string()),
            self.filters.agency.as_ref().unwrap_or(&all),
        );
        let width = area.width as usize;
        frame.render_widget(
            Paragraph::new(vec![
                Line::from(fit(&first, width)),
                Line::styled(
                    fit(&filters, width),
                    if self.filters == Filters::default() {
                        ratatui::style::Style::default()
                    } else {
                        theme.notice
                    },
                ),
            ]),
            head,
        );
        let widths = column_widths(width);
        let heads = [
            "LATE", "DUE", "STATUS", "AREA", "ISSUE", "LEAD", "OWNER", "ACTION",
        ];
        let header: Vec<String> = heads
            .iter()
            .zip(widths)
            .map(|(h, w)| format!("{:<w$}", fit(h, w)))
            .collect();
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!("{}{}", list::MARKER.replace('▶', " "), header.join(" ")),
                theme.title,
            )),
            columns,
        );
        if self.shown.is_empty() {
            let text = if self.register.is_empty() {
                "No actions yet: a adds one."
            } else {
                "No action matches the filters: c clears them."
            };
            frame.render_widget(Paragraph::new(Line::styled(text, theme.notice)), body);
            return;
        }
        let rows: Vec<Row> = self
            .shown
            .iter()
            .map(|&i| {
                let a = &self.register[i];
                let late = a.overdue(self.today).map_or(String::new(), |o| {
                    if o.months > 0 {
                        format!("{}m", o.months)
                    } else {
                        format!("{}d", o.days)
                    }
                });
                let cells = [
                    late,
                    a.due.format("%Y-%m-%d").to_string(),
                    a.status.to_string(),
                    a.priority.area.clone(),
                    a.priority.issue.clone(),
                    a.lead.clone(),
                    a.owner.clone(),
                    a.action.clone(),
                ];
                Row::new(
                    cells
                        .iter()
                        .zip(widths)
                        .map(|(c, w)| fit(c, w))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let table = SelectableList::new(rows, widths.map(|w| Constraint::Length(w as u16)), theme);
        frame.render_stateful_widget(table, body, &mut list::state(Some(self.selected)));
    }

    fn detail_lines(
        &self,
        ctx: &Context,
        a: &Action,
        width: usize,
        theme: &Theme,
    ) -> Vec<Line<'static>> {
        let env = ctx.env();
        let when = |t: DateTime<Utc>| env.local(t).format("%Y-%m-%d %H:%M").to_string();
        let due = match a.overdue(self.today) {
            Some(o) => format!("{} (OVERDUE by {o})", a.due.format("%Y-%m-%d")),
            None => a.due.format("%Y-%m-%d").to_string(),
        };
        let none = || "–".to_owned();
        let mut rows: Vec<(&'static str, String)> = vec![
            ("Id", a.id.to_string()),
            ("Priority", self.priority_words(&a.priority)),
            ("Problem", a.problem.clone().unwrap_or_else(none)),
            ("Action", a.action.clone()),
            ("Lead agency", a.lead.clone()),
            ("Owner", a.owner.clone()),
            (
                "Supporting",
                if a.support.is_empty() {
                    "(none)".to_owned()
                } else {
                    a.support.join(", ")
                },
            ),
            ("Agreed", a.agreed.format("%Y-%m-%d").to_string()),
            ("Due", due),
            ("Status", a.status.to_string()),
            ("Outcome", a.outcome.clone().unwrap_or_else(none)),
            (
                "Evidence",
                if a.evidence.is_empty() {
                    none()
                } else {
                    a.evidence
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                },
            ),
            ("Spend", a.spend_pence.map_or_else(none, pounds)),
        ];
        if let Some(e) = &a.escalation {
            rows.push((
                "Escalated",
                format!("to {} on {}: {}", e.to, when(e.at), e.why),
            ));
        }
        rows.push(("Public line", a.public.clone().unwrap_or_else(none)));
        rows.push((
            "Finding",
            match &a.source {
                Some(s) => format!(
                    "{}/{}{} (f opens it)",
                    s.response,
                    s.item,
                    s.location
                        .as_ref()
                        .map(|l| format!(" at {l}"))
                        .unwrap_or_default()
                ),
                None => "– (not started from an EVA finding)".to_owned(),
            },
        ));
        let mut lines = labelled(&rows, width, theme);
        lines.push(Line::styled("History (UK time):", theme.title));
        for c in &a.history {
            let text = format!("{} by {}: {}", when(c.at), c.by, c.describe());
            for (i, l) in words(&text, width.saturating_sub(2))
                .into_iter()
                .enumerate()
            {
                lines.push(Line::from(format!(
                    "{}{l}",
                    if i == 0 { "• " } else { "  " }
                )));
            }
        }
        lines
    }

    fn priority_words(&self, p: &Priority) -> String {
        let issue = match self.issue_label(&p.issue) {
            Some(l) => format!("{} ({l})", p.issue),
            None => p.issue.clone(),
        };
        let area = match self.area_name(&p.area) {
            Some(n) => format!("{} {n}", p.area),
            None => p.area.clone(),
        };
        format!("{issue} in {area} for {}", p.period)
    }

    fn priority_lines(&self, a: &Action, width: usize, theme: &Theme) -> Vec<Line<'static>> {
        let p = &a.priority;
        let serving: Vec<&Action> = self.register.iter().filter(|x| x.priority == *p).collect();
        let live = serving.iter().filter(|x| x.status.is_live()).count();
        let late = serving
            .iter()
            .filter(|x| x.overdue(self.today).is_some())
            .count();
        let done = serving
            .iter()
            .filter(|x| x.status == ActionStatus::Done)
            .count();
        let rows = vec![
            (
                "Issue",
                match self.issue_label(&p.issue) {
                    Some(l) => format!("{} ({l})", p.issue),
                    None => p.issue.clone(),
                },
            ),
            (
                "Area",
                match self.area_name(&p.area) {
                    Some(n) => format!("{} {n}", p.area),
                    None => p.area.clone(),
                },
            ),
            ("Period", p.period.to_string()),
            (
                "Actions",
                format!(
                    "{} serve it: {live} still to deliver ({late} overdue), {done} done",
                    serving.len()
                ),
            ),
        ];
        let mut lines = labelled(&rows, width, theme);
        lines.push(Line::from(""));
        lines.push(Line::styled(
            "Every action serving it (▶ this one):",
            theme.title,
        ));
        for x in serving {
            let mark = if x.id == a.id { "▶" } else { " " };
            let late = x
                .overdue(self.today)
                .map_or(String::new(), |o| format!(" OVERDUE {o}"));
            let head = format!(
                "{mark} due {} {}{late}: ",
                x.due.format("%Y-%m-%d"),
                x.status
            );
            let text = format!("{head}{} ({})", x.action, x.lead);
            lines.push(Line::from(fit(&text, width)));
        }
        lines
    }
}

/// Widths of LATE, DUE, STATUS, AREA, ISSUE, LEAD, OWNER and ACTION in `width` cells (the
/// selection marker and one space between columns taken off); the last three share what
/// is left, so nothing runs off an 80-column screen.
fn column_widths(width: usize) -> [usize; 8] {
    let fixed = [4, 10, 11, 9, 9];
    let rest = width
        .saturating_sub(list::MARKER.chars().count() + 7 + fixed.iter().sum::<usize>())
        .max(3);
    let lead = rest * 3 / 10;
    let owner = rest / 4;
    let action = rest - lead - owner;
    [
        fixed[0], fixed[1], fixed[2], fixed[3], fixed[4], lead, owner, action,
    ]
}

/// `label  value` rows, the value wrapped under itself.
fn labelled(rows: &[(&'static str, String)], width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let label_w = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0) + 1;
    let mut lines = Vec::new();
    for (label, value) in rows {
        for (i, part) in words(value, width.saturating_sub(label_w).max(10))
            .into_iter()
            .enumerate()
        {
            let head = if i == 0 { *label } else { "" };
            lines.push(Line::from(vec![
                ratatui::text::Span::styled(format!("{head:<label_w$}"), theme.title),
                ratatui::text::Span::raw(part),
            ]));
        }
    }
    lines
}

/// Lines from `scroll` on, as many as fit (the scroll stops at the last page).
fn scrolled(frame: &mut Frame, area: Rect, lines: Vec<Line<'static>>, scroll: usize) {
    let last = lines.len().saturating_sub(area.height as usize);
    let shown: Vec<Line> = lines.into_iter().skip(scroll.min(last)).collect();
    frame.render_widget(Paragraph::new(shown), area);
}

/// `text` in lines of at most `width` cells, broken between words (a word longer than a
/// line is cut into pieces).
fn words(text: &str, width: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthStr;
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for w in text.split_whitespace() {
        if !line.is_empty() && line.width() + 1 + w.width() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(w);
        while line.width() > width {
            let mut head = String::new();
            for c in line.chars() {
                if (head.clone() + &c.to_string()).width() > width {
                    break;
                }
                head.push(c);
            }
            if head.is_empty() {
                break;
            }
            line = line[head.len()..].to_owned();
            lines.push(head);
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// The form for a change to `a`: status (Tab through them), note, outcome, public line,
/// evidence, spend, escalation.
fn update_form(a: &Action) -> Form {
    let mut statuses = vec![Choice {
        value: String::new(),
        about: String::new(),
    }];
    statuses.extend(ActionStatus::ALL.iter().map(|s| Choice {
        value: s.to_string(),
        about: if *s == a.status {
            "(as now)".to_owned()
        } else {
            String::new()
        },
    }));
    use FieldKey as K;
    Form::new(
        format!("{} (now {})", fit(&a.action, 56), a.status),
        vec![
            FormField::choice(
                K::Status,
                "Status",
                "empty keeps it; not_possible needs a note, escalated whom and why",
                "",
                statuses,
            ),
            FormField::text(
                K::Note,
                "Note",
                "a note for the history (the reason, when needed)",
                "",
            ),
            FormField::text(K::Outcome, "Outcome", "what it achieved", ""),
            FormField::text(
                K::Public,
                "Public line",
                "the approved plain-language line for \"You said, We did\"",
                "",
            ),
            FormField::text(
                K::Evidence,
                "Evidence",
                "text, reaudit:RESPONSE[:GRADE] or crime:CHANGE",
                "",
            ),
            FormField::text(
                K::Spend,
                "Spend",
                "spend to date in pounds, such as 120.50",
                "",
            ),
            FormField::text(
                K::EscalateTo,
                "Escalate to",
                "to whom (with why): escalates it",
                "",
            ),
            FormField::text(K::Why, "Why", "why it is escalated", ""),
        ],
        "Save the change",
    )
}

type Refusal = (Option<FieldKey>, String);

fn refusal(e: ActionError) -> Refusal {
    (FieldKey::of_error(&e), e.to_string())
}

/// The new action the add form describes, checked as `actions add` checks it.
fn new_action(ctx: &Context, form: &Form, issues: &[KnownIssue]) -> Result<Action, Refusal> {
    use FieldKey as K;
    let text = |k: K| Some(form.value(k)).filter(|v| !v.is_empty());
    let mut area = text(K::Area).map(str::to_owned);
    let mut period = text(K::Period).map(str::to_owned);
    let mut issue = text(K::Issue).map(str::to_owned);
    let mut lead = text(K::Lead).map(str::to_owned);
    let mut problem = text(K::Problem).map(str::to_owned);
    let source = match text(K::Finding) {
        None => None,
        Some(reference) => {
            let f = finding_prefill(ctx, reference, issues)?;
            area.get_or_insert(f.area);
            period.get_or_insert_with(|| f.period.to_string());
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
    let area = build::area_code(&ctx.geography, area.as_deref().unwrap_or("")).map_err(refusal)?;
    let issue = issue.unwrap_or_default();
    build::check_issue(&issue, issues).map_err(refusal)?;
    let period = build::period(period.as_deref()).map_err(refusal)?;
    let due = parse_date("--due", form.value(K::Due)).map_err(refusal)?;
    let agreed = match text(K::Agreed) {
        Some(a) => parse_date("--agreed", a).map_err(refusal)?,
        None => ctx.env().today(),
    };
    let new = NewAction {
        priority: Priority {
            issue,
            area,
            period,
        },
        problem,
        action: form.value(K::Text).to_owned(),
        lead: lead.unwrap_or_default(),
        owner: form.value(K::Owner).to_owned(),
        support: form
            .value(K::Support)
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        agreed,
        due,
        source,
    };
    let officer = ctx.settings.officer.clone().unwrap_or_default();
    Action::new(ctx.env().new_id(), new, ctx.now(), &officer).map_err(refusal)
}

/// What the finding `reference` (RESPONSE/ITEM) fills in, read from the store.
fn finding_prefill(
    ctx: &Context,
    reference: &str,
    issues: &[KnownIssue],
) -> Result<build::FindingPrefill, Refusal> {
    let at = Some(FieldKey::Finding);
    let (response, item) = parse_finding_ref(reference).map_err(refusal)?;
    let r = ctx
        .store
        .resolve_id(&response)
        .and_then(|id| ctx.store.get(id))
        .map_err(|e| (at, e.to_string()))?;
    build::from_finding(reference, &r, &item, issues).map_err(refusal)
}

/// Enter on the finding field: its area, period, issue, lead agency and problem go into the
/// form (what the officer then types over wins, as flags win over `--from-finding`).
fn fill_from_finding(ctx: &Context, form: &mut Form, issues: &[KnownIssue]) {
    let reference = form.value(FieldKey::Finding).to_owned();
    if reference.is_empty() {
        return;
    }
    match finding_prefill(ctx, &reference, issues) {
        Ok(f) => {
            form.set(FieldKey::Area, &f.area);
            form.set(FieldKey::Period, &f.period.to_string());
            if let Some(i) = &f.issue {
                form.set(FieldKey::Issue, i);
            }
            if let Some(l) = &f.lead {
                form.set(FieldKey::Lead, l);
            }
            form.set(FieldKey::Problem, &f.problem);
            form.error = None;
            form.notice = Some(format!(
                "Filled in from the finding on {}: area, period, issue, lead agency, problem",
                f.source.item
            ));
        }
        Err((key, message)) => form.refuse(key, message),
    }
}

/// The change the update form describes (the store checks it against the action).
fn change_of(ctx: &Context, form: &Form) -> Result<Change, Refusal> {
    use FieldKey as K;
    let text = |k: K| Some(form.value(k)).filter(|v| !v.is_empty());
    let now = ctx.now();
    let mut change = Change::new(now, ctx.settings.officer.clone().unwrap_or_default());
    change.status = text(K::Status)
        .map(str::parse::<ActionStatus>)
        .transpose()
        .map_err(refusal)?;
    change.note = text(K::Note).map(str::to_owned);
    change.outcome = text(K::Outcome).map(str::to_owned);
    change.public = text(K::Public).map(str::to_owned);
    change.spend_pence = text(K::Spend)
        .map(parse_spend)
        .transpose()
        .map_err(refusal)?;
    change.evidence = match text(K::Evidence) {
        None => None,
        Some(input) => Some(
            build::with_whole_reaudit_id(Evidence::parse(input).map_err(refusal)?, input, |r| {
                ctx.store.resolve_id(r).map_err(|e| e.to_string())
            })
            .map_err(refusal)?,
        ),
    };
    if text(K::EscalateTo).is_some() || text(K::Why).is_some() {
        change.escalation = Some(Escalation {
            to: form.value(K::EscalateTo).to_owned(),
            at: now,
            why: form.value(K::Why).to_owned(),
        });
    }
    Ok(change)
}

/// The EVA finding `a` answers, read from the store, or why it cannot be shown.
fn finding_view(ctx: &Context, a: &Action) -> Result<FindingView, Flash> {
    let Some(s) = &a.source else {
        return Err(Flash::Notice(
            "This action was not started from an EVA finding: p shows the priority it serves"
                .into(),
        ));
    };
    let r = ctx.store.get(s.response).map_err(|e| {
        Flash::Error(format!(
            "The finding's response {} is not readable here: {e}",
            s.response
        ))
    })?;
    let f = r.findings.get(&s.item);
    let survey = ctx.registry.get(&r.survey_id, Some(r.survey_version));
    let question = survey
        .and_then(|sv| sv.questions.iter().find(|q| q.id == s.item))
        .map(|q| q.text.get("en").to_owned());
    let grade = match r.answers.get(&s.item).map(|rec| &rec.value) {
        Some(StoredAnswer::Plain(ans)) => ans.to_string(),
        Some(StoredAnswer::Sealed(_)) => "sealed (the coordinator key opens it)".to_owned(),
        None => "not answered".to_owned(),
    };
    let env = ctx.env();
    let none = || "–".to_owned();
    let rows = vec![
        ("Response", r.id.to_string()),
        (
            "Audit",
            format!(
                "{} v{} in {} ({}), {} on {}",
                r.survey_id,
                r.survey_version,
                r.area,
                r.period,
                r.interviewer,
                env.local(r.started_at).format("%Y-%m-%d %H:%M")
            ),
        ),
        (
            "Item",
            match question {
                Some(q) => format!("{} — {q}", s.item),
                None => s.item.clone(),
            },
        ),
        ("Grade", grade),
        (
            "Location",
            f.and_then(|f| f.location.clone())
                .or_else(|| s.location.clone())
                .unwrap_or_else(none),
        ),
        (
            "Agency",
            f.and_then(|f| f.agency.clone()).unwrap_or_else(none),
        ),
        (
            "Urgent",
            match f {
                Some(f) if f.urgent && f.urgent_by_rule => "yes (by the survey's rule)".to_owned(),
                Some(f) if f.urgent => "yes (flagged by the auditor)".to_owned(),
                Some(_) => "no".to_owned(),
                None => "the finding is no longer on the response".to_owned(),
            },
        ),
        ("Note", f.and_then(|f| f.note.clone()).unwrap_or_else(none)),
    ];
    Ok(FindingView { rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_columns_fit_the_width_given() {
        // From 80 columns up every column fits; narrower, the table clips at the edge.
        for width in [78usize, 118, 200] {
            let w = column_widths(width);
            let used: usize = w.iter().sum::<usize>() + 7 + 2;
            assert!(used <= width, "{width}: {w:?}");
        }
        assert_eq!(column_widths(10)[7], 3);
        assert_eq!(column_widths(78)[..5], [4, 10, 11, 9, 9]);
    }

    #[test]
    fn long_words_wrap_inside_the_width() {
        assert_eq!(words("a bb ccc", 4), vec!["a bb", "ccc"]);
        assert_eq!(words("abcdefgh", 3), vec!["abc", "def", "gh"]);
        assert_eq!(words("", 5), vec![""]);
    }

    #[test]
    fn a_filter_cycles_through_its_values_then_all() {
        let v = vec!["a".to_owned(), "b".to_owned()];
        let mut f = None;
        f = ActionsScreen::cycle(&f, &v);
        assert_eq!(f.as_deref(), Some("a"));
        f = ActionsScreen::cycle(&f, &v);
        assert_eq!(f.as_deref(), Some("b"));
        f = ActionsScreen::cycle(&f, &v);
        assert_eq!(f, None);
    }
}
