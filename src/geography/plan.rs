//! The area plan: a reviewable TOML file grouping wards into townships and defining priority
//! action areas (PAAs) inside wards, as unions of LSOAs or as drawn polygons.
//!
//! ```toml
//! name = "Wigan PACT plan 2025 Q1"
//!
//! [[township]]
//! name = "Wigan Central"
//! wards = ["E05000861", "E05000862"]
//!
//! [[paa]]
//! code = "PAA-1"
//! name = "Town centre"
//! ward = "E05000861"
//! lsoas = ["E01006370", "E01006372"]   # or: polygon = "paa1.geojson" (relative to the plan)
//! ```

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::Path;

use geo::{BooleanOps, MultiPolygon};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::boundary::{Area, Layer, Level};
use super::{GeographyError, boundary};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    name: Option<String>,
    #[serde(default)]
    township: Vec<TownshipFile>,
    #[serde(default)]
    paa: Vec<PaaFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TownshipFile {
    name: Spanned<String>,
    wards: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PaaFile {
    code: Spanned<String>,
    name: String,
    ward: Spanned<String>,
    lsoas: Option<Vec<Spanned<String>>>,
    polygon: Option<Spanned<String>>,
}

/// An applied area plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaPlan {
    pub name: String,
    /// The plan file it came from.
    pub source: String,
    pub townships: Vec<Township>,
    pub paas: Vec<Paa>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Township {
    pub name: String,
    pub wards: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paa {
    pub code: String,
    pub name: String,
    pub ward: String,
    /// The LSOAs it is the union of; empty when it was drawn as a polygon.
    pub lsoas: Vec<String>,
    /// The polygon file it was drawn in, if any.
    pub polygon_file: Option<String>,
}

impl AreaPlan {
    pub fn township_of(&self, ward: &str) -> Option<&Township> {
        self.townships
            .iter()
            .find(|t| t.wards.iter().any(|w| w == ward))
    }

    pub fn paa(&self, code: &str) -> Option<&Paa> {
        self.paas.iter().find(|p| p.code == code)
    }
}

/// A checked plan, its PAA shapes, and warnings for the user.
#[derive(Debug, Clone)]
pub struct ResolvedPlan {
    pub plan: AreaPlan,
    pub paa_layer: Layer,
    pub warnings: Vec<String>,
}

struct Problems<'a> {
    file: &'a str,
    text: &'a str,
    list: Vec<String>,
}

impl Problems<'_> {
    fn at(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, column) = line_column(self.text, span.start);
        self.list
            .push(format!("{}:{line}:{column}: {}", self.file, message.into()));
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) use crate::line_col::line_col as line_column;

