//! Drafts and call-backs: every unfinished interview or audit on this device, resumable
//! exactly where it was left, including after a crash; and the doors in the area whose
//! call-back is due, soonest first.

use chrono::{DateTime, Utc};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph};

use super::{Screen, Transition};
use crate::Error;
use crate::response::{Door, FIELDWORK_ZONE, Outcome, Response};
use crate::tui::action::Action;
use crate::tui::app::{Context, Flash};
use crate::tui::theme::Theme;

/// A door whose call-back is due.
pub struct CallBack {
    pub door: Door,
    pub at: DateTime<Utc>,
}

pub struct Drafts {
    drafts: Vec<Response>,
    call_backs: Vec<CallBack>,
    /// The area the call-backs are in (its name), when one is chosen.
    area: Option<String>,
    /// Over drafts then call-backs.
    selected: usize,
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
        Ok(Drafts {
            drafts,
            call_backs,
            area: ctx.area.as_ref().map(|a| a.name.clone()),
            selected: 0,
        })
    }

    pub fn call_backs(&self) -> &[CallBack] {
        &self.call_backs
    }

    fn len(&self) -> usize {
        self.drafts.len() + self.call_backs.len()
    }

    pub fn update(&mut self, ctx: &mut Context, action: Action) -> Result<Transition, Error> {
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

    fn row(&self, i: usize, text: String, theme: &Theme) -> Line<'static> {
        super::numbered_row(i == self.selected, i + 1, &text, theme)
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let block = Block::default().borders(Borders::ALL).title(Line::styled(
            " Drafts and call-backs — Enter or a number opens ",
            theme.title,
        ));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let mut lines: Vec<Line> = Vec::new();
        if self.drafts.is_empty() {
            lines.push(Line::from(
                "No drafts: every interview and audit on this device is finalized.",
            ));
        }
        for (i, d) in self.drafts.iter().enumerate() {
            let when = d
                .changed_at
                .with_timezone(&FIELDWORK_ZONE)
                .format("%d %b %H:%M");
            let text = format!(
                "{:<4} {:<10} {}  {} answer(s)  at {}",
                d.survey_id,
                d.area,
                when,
                d.answers.len(),
                d.position.as_deref().unwrap_or("start"),
            );
            lines.push(self.row(i, text, theme));
        }
        lines.push(Line::from(""));
        match &self.area {
            None => lines.push(Line::from("Choose the area to see its call-backs.")),
            Some(name) if self.call_backs.is_empty() => {
                lines.push(Line::from(format!("No call-backs due in {name}.")));
            }
            Some(name) => {
                lines.push(Line::styled(
                    format!("Call-backs due in {name}, soonest first"),
                    theme.title,
                ));
                for (j, c) in self.call_backs.iter().enumerate() {
                    let when = c.at.with_timezone(&FIELDWORK_ZONE).format("%d %b %H:%M");
                    let text = format!("{:<34} call back {when}", c.door.to_string());
                    lines.push(self.row(self.drafts.len() + j, text, theme));
                }
            }
        }
        frame.render_widget(Paragraph::new(lines), inner);
    }
}
