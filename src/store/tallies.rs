//! Counts kept up to date on every response write (tree `tallies`), so the home screen's
//! status line costs the same on a store of ten responses or a million: drafts, finalized
//! responses, and an index of complete responses by the moment they were finalized (home
//! reads only today's). Each response write updates them in the same sled transaction as
//! the record. They are derived data: built once for a store from before they existed,
//! and rebuilt by `doorstep recover`.
//!
//! Keys: `n\x1fdrafts`, `n\x1ffinalized` → u64 big-endian; `c\x1f` + finalized-at
//! (milliseconds + 2^63, big-endian) + the response id → `{"survey_id","survey_version"}`;
//! `built` once they reflect the responses tree. Exported responses are counted beside
//! their marks (tree `exports`, key `count\x1fresponses`), written in the same batch.
//! `i\x1f` + the response id → nothing: every id in the responses tree, so a merge that
//! looks up ids it mostly lacks reads leaves of short keys instead of leaves of response
//! bodies (see [`Store::may_have_response`]); `built\x1fids` once that index is whole;
//! `n\x1fids` → how many responses it was kept for, which a release without the index
//! does not move: when it disagrees with the counts at open, the index is built again.
//! `period\x1f` + period + the response id → what a report counts of it, and
//! `period-unread\x1f` + id, `built\x1fperiods` and `n\x1fperiods`: the index of responses
//! by period, kept the same way (see [`super::periods`]).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use uuid::Uuid;

use super::batches::{EXPORTED_RESPONSES, EXPORTS, RESPONSE_MARK_PREFIX};
use super::periods::{Entry, entry_of, entry_of_bytes, index_period};
use super::responses::RESPONSES;
use super::{Store, StoreError, decode, encode};
use crate::response::{Env, Response, ResponseSummary, Status};

pub(super) const TALLIES: &str = "tallies";
const DRAFTS: &[u8] = b"n\x1fdrafts";
pub(super) const FINALIZED: &[u8] = b"n\x1ffinalized";
const COMPLETE_PREFIX: &[u8] = b"c\x1f";
const BUILT: &[u8] = b"built";
const ID_PREFIX: &[u8] = b"i\x1f";
const IDS_BUILT: &[u8] = b"built\x1fids";
const IDS_COUNT: &[u8] = b"n\x1fids";

/// The index entry of a response (`key`: its key in the responses tree).
fn id_key(key: &[u8]) -> Vec<u8> {
    let mut k = ID_PREFIX.to_vec();
    k.extend_from_slice(key);
    k
}

/// Keeps the index of ids in step with one write of the responses tree: `old` whether the
/// key was there, `new` whether it is now.
fn index_id(t: &TransactionalTree, key: &[u8], old: bool, new: bool) -> TxResult<()> {
    match (old, new) {
        (false, true) => {
            t.insert(id_key(key), &[][..])?;
            add(t, IDS_COUNT, 1)?;
        }
        (true, false) => {
            t.remove(id_key(key))?;
            add(t, IDS_COUNT, -1)?;
        }
        _ => {}
    }
    Ok(())
}

/// What the home screen counts, read without touching a response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tallies {
    pub drafts: u64,
    /// Complete, refused and abandoned responses (revisions included).
    pub finalized: u64,
    /// Finalized responses marked as carried by an exported batch.
    pub exported: u64,
}

impl Tallies {
    /// Finalized responses on this device not yet in any exported batch.
    pub fn not_exported(&self) -> u64 {
        self.finalized.saturating_sub(self.exported)
    }
}

/// A complete response in the index: which survey it used and when it was finalized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completed {
    pub survey_id: String,
    pub survey_version: u32,
    #[serde(skip)]
    pub finalized_at: Option<DateTime<Utc>>,
}

fn complete_key(at: DateTime<Utc>, id: Uuid) -> Vec<u8> {
    let mut key = COMPLETE_PREFIX.to_vec();
    key.extend_from_slice(&time_bytes(at));
    key.extend_from_slice(id.as_bytes());
    key
}

