//! British National Grid: grid references (`SD 5760 0540`) and the WGS84 ↔ OSGB36 transformation.
//!
//! The transformation is OSTN15 (via `lonlat_bng`), accurate to about 0.1 m across Great Britain.
//! WGS84 is treated as ETRS89, which is the usual GIS convention (they differ by well under a metre
//! for GPS work).

use super::GeographyError;

/// The extent of the National Grid: 700 km east, 1300 km north of the false origin.
const MAX_EASTING: f64 = 700_000.0;
const MAX_NORTHING: f64 = 1_300_000.0;

pub use crate::gridref::GridRef;

/// Parses `SD 5760 0540`, `SD5760005400`, `sd 57 05` (see [`crate::gridref::parse`]).
pub fn parse_grid_ref(input: &str) -> Result<GridRef, GeographyError> {
    crate::gridref::parse(input).map_err(|e| GeographyError::GridRef {
        input: e.input,
        reason: e.reason,
    })
}

/// Formats eastings and northings as a grid reference with `digits_per_axis` (1–5) digits each,
/// e.g. `SD 57600 05400`. The square is the one containing the point (truncation, as the
/// Ordnance Survey does).
pub fn format_grid_ref(
    easting: f64,
    northing: f64,
    digits_per_axis: u32,
) -> Result<String, GeographyError> {
    check_bng(easting, northing)?;
    let digits = digits_per_axis.clamp(1, 5);
    let e100k = (easting / 100_000.0).floor() as i64;
    let n100k = (northing / 100_000.0).floor() as i64;
    let l1 = (19 - n100k) - (19 - n100k) % 5 + (e100k + 10) / 5;
    let l2 = ((19 - n100k) * 5) % 25 + e100k % 5;
    let letter = |i: i64| {
        crate::gridref::LETTERS
            .get(i as usize)
            .map(|c| *c as char)
            .unwrap_or('?')
    };
    let scale = 10f64.powi(5 - digits as i32);
    let e = ((easting % 100_000.0) / scale).floor() as u64;
    let n = ((northing % 100_000.0) / scale).floor() as u64;
    let width = digits as usize;
    Ok(format!(
        "{}{} {e:0width$} {n:0width$}",
        letter(l1),
        letter(l2)
    ))
}

fn check_bng(easting: f64, northing: f64) -> Result<(), GeographyError> {
    if !(0.0..MAX_EASTING).contains(&easting) || !(0.0..MAX_NORTHING).contains(&northing) {
        return Err(GeographyError::Coordinate(format!(
            "easting {easting}, northing {northing} is outside the British National Grid \
             (0–{MAX_EASTING} m east, 0–{MAX_NORTHING} m north)"
        )));
    }
    Ok(())
}

/// Checks a WGS84 latitude and longitude are real coordinates.
pub fn check_lat_lon(lat: f64, lon: f64) -> Result<(), GeographyError> {
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return Err(GeographyError::Coordinate(format!(
            "latitude {lat} is out of range (-90 to 90)"
        )));
    }
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        return Err(GeographyError::Coordinate(format!(
            "longitude {lon} is out of range (-180 to 180)"
        )));
    }
    Ok(())
}

/// WGS84 longitude/latitude to British National Grid eastings/northings (OSTN15).
pub fn wgs84_to_bng(lon: f64, lat: f64) -> Result<(f64, f64), GeographyError> {
    check_lat_lon(lat, lon)?;
    lonlat_bng::convert_osgb36(lon, lat).map_err(|e| {
        GeographyError::Coordinate(format!(
            "latitude {lat}, longitude {lon} cannot be put on the British National Grid: {e}"
        ))
    })
}

/// British National Grid eastings/northings to WGS84 longitude/latitude (OSTN15).
pub fn bng_to_wgs84(easting: f64, northing: f64) -> Result<(f64, f64), GeographyError> {
    check_bng(easting, northing)?;
    lonlat_bng::convert_osgb36_to_ll(easting, northing).map_err(|e| {
        GeographyError::Coordinate(format!(
            "easting {easting}, northing {northing} cannot be converted to latitude/longitude: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_spellings() {
        let spaced = parse_grid_ref("SD 5760 0540").unwrap();
        assert_eq!(
            (spaced.easting, spaced.northing, spaced.precision_m),
            (357600.0, 405400.0, 10.0)
        );
        assert_eq!(parse_grid_ref("sd5760005400").unwrap().easting, 357600.0);
        let coarse = parse_grid_ref("SD 57 05").unwrap();
        assert_eq!(
            (coarse.easting, coarse.northing, coarse.precision_m),
            (357000.0, 405000.0, 1000.0)
        );
        assert_eq!(coarse.centre(), (357500.0, 405500.0));
        let tg = parse_grid_ref("TG 51409 13177").unwrap();
        assert_eq!((tg.easting, tg.northing), (651409.0, 313177.0));
    }

    #[test]
    fn formats_round_trip() {
        assert_eq!(
            format_grid_ref(357600.0, 405400.0, 4).unwrap(),
            "SD 5760 0540"
        );
        assert_eq!(
            format_grid_ref(651409.9, 313177.3, 5).unwrap(),
            "TG 51409 13177"
        );
        assert_eq!(
            format_grid_ref(216667.0, 771283.0, 5).unwrap(),
            "NN 16667 71283"
        );
        assert_eq!(format_grid_ref(0.0, 0.0, 1).unwrap(), "SV 0 0");
    }

    #[test]
    fn rejects_bad_references() {
        for bad in [
            "",
            "S",
            "SI 1234",
            "SD 123 45",
            "SD12345",
            "SD",
            "SD 12a4",
            "SD 123456 123456",
            "ZZ 1 1",
            "SD 1 2 3",
        ] {
            assert!(parse_grid_ref(bad).is_err(), "{bad} should be rejected");
        }
    }
}
