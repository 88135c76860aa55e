//! The geography doorstep uses before any boundaries are imported: the real Wigan wards (2013)
//! and LSOAs (2011), and a clearly labelled DEMO plan. See `builtin/ATTRIBUTION.md`.

use std::path::Path;
use std::sync::OnceLock;

use super::GeographyError;
use super::boundary::{Fields, Level, read_layer};
use super::index::Geography;
use super::plan::resolve_plan;

pub const WARDS_FILE: &str = "wigan_wards_2013_E08000010.geojson";
pub const LSOAS_FILE: &str = "wigan_lsoa_2011_E08000010.geojson";
pub const PLAN_FILE: &str = "demo_plan.toml";

const WARDS: &str = include_str!("builtin/wigan_wards_2013_E08000010.geojson");
const LSOAS: &str = include_str!("builtin/wigan_lsoa_2011_E08000010.geojson");
const PLAN: &str = include_str!("builtin/demo_plan.toml");

/// The OGL attribution to show wherever the built-in boundaries are shown.
pub const ATTRIBUTION: &str = "Contains public sector information licensed under the Open \
Government Licence v3.0. Contains National Statistics and OS data © Crown copyright and database \
right.";

impl Geography {
    /// The geography in force: this one (as stored), or the built-in Wigan demo when it holds
    /// nothing.
    pub fn or_builtin(self) -> Result<Geography, GeographyError> {
        if self.is_empty() {
            geography()
        } else {
            Ok(self)
        }
    }
}

/// The built-in Wigan geography with the DEMO plan (parsed once per process).
pub fn geography() -> Result<Geography, GeographyError> {
    static CACHE: OnceLock<Result<Geography, String>> = OnceLock::new();
    CACHE
        .get_or_init(|| load().map_err(|e| e.to_string()))
        .clone()
        // The built-in files are tested; failing here means a broken build, reported plainly.
        .map_err(|message| GeographyError::File {
            file: "built-in geography".into(),
            message,
        })
}

fn load() -> Result<Geography, GeographyError> {
    let fields = Fields::default();
    let wards = read_layer(WARDS, WARDS_FILE, Level::Ward, &fields)?.layer;
    let lsoas = read_layer(LSOAS, LSOAS_FILE, Level::Lsoa, &fields)?.layer;
    let plan = resolve_plan(PLAN, PLAN_FILE, Path::new("."), &wards, Some(&lsoas))?;
    Ok(Geography {
        wards: Some(wards),
        lsoas: Some(lsoas),
        paas: Some(plan.paa_layer),
        plan: Some(plan.plan),
        builtin: true,
    })
}
