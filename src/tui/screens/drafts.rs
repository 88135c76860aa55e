//! Drafts: every unfinished interview or audit on this device, resumable exactly where it
//! was left, including after a crash.

use chrono::Local;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph};

use super::{Screen, Transition};
use crate::Error;
use crate::response::Response;
use crate::tui::action::Action;
use crate::tui::app::{Context, Flash};
use crate::tui::theme::Theme;

pub struct Drafts {
    drafts: Vec<Response>,
    selected: usize,
}

impl Drafts {
    pub fn new(ctx: &Context) -> Result<Drafts, Error> {
        let mut drafts = ctx.store.drafts()?.responses;
        // Most recently worked on first: that is usually the one to pick up.
        drafts.sort_by(|a, b| b.changed_at.cmp(&a.changed_at));
        Ok(Drafts {
            drafts,
            selected: 0,
        })
    }

    pub fn update(&mut self, ctx: &mut Context, action: Action) -> Result<Transition, Error> {
        let pick = match action {
            Action::Up => {
                self.selected = self.selected.saturating_sub(1);
                return Ok(Transition::Stay);
            }
            Action::Down => {
                self.selected = (self.selected + 1).min(self.drafts.len().saturating_sub(1));
                return Ok(Transition::Stay);
            }
            Action::Digit(d) => {
                let n = if d == 0 { 10 } else { d as usize };
                if n > self.drafts.len() {
                    return Ok(Transition::Flash(Flash::Error(format!(
                        "There is no draft {n}"
                    ))));
                }
                n - 1
            }
            Action::Confirm if !self.drafts.is_empty() => self.selected,
            Action::Leave => {
                return Ok(Transition::Go(
                    Screen::Home(super::home::Home::new(ctx)?),
                    None,
                ));
            }
            _ => return Ok(Transition::Stay),
        };
        let draft = ctx.store.get(self.drafts[pick].id)?;
        let interview = super::interview::Interview::resume(ctx, draft)?;
        Ok(Transition::Go(
            Screen::Interview(Box::new(interview)),
            Some(Flash::Ok("Resumed where it was left".into())),
        ))
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let block = Block::default().borders(Borders::ALL).title(Line::styled(
            " Drafts — Enter or a number resumes ",
            theme.title,
        ));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if self.drafts.is_empty() {
            frame.render_widget(
                Paragraph::new("No drafts: every interview and audit on this device is finalized."),
                inner,
            );
            return;
        }
        let lines: Vec<Line> = self
            .drafts
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let when = d.changed_at.with_timezone(&Local).format("%d %b %H:%M");
                let text = format!(
                    "{} {:>2}  {:<4} {:<10} {}  {} answer(s)  at {}",
                    if i == self.selected { "▶" } else { " " },
                    i + 1,
                    d.survey_id,
                    d.area,
                    when,
                    d.answers.len(),
                    d.position.as_deref().unwrap_or("start"),
                );
                if i == self.selected {
                    Line::styled(text, theme.highlight)
                } else {
                    Line::from(text)
                }
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), inner);
    }
}
