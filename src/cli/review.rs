//! `doorstep review`: scrutiny of the action register per township or ward — what is due,
//! overdue (by how long), done, not possible and why, by agency and owner; open
//! escalations; issues raised in 2+ consecutive periods with no action done; and with
//! `--year`, a ward-by-ward summary of priorities set and actions completed.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, SecondsFormat};
use clap::{Args, ValueEnum};

use super::report::LevelArg;
use crate::Error;
use crate::action::review::{AreaReview, YearRow, review_area, year_summary};
use crate::action::{Action, pounds};
use crate::geography::Geography;
use crate::output::{Cell, Column, Document, Format, Table, Value};
use crate::report::{AreaLevel, AreaSpec, Report, build};
use crate::response::{Env, Period};
use crate::store::Store;
use crate::survey::registry::Registry;

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// Review per township or per ward.
    #[arg(long, value_enum)]
    pub level: ReviewLevel,
    /// Only this area: a township name or a ward code.
    #[arg(long, value_name = "CODE")]
    pub area: Option<String>,
    /// The period whose priorities are reviewed, e.g. 2026-Q4.
    #[arg(long, value_name = "P")]
    pub period: String,
    /// Add the annual view: ward by ward, priorities set and actions completed in YEAR.
    #[arg(long, value_name = "YYYY")]
    pub year: Option<String>,
    /// md (default), html (a printable page), json (the document model: tables `overdue`,
    /// `due`, `done`, `not_possible`, `escalations`, `by_agency`, `recurring` per area, and
    /// `year`) or csv (those tables one after another).
    #[arg(long, value_enum, default_value = "md")]
    pub format: ReviewFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReviewLevel {
    Township,
    Ward,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReviewFormat {
    Md,
    Html,
    Json,
    Csv,
}

pub fn run(
    args: &ReviewArgs,
    data_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let period: Period = args.period.parse()?;
    let year = match &args.year {
        None => None,
        Some(y) => Some(
            y.trim()
                .parse::<i32>()
                .ok()
                .filter(|y| (1000..=9999).contains(y))
                .ok_or_else(|| {
                    Error::BadInput(format!(
                        "--year {y}: expected a four-digit year, such as 2026"
                    ))
                })?,
        ),
    };
    let level = match args.level {
        ReviewLevel::Township => LevelArg::Township,
        ReviewLevel::Ward => LevelArg::Ward,
    };
    let store = super::open_store_read_only(data_dir, err)?;
    let geography = store.stored_geography()?.or_builtin()?;
    let (_, specs) = super::report::areas(&geography, args.area.as_deref(), Some(level)).map_err(
        |e| match e {
            Error::Usage(m) => Error::BadInput(format!("--area: {m}")),
            other => other,
        },
    )?;
    let listing = store.actions()?;
    if let Some(e) = listing.unreadable.into_iter().next() {
        return Err(e.into());
    }
    let actions = listing.actions;
    let (registry, _diagnostics) = Registry::load(data_dir)?;
    let (report, _) = pack(&store, &registry, geography.clone(), &specs, period)?;
    let today = Env::system().today();
    let mut reviews: Vec<AreaReview> = specs
        .iter()
        .map(|spec| {
            let changes = report
                .areas
                .iter()
                .find(|a| a.code == spec.code)
                .map(|a| a.changes.issues.as_slice())
                .unwrap_or_default();
            review_area(spec, &actions, period, today, changes)
        })
        .collect();
    // Without --area, the areas with anything to review.
    if args.area.is_none() {
        reviews.retain(|r| !r.is_empty() || !r.escalations.is_empty());
    }
    let mut doc = document(&reviews, period, today);
    if let Some(y) = year {
        let wards = wards_within(&geography, &specs)?;
        year_table(&mut doc, &year_summary(&wards, &actions, y, today), y);
    }
    let format = match args.format {
        ReviewFormat::Md => Format::Markdown,
        ReviewFormat::Html => Format::Html,
        ReviewFormat::Json => Format::Json,
        ReviewFormat::Csv => Format::Csv,
    };
    write_out(out, args.out.as_deref(), &doc, format)
}

/// Renders `doc` to `path`, or to `out` when there is none.
pub(crate) fn write_out(
    out: &mut dyn Write,
    path: Option<&Path>,
    doc: &Document,
    format: Format,
) -> Result<(), Error> {
    let mut bytes = Vec::new();
    super::print(&mut bytes, doc, format)?;
    match path {
        Some(p) => std::fs::write(p, &bytes).map_err(|e| Error::io(p, e)),
        None => out
            .write_all(&bytes)
            .map_err(|e| Error::io("standard output", e)),
    }
}

/// The ward specs inside `specs` (each ward of a township; a ward as itself).
fn wards_within(geography: &Geography, specs: &[AreaSpec]) -> Result<Vec<AreaSpec>, Error> {
    let (_, wards) = super::report::areas(geography, None, Some(LevelArg::Ward))?;
    Ok(wards
        .into_iter()
        .filter(|w| {
            specs.iter().any(|s| match s.level {
                AreaLevel::Township => s.holds(&w.code),
                _ => s.code == w.code,
            })
        })
        .collect())
}

/// The latest taxonomy of the KIN surveys installed (the one the report uses).
/// The report model for `specs` and `period` (compared with the period before), from
/// what the store holds, read as the pack reads it (same taxonomy edition, same counts).
pub(crate) fn pack(
    store: &Store,
    registry: &Registry,
    geography: Geography,
    specs: &[AreaSpec],
    period: Period,
) -> Result<(Report, crate::pack::Sources), Error> {
    // Counted as `doorstep report` counts: bounded by the areas, not the store.
    let sources = crate::pack::Sources::read_period(store, registry, geography, period, specs)?;
    let level = specs.first().map_or(AreaLevel::Ward, |s| s.level);
    // Public rules: review and leaflet are both read outside the coordinator's desk.
    let input = sources.input(
        registry,
        period,
        Some(period.previous()),
        level,
        specs.to_vec(),
        false,
        None,
    );
    let report = build(&input);
    Ok((report, sources))
}

fn date(d: NaiveDate) -> Cell {
    Cell::from(d.format("%Y-%m-%d").to_string())
}

fn base_columns() -> Vec<Column> {
    vec![
        Column::text("area", "AREA").machine_only(),
        Column::text("id", "ID"),
        Column::text("issue", "ISSUE"),
        Column::text("action", "ACTION").max_width(40),
        Column::text("lead", "LEAD"),
        Column::text("owner", "OWNER"),
        Column::time("due", "DUE"),
    ]
}

fn base_cells(area: &str, a: &Action) -> Vec<Cell> {
    vec![
        Cell::from(area),
        Cell::from(a.id.to_string()),
        Cell::from(&a.priority.issue),
        Cell::from(&a.action),
        Cell::from(&a.lead),
        Cell::from(&a.owner),
        date(a.due),
    ]
}

/// The review as a document: per area, its tables in a fixed order.
pub fn document(reviews: &[AreaReview], period: Period, today: NaiveDate) -> Document {
    let mut doc = Document::new();
    doc.heading(format!(
        "Scrutiny review of the {period} priorities, {}",
        today.format("%Y-%m-%d")
    ));
    if reviews.is_empty() {
        doc.paragraph(format!("No actions or persisting issues for {period}."));
    }
    for r in reviews {
        let area = r.code.as_str();
        doc.heading(if r.name == r.code {
            r.name.clone()
        } else {
            format!("{} ({})", r.name, r.code)
        });

        doc.paragraph("Overdue");
        let mut cols = base_columns();
        cols.push(Column::text("overdue_by", "OVERDUE BY"));
        cols.push(Column::integer("overdue_days", "DAYS").machine_only());
        cols.push(Column::text("status", "STATUS"));
        let mut t = Table::new("overdue", cols).when_empty("none overdue");
        for (a, o) in &r.overdue {
            let mut row = base_cells(area, a);
            row.push(Cell::from(o.to_string()));
            row.push(Cell::from(Value::Integer(o.days)));
            row.push(Cell::from(a.status.to_string()));
            t.push(row);
        }
        doc.table(t);

        doc.paragraph("Due");
        let mut cols = base_columns();
        cols.push(Column::text("status", "STATUS"));
        let mut t = Table::new("due", cols).when_empty("nothing else due");
        for a in &r.due {
            let mut row = base_cells(area, a);
            row.push(Cell::from(a.status.to_string()));
            t.push(row);
        }
        doc.table(t);

        doc.paragraph("Done");
        let mut cols = base_columns();
        cols.push(Column::time("done_at", "DONE"));
        cols.push(Column::text("outcome", "OUTCOME").max_width(30));
        cols.push(Column::text("evidence", "EVIDENCE").max_width(30));
        cols.push(Column::text("spend", "SPEND"));
        let mut t = Table::new("done", cols).when_empty("none done");
        for a in &r.done {
            let mut row = base_cells(area, a);
            let done = a
                .done_at()
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true));
            let shown = a
                .done_at()
                .map(|t| {
                    crate::response::Env::system()
                        .local_date(t)
                        .format("%Y-%m-%d")
                        .to_string()
                })
                .unwrap_or_default();
            row.push(Cell::from(done).shown_as(shown));
            row.push(Cell::from(a.outcome.clone()));
            row.push(Cell::from(
                a.evidence
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            ));
            row.push(Cell::from(a.spend_pence.map(pounds)));
            t.push(row);
        }
        doc.table(t);

        doc.paragraph("Not possible");
        let mut cols = base_columns();
        cols.push(Column::text("reason", "WHY NOT"));
        let mut t = Table::new("not_possible", cols).when_empty("none");
        for a in &r.not_possible {
            let mut row = base_cells(area, a);
            row.push(Cell::from(a.reason_not_possible()));
            t.push(row);
        }
        doc.table(t);

        doc.paragraph("Escalations open");
        let mut cols = base_columns();
        cols.push(Column::text("escalated_to", "TO"));
        cols.push(Column::time("escalated_at", "WHEN"));
        cols.push(Column::text("why", "WHY"));
        let mut t = Table::new("escalations", cols).when_empty("none open");
        for a in &r.escalations {
            let mut row = base_cells(area, a);
            let e = a.escalation.as_ref();
            row.push(Cell::from(e.map(|e| e.to.clone())));
            row.push(
                Cell::from(e.map(|e| e.at.to_rfc3339_opts(SecondsFormat::Secs, true))).shown_as(
                    e.map(|e| {
                        crate::response::Env::system()
                            .local_date(e.at)
                            .format("%Y-%m-%d")
                            .to_string()
                    })
                    .unwrap_or_default(),
                ),
            );
            row.push(Cell::from(e.map(|e| e.why.clone())));
            t.push(row);
        }
        doc.table(t);

        doc.paragraph("By agency and owner");
        let mut t = Table::new(
            "by_agency",
            vec![
                Column::text("area", "AREA").machine_only(),
                Column::text("lead", "LEAD"),
                Column::text("owner", "OWNER"),
                Column::integer("actions", "ACTIONS"),
                Column::integer("done", "DONE"),
                Column::integer("overdue", "OVERDUE"),
                Column::integer("not_possible", "NOT POSSIBLE"),
                Column::integer("escalated", "ESCALATED"),
            ],
        )
        .when_empty("no actions");
        for g in &r.by_agency {
            t.push(vec![
                Cell::from(area),
                Cell::from(&g.lead),
                Cell::from(&g.owner),
                Cell::from(g.actions),
                Cell::from(g.done),
                Cell::from(g.overdue),
                Cell::from(g.not_possible),
                Cell::from(g.escalated),
            ]);
        }
        doc.table(t);

        doc.paragraph("Raised in 2 or more consecutive periods with no action done");
        let mut t = Table::new(
            "recurring",
            vec![
                Column::text("area", "AREA").machine_only(),
                Column::text("issue", "ISSUE"),
                Column::text("label", "LABEL"),
                Column::integer("periods", "PERIODS"),
                Column::integer("actions_not_done", "ACTIONS NOT DONE"),
            ],
        )
        .when_empty("none");
        for c in &r.recurring {
            t.push(vec![
                Cell::from(area),
                Cell::from(&c.issue),
                Cell::from(&c.label),
                Cell::from(c.periods),
                Cell::from(c.actions_not_done),
            ]);
        }
        doc.table(t);
    }
    doc
}

fn year_table(doc: &mut Document, rows: &[YearRow], year: i32) {
    doc.heading(format!("The year {year}, ward by ward"));
    let mut t = Table::new(
        "year",
        vec![
            Column::text("ward", "WARD"),
            Column::text("name", "NAME"),
            Column::integer("priorities", "PRIORITIES"),
            Column::integer("actions", "ACTIONS"),
            Column::integer("done", "DONE"),
            Column::integer("not_possible", "NOT POSSIBLE"),
            Column::integer("overdue", "OVERDUE"),
        ],
    )
    .when_empty("no wards");
    for r in rows {
        t.push(vec![
            Cell::from(&r.code),
            Cell::from(&r.name),
            Cell::from(r.priorities),
            Cell::from(r.actions),
            Cell::from(r.done),
            Cell::from(r.not_possible),
            Cell::from(r.overdue),
        ]);
    }
    doc.table(t);
}
