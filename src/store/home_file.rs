//! Home's counts at the last clean close, in a small file beside `closed-at-journal`, so
//! the field app can show them before sled has opened its files (which takes longer the
//! bigger the store).
//!
//! The file holds the journal's length it matches. It is removed before a store is opened
//! for writing (and by `recover`) and written again, whole (a temporary file, fsynced,
//! renamed into place), at a clean close: a kill leaves no file, so a start after it shows
//! the counts loading instead. A file whose length is not the journal's present length, a
//! damaged file or one of another version is not used (a damaged one is logged).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{NotExported, Store, StoreError};

/// In the sled directory, beside [`super::CLOSED_FILE`].
pub const HOME_COUNTS_FILE: &str = "home-counts";
/// The layout of the file; a file of another version is ignored.
const VERSION: u32 = 1;

/// What home shows from the tallies, as of one moment of the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeCounts {
    pub drafts: u64,
    pub not_exported: NotExported,
    /// The first (UK) day `completed` covers: the day the counts were taken.
    pub from: NaiveDate,
    /// Complete responses finalized on `from` or later, by day and survey version.
    pub completed: Vec<DayCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    pub day: NaiveDate,
    pub survey_id: String,
    pub survey_version: u32,
    pub count: u64,
}

impl HomeCounts {
    /// Complete responses finalized on `day`, by survey version; `None` when `day` is
    /// before the counts were taken (the clock went back), which they do not cover.
    pub fn completed_on(&self, day: NaiveDate) -> Option<impl Iterator<Item = &DayCount>> {
        (day >= self.from).then(|| self.completed.iter().filter(move |c| c.day == day))
    }
}

impl Store {
    /// Home's counts as they are now (from the tallies; no response is read): drafts,
    /// what is not yet exported, and complete responses from today on.
    pub fn home_counts(&self) -> Result<HomeCounts, StoreError> {
        let from = self.env().today();
        let mut completed: Vec<DayCount> = Vec::new();
        for c in self.completed_since(self.env(), from)? {
            let Some(at) = c.finalized_at else { continue };
            let day = self.env().local_date(at);
            match completed.iter_mut().find(|d| {
                d.day == day && d.survey_id == c.survey_id && d.survey_version == c.survey_version
            }) {
                Some(d) => d.count += 1,
                None => completed.push(DayCount {
                    day,
                    survey_id: c.survey_id,
                    survey_version: c.survey_version,
                    count: 1,
                }),
            }
        }
        Ok(HomeCounts {
            drafts: self.tallies()?.drafts,
            not_exported: self.not_exported()?,
            from,
            completed,
        })
    }
}

/// The file's layout.
#[derive(Serialize, Deserialize)]
struct Saved {
    version: u32,
    journal_bytes: u64,
    drafts: u64,
    not_exported: SavedNotExported,
    from: NaiveDate,
    completed: Vec<DayCount>,
}

#[derive(Serialize, Deserialize)]
struct SavedNotExported {
    responses: u64,
    doors: u64,
    knocks: u64,
    actions: u64,
    door_changes: u64,
}

/// Only the version, read first, so a file of a later layout is told apart from damage.
#[derive(Deserialize)]
struct Versioned {
    version: u32,
}

pub(super) fn path(db_path: &Path) -> PathBuf {
    db_path.join(HOME_COUNTS_FILE)
}

/// Removes the file, before anything is written to the store.
pub(super) fn forget(db_path: &Path) -> Result<(), StoreError> {
    let path = path(db_path);
    match std::fs::remove_file(&path) {
        // No store folder (or a file in its place, which recover moves aside): no counts.
        Err(e)
            if !matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Err(StoreError::io(path, e))
        }
        _ => Ok(()),
    }
}

/// Writes the file whole: a temporary file beside it, fsynced, renamed into place, the
/// folder fsynced.
pub(super) fn save(db_path: &Path, journal_bytes: u64, c: &HomeCounts) -> Result<(), StoreError> {
    let saved = Saved {
        version: VERSION,
        journal_bytes,
        drafts: c.drafts,
        not_exported: SavedNotExported {
            responses: c.not_exported.responses,
            doors: c.not_exported.doors,
            knocks: c.not_exported.knocks,
            actions: c.not_exported.actions,
            door_changes: c.not_exported.door_changes,
        },
        from: c.from,
        completed: c.completed.clone(),
    };
    let bytes = serde_json::to_vec(&saved).map_err(|e| StoreError::Damaged {
        message: format!("home's counts could not be written: {e}"),
    })?;
    let path = path(db_path);
    let temp = db_path.join(format!("{HOME_COUNTS_FILE}.partial"));
    let written = std::fs::File::create(&temp).and_then(|mut f| {
        f.write_all(&bytes)?;
        f.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(StoreError::io(&temp, e));
    }
    if let Err(e) = std::fs::rename(&temp, &path) {
        let _ = std::fs::remove_file(&temp);
        return Err(StoreError::io(&path, e));
    }
    std::fs::File::open(db_path)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(db_path, e))
}

