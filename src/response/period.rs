//! Fieldwork periods: the PACT cycle runs quarterly, so responses are grouped by quarter.
//!
//! Our rule: a response belongs to the calendar quarter (Q1 = January–March … Q4 =
//! October–December) of the **UK local date** (Europe/London, summer time included) on which
//! it was started, unless the officer sets the period explicitly. The machine's own time zone
//! plays no part, so every laptop files the same interview in the same quarter; the same
//! local date is the "today" the field app counts by.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::env::FIELDWORK_ZONE;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ResponseError;

/// A fieldwork quarter, written `2026-Q4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    quarter: u8,
}

impl Period {
    /// A period from its year and quarter (1 to 4).
    pub fn new(year: i32, quarter: u8) -> Result<Period, ResponseError> {
        if !(1..=4).contains(&quarter) {
            return Err(ResponseError::BadPeriod {
                input: format!("{year}-Q{quarter}"),
                reason: "the quarter must be 1, 2, 3 or 4".into(),
            });
        }
        if !(1000..=9999).contains(&year) {
            return Err(ResponseError::BadPeriod {
                input: format!("{year}-Q{quarter}"),
                reason: "the year must have four digits".into(),
            });
        }
        Ok(Period { year, quarter })
    }

    /// The quarter a date falls in.
    pub fn of_date(date: NaiveDate) -> Period {
        Period {
            year: date.year(),
            quarter: (date.month0() / 3 + 1) as u8,
        }
    }

    /// The period of fieldwork started at `at`: the quarter of its UK local date (the
    /// module's rule).
    pub fn of_fieldwork(at: DateTime<Utc>) -> Period {
        Period::of_date(at.with_timezone(&FIELDWORK_ZONE).date_naive())
    }

    /// The period before this one (the default comparison of the priority-setting pack).
    pub fn previous(self) -> Period {
        if self.quarter == 1 {
            Period {
                year: self.year - 1,
                quarter: 4,
            }
        } else {
            Period {
                year: self.year,
                quarter: self.quarter - 1,
            }
        }
    }

    /// The calendar months the period covers, as `YYYY-MM` (how police.uk files crime).
    pub fn months(self) -> Vec<String> {
        let first = u32::from(self.quarter - 1) * 3 + 1;
        (first..first + 3)
            .map(|m| format!("{:04}-{m:02}", self.year))
            .collect()
    }

    /// Whether something done at `at` (UTC) falls in this period, by its UK local date.
    pub fn contains(self, at: DateTime<Utc>) -> bool {
        Period::of_fieldwork(at) == self
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn quarter(self) -> u8 {
        self.quarter
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-Q{}", self.year, self.quarter)
    }
}

impl FromStr for Period {
    type Err = ResponseError;

    fn from_str(s: &str) -> Result<Period, ResponseError> {
        let bad = |reason: &str| ResponseError::BadPeriod {
            input: s.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = s.trim();
        let Some((year, quarter)) = trimmed.split_once('-') else {
            return Err(bad("expected YEAR-QN, such as 2026-Q4"));
        };
        let quarter = quarter
            .strip_prefix('Q')
            .or_else(|| quarter.strip_prefix('q'))
            .ok_or_else(|| bad("expected YEAR-QN, such as 2026-Q4"))?;
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("the year must have four digits"));
        }
        let year: i32 = year
            .parse()
            .map_err(|_| bad("the year must have four digits"))?;
        let quarter: u8 = match quarter {
            "1" => 1,
            "2" => 2,
            "3" => 3,
            "4" => 4,
            _ => return Err(bad("the quarter must be Q1, Q2, Q3 or Q4")),
        };
        Period::new(year, quarter)
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Period, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_follow_the_calendar() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(Period::of_date(d(2026, 1, 1)).to_string(), "2026-Q1");
        assert_eq!(Period::of_date(d(2026, 3, 31)).to_string(), "2026-Q1");
        assert_eq!(Period::of_date(d(2026, 4, 1)).to_string(), "2026-Q2");
        assert_eq!(Period::of_date(d(2026, 9, 30)).to_string(), "2026-Q3");
        assert_eq!(Period::of_date(d(2026, 12, 31)).to_string(), "2026-Q4");
    }

    #[test]
    fn fieldwork_is_filed_by_its_uk_date() {
        use chrono::TimeZone;
        // 00:30 BST on 1 July is still 30 June in UTC: the UK date decides, so Q3.
        let after_midnight = Utc.with_ymd_and_hms(2026, 6, 30, 23, 30, 0).unwrap();
        assert_eq!(Period::of_fieldwork(after_midnight).to_string(), "2026-Q3");
        // 23:30 GMT on 31 December is the same in UTC: still Q4.
        let new_years_eve = Utc.with_ymd_and_hms(2026, 12, 31, 23, 30, 0).unwrap();
        assert_eq!(Period::of_fieldwork(new_years_eve).to_string(), "2026-Q4");
        let summer_evening = Utc.with_ymd_and_hms(2026, 9, 30, 22, 59, 0).unwrap();
        assert_eq!(Period::of_fieldwork(summer_evening).to_string(), "2026-Q3");
        let next_day = Utc.with_ymd_and_hms(2026, 9, 30, 23, 0, 0).unwrap();
        assert_eq!(Period::of_fieldwork(next_day).to_string(), "2026-Q4");
    }

    #[test]
    fn parses_and_prints_round_trip() {
        let p: Period = "2026-Q4".parse().unwrap();
        assert_eq!((p.year(), p.quarter()), (2026, 4));
        assert_eq!(p.to_string(), "2026-Q4");
        assert_eq!("2026-q2".parse::<Period>().unwrap().to_string(), "2026-Q2");
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, "\"2026-Q4\"");
        assert_eq!(serde_json::from_str::<Period>(&json).unwrap(), p);
    }

    #[test]
    fn previous_months_and_contains() {
        let p: Period = "2026-Q1".parse().unwrap();
        assert_eq!(p.previous().to_string(), "2025-Q4");
        assert_eq!(p.previous().previous().to_string(), "2025-Q3");
        assert_eq!(p.months(), vec!["2026-01", "2026-02", "2026-03"]);
        assert_eq!(p.previous().months(), vec!["2025-10", "2025-11", "2025-12"]);
        use chrono::TimeZone;
        // 23:30 UTC on 31 March 2026 is 00:30 BST on 1 April: Q2 by the UK date.
        let late = Utc.with_ymd_and_hms(2026, 3, 31, 23, 30, 0).unwrap();
        assert!(!p.contains(late));
        assert!(p.contains(Utc.with_ymd_and_hms(2026, 3, 31, 22, 30, 0).unwrap()));
    }

    #[test]
    fn bad_periods_say_what_is_wrong() {
        for (input, reason) in [
            ("2026Q4", "expected YEAR-QN"),
            ("2026-Q5", "Q1, Q2, Q3 or Q4"),
            ("2026-Q0", "Q1, Q2, Q3 or Q4"),
            ("26-Q1", "four digits"),
            ("", "expected YEAR-QN"),
            ("2026-4", "expected YEAR-QN"),
            ("२०२६-Q1", "four digits"),
        ] {
            let err = input.parse::<Period>().unwrap_err().to_string();
            assert!(err.contains(reason), "{input}: {err}");
            assert!(err.contains(&format!("`{input}`")), "{input}: {err}");
        }
        assert!(serde_json::from_str::<Period>("\"2026-Q9\"").is_err());
    }
}
