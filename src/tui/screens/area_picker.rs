//! Area picker: township → ward → PAA, type to filter, with a map of the highlighted ward
//! and its priority action areas, and today's located responses marked on it.

use geo::{BoundingRect, Centroid, MultiPolygon};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Color;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::canvas::{Canvas, Line as CanvasLine, Points};
use ratatui::widgets::{Block, Borders, Paragraph, Row as TableRow};

use super::{Screen, Transition};
use crate::Error;
use crate::geography::{Geography, Level};
use crate::response::SettingKey;
use crate::tui::action::Action;
use crate::tui::app::{AreaPick, Context, Flash};
use crate::tui::theme::Theme;
use crate::tui::widgets::list::{self, SelectableList};

/// One row of the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub level: Option<Level>,
    pub code: String,
    pub name: String,
    /// The ward a PAA row sits in (its own code for a ward row).
    pub ward: String,
    pub township: Option<String>,
}

impl Row {
    fn pickable(&self) -> bool {
        self.level.is_some()
    }
}

pub struct AreaPicker {
    rows: Vec<Row>,
    filter: String,
    highlight: usize,
    builtin: bool,
    /// Today's responses with a known location, as (lon, lat).
    marks: Vec<(f64, f64)>,
}

/// The tree flattened into rows: township headings, wards, and their PAAs.
pub fn rows(geography: &Geography) -> Vec<Row> {
    let mut out = Vec::new();
    for t in geography.tree() {
        let township = t.name.clone();
        out.push(Row {
            level: None,
            code: String::new(),
            name: t
                .name
                .clone()
                .unwrap_or_else(|| "Wards in no township".into()),
            ward: String::new(),
            township: township.clone(),
        });
        for w in t.wards {
            out.push(Row {
                level: Some(Level::Ward),
                code: w.ward.code.clone(),
                name: w.ward.name.clone(),
                ward: w.ward.code.clone(),
                township: township.clone(),
            });
            for p in w.paas {
                out.push(Row {
                    level: Some(Level::Paa),
                    code: p.code,
                    name: p.name,
                    ward: w.ward.code.clone(),
                    township: township.clone(),
                });
            }
        }
    }
    out
}

impl AreaPicker {
    pub fn new(ctx: &Context, marks: Vec<(f64, f64)>) -> AreaPicker {
        let rows = rows(&ctx.geography);
        let mut picker = AreaPicker {
            rows,
            filter: String::new(),
            highlight: 0,
            builtin: ctx.geography.builtin,
            marks,
        };
        // Open on the current area, or the first thing that can be picked.
        let visible = picker.visible();
        picker.highlight = ctx
            .area
            .as_ref()
            .and_then(|a| visible.iter().position(|r| r.code == a.code))
            .or_else(|| visible.iter().position(|r| r.pickable()))
            .unwrap_or(0);
        picker
    }

    /// Rows matching the filter (a heading shows when any of its areas match).
    pub fn visible(&self) -> Vec<&Row> {
        let f = self.filter.to_lowercase();
        if f.is_empty() {
            return self.rows.iter().collect();
        }
        let hit = |r: &Row| {
            r.pickable()
                && (r.name.to_lowercase().contains(&f) || r.code.to_lowercase().contains(&f))
        };
        self.rows
            .iter()
            .filter(|r| {
                hit(r)
                    || (!r.pickable()
                        && self.rows.iter().any(|x| hit(x) && x.township == r.township))
            })
            .collect()
    }

    pub fn update(&mut self, ctx: &mut Context, action: Action) -> Result<Transition, Error> {
        let count = self.visible().len();
        match action {
            Action::Up | Action::Down | Action::PageUp | Action::PageDown => {
                self.highlight =
                    list::moved(self.highlight, count, action).unwrap_or(self.highlight);
            }
            Action::Char(c) if c.is_alphanumeric() || c == ' ' || c == '-' || c == '\'' => {
                self.filter.push(c);
                self.highlight = self
                    .visible()
                    .iter()
                    .position(|r| r.pickable())
                    .unwrap_or(0);
            }
            Action::Backspace => {
                self.filter.pop();
                self.highlight = self
                    .visible()
                    .iter()
                    .position(|r| r.pickable())
                    .unwrap_or(0);
            }
            Action::Confirm => {
                let Some(row) = self.visible().get(self.highlight).map(|r| (*r).clone()) else {
                    return Ok(Transition::Flash(Flash::Error(
                        "Nothing matches what you typed".into(),
                    )));
                };
                if !row.pickable() {
                    return Ok(Transition::Flash(Flash::Notice(
                        "Pick a ward or a priority action area, not a township".into(),
                    )));
                }
                ctx.store.set_setting(SettingKey::Area, &row.code)?;
                ctx.settings = ctx.store.settings()?;
                ctx.area = Some(AreaPick {
                    code: row.code.clone(),
                    name: row.name.clone(),
                });
                let home = super::home::Home::new(ctx)?;
                return Ok(Transition::Go(
                    Screen::Home(home),
                    Some(Flash::Ok(format!("Working in {} ({})", row.name, row.code))),
                ));
            }
            Action::Leave => {
                return Ok(Transition::Go(
                    Screen::Home(super::home::Home::new(ctx)?),
                    None,
                ));
            }
            _ => {}
        }
        Ok(Transition::Stay)
    }

