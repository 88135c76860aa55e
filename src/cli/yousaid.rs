//! `doorstep yousaid`: the "You said, We did" leaflet, one printable page per ward, in
//! English or Polish, for every address in the ward.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::report::LevelArg;
use crate::Error;
use crate::action::yousaid::{Leaflet, Options, Words, leaflet};
use crate::output::{
    Document, HtmlRenderer, Item, MarkdownRenderer, Outline, Renderer, TextRenderer,
};
use crate::report::AreaLevel;
use crate::response::Period;

#[derive(Debug, Args)]
pub struct YousaidArgs {
    /// The ward (code or name), or a township for a page per ward in it.
    #[arg(long, value_name = "CODE")]
    pub area: String,
    /// The period whose fieldwork and actions are told back, e.g. 2026-Q4.
    #[arg(long, value_name = "P")]
    pub period: String,
    /// The leaflet's language: en or pl.
    #[arg(long, value_name = "LANG", default_value = "en")]
    pub lang: String,
    /// html (a printable A4 page per ward, default), md or txt.
    #[arg(long, value_enum, default_value = "html")]
    pub format: LeafletFormat,
    /// When and where the next PACT meeting is, as it should be printed.
    #[arg(long, value_name = "TEXT")]
    pub next_meeting: Option<String>,
    /// Write to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LeafletFormat {
    Md,
    Html,
    Txt,
}

pub fn run(
    args: &YousaidArgs,
    data_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let period: Period = args.period.parse()?;
    let words = Words::builtin().map_err(|e| Error::Failure(e.to_string()))?;
    let lang = args.lang.trim().to_ascii_lowercase();
    words
        .check(&lang)
        .map_err(|e| Error::BadInput(e.to_string()))?;
    let store = super::open_store_read_only(data_dir, err)?;
    let geography = store.stored_geography()?.or_builtin()?;
    let (level, specs) =
        super::report::areas(&geography, Some(&args.area), None).map_err(|e| match e {
            Error::Usage(m) => Error::BadInput(format!("--area: {m}")),
            other => other,
        })?;
    let wards = match level {
        AreaLevel::Ward => specs,
        AreaLevel::Township => {
            let (_, wards) = super::report::areas(&geography, None, Some(LevelArg::Ward))?;
            wards
                .into_iter()
                .filter(|w| specs.iter().any(|t| t.holds(&w.code)))
                .collect()
        }
        AreaLevel::Paa => {
            return Err(Error::BadInput(format!(
                "--area {}: a priority action area; the leaflet goes to a whole ward: give the ward or its township",
                args.area.trim()
            )));
        }
    };
    let actions = {
        let listing = store.actions()?;
        if let Some(e) = listing.unreadable.into_iter().next() {
            return Err(e.into());
        }
        listing.actions
    };
    let (registry, _) = crate::survey::registry::Registry::load(data_dir)?;
    let (report, sources) =
        super::review::pack(&store, &registry, geography.clone(), &wards, period)?;
    let taxonomy = sources.taxonomy;
    let options = Options {
        words: &words,
        lang: &lang,
        next_meeting: args.next_meeting.as_deref(),
    };
    let docs: Vec<Document> = wards
        .iter()
        .filter_map(|w| {
            let area = report.areas.iter().find(|a| a.code == w.code)?;
            Some(document(&leaflet(
                &options,
                area,
                &taxonomy,
                &actions,
                |c| w.holds(c),
            )))
        })
        .collect();
    let mut bytes = Vec::new();
    let io = |e| Error::io("the leaflet", e);
    match args.format {
        LeafletFormat::Html => {
            let title = docs
                .first()
                .and_then(|d| match d.blocks.first() {
                    Some(crate::output::Block::Heading(t)) => Some(t.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            HtmlRenderer
                .render_pages(&title, &lang, &docs, &mut bytes)
                .map_err(io)?;
        }
        LeafletFormat::Md | LeafletFormat::Txt => {
            for (i, doc) in docs.iter().enumerate() {
                if i > 0 {
                    bytes.extend_from_slice(if args.format == LeafletFormat::Md {
                        b"---\n\n"
                    } else {
                        b"\n"
                    });
                }
                if args.format == LeafletFormat::Md {
                    MarkdownRenderer.render(doc, &mut bytes).map_err(io)?;
                } else {
                    TextRenderer.render(doc, &mut bytes).map_err(io)?;
                }
            }
        }
    }
    match &args.out {
        Some(p) => std::fs::write(p, &bytes).map_err(|e| Error::io(p, e)),
        None => out
            .write_all(&bytes)
            .map_err(|e| Error::io("standard output", e)),
    }
}

/// One leaflet as a page.
pub fn document(l: &Leaflet) -> Document {
    let mut doc = Document::new();
    doc.heading(&l.title);
    doc.paragraph(&l.intro);
    doc.heading(&l.you_said_heading);
    match &l.nothing_said {
        Some(text) => {
            doc.paragraph(text);
        }
        None => {
            let items = l
                .you_said
                .iter()
                .map(|(issue, how)| {
                    Item::new(format!("{issue}: {how}"))
                        .field("issue", issue)
                        .field("named", how)
                })
                .collect();
            doc.outline(Outline::new("you_said", items));
        }
    }
    for (heading, name, lines) in [
        (&l.we_did_heading, "we_did", &l.we_did),
        (&l.in_hand_heading, "in_hand", &l.in_hand),
        (&l.not_possible_heading, "not_possible", &l.not_possible),
    ] {
        doc.heading(heading);
        let items = lines
            .iter()
            .map(|t| Item::new(t.clone()).field("line", t))
            .collect();
        doc.outline(Outline::new(name, items).when_empty(&l.nothing_yet));
    }
    doc.heading(&l.take_part_heading);
    doc.paragraph(&l.take_part);
    doc.paragraph(&l.next_meeting);
    doc
}
