//! `doorstep report`: the priority-setting pack for the PACT meeting, per area and period,
//! as Markdown (default), JSON (the report model's own serde form) or one tidy CSV table.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::Error;
use crate::geography::Geography;
use crate::pack::{self, PackFormat, Sources};
use crate::report::profile::{self, Profile, about_you_questions};
use crate::report::{AreaLevel, AreaSpec, build};
use crate::response::Period;
use crate::survey::registry::Registry;

/// The largest profile CSV read.
const MAX_PROFILE: u64 = 16 * 1024 * 1024;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The period to report, e.g. 2026-Q4.
    #[arg(long, value_name = "PERIOD")]
    pub period: String,
    /// The period to compare with (default: the one before --period).
    #[arg(long, value_name = "PERIOD")]
    pub compare: Option<String>,
    /// Report per township, ward or priority action area (default: ward, or the level of
    /// --area).
    #[arg(long, value_enum)]
    pub level: Option<LevelArg>,
    /// Only this area: a ward or PAA code, or a township name.
    #[arg(long, value_name = "CODE")]
    pub area: Option<String>,
    /// md (the pack, default), json (the report model: fractions 0–1, every figure with its
    /// count, base, excluded, interval and suppressed flag) or csv (one tidy table: area,
    /// period, measure, value, base, low, high, suppressed), html (the printable meeting
    /// pack: one self-contained file with charts and a map) or geojson (area outlines with
    /// their figures as properties, for QGIS) or xlsx (a sheet per table: binary, so give --out).
    #[arg(long, value_enum, default_value = "md")]
    pub format: ReportFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The coordinator's view: nothing suppressed, every page marked "not for publication".
    #[arg(long)]
    pub internal: bool,
    /// An area profile CSV (`area,group,share`) to flag under-represented groups.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LevelArg {
    Township,
    Ward,
    Paa,
}

impl LevelArg {
    pub fn level(self) -> AreaLevel {
        match self {
            LevelArg::Township => AreaLevel::Township,
            LevelArg::Ward => AreaLevel::Ward,
            LevelArg::Paa => AreaLevel::Paa,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Md,
    Json,
    Csv,
    Html,
    Geojson,
    Xlsx,
}

impl ReportFormat {
    fn pack(self) -> PackFormat {
        match self {
            ReportFormat::Md => PackFormat::Md,
            ReportFormat::Json => PackFormat::Json,
            ReportFormat::Csv => PackFormat::Csv,
            ReportFormat::Html => PackFormat::Html,
            ReportFormat::Geojson => PackFormat::Geojson,
            ReportFormat::Xlsx => PackFormat::Xlsx,
        }
    }
}

fn period(text: &str, flag: &str) -> Result<Period, Error> {
    text.parse()
        .map_err(|e: crate::response::ResponseError| Error::Usage(format!("--{flag}: {e}")))
}

pub fn run(
    args: &ReportArgs,
    data_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let this = period(&args.period, "period")?;
    let compare = match &args.compare {
        Some(p) => Some(period(p, "compare")?),
        None => Some(this.previous()),
    };
    let (registry, _diagnostics) = Registry::load(data_dir)?;
    let profile = match &args.profile {
        Some(path) => Some(read_profile(path, &registry)?),
        None => None,
    };
    let store = super::open_store_read_only(data_dir, err)?;
    let geography = store.stored_geography()?.or_builtin()?;
    let (level, specs) = areas(&geography, args.area.as_deref(), args.level)?;
    // One pass over the store, keeping only this period's responses.
    let sources = Sources::read_period(&store, &registry, geography, this, &specs)?;
    // Without --area, the areas with any finished fieldwork or knock in the period.
    let specs = if args.area.is_some() {
        specs
    } else {
        sources.worked(this, specs)
    };
    let input = sources.input(
        &registry,
        this,
        compare,
        level,
        specs,
        args.internal,
        profile.as_ref(),
    );
    let report = build(&input);
    let bytes = pack::render(&report, args.format.pack(), &sources.geography)?;
    match &args.out {
        Some(path) => std::fs::write(path, &bytes).map_err(|e| Error::io(path, e)),
        None => out
            .write_all(&bytes)
            .map_err(|e| Error::io("standard output", e)),
    }
}

/// Reads and checks the profile against the "about you" questions this device knows.
fn read_profile(path: &Path, registry: &Registry) -> Result<Profile, Error> {
    let bytes = crate::input::read_capped(path, MAX_PROFILE, "area profile")
        .map_err(|e| Error::BadInput(format!("{}: {}", path.display(), e.reason())))?;
    let name = path.display().to_string();
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::BadInput(format!(
            "{name}: not UTF-8 text (bad byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let mut groups: Vec<(String, String)> = Vec::new();
    for e in registry.entries() {
        for q in about_you_questions(&e.survey) {
            for c in q.choices() {
                let g = (q.id.clone(), c.value.clone());
                if !groups.contains(&g) {
                    groups.push(g);
                }
            }
        }
    }
    profile::parse(&text, &name, &groups).map_err(|e| Error::BadInput(e.to_string()))
}

/// The areas at the level asked (or the one area asked for), in report order.
pub(crate) fn areas(
    geography: &Geography,
    area: Option<&str>,
    level: Option<LevelArg>,
) -> Result<(AreaLevel, Vec<AreaSpec>), Error> {
    pack::areas(geography, area, level.map(LevelArg::level))
}
