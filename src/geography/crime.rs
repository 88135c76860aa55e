//! police.uk street-level crime CSVs: parsing, stable keys for idempotent re-import, assignment
//! to areas by point-in-polygon, and the monthly counts of the area profile.
//!
//! Keys: a row with a Crime ID is `MONTH/id/CRIME_ID`, so a repeated ID in a month counts once.
//! Anti-social behaviour rows have no ID and identical lines are separate incidents, so their
//! key is `MONTH/row/HASH/N`: the hash of the whole line plus its ordinal among identical lines
//! in the file. Re-importing a file (or a trimmed copy of the same month) yields the same keys.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::GeographyError;
use super::boundary::Level;
use super::index::{AreaSelection, Locator};
use crate::input::{InputError, read_capped};

/// One located or unlocated crime or ASB incident, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrimeRecord {
    /// `YYYY-MM`.
    pub month: String,
    /// police.uk category slug.
    pub category: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crime_id: Option<String>,
    /// WGS84; `None` for "No Location" rows.
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ward: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lsoa: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paa: Option<String>,
}

impl CrimeRecord {
    /// Sets ward, LSOA and PAA from the locator; returns whether it changed anything.
    pub fn assign(&mut self, locator: &Locator) -> bool {
        let (ward, lsoa, paa) = match (self.lon, self.lat) {
            (Some(lon), Some(lat)) => (
                locator
                    .locate_code(Level::Ward, lon, lat)
                    .map(str::to_string),
                locator
                    .locate_code(Level::Lsoa, lon, lat)
                    .map(str::to_string),
                locator
                    .locate_code(Level::Paa, lon, lat)
                    .map(str::to_string),
            ),
            _ => (None, None, None),
        };
        let changed = ward != self.ward || lsoa != self.lsoa || paa != self.paa;
        self.ward = ward;
        self.lsoa = lsoa;
        self.paa = paa;
        changed
    }

    pub fn is_located(&self) -> bool {
        self.lon.is_some() && self.lat.is_some()
    }

    /// Located but in no area of any layer.
    pub fn is_outside(&self) -> bool {
        self.is_located() && self.ward.is_none() && self.lsoa.is_none() && self.paa.is_none()
    }

    pub fn is_in(&self, selection: &AreaSelection) -> bool {
        match selection {
            AreaSelection::Township(t) => self
                .ward
                .as_ref()
                .is_some_and(|w| t.wards.iter().any(|tw| tw == w)),
            AreaSelection::Area { level, area } => {
                let mine = match level {
                    Level::Ward => &self.ward,
                    Level::Lsoa => &self.lsoa,
                    Level::Paa => &self.paa,
                };
                mine.as_deref() == Some(area.code.as_str())
            }
        }
    }
}

/// One CSV file, parsed.
#[derive(Debug, Clone, Default)]
pub struct CrimeFile {
    pub file: String,
    /// Data rows read (the header excluded).
    pub rows_read: usize,
    /// `(line, problem)` for rows that could not be used; the rest of the file still imports.
    pub malformed: Vec<(u64, String)>,
    pub no_location: usize,
    /// `(crime id, first line, repeated line)`: counted once.
    pub repeated_ids: Vec<(String, u64, u64)>,
    /// `(key, record)` for every usable row, in file order.
    pub records: Vec<(String, CrimeRecord)>,
}

const REQUIRED: [&str; 5] = ["Crime ID", "Month", "Longitude", "Latitude", "Crime type"];