fn time_bytes(at: DateTime<Utc>) -> [u8; 8] {
    // Shifted so that times before 1970 sort before later ones.
    (at.timestamp_millis() as u64 ^ (1 << 63)).to_be_bytes()
}

/// How many keys an index rebuild removes or writes in one `apply_batch`: sled keeps every
/// page one `apply_batch` reads until it returns, so one batch for a whole index held the
/// index in memory (13.6 GB building the index of periods of a 1,000,000-response store).
pub(super) const REBUILD_SLICE: usize = 10_000;

/// Removes every key under `prefix` from `tree`, [`REBUILD_SLICE`] at a time (not atomic:
/// an index being rebuilt is marked unbuilt first).
pub(super) fn remove_prefix(tree: &sled::Tree, prefix: &[u8]) -> Result<(), StoreError> {
    remove_prefix_in(tree, prefix, REBUILD_SLICE)
}

/// [`remove_prefix`], `slice` keys to an `apply_batch`: fewer for a tree of large values
/// (each removal rewrites its leaf in time, and sled keeps every version a batch replaces
/// until the batch ends).
pub(super) fn remove_prefix_in(
    tree: &sled::Tree,
    prefix: &[u8],
    slice: usize,
) -> Result<(), StoreError> {
    use std::ops::Bound;
    // Each slice is looked for after the last key removed, not from the prefix again: sled
    // merges an emptied leaf away only when a lookup lands on it (and never the leftmost
    // of its parent), which a scan from the start of the prefix does not do, so each
    // scan passed again over every leaf emptied so far (paging each one in) before it
    // found a key.
    let mut after: Option<sled::IVec> = None;
    loop {
        let keys = match &after {
            None => tree.scan_prefix(prefix).keys(),
            Some(last) => tree
                .range::<&[u8], _>((Bound::Excluded(last.as_ref()), Bound::Unbounded))
                .keys(),
        }
        .take_while(|k| k.as_ref().map_or(true, |k| k.starts_with(prefix)))
        .take(slice.max(1))
        .collect::<Result<Vec<_>, _>>()?;
        let Some(last) = keys.last().cloned() else {
            return Ok(());
        };
        let mut batch = sled::Batch::default();
        for key in keys {
            batch.remove(key);
        }
        tree.apply_batch(batch)?;
        after = Some(last);
    }
}

pub(super) fn read_u64(bytes: Option<&[u8]>) -> u64 {
    bytes
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_be_bytes)
}

pub(super) type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

pub(super) fn add(t: &TransactionalTree, key: &[u8], delta: i64) -> TxResult<()> {
    if delta == 0 {
        return Ok(());
    }
    let now = read_u64(t.get(key)?.as_deref());
    let next = now.saturating_add_signed(delta);
    t.insert(key, &next.to_be_bytes())?;
    Ok(())
}

/// What of a response the tallies count: draft or not, finalized or not, and its entry in
/// the index of complete responses. Two responses of the same shape count the same.
fn shape(s: Option<&ResponseSummary>) -> (bool, bool, Option<Vec<u8>>) {
    match s {
        None => (false, false, None),
        Some(s) => (
            s.status == Status::Draft,
            s.status.is_final(),
            match (s.status, s.finalized_at) {
                (Status::Complete, Some(at)) => Some(complete_key(at, s.id)),
                _ => None,
            },
        ),
    }
}

