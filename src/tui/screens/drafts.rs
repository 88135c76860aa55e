//! Drafts and call-backs: every unfinished interview or audit on this device, resumable
//! exactly where it was left, including after a crash; and the doors in the area whose
//! call-back is due, soonest first.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use ratatui::Frame;
use ratatui::layout::Constraint;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Row};

use super::{Screen, Transition};
use crate::Error;
use crate::response::{Door, Outcome, Response, StoredAnswer};
use crate::survey::Answer;
use crate::tui::action::Action;
use crate::tui::app::{Context, Flash};
use crate::tui::keys::Mode;
use crate::tui::theme::Theme;
use crate::tui::widgets::list::{self, SelectableList};

/// A door whose call-back is due.
pub struct CallBack {
    pub door: Door,
    pub at: DateTime<Utc>,
}

pub struct Drafts {
    drafts: Vec<Response>,
    /// Where each draft is: its door, or its EVA street (empty when not known yet).
    places: Vec<String>,
    /// A draft (index into `drafts`) waiting for y to be discarded.
    discarding: Option<usize>,
    call_backs: Vec<CallBack>,
    /// The area the call-backs are in (its name), when one is chosen.
    area: Option<String>,
    /// Over drafts then call-backs.
    selected: usize,
    /// The zone times are shown in (UK time, whatever the machine's zone).
    zone: Tz,
}

