//! The report as one tidy table (one row per area, period and measure), for the CSV
//! format: what an analyst loading it into R, Excel or DuckDB expects.
//!
//! Measures: `fieldwork.<field>`; `issues.<all|residents|businesses>.<issue>.<named|
//! ranked_first|top_three>` (value = fraction, plus a `.count` row); `indicator.<id>` (and
//! `.count`); `ni195.<element>`; `record.<issue>.recorded`; `change.<issue>` (value = the
//! change: new, up, down, same, not_comparable); `priority.<rank>` (value = issue id, base =
//! none, low/high = none); `heard.type.<group>`; `heard.<question>.<value>`.

use super::model::{AreaReport, Count, Figure, Report};

/// One row of the tidy table.
#[derive(Debug, Clone, PartialEq)]
pub struct TidyRow {
    pub area: String,
    pub period: String,
    pub measure: String,
    /// The value as written (a fraction, a count, a score or a word); empty when hidden or
    /// missing.
    pub value: String,
    pub base: Option<u64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub suppressed: bool,
}

/// The column names, in order.
pub const COLUMNS: [&str; 8] = [
    "area",
    "period",
    "measure",
    "value",
    "base",
    "low",
    "high",
    "suppressed",
];

pub fn rows(report: &Report) -> Vec<TidyRow> {
    let mut out = Vec::new();
    for a in &report.areas {
        area_rows(a, &mut out);
    }
    out
}

/// Collects the rows of one area.
struct Rows<'a> {
    area: &'a str,
    period: String,
    out: &'a mut Vec<TidyRow>,
}

impl Rows<'_> {
    fn row(
        &mut self,
        measure: String,
        value: String,
        base: Option<u64>,
        interval: Option<(f64, f64)>,
        suppressed: bool,
    ) {
        self.out.push(TidyRow {
            area: self.area.to_owned(),
            period: self.period.clone(),
            measure,
            value,
            base,
            low: interval.map(|i| i.0),
            high: interval.map(|i| i.1),
            suppressed,
        });
    }

    fn value(&mut self, measure: String, value: String) {
        self.row(measure, value, None, None, false);
    }

    /// A figure: its fraction, then its count as `<measure>.count`.
    fn figure(&mut self, measure: String, f: &Figure) {
        let interval = f.low.zip(f.high);
        let fraction = f.fraction.map(num).unwrap_or_default();
        self.row(measure.clone(), fraction, f.base, interval, f.suppressed);
        let count = f.count.map(|n| n.to_string()).unwrap_or_default();
        self.row(
            format!("{measure}.count"),
            count,
            f.base,
            None,
            f.suppressed,
        );
    }

    fn count(&mut self, measure: String, c: &Count) {
        let value = c.value.map(|n| n.to_string()).unwrap_or_default();
        self.row(measure, value, None, None, c.suppressed);
    }
}

fn area_rows(a: &AreaReport, out: &mut Vec<TidyRow>) {
    let mut rows = Rows {
        area: &a.code,
        period: a.period.to_string(),
        out,
    };
    let fw = &a.fieldwork;
    for (name, c) in [
        ("doors_knocked", &fw.doors_knocked),
        ("doors_answered", &fw.doors_answered),
        ("doors_interviewed", &fw.doors_interviewed),
        ("refused_at_door", &fw.refused_at_door),
        ("interviews", &fw.interviews),
        ("youth_interviews", &fw.youth_interviews),
        ("declined_consent", &fw.declined_consent),
        ("stopped_part_way", &fw.stopped_part_way),
    ] {
        rows.count(format!("fieldwork.{name}"), c);
    }
    rows.figure("fieldwork.response_rate".to_owned(), &fw.response_rate);
    rows.value(
        "fieldwork.interviewers".to_owned(),
        fw.interviewers.to_string(),
    );
    rows.value("fieldwork.transects".to_owned(), fw.transects.to_string());
    for (group, table) in [
        ("all", &a.issues.all),
        ("residents", &a.issues.residents.rows),
        ("businesses", &a.issues.businesses.rows),
    ] {
        for r in table {
            for (what, f) in [
                ("named", &r.named),
                ("ranked_first", &r.ranked_first),
                ("top_three", &r.top_three),
            ] {
                rows.figure(format!("issues.{group}.{}.{what}", r.issue), f);
            }
        }
    }
    for m in &a.indicators.measures {
        rows.figure(format!("indicator.{}", m.id), &m.figure);
    }
    for e in &a.street.ni195 {
        let score = e.score.map(num).unwrap_or_default();
        rows.row(
            format!("ni195.{}", e.element),
            score,
            Some(e.graded),
            None,
            false,
        );
    }
    for r in &a.street_and_record {
        let recorded = r.recorded.map(|n| n.to_string()).unwrap_or_default();
        rows.value(format!("record.{}.recorded", r.issue), recorded);
    }
    for c in &a.changes.issues {
        let word = serde_json::to_value(c.change)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        rows.value(format!("change.{}", c.issue), word);
    }
    for p in &a.top_three {
        rows.value(format!("priority.{}", p.rank), p.issue.clone());
        let score = p.score.map(num).unwrap_or_default();
        rows.row(
            format!("priority.{}.score", p.rank),
            score,
            None,
            None,
            p.suppressed,
        );
    }
    for g in &a.heard.by_type {
        rows.count(format!("heard.type.{}", g.group), &g.count);
    }
    for q in &a.heard.about_you {
        for g in &q.rows {
            rows.count(format!("heard.{}.{}", q.question, g.group), &g.count);
        }
    }
}

/// A number as written in the CSV: up to 6 decimals, no trailing zeros.
pub fn num(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}