/// Moves the tallies from what `old` counted to what `new` counts.
fn apply(
    t: &TransactionalTree,
    old: Option<&ResponseSummary>,
    new: Option<&ResponseSummary>,
) -> TxResult<()> {
    let is = |s: Option<&ResponseSummary>, f: fn(Status) -> bool| {
        i64::from(s.is_some_and(|s| f(s.status)))
    };
    add(
        t,
        DRAFTS,
        is(new, |s| s == Status::Draft) - is(old, |s| s == Status::Draft),
    )?;
    add(
        t,
        FINALIZED,
        is(new, Status::is_final) - is(old, Status::is_final),
    )?;
    fn entry(s: &ResponseSummary) -> Option<(Vec<u8>, &ResponseSummary)> {
        match (s.status, s.finalized_at) {
            (Status::Complete, Some(at)) => Some((complete_key(at, s.id), s)),
            _ => None,
        }
    }
    let old_entry = old.and_then(entry);
    let new_entry = new.and_then(entry);
    if old_entry.as_ref().map(|e| &e.0) != new_entry.as_ref().map(|e| &e.0) {
        if let Some((key, _)) = &old_entry {
            t.remove(key.as_slice())?;
        }
        if let Some((key, s)) = &new_entry {
            let value = encode(&Completed {
                survey_id: s.survey_id.clone(),
                survey_version: s.survey_version,
                finalized_at: None,
            })
            .map_err(ConflictableTransactionError::Abort)?;
            t.insert(key.as_slice(), value)?;
        }
    }
    Ok(())
}

/// Moves the tallies for one raw write of the responses tree (inside a transaction that
/// makes the write): `old` the bytes it replaced, `new` the bytes written (`None`: removed).
pub(super) fn count_write(
    t: &TransactionalTree,
    key: &[u8],
    old: Option<&[u8]>,
    new: Option<&[u8]>,
) -> Result<(), ConflictableTransactionError<()>> {
    // One read of each record serves the counts and the index of periods.
    let (old_summary, old_entry) = old.map(|b| entry_of_bytes(key, b)).unzip();
    let (new_summary, new_entry) = new.map(|b| entry_of_bytes(key, b)).unzip();
    apply(
        t,
        old_summary.flatten().as_ref(),
        new_summary.flatten().as_ref(),
    )
    .and_then(|()| index_id(t, key, old.is_some(), new.is_some()))
    .and_then(|()| index_period(t, old_entry.as_ref(), new_entry.as_ref()))
    .map_err(|e| match e {
        ConflictableTransactionError::Abort(_) => ConflictableTransactionError::Abort(()),
        ConflictableTransactionError::Storage(e) => ConflictableTransactionError::Storage(e),
        _ => ConflictableTransactionError::Conflict,
    })
}

fn from_tx(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => StoreError::from(e),
    }
}

impl Store {
    /// Writes a response and moves the tallies with it, atomically (not flushed).
    ///
    /// Most writes (an answer on a draft) leave the tallies where they are: those are one
    /// compare-and-swap of the record. A sled transaction makes sled write its log buffer
    /// out at once (on its own threads, competing with the journal's sync for the disk), so
    /// it is kept for the writes that do move a tally (start, finalize).
    pub(super) fn put_response_counted(&self, response: &Response) -> Result<(), StoreError> {
        let responses = self.tree(RESPONSES)?;
        let current = responses.get(response.id.as_bytes())?;
        let read = current
            .as_ref()
            .map(|b| entry_of_bytes(response.id.as_bytes(), b));
        match (current, read) {
            (Some(bytes), Some((Some(summary), entry))) => {
                self.put_response_over(response, &bytes, &summary, &entry)
            }
            _ => self.put_response_transaction(response),
        }
    }

    /// Writes `response` over the stored record `before` (its bytes, and its summary and
    /// entry in the index of periods as read from them): a compare-and-swap when neither
    /// the tallies nor the index move, so a record changed meanwhile is never overwritten
    /// unseen (it goes through the transaction).
    pub(super) fn put_response_over(
        &self,
        response: &Response,
        before: &[u8],
        before_summary: &ResponseSummary,
        before_entry: &Entry,
    ) -> Result<(), StoreError> {
        let new = ResponseSummary::from(response);
        if shape(Some(before_summary)) == shape(Some(&new)) && *before_entry == entry_of(response)?
        {
            let responses = self.tree(RESPONSES)?;
            let swapped = responses.compare_and_swap(
                response.id.as_bytes(),
                Some(before),
                Some(encode(response)?),
            )?;
            if swapped.is_ok() {
                return Ok(());
            }
        }
        self.put_response_transaction(response)
    }

