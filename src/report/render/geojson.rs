//! The pack as GeoJSON: one Feature per reported area (its outline, WGS84) with the
//! figures as flat properties (QGIS shows flat properties as columns), in report order.
//! Areas without an outline in the geography get a Feature with no geometry, so none is
//! silently dropped. Area features have `kind` = `"area"`. After them, every EVA finding
//! with a position (see [`crate::report::LocatedFinding`]) is a Point feature with `kind` =
//! `"eva_finding"`, in area order then the finding order. Findings without a position are
//! still counted on their area (`urgent_findings` counts every urgent finding).

use geojson::{Feature, FeatureCollection, Geometry, JsonObject, JsonValue};
use serde_json::json;

use super::{MapArea, round6};
use crate::report::{Count, Figure, Report};

fn count(c: &Count) -> JsonValue {
    c.value.map_or(JsonValue::Null, Into::into)
}

fn num(x: Option<f64>) -> JsonValue {
    x.map_or(JsonValue::Null, |v| json!(round6(v)))
}

fn figure(p: &mut JsonObject, key: &str, f: &Figure) {
    p.insert(format!("{key}_fraction"), num(f.fraction));
    p.insert(format!("{key}_low"), num(f.low));
    p.insert(format!("{key}_high"), num(f.high));
    p.insert(
        format!("{key}_base"),
        f.base.map_or(JsonValue::Null, Into::into),
    );
    p.insert(format!("{key}_suppressed"), f.suppressed.into());
}

fn geometry(shape: &geo::MultiPolygon<f64>) -> Geometry {
    let polygons: Vec<Vec<Vec<Vec<f64>>>> = shape
        .0
        .iter()
        .map(|poly| {
            std::iter::once(poly.exterior())
                .chain(poly.interiors())
                .map(|ring| {
                    ring.0
                        .iter()
                        .map(|c| vec![round6(c.x), round6(c.y)])
                        .collect()
                })
                .collect()
        })
        .collect();
    Geometry::new(geojson::GeometryValue::new_multi_polygon(polygons))
}

/// The FeatureCollection as pretty JSON text, ending in a newline.
pub fn render(report: &Report, shapes: &[MapArea]) -> Result<String, serde_json::Error> {
    let mut features = Vec::new();
    for a in &report.areas {
        let mut p = JsonObject::new();
        p.insert("kind".into(), "area".into());
        p.insert("code".into(), a.code.clone().into());
        p.insert("name".into(), a.name.clone().into());
        p.insert("level".into(), a.level.as_str().into());
        p.insert("parent".into(), a.parent.clone().into());
        p.insert("period".into(), a.period.to_string().into());
        p.insert("public".into(), report.public.into());
        p.insert("marking".into(), report.marking.clone().into());
        p.insert("interviews".into(), count(&a.fieldwork.interviews));
        p.insert("transects".into(), a.fieldwork.transects.into());
        p.insert("urgent_findings".into(), a.street.urgent.len().into());
        for n in 0..3 {
            let top = a.top_three.get(n);
            p.insert(
                format!("top_{}", n + 1),
                top.map(|t| t.issue.clone()).into(),
            );
            p.insert(
                format!("top_{}_label", n + 1),
                top.map(|t| t.label.clone()).into(),
            );
            p.insert(
                format!("top_{}_score", n + 1),
                num(top.and_then(|t| t.score)),
            );
        }
        for m in &a.indicators.measures {
            figure(&mut p, &m.id.replace('.', "_"), &m.figure);
        }
        for e in &a.street.ni195 {
            p.insert(format!("ni195_{}", e.element), num(e.score));
        }
        for row in &a.issues.all {
            figure(&mut p, &format!("named_{}", row.issue), &row.named);
        }
        let geometry = shapes
            .iter()
            .find(|s| s.code == a.code)
            .map(|s| geometry(&s.shape));
        features.push(Feature {
            bbox: None,
            geometry,
            id: Some(geojson::feature::Id::String(a.code.clone())),
            properties: Some(p),
            foreign_members: None,
        });
    }
    for a in &report.areas {
        for (i, f) in a.street.located_findings.iter().enumerate() {
            let mut p = JsonObject::new();
            p.insert("kind".into(), "eva_finding".into());
            p.insert("area".into(), a.code.clone().into());
            p.insert("transect".into(), f.transect.clone().into());
            p.insert("item".into(), f.item.clone().into());
            p.insert("label".into(), f.item_label.clone().into());
            p.insert("grade".into(), f.grade.clone().into());
            p.insert("agency".into(), f.agency.clone().into());
            p.insert("urgent".into(), f.urgent.into());
            p.insert("reference".into(), f.reference.clone().into());
            p.insert("position_from".into(), f.position_from.clone().into());
            if !report.public {
                p.insert("note".into(), f.note.clone().into());
            }
            features.push(Feature {
                bbox: None,
                geometry: Some(Geometry::new(geojson::GeometryValue::new_point(vec![
                    round6(f.lon),
                    round6(f.lat),
                ]))),
                // Unique within the collection: area codes are ids of the polygons.
                id: Some(geojson::feature::Id::String(format!(
                    "{}/finding/{}",
                    a.code,
                    i + 1
                ))),
                properties: Some(p),
                foreign_members: None,
            });
        }
    }
    let fc = FeatureCollection {
        bbox: None,
        features,
        foreign_members: None,
    };
    let mut text = serde_json::to_string_pretty(&fc)?;
    text.push('\n');
    Ok(text)
}
