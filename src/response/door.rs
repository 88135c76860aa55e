//! The door log: every address in a priority action area, each knock and what came of it,
//! so the app can show what is left to knock and the response rate.

use std::fmt;

use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ResponseError;

/// An address on a street: `number` is a house number ("12", "3a") or a name
/// ("Rose Cottage").
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Door {
    pub street: String,
    pub number: String,
}

impl Door {
    /// A door with its street and number trimmed; both must be given.
    pub fn new(street: &str, number: &str) -> Result<Door, ResponseError> {
        let street = street.split_whitespace().collect::<Vec<_>>().join(" ");
        let number = number.split_whitespace().collect::<Vec<_>>().join(" ");
        if street.is_empty() || number.is_empty() {
            return Err(ResponseError::BadDoor {
                street,
                number,
                reason: "both the street and the house number or name are needed".into(),
            });
        }
        if street.chars().chain(number.chars()).any(char::is_control) {
            return Err(ResponseError::BadDoor {
                street,
                number,
                reason: "control characters are not allowed".into(),
            });
        }
        Ok(Door { street, number })
    }

    /// The key that identifies this door within an area, ignoring case and spacing, so
    /// "12 Kay Street" and "12 kay  street" are the same door.
    pub fn key(&self) -> String {
        let norm = |s: &str| {
            s.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        };
        format!("{}\u{1f}{}", norm(&self.street), norm(&self.number))
    }
}

impl fmt::Display for Door {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.number.starts_with(|c: char| c.is_ascii_digit()) {
            write!(f, "{} {}", self.number, self.street)
        } else {
            write!(f, "{}, {}", self.number, self.street)
        }
    }
}

/// What came of one knock.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Outcome {
    NoAnswer,
    Refused,
    /// Asked to come back at a time.
    CallBack {
        at: DateTime<Utc>,
    },
    /// Interviewed; the response records what was said.
    Interviewed {
        response: Uuid,
    },
    /// Empty, demolished, not residential, or otherwise not to be interviewed.
    NotApplicable,
}

impl Outcome {
    /// The knock a finalized interview records at its door: refused when the respondent
    /// said no to the consent question, interviewed otherwise.
    pub fn of_interview(declined: bool, response: Uuid) -> Outcome {
        if declined {
            Outcome::Refused
        } else {
            Outcome::Interviewed { response }
        }
    }
}

/// The street to offer next: the one knocked most recently, else the last door's.
pub fn latest_street(records: &[DoorRecord]) -> Option<&str> {
    records
        .iter()
        .filter_map(|r| r.knocks.last().map(|k| (k.at, &r.door.street)))
        .max_by_key(|(at, _)| *at)
        .map(|(_, s)| s.as_str())
        .or_else(|| records.last().map(|r| r.door.street.as_str()))
}

/// Street, then house number in numeric order ("2" before "10"), then the rest: the order
/// an officer walks a street in.
pub fn walk_order(door: &Door) -> (String, u64, String) {
    let digits: String = door
        .number
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (
        door.street.to_lowercase(),
        digits.parse().unwrap_or(u64::MAX),
        door.number.to_lowercase(),
    )
}

