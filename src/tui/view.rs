//! Drawing: the current screen, the flash line, the key hints and the help overlay.
//! Rendering reads the state and changes nothing.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::app::{App, Flash};
use super::keys;

pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    let hints = keys::hint_line(app.screen.mode());
    let hint_height = if wrapped_lines(&hints, area.width as usize) > 1 {
        2
    } else {
        1
    };
    // A long message wraps onto a second row rather than running off the edge.
    let flash_height = app.flash.as_ref().map_or(1, |f| {
        let text = match f {
            Flash::Ok(m) | Flash::Notice(m) | Flash::Error(m) => m,
        };
        super::wrap::wrapped_height(&format!("✓ {text}"), area.width as usize).clamp(1, 2)
    });
    let [main, flash_area, hint_area] = Layout::vertical([
        Constraint::Min(5),
        Constraint::Length(flash_height as u16),
        Constraint::Length(hint_height),
    ])
    .areas(area);
    app.screen.render(&app.ctx, frame, main, &app.theme);
    if let Some(flash) = &app.flash {
        let line = match flash {
            Flash::Ok(m) => Line::styled(format!("✓ {m}"), app.theme.ok),
            Flash::Notice(m) => Line::styled(format!("! {m}"), app.theme.notice),
            Flash::Error(m) => Line::styled(format!("✗ {m}"), app.theme.error),
        };
        frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), flash_area);
    }
    frame.render_widget(
        Paragraph::new(hints)
            .wrap(Wrap { trim: true })
            .style(app.theme.dim),
        hint_area,
    );
    if let Some(question) = app.screen.question() {
        render_question(app, &question, frame, main);
    }
    if app.help {
        render_help(app, frame, area);
    }
}

/// A question waiting for y or n, in a box over the screen so nothing else is mistaken for it.
fn render_question(app: &App, question: &str, frame: &mut Frame, area: Rect) {
    let width = area.width.saturating_sub(4).min(70);
    let text_width = width.saturating_sub(2).max(1) as usize;
    let height = (wrapped_lines(question, text_width) as u16 + 4).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::styled(" Are you sure? ", app.theme.title));
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(question.to_owned()),
            Line::from(""),
            Line::styled("y yes · n or Esc no, nothing changes", app.theme.notice),
        ])
        .wrap(Wrap { trim: true })
        .block(block),
        popup,
    );
}

fn wrapped_lines(text: &str, width: usize) -> usize {
    text.chars().count().div_ceil(width.max(1))
}

/// Every key of the current screen, from the same table that dispatches them.
fn render_help(app: &App, frame: &mut Frame, area: Rect) {
    let mode = app.screen.mode();
    let rows = keys::help_for(mode);
    let height = (rows.len() as u16 + 3).min(area.height);
    let width = area.width.saturating_sub(4).min(76);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, popup);
    let block = Block::default().borders(Borders::ALL).title(Line::styled(
        " Keys on this screen — any key closes ",
        app.theme.title,
    ));
    let lines: Vec<Line> = rows
        .iter()
        .map(|(k, d)| Line::from(format!("{k:>8}  {d}")))
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