    fn put_response_transaction(&self, response: &Response) -> Result<(), StoreError> {
        let responses = self.tree(RESPONSES)?;
        let bytes = encode(response)?;
        let new = ResponseSummary::from(response);
        let new_entry = entry_of(response)?;
        let tallies = self.tree(TALLIES)?;
        let pending = self.pending_changes(&[super::Write::put(
            super::Tree::Responses,
            response.id.as_bytes().to_vec(),
            bytes.clone(),
        )])?;
        (&responses, &tallies)
            .transaction(|(r, t)| {
                let old = r.insert(response.id.as_bytes(), bytes.clone())?;
                index_id(t, response.id.as_bytes(), old.is_some(), true)?;
                // An unreadable old record counted nothing (the rebuild skips it).
                let (old, old_entry) = old
                    .map(|b| entry_of_bytes(response.id.as_bytes(), &b))
                    .unzip();
                apply(t, old.flatten().as_ref(), Some(&new))?;
                index_period(t, old_entry.as_ref(), Some(&new_entry))?;
                super::own::apply_pending(t, &pending)
            })
            .map_err(from_tx)
    }

    /// The counts home shows, kept on write.
    pub fn tallies(&self) -> Result<Tallies, StoreError> {
        let t = self.tree(TALLIES)?;
        Ok(Tallies {
            drafts: read_u64(t.get(DRAFTS)?.as_deref()),
            finalized: read_u64(t.get(FINALIZED)?.as_deref()),
            exported: read_u64(self.tree(EXPORTS)?.get(EXPORTED_RESPONSES)?.as_deref()),
        })
    }

    /// Complete responses finalized on `day` in the zone of `env`, read from the index
    /// (only that day's entries are read).
    pub fn completed_on(
        &self,
        env: &Env,
        day: chrono::NaiveDate,
    ) -> Result<Vec<Completed>, StoreError> {
        let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        // Every zone's day lies within a day either side of the UTC day.
        let (from, to) = (midnight - Duration::days(1), midnight + Duration::days(2));
        let mut end = COMPLETE_PREFIX.to_vec();
        end.extend_from_slice(&time_bytes(to));
        self.completed_between(env, from, end, |d| d == day)
    }

    /// Complete responses finalized on `day` or any later day in the zone of `env` (read
    /// from the index: that day's entries and any after it), for the counts home is shown
    /// at the next start (see `home_file`).
    pub(super) fn completed_since(
        &self,
        env: &Env,
        day: chrono::NaiveDate,
    ) -> Result<Vec<Completed>, StoreError> {
        let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        // Past every finalized-at key: the prefix's last byte, one higher.
        let end = b"c\x20".to_vec();
        self.completed_between(env, midnight - Duration::days(1), end, |d| d >= day)
    }

    /// The index's entries from `from` up to the key `end`, those whose local day `keep`.
    fn completed_between(
        &self,
        env: &Env,
        from: DateTime<Utc>,
        end: Vec<u8>,
        keep: impl Fn(chrono::NaiveDate) -> bool,
    ) -> Result<Vec<Completed>, StoreError> {
        let mut start = COMPLETE_PREFIX.to_vec();
        start.extend_from_slice(&time_bytes(from));
        let mut out = Vec::new();
        for entry in self.tree(TALLIES)?.range(start..end) {
            let (key, value) = entry?;
            let Some(at) = key
                .get(COMPLETE_PREFIX.len()..COMPLETE_PREFIX.len() + 8)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(|b| (u64::from_be_bytes(b) ^ (1 << 63)) as i64)
                .and_then(DateTime::<Utc>::from_timestamp_millis)
            else {
                continue;
            };
            if !keep(env.local_date(at)) {
                continue;
            }
            let mut c: Completed = decode(
                || format!("tally {}", String::from_utf8_lossy(&key)),
                &value,
            )?;
            c.finalized_at = Some(at);
            out.push(c);
        }
        Ok(out)
    }

