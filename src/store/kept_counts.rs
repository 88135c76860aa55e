//! The report's counts kept beside the store (folder `report-counts` in the data
//! directory), so that a report on a coordinator's store reads a few counts per area code
//! and period instead of every response: written after a merge, read by `doorstep report`.
//!
//! Derived data, right only for the exact state they were counted from. They carry a
//! stamp: the journal mark the store reflected when they were read, how many drafts and
//! finalized responses it held (a store rebuilt from the same journal by a release that
//! copied these counts over must hold the same), the installed surveys (the counts depend
//! on them) and the format of the counts. A report uses them only when that stamp is the
//! store's present one: every write the report could see (a response, a door, a knock, a
//! merge) moves the journal mark first, so kept counts are never read stale, only not at
//! all. Recover removes them.
//!
//! Files, not sled: keeping the counts of a store of 1,000,000 responses writes some
//! 35 MB per period, and sled holds what is written in new versions of its leaves:
//! written into sled they took the merge to 300-565 MB, written to files to 245-270 MB
//! (BENCHMARKS.md).
//!
//! Each file is JSON Lines, the stamp on its first line: `periods.jsonl` holds every
//! period's counts per area code without the full ones ([`PeriodCounts::split`]), and
//! `<period>.jsonl` that period's full ones (they hold the EVA findings the pack lists,
//! which grow with the audits; a report reads its own period's only). Each is written
//! whole under another name and renamed into place, `periods.jsonl` last, so a reader
//! finds a file whole or not at all; a file whose stamp is not the store's is not used.
//!
//! A release before this one kept the counts in the store's tree `report-counts`: that
//! tree is dropped when counts are next kept, and never read.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::journal::JournalMark;
use super::{Store, StoreError};
use crate::report::AreaPeriod;
use crate::report::fold::{COUNTS_FORMAT, Counts, PeriodCounts};
use crate::response::Period;

/// The folder in the data directory the counts are kept in.
const COUNTS_DIR: &str = "report-counts";
/// The tree an earlier release kept the counts in.
pub(super) const REPORT_COUNTS: &str = "report-counts";
const PERIODS_FILE: &str = "periods.jsonl";
/// The start of the name a file is written under before it is renamed into place.
const WRITING: &str = ".writing-";

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

fn full_name(period: Period) -> String {
    format!("{period}.jsonl")
}

/// Removes the counts kept in `data_dir` (by `recover`, whose store may differ from the
/// one they were counted from under the same journal mark).
pub(super) fn forget_in(data_dir: &Path) -> Result<(), StoreError> {
    let dir = data_dir.join(COUNTS_DIR);
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::io(dir, e)),
    }
}

/// Kept counts that do not read are treated as absent: they are derived, and the
/// responses they came from are still there to count.
fn unusable(file: &Path, e: impl std::fmt::Display) -> Result<Option<Counts>, StoreError> {
    tracing::warn!("kept report counts not used: {}: {e}", file.display());
    Ok(None)
}

/// Why a kept file is not read. Whatever it is, the counts are derived: the report counts
/// the responses instead.
enum NotRead {
    /// Not there: never kept, or forgotten.
    Missing,
    /// There, but not of the store as it is, damaged, or not to be read.
    Unusable(String),
}

/// Opens a kept file and reads its stamp line; the file is read on from the next line.
fn open_stamped(path: &Path) -> Result<(CountsStamp, BufReader<File>), NotRead> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(NotRead::Missing),
        Err(e) => return Err(NotRead::Unusable(e.to_string())),
    };
    let mut reader = BufReader::new(file);
    let mut line = String::new();
    // A stamp is short: a longer first line is not one (and is not read on).
    if let Err(e) = (&mut reader).take(4096).read_line(&mut line) {
        return Err(NotRead::Unusable(format!("stamp: {e}")));
    }
    match serde_json::from_str::<CountsStamp>(&line) {
        Ok(stamp) => Ok((stamp, reader)),
        Err(e) => Err(NotRead::Unusable(format!("stamp: {e}"))),
    }
}

