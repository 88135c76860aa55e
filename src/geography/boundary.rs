//! Boundary layers from GeoJSON: wards, LSOAs and priority action areas as WGS84 multipolygons.
//!
//! Reading a file detects the code/name properties and the CRS (WGS84 or British National Grid),
//! checks every polygon for OGC validity (in near-linear time, see `validity`), repairs invalid ones (reporting the feature
//! and where the problem is), and normalises ring orientation.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use geo::validation::{InvalidMultiPolygon, InvalidPolygon, RingRole};
use geo::{
    Coord, LineString, MakeValid, MultiPolygon, Orient, Polygon, Winding, orient::Direction,
};
use geojson::{GeoJson, GeometryValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::validity::{self, first_crossing};
use super::{GeographyError, bng};

/// The kinds of boundary layer doorstep keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ward,
    Lsoa,
    Paa,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Ward, Level::Lsoa, Level::Paa];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ward => "ward",
            Level::Lsoa => "lsoa",
            Level::Paa => "paa",
        }
    }

    /// The ONS code prefixes expected for this level (none for PAAs, which are ours).
    fn code_prefixes(self) -> &'static [&'static str] {
        match self {
            Level::Ward => &["E05", "W05", "S13"],
            Level::Lsoa => &["E01", "W01", "S01"],
            Level::Paa => &[],
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "ward" => Ok(Level::Ward),
            "lsoa" => Ok(Level::Lsoa),
            "paa" => Ok(Level::Paa),
            other => Err(format!("unknown level `{other}` (ward, lsoa or paa)")),
        }
    }
}

/// One area of a layer, in WGS84 (x = longitude, y = latitude).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Area {
    pub code: String,
    pub name: String,
    #[serde(with = "shape_serde")]
    pub shape: MultiPolygon<f64>,
}

/// A whole boundary layer as imported from one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layer {
    pub level: Level,
    /// The file it came from (its name, for the record).
    pub source: String,
    pub areas: Vec<Area>,
}

impl Layer {
    pub fn get(&self, code: &str) -> Option<&Area> {
        self.areas.iter().find(|a| a.code == code)
    }
}

/// The coordinate reference systems doorstep reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crs {
    Wgs84,
    BritishNationalGrid,
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            Crs::Wgs84 => "WGS84",
            Crs::BritishNationalGrid => "British National Grid (EPSG:27700)",
        })
    }
}

/// Which properties hold the area code and name; `None` means detect them.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    pub code: Option<String>,
    pub name: Option<String>,
}

/// A layer read from a file, with what the reader noticed and did.
#[derive(Debug, Clone)]
pub struct LayerImport {
    pub layer: Layer,
    pub crs: Crs,
    pub code_field: String,
    pub name_field: String,
    /// Repairs, orientation fixes and other things the user should know.
    pub notes: Vec<String>,
}

/// Property pairs recognised without flags, most specific first. Matched ignoring case.
const KNOWN_FIELDS: [(&str, &str); 4] = [
    ("WD13CD", "WD13NM"),
    ("wd16cd", "wd16nm"),
    ("area_code", "area_name"),
    ("LSOA11CD", "LSOA11NM"),
];

/// A feature as found in the file, before it becomes an [`Area`].
struct RawFeature {
    index: usize,
    properties: serde_json::Map<String, Value>,
    geometry: Option<geojson::Geometry>,
}

struct Parsed {
    crs: Crs,
    features: Vec<RawFeature>,
}

