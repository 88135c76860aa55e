//! Ordnance Survey grid references (`SD 5760 0540`): the text form only, shared by the survey
//! engine (a location answer may be one) and the geography (which turns it into a place), so
//! neither imports the other.

/// The 25 letters of the grid-square alphabet (no `I`).
pub(crate) const LETTERS: &[u8; 25] = b"ABCDEFGHJKLMNOPQRSTUVWXYZ";

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

/// A grid reference that does not parse, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a grid reference: {reason}")]
pub struct GridRefError {
    pub input: String,
    pub reason: String,
}

fn bad_ref(input: &str, reason: impl Into<String>) -> GridRefError {
    GridRefError {
        input: input.to_string(),
        reason: reason.into(),
    }
}

/// Parses `SD 5760 0540`, `SD5760005400`, `sd 57 05`: two letters then 2 to 10 digits, split
/// evenly between easting and northing (by the space if there is one, otherwise in half).
pub fn parse(input: &str) -> Result<GridRef, GridRefError> {
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
