//! The pack as one self-contained, printable HTML page: A4 pages, a map of the reported
//! areas shaded by their top proposed issue (urgent EVA findings marked where they are), a bar
//! chart per area of the issue fractions with their 95% intervals, then every table of the
//! pack. Inline SVG and CSS only: no script, no font or image fetched, so it opens and
//! prints the same offline. Every piece of text from data is escaped.

use std::fmt::Write as _;

use geo::{BoundingRect, Rect};

use super::MapArea;
use crate::output::{Document, escape_html as esc};
use crate::report::{AreaReport, Report};

/// Colour-blind-safe colours for the top issues (Okabe–Ito, then Tableau), assigned in
/// order of the issue ids shown so the same pack always gets the same colours.
const PALETTE: [&str; 10] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#8C564B",
    "#7F7F7F", "#17BECF",
];
const NO_TOP: &str = "#E8E8E8";

const STYLE: &str = "
@page { size: A4; margin: 15mm 12mm; }
* { box-sizing: border-box; }
body { font-family: system-ui, 'Segoe UI', Arial, sans-serif; font-size: 10pt; color: #111; margin: 0; }
h1 { font-size: 18pt; margin: 0 0 4pt; }
h2 { font-size: 13pt; margin: 14pt 0 4pt; break-after: avoid; }
h3 { font-size: 11pt; margin: 10pt 0 4pt; break-after: avoid; }
table { border-collapse: collapse; margin: 4pt 0 10pt; width: 100%; break-inside: auto; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th, td { border: 0.5pt solid #999; padding: 2pt 4pt; text-align: left; vertical-align: top; }
th { background: #eee; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { border-left: 3pt solid #999; padding-left: 6pt; }
.warning { border-left-color: #b00; }
.marking { position: fixed; top: 0; left: 0; right: 0; text-align: center; font-weight: bold;
  color: #b00; letter-spacing: 0.1em; background: #fff; }
.marked { padding-top: 16pt; }
figure { margin: 6pt 0 12pt; break-inside: avoid; }
figcaption { font-size: 9pt; color: #333; }
svg text { font-family: system-ui, 'Segoe UI', Arial, sans-serif; }
.legend span { display: inline-block; margin-right: 10pt; }
.swatch { display: inline-block; width: 9pt; height: 9pt; border: 0.5pt solid #555; margin-right: 3pt; vertical-align: middle; }
.tables { break-before: page; }
@media screen { body { max-width: 190mm; margin: 10mm auto; } }
";

/// The page. `tables` is the pack's document (the same one Markdown prints).
pub fn render(report: &Report, tables: &Document, shapes: &[MapArea]) -> String {
    let mut h = String::new();
    let title = format!(
        "Priority-setting pack: {}, per {}",
        report.period, report.level
    );
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str(&format!("<title>{}</title>\n", esc(&title)));
    let mut style = STYLE.to_owned();
    if let Some(mark) = &report.marking {
        // Printed in the top margin of every page as well as in the fixed banner.
        let _ = writeln!(
            style,
            "@page {{ @top-center {{ content: \"{}\"; color: #b00; font-weight: bold; }} }}",
            css_string(&mark.to_uppercase())
        );
    }
    h.push_str(&format!("<style>{style}</style>\n</head>\n"));
    match &report.marking {
        Some(mark) => {
            h.push_str("<body class=\"marked\">\n");
            h.push_str(&format!(
                "<div class=\"marking\">{}</div>\n",
                esc(&mark.to_uppercase())
            ));
        }
        None => h.push_str("<body>\n"),
    }
    h.push_str(&format!("<h1>{}</h1>\n", esc(&title)));
    if let Some(p) = report.compared_with {
        h.push_str(&format!("<p>Compared with {}.</p>\n", esc(&p.to_string())));
    }
    h.push_str(&format!(
        "<p>{}</p>\n",
        esc(if report.public {
            "Public pack: small numbers suppressed (shown as “suppressed”)."
        } else {
            "Internal view: nothing suppressed. Not for publication."
        })
    ));

    let colours = colours(report);
    h.push_str("<h2>Map: each area's top proposed issue</h2>\n");
    h.push_str(&map(report, shapes, &colours));

    h.push_str("<h2>What people told us</h2>\n");
    for a in &report.areas {
        h.push_str(&format!("<h3>{} ({})</h3>\n", esc(&a.name), esc(&a.code)));
        h.push_str(&chart(a));
    }

    h.push_str("<section class=\"tables\">\n");
    h.push_str(&crate::output::html::fragment(tables));
    h.push_str("</section>\n</body>\n</html>\n");
    h
}

/// Text safe inside a CSS string literal.
fn css_string(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .map(|c| match c {
            '"' | '\\' | '<' | '>' => format!("\\{:x} ", c as u32),
            c => c.to_string(),
        })
        .collect()
}

/// Issue id → colour, for every top issue shown, in id order.
fn colours(report: &Report) -> Vec<(String, String, &'static str)> {
    let mut tops: Vec<(String, String)> = report
        .areas
        .iter()
        .filter_map(|a| a.top_three.first())
        .map(|t| (t.issue.clone(), t.label.clone()))
        .collect();
    tops.sort();
    tops.dedup();
    tops.into_iter()
        .enumerate()
        .map(|(i, (id, label))| (id, label, PALETTE[i % PALETTE.len()]))
        .collect()
}

/// A number for SVG: at most two decimals, no trailing noise.
fn n(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_owned() }
}

fn map(report: &Report, shapes: &[MapArea], colours: &[(String, String, &str)]) -> String {
    let drawn: Vec<(&AreaReport, &MapArea)> = report
        .areas
        .iter()
        .filter_map(|a| Some((a, shapes.iter().find(|s| s.code == a.code)?)))
        .collect();
    let bounds = drawn
        .iter()
        .filter_map(|(_, s)| s.shape.bounding_rect())
        .reduce(|a, b| {
            Rect::new(
                (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
            )
        });
    let Some(bounds) = bounds else {
        return "<p class=\"empty\">No outline is stored for the areas reported, so there is no map.</p>\n".into();
    };
    // Equirectangular, longitude shrunk by the cosine of the middle latitude: true enough
    // in shape for a borough.
    let (w, hgt, pad) = (640.0_f64, 420.0_f64, 10.0_f64);
    let k = ((bounds.min().y + bounds.max().y) / 2.0).to_radians().cos();
    let span_x = ((bounds.max().x - bounds.min().x) * k).max(1e-9);
    let span_y = (bounds.max().y - bounds.min().y).max(1e-9);
    let scale = ((w - 2.0 * pad) / span_x).min((hgt - 2.0 * pad) / span_y);
    let px = |x: f64| pad + (x - bounds.min().x) * k * scale;
    let py = |y: f64| pad + (bounds.max().y - y) * scale;
    let height = span_y * scale + 2.0 * pad;
    let mut s = format!(
        "<figure>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"Map of the areas shaded by top issue\">\n",
        n(w),
        n(height),
        n(w),
        n(height)
    );
    for (a, shape) in &drawn {
        let fill = a
            .top_three
            .first()
            .and_then(|t| colours.iter().find(|c| c.0 == t.issue))
            .map_or(NO_TOP, |c| c.2);
        let mut d = String::new();
        for poly in &shape.shape.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for (i, c) in ring.0.iter().enumerate() {
                    let _ = write!(
                        d,
                        "{}{},{} ",
                        if i == 0 { "M" } else { "L" },
                        n(px(c.x)),
                        n(py(c.y))
                    );
                }
                d.push_str("Z ");
            }
        }
        let top = a
            .top_three
            .first()
            .map_or("no top issue".to_owned(), |t| t.label.clone());
        let _ = writeln!(
            s,
            "<path d=\"{}\" fill=\"{fill}\" fill-rule=\"evenodd\" stroke=\"#333\" stroke-width=\"0.8\"><title>{} ({}): {}</title></path>",
            d.trim_end(),
            esc(&a.name),
            esc(&a.code),
            esc(&top)
        );
    }
    // Urgent findings with a position inside the map are drawn where they are; the rest
    // (fixed references only, or placed off the map) are counted on a marker on their area.
    let on_map = |lon: f64, lat: f64| {
        (bounds.min().x..=bounds.max().x).contains(&lon)
            && (bounds.min().y..=bounds.max().y).contains(&lat)
    };
    let mut drawn_points = 0;
    for (a, shape) in &drawn {
        let placed: Vec<_> = a
            .street
            .located_findings
            .iter()
            .filter(|f| f.urgent && on_map(f.lon, f.lat))
            .collect();
        for f in &placed {
            let (x, y) = (px(f.lon), py(f.lat));
            let mut title = format!("Urgent: {} ({})", f.item_label, a.code);
            if let Some(r) = &f.reference {
                let _ = write!(title, ", {r}");
            }
            if f.position_from == "transect_start" {
                title.push_str(", placed at the transect's start");
            }
            if let Some(g) = &f.agency {
                let _ = write!(title, "; report to {g}");
            }
            let _ = writeln!(
                s,
                "<g class=\"urgent-finding\"><path d=\"M{},{} L{},{} L{},{} L{},{} Z\" fill=\"#c00\" stroke=\"#fff\" stroke-width=\"1.2\"/><title>{}</title></g>",
                n(x),
                n(y - 6.0),
                n(x + 6.0),
                n(y),
                n(x),
                n(y + 6.0),
                n(x - 6.0),
                n(y),
                esc(&title)
            );
        }
        drawn_points += placed.len();
        let urgent = a.street.urgent.len().saturating_sub(placed.len());
        if urgent == 0 {
            continue;
        }
        let Some(b) = shape.shape.bounding_rect() else {
            continue;
        };
        let (cx, cy) = (px(b.center().x), py(b.center().y));
        let _ = writeln!(
            s,
            "<g><circle cx=\"{}\" cy=\"{}\" r=\"9\" fill=\"#c00\" stroke=\"#fff\" stroke-width=\"1.5\"/><text x=\"{}\" y=\"{}\" font-size=\"10\" font-weight=\"bold\" fill=\"#fff\" text-anchor=\"middle\">{urgent}</text><title>{}: {urgent} urgent EVA finding(s) without a position on the map</title></g>",
            n(cx),
            n(cy),
            n(cx),
            n(cy + 3.5),
            esc(&a.name)
        );
    }
    s.push_str("</svg>\n<figcaption class=\"legend\">");
    for (_, label, colour) in colours {
        let _ = write!(
            s,
            "<span><i class=\"swatch\" style=\"background:{colour}\"></i>{}</span>",
            esc(label)
        );
    }
    let _ = write!(
        s,
        "<span><i class=\"swatch\" style=\"background:{NO_TOP}\"></i>no top issue</span>\
         <span><i class=\"swatch\" style=\"background:#c00;border-radius:50%\"></i>urgent EVA findings without a position, on their area (number)</span>"
    );
    if drawn_points > 0 {
        s.push_str(
            "<span><i class=\"swatch\" style=\"background:#c00;transform:rotate(45deg);width:7pt;height:7pt\"></i>urgent EVA finding at its position</span>",
        );
    }
    let missing = report.areas.len() - drawn.len();
    if missing > 0 {
        let _ = write!(
            s,
            "<br>{missing} area(s) have no stored outline and are not drawn."
        );
    }
    s.push_str("</figcaption>\n</figure>\n");
    s
}

/// The issue fractions of one area as horizontal bars with their Wilson 95% intervals.
fn chart(a: &AreaReport) -> String {
    let rows = &a.issues.all;
    if rows.is_empty() {
        return "<p class=\"empty\">No issue to chart: none named, or every figure hidden by the small-numbers rule.</p>\n".into();
    }
    let (label_w, bar_w, row_h) = (230.0_f64, 330.0_f64, 18.0_f64);
    let width = label_w + bar_w + 80.0;
    let height = row_h * rows.len() as f64 + 24.0;
    let x = |f: f64| label_w + f.clamp(0.0, 1.0) * bar_w;
    let mut s = format!(
        "<figure>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"Share of interviews naming each issue\">\n",
        n(width),
        n(height),
        n(width),
        n(height)
    );
    for (i, r) in rows.iter().enumerate() {
        let y = i as f64 * row_h;
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text>",
            n(label_w - 6.0),
            n(y + 12.5),
            esc(&clip(&r.label, 40))
        );
        match (r.named.fraction, r.named.low, r.named.high) {
            (Some(f), Some(lo), Some(hi)) => {
                let _ = writeln!(
                    s,
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"12\" fill=\"#4a7fb5\"><title>{}: {} of {}</title></rect>",
                    n(label_w),
                    n(y + 3.0),
                    n(x(f) - label_w),
                    esc(&r.label),
                    r.named.count.unwrap_or_default(),
                    r.named.base.unwrap_or_default()
                );
                let _ = writeln!(
                    s,
                    "<path d=\"M{lo},{m} L{hi},{m} M{lo},{t} L{lo},{b} M{hi},{t} L{hi},{b}\" stroke=\"#111\" stroke-width=\"1.2\"/>",
                    lo = n(x(lo)),
                    hi = n(x(hi)),
                    m = n(y + 9.0),
                    t = n(y + 5.0),
                    b = n(y + 13.0)
                );
                let _ = writeln!(
                    s,
                    "<text x=\"{}\" y=\"{}\" font-size=\"10\">{}%{}</text>",
                    n(x(hi) + 4.0),
                    n(y + 12.5),
                    (f * 100.0).round(),
                    if r.named.low_base { " (low base)" } else { "" }
                );
            }
            _ => {
                let _ = writeln!(
                    s,
                    "<text x=\"{}\" y=\"{}\" font-size=\"10\" font-style=\"italic\" fill=\"#555\">{}</text>",
                    n(label_w + 2.0),
                    n(y + 12.5),
                    if r.named.suppressed {
                        "suppressed"
                    } else {
                        "no base"
                    }
                );
            }
        }
    }
    // The axis: 0, 25, 50, 75, 100%.
    let axis_y = row_h * rows.len() as f64 + 4.0;
    let _ = writeln!(
        s,
        "<path d=\"M{},{} L{},{}\" stroke=\"#555\" stroke-width=\"0.8\"/>",
        n(label_w),
        n(axis_y),
        n(label_w + bar_w),
        n(axis_y)
    );
    for pct in [0, 25, 50, 75, 100] {
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"9\" text-anchor=\"middle\">{pct}%</text>",
            n(x(f64::from(pct) / 100.0)),
            n(axis_y + 12.0)
        );
    }
    let base = a
        .issues
        .interviews
        .value
        .map_or("suppressed".to_owned(), |v| v.to_string());
    let _ = write!(
        s,
        "</svg>\n<figcaption>Share of interviews naming each issue (base {}: every counted interview, including those who named nothing); the whiskers are Wilson 95% intervals.</figcaption>\n</figure>\n",
        esc(&base)
    );
    s
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut c: String = s.chars().take(max - 1).collect();
        c.push('…');
        c
    }
}