/// Reads a boundary layer from GeoJSON text. `file` names it in messages.
pub fn read_layer(
    text: &str,
    file: &str,
    level: Level,
    fields: &Fields,
) -> Result<LayerImport, GeographyError> {
    let parsed = parse(text, file)?;
    let (code_field, name_field) = choose_fields(&parsed.features, file, fields)?;
    let mut notes = Vec::new();
    let mut rejected = Vec::new();
    let mut areas: Vec<Area> = Vec::with_capacity(parsed.features.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut clockwise = 0usize;
    for raw in &parsed.features {
        let code = property_text(&raw.properties, &code_field);
        let name = property_text(&raw.properties, &name_field);
        let Some(code) = code.filter(|c| !c.is_empty()) else {
            rejected.push(format!(
                "feature #{} ({}): no `{code_field}` property",
                raw.index + 1,
                name.as_deref().unwrap_or("no name")
            ));
            continue;
        };
        let name = name.unwrap_or_default();
        let label = FeatureLabel {
            file,
            code: &code,
            name: &name,
            crs: parsed.crs,
        };
        if let Some(first) = seen.insert(code.clone(), raw.index) {
            rejected.push(label.problem(format!(
                "the code appears twice (features #{} and #{})",
                first + 1,
                raw.index + 1
            )));
            continue;
        }
        match feature_shape(raw, &label, &mut notes) {
            Ok((shape, was_clockwise)) => {
                clockwise += usize::from(was_clockwise);
                areas.push(Area { code, name, shape });
            }
            Err(problem) => rejected.push(problem),
        }
    }
    if !rejected.is_empty() {
        return Err(GeographyError::Features {
            file: file.to_string(),
            count: rejected.len(),
            details: rejected
                .iter()
                .map(|r| format!("  {r}"))
                .collect::<Vec<_>>()
                .join("\n"),
        });
    }
    if areas.is_empty() {
        return Err(GeographyError::File {
            file: file.to_string(),
            message: "holds no features".into(),
        });
    }
    if clockwise > 0 {
        notes.push(format!(
            "{clockwise} of {} features had clockwise outer rings; orientation normalised",
            areas.len()
        ));
    }
    let prefixes = level.code_prefixes();
    if !prefixes.is_empty() {
        let odd: Vec<&str> = areas
            .iter()
            .filter(|a| !prefixes.iter().any(|p| a.code.starts_with(p)))
            .map(|a| a.code.as_str())
            .collect();
        if !odd.is_empty() {
            notes.push(format!(
                "warning: {} of {} codes do not look like {} codes ({}), e.g. {}",
                odd.len(),
                areas.len(),
                level,
                prefixes.join("/"),
                odd[0]
            ));
        }
    }
    Ok(LayerImport {
        layer: Layer {
            level,
            source: file.to_string(),
            areas,
        },
        crs: parsed.crs,
        code_field,
        name_field,
        notes,
    })
}

/// Reads every polygon in a GeoJSON file as one WGS84 shape (their union), for a PAA drawn
/// as a polygon file. Codes and names are not needed.
pub fn read_shape(
    text: &str,
    file: &str,
    notes: &mut Vec<String>,
) -> Result<MultiPolygon<f64>, GeographyError> {
    let parsed = parse(text, file)?;
    let mut parts = Vec::new();
    for raw in &parsed.features {
        let code = format!("#{}", raw.index + 1);
        let label = FeatureLabel {
            file,
            code: &code,
            name: "unnamed",
            crs: parsed.crs,
        };
        let (shape, _) =
            feature_shape(raw, &label, notes).map_err(|problem| GeographyError::Features {
                file: file.to_string(),
                count: 1,
                details: format!("  {problem}"),
            })?;
        parts.push(shape);
    }
    if parts.is_empty() {
        return Err(GeographyError::File {
            file: file.to_string(),
            message: "holds no polygons".into(),
        });
    }
    Ok(geo::unary_union(parts.iter()))
}

fn parse(text: &str, file: &str) -> Result<Parsed, GeographyError> {
    let geojson: GeoJson = serde_json::from_str(text).map_err(|e| GeographyError::Json {
        file: file.to_string(),
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    })?;
    let (declared, raw) = match geojson {
        GeoJson::FeatureCollection(fc) => {
            let declared = fc
                .foreign_members
                .as_ref()
                .and_then(|m| m.get("crs"))
                .map(|crs| declared_crs(crs, file))
                .transpose()?;
            let features = fc
                .features
                .into_iter()
                .enumerate()
                .map(|(index, f)| RawFeature {
                    index,
                    properties: f.properties.unwrap_or_default(),
                    geometry: f.geometry,
                })
                .collect();
            (declared, features)
        }
        GeoJson::Feature(f) => {
            let declared = f
                .foreign_members
                .as_ref()
                .and_then(|m| m.get("crs"))
                .map(|crs| declared_crs(crs, file))
                .transpose()?;
            (
                declared,
                vec![RawFeature {
                    index: 0,
                    properties: f.properties.unwrap_or_default(),
                    geometry: f.geometry,
                }],
            )
        }
        GeoJson::Geometry(g) => (
            None,
            vec![RawFeature {
                index: 0,
                properties: serde_json::Map::new(),
                geometry: Some(g),
            }],
        ),
    };
    let crs = match declared {
        Some(crs) => crs,
        None => guess_crs(&raw, file)?,
    };
    Ok(Parsed { crs, features: raw })
}

/// serde_json appends " at line L column C"; we print the position ourselves.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// The legacy GeoJSON `crs` member: `{"type": "name", "properties": {"name": "urn:…"}}`.
fn declared_crs(crs: &Value, file: &str) -> Result<Crs, GeographyError> {
    let name = crs
        .pointer("/properties/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let upper = name.to_ascii_uppercase();
    if upper.ends_with("CRS84") || upper.ends_with(":4326") || upper.ends_with("::4326") {
        Ok(Crs::Wgs84)
    } else if upper.ends_with(":27700") {
        Ok(Crs::BritishNationalGrid)
    } else {
        Err(GeographyError::File {
            file: file.to_string(),
            message: format!(
                "unsupported coordinate reference system `{}`: doorstep reads WGS84 \
                 (EPSG:4326 / CRS84) and British National Grid (EPSG:27700)",
                if name.is_empty() {
                    crs.to_string()
                } else {
                    name.to_string()
                }
            ),
        })
    }
}

/// Without a `crs` member (RFC 7946 says WGS84), the coordinate range tells degrees from metres.
fn guess_crs(features: &[RawFeature], file: &str) -> Result<Crs, GeographyError> {
    let mut extent = super::prepared::Extent::empty();
    for f in features {
        if let Some(g) = &f.geometry {
            for_each_position(&g.value, &mut |x, y| extent.add(Coord { x, y }));
        }
    }
    let super::prepared::Extent { min, max } = extent;
    if !min.x.is_finite() {
        // No coordinates at all: features will be rejected one by one for lacking geometry.
        return Ok(Crs::Wgs84);
    }
    if min.x >= -180.0 && max.x <= 180.0 && min.y >= -90.0 && max.y <= 90.0 {
        Ok(Crs::Wgs84)
    } else if min.x >= 0.0 && max.x < 700_000.0 && min.y >= 0.0 && max.y < 1_300_000.0 {
        Ok(Crs::BritishNationalGrid)
    } else {
        Err(GeographyError::File {
            file: file.to_string(),
            message: format!(
                "coordinates range from ({}, {}) to ({}, {}), which is neither WGS84 degrees \
                 nor British National Grid metres; add a `crs` member",
                min.x, min.y, max.x, max.y
            ),
        })
    }
}

fn for_each_position(value: &GeometryValue, f: &mut dyn FnMut(f64, f64)) {
    let mut visit = |p: &geojson::Position| {
        let s = p.as_slice();
        if s.len() >= 2 {
            f(s[0], s[1]);
        }
    };
    match value {
        GeometryValue::Point { coordinates } => visit(coordinates),
        GeometryValue::MultiPoint { coordinates } | GeometryValue::LineString { coordinates } => {
            coordinates.iter().for_each(visit)
        }
        GeometryValue::MultiLineString { coordinates } | GeometryValue::Polygon { coordinates } => {
            coordinates.iter().flatten().for_each(visit)
        }
        GeometryValue::MultiPolygon { coordinates } => {
            coordinates.iter().flatten().flatten().for_each(visit)
        }
        GeometryValue::GeometryCollection { geometries } => {
            for g in geometries {
                for_each_position(&g.value, f);
            }
        }
    }
}

fn choose_fields(
    features: &[RawFeature],
    file: &str,
    fields: &Fields,
) -> Result<(String, String), GeographyError> {
    let Some(first) = features.first() else {
        return Err(GeographyError::File {
            file: file.to_string(),
            message: "holds no features".into(),
        });
    };
    let find = |wanted: &str| {
        first
            .properties
            .keys()
            .find(|k| k.eq_ignore_ascii_case(wanted))
            .cloned()
    };
    let available = || {
        let keys: Vec<&str> = first.properties.keys().map(String::as_str).collect();
        if keys.is_empty() {
            "none".to_string()
        } else {
            keys.join(", ")
        }
    };
    let detected = KNOWN_FIELDS
        .iter()
        .find_map(|(c, n)| Some((find(c)?, find(n)?)))
        .or_else(|| ons_pattern_fields(first));
    let code = match &fields.code {
        Some(c) => find(c).ok_or_else(|| GeographyError::File {
            file: file.to_string(),
            message: format!(
                "no property `{c}` (given by --code-field); properties are: {}",
                available()
            ),
        })?,
        None => detected
            .as_ref()
            .map(|d| d.0.clone())
            .ok_or_else(|| GeographyError::File {
                file: file.to_string(),
                message: format!(
                    "cannot tell which property holds the area code; properties are: {}; \
                     name it with --code-field",
                    available()
                ),
            })?,
    };
    let name = match &fields.name {
        Some(n) => find(n).ok_or_else(|| GeographyError::File {
            file: file.to_string(),
            message: format!(
                "no property `{n}` (given by --name-field); properties are: {}",
                available()
            ),
        })?,
        None => match &detected {
            Some((c, n)) if *c == code => n.clone(),
            // A chosen code field `XXCD` usually has its name in `XXNM`.
            _ => code
                .strip_suffix("CD")
                .or_else(|| code.strip_suffix("cd"))
                .and_then(|stem| find(&format!("{stem}NM")))
                .or_else(|| detected.as_ref().map(|d| d.1.clone()))
                .ok_or_else(|| GeographyError::File {
                    file: file.to_string(),
                    message: format!(
                        "cannot tell which property holds the area name; properties are: {}; \
                         name it with --name-field",
                        available()
                    ),
                })?,
        },
    };
    Ok((code, name))
}

/// ONS's own pattern: `LSOA21CD`/`LSOA21NM`, `WD23CD`/`WD23NM`, …
fn ons_pattern_fields(first: &RawFeature) -> Option<(String, String)> {
    first.properties.keys().find_map(|k| {
        let upper = k.to_ascii_uppercase();
        let stem = upper.strip_suffix("CD")?;
        let looks_ons = stem.len() >= 3
            && stem.chars().rev().take(2).all(|c| c.is_ascii_digit())
            && stem.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        if !looks_ons {
            return None;
        }
        let name = first
            .properties
            .keys()
            .find(|n| n.eq_ignore_ascii_case(&format!("{stem}NM")))?;
        Some((k.clone(), name.clone()))
    })
}

fn property_text(properties: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    match properties.get(key)? {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

struct FeatureLabel<'a> {
    file: &'a str,
    code: &'a str,
    name: &'a str,
    crs: Crs,
}

impl FeatureLabel<'_> {
    fn problem(&self, problem: impl fmt::Display) -> String {
        format!("feature {} ({}): {problem}", self.code, self.name)
    }

    fn at(&self, c: Coord<f64>) -> String {
        match self.crs {
            Crs::Wgs84 => format!("at ({:.6}, {:.6})", c.x, c.y),
            Crs::BritishNationalGrid => format!("at ({:.1}, {:.1})", c.x, c.y),
        }
    }
}

/// Converts, checks, repairs and orients one feature's geometry. Returns the WGS84 shape and
/// whether its outer rings were clockwise; on failure, a one-line problem report.
fn feature_shape(
    raw: &RawFeature,
    label: &FeatureLabel,
    notes: &mut Vec<String>,
) -> Result<(MultiPolygon<f64>, bool), String> {
    let Some(geometry) = &raw.geometry else {
        return Err(label.problem("has no geometry"));
    };
    let shape = match &geometry.value {
        GeometryValue::Polygon { coordinates } => MultiPolygon(vec![polygon(coordinates, label)?]),
        GeometryValue::MultiPolygon { coordinates } => MultiPolygon(
            coordinates
                .iter()
                .map(|p| polygon(p, label))
                .collect::<Result<_, _>>()?,
        ),
        other => {
            return Err(label.problem(format!(
                "is a {}; boundaries must be Polygon or MultiPolygon",
                other.type_name()
            )));
        }
    };
    // Check where the coordinates are before anything else, so a wrong CRS is named as such.
    let mut out_of_range = None;
    for c in shape.0.iter().flat_map(|p| {
        std::iter::once(p.exterior())
            .chain(p.interiors())
            .flat_map(|r| r.0.iter())
    }) {
        let ok = match label.crs {
            Crs::Wgs84 => bng::check_lat_lon(c.y, c.x).is_ok(),
            Crs::BritishNationalGrid => {
                (0.0..700_000.0).contains(&c.x) && (0.0..1_300_000.0).contains(&c.y)
            }
        };
        if !ok {
            out_of_range = Some(*c);
            break;
        }
    }
    if let Some(c) = out_of_range {
        return Err(label.problem(format!(
            "coordinate {} is outside the range of {}",
            label.at(c).trim_start_matches("at "),
            label.crs
        )));
    }
    let was_clockwise = shape.0.iter().any(|p| p.exterior().is_cw());
    let shape = validate_or_repair(shape, label, notes)?;
    let shape = match label.crs {
        Crs::Wgs84 => shape,
        Crs::BritishNationalGrid => {
            use geo::MapCoords;
            shape
                .try_map_coords(|c| bng::bng_to_wgs84(c.x, c.y).map(|(x, y)| Coord { x, y }))
                .map_err(|e| label.problem(e))?
        }
    };
    Ok((shape.orient(Direction::Default), was_clockwise))
}

fn polygon(rings: &[Vec<geojson::Position>], label: &FeatureLabel) -> Result<Polygon<f64>, String> {
    let mut out = Vec::with_capacity(rings.len());
    for (r, ring) in rings.iter().enumerate() {
        let which = if r == 0 {
            "outer ring".to_string()
        } else {
            format!("hole {r}")
        };
        // Fewer than three points encloses nothing: an empty ring would otherwise pass as a
        // valid, shapeless area and replace a whole layer.
        if ring.len() < 3 {
            return Err(label.problem(format!(
                "its {which} has {} point(s); a ring needs at least 3",
                ring.len()
            )));
        }
        let mut coords = Vec::with_capacity(ring.len());
        for (i, p) in ring.iter().enumerate() {
            match p.as_slice() {
                [x, y, ..] => coords.push(Coord { x: *x, y: *y }),
                other => {
                    return Err(label.problem(format!(
                        "position {} of its {which} has {} number(s); positions are [x, y]",
                        i + 1,
                        other.len()
                    )));
                }
            }
        }
        out.push(LineString::from(coords));
    }
    let mut rings = out.into_iter();
    let Some(exterior) = rings.next() else {
        return Err(label.problem("has a polygon with no rings"));
    };
    Ok(Polygon::new(exterior, rings.collect()))
}

/// Valid shapes pass unchanged; invalid ones are repaired (and the repair reported) or rejected.
fn validate_or_repair(
    shape: MultiPolygon<f64>,
    label: &FeatureLabel,
    notes: &mut Vec<String>,
) -> Result<MultiPolygon<f64>, String> {
    let errors = validity::validation_errors(&shape);
    if errors.is_empty() {
        return Ok(shape);
    }
    let problems: Vec<String> = errors
        .iter()
        .map(|e| format!("{} {}", describe(e), label.at(problem_location(&shape, e))))
        .collect();
    let problems = problems.join("; ");
    let repaired = match shape.make_valid() {
        Ok(r) if !r.0.is_empty() && validity::validation_errors(&r).is_empty() => r,
        Ok(_) => return Err(label.problem(format!("invalid: {problems}; repair failed"))),
        Err(e) => return Err(label.problem(format!("invalid: {problems}; repair failed: {e}"))),
    };
    // For the report only: an invalid ring has no reliable orientation, which geodesic area
    // needs, so degrees are scaled to metres at the shape's latitude (good to a fraction of a
    // percent over a ward). BNG shapes are already in metres.
    let area = |s: &MultiPolygon<f64>| match label.crs {
        Crs::Wgs84 => {
            let lat =
                s.0.first()
                    .and_then(|p| p.exterior().0.first())
                    .map_or(0.0, |c| c.y.to_radians());
            let metres_per_degree = 111_320.0;
            geo::Area::unsigned_area(s) * metres_per_degree * metres_per_degree * lat.cos()
        }
        Crs::BritishNationalGrid => geo::Area::unsigned_area(s),
    };
    notes.push(format!(
        "{}: {}",
        label.file,
        label.problem(format!(
            "invalid: {problems}; repaired into {} polygon(s), area {:.0} m² → {:.0} m²",
            repaired.0.len(),
            area(&shape),
            area(&repaired)
        ))
    ));
    Ok(repaired)
}

fn describe(e: &InvalidMultiPolygon) -> String {
    match e {
        InvalidMultiPolygon::InvalidPolygon(idx, inner) if idx.0 == 0 => inner.to_string(),
        InvalidMultiPolygon::InvalidPolygon(idx, inner) => format!("polygon {}: {inner}", idx.0),
        other => other.to_string(),
    }
}

/// A coordinate showing where a validation problem is, in the shape's own CRS.
fn problem_location(shape: &MultiPolygon<f64>, e: &InvalidMultiPolygon) -> Coord<f64> {
    let fallback = shape
        .0
        .first()
        .and_then(|p| p.exterior().0.first().copied())
        .unwrap_or(Coord { x: 0.0, y: 0.0 });
    let ring = |p: &Polygon<f64>, role: RingRole| -> Option<LineString<f64>> {
        match role {
            RingRole::Exterior => Some(p.exterior().clone()),
            RingRole::Interior(i) => p.interiors().get(i).cloned(),
        }
    };
    match e {
        InvalidMultiPolygon::InvalidPolygon(idx, inner) => {
            let Some(p) = shape.0.get(idx.0) else {
                return fallback;
            };
            let found = match inner {
                InvalidPolygon::TooFewPointsInRing(r)
                | InvalidPolygon::InteriorRingNotContainedInExteriorRing(r) => {
                    ring(p, *r).and_then(|l| l.0.first().copied())
                }
                InvalidPolygon::NonFiniteCoord(r, i) => {
                    ring(p, *r).and_then(|l| l.0.get(i.0.saturating_sub(1)).copied())
                }
                InvalidPolygon::SelfIntersection(r) => {
                    ring(p, *r).and_then(|l| first_crossing(&l, None))
                }
                InvalidPolygon::IntersectingRingsOnALine(a, b)
                | InvalidPolygon::IntersectingRingsOnAnArea(a, b) => ring(p, *a)
                    .zip(ring(p, *b))
                    .and_then(|(a, b)| first_crossing(&a, Some(&b))),
            };
            found.unwrap_or(fallback)
        }
        InvalidMultiPolygon::ElementsOverlaps(a, b)
        | InvalidMultiPolygon::ElementsTouchOnALine(a, b) => shape
            .0
            .get(a.0)
            .zip(shape.0.get(b.0))
            .and_then(|(a, b)| {
                first_crossing(a.exterior(), Some(b.exterior()))
                    .or_else(|| b.exterior().0.first().copied())
            })
            .unwrap_or(fallback),
    }
}

/// What changed between the stored layer and its replacement.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LayerChange {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// `(code, old name, new name)`.
    pub renamed: Vec<(String, String, String)>,
    pub reshaped: Vec<String>,
    pub unchanged: usize,
}

impl LayerChange {
    pub fn between(old: Option<&Layer>, new: &Layer) -> LayerChange {
        let mut change = LayerChange::default();
        let old_by_code: BTreeMap<&str, &Area> = old
            .map(|l| l.areas.iter().map(|a| (a.code.as_str(), a)).collect())
            .unwrap_or_default();
        let new_codes: BTreeMap<&str, &Area> =
            new.areas.iter().map(|a| (a.code.as_str(), a)).collect();
        for (code, area) in &new_codes {
            match old_by_code.get(code) {
                None => change.added.push(code.to_string()),
                Some(old) => {
                    let mut same = true;
                    if old.name != area.name {
                        change.renamed.push((
                            code.to_string(),
                            old.name.clone(),
                            area.name.clone(),
                        ));
                        same = false;
                    }
                    if !same_shape(&old.shape, &area.shape) {
                        change.reshaped.push(code.to_string());
                        same = false;
                    }
                    change.unchanged += usize::from(same);
                }
            }
        }
        change.removed = old_by_code
            .keys()
            .filter(|c| !new_codes.contains_key(*c))
            .map(|c| c.to_string())
            .collect();
        change
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.renamed.is_empty()
            && self.reshaped.is_empty()
    }

    /// Refuses, unless `replace`, a new layer that drops more than half of the stored one's
    /// areas: more likely the wrong file (or a damaged one) than a boundary review.
    pub fn check_replacement(
        &self,
        old: Option<&Layer>,
        file: &str,
        replace: bool,
    ) -> Result<(), GeographyError> {
        let Some(old) = old else { return Ok(()) };
        let before = old.areas.len();
        if replace || self.removed.len() * 2 <= before {
            return Ok(());
        }
        let shown: Vec<&str> = self.removed.iter().take(5).map(String::as_str).collect();
        Err(GeographyError::Usage(format!(
            "{file} would remove {} of the {before} areas of the stored {} layer ({}{}) and add {}; \
             if that is intended, import it again with --replace",
            self.removed.len(),
            old.level,
            shown.join(", "),
            if self.removed.len() > shown.len() {
                ", …"
            } else {
                ""
            },
            self.added.len()
        )))
    }
}

/// Equal up to a micro-degree fraction (10 cm would be 1e-6), so a store round trip never
/// counts as a change.
fn same_shape(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> bool {
    let coords = |m: &MultiPolygon<f64>| -> Vec<Coord<f64>> {
        m.0.iter()
            .flat_map(|p| {
                std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .flat_map(|r| r.0.iter().copied())
            })
            .collect()
    };
    let (ca, cb) = (coords(a), coords(b));
    ca.len() == cb.len()
        && ca
            .iter()
            .zip(&cb)
            .all(|(p, q)| (p.x - q.x).abs() < 1e-9 && (p.y - q.y).abs() < 1e-9)
}

/// Multipolygons as nested `[x, y]` arrays: compact, and independent of geo-types' serde support.
mod shape_serde {
    use geo::{Coord, LineString, MultiPolygon, Polygon};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    type Rings = Vec<Vec<Vec<[f64; 2]>>>;

    pub fn serialize<S: Serializer>(shape: &MultiPolygon<f64>, s: S) -> Result<S::Ok, S::Error> {
        let rings: Rings = shape
            .0
            .iter()
            .map(|p| {
                std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .map(|r| r.0.iter().map(|c| [c.x, c.y]).collect())
                    .collect()
            })
            .collect();
        rings.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<MultiPolygon<f64>, D::Error> {
        let rings = Rings::deserialize(d)?;
        let ring = |r: Vec<[f64; 2]>| {
            LineString::from(
                r.into_iter()
                    .map(|[x, y]| Coord { x, y })
                    .collect::<Vec<_>>(),
            )
        };
        Ok(MultiPolygon(
            rings
                .into_iter()
                .filter_map(|p| {
                    let mut it = p.into_iter();
                    let exterior = ring(it.next()?);
                    Some(Polygon::new(exterior, it.map(ring).collect()))
                })
                .collect(),
        ))
    }
}
