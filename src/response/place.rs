//! Where a location answer is on the map, and whether it is in the area being surveyed.

use crate::geography::{Geography, bng};
use crate::survey::{Answer, Location};

/// The point a location answer names, as (longitude, latitude) in WGS84: a GPS fix as
/// given, a grid reference at the centre of its square; a fixed reference has none.
pub fn location_point(location: &Location) -> Option<(f64, f64)> {
    match location {
        Location::LatLon { lat, lon } => Some((*lon, *lat)),
        Location::GridRef { text } => {
            let (e, n) = bng::parse_grid_ref(text).ok()?.centre();
            let (lon, lat) = bng::bng_to_wgs84(e, n).ok()?;
            Some((lon, lat))
        }
        Location::Fixed { .. } => None,
    }
}

/// A warning when a location answer falls outside `area` (the PAA or ward being
/// surveyed), naming where it falls; `None` for any other answer or a point inside.
pub fn outside_warning(geography: &Geography, area: &str, answer: &Answer) -> Option<String> {
    let Answer::Location(location) = answer else {
        return None;
    };
    let (lon, lat) = location_point(location)?;
    geography.outside_warning(area, lon, lat)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geography::builtin;

    #[test]
    fn a_point_outside_the_area_is_named_where_it_falls() {
        let geo = builtin::geography().unwrap();
        // Wigan town centre: inside DEMO-PAA-1 and its ward E05000861.
        let centre = Answer::Location(Location::LatLon {
            lat: 53.5448,
            lon: -2.6318,
        });
        let found = geo.locator().locate(-2.6318, 53.5448);
        let ward = found.ward.clone().unwrap();
        assert_eq!(outside_warning(&geo, &ward.code, &centre), None);
        // Surveying Pemberton's PAA, the same point is elsewhere: the warning says where.
        let w = outside_warning(&geo, "DEMO-PAA-3", &centre).unwrap();
        assert!(
            w.starts_with("That location is outside DEMO Pemberton (DEMO-PAA-3): it falls in"),
            "{w}"
        );
        assert!(
            w.contains(&format!("ward {} ({})", ward.name, ward.code)),
            "{w}"
        );
        // A grid reference works the same way; far away it is in no ward known here.
        let london = Answer::Location(Location::GridRef {
            text: "TQ 30 80".into(),
        });
        let w = outside_warning(&geo, "DEMO-PAA-3", &london).unwrap();
        assert!(w.contains("falls in no ward this device knows"), "{w}");
        // Fixed references and other answers have no point; unknown areas, nothing to compare.
        let fixed = Answer::Location(Location::Fixed {
            text: "lamp column 14".into(),
        });
        assert_eq!(outside_warning(&geo, "DEMO-PAA-3", &fixed), None);
        assert_eq!(outside_warning(&geo, "NOWHERE", &centre), None);
        assert_eq!(outside_warning(&geo, "DEMO-PAA-3", &Answer::Count(1)), None);
    }
}
