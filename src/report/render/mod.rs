//! The pack's richer formats, drawn from the [`Report`](super::Report) model and the area
//! outlines: HTML (the printable meeting pack) and GeoJSON (for QGIS).

pub mod geojson;
pub mod html;
pub mod xlsx;

use geo::MultiPolygon;

/// A reported area's outline in WGS84 (x = longitude, y = latitude), by its report code.
#[derive(Debug, Clone, PartialEq)]
pub struct MapArea {
    pub code: String,
    pub shape: MultiPolygon<f64>,
}

/// Six decimal places of a degree (about 10 cm): enough for any boundary, and the same
/// digits on every machine.
pub(crate) fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// The outline of every reported area the geography has: wards and PAAs from their layers,
/// a township as all its wards together.
pub fn map_areas(geography: &crate::geography::Geography, report: &super::Report) -> Vec<MapArea> {
    use super::AreaLevel;
    use crate::geography::Level;
    report
        .areas
        .iter()
        .filter_map(|a| {
            let shape = match a.level {
                AreaLevel::Ward => geography.outline(Level::Ward, &a.code)?.clone(),
                AreaLevel::Paa => geography.outline(Level::Paa, &a.code)?.clone(),
                AreaLevel::Township => {
                    let t = geography
                        .plan
                        .as_ref()?
                        .townships
                        .iter()
                        .find(|t| t.name == a.code)?;
                    MultiPolygon(
                        t.wards
                            .iter()
                            .filter_map(|w| geography.outline(Level::Ward, w))
                            .flat_map(|m| m.0.iter().cloned())
                            .collect(),
                    )
                }
            };
            Some(MapArea {
                code: a.code.clone(),
                shape,
            })
        })
        .collect()
}
