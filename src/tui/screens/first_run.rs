//! First run: who is using this laptop, and what it is called. Asked once, then kept.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::{Screen, Transition};
use crate::Error;
use crate::response::{SettingKey, Settings};
use crate::tui::action::Action;
use crate::tui::app::{Context, Flash};
use crate::tui::fields::{FieldEvent, TextField, TextKind};
use crate::tui::theme::Theme;

pub struct FirstRun {
    officer: TextField,
    device: TextField,
    /// 0: officer, 1: device.
    step: usize,
    error: Option<String>,
}

impl FirstRun {
    pub fn new(settings: &Settings) -> FirstRun {
        let prefill = |v: &Option<String>| {
            TextField::prefilled(TextKind::Text { long: false }, v.as_deref().unwrap_or(""))
        };
        FirstRun {
            officer: prefill(&settings.officer),
            device: prefill(&settings.device),
            step: 0,
            error: None,
        }
    }

    pub fn update(&mut self, ctx: &mut Context, action: Action) -> Result<Transition, Error> {
        if action == Action::Leave {
            return Ok(Transition::Quit);
        }
        let (field, key) = if self.step == 0 {
            (&mut self.officer, SettingKey::Officer)
        } else {
            (&mut self.device, SettingKey::Device)
        };
        match field.handle(action) {
            FieldEvent::Submit(answer) => {
                let value = answer.to_string();
                // The store validates (length, control characters) and keeps it.
                match ctx.store.set_setting(key, &value) {
                    Ok(_) => {
                        self.error = None;
                        ctx.settings = ctx.store.settings()?;
                        if self.step == 0 {
                            self.step = 1;
                        } else {
                            let home = super::home::Home::new(ctx)?;
                            return Ok(Transition::Go(
                                Screen::Home(home),
                                Some(Flash::Ok("Saved. Welcome to doorstep.".into())),
                            ));
                        }
                    }
                    Err(e) => self.error = Some(e.to_string()),
                }
            }
            FieldEvent::Invalid(m) => self.error = Some(m),
            FieldEvent::Back if self.step == 1 => self.step = 0,
            FieldEvent::Back | FieldEvent::None => {}
        }
        Ok(Transition::Stay)
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Line::styled(" doorstep — first run ", theme.title));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [intro, q1, f1, q2, f2, err] = Layout::vertical([
            Constraint::Length(3),
            Constraint::Length(1),
            Constraint::Length(3),
            Constraint::Length(1),
            Constraint::Length(3),
            Constraint::Min(1),
        ])
        .areas(inner);
        frame.render_widget(
            Paragraph::new("This laptop has not been set up. Every interview and audit records who did it and on which device. You are asked once.").wrap(Wrap { trim: true }),
            intro,
        );
        let marker = |on: bool| if on { "▶ " } else { "  " };
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!(
                    "{}Your officer or staff id (collar or staff number):",
                    marker(self.step == 0)
                ),
                theme.title,
            )),
            q1,
        );
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!(
                    "{}A name for this laptop (e.g. WIGAN-NPT-07):",
                    marker(self.step == 1)
                ),
                theme.title,
            )),
            q2,
        );
        if self.step == 0 {
            self.officer.render(frame, f1, theme);
            frame.render_widget(Paragraph::new(format!("  {}", self.device.value())), f2);
        } else {
            frame.render_widget(Paragraph::new(format!("  {}", self.officer.value())), f1);
            self.device.render(frame, f2, theme);
        }
        if let Some(e) = &self.error {
            frame.render_widget(
                Paragraph::new(Line::styled(format!("✗ {e}"), theme.error))
                    .wrap(Wrap { trim: true }),
                err,
            );
        }
    }
}