/// Parses and checks a plan against the ward and LSOA layers it refers to. `base_dir` is where
/// polygon files named in the plan are looked for.
pub fn resolve_plan(
    text: &str,
    file: &str,
    base_dir: &Path,
    wards: &Layer,
    lsoas: Option<&Layer>,
) -> Result<ResolvedPlan, GeographyError> {
    let parsed: PlanFile = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map_or((1, 1), |s| line_column(text, s.start));
        GeographyError::Toml {
            file: file.to_string(),
            line,
            column,
            message: e.message().trim().to_string(),
        }
    })?;
    let mut problems = Problems {
        file,
        text,
        list: Vec::new(),
    };
    let mut warnings = Vec::new();

    let mut townships = Vec::new();
    let mut ward_owner: HashMap<String, String> = HashMap::new();
    let mut township_names = HashSet::new();
    for t in &parsed.township {
        let name = t.name.get_ref().trim().to_string();
        if name.is_empty() {
            problems.at(t.name.span(), "a township needs a name");
        } else if !township_names.insert(name.clone()) {
            problems.at(t.name.span(), format!("township `{name}` is defined twice"));
        }
        if t.wards.is_empty() {
            problems.at(t.name.span(), format!("township `{name}` lists no wards"));
        }
        let mut codes = Vec::new();
        for w in &t.wards {
            let code = w.get_ref().trim();
            if wards.get(code).is_none() {
                problems.at(
                    w.span(),
                    format!("unknown ward `{code}` in township `{name}` (not in the ward layer)"),
                );
            } else if let Some(other) = ward_owner.insert(code.to_string(), name.clone()) {
                problems.at(
                    w.span(),
                    format!("ward `{code}` is in township `{other}` and again in `{name}`"),
                );
            }
            codes.push(code.to_string());
        }
        townships.push(Township { name, wards: codes });
    }

    let mut paas = Vec::new();
    let mut shapes = Vec::new();
    let mut paa_codes = HashSet::new();
    for p in &parsed.paa {
        let code = p.code.get_ref().trim().to_string();
        if code.is_empty() {
            problems.at(p.code.span(), "a PAA needs a code");
            continue;
        }
        if !paa_codes.insert(code.clone()) {
            problems.at(p.code.span(), format!("PAA `{code}` is defined twice"));
            continue;
        }
        let ward_code = p.ward.get_ref().trim().to_string();
        let ward = wards.get(&ward_code);
        if ward.is_none() {
            problems.at(
                p.ward.span(),
                format!("PAA `{code}`: unknown ward `{ward_code}` (not in the ward layer)"),
            );
        }
        let shape = match (&p.lsoas, &p.polygon) {
            (Some(_), Some(poly)) => {
                problems.at(
                    poly.span(),
                    format!("PAA `{code}`: give either `lsoas` or `polygon`, not both"),
                );
                None
            }
            (None, None) => {
                problems.at(
                    p.code.span(),
                    format!("PAA `{code}` needs `lsoas = [...]` or `polygon = \"file.geojson\"`"),
                );
                None
            }
            (Some(list), None) => lsoa_union(&p.code, list, lsoas, &mut problems),
            (None, Some(poly)) => {
                let path = base_dir.join(poly.get_ref());
                let mut notes = Vec::new();
                let read = super::read_file(&path).and_then(|t| {
                    boundary::read_shape(&t, &path.display().to_string(), &mut notes)
                });
                warnings.extend(notes);
                match read {
                    Ok(shape) => Some(shape),
                    Err(e) => {
                        problems.at(poly.span(), format!("PAA `{code}`: {e}"));
                        None
                    }
                }
            }
        };
        if let (Some(shape), Some(ward)) = (&shape, ward) {
            let outside = share_outside(shape, &ward.shape);
            // Below 0.1% is the generalised ward and LSOA boundaries disagreeing by a few metres.
            if outside >= 0.001 {
                warnings.push(format!(
                    "warning: PAA {code} ({}): {:.1}% of it lies outside its ward {} ({})",
                    p.name,
                    outside * 100.0,
                    ward.code,
                    ward.name
                ));
            }
        }
        if let Some(shape) = shape {
            shapes.push(Area {
                code: code.clone(),
                name: p.name.trim().to_string(),
                shape,
            });
        }
        paas.push(Paa {
            code,
            name: p.name.trim().to_string(),
            ward: ward_code,
            lsoas: p
                .lsoas
                .iter()
                .flatten()
                .map(|l| l.get_ref().trim().to_string())
                .collect(),
            polygon_file: p.polygon.as_ref().map(|s| s.get_ref().clone()),
        });
    }

    match problems.list.len() {
        0 => {}
        1 => {
            return Err(GeographyError::PlanProblems {
                count: 1,
                details: problems.list.remove(0),
            });
        }
        count => {
            return Err(GeographyError::PlanProblems {
                count,
                details: problems.list.join("\n"),
            });
        }
    }
    Ok(ResolvedPlan {
        plan: AreaPlan {
            name: parsed
                .name
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| file.to_string()),
            source: file.to_string(),
            townships,
            paas,
        },
        paa_layer: Layer {
            level: Level::Paa,
            source: file.to_string(),
            areas: shapes,
        },
        warnings,
    })
}

fn lsoa_union(
    code_span: &Spanned<String>,
    list: &[Spanned<String>],
    lsoas: Option<&Layer>,
    problems: &mut Problems,
) -> Option<MultiPolygon<f64>> {
    let code = code_span.get_ref().trim();
    let Some(layer) = lsoas else {
        if let Some(first) = list.first() {
            problems.at(
                first.span(),
                format!("PAA `{code}` is made of LSOAs but no LSOA layer is imported"),
            );
        }
        return None;
    };
    if list.is_empty() {
        problems.at(
            code_span.span(),
            format!("PAA `{code}` has an empty `lsoas` list"),
        );
        return None;
    }
    let mut parts = Vec::new();
    let mut ok = true;
    for l in list {
        match layer.get(l.get_ref().trim()) {
            Some(area) => parts.push(&area.shape),
            None => {
                problems.at(
                    l.span(),
                    format!("PAA `{code}`: unknown LSOA `{}`", l.get_ref().trim()),
                );
                ok = false;
            }
        }
    }
    ok.then(|| geo::unary_union(parts))
}

/// The share of `part`'s area outside `whole`. Computed on longitude/latitude directly: over a
/// ward the scale distortion is the same for both areas, so the ratio is unaffected.
pub fn share_outside(part: &MultiPolygon<f64>, whole: &MultiPolygon<f64>) -> f64 {
    let total = geo::Area::unsigned_area(part);
    if total <= 0.0 {
        return 0.0;
    }
    let outside = geo::Area::unsigned_area(&part.difference(whole));
    (outside / total).clamp(0.0, 1.0)
}