/// The value after a kept file's stamp line; `Err` with why when it does not read.
fn read_rest<T: serde::de::DeserializeOwned>(mut reader: BufReader<File>) -> Result<T, String> {
    // Read whole, then decoded: serde_json decodes from memory faster than from a reader.
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

/// Writes `value` under `dir/name`: stamp line, the value's JSON, then flushed to disk
/// under a passing name and renamed into place, so the name holds a whole file or none.
/// The value is encoded as it is written, never held encoded whole.
fn write_stamped(
    dir: &Path,
    name: &str,
    stamp: &CountsStamp,
    value: &impl Serialize,
) -> Result<(), StoreError> {
    let passing = dir.join(format!("{WRITING}{name}"));
    let path = dir.join(name);
    let io = |e: std::io::Error| StoreError::io(&passing, e);
    let file = File::create(&passing).map_err(io)?;
    let mut out = BufWriter::new(file);
    let encode = |e: serde_json::Error| match e.io_error_kind() {
        Some(_) => StoreError::io(&passing, std::io::Error::from(e)),
        None => StoreError::Encode(e.to_string()),
    };
    serde_json::to_writer(&mut out, stamp).map_err(encode)?;
    out.write_all(b"\n").map_err(io)?;
    serde_json::to_writer(&mut out, value).map_err(encode)?;
    out.write_all(b"\n").map_err(io)?;
    let file = out.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&passing, &path).map_err(|e| StoreError::io(&path, e))
}

/// Counts being kept a period at a time ([`Store::counts_keeper`]); nothing kept is used
/// until [`CountsKeeper::finish`].
pub struct CountsKeeper {
    dir: PathBuf,
    stamp: CountsStamp,
    /// Each period's counts without the full ones, written last.
    rest: Vec<(Period, PeriodCounts)>,
}

impl CountsKeeper {
    /// Keeps one period's counts: its full counts written now, the rest held (small)
    /// until [`CountsKeeper::finish`].
    pub fn period(&mut self, period: Period, c: PeriodCounts) -> Result<(), StoreError> {
        let (rest, full) = c.split();
        write_stamped(&self.dir, &full_name(period), &self.stamp, &full)?;
        self.rest.push((period, rest));
        Ok(())
    }

    /// Writes every period's counts per area code: from now on a report reads them.
    pub fn finish(self) -> Result<(), StoreError> {
        write_stamped(&self.dir, PERIODS_FILE, &self.stamp, &self.rest)?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| StoreError::io(&self.dir, e))
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

    fn counts_dir(&self) -> PathBuf {
        self.data_dir.join(COUNTS_DIR)
    }

    /// Keeps `counts`, read from the store under `stamp`, in place of any kept before.
    pub fn keep_counts(&self, stamp: &CountsStamp, counts: Counts) -> Result<(), StoreError> {
        let mut keeper = self.counts_keeper(stamp.clone())?;
        for (period, c) in counts {
            keeper.period(period, c)?;
        }
        keeper.finish()
    }

    /// Drops the counts kept before and starts keeping counts read under `stamp`, a
    /// period at a time ([`CountsKeeper::period`], then [`CountsKeeper::finish`]). A kill
    /// before the end leaves no counts rather than some.
    pub fn counts_keeper(&self, stamp: CountsStamp) -> Result<CountsKeeper, StoreError> {
        self.forget_counts()?;
        let dir = self.counts_dir();
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        Ok(CountsKeeper {
            dir,
            stamp,
            rest: Vec::new(),
        })
    }

    /// Drops the counts kept, and the tree of an earlier release that kept them in the
    /// store.
    pub fn forget_counts(&self) -> Result<(), StoreError> {
        forget_in(&self.data_dir)?;
        if self
            .db
            .tree_names()
            .iter()
            .any(|n| n.as_ref() == REPORT_COUNTS.as_bytes())
        {
            super::recover::drop_scratch(&self.db, REPORT_COUNTS)?;
        }
        Ok(())
    }

    /// The stamp of the counts kept: `None` when there are none or they do not read.
    fn kept_stamp(&self) -> Option<(CountsStamp, BufReader<File>)> {
        let path = self.counts_dir().join(PERIODS_FILE);
        match open_stamped(&path) {
            Ok(kept) => Some(kept),
            Err(NotRead::Missing) => None,
            Err(NotRead::Unusable(e)) => {
                tracing::warn!("kept report counts not used: {}: {e}", path.display());
                None
            }
        }
    }

