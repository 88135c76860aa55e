//! The clock, the time zone and the id generator, injected so tests (and merges) are
//! deterministic whatever the machine's own zone (`TZ`) says.
//!
//! Times are shown, typed and counted by day in UK local time (Europe/London, with summer
//! time): the fieldwork and the PACT meeting are in England, and a laptop set to UTC or left
//! on another zone must not move a 00:30 BST interview into the previous day, or quarter.
//! The system zone is deliberately not consulted.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

/// The zone fieldwork happens in: what the app shows, and what decides a response's day and
/// period (see [`crate::response::Period::of_fieldwork`]).
pub const FIELDWORK_ZONE: Tz = chrono_tz::Europe::London;

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub trait IdSource: Send + Sync {
    /// A new UUID v7 (time-ordered).
    fn next_id(&self) -> Uuid;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Random UUID v7s from the system clock.
pub struct SystemIds;

impl IdSource for SystemIds {
    fn next_id(&self) -> Uuid {
        Uuid::now_v7()
    }
}

/// A clock that only moves when told to.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock(Mutex::new(start))
    }

    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// UUID v7s with a fixed timestamp and a counter in place of the random bits: the same
/// sequence every run, still sorted in creation order.
pub struct SequentialIds {
    millis: u64,
    next: AtomicU64,
}

impl SequentialIds {
    pub fn new(at: DateTime<Utc>) -> SequentialIds {
        SequentialIds {
            millis: u64::try_from(at.timestamp_millis()).unwrap_or(0),
            next: AtomicU64::new(1),
        }
    }
}

impl IdSource for SequentialIds {
    fn next_id(&self) -> Uuid {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut bytes = [0u8; 10];
        bytes[2..].copy_from_slice(&n.to_be_bytes());
        uuid::Builder::from_unix_timestamp_millis(self.millis, &bytes).into_uuid()
    }
}

/// The clock, zone and id source a store (or a screen) uses.
#[derive(Clone)]
pub struct Env {
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    /// The zone times are shown and typed in: [`FIELDWORK_ZONE`] unless a test says otherwise.
    pub zone: Tz,
}

impl Env {
    pub fn system() -> Env {
        Env {
            clock: Arc::new(SystemClock),
            ids: Arc::new(SystemIds),
            zone: FIELDWORK_ZONE,
        }
    }

    /// A deterministic environment starting at `start`; returns the clock so the test can
    /// move it.
    pub fn manual(start: DateTime<Utc>) -> (Env, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(start));
        (
            Env {
                clock: clock.clone(),
                ids: Arc::new(SequentialIds::new(start)),
                zone: FIELDWORK_ZONE,
            },
            clock,
        )
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn new_id(&self) -> Uuid {
        self.ids.next_id()
    }

    /// `at` in the zone of fieldwork.
    pub fn local(&self, at: DateTime<Utc>) -> DateTime<Tz> {
        at.with_timezone(&self.zone)
    }

    /// Local wall-clock time now, for what the officer sees and types.
    pub fn local_now(&self) -> NaiveDateTime {
        self.local(self.now()).naive_local()
    }

    /// The local date of `at`: the day a response or a knock counts in.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        self.local(at).date_naive()
    }

    /// Today's local date.
    pub fn today(&self) -> NaiveDate {
        self.local_date(self.now())
    }

    /// A local wall-clock time typed by the officer, as a moment. In the hour the clocks go
    /// back the earlier reading is taken; in the hour they skip, the time does not exist.
    pub fn from_local(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        use chrono::TimeZone;
        self.zone
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    }
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Env")
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn sequential_ids_are_v7_and_ordered() {
        let start = Utc.with_ymd_and_hms(2026, 10, 5, 9, 0, 0).unwrap();
        let (env, clock) = Env::manual(start);
        let a = env.new_id();
        let b = env.new_id();
        assert_eq!(a.get_version_num(), 7);
        assert!(a < b);
        clock.advance(Duration::minutes(5));
        assert_eq!(env.now(), start + Duration::minutes(5));
        let (again, _) = Env::manual(start);
        assert_eq!(again.new_id(), a);
    }

    #[test]
    fn local_time_is_uk_time_with_summer_time() {
        // 23:30 UTC on 30 June is 00:30 BST on 1 July; in winter UTC and UK time agree.
        let summer = Utc.with_ymd_and_hms(2026, 6, 30, 23, 30, 0).unwrap();
        let (env, _) = Env::manual(summer);
        assert_eq!(env.today(), NaiveDate::from_ymd_opt(2026, 7, 1).unwrap());
        assert_eq!(env.local_now().to_string(), "2026-07-01 00:30:00");
        let winter = Utc.with_ymd_and_hms(2026, 12, 31, 23, 30, 0).unwrap();
        assert_eq!(
            env.local_date(winter),
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
    }

    #[test]
    fn typed_local_times_across_the_clock_changes() {
        let (env, _) = Env::manual(Utc.with_ymd_and_hms(2026, 10, 1, 9, 0, 0).unwrap());
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        assert_eq!(
            env.from_local(at("2026-07-01 09:00")),
            Some(Utc.with_ymd_and_hms(2026, 7, 1, 8, 0, 0).unwrap())
        );
        // 25 October 2026: 01:30 happens twice; the first (BST) is taken.
        assert_eq!(
            env.from_local(at("2026-10-25 01:30")),
            Some(Utc.with_ymd_and_hms(2026, 10, 25, 0, 30, 0).unwrap())
        );
        // 29 March 2026: 01:30 never happens.
        assert_eq!(env.from_local(at("2026-03-29 01:30")), None);
    }
}