    /// Whether the tallies reflect the records, the index of what is not yet exported
    /// included (see [`Store::ensure_tallies`]).
    pub(super) fn tallies_built(&self) -> Result<bool, StoreError> {
        let tallies = self.tree(TALLIES)?;
        // The index of ids is not asked for: without it a lookup reads the responses.
        Ok(tallies.get(BUILT)?.is_some() && tallies.get(super::own::PENDING_BUILT)?.is_some())
    }

    /// Whether response `id` may be stored: `false` only when the index of ids is built
    /// and lacks it, so a merge does not read a leaf of response bodies to find an id
    /// missing. An overlay (a merge's slices before, a dry run's batches before) holds
    /// responses the index does not know: one it has a write for may be there. A store
    /// opened to read does not build or check the index: then `true`.
    pub(super) fn may_have_response(&self, id: Uuid) -> Result<bool, StoreError> {
        if self.read_only.is_some() {
            return Ok(true);
        }
        let overlay = self.overlay_slot().clone();
        if let Some(overlay) = overlay
            && overlay
                .open_tree(super::responses::RESPONSES)?
                .contains_key(id.as_bytes())?
        {
            return Ok(true);
        }
        let tallies = self.tree(TALLIES)?;
        if tallies.get(IDS_BUILT)?.is_none() {
            return Ok(true);
        }
        Ok(tallies.get(id_key(id.as_bytes()))?.is_some())
    }

    /// Whether the index of response ids is missing, or was not kept by every write since
    /// it was built (a release without it wrote the store: the counts moved, it did not).
    fn ids_stale(&self) -> Result<bool, StoreError> {
        let tallies = self.tree(TALLIES)?;
        if tallies.get(IDS_BUILT)?.is_none() {
            return Ok(true);
        }
        let counted = read_u64(tallies.get(DRAFTS)?.as_deref())
            + read_u64(tallies.get(FINALIZED)?.as_deref());
        Ok(read_u64(tallies.get(IDS_COUNT)?.as_deref()) != counted)
    }

    /// Builds the index of response ids afresh (the tallies are already right).
    fn rebuild_ids(&self) -> Result<(), StoreError> {
        let tallies = self.tree(TALLIES)?;
        let mut batch = sled::Batch::default();
        // Not built until the end: lookups meanwhile read the responses.
        tallies.remove(IDS_BUILT)?;
        remove_prefix(&tallies, ID_PREFIX)?;
        let mut pending = 0;
        for key in self.tree(RESPONSES)?.iter().keys() {
            batch.insert(id_key(&key?), &[][..]);
            pending += 1;
            if pending == REBUILD_SLICE {
                tallies.apply_batch(std::mem::take(&mut batch))?;
                pending = 0;
            }
        }
        // Against the counts, which count only readable records: an unreadable one
        // written over or taken out later moves the two apart, and the index is built
        // again at the next open (rare, and harmless).
        let counted = read_u64(tallies.get(DRAFTS)?.as_deref())
            + read_u64(tallies.get(FINALIZED)?.as_deref());
        batch.insert(IDS_COUNT, &counted.to_be_bytes());
        batch.insert(IDS_BUILT, &[1u8]);
        tallies.apply_batch(batch)?;
        Ok(())
    }

    /// Builds the tallies once for a store written before they existed.
    pub(super) fn ensure_tallies(&self) -> Result<(), StoreError> {
        let tallies = self.tree(TALLIES)?;
        if tallies.get(BUILT)?.is_none() {
            self.rebuild_tallies()?;
        } else {
            // A store opened to read (a copy) does without the index: not built there.
            let (pending, ids, periods) = (
                tallies.get(super::own::PENDING_BUILT)?.is_none(),
                self.read_only.is_none() && self.ids_stale()?,
                self.read_only.is_none() && self.periods_stale()?,
            );
            if !pending && !ids && !periods {
                return Ok(());
            }
            // Kept by an earlier release, which did not count what is not yet exported
            // or did not index response ids (or wrote the store after this one did).
            if pending {
                self.rebuild_pending()?;
            }
            if ids {
                self.rebuild_ids()?;
            }
            if periods {
                self.rebuild_periods()?;
            }
        }
        self.flush()
    }