/// Parses a police.uk street-level CSV. Bad rows are reported by line and skipped; only a file
/// without the police.uk columns fails as a whole.
pub fn parse_street_csv(input: impl Read, file: &str) -> Result<CrimeFile, GeographyError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| GeographyError::File {
            file: file.to_string(),
            message: format!("cannot read the header line: {e}"),
        })?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|c| column(c).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(GeographyError::File {
            file: file.to_string(),
            message: format!(
                "not a police.uk street-level CSV: missing column(s) {}",
                missing.join(", ")
            ),
        });
    }
    let col = |name: &str| column(name).unwrap_or(0);
    let (c_id, c_month, c_lon, c_lat, c_type) = (
        col("Crime ID"),
        col("Month"),
        col("Longitude"),
        col("Latitude"),
        col("Crime type"),
    );

    let mut out = CrimeFile {
        file: file.to_string(),
        ..CrimeFile::default()
    };
    let mut id_lines: HashMap<String, u64> = HashMap::new();
    let mut identical: HashMap<String, usize> = HashMap::new();
    for result in reader.records() {
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                if let csv::ErrorKind::Io(io) = e.kind() {
                    return Err(GeographyError::File {
                        file: file.to_string(),
                        message: format!("read failed near line {line}: {io}"),
                    });
                }
                out.rows_read += 1;
                out.malformed.push((line, short_csv_error(&e)));
                continue;
            }
        };
        out.rows_read += 1;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        let month = field(c_month);
        if !is_month(month) {
            out.malformed.push((
                line,
                format!("month `{month}` is not YYYY-MM (years 2000 to 2099)"),
            ));
            continue;
        }
        let crime_type = field(c_type);
        let Some(category) = crate::police::slug_for_name(crime_type) else {
            out.malformed
                .push((line, format!("unknown crime type `{crime_type}`")));
            continue;
        };
        let (lon_text, lat_text) = (field(c_lon), field(c_lat));
        let (lon, lat) = match (lon_text.is_empty(), lat_text.is_empty()) {
            (true, true) => (None, None),
            (false, false) => match (lon_text.parse::<f64>(), lat_text.parse::<f64>()) {
                (Ok(lon), Ok(lat))
                    if lon.is_finite()
                        && lat.is_finite()
                        && (-180.0..=180.0).contains(&lon)
                        && (-90.0..=90.0).contains(&lat) =>
                {
                    (Some(lon), Some(lat))
                }
                _ => {
                    out.malformed.push((
                        line,
                        format!("bad longitude/latitude `{lon_text}`, `{lat_text}`"),
                    ));
                    continue;
                }
            },
            _ => {
                out.malformed.push((
                    line,
                    "only one of longitude and latitude is given".to_string(),
                ));
                continue;
            }
        };
        let crime_id = field(c_id);
        let key = if crime_id.is_empty() {
            let mut hasher = Sha256::new();
            for f in record.iter() {
                hasher.update(f.as_bytes());
                hasher.update([0x1f]);
            }
            let digest = hasher.finalize();
            let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
            let n = identical.entry(hash.clone()).or_insert(0);
            *n += 1;
            format!("{month}/row/{hash}/{n}")
        } else {
            if let Some(first) = id_lines.get(crime_id) {
                out.repeated_ids.push((crime_id.to_string(), *first, line));
                continue;
            }
            id_lines.insert(crime_id.to_string(), line);
            format!("{month}/id/{crime_id}")
        };
        if lon.is_none() {
            out.no_location += 1;
        }
        out.records.push((
            key,
            CrimeRecord {
                month: month.to_string(),
                category: category.to_string(),
                crime_id: (!crime_id.is_empty()).then(|| crime_id.to_string()),
                lon,
                lat,
                ward: None,
                lsoa: None,
                paa: None,
            },
        ));
    }
    if out.rows_read > 0 && out.malformed.len() == out.rows_read {
        // Nothing usable at all is a wrong or damaged file, not a month without crime.
        let shown: Vec<String> = out
            .malformed
            .iter()
            .take(5)
            .map(|(line, problem)| format!("line {line}: {problem}"))
            .collect();
        return Err(GeographyError::File {
            file: file.to_string(),
            message: format!(
                "every one of its {} row(s) is malformed ({}{})",
                out.rows_read,
                shown.join("; "),
                if out.rows_read > shown.len() {
                    "; …"
                } else {
                    ""
                }
            ),
        });
    }
    Ok(out)
}

/// The largest police.uk CSV read: a month of street-level crime for the biggest force is
/// tens of MB.
pub const MAX_CRIME_FILE: u64 = 100 * 1024 * 1024;

/// Reads and parses a police.uk street-level CSV file (at most [`MAX_CRIME_FILE`]).
pub fn read_street_csv(path: &Path) -> Result<CrimeFile, GeographyError> {
    let name = path.display().to_string();
    let bytes = read_capped(path, MAX_CRIME_FILE, "police.uk CSV").map_err(|e| match e {
        InputError::Io { source, .. } => GeographyError::io(path, source),
        too_large @ InputError::TooLarge { .. } => GeographyError::File {
            file: name.clone(),
            message: too_large.reason(),
        },
    })?;
    parse_street_csv(bytes.as_slice(), &name)
}

fn short_csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_string(),
        _ => e.to_string(),
    }
}

/// `YYYY-MM` with a real month of a plausible year (police.uk data starts in 2010; year
/// `0000` is a damaged file, not history).
pub fn is_month(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 7
        && b[4] == b'-'
        && b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit)
        && matches!(text[..4].parse::<u16>(), Ok(2000..=2099))
        && matches!(text[5..].parse::<u8>(), Ok(1..=12))
}

/// Counts per police.uk category per month for the records in an area.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CrimeSummary {
    pub months: BTreeSet<String>,
    /// slug → month → count.
    pub by_category: BTreeMap<String, BTreeMap<String, usize>>,
    pub total: usize,
}