/// The counts in the file, if it matches the journal's present length (`None` when there
/// is no journal). Anything else — no file, another length, another version, damage — is
/// `None`; damage and an unknown version are logged.
pub(super) fn load(db_path: &Path, journal_bytes: Option<u64>) -> Option<HomeCounts> {
    let path = path(db_path);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!(
                "{}: not read ({e}); home's counts wait for the store",
                path.display()
            );
            return None;
        }
    };
    match serde_json::from_slice::<Versioned>(&bytes) {
        Ok(v) if v.version == VERSION => {}
        Ok(v) => {
            tracing::warn!(
                "{}: version {} is not one this doorstep reads; home's counts wait for the store",
                path.display(),
                v.version
            );
            return None;
        }
        Err(e) => {
            tracing::warn!(
                "{}: damaged ({e}); home's counts wait for the store",
                path.display()
            );
            return None;
        }
    }
    let saved: Saved = match serde_json::from_slice(&bytes) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(
                "{}: damaged ({e}); home's counts wait for the store",
                path.display()
            );
            return None;
        }
    };
    if Some(saved.journal_bytes) != journal_bytes {
        // Written before the journal last grew (or it was replaced): not these counts.
        return None;
    }
    let n = saved.not_exported;
    Some(HomeCounts {
        drafts: saved.drafts,
        not_exported: NotExported {
            responses: n.responses,
            doors: n.doors,
            knocks: n.knocks,
            actions: n.actions,
            door_changes: n.door_changes,
        },
        from: saved.from,
        completed: saved.completed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts() -> HomeCounts {
        let day = NaiveDate::from_ymd_opt(2026, 10, 6).unwrap();
        HomeCounts {
            drafts: 2,
            not_exported: NotExported {
                responses: 12,
                doors: 3,
                knocks: 30,
                actions: 2,
                door_changes: 1,
            },
            from: day,
            completed: vec![
                DayCount {
                    day,
                    survey_id: "kin".into(),
                    survey_version: 2,
                    count: 5,
                },
                DayCount {
                    day: day.succ_opt().unwrap(),
                    survey_id: "eva".into(),
                    survey_version: 1,
                    count: 1,
                },
            ],
        }
    }

    /// A store closed cleanly leaves the counts it had, for the journal's length; opening
    /// it for writing removes them before sled opens, so a kill leaves none behind.
    #[test]
    fn a_clean_close_keeps_the_counts_and_opening_for_writing_removes_them() {
        use chrono::{Duration, TimeZone, Utc};

        use crate::response::{Env, NewResponse, Status};

        let dir = tempfile::tempdir().unwrap();
        // 23:30 UTC on 5 October is 00:30 on the 6th in London: "today" is the 6th there.
        let t0 = Utc.with_ymd_and_hms(2026, 10, 5, 23, 30, 0).unwrap();
        let (env, _clock) = Env::manual(t0);
        let new = |survey: &str| NewResponse {
            survey_id: survey.into(),
            ..crate::store::test_support::new(t0)
        };
        let store = Store::open_with(dir.path(), env.clone()).unwrap();
        let a = store.create_draft(new("kin")).unwrap();
        let b = store.create_draft(new("kin")).unwrap();
        let c = store.create_draft(new("eva")).unwrap();
        store.create_draft(new("kin")).unwrap();
        // Yesterday's (in London) is not today's; one dated tomorrow is kept for tomorrow.
        store
            .finalize(a.id, Status::Complete, t0 - Duration::hours(1))
            .unwrap();
        store.finalize(b.id, Status::Complete, t0).unwrap();
        store
            .finalize(c.id, Status::Complete, t0 + Duration::days(1))
            .unwrap();
        let live = store.home_counts().unwrap();
        drop(store);

        let today = NaiveDate::from_ymd_opt(2026, 10, 6).unwrap();
        assert_eq!(live.from, today);
        assert_eq!(live.drafts, 1);
        assert_eq!(live.not_exported.responses, 3);
        let by_day: Vec<(NaiveDate, &str, u64)> = live
            .completed
            .iter()
            .map(|d| (d.day, d.survey_id.as_str(), d.count))
            .collect();
        assert_eq!(
            by_day,
            vec![(today, "kin", 1), (today.succ_opt().unwrap(), "eva", 1)]
        );

        let db_path = dir.path().join(super::super::STORE_DIR);
        let locked = Store::lock(dir.path(), env.clone()).unwrap();
        assert_eq!(locked.saved_home_counts(), Some(live.clone()));
        let store = locked.open().unwrap();
        assert!(!path(&db_path).exists());
        drop(store);
        assert!(path(&db_path).exists());
        // Recover counts again and removes them (it writes no counts of its own).
        crate::store::recover(dir.path(), env.clone()).unwrap();
        assert!(!path(&db_path).exists());
        drop(Store::open_with(dir.path(), env.clone()).unwrap());
        let store = Store::lock(dir.path(), env.clone())
            .unwrap()
            .open()
            .unwrap();
        assert!(!path(&db_path).exists());
        // Killed (never closed): no counts for the next start, whatever is written now.
        store.create_draft(new("kin")).unwrap();
        std::mem::forget(store);
        assert!(!path(&db_path).exists());

        // At a start the next day, tomorrow's is today's.
        let next_day: Vec<_> = live
            .completed_on(today.succ_opt().unwrap())
            .unwrap()
            .map(|d| (d.survey_id.as_str(), d.count))
            .collect();
        assert_eq!(next_day, vec![("eva", 1)]);
    }

    #[test]
    fn round_trip_at_the_journals_length() {
        let dir = tempfile::tempdir().unwrap();
        let c = counts();
        save(dir.path(), 4096, &c).unwrap();
        assert_eq!(load(dir.path(), Some(4096)), Some(c.clone()));
        // No temporary file is left beside it.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(HOME_COUNTS_FILE)]);
        // Each day's counts, and none for a day before they were taken.
        let on = |d: NaiveDate| c.completed_on(d).map(|i| i.map(|x| x.count).sum::<u64>());
        assert_eq!(on(c.from), Some(5));
        assert_eq!(on(c.from.succ_opt().unwrap()), Some(1));
        assert_eq!(on(c.from.pred_opt().unwrap()), None);
        // Forgotten: gone, and forgetting again is no error.
        forget(dir.path()).unwrap();
        assert_eq!(load(dir.path(), Some(4096)), None);
        forget(dir.path()).unwrap();
    }

    #[test]
    fn a_file_of_another_journal_length_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        save(dir.path(), 4096, &counts()).unwrap();
        assert_eq!(load(dir.path(), Some(4097)), None);
        assert_eq!(load(dir.path(), Some(0)), None);
        assert_eq!(load(dir.path(), None), None);
    }

    #[test]
    fn a_damaged_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        save(dir.path(), 4096, &counts()).unwrap();
        let whole = std::fs::read(path(dir.path())).unwrap();
        // Cut short, garbage, empty, and a field of the wrong kind.
        for bad in [
            whole[..whole.len() / 2].to_vec(),
            b"\xff\xfe not json".to_vec(),
            Vec::new(),
            String::from_utf8(whole.clone())
                .unwrap()
                .replace("\"drafts\":2", "\"drafts\":\"two\"")
                .into_bytes(),
        ] {
            std::fs::write(path(dir.path()), &bad).unwrap();
            assert_eq!(load(dir.path(), Some(4096)), None, "{bad:?}");
        }
    }

    #[test]
    fn a_file_of_an_unknown_version_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        save(dir.path(), 4096, &counts()).unwrap();
        let text = std::fs::read_to_string(path(dir.path())).unwrap();
        assert!(text.contains("\"version\":1"), "{text}");
        std::fs::write(
            path(dir.path()),
            text.replace("\"version\":1", "\"version\":2"),
        )
        .unwrap();
        assert_eq!(load(dir.path(), Some(4096)), None);
        // A later layout that this one cannot read at all is ignored the same way.
        std::fs::write(path(dir.path()), br#"{"version":7,"counts":[1,2,3]}"#).unwrap();
        assert_eq!(load(dir.path(), Some(4096)), None);
    }
}