    /// Counts every response again (streaming, one record at a time) and writes the
    /// tallies afresh; also the count of exported responses beside their marks.
    pub(super) fn rebuild_tallies(&self) -> Result<(), StoreError> {
        let tallies = self.tree(TALLIES)?;
        tallies.clear()?;
        let (mut drafts, mut finalized) = (0u64, 0u64);
        let mut batch = sled::Batch::default();
        let mut pending = 0;
        for entry in self.tree(RESPONSES)?.iter() {
            let (key, value) = entry?;
            // Every key is indexed, readable or not: the index says what is there.
            batch.insert(id_key(&key), &[][..]);
            let (summary, entry) = entry_of_bytes(&key, &value);
            entry.put(&mut batch);
            pending += 2;
            if pending >= REBUILD_SLICE {
                tallies.apply_batch(std::mem::take(&mut batch))?;
                pending = 0;
            }
            let Some(s) = summary else {
                continue;
            };
            match s.status {
                Status::Draft => drafts += 1,
                _ => finalized += 1,
            }
            if let (Status::Complete, Some(at)) = (s.status, s.finalized_at) {
                batch.insert(
                    complete_key(at, s.id),
                    encode(&Completed {
                        survey_id: s.survey_id,
                        survey_version: s.survey_version,
                        finalized_at: None,
                    })?,
                );
                pending += 1;
            }
        }
        batch.insert(DRAFTS, &drafts.to_be_bytes());
        batch.insert(FINALIZED, &finalized.to_be_bytes());
        batch.insert(BUILT, &[1u8]);
        batch.insert(IDS_COUNT, &(drafts + finalized).to_be_bytes());
        batch.insert(IDS_BUILT, &[1u8]);
        tallies.apply_batch(batch)?;
        self.finish_periods(sled::Batch::default())?;
        let exports = self.tree(EXPORTS)?;
        let exported = exports.scan_prefix(RESPONSE_MARK_PREFIX).keys().count() as u64;
        exports.insert(EXPORTED_RESPONSES, &exported.to_be_bytes())?;
        self.rebuild_pending()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::batch::Counts;
    use crate::store::batches::{ExportedBatch, RecordKey};
    use crate::store::test_support::new;

    /// An index is taken out a slice at a time, all of it, and nothing beside it.
    #[test]
    fn remove_prefix_takes_out_every_key_under_it_in_slices() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let tree = db.open_tree(TALLIES).unwrap();
        let n = REBUILD_SLICE * 2 + 7;
        for i in 0..n {
            tree.insert([ID_PREFIX, &(i as u64).to_be_bytes()].concat(), &[][..])
                .unwrap();
        }
        // Keys on either side of the prefix, and one that only starts like it.
        for key in [&b"h\x1fz"[..], b"i", b"i\x1e", b"j\x1f", IDS_BUILT] {
            tree.insert(key, &[1u8]).unwrap();
        }
        remove_prefix(&tree, ID_PREFIX).unwrap();
        assert_eq!(tree.scan_prefix(ID_PREFIX).count(), 0);
        let left: Vec<Vec<u8>> = tree.iter().keys().map(|k| k.unwrap().to_vec()).collect();
        assert_eq!(
            left,
            [&b"built\x1fids"[..], b"h\x1fz", b"i", b"i\x1e", b"j\x1f"]
        );
        remove_prefix(&tree, ID_PREFIX).unwrap();
        assert_eq!(tree.len(), 5);
        // Again, three keys at a time, each slice found after the last one removed.
        for i in 0..1_000u64 {
            tree.insert([ID_PREFIX, &i.to_be_bytes()].concat(), &[][..])
                .unwrap();
        }
        remove_prefix_in(&tree, ID_PREFIX, 3).unwrap();
        let again: Vec<Vec<u8>> = tree.iter().keys().map(|k| k.unwrap().to_vec()).collect();
        assert_eq!(again, left);
    }