impl CrimeSummary {
    pub fn of<'a>(
        records: impl IntoIterator<Item = &'a CrimeRecord>,
        selection: &AreaSelection,
        from: Option<&str>,
        to: Option<&str>,
    ) -> CrimeSummary {
        let mut s = CrimeSummary::default();
        for r in records {
            if from.is_some_and(|f| r.month.as_str() < f)
                || to.is_some_and(|t| r.month.as_str() > t)
                || !r.is_in(selection)
            {
                continue;
            }
            s.months.insert(r.month.clone());
            *s.by_category
                .entry(r.category.clone())
                .or_default()
                .entry(r.month.clone())
                .or_insert(0) += 1;
            s.total += 1;
        }
        s
    }

    pub fn count(&self, category: &str, month: &str) -> usize {
        self.by_category
            .get(category)
            .and_then(|m| m.get(month))
            .copied()
            .unwrap_or(0)
    }
}

/// One issue of the PACT taxonomy as the crime summary needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueMapping {
    pub id: String,
    pub label: String,
    /// police.uk slugs that record the issue.
    pub police_categories: Vec<String>,
}

/// Recorded counts per issue per month: the sum over the police categories that record it.
/// A category can record several issues (anti-social behaviour does), so issue rows do not add
/// up to the total; issues no category records are left out.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueCount {
    pub id: String,
    pub label: String,
    pub categories: Vec<String>,
    pub by_month: BTreeMap<String, usize>,
}

pub fn map_to_issues(summary: &CrimeSummary, taxonomy: &[IssueMapping]) -> Vec<IssueCount> {
    taxonomy
        .iter()
        .filter(|i| !i.police_categories.is_empty())
        .map(|i| IssueCount {
            id: i.id.clone(),
            label: i.label.clone(),
            categories: i.police_categories.clone(),
            by_month: summary
                .months
                .iter()
                .map(|m| {
                    let n = i
                        .police_categories
                        .iter()
                        .map(|c| summary.count(c, m))
                        .sum();
                    (m.clone(), n)
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n";

    #[test]
    fn identical_asb_rows_stay_separate_and_repeated_ids_count_once() {
        let text = format!(
            "{HEADER},2018-10,Kent Police,Kent Police,0.652210,51.473319,On or near Avery Close,E01016070,Medway 001A,Anti-social behaviour,,\n\
             ,2018-10,Kent Police,Kent Police,0.652210,51.473319,On or near Avery Close,E01016070,Medway 001A,Anti-social behaviour,,\n\
             abc,2018-10,Kent Police,Kent Police,0.6,51.4,On or near X,E01016070,Medway 001A,Burglary,\"Under investigation; more\",\n\
             abc,2018-10,Kent Police,Kent Police,0.6,51.4,On or near X,E01016070,Medway 001A,Burglary,\"Under investigation; more\",\n\
             def,2018-10,Kent Police,Kent Police,,,No Location,,,Other crime,,\n"
        );
        let parsed = parse_street_csv(text.as_bytes(), "t.csv").unwrap();
        assert_eq!(parsed.rows_read, 5);
        assert_eq!(parsed.records.len(), 4);
        assert_eq!(parsed.no_location, 1);
        assert_eq!(parsed.repeated_ids, vec![("abc".to_string(), 4, 5)]);
        assert!(parsed.records[0].0.ends_with("/1"));
        assert!(parsed.records[1].0.ends_with("/2"));
        assert_eq!(parsed.records[2].0, "2018-10/id/abc");
    }

    #[test]
    fn bad_rows_are_reported_by_line_and_skipped() {
        let text = format!(
            "{HEADER},2018-13,a,b,0.6,51.4,x,,,Burglary,,\n\
             ,2018-10,a,b,0.6,51.4,x,,,Jaywalking,,\n\
             ,2018-10,a,b,east,51.4,x,,,Burglary,,\n\
             ,2018-10,a,b,0.6,,x,,,Burglary,,\n\
             ,2018-10,a,b\n\
             ,2018-10,a,b,0.6,51.4,x,,,Burglary,,\n"
        );
        let parsed = parse_street_csv(text.as_bytes(), "t.csv").unwrap();
        assert_eq!(parsed.rows_read, 6);
        assert_eq!(parsed.records.len(), 1);
        let lines: Vec<u64> = parsed.malformed.iter().map(|m| m.0).collect();
        assert_eq!(lines, vec![2, 3, 4, 5, 6]);
        assert!(parsed.malformed[1].1.contains("Jaywalking"));
        assert!(parsed.malformed[4].1.contains("4 fields"));
    }

    #[test]
    fn months() {
        assert!(is_month("2019-01"));
        assert!(!is_month("2019-00"));
        assert!(!is_month("2019-1"));
        assert!(!is_month("19-01-01"));
    }
}