/// Turns what the officer typed into the call-back time: `18:30` (today) or
/// `2026-11-24 18:30` (also `24/11/2026 18:30`), in the time zone of `now` (the officer's
/// wall clock), not in the past.
pub fn call_back_time<Tz: TimeZone>(
    text: &str,
    now: &DateTime<Tz>,
) -> Result<DateTime<Utc>, String> {
    let t = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let wall = now.naive_local();
    let tomorrow = (wall + Duration::days(1)).format("%Y-%m-%d");
    if t.is_empty() {
        return Err(format!(
            "Type when to call back: a time today like 18:30, or a date and time like {tomorrow} 18:30"
        ));
    }
    let when = NaiveTime::parse_from_str(&t, "%H:%M")
        .map(|time| wall.date().and_time(time))
        .or_else(|_| NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M"))
        .or_else(|_| NaiveDateTime::parse_from_str(&t, "%d/%m/%Y %H:%M"))
        .map_err(|_| {
            format!("`{t}` is not a time like 18:30 or a date and time like {tomorrow} 18:30")
        })?;
    let this_minute = wall
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(wall);
    if when < this_minute {
        return Err(format!(
            "{} has already passed: give a later time, or the date too (e.g. {tomorrow} 18:30)",
            when.format("%Y-%m-%d %H:%M")
        ));
    }
    now.timezone()
        .from_local_datetime(&when)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            format!(
                "{} does not exist here (the clocks go forward): give another time",
                when.format("%Y-%m-%d %H:%M")
            )
        })
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::NoAnswer => f.write_str("no answer"),
            Outcome::Refused => f.write_str("refused"),
            Outcome::CallBack { at } => write!(f, "call back {}", at.format("%Y-%m-%d %H:%M")),
            Outcome::Interviewed { response } => write!(f, "interviewed ({response})"),
            Outcome::NotApplicable => f.write_str("not applicable"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Knock {
    pub at: DateTime<Utc>,
    pub outcome: Outcome,
    /// Identifies the knock across laptops, so merging two door logs of the same street
    /// never counts a knock twice. Knocks stored before knocks had ids have none; see
    /// [`Knock::identity`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    /// The device that recorded the knock (its `device` setting at the time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The officer who knocked (the `officer` setting at the time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub officer: Option<String>,
}

impl Knock {
    /// A knock with no identity yet (the store gives it one when it records it).
    pub fn new(at: DateTime<Utc>, outcome: Outcome) -> Knock {
        Knock {
            at,
            outcome,
            id: None,
            device: None,
            officer: None,
        }
    }

    /// The knock's id; a knock stored before knocks had ids gets one derived from what it
    /// records (area, door, time, outcome), so every export of it carries the same id.
    pub fn identity(&self, area: &str, door: &Door) -> Uuid {
        if let Some(id) = self.id {
            return id;
        }
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        hash.update(b"doorstep knock\x1f");
        hash.update(area.trim().to_lowercase().as_bytes());
        hash.update(b"\x1f");
        hash.update(door.key().as_bytes());
        hash.update(b"\x1f");
        hash.update(self.at.to_rfc3339().as_bytes());
        hash.update(b"\x1f");
        hash.update(serde_json::to_vec(&self.outcome).unwrap_or_default());
        let digest = hash.finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

/// One door in one area and every knock on it, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorRecord {
    pub area: String,
    pub door: Door,
    pub knocks: Vec<Knock>,
}

impl DoorRecord {
    /// Corrects the door's street or number. Knocks stored before knocks had ids take
    /// their identity from the door, so it is fixed first: a corrected door's knocks still
    /// match the same knocks merged from another laptop.
    pub fn correct_door(&mut self, to: Door) {
        for k in &mut self.knocks {
            if k.id.is_none() {
                k.id = Some(k.identity(&self.area, &self.door));
            }
        }
        self.door = to;
    }

    pub fn new(area: &str, door: Door) -> DoorRecord {
        DoorRecord {
            area: area.to_owned(),
            door,
            knocks: Vec::new(),
        }
    }

    /// Adds a knock, keeping the knocks in time order (a knock entered late still lands
    /// in its place).
    pub fn add_knock(&mut self, knock: Knock) {
        let pos = self.knocks.partition_point(|k| k.at <= knock.at);
        self.knocks.insert(pos, knock);
    }

    /// The outcome of the most recent knock.
    pub fn latest(&self) -> Option<&Outcome> {
        self.knocks.last().map(|k| &k.outcome)
    }

    pub fn interviewed(&self) -> bool {
        self.knocks
            .iter()
            .any(|k| matches!(k.outcome, Outcome::Interviewed { .. }))
    }

    /// Whether nobody needs to knock here again: interviewed, refused, or not applicable.
    pub fn is_finished(&self) -> bool {
        self.interviewed()
            || matches!(
                self.latest(),
                Some(Outcome::Refused | Outcome::NotApplicable)
            )
    }
}

/// Door log counts for an area at a moment (call-backs are due or not depending on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DoorCounts {
    /// Doors in the log.
    pub doors: usize,
    /// Doors knocked at least once.
    pub knocked: usize,
    /// Doors where someone came to the door at least once.
    pub answered: usize,
    /// Doors with an interview.
    pub interviewed: usize,
    /// Doors whose latest outcome is a refusal (and no interview).
    pub refused: usize,
    /// Doors whose latest outcome is "not applicable".
    pub not_applicable: usize,
    /// Doors whose latest outcome is a call-back at or before the moment.
    pub call_backs_due: usize,
    /// Doors whose latest outcome is a call-back later than the moment.
    pub call_backs_later: usize,
    /// Doors still to knock: never knocked, no answer, or a call-back.
    pub to_knock: usize,
}

impl DoorCounts {
    pub fn new(records: &[DoorRecord], now: DateTime<Utc>) -> DoorCounts {
        let mut c = DoorCounts {
            doors: records.len(),
            ..DoorCounts::default()
        };
        for r in records {
            if !r.knocks.is_empty() {
                c.knocked += 1;
            }
            if r.knocks.iter().any(|k| {
                matches!(
                    k.outcome,
                    Outcome::Refused | Outcome::CallBack { .. } | Outcome::Interviewed { .. }
                )
            }) {
                c.answered += 1;
            }
            if r.interviewed() {
                c.interviewed += 1;
            } else {
                match r.latest() {
                    Some(Outcome::Refused) => c.refused += 1,
                    Some(Outcome::NotApplicable) => c.not_applicable += 1,
                    Some(Outcome::CallBack { at }) if *at <= now => c.call_backs_due += 1,
                    Some(Outcome::CallBack { .. }) => c.call_backs_later += 1,
                    _ => {}
                }
            }
            if !r.is_finished() {
                c.to_knock += 1;
            }
        }
        c
    }

    /// Interviews as a share of the doors that could be interviewed (not-applicable doors
    /// are out of the base); `None` when there are none.
    pub fn response_rate(&self) -> Option<f64> {
        let base = self.doors - self.not_applicable;
        (base > 0).then(|| self.interviewed as f64 / base as f64)
    }
}

#[cfg(test)]
mod tests {
    use chrono::FixedOffset;

    use super::*;

    #[test]
    fn call_back_times_are_today_or_dated_in_the_officers_zone_and_never_past() {
        // An hour ahead of UTC, so a zone mistake shows.
        let zone = FixedOffset::east_opt(3600).unwrap();
        let now = zone.with_ymd_and_hms(2026, 11, 23, 10, 0, 30).unwrap();
        let utc = |d: u32, h: u32, m: u32| Utc.with_ymd_and_hms(2026, 11, d, h - 1, m, 0).unwrap();
        assert_eq!(call_back_time("18:30", &now), Ok(utc(23, 18, 30)));
        assert_eq!(call_back_time(" 10:00 ", &now), Ok(utc(23, 10, 0)));
        assert_eq!(call_back_time("2026-11-24 09:15", &now), Ok(utc(24, 9, 15)));
        assert_eq!(call_back_time("24/11/2026 09:15", &now), Ok(utc(24, 9, 15)));
        assert_eq!(
            call_back_time("", &now),
            Err("Type when to call back: a time today like 18:30, or a date and time like 2026-11-24 18:30".into())
        );
        assert_eq!(
            call_back_time("25:00", &now),
            Err("`25:00` is not a time like 18:30 or a date and time like 2026-11-24 18:30".into())
        );
        assert_eq!(
            call_back_time("09:59", &now),
            Err("2026-11-23 09:59 has already passed: give a later time, or the date too (e.g. 2026-11-24 18:30)".into())
        );
    }

    #[test]
    fn doors_are_in_walking_order() {
        let mut doors = [
            Door::new("Kay Street", "10").unwrap(),
            Door::new("Elm Road", "Rose Cottage").unwrap(),
            Door::new("kay street", "2").unwrap(),
            Door::new("Kay Street", "3a").unwrap(),
        ];
        doors.sort_by_cached_key(walk_order);
        let shown: Vec<String> = doors.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            shown,
            [
                "Rose Cottage, Elm Road",
                "2 kay street",
                "3a Kay Street",
                "10 Kay Street"
            ]
        );
    }

    #[test]
    fn the_street_offered_is_the_latest_knocked() {
        let mut a = DoorRecord::new("X", Door::new("Ormskirk Road", "1").unwrap());
        let b = DoorRecord::new("X", Door::new("Bell Lane", "2").unwrap());
        assert_eq!(latest_street(&[a.clone(), b.clone()]), Some("Bell Lane"));
        a.add_knock(Knock::new(
            Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap(),
            Outcome::NoAnswer,
        ));
        assert_eq!(latest_street(&[a, b]), Some("Ormskirk Road"));
        assert_eq!(latest_street(&[]), None);
    }

    #[test]
    fn an_interview_declined_at_consent_is_a_refusal() {
        let id = Uuid::from_u128(9);
        assert_eq!(Outcome::of_interview(true, id), Outcome::Refused);
        assert_eq!(
            Outcome::of_interview(false, id),
            Outcome::Interviewed { response: id }
        );
    }

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 10, 5, h, 0, 0).unwrap()
    }

    fn door(n: &str) -> Door {
        Door::new("Kay Street", n).unwrap()
    }

    fn record(n: &str, outcomes: &[(u32, Outcome)]) -> DoorRecord {
        let mut r = DoorRecord::new("E05000650", door(n));
        for (h, o) in outcomes {
            r.add_knock(Knock::new(t(*h), o.clone()));
        }
        r
    }

    #[test]
    fn counts_each_kind_of_door() {
        let id = Uuid::from_u128(7);
        let records = vec![
            record("1", &[]),
            record("2", &[(9, Outcome::NoAnswer)]),
            record(
                "3",
                &[
                    (9, Outcome::NoAnswer),
                    (11, Outcome::Interviewed { response: id }),
                ],
            ),
            record("4", &[(10, Outcome::Refused)]),
            record("5", &[(10, Outcome::CallBack { at: t(12) })]),
            record("6", &[(10, Outcome::CallBack { at: t(18) })]),
            record("Rose Cottage", &[(10, Outcome::NotApplicable)]),
        ];
        let c = DoorCounts::new(&records, t(13));
        assert_eq!(
            c,
            DoorCounts {
                doors: 7,
                knocked: 6,
                answered: 4,
                interviewed: 1,
                refused: 1,
                not_applicable: 1,
                call_backs_due: 1,
                call_backs_later: 1,
                to_knock: 4,
            }
        );
        assert_eq!(c.response_rate(), Some(1.0 / 6.0));
        assert_eq!(DoorCounts::new(&[], t(13)).response_rate(), None);
    }

    #[test]
    fn knocks_stay_in_time_order_and_latest_wins() {
        let r = record("2", &[(12, Outcome::Refused), (9, Outcome::NoAnswer)]);
        assert_eq!(r.latest(), Some(&Outcome::Refused));
        assert!(r.is_finished());
    }

    #[test]
    fn knocks_stored_before_knock_ids_still_read_and_get_a_stable_id() {
        let old = r#"{"at":"2026-10-05T09:00:00Z","outcome":{"type":"no_answer"}}"#;
        let knock: Knock = serde_json::from_str(old).unwrap();
        assert_eq!(knock, Knock::new(t(9), Outcome::NoAnswer));
        let id = knock.identity("E05000650", &door("2"));
        assert_eq!(id, knock.identity(" e05000650 ", &door("2")));
        assert_ne!(id, knock.identity("E05000650", &door("3")));
        assert_ne!(
            id,
            Knock::new(t(10), Outcome::NoAnswer).identity("E05000650", &door("2"))
        );
        let given = Knock {
            id: Some(Uuid::from_u128(5)),
            ..knock
        };
        assert_eq!(given.identity("E05000650", &door("2")), Uuid::from_u128(5));
        let back: Knock = serde_json::from_str(&serde_json::to_string(&given).unwrap()).unwrap();
        assert_eq!(back, given);
    }

    #[test]
    fn doors_print_and_key_like_addresses() {
        assert_eq!(door("12").to_string(), "12 Kay Street");
        assert_eq!(door("Rose Cottage").to_string(), "Rose Cottage, Kay Street");
        let a = Door::new(" Kay  Street ", "3A").unwrap();
        let b = Door::new("kay street", "3a").unwrap();
        assert_eq!(a.street, "Kay Street");
        assert_eq!(a.key(), b.key());
        let err = Door::new("Kay Street", "  ").unwrap_err().to_string();
        assert!(err.contains("house number or name"), "{err}");
    }

    #[test]
    fn a_corrected_door_keeps_its_knocks_identities() {
        let mut r = record("2", &[(9, Outcome::NoAnswer)]);
        r.knocks[0].id = None;
        let before = r.knocks[0].identity("E05000650", &door("2"));
        r.correct_door(door("12"));
        assert_eq!(r.door, door("12"));
        assert_eq!(r.knocks[0].identity("E05000650", &door("12")), before);
    }
}
