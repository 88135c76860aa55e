//! One selectable list for every screen that shows rows to move through (door log, EVA
//! checklist, area picker, drafts, review, choice answers): a ratatui `Table` over
//! `TableState`, so the scroll window is worked out once, here, not by hand in each screen.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{HighlightSpacing, Row, StatefulWidget, Table, TableState};

use crate::tui::action::Action;
use crate::tui::theme::Theme;

/// The mark in front of the selected row; the other rows are indented by as much, so
/// columns line up whatever is selected.
pub const MARKER: &str = "▶ ";

/// Rows of cells in fixed columns; the selected row is marked with ▶ and drawn in reverse
/// video (never colour alone), and the rows scroll to keep it in view.
pub struct SelectableList<'a> {
    table: Table<'a>,
}

impl<'a> SelectableList<'a> {
    pub fn new<C>(rows: Vec<Row<'a>>, widths: C, theme: &Theme) -> SelectableList<'a>
    where
        C: IntoIterator,
        C::Item: Into<Constraint>,
    {
        SelectableList {
            table: Table::new(rows, widths)
                .row_highlight_style(theme.highlight)
                .highlight_symbol(MARKER)
                .highlight_spacing(HighlightSpacing::Always),
        }
    }
}

impl StatefulWidget for SelectableList<'_> {
    type State = TableState;

    fn render(self, area: Rect, buf: &mut Buffer, state: &mut TableState) {
        StatefulWidget::render(self.table, area, buf, state);
    }
}

/// The state to draw a list with row `selected` highlighted. Drawing changes nothing on the
/// screen's state, so each frame scrolls from the top just far enough to show the selection.
pub fn state(selected: Option<usize>) -> TableState {
    TableState::new().with_selected(selected)
}

/// Where a movement key takes the selection in a list of `len` rows; `None` when the
/// action is not a movement.
pub fn moved(selected: usize, len: usize, action: Action) -> Option<usize> {
    let last = len.saturating_sub(1);
    Some(match action {
        Action::Up => selected.saturating_sub(1),
        Action::Down => (selected + 1).min(last),
        Action::PageUp => selected.saturating_sub(10),
        Action::PageDown => (selected + 10).min(last),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;

    fn draw(selected: usize, height: u16) -> String {
        let mut t = Terminal::new(TestBackend::new(20, height)).unwrap();
        t.draw(|f| {
            let rows = (1..=10)
                .map(|i| Row::new([format!("row {i}"), "x".into()]))
                .collect();
            let list = SelectableList::new(
                rows,
                [Constraint::Length(6), Constraint::Fill(1)],
                &Theme::monochrome(),
            );
            f.render_stateful_widget(list, f.area(), &mut state(Some(selected)));
        })
        .unwrap();
        t.backend().to_string()
    }

    #[test]
    fn the_selected_row_is_marked_and_kept_in_view() {
        let top = draw(0, 3);
        assert!(top.starts_with("\"▶ row 1  x"), "{top}");
        assert!(top.contains("\"  row 2  x"), "{top}");
        // Row 8 selected in 3 lines: it is the last line shown.
        let low = draw(7, 3);
        let lines: Vec<&str> = low.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("\"  row 6"), "{low}");
        assert!(lines[2].starts_with("\"▶ row 8"), "{low}");
    }

    #[test]
    fn movement_stays_inside_the_list() {
        assert_eq!(moved(0, 5, Action::Up), Some(0));
        assert_eq!(moved(4, 5, Action::Down), Some(4));
        assert_eq!(moved(2, 50, Action::PageDown), Some(12));
        assert_eq!(moved(3, 5, Action::PageUp), Some(0));
        assert_eq!(moved(0, 0, Action::Down), Some(0));
        assert_eq!(moved(1, 5, Action::Confirm), None);
    }
}
