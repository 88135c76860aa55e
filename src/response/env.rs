//! The clock and the id generator, injected so tests (and merges) are deterministic.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

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

/// The clock and id source a store (or a screen) uses.
#[derive(Clone)]
pub struct Env {
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
}

impl Env {
    pub fn system() -> Env {
        Env {
            clock: Arc::new(SystemClock),
            ids: Arc::new(SystemIds),
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
}
