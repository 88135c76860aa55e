//! The report's counts kept in the store (tree `report-counts`), so that a report on a
//! coordinator's store reads a few counts per area code and period instead of every
//! response: written after a merge, read by `doorstep report`.
//!
//! Derived data, right only for the exact state they were counted from. They carry a
//! stamp: the journal mark the store reflected when they were read, how many drafts and
//! finalized responses it held (a store rebuilt from the same journal by a release that
//! copied these counts over must hold the same), the installed surveys (the counts depend
//! on them) and the format of the counts. A report uses them
//! only when that stamp is the store's present one: every write the report could see
//! (a response, a door, a knock, a merge) moves the journal mark first, so kept counts
//! are never read stale, only not at all. Recover does not copy the tree.
//!
//! Keys, in this order so that sled's leaves (read whole; sixteen keys each when they
//! hold more than a few KiB) keep the small records apart from the large: `1\x1fstamp`
//! → the stamp; `2\x1f` + period → that period's counts per area code without the full
//! ones ([`PeriodCounts::split`]);
//! `3\x1f` + period + `\x1f` + chunk number (8 digits) → the full ones, as JSON cut into
//! chunks of [`CHUNK`] bytes. The full counts hold the EVA findings the pack lists, which
//! grow with the audits: a report reads its own period's only, and the chunks bound what
//! one leaf holds. The reader joins chunks of any size.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::journal::JournalMark;
use super::{Store, StoreError, decode, encode};
use crate::report::AreaPeriod;
use crate::report::fold::{COUNTS_FORMAT, Counts, PeriodCounts};
use crate::response::Period;

pub(super) const REPORT_COUNTS: &str = "report-counts";
const STAMP: &[u8] = b"1\x1fstamp";
const PERIOD_PREFIX: &[u8] = b"2\x1f";
const FULL_PREFIX: &[u8] = b"3\x1f";
/// The size of a chunk of a period's full counts. Small, because sled reads a leaf whole
/// (sixteen of these chunks) to write or remove any key in it, and holds up to 64
/// leaves read beyond its cache: with 256 KiB chunks, dropping the
/// counts of a store of 1,000,000 responses ([`Store::forget_counts`]) took the memory
/// from 200 MB to 430 MB for a moment.
const CHUNK: usize = 16 * 1024;

/// What kept counts were counted from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountsStamp {
    journal: JournalMark,
    /// Drafts and finalized responses.
    responses: [u64; 2],
    /// The installed surveys, as the caller names them (a digest of their fingerprints).
    surveys: String,
    format: u32,
}

fn period_key(period: Period) -> Vec<u8> {
    [PERIOD_PREFIX, period.to_string().as_bytes()].concat()
}

/// The prefix of a period's chunks.
fn full_prefix(period: Period) -> Vec<u8> {
    [FULL_PREFIX, period.to_string().as_bytes(), b"\x1f"].concat()
}

fn chunk_key(period: Period, n: usize) -> Vec<u8> {
    [full_prefix(period), format!("{n:08}").into_bytes()].concat()
}

/// Kept counts that do not read are treated as absent: they are derived, and the
/// responses they came from are still there to count.
fn unusable(e: impl std::fmt::Display) -> Result<Option<Counts>, StoreError> {
    tracing::warn!("kept report counts not used: {e}");
    Ok(None)
}

/// Writes a period's encoded full counts into its chunks of [`CHUNK`] bytes as they come
/// (the same chunks as the bytes encoded whole, cut every [`CHUNK`]).
struct Chunks<'a> {
    tree: &'a sled::Tree,
    period: Period,
    next: usize,
    held: Vec<u8>,
    /// The store's error, kept to be returned as itself rather than as an I/O error.
    failed: Option<sled::Error>,
}

impl Chunks<'_> {
    /// Writes what is held as the next chunk.
    fn write_held(&mut self) -> Result<(), sled::Error> {
        if !self.held.is_empty() {
            self.tree
                .insert(chunk_key(self.period, self.next), self.held.as_slice())?;
            self.next += 1;
            self.held.clear();
        }
        Ok(())
    }
}