    fn counts(store: &Store) -> (Tallies, usize) {
        let env = store.env().clone();
        let today = store.completed_on(&env, env.today()).unwrap().len();
        (store.tallies().unwrap(), today)
    }

    #[test]
    fn tallies_follow_every_write_and_are_rebuilt_the_same() {
        let dir = tempfile::tempdir().unwrap();
        // 23:30 UTC on 5 October is 00:30 on the 6th in London: "today" is the 6th there.
        let t0 = Utc.with_ymd_and_hms(2026, 10, 5, 23, 30, 0).unwrap();
        let (env, clock) = Env::manual(t0);
        let store = Store::open_with(dir.path(), env.clone()).unwrap();
        let none = Tallies::default();
        assert_eq!(counts(&store), (none, 0));

        let a = store.create_draft(new(t0)).unwrap();
        let b = store.create_draft(new(t0)).unwrap();
        let c = store.create_draft(new(t0)).unwrap();
        assert_eq!(store.tallies().unwrap().drafts, 3);
        store.finalize(a.id, Status::Complete, t0).unwrap();
        store.finalize(b.id, Status::Refused, t0).unwrap();
        store.abandon_draft(c.id).unwrap();
        let three_done = Tallies {
            drafts: 0,
            finalized: 3,
            exported: 0,
        };
        // Only the complete one counts for today.
        assert_eq!(counts(&store), (three_done, 1));

        // A revision is a draft, then one more finalized response; the original stays.
        let rev = store.revise(a.id).unwrap();
        assert_eq!(store.tallies().unwrap().drafts, 1);
        clock.advance(Duration::hours(1));
        store
            .finalize(rev.id, Status::Complete, store.env().now())
            .unwrap();
        let four_done = Tallies {
            finalized: 4,
            ..three_done
        };
        assert_eq!(counts(&store), (four_done, 2));

        // Exporting two of them (one twice) counts two as exported.
        let batch = |n: u64| ExportedBatch {
            batch: env.new_id(),
            sequence: n,
            previous: None,
            created_at: t0,
            counts: Counts::default(),
        };
        store
            .record_export(
                &batch(1),
                &[RecordKey::Response(a.id), RecordKey::Response(b.id)],
            )
            .unwrap();
        store
            .record_export(&batch(2), &[RecordKey::Response(a.id)])
            .unwrap();
        let exported = Tallies {
            exported: 2,
            ..four_done
        };
        assert_eq!(counts(&store), (exported, 2));
        assert_eq!(exported.not_exported(), 2);

        // The next day, none are today's.
        clock.advance(Duration::days(1));
        assert_eq!(counts(&store).1, 0);
        clock.advance(Duration::days(-1));

        // A store from before tallies (none kept) builds them once at open.
        store.tree(TALLIES).unwrap().clear().unwrap();
        store
            .tree(EXPORTS)
            .unwrap()
            .remove(EXPORTED_RESPONSES)
            .unwrap();
        store.flush().unwrap();
        drop(store);
        let store = Store::open_with(dir.path(), env.clone()).unwrap();
        assert_eq!(counts(&store), (exported, 2));
        drop(store);

        // Recover rebuilds them: in place, and from the journal alone.
        crate::store::recover(dir.path(), env.clone()).unwrap();
        let store = Store::open_with(dir.path(), env.clone()).unwrap();
        assert_eq!(counts(&store), (exported, 2));
        drop(store);
        std::fs::remove_dir_all(dir.path().join(crate::store::STORE_DIR)).unwrap();
        crate::store::recover(dir.path(), env.clone()).unwrap();
        let store = Store::open_with(dir.path(), env).unwrap();
        // Export marks are not journaled: with the store gone, nothing counts as exported.
        assert_eq!(
            counts(&store),
            (
                Tallies {
                    exported: 0,
                    ..four_done
                },
                2
            )
        );
    }
}
