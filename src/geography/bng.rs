//! British National Grid: grid references (`SD 5760 0540`) and the WGS84 ↔ OSGB36 transformation.
//!
//! The transformation is OSTN15 (via `lonlat_bng`), accurate to about 0.1 m across Great Britain.
//! WGS84 is treated as ETRS89, which is the usual GIS convention (they differ by well under a metre
//! for GPS work).

use super::GeographyError;

/// The 25 letters of the grid-square alphabet (no `I`).
const LETTERS: &[u8; 25] = b"ABCDEFGHJKLMNOPQRSTUVWXYZ";

/// The extent of the National Grid: 700 km east, 1300 km north of the false origin.
const MAX_EASTING: f64 = 700_000.0;
const MAX_NORTHING: f64 = 1_300_000.0;

/// A parsed grid reference: the south-west corner of the square it names and the square's size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridRef {
    pub easting: f64,
    pub northing: f64,
    /// The side of the square in metres (1 m for a 10-digit reference, 10 km for a 2-digit one).
    pub precision_m: f64,
}

impl GridRef {
    /// The centre of the square: the best single point for a reference that names an area.
    pub fn centre(&self) -> (f64, f64) {
        (
            self.easting + self.precision_m / 2.0,
            self.northing + self.precision_m / 2.0,
        )
    }
}

fn bad_ref(input: &str, reason: impl Into<String>) -> GeographyError {
    GeographyError::GridRef {
        input: input.to_string(),
        reason: reason.into(),
    }
}

/// Parses `SD 5760 0540`, `SD5760005400`, `sd 57 05`: two letters then 2 to 10 digits, split
/// evenly between easting and northing (by the space if there is one, otherwise in half).
pub fn parse_grid_ref(input: &str) -> Result<GridRef, GeographyError> {
    let trimmed = input.trim();
    let mut chars = trimmed.chars();
    let (Some(a), Some(b)) = (chars.next(), chars.next()) else {
        return Err(bad_ref(
            input,
            "expected two letters and digits, e.g. SD 5760 0540",
        ));
    };
    let square = |c: char| {
        LETTERS
            .iter()
            .position(|l| *l as char == c.to_ascii_uppercase())
    };
    let (Some(l1), Some(l2)) = (square(a), square(b)) else {
        return Err(bad_ref(
            input,
            "must start with the two letters of a 100 km square, e.g. SD (I is never used)",
        ));
    };
    let rest = chars.as_str().trim();
    let groups: Vec<&str> = rest.split_whitespace().collect();
    let (east_digits, north_digits) = match groups.as_slice() {
        [one] => {
            if one.len() % 2 != 0 {
                return Err(bad_ref(
                    input,
                    format!(
                        "{} digits cannot be split evenly into easting and northing",
                        one.len()
                    ),
                ));
            }
            one.split_at(one.len() / 2)
        }
        [e, n] => {
            if e.len() != n.len() {
                return Err(bad_ref(
                    input,
                    "easting and northing need the same number of digits",
                ));
            }
            (*e, *n)
        }
        [] => return Err(bad_ref(input, "the digits are missing, e.g. SD 5760 0540")),
        _ => return Err(bad_ref(input, "expected at most two groups of digits")),
    };
    if !east_digits
        .chars()
        .chain(north_digits.chars())
        .all(|c| c.is_ascii_digit())
    {
        return Err(bad_ref(input, "only digits may follow the letters"));
    }
    let per_axis = east_digits.len();
    if !(1..=5).contains(&per_axis) {
        return Err(bad_ref(
            input,
            "use 2 to 10 digits (1 to 5 each for easting and northing)",
        ));
    }
    // Reversing the letter arithmetic of `format_grid_ref`: the first letter picks the 500 km
    // square (counted from the false origin at SV), the second the 100 km square within it.
    let e100k = ((l1 as i64 - 2).rem_euclid(5)) * 5 + (l2 as i64 % 5);
    let n100k = (19 - (l1 as i64 / 5) * 5) - (l2 as i64 / 5);
    if !(0..7).contains(&e100k) || !(0..13).contains(&n100k) {
        return Err(bad_ref(
            input,
            "that 100 km square is outside the British National Grid",
        ));
    }
    let scale = 10f64.powi(5 - per_axis as i32);
    let parse = |d: &str| d.parse::<f64>().unwrap_or(0.0) * scale;
    Ok(GridRef {
        easting: e100k as f64 * 100_000.0 + parse(east_digits),
        northing: n100k as f64 * 100_000.0 + parse(north_digits),
        precision_m: scale,
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
    let letter = |i: i64| LETTERS.get(i as usize).map(|c| *c as char).unwrap_or('?');
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