impl Drafts {
    pub fn new(ctx: &Context) -> Result<Drafts, Error> {
        let mut drafts = ctx.store.drafts()?.responses;
        // Most recently worked on first: that is usually the one to pick up.
        drafts.sort_by_key(|d| std::cmp::Reverse(d.changed_at));
        let now = ctx.now();
        let mut call_backs = Vec::new();
        if let Some(area) = &ctx.area {
            for r in ctx.store.doors(&area.code)? {
                if !super::door_log::is_due(&r, now) {
                    continue;
                }
                if let Some(Outcome::CallBack { at }) = r.latest() {
                    call_backs.push(CallBack {
                        at: *at,
                        door: r.door.clone(),
                    });
                }
            }
        }
        // Soonest first: the longest-waiting call-back heads the list.
        call_backs.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.door.cmp(&b.door)));
        let places = drafts.iter().map(|d| place(ctx, d)).collect();
        Ok(Drafts {
            drafts,
            places,
            discarding: None,
            call_backs,
            area: ctx.area.as_ref().map(|a| a.name.clone()),
            selected: 0,
            zone: ctx.env().zone,
        })
    }

    /// Local time for what the officer reads.
    fn local(&self, t: DateTime<Utc>) -> DateTime<Tz> {
        t.with_timezone(&self.zone)
    }

    pub fn call_backs(&self) -> &[CallBack] {
        &self.call_backs
    }

    fn len(&self) -> usize {
        self.drafts.len() + self.call_backs.len()
    }

    pub fn mode(&self) -> Mode {
        if self.discarding.is_some() {
            Mode::Confirm
        } else {
            Mode::Drafts
        }
    }

    /// One draft as the list and the confirmation name it.
    fn describe(&self, i: usize) -> String {
        let d = &self.drafts[i];
        let kind = d.survey_id.to_uppercase();
        match self.places[i].as_str() {
            "" => format!("{kind} in {}", d.area),
            place => format!("{kind} at {place}"),
        }
    }

    pub fn question(&self) -> Option<String> {
        let i = self.discarding?;
        let d = &self.drafts[i];
        Some(format!(
            "Discard the draft {} ({} answer(s), last touched {})? It is kept as abandoned, never erased, and leaves this list.",
            self.describe(i),
            d.answers.len(),
            self.local(d.changed_at).format("%d %b %H:%M")
        ))
    }

    pub fn update(&mut self, ctx: &mut Context, action: Action) -> Result<Transition, Error> {
        if let Some(i) = self.discarding.take() {
            let what = self.describe(i);
            if action != Action::Yes {
                return Ok(Transition::Flash(Flash::Notice(format!(
                    "Draft kept: {what}"
                ))));
            }
            ctx.store.abandon_draft(self.drafts[i].id)?;
            let mut fresh = Drafts::new(ctx)?;
            fresh.selected = self.selected.min(fresh.len().saturating_sub(1));
            *self = fresh;
            return Ok(Transition::Flash(Flash::Ok(format!(
                "Draft discarded (kept as abandoned): {what}"
            ))));
        }
        if action == Action::Discard {
            if self.selected < self.drafts.len() {
                self.discarding = Some(self.selected);
                return Ok(Transition::Stay);
            }
            return Ok(Transition::Flash(Flash::Notice(
                "Only drafts can be discarded: pick a draft, not a call-back".into(),
            )));
        }
        let len = self.len();
        let pick = match super::menu_key(&mut self.selected, len, action) {
            super::MenuKey::Pick(n) => n,
            super::MenuKey::NoSuch(flash) => return Ok(Transition::Flash(flash)),
            super::MenuKey::Other if action == Action::Leave => {
                return Ok(Transition::Go(
                    Screen::Home(super::home::Home::new(ctx)?),
                    None,
                ));
            }
            super::MenuKey::Stay | super::MenuKey::Other => return Ok(Transition::Stay),
        };
        if let Some(call_back) = pick
            .checked_sub(self.drafts.len())
            .and_then(|i| self.call_backs.get(i))
        {
            let Some(area) = ctx.area.clone() else {
                return Ok(Transition::Stay);
            };
            let log = super::door_log::DoorLog::new(ctx, area, Some(&call_back.door))?;
            return Ok(Transition::Go(
                Screen::DoorLog(log),
                Some(Flash::Ok(format!(
                    "Call back at {}: i interviews, c sets a new time",
                    call_back.door
                ))),
            ));
        }
        let draft = ctx.store.get(self.drafts[pick].id)?;
        let interview = super::interview::Interview::resume(ctx, draft)?;
        Ok(Transition::Go(
            Screen::Interview(Box::new(interview)),
            Some(Flash::Ok("Resumed where it was left".into())),
        ))
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let block = Block::default().borders(Borders::ALL).title(Line::styled(
            " Drafts and call-backs — Enter or a number opens ",
            theme.title,
        ));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        // Drafts, then the call-backs under their heading; `item_rows` maps each pickable
        // item (as numbered) to its row, past the messages and headings between.
        let mut rows: Vec<Row> = Vec::new();
        let mut item_rows = Vec::new();
        let numbered = |n: usize, text: String| Row::new([format!("{n:>2}  {text}")]);
        if self.drafts.is_empty() {
            rows.push(Row::new([
                "No drafts: every interview and audit on this device is finalized.",
            ]));
        }
        for (i, d) in self.drafts.iter().enumerate() {
            let text = format!(
                "{:<34} {:>3} answer(s)  touched {}",
                clip(&self.describe(i), 34),
                d.answers.len(),
                self.local(d.changed_at).format("%d %b %H:%M"),
            );
            item_rows.push(rows.len());
            rows.push(numbered(i + 1, text));
        }
        rows.push(Row::new([""]));
        match &self.area {
            None => rows.push(Row::new(["Choose the area to see its call-backs."])),
            Some(name) if self.call_backs.is_empty() => {
                rows.push(Row::new([format!("No call-backs due in {name}.")]));
            }
            Some(name) => {
                rows.push(
                    Row::new([format!("Call-backs due in {name}, soonest first")])
                        .style(theme.title),
                );
                for (j, c) in self.call_backs.iter().enumerate() {
                    let when = self.local(c.at).format("%d %b %H:%M");
                    let text = format!("{:<34} call back {when}", c.door.to_string());
                    item_rows.push(rows.len());
                    rows.push(numbered(self.drafts.len() + j + 1, text));
                }
            }
        }
        frame.render_stateful_widget(
            SelectableList::new(rows, [Constraint::Fill(1)], theme),
            inner,
            &mut list::state(item_rows.get(self.selected).copied()),
        );
    }
}

/// Where a draft is: the door it was started at, or the street its EVA transect names.
fn place(ctx: &Context, d: &Response) -> String {
    if let Some(door) = &d.door {
        return door.to_string();
    }
    ctx.registry
        .get(&d.survey_id, Some(d.survey_version))
        .and_then(crate::survey::eva::street_question)
        .and_then(|q| match d.answers.get(&q.id).map(|a| &a.value) {
            Some(StoredAnswer::Plain(Answer::Text(street))) => Some(street.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// At most `n` characters, with … when cut.
fn clip(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(n.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}