    pub fn render(&self, ctx: &Context, frame: &mut Frame, area: Rect, theme: &Theme) {
        let title = if self.builtin {
            " Choose the area — built-in DEMO plan (Wigan) "
        } else {
            " Choose the area "
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Line::styled(title, theme.title));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [list_area, map_area] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(inner);
        let [list_rows, filter_area] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(list_area);
        let visible = self.visible();
        let lines: Vec<TableRow> = visible
            .iter()
            .map(|r| match r.level {
                None => TableRow::new([r.name.clone()]).style(theme.title),
                Some(Level::Ward) => TableRow::new([format!("{} {}", r.code, r.name)]),
                Some(_) => TableRow::new([format!("  PAA {} {}", r.code, r.name)]),
            })
            .collect();
        frame.render_stateful_widget(
            SelectableList::new(lines, [Constraint::Fill(1)], theme),
            list_rows,
            &mut list::state(Some(self.highlight)),
        );
        let filter = if self.filter.is_empty() {
            "Type to filter".to_owned()
        } else {
            format!("Filter: {}", self.filter)
        };
        frame.render_widget(Paragraph::new(Line::styled(filter, theme.dim)), filter_area);
        if let Some(row) = visible.get(self.highlight).filter(|r| r.pickable()) {
            self.render_map(ctx, row, frame, map_area, theme);
        } else {
            frame.render_widget(
                Paragraph::new(Line::styled("Highlight a ward to see its map", theme.dim)),
                map_area,
            );
        }
    }

    fn render_map(&self, ctx: &Context, row: &Row, frame: &mut Frame, area: Rect, theme: &Theme) {
        let geo = &ctx.geography;
        let Some(ward) = geo.outline(Level::Ward, &row.ward) else {
            frame.render_widget(Paragraph::new("No outline for this ward"), area);
            return;
        };
        let paas: Vec<(&str, &MultiPolygon<f64>)> = self
            .rows
            .iter()
            .filter(|r| r.level == Some(Level::Paa) && r.ward == row.ward)
            .filter_map(|r| {
                geo.outline(Level::Paa, &r.code)
                    .map(|o| (r.code.as_str(), o))
            })
            .collect();
        let Some(bounds) = ward.bounding_rect() else {
            return;
        };
        let (min, max) = (bounds.min(), bounds.max());
        // Pad, and stretch the shorter side so the map is not distorted by the cell aspect.
        let pad = ((max.x - min.x).max(max.y - min.y)) * 0.05;
        let colour = |c: Color| {
            if theme.error.fg.is_some() {
                c
            } else {
                Color::Reset
            }
        };
        let ward_lines = ring_lines(ward, colour(Color::White));
        let paa_lines: Vec<CanvasLine> = paas
            .iter()
            .flat_map(|(_, o)| ring_lines(o, colour(Color::Yellow)))
            .collect();
        let labels: Vec<(f64, f64, String)> = paas
            .iter()
            .enumerate()
            .filter_map(|(i, (_, o))| o.centroid().map(|c| (c.x(), c.y(), format!("P{}", i + 1))))
            .collect();
        let marks: Vec<(f64, f64)> = self
            .marks
            .iter()
            .copied()
            .filter(|(x, y)| *x >= min.x && *x <= max.x && *y >= min.y && *y <= max.y)
            .collect();
        let title = format!(
            " {} ",
            geo.layer(Level::Ward)
                .and_then(|l| l.get(&row.ward))
                .map(|a| a.name.as_str())
                .unwrap_or("")
        );
        let canvas = Canvas::default()
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(Span::styled(title, theme.title))
                    .title_bottom(Span::styled(" P1… = PAA · × = today ", theme.dim)),
            )
            .marker(Marker::Braille)
            .x_bounds([min.x - pad, max.x + pad])
            .y_bounds([min.y - pad, max.y + pad])
            .paint(move |ctx| {
                for l in &ward_lines {
                    ctx.draw(l);
                }
                ctx.layer();
                for l in &paa_lines {
                    ctx.draw(l);
                }
                ctx.layer();
                ctx.draw(&Points {
                    coords: &marks,
                    color: colour(Color::LightRed),
                });
                for (x, y, label) in &labels {
                    ctx.print(*x, *y, label.clone());
                }
                for (x, y) in &marks {
                    ctx.print(*x, *y, "×");
                }
            });
        frame.render_widget(canvas, area);
    }
}

/// The rings of a (multi)polygon as canvas line segments.
fn ring_lines(shape: &MultiPolygon<f64>, color: Color) -> Vec<CanvasLine> {
    let mut out = Vec::new();
    for poly in shape {
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            for seg in ring.lines() {
                out.push(CanvasLine {
                    x1: seg.start.x,
                    y1: seg.start.y,
                    x2: seg.end.x,
                    y2: seg.end.y,
                    color,
                });
            }
        }
    }
    out
}

/// Where today's interviews and audits recorded a location (lat/lon or grid reference), as
/// (lon, lat) for the map.
pub fn today_marks(ctx: &Context) -> Result<Vec<(f64, f64)>, Error> {
    use crate::response::{ResponseFilter, StoredAnswer};
    use crate::survey::Answer;
    let today = ctx.env().today();
    let listing = ctx.store.list(&ResponseFilter::default())?;
    let mut out = Vec::new();
    for r in &listing.responses {
        if ctx.env().local_date(r.changed_at) != today {
            continue;
        }
        for record in r.answers.values() {
            if let StoredAnswer::Plain(Answer::Location(loc)) = &record.value {
                out.extend(crate::response::location_point(loc));
            }
        }
    }
    Ok(out)
}
