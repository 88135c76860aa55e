//! The screens of the field app. Each has its own state, `update` and `render`.

pub mod area_picker;
pub mod checklist;
pub mod door_log;
pub mod drafts;
pub mod first_run;
pub mod home;
pub mod interview;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::action::Action;
use super::app::{Context, Flash};
use super::keys::Mode;
use super::theme::Theme;
use crate::Error;

pub enum Screen {
    FirstRun(first_run::FirstRun),
    Home(home::Home),
    Drafts(drafts::Drafts),
    DoorLog(door_log::DoorLog),
    Interview(Box<interview::Interview>),
    AreaPicker(area_picker::AreaPicker),
}

/// One numbered row of a menu or list: `▶` and reverse video mark the selected one.
pub fn numbered_row(
    selected: bool,
    number: usize,
    text: &str,
    theme: &Theme,
) -> ratatui::text::Line<'static> {
    let text = format!("{} {number:>2}  {text}", if selected { "▶" } else { " " });
    if selected {
        ratatui::text::Line::styled(text, theme.highlight)
    } else {
        ratatui::text::Line::from(text)
    }
}

/// What an update asks the app to do next.
pub enum Transition {
    Stay,
    Go(Screen, Option<Flash>),
    Flash(Flash),
    Quit,
}

impl Screen {
    /// The first screen: first-run questions, or home.
    pub fn start(ctx: &Context) -> Result<Screen, Error> {
        if ctx.settings.officer.is_none() || ctx.settings.device.is_none() {
            Ok(Screen::FirstRun(first_run::FirstRun::new(&ctx.settings)))
        } else {
            Ok(Screen::Home(home::Home::new(ctx)?))
        }
    }

    pub fn mode(&self) -> Mode {
        match self {
            Screen::FirstRun(_) => Mode::Form,
            Screen::Home(_) | Screen::Drafts(_) => Mode::Menu,
            Screen::DoorLog(d) => d.mode(),
            Screen::Interview(i) => i.mode(),
            Screen::AreaPicker(_) => Mode::Picker,
        }
    }

    pub fn update(&mut self, ctx: &mut Context, action: Action) -> Result<Transition, Error> {
        match self {
            Screen::FirstRun(s) => s.update(ctx, action),
            Screen::Home(s) => s.update(ctx, action),
            Screen::Drafts(s) => s.update(ctx, action),
            Screen::DoorLog(s) => s.update(ctx, action),
            Screen::Interview(s) => s.update(ctx, action),
            Screen::AreaPicker(s) => s.update(ctx, action),
        }
    }

    pub fn render(&self, ctx: &Context, frame: &mut Frame, area: Rect, theme: &Theme) {
        match self {
            Screen::FirstRun(s) => s.render(frame, area, theme),
            Screen::Home(s) => s.render(ctx, frame, area, theme),
            Screen::Drafts(s) => s.render(frame, area, theme),
            Screen::DoorLog(s) => s.render(ctx, frame, area, theme),
            Screen::Interview(s) => s.render(frame, area, theme),
            Screen::AreaPicker(s) => s.render(ctx, frame, area, theme),
        }
    }
}