impl std::io::Write for Chunks<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let room = CHUNK - self.held.len();
        let take = bytes.len().min(room);
        self.held.extend_from_slice(&bytes[..take]);
        if self.held.len() == CHUNK
            && let Err(e) = self.write_held()
        {
            self.failed = Some(e);
            return Err(std::io::Error::other("the store failed"));
        }
        Ok(take)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Store {
    /// The stamp of counts read from the store as it is now, with the surveys `surveys`
    /// names installed.
    pub fn counts_stamp(&self, surveys: &str) -> Result<CountsStamp, StoreError> {
        let t = self.tallies()?;
        Ok(CountsStamp {
            journal: self.journal_guard().mark,
            responses: [t.drafts, t.finalized],
            surveys: surveys.to_owned(),
            format: COUNTS_FORMAT,
        })
    }

    /// Keeps `counts`, read from the store under `stamp`, in place of any kept before.
    /// Written one period at a time (each period's full counts dropped once written), the
    /// stamp last: until it is written nothing kept is used, and sled recovers a prefix
    /// of its writes, so a kill leaves no counts rather than half of them.
    pub fn keep_counts(&self, stamp: &CountsStamp, counts: Counts) -> Result<(), StoreError> {
        self.forget_counts()?;
        for (period, c) in counts {
            self.keep_period_counts(period, c)?;
        }
        self.stamp_counts(stamp)
    }

    /// Drops the counts kept (the first step of keeping new ones a period at a time:
    /// [`Store::keep_period_counts`] for each, then [`Store::stamp_counts`]).
    pub fn forget_counts(&self) -> Result<(), StoreError> {
        let tree = self.tree(REPORT_COUNTS)?;
        tree.remove(STAMP)?;
        tree.clear()?;
        Ok(())
    }

    /// Keeps one period's counts (not used until the stamp is written).
    pub fn keep_period_counts(&self, period: Period, c: PeriodCounts) -> Result<(), StoreError> {
        let tree = self.tree(REPORT_COUNTS)?;
        let (rest, full) = c.split();
        tree.insert(period_key(period), encode(&(period, rest))?)?;
        // Written a chunk at a time as it is encoded, so the period's full counts are
        // never held encoded whole beside themselves.
        let mut chunks = Chunks {
            tree: &tree,
            period,
            next: 0,
            held: Vec::with_capacity(CHUNK),
            failed: None,
        };
        let encoded = serde_json::to_writer(&mut chunks, &full);
        if let Some(e) = chunks.failed.take() {
            return Err(e.into());
        }
        encoded.map_err(|e| StoreError::Encode(e.to_string()))?;
        chunks.write_held()?;
        Ok(())
    }

    /// Marks the counts kept since [`Store::forget_counts`] as read under `stamp`.
    pub fn stamp_counts(&self, stamp: &CountsStamp) -> Result<(), StoreError> {
        self.tree(REPORT_COUNTS)?.insert(STAMP, encode(stamp)?)?;
        Ok(())
    }

    /// Whether counts are kept that were read from the store as it is now with the same
    /// surveys installed.
    pub fn counts_current(&self, surveys: &str) -> Result<bool, StoreError> {
        let Some(bytes) = self.tree(REPORT_COUNTS)?.get(STAMP)? else {
            return Ok(false);
        };
        match decode::<CountsStamp>(|| "report counts stamp".to_owned(), &bytes) {
            Ok(stamp) => Ok(stamp == self.counts_stamp(surveys)?),
            Err(e) => {
                tracing::warn!("kept report counts not used: {e}");
                Ok(false)
            }
        }
    }

    /// The counts kept for a report on `period` (in full for that period, the issue
    /// counts of the others), when they were read from the store as it is now with the
    /// same surveys installed; `None` when there are none or they are not (the caller
    /// then reads the responses), or when they do not read ([`unusable`]).
    pub fn kept_counts(&self, surveys: &str, period: Period) -> Result<Option<Counts>, StoreError> {
        if !self.counts_current(surveys)? {
            return Ok(None);
        }
        let tree = self.tree(REPORT_COUNTS)?;
        let mut counts = Counts::new();
        for entry in tree.scan_prefix(PERIOD_PREFIX) {
            let (key, value) = entry?;
            let name = || String::from_utf8_lossy(&key).replace('\x1f', " ");
            match decode::<(Period, PeriodCounts)>(name, &value) {
                Ok((p, c)) => {
                    counts.insert(p, c);
                }
                Err(e) => return unusable(e),
            }
        }
        if let Some(c) = counts.get_mut(&period) {
            let mut bytes = Vec::new();
            for (n, entry) in tree.scan_prefix(full_prefix(period)).enumerate() {
                let (key, value) = entry?;
                if key != chunk_key(period, n) {
                    return unusable(format!("{period}: chunk {n} missing"));
                }
                bytes.extend_from_slice(&value);
            }
            match serde_json::from_slice::<BTreeMap<String, AreaPeriod>>(&bytes) {
                Ok(full) => c.join(full),
                Err(e) => return unusable(format!("{period}: {e}")),
            }
        }
        Ok(Some(counts))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::report::AreaPeriod;
    use crate::report::fold::CodeCounts;
    use crate::response::{Env, SettingKey};
    use crate::store::test_support::new;

    fn q4() -> Period {
        "2026-Q4".parse().unwrap()
    }

    fn some_counts() -> Counts {
        let mut period = PeriodCounts::default();
        period.codes.insert(
            "E05000841".into(),
            CodeCounts {
                now: Some(AreaPeriod {
                    audits: 2,
                    ..AreaPeriod::default()
                }),
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

    /// A period's full counts longer than a chunk are written as they are encoded into
    /// the same chunks as the bytes encoded whole, and read back the same, also from
    /// chunks of another size.
    #[test]
    fn full_counts_of_many_chunks_are_kept_as_encoded_whole() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 10, 5, 9, 0, 0).unwrap();
        let store = Store::open_with(dir.path(), Env::manual(t0).0).unwrap();
        let mut period = PeriodCounts::default();
        for n in 0..6000u64 {
            period.codes.insert(
                format!("E0{n:07}"),
                CodeCounts {
                    now: Some(AreaPeriod {
                        audits: n,
                        ..AreaPeriod::default()
                    }),
                    filed: n,
                    ..CodeCounts::default()
                },
            );
        }
        let (_, full) = period.clone().split();
        let whole = serde_json::to_vec(&full).unwrap();
        assert!(whole.len() > 2 * 256 * 1024, "{} bytes", whole.len());
        store
            .keep_counts(
                &store.counts_stamp("s").unwrap(),
                Counts::from([(q4(), period.clone())]),
            )
            .unwrap();
        let tree = store.tree(REPORT_COUNTS).unwrap();
        let kept: Vec<Vec<u8>> = tree
            .scan_prefix(full_prefix(q4()))
            .values()
            .map(|v| v.unwrap().to_vec())
            .collect();
        let expected: Vec<Vec<u8>> = whole.chunks(CHUNK).map(<[u8]>::to_vec).collect();
        assert_eq!(kept, expected);
        // Read back as written, and cut into chunks of 256 KiB (as they were before):
        // the reader joins chunks of any size.
        for cut in [CHUNK, 256 * 1024] {
            for key in tree.scan_prefix(full_prefix(q4())).keys() {
                tree.remove(key.unwrap()).unwrap();
            }
            for (n, chunk) in whole.chunks(cut).enumerate() {
                tree.insert(chunk_key(q4(), n), chunk).unwrap();
            }
            let back = store.kept_counts("s", q4()).unwrap().unwrap();
            assert_eq!(
                serde_json::to_value(&back[&q4()]).unwrap(),
                serde_json::to_value(&period).unwrap(),
                "chunks of {cut} bytes"
            );
        }
    }

    /// Kept counts are read back only while the store is as they were read from: any
    /// journaled write, another set of surveys, another format of counts, or a stamp or
    /// value that does not read makes them absent (so the report counts every
    /// response), never wrong.
    #[test]
    fn kept_counts_are_read_only_for_the_store_they_were_counted_from() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 10, 5, 9, 0, 0).unwrap();
        let store = Store::open_with(dir.path(), Env::manual(t0).0).unwrap();
        assert!(
            store.kept_counts("s", q4()).unwrap().is_none(),
            "none kept yet"
        );

        store
            .keep_counts(&store.counts_stamp("s").unwrap(), some_counts())
            .unwrap();
        assert!(store.counts_current("s").unwrap());
        assert_eq!(filed(&store.kept_counts("s", q4()).unwrap().unwrap()), [3]);
        assert!(store.kept_counts("other surveys", q4()).unwrap().is_none());
        // A period's full counts are read for a report on that period only.
        let audits = |period: Period| -> Vec<Option<u64>> {
            let kept = store.kept_counts("s", period).unwrap().unwrap();
            kept.values()
                .flat_map(|p| p.codes.values().map(|c| c.now.as_ref().map(|n| n.audits)))
                .collect()
        };
        assert_eq!(audits(q4()), [Some(2)]);
        assert_eq!(audits("2026-Q3".parse().unwrap()), [None]);

        // A write of any kind moves the journal mark.
        store.create_draft(new(t0)).unwrap();
        assert!(!store.counts_current("s").unwrap());
        assert!(store.kept_counts("s", q4()).unwrap().is_none());
        store
            .keep_counts(&store.counts_stamp("s").unwrap(), some_counts())
            .unwrap();
        store.set_setting(SettingKey::Officer, "PC 2").unwrap();
        assert!(store.kept_counts("s", q4()).unwrap().is_none());

        // The same journal mark over other records (a store rebuilt from the journal by a
        // release that copied the counts over): the responses counted differ.
        store
            .keep_counts(&store.counts_stamp("s").unwrap(), some_counts())
            .unwrap();
        let tallies = store.tree(crate::store::tallies::TALLIES).unwrap();
        let finalized = crate::store::tallies::FINALIZED;
        let was = tallies.insert(finalized, &7u64.to_be_bytes()[..]).unwrap();
        assert!(!store.counts_current("s").unwrap());
        match was {
            Some(v) => tallies.insert(finalized, v).unwrap(),
            None => tallies.remove(finalized).unwrap(),
        };
        assert!(store.counts_current("s").unwrap());

        // Counted by a release whose counts had another format: counted again.
        let mut older = store.counts_stamp("s").unwrap();
        older.format = COUNTS_FORMAT - 1;
        store.keep_counts(&older, some_counts()).unwrap();
        assert!(!store.counts_current("s").unwrap());
        assert!(store.kept_counts("s", q4()).unwrap().is_none());

        // Kept again, replacing what was kept (no period left over from before).
        store
            .keep_counts(&store.counts_stamp("s").unwrap(), Counts::new())
            .unwrap();
        assert_eq!(
            store.kept_counts("s", q4()).unwrap().map(|c| c.len()),
            Some(0)
        );
        store
            .keep_counts(&store.counts_stamp("s").unwrap(), some_counts())
            .unwrap();

        // Damaged: a period's counts, then the stamp.
        let tree = store.tree(REPORT_COUNTS).unwrap();
        let key = period_key(q4());
        let good = tree
            .insert(&key, &b"{\"format\":1,\"record\":["[..])
            .unwrap()
            .unwrap();
        assert!(store.counts_current("s").unwrap());
        assert!(store.kept_counts("s", q4()).unwrap().is_none());
        tree.insert(&key, good).unwrap();
        assert!(store.kept_counts("s", q4()).unwrap().is_some());
        let first = chunk_key(q4(), 0);
        let good = tree.insert(&first, &b"[]"[..]).unwrap().unwrap();
        assert!(store.kept_counts("s", q4()).unwrap().is_none());
        tree.insert(&first, good.clone()).unwrap();
        assert!(store.kept_counts("s", q4()).unwrap().is_some());
        // A chunk missing from between two others.
        tree.insert(chunk_key(q4(), 2), &b"{}"[..]).unwrap();
        tree.remove(&first).unwrap();
        assert!(store.kept_counts("s", q4()).unwrap().is_none());
        tree.insert(&first, good).unwrap();
        tree.remove(chunk_key(q4(), 2)).unwrap();
        assert!(store.kept_counts("s", q4()).unwrap().is_some());
        tree.insert(STAMP, &b"not json"[..]).unwrap();
        assert!(!store.counts_current("s").unwrap());
        assert!(store.kept_counts("s", q4()).unwrap().is_none());
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
                .keep_counts(&store.counts_stamp("s").unwrap(), some_counts())
                .unwrap();
            assert!(store.counts_current("s").unwrap());
        }
        crate::store::recover(dir.path(), Env::manual(t0).0).unwrap();
        let store = Store::open_with(dir.path(), Env::manual(t0).0).unwrap();
        assert!(!store.counts_current("s").unwrap());
    }
}