    /// Whether counts are kept that were read from the store as it is now with the same
    /// surveys installed.
    pub fn counts_current(&self, surveys: &str) -> Result<bool, StoreError> {
        Ok(match self.kept_stamp() {
            Some((stamp, _)) => stamp == self.counts_stamp(surveys)?,
            None => false,
        })
    }

    /// The counts kept for a report on `period` (in full for that period, the issue
    /// counts of the others), when they were read from the store as it is now with the
    /// same surveys installed; `None` when there are none or they are not (the caller
    /// then reads the responses), or when they do not read ([`unusable`]).
    pub fn kept_counts(&self, surveys: &str, period: Period) -> Result<Option<Counts>, StoreError> {
        let Some((stamp, reader)) = self.kept_stamp() else {
            return Ok(None);
        };
        let now = self.counts_stamp(surveys)?;
        if stamp != now {
            return Ok(None);
        }
        let path = self.counts_dir().join(PERIODS_FILE);
        let mut counts = Counts::new();
        match read_rest::<Vec<(Period, PeriodCounts)>>(reader) {
            Ok(rest) => counts.extend(rest),
            Err(e) => return unusable(&path, e),
        }
        if let Some(c) = counts.get_mut(&period) {
            let path = self.counts_dir().join(full_name(period));
            let reader = match open_stamped(&path) {
                Ok((stamp, _)) if stamp != now => {
                    return unusable(&path, "counted from another state of the store");
                }
                Ok((_, reader)) => reader,
                Err(NotRead::Missing) => return unusable(&path, "missing"),
                Err(NotRead::Unusable(e)) => return unusable(&path, e),
            };
            match read_rest::<BTreeMap<String, AreaPeriod>>(reader) {
                Ok(full) => c.join(full),
                Err(e) => return unusable(&path, e),
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

    fn open(dir: &Path) -> Store {
        let t0 = Utc.with_ymd_and_hms(2026, 10, 5, 9, 0, 0).unwrap();
        Store::open_with(dir, Env::manual(t0).0).unwrap()
    }

    fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir.join(COUNTS_DIR))
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Large counts are written to their files and read back the same; no file is left
    /// under its passing name.
    #[test]
    fn counts_are_kept_in_files_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
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
        let q3: Period = "2026-Q3".parse().unwrap();
        store
            .keep_counts(
                &store.counts_stamp("s").unwrap(),
                Counts::from([(q4(), period.clone()), (q3, some_counts()[&q4()].clone())]),
            )
            .unwrap();
        assert_eq!(
            files(dir.path()),
            ["2026-Q3.jsonl", "2026-Q4.jsonl", "periods.jsonl"]
        );
        let back = store.kept_counts("s", q4()).unwrap().unwrap();
        assert_eq!(
            serde_json::to_value(&back[&q4()]).unwrap(),
            serde_json::to_value(&period).unwrap()
        );
        // The other period without its full counts.
        assert!(back[&q3].codes.values().all(|c| c.now.is_none()));
        assert_eq!(filed(&back), {
            let mut f: Vec<u64> = vec![3];
            f.extend(0..6000u64);
            f
        });
        // Each file starts with the stamp, on a line of its own.
        let text =
            std::fs::read_to_string(dir.path().join(COUNTS_DIR).join("2026-Q4.jsonl")).unwrap();
        let first = text.lines().next().unwrap();
        assert_eq!(
            serde_json::from_str::<CountsStamp>(first).unwrap(),
            store.counts_stamp("s").unwrap()
        );
    }

    /// Kept counts are read back only while the store is as they were read from: any
    /// journaled write, another set of surveys, another format of counts, or a stamp or
    /// file that does not read makes them absent (so the report counts every response),
    /// never wrong.
    #[test]
    fn kept_counts_are_read_only_for_the_store_they_were_counted_from() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 10, 5, 9, 0, 0).unwrap();
        let store = open(dir.path());
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
        assert_eq!(files(dir.path()), ["periods.jsonl"]);
        assert_eq!(
            store.kept_counts("s", q4()).unwrap().map(|c| c.len()),
            Some(0)
        );
        store
            .keep_counts(&store.counts_stamp("s").unwrap(), some_counts())
            .unwrap();

