//! High-contrast styles. Meaning is never carried by colour alone: selections have a ▶
//! marker and reverse video, errors a ✗ and words. `NO_COLOR` turns colour off entirely.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub title: Style,
    pub highlight: Style,
    pub error: Style,
    pub notice: Style,
    pub dim: Style,
    pub ok: Style,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set (to anything, per no-color.org).
    pub fn from_env() -> Theme {
        if std::env::var_os("NO_COLOR").is_some() {
            Theme::monochrome()
        } else {
            Theme::colour()
        }
    }

    pub fn colour() -> Theme {
        Theme {
            title: Style::new().add_modifier(Modifier::BOLD),
            highlight: Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            error: Style::new()
                .fg(Color::LightRed)
                .add_modifier(Modifier::BOLD),
            notice: Style::new()
                .fg(Color::LightYellow)
                .add_modifier(Modifier::BOLD),
            dim: Style::new(),
            ok: Style::new()
                .fg(Color::LightGreen)
                .add_modifier(Modifier::BOLD),
        }
    }

    pub fn monochrome() -> Theme {
        Theme {
            title: Style::new().add_modifier(Modifier::BOLD),
            highlight: Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            error: Style::new().add_modifier(Modifier::BOLD),
            notice: Style::new().add_modifier(Modifier::BOLD),
            dim: Style::new(),
            ok: Style::new().add_modifier(Modifier::BOLD),
        }
    }
}
