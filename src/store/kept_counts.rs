//! The report's counts kept in the store (tree `tallies`, keys `report\x1f…`), so that a
//! report on a coordinator's store reads a few counts per area code and period instead of
//! every response: written after a merge, read by `doorstep report` and the report
//! screen's pack.
//!
//! Derived data, right only for the exact state they were counted from. They carry a
//! stamp: the journal mark the store reflected when they were read, the installed
//! surveys (the counts depend on them) and the format of the counts. A report uses them
//! only when that stamp is the store's present one: every write the report could see
//! (a response, a door, a knock, a merge) moves the journal mark first, so kept counts
//! are never read stale, only not at all. Recover rebuilds the tallies tree without them.
//!
//! Keys: `report\x1fstamp` → the stamp; `report\x1fperiod\x1f` + period → that period's
//! counts per area code.

use serde::{Deserialize, Serialize};

use super::journal::JournalMark;
use super::tallies::TALLIES;
use super::{Store, StoreError, decode, encode};
use crate::report::fold::{COUNTS_FORMAT, Counts, PeriodCounts};
use crate::response::Period;

const STAMP: &[u8] = b"report\x1fstamp";
const PERIOD_PREFIX: &[u8] = b"report\x1fperiod\x1f";

/// What kept counts were counted from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountsStamp {
    journal: JournalMark,
    /// The installed surveys, as the caller names them (a digest of their fingerprints).
    surveys: String,
    format: u32,
}

fn period_key(period: Period) -> Vec<u8> {
    let mut k = PERIOD_PREFIX.to_vec();
    k.extend_from_slice(period.to_string().as_bytes());
    k
}

impl Store {
    /// The stamp of counts read from the store as it is now, with the surveys `surveys`
    /// names installed.
    pub fn counts_stamp(&self, surveys: &str) -> CountsStamp {
        CountsStamp {
            journal: self.journal_guard().mark,
            surveys: surveys.to_owned(),
            format: COUNTS_FORMAT,
        }
    }

    /// Keeps `counts`, read from the store under `stamp`, in place of any kept before:
    /// one sled batch, so a kill leaves the old counts or the new, never a mix.
    pub fn keep_counts(&self, stamp: &CountsStamp, counts: &Counts) -> Result<(), StoreError> {
        let tree = self.tree(TALLIES)?;
        let mut batch = sled::Batch::default();
        for key in tree.scan_prefix(PERIOD_PREFIX).keys() {
            batch.remove(key?);
        }
        for (period, c) in counts {
            batch.insert(period_key(*period), encode(&(period, c))?);
        }
        batch.insert(STAMP, encode(stamp)?);
        tree.apply_batch(batch)?;
        Ok(())
    }

    /// Whether counts are kept that were read from the store as it is now with the same
    /// surveys installed.
    pub fn counts_current(&self, surveys: &str) -> Result<bool, StoreError> {
        let Some(bytes) = self.tree(TALLIES)?.get(STAMP)? else {
            return Ok(false);
        };
        match decode::<CountsStamp>(|| "report counts stamp".to_owned(), &bytes) {
            Ok(stamp) => Ok(stamp == self.counts_stamp(surveys)),
            Err(e) => {
                tracing::warn!("kept report counts not used: {e}");
                Ok(false)
            }
        }
    }