        // Damaged or out of step, each file in turn; put back, read again.
        let counts_dir = dir.path().join(COUNTS_DIR);
        let stamp_line = serde_json::to_string(&store.counts_stamp("s").unwrap()).unwrap();
        let mut other = store.counts_stamp("s").unwrap();
        other.responses[1] += 1;
        let other_line = serde_json::to_string(&other).unwrap();
        for name in ["periods.jsonl", "2026-Q4.jsonl"] {
            let path = counts_dir.join(name);
            let good = std::fs::read(&path).unwrap();
            let body = &good[stamp_line.len() + 1..];
            let damaged: Vec<(&str, Vec<u8>)> = vec![
                ("cut short", good[..good.len() - 5].to_vec()),
                ("empty", Vec::new()),
                ("the stamp only", [stamp_line.as_bytes(), b"\n"].concat()),
                (
                    "another stamp",
                    [other_line.as_bytes(), b"\n", body].concat(),
                ),
                ("a stamp that is not one", [b"not json\n", body].concat()),
                ("not text", vec![0xff; 5000]),
                (
                    "other counts",
                    [stamp_line.as_bytes(), b"\n[1,2]\n"].concat(),
                ),
            ];
            for (what, bytes) in damaged {
                std::fs::write(&path, &bytes).unwrap();
                assert!(
                    store.kept_counts("s", q4()).unwrap().is_none(),
                    "{name}: {what}"
                );
            }
            std::fs::remove_file(&path).unwrap();
            assert!(
                store.kept_counts("s", q4()).unwrap().is_none(),
                "{name}: gone"
            );
            std::fs::write(&path, &good).unwrap();
            assert!(
                store.kept_counts("s", q4()).unwrap().is_some(),
                "{name}: put back"
            );
        }
        // A period's file is read only for a report on that period.
        std::fs::remove_file(counts_dir.join("2026-Q4.jsonl")).unwrap();
        assert!(
            store
                .kept_counts("s", "2026-Q3".parse().unwrap())
                .unwrap()
                .is_some()
        );
    }

    /// Counts are kept a period at a time: until the last step nothing kept is used, and
    /// what was kept before is gone from the first.
    #[test]
    fn counts_half_kept_are_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let stamp = store.counts_stamp("s").unwrap();
        store.keep_counts(&stamp, some_counts()).unwrap();
        let mut keeper = store.counts_keeper(stamp.clone()).unwrap();
        assert!(!store.counts_current("s").unwrap());
        for (period, c) in some_counts() {
            keeper.period(period, c).unwrap();
        }
        assert!(!store.counts_current("s").unwrap());
        assert!(store.kept_counts("s", q4()).unwrap().is_none());
        drop(keeper);
        let mut keeper = store.counts_keeper(stamp).unwrap();
        assert_eq!(files(dir.path()), Vec::<String>::new());
        for (period, c) in some_counts() {
            keeper.period(period, c).unwrap();
        }
        keeper.finish().unwrap();
        assert_eq!(filed(&store.kept_counts("s", q4()).unwrap().unwrap()), [3]);
    }

    /// A release before this one kept the counts in a tree of the store: never read, and
    /// dropped when counts are next kept.
    #[test]
    fn counts_an_earlier_release_kept_in_the_store_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let old = store.tree(REPORT_COUNTS).unwrap();
        old.insert(
            b"1\x1fstamp",
            serde_json::to_vec(&store.counts_stamp("s").unwrap()).unwrap(),
        )
        .unwrap();
        for n in 0..50 {
            old.insert(format!("3\x1f2026-Q4\x1f{n:08}"), vec![b'x'; 16 * 1024])
                .unwrap();
        }
        drop(old);
        assert!(store.kept_counts("s", q4()).unwrap().is_none());
        store
            .keep_counts(&store.counts_stamp("s").unwrap(), some_counts())
            .unwrap();
        assert!(
            !store
                .db
                .tree_names()
                .iter()
                .any(|n| n.as_ref() == REPORT_COUNTS.as_bytes())
        );
        assert_eq!(filed(&store.kept_counts("s", q4()).unwrap().unwrap()), [3]);
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
