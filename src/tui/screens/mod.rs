//! The screens of the field app. Each has its own state, `update` and `render`.

pub mod action_form;
pub mod actions;
pub mod area_picker;
pub mod checklist;
pub mod coordinator;
pub mod door_log;
pub mod drafts;
pub mod export;
pub mod first_run;
pub mod home;
pub mod interview;
pub mod report;
pub mod self_completion;

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
    Export(export::Export),
    Coordinator(Box<coordinator::Coordinator>),
    Report(Box<report::ReportScreen>),
    Actions(Box<actions::ActionsScreen>),
}

/// What a key did to a numbered menu or list.
pub enum MenuKey {
    /// The selection moved, or the key means nothing here.
    Stay,
    /// Item `n` (0-based) was picked, by its number or with Enter.
    Pick(usize),
    /// A number with no item; the message says so.
    NoSuch(Flash),
    /// Not a menu key: the screen decides (Esc and the like).
    Other,
}

/// Up/Down/digits/Enter on a menu of `len` items, shared by every numbered list.
pub fn menu_key(selected: &mut usize, len: usize, action: Action) -> MenuKey {
    match action {
        Action::Up => *selected = selected.saturating_sub(1),
        Action::Down => *selected = (*selected + 1).min(len.saturating_sub(1)),
        Action::Digit(d) => {
            let n = if d == 0 { 10 } else { d as usize };
            if n > len {
                return MenuKey::NoSuch(Flash::Error(format!("There is no item {n}")));
            }
            *selected = n - 1;
            return MenuKey::Pick(n - 1);
        }
        Action::Confirm if len > 0 => return MenuKey::Pick(*selected),
        Action::Confirm => {}
        _ => return MenuKey::Other,
    }
    MenuKey::Stay
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
            Screen::Home(h) => h.mode(),
            Screen::Drafts(d) => d.mode(),
            Screen::DoorLog(d) => d.mode(),
            Screen::Interview(i) => i.mode(),
            Screen::AreaPicker(_) => Mode::Picker,
            Screen::Export(s) => s.mode(),
            Screen::Coordinator(s) => s.mode(),
            Screen::Report(s) => s.mode(),
            Screen::Actions(s) => s.mode(),
        }
    }

    /// The question the screen is waiting for a y or n to, if any (drawn over the screen).
    pub fn question(&self) -> Option<String> {
        match self {
            Screen::Home(s) => s.question(),
            Screen::Drafts(s) => s.question(),
            Screen::DoorLog(s) => s.question(),
            _ => None,
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
            Screen::Export(s) => s.update(ctx, action),
            Screen::Coordinator(s) => s.update(ctx, action),
            Screen::Report(s) => s.update(ctx, action),
            Screen::Actions(s) => s.update(ctx, action),
        }
    }

    /// Before the app closes: an interview keeps what is typed and not yet confirmed.
    pub fn save_typing(&mut self, ctx: &Context) -> Result<(), Error> {
        match self {
            Screen::Interview(s) => s.save_typing(ctx),
            _ => Ok(()),
        }
    }

    /// A bracketed paste: an interview's text fields, the export folder and the action
    /// forms take one.
    pub fn paste(&mut self, text: &str) {
        match self {
            Screen::Interview(s) => s.paste(text),
            Screen::Export(s) => s.paste(text),
            Screen::Coordinator(s) => s.paste(text),
            Screen::Report(s) => s.paste(text),
            Screen::Actions(s) => s.paste(text),
            _ => {}
        }
    }

    /// Background job `id` has finished: the screen that started it takes its output and
    /// shows it. Returns whether one did.
    pub fn job_finished(&mut self, ctx: &mut Context, id: super::jobs::JobId) -> bool {
        match self {
            Screen::Export(s) => s.job_finished(ctx, id),
            Screen::Coordinator(s) => s.job_finished(ctx, id),
            Screen::Report(s) => s.job_finished(ctx, id),
            _ => false,
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
            Screen::Export(s) => s.render(ctx, frame, area, theme),
            Screen::Coordinator(s) => s.render(ctx, frame, area, theme),
            Screen::Report(s) => s.render(ctx, frame, area, theme),
            Screen::Actions(s) => s.render(ctx, frame, area, theme),
        }
    }
}