    /// The counts kept, when they were read from the store as it is now with the same
    /// surveys installed; `None` when there are none or they are not (the caller then
    /// reads the responses). Kept counts that do not read are treated as absent: they are
    /// derived, and the responses they came from are still there to count.
    pub fn kept_counts(&self, surveys: &str) -> Result<Option<Counts>, StoreError> {
        if !self.counts_current(surveys)? {
            return Ok(None);
        }
        let tree = self.tree(TALLIES)?;
        let mut counts = Counts::new();
        for entry in tree.scan_prefix(PERIOD_PREFIX) {
            let (key, value) = entry?;
            let name = || String::from_utf8_lossy(&key).replace('\x1f', " ");
            match decode::<(Period, PeriodCounts)>(name, &value) {
                Ok((period, c)) => {
                    counts.insert(period, c);
                }
                Err(e) => {
                    tracing::warn!("kept report counts not used: {e}");
                    return Ok(None);
                }
            }
        }
        Ok(Some(counts))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::report::fold::CodeCounts;
    use crate::response::{Env, SettingKey};
    use crate::store::test_support::new;

    fn some_counts() -> Counts {
        let mut period = PeriodCounts::default();
        period.codes.insert(
            "E05000841".into(),
            CodeCounts {
                filed: 3,
                worked: 4,
                ..CodeCounts::default()
            },
        );
        period.unknown = 1;
        Counts::from([("2026-Q4".parse().unwrap(), period)])
    }

    fn filed(counts: &Counts) -> Vec<u64> {
        counts
            .values()
            .flat_map(|p| p.codes.values().map(|c| c.filed))
            .collect()
    }

    /// Kept counts are read back only while the store is as they were read from: any
    /// journaled write, another set of surveys, or a stamp or value that does not read
    /// makes them absent (so the report counts every response), never wrong.
    #[test]
    fn kept_counts_are_read_only_for_the_store_they_were_counted_from() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 10, 5, 9, 0, 0).unwrap();
        let store = Store::open_with(dir.path(), Env::manual(t0).0).unwrap();
        assert!(store.kept_counts("s").unwrap().is_none(), "none kept yet");

        store
            .keep_counts(&store.counts_stamp("s"), &some_counts())
            .unwrap();
        assert!(store.counts_current("s").unwrap());
        assert_eq!(filed(&store.kept_counts("s").unwrap().unwrap()), [3]);
        assert!(store.kept_counts("other surveys").unwrap().is_none());

        // A write of any kind moves the journal mark.
        store.create_draft(new(t0)).unwrap();
        assert!(!store.counts_current("s").unwrap());
        assert!(store.kept_counts("s").unwrap().is_none());
        store
            .keep_counts(&store.counts_stamp("s"), &some_counts())
            .unwrap();
        store.set_setting(SettingKey::Officer, "PC 2").unwrap();
        assert!(store.kept_counts("s").unwrap().is_none());

        // Kept again, replacing what was kept (no period left over from before).
        store
            .keep_counts(&store.counts_stamp("s"), &Counts::new())
            .unwrap();
        assert_eq!(store.kept_counts("s").unwrap().map(|c| c.len()), Some(0));
        store
            .keep_counts(&store.counts_stamp("s"), &some_counts())
            .unwrap();

        // Damaged: a period's counts, then the stamp.
        let tree = store.tree(TALLIES).unwrap();
        let key = period_key("2026-Q4".parse().unwrap());
        let good = tree
            .insert(&key, &b"{\"format\":1,\"record\":["[..])
            .unwrap()
            .unwrap();
        assert!(store.counts_current("s").unwrap());
        assert!(store.kept_counts("s").unwrap().is_none());
        tree.insert(&key, good).unwrap();
        assert!(store.kept_counts("s").unwrap().is_some());
        tree.insert(STAMP, &b"not json"[..]).unwrap();
        assert!(!store.counts_current("s").unwrap());
        assert!(store.kept_counts("s").unwrap().is_none());
    }

    /// Recover rebuilds the tallies tree from the journal: the counts do not survive it
    /// (the journal's mark is the same after a recover, the store it describes may not be).
    #[test]
    fn recover_leaves_no_kept_counts() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 10, 5, 9, 0, 0).unwrap();
        {
            let store = Store::open_with(dir.path(), Env::manual(t0).0).unwrap();
            store.create_draft(new(t0)).unwrap();
            store
                .keep_counts(&store.counts_stamp("s"), &some_counts())
                .unwrap();
            assert!(store.counts_current("s").unwrap());
        }
        crate::store::recover(dir.path(), Env::manual(t0).0).unwrap();
        let store = Store::open_with(dir.path(), Env::manual(t0).0).unwrap();
        assert!(!store.counts_current("s").unwrap());
    }
}
