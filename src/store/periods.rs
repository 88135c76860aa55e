//! The index of responses by period, kept in the `tallies` tree beside the other counts
//! (see [`super::tallies`]), so a report on one period reads the records of that period
//! alone. The report also counts the issues named in every other period ("what changed",
//! "persisting") and the responses on surveys not installed: each entry keeps what those
//! counts read of a response of another period, so those periods are read from the index
//! and their records are never opened.
//!
//! Keys (tree `tallies`): `period\x1f` + the period as written (`2026-Q4`, seven bytes) +
//! the response's key → a [`Kept`] record; `period-unread\x1f` + the response's key →
//! nothing, for a stored record the index could not read (a reader reads the record
//! itself, and meets the same error a full scan does); `period-draft\x1f` + the key of a
//! draft → nothing, so the drafts are found without reading every record;
//! `built\x1fperiods-drafts` once the index reflects the responses tree (a release
//! before the drafts set wrote `built\x1fperiods`: such an index is built again);
//! `n\x1fperiods` → how many entries it holds, which a release without the index does
//! not move: when it disagrees with the counts at a read-write open the index is built
//! again, and a store opened to read (which never writes) reads every record instead, as
//! before the index.
//!
//! Each entry is written in the same transaction as its record (see
//! [`super::tallies::count_write`] and `Store::put_response_transaction`); an answer on a
//! draft, which keeps no answers here, leaves its entry as it is and stays a
//! compare-and-swap of the record.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::transaction::TransactionalTree;
use uuid::Uuid;

use super::responses::{RESPONSES, StoredResponse, key_name};
use super::tallies::{TALLIES, TxResult, read_u64};
use super::{Store, StoreError, decode, encode};
use crate::report::CLASS_QUESTIONS;
use crate::report::issues::ISSUES_QUESTION;
use crate::response::{AnswerRecord, Period, Response, ResponseSummary, Status, StoredAnswer};
use crate::survey::Answer;

const PERIOD_PREFIX: &[u8] = b"period\x1f";
const UNREAD_PREFIX: &[u8] = b"period-unread\x1f";
/// `period-draft\x1f` + a draft's key → nothing: the drafts, found without reading every
/// record (the drafts and door log screens look for them).
const DRAFT_PREFIX: &[u8] = b"period-draft\x1f";
/// Set once the index (with its drafts) reflects the responses tree.
pub(super) const PERIODS_BUILT: &[u8] = b"built\x1fperiods-drafts";
/// What a release whose index kept no drafts set once it had built its index: a store it
/// wrote is indexed again (its writes moved no draft entries).
const PERIODS_BUILT_WITHOUT_DRAFTS: &[u8] = b"built\x1fperiods";
const PERIODS_COUNT: &[u8] = b"n\x1fperiods";
/// A period as written in a key: `2026-Q4`.
const PERIOD_LEN: usize = 7;

/// What the index keeps of a response: what the report counts of a response of a period
/// other than the one it shows (its class, the issues named and their ranking).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Kept {
    survey_id: String,
    survey_version: u32,
    area: String,
    status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    replaces: Option<Uuid>,
    /// Only for a response the report counts (complete or refused): the answers to the
    /// issues and class questions, and every plain rank answer.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    answers: BTreeMap<String, StoredAnswer>,
}

/// Whether question `id` is kept whatever its answer (the others only as rank answers).
fn always_kept(id: &str) -> bool {
    id == ISSUES_QUESTION || CLASS_QUESTIONS.contains(&id)
}

fn keeps_answers(status: Status) -> bool {
    matches!(status, Status::Complete | Status::Refused)
}

/// A response's entry in the index: its key and value, and its key among the drafts
/// when it is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) key: Vec<u8>,
    pub(super) value: Vec<u8>,
    pub(super) draft: Option<Vec<u8>>,
}

impl Entry {
    /// Adds the entry to `batch` (a build of the index from scratch).
    pub(super) fn put(self, batch: &mut sled::Batch) {
        if let Some(draft) = self.draft {
            batch.insert(draft, &[][..]);
        }
        batch.insert(self.key, self.value);
    }
}

fn draft_key(status: Status, key: &[u8]) -> Option<Vec<u8>> {
    (status == Status::Draft).then(|| {
        let mut k = DRAFT_PREFIX.to_vec();
        k.extend_from_slice(key);
        k
    })
}

fn period_key(period: Period, key: &[u8]) -> Vec<u8> {
    let mut k = period_prefix(period);
    k.extend_from_slice(key);
    k
}

fn period_prefix(period: Period) -> Vec<u8> {
    let mut k = PERIOD_PREFIX.to_vec();
    k.extend_from_slice(period.to_string().as_bytes());
    k
}

fn unread(key: &[u8]) -> Entry {
    let mut k = UNREAD_PREFIX.to_vec();
    k.extend_from_slice(key);
    Entry {
        key: k,
        value: Vec::new(),
        draft: None,
    }
}

/// The entry of a response about to be written as `response` (keyed by its id).
pub(super) fn entry_of(response: &Response) -> Result<Entry, StoreError> {
    let answers = if keeps_answers(response.status) {
        response
            .answers
            .iter()
            .filter(|(q, a)| {
                always_kept(q) || matches!(a.value, StoredAnswer::Plain(Answer::Rank(_)))
            })
            .map(|(q, a)| (q.clone(), a.value.clone()))
            .collect()
    } else {
        BTreeMap::new()
    };
    let kept = Kept {
        survey_id: response.survey_id.clone(),
        survey_version: response.survey_version,
        area: response.area.clone(),
        status: response.status,
        replaces: response.replaces,
        answers,
    };
    Ok(Entry {
        key: period_key(response.period, response.id.as_bytes()),
        value: encode(&kept)?,
        draft: draft_key(response.status, response.id.as_bytes()),
    })
}

/// The entry of the stored record `bytes` under `key`, and its summary for the counts
/// (`None` when that cannot be read either). A record the index cannot read whole, or an
/// answer it keeps that does not decode, gets an `unread` entry.
pub(super) fn entry_of_bytes(key: &[u8], bytes: &[u8]) -> (Option<ResponseSummary>, Entry) {
    let Ok(stored) = StoredResponse::read(key, bytes) else {
        // The counts read less of a record than the report does.
        let summary = decode::<ResponseSummary>(|| key_name(key), bytes).ok();
        return (summary, unread(key));
    };
    let summary = ResponseSummary {
        id: stored.id,
        survey_id: stored.survey_id.clone(),
        survey_version: stored.survey_version,
        area: stored.area.clone(),
        period: stored.period,
        status: stored.status,
        finalized_at: stored.finalized_at,
        replaces: stored.replaces,
    };
    // Decoded whatever the status, so an answer the report would fail on fails it here too.
    let Ok(answers) = stored.kept_answers(always_kept) else {
        return (Some(summary), unread(key));
    };
    let kept = Kept {
        survey_id: stored.survey_id,
        survey_version: stored.survey_version,
        area: stored.area,
        status: stored.status,
        replaces: stored.replaces,
        answers: if keeps_answers(stored.status) {
            answers
        } else {
            BTreeMap::new()
        },
    };
    match encode(&kept) {
        Ok(value) => (
            Some(summary),
            Entry {
                key: period_key(stored.period, key),
                value,
                draft: draft_key(stored.status, key),
            },
        ),
        Err(_) => (Some(summary), unread(key)),
    }
}

/// Moves the index from entry `old` to entry `new` (inside the transaction that writes
/// the record).
pub(super) fn index_period(
    t: &TransactionalTree,
    old: Option<&Entry>,
    new: Option<&Entry>,
) -> TxResult<()> {
    if old == new {
        return Ok(());
    }
    if let Some(old) = old
        && new.is_none_or(|n| n.key != old.key)
    {
        t.remove(old.key.as_slice())?;
    }
    if let Some(new) = new {
        t.insert(new.key.as_slice(), new.value.as_slice())?;
    }
    let (was, is) = (
        old.and_then(|e| e.draft.as_ref()),
        new.and_then(|e| e.draft.as_ref()),
    );
    if was != is {
        if let Some(k) = was {
            t.remove(k.as_slice())?;
        }
        if let Some(k) = is {
            t.insert(k.as_slice(), &[][..])?;
        }
    }
    super::tallies::add(
        t,
        PERIODS_COUNT,
        i64::from(new.is_some()) - i64::from(old.is_some()),
    )
}

/// A response as a reader of one period gets it (see [`Store::each_in_period`]).
pub enum InPeriod<'a> {
    /// A stored record, read whole (its answers still undecoded).
    Stored(StoredResponse<'a>),
    /// A response of another period as the index keeps it: its survey, area, status,
    /// what it revises, and (complete or refused) the answers to the issues and class
    /// questions and its rank answers. Its other fields are empty (times: 1970).
    Kept(Response),
}

impl InPeriod<'_> {
    /// The response's id, status and what it revises, for a reader that follows revisions.
    pub fn head(&self) -> (Uuid, Status, Option<Uuid>) {
        match self {
            InPeriod::Stored(s) => (s.id, s.status, s.replaces),
            InPeriod::Kept(r) => (r.id, r.status, r.replaces),
        }
    }
}

/// A response as [`Store::each_in_period_unread`] hands it over.
pub enum InPeriodUnread {
    /// A stored record, not parsed yet.
    Record(RawRecord),
    /// A response of another period as the index keeps it (see [`InPeriod::Kept`]).
    Kept(Box<Response>),
}

/// A stored response's key and bytes, as read: owned, so it can be parsed elsewhere.
pub struct RawRecord {
    key: sled::IVec,
    bytes: sled::IVec,
}

impl RawRecord {
    /// The record parsed, its answers still undecoded; `Err` for an unreadable record
    /// (as [`Store::each_in_period`] returns them).
    pub fn read(&self) -> Result<StoredResponse<'_>, StoreError> {
        StoredResponse::read(&self.key, &self.bytes)
    }
}

/// The next entry of one prefix of the index, with the response key it is for.
struct Stream {
    iter: sled::Iter,
    /// Where the response key starts in each key.
    skip: usize,
    /// The period of this stream's entries; `None`: unread entries.
    period: Option<Period>,
    next: Option<(sled::IVec, sled::IVec)>,
}

impl Stream {
    fn advance(&mut self) -> Result<(), StoreError> {
        self.next = self.iter.next().transpose()?;
        Ok(())
    }

    fn response_key(&self) -> Option<&[u8]> {
        self.next.as_ref().and_then(|(k, _)| k.get(self.skip..))
    }
}

impl Store {
    /// Whether a reader of periods can use the index: built (by this release, or by one
    /// that kept no drafts set: its period entries are the same), and kept by every write
    /// since. A store a reader opens is not indexed again until a read-write open.
    fn periods_usable(&self) -> Result<bool, StoreError> {
        let tallies = self.tree(TALLIES)?;
        let built = tallies.get(PERIODS_BUILT)?.is_some()
            || tallies.get(PERIODS_BUILT_WITHOUT_DRAFTS)?.is_some();
        Ok(built && self.periods_counted()?)
    }

    /// The periods the index holds responses of, in order; `None` when a reader cannot use
    /// the index ([`Store::each_in_period_unread`] would read every record whole).
    pub fn periods_indexed_for_reading(&self) -> Result<Option<Vec<Period>>, StoreError> {
        if !self.periods_usable()? {
            return Ok(None);
        }
        self.indexed_periods().map(Some)
    }

    /// Whether the index of periods is to be built again: missing, built by a release that
    /// kept no drafts set, or not kept by every write since it was built (a release
    /// without it wrote the store: the counts moved, it did not). Also what the drafts
    /// set needs.
    pub(super) fn periods_stale(&self) -> Result<bool, StoreError> {
        let tallies = self.tree(TALLIES)?;
        if tallies.get(PERIODS_BUILT)?.is_none()
            || tallies.get(PERIODS_BUILT_WITHOUT_DRAFTS)?.is_some()
        {
            return Ok(true);
        }
        Ok(!self.periods_counted()?)
    }

    /// Whether the index holds as many entries as the store holds responses.
    fn periods_counted(&self) -> Result<bool, StoreError> {
        let tallies = self.tree(TALLIES)?;
        Ok(read_u64(tallies.get(PERIODS_COUNT)?.as_deref()) == self.counted_responses()?)
    }

    /// The keys of the drafts and of the records the index could not read, in key order;
    /// None when the index cannot be read.
    pub(super) fn draft_keys(&self) -> Result<Option<Vec<Vec<u8>>>, StoreError> {
        if self.periods_stale()? {
            return Ok(None);
        }
        let tallies = self.tree(TALLIES)?;
        let mut keys = Vec::new();
        for prefix in [DRAFT_PREFIX, UNREAD_PREFIX] {
            for key in tallies.scan_prefix(prefix).keys() {
                keys.push(key?.get(prefix.len()..).unwrap_or_default().to_vec());
            }
        }
        keys.sort_unstable();
        keys.dedup();
        Ok(Some(keys))
    }

    /// Builds the index of periods afresh from the responses tree, one record at a time
    /// (the tallies are already right).
    pub(super) fn rebuild_periods(&self) -> Result<(), StoreError> {
        let tallies = self.tree(TALLIES)?;
        let mut batch = sled::Batch::default();
        // Not built until the end: a reader meanwhile reads every record.
        batch.remove(PERIODS_BUILT);
        batch.remove(PERIODS_BUILT_WITHOUT_DRAFTS);
        tallies.apply_batch(std::mem::take(&mut batch))?;
        for prefix in [PERIOD_PREFIX, UNREAD_PREFIX, DRAFT_PREFIX] {
            super::tallies::remove_prefix(&tallies, prefix)?;
        }
        let mut pending = 0;
        for entry in self.tree(RESPONSES)?.iter() {
            let (key, value) = entry?;
            let (_, e) = entry_of_bytes(&key, &value);
            e.put(&mut batch);
            pending += 1;
            if pending == super::tallies::REBUILD_SLICE {
                tallies.apply_batch(std::mem::take(&mut batch))?;
                pending = 0;
            }
        }
        self.finish_periods(batch)
    }

    /// Marks the index built, counted as the tallies count (see `rebuild_ids`: an
    /// unreadable record written over later moves the two apart, and the index is built
    /// again at the next read-write open).
    pub(super) fn finish_periods(&self, mut batch: sled::Batch) -> Result<(), StoreError> {
        let tallies = self.tree(TALLIES)?;
        tallies.apply_batch(std::mem::take(&mut batch))?;
        batch.insert(PERIODS_COUNT, &self.counted_responses()?.to_be_bytes());
        batch.insert(PERIODS_BUILT, &[1u8]);
        tallies.apply_batch(batch)?;
        Ok(())
    }

    /// Calls `each` for a reader of `period`: every stored response of `period` read
    /// whole, and (with `others`) every response of any other period as the index keeps
    /// it, all in the order of their keys (oldest first), as [`Store::each_stored_response`]
    /// gives them. Reads only the records of `period` when the index can be read; when it
    /// cannot (a store from before it, opened to read), every record is read whole, of
    /// whatever period, so `each` must look at each one's period. Returns the records
    /// that could not be read.
    pub fn each_in_period(
        &self,
        period: Period,
        others: bool,
        mut each: impl FnMut(InPeriod<'_>) -> Result<(), StoreError>,
    ) -> Result<Vec<StoreError>, StoreError> {
        let mut unreadable = Vec::new();
        self.each_in_period_unread(period, others, |r| match r {
            InPeriodUnread::Record(raw) => match raw.read() {
                Ok(r) => each(InPeriod::Stored(r)),
                Err(e) => {
                    unreadable.push(e);
                    Ok(())
                }
            },
            InPeriodUnread::Kept(r) => each(InPeriod::Kept(*r)),
        })?;
        Ok(unreadable)
    }

    /// Every response, draft or not, in key order (the order [`Store::each_in_period_unread`]
    /// reads in), undecoded.
    pub fn each_response_unread(
        &self,
        mut each: impl FnMut(InPeriodUnread) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for entry in self.tree(RESPONSES)?.iter() {
            let (key, bytes) = entry?;
            each(InPeriodUnread::Record(RawRecord { key, bytes }))?;
        }
        Ok(())
    }

    /// [`Store::each_in_period`] with each stored record handed over still unparsed, so
    /// that another thread can parse it ([`RawRecord::read`]) while this one reads on.
    pub fn each_in_period_unread(
        &self,
        period: Period,
        others: bool,
        mut each: impl FnMut(InPeriodUnread) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        if !self.periods_usable()? {
            return self.each_response_unread(each);
        }
        let tallies = self.tree(TALLIES)?;
        let responses = self.tree(RESPONSES)?;
        let mut streams = Vec::new();
        for p in self.indexed_periods()? {
            if p == period || others {
                streams.push(Stream {
                    iter: tallies.scan_prefix(period_prefix(p)),
                    skip: PERIOD_PREFIX.len() + PERIOD_LEN,
                    period: Some(p),
                    next: None,
                });
            }
        }
        streams.push(Stream {
            iter: tallies.scan_prefix(UNREAD_PREFIX),
            skip: UNREAD_PREFIX.len(),
            period: None,
            next: None,
        });
        for s in &mut streams {
            s.advance()?;
        }
        // The stream whose next response key is the lowest: key order, as a full scan.
        while let Some(i) = (0..streams.len())
            .filter(|&i| streams[i].next.is_some())
            .min_by(|&a, &b| streams[a].response_key().cmp(&streams[b].response_key()))
        {
            let stream = &mut streams[i];
            let Some((key, value)) = stream.next.take() else {
                break;
            };
            let response_key = key.get(stream.skip..).unwrap_or_default();
            match stream.period {
                Some(p) if p != period => {
                    let kept: Kept = decode(|| index_key_name(&key), &value)?;
                    let id = Uuid::from_slice(response_key).map_err(|_| StoreError::Corrupt {
                        key: index_key_name(&key),
                        message: "not a response id".to_owned(),
                    })?;
                    each(InPeriodUnread::Kept(Box::new(kept.response(id, p))))?;
                }
                _ => {
                    // Taken out since it was indexed: only a reader's view, which no
                    // write reaches, gets here, and nothing is there to read.
                    if let Some(bytes) = responses.get(response_key)? {
                        let key = sled::IVec::from(response_key);
                        each(InPeriodUnread::Record(RawRecord { key, bytes }))?;
                    }
                }
            }
            stream.advance()?;
        }
        Ok(())
    }

    /// The periods with any entry in the index, in order: one seek per period.
    fn indexed_periods(&self) -> Result<Vec<Period>, StoreError> {
        let tallies = self.tree(TALLIES)?;
        let mut out = Vec::new();
        let mut from = PERIOD_PREFIX.to_vec();
        while let Some((key, _)) = tallies.range(from.as_slice()..).next().transpose()? {
            if !key.starts_with(PERIOD_PREFIX) {
                break;
            }
            let Some(text) = key.get(PERIOD_PREFIX.len()..PERIOD_PREFIX.len() + PERIOD_LEN) else {
                break;
            };
            let period: Period = std::str::from_utf8(text)
                .ok()
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| StoreError::Corrupt {
                    key: index_key_name(&key),
                    message: "not a period".to_owned(),
                })?;
            out.push(period);
            // Past every key of this period: its last byte, one higher.
            from = period_prefix(period);
            if let Some(last) = from.last_mut() {
                *last += 1;
            }
        }
        Ok(out)
    }

    /// Drafts and finalized responses as the tallies count them.
    fn counted_responses(&self) -> Result<u64, StoreError> {
        let t = self.tallies()?;
        Ok(t.drafts + t.finalized)
    }
}

impl Kept {
    fn response(self, id: Uuid, period: Period) -> Response {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        Response {
            id,
            survey_id: self.survey_id,
            survey_version: self.survey_version,
            fingerprint: String::new(),
            area: self.area,
            period,
            interviewer: String::new(),
            device: String::new(),
            language: String::new(),
            started_at: at,
            changed_at: at,
            finalized_at: None,
            status: self.status,
            answers: self
                .answers
                .into_iter()
                .map(|(q, value)| {
                    (
                        q,
                        AnswerRecord {
                            value,
                            given_at: at,
                            changed_at: at,
                            history: Vec::new(),
                        },
                    )
                })
                .collect(),
            findings: BTreeMap::new(),
            replaces: self.replaces,
            position: None,
            door: None,
            typed: None,
        }
    }
}

/// An index key as named in errors.
fn index_key_name(key: &[u8]) -> String {
    format!("tally {}", String::from_utf8_lossy(key))
}

#[cfg(test)]
impl Store {
    /// Takes the index of periods out, as a store from a release before it would be.
    pub(crate) fn forget_periods(&self) -> Result<(), StoreError> {
        let tallies = self.tree(TALLIES)?;
        for prefix in [PERIOD_PREFIX, UNREAD_PREFIX, DRAFT_PREFIX] {
            for key in tallies.scan_prefix(prefix).keys() {
                tallies.remove(key?)?;
            }
        }
        tallies.remove(PERIODS_BUILT)?;
        tallies.remove(PERIODS_BUILT_WITHOUT_DRAFTS)?;
        tallies.remove(PERIODS_COUNT)?;
        self.flush()
    }

    /// Every entry of the index (and its count and mark), as stored.
    pub(crate) fn period_index(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let tallies = self.tree(TALLIES).unwrap();
        let mut out: Vec<(Vec<u8>, Vec<u8>)> = [PERIOD_PREFIX, UNREAD_PREFIX, DRAFT_PREFIX]
            .into_iter()
            .flat_map(|p| tallies.scan_prefix(p))
            .map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
            .collect();
        for key in [PERIODS_COUNT, PERIODS_BUILT] {
            out.push((
                key.to_vec(),
                tallies
                    .get(key)
                    .unwrap()
                    .map(|v| v.to_vec())
                    .unwrap_or_default(),
            ));
        }
        out
    }

    /// A response's stored bytes, as they are.
    pub(crate) fn raw_response(&self, id: Uuid) -> Vec<u8> {
        let bytes = self.tree(RESPONSES).unwrap().get(id.as_bytes()).unwrap();
        bytes.unwrap().to_vec()
    }

    /// Writes `bytes` over a response's record, as damage that left the store readable
    /// would (its index entries are left as they were).
    pub(crate) fn overwrite_response(&self, id: Uuid, bytes: &[u8]) {
        let responses = self.tree(RESPONSES).unwrap();
        responses.insert(id.as_bytes(), bytes).unwrap();
    }

    /// Whether a reader of one period reads the index (rather than every record).
    pub(crate) fn periods_indexed(&self) -> bool {
        self.periods_usable().unwrap()
    }

    /// Builds the index afresh.
    pub(crate) fn build_periods(&self) {
        self.rebuild_periods().unwrap();
    }

    /// Checks that the index is what building it afresh from the records gives.
    pub(crate) fn assert_periods_in_step(&self) {
        let kept = self.period_index();
        assert!(!self.periods_stale().unwrap());
        self.rebuild_periods().unwrap();
        assert_eq!(kept, self.period_index());
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::response::Env;
    use crate::store::test_support::{new, question};
    use crate::survey::IssueCoding;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 10, 5, 9, 0, 0).unwrap()
    }

    fn kept(store: &Store, id: Uuid) -> Option<(Period, Kept)> {
        let tallies = store.tree(TALLIES).unwrap();
        tallies.scan_prefix(PERIOD_PREFIX).find_map(|e| {
            let (k, v) = e.unwrap();
            (k.ends_with(id.as_bytes())).then(|| {
                let p = std::str::from_utf8(&k[PERIOD_PREFIX.len()..][..PERIOD_LEN])
                    .unwrap()
                    .parse()
                    .unwrap();
                (p, decode(String::new, &v).unwrap())
            })
        })
    }

    /// The drafts as the index finds them, checked against reading every record.
    fn drafts_found(store: &Store) -> Vec<Uuid> {
        assert!(store.draft_keys().unwrap().is_some());
        let ids = |l: crate::store::Listing| -> Vec<Uuid> {
            assert!(l.unreadable.is_empty());
            l.responses.iter().map(|r| r.id).collect()
        };
        let indexed = ids(store.drafts().unwrap());
        store.forget_periods().unwrap();
        assert!(store.draft_keys().unwrap().is_none());
        assert_eq!(ids(store.drafts().unwrap()), indexed);
        store.build_periods();
        indexed
    }

    /// The drafts are found in the index, as they stand after every kind of write; a
    /// store whose index a release without drafts built is indexed again.
    #[test]
    fn drafts_are_found_in_the_index_as_they_stand() {
        let dir = tempfile::tempdir().unwrap();
        let (env, clock) = Env::manual(t0());
        let store = Store::open_with(dir.path(), env.clone()).unwrap();
        assert!(drafts_found(&store).is_empty());
        let a = store.create_draft(new(t0())).unwrap();
        let b = store.create_draft(new(t0() - Duration::days(60))).unwrap();
        let c = store.create_draft(new(t0())).unwrap();
        store
            .record_answer(
                a.id,
                &question("consent"),
                Answer::Choice("yes".into()),
                t0(),
            )
            .unwrap();
        assert_eq!(drafts_found(&store), [a.id, b.id, c.id]);
        store.finalize(a.id, Status::Complete, t0()).unwrap();
        store.abandon_draft(c.id).unwrap();
        assert_eq!(drafts_found(&store), [b.id]);
        clock.advance(Duration::hours(1));
        let rev = store.revise(a.id).unwrap();
        assert_eq!(drafts_found(&store), [b.id, rev.id]);
        store
            .finalize(rev.id, Status::Complete, store.env().now())
            .unwrap();
        store.finalize(b.id, Status::Refused, t0()).unwrap();
        assert!(drafts_found(&store).is_empty());
        let d = store.create_draft(new(t0())).unwrap();

        // An older release built its own index (no drafts in it) and wrote a draft.
        let tallies = store.tree(TALLIES).unwrap();
        tallies
            .insert(PERIODS_BUILT_WITHOUT_DRAFTS, &[1u8])
            .unwrap();
        tallies
            .remove([DRAFT_PREFIX, d.id.as_bytes()].concat())
            .unwrap();
        assert!(store.draft_keys().unwrap().is_none(), "read every record");
        assert!(
            store.periods_usable().unwrap(),
            "its period entries still serve"
        );
        assert_eq!(
            store
                .drafts()
                .unwrap()
                .responses
                .iter()
                .map(|r| r.id)
                .collect::<Vec<_>>(),
            [d.id]
        );
        drop(tallies);
        drop(store);
        // Indexed again at the next read-write open.
        let store = Store::open_with(dir.path(), env).unwrap();
        assert_eq!(drafts_found(&store), [d.id]);
        store.assert_periods_in_step();
    }

    #[test]
    fn the_index_follows_every_write_and_recover_rebuilds_it_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let (env, clock) = Env::manual(t0());
        let store = Store::open_with(dir.path(), env.clone()).unwrap();
        store.assert_periods_in_step();
        let q3 = t0() - Duration::days(60);
        let a = store.create_draft(new(t0())).unwrap();
        let b = store.create_draft(new(q3)).unwrap();
        let c = store.create_draft(new(t0())).unwrap();
        store.assert_periods_in_step();
        let issues = Answer::Issues(IssueCoding {
            issues: vec!["speeding".into()],
            other: None,
        });
        for id in [a.id, b.id] {
            store
                .record_answer(id, &question("consent"), Answer::Choice("yes".into()), t0())
                .unwrap();
            store
                .record_answer(id, &question(ISSUES_QUESTION), issues.clone(), t0())
                .unwrap();
            store
                .record_answer(id, &question("other"), Answer::Text("x".into()), t0())
                .unwrap();
            store
                .record_answer(
                    id,
                    &question("rank"),
                    Answer::Rank(vec!["speeding".into()]),
                    t0(),
                )
                .unwrap();
        }
        // A draft keeps no answers in the index: its answers are compare-and-swaps.
        let (period, draft) = kept(&store, a.id).unwrap();
        assert_eq!(period, "2026-Q4".parse().unwrap());
        assert!(draft.answers.is_empty());
        store.assert_periods_in_step();

        store.finalize(a.id, Status::Complete, t0()).unwrap();
        store.finalize(b.id, Status::Refused, q3).unwrap();
        store.abandon_draft(c.id).unwrap();
        store.assert_periods_in_step();
        let (period, done) = kept(&store, a.id).unwrap();
        assert_eq!(period, "2026-Q4".parse().unwrap());
        assert_eq!(
            done.answers.keys().map(String::as_str).collect::<Vec<_>>(),
            ["consent", "rank", ISSUES_QUESTION]
        );
        let (period, refused) = kept(&store, b.id).unwrap();
        assert_eq!(period, "2026-Q3".parse().unwrap());
        assert_eq!(refused.status, Status::Refused);
        assert!(kept(&store, c.id).unwrap().1.answers.is_empty());

        clock.advance(Duration::hours(1));
        let rev = store.revise(b.id).unwrap();
        store.assert_periods_in_step();
        store
            .record_answer(
                rev.id,
                &question("consent"),
                Answer::Choice("no".into()),
                t0(),
            )
            .unwrap();
        store
            .finalize(rev.id, Status::Complete, store.env().now())
            .unwrap();
        store.assert_periods_in_step();
        let (period, revised) = kept(&store, rev.id).unwrap();
        assert_eq!(period, "2026-Q3".parse().unwrap());
        assert_eq!(revised.replaces, Some(b.id));

        // Recover builds it again, the same: in place, and from the journal alone.
        let index = store.period_index();
        drop(store);
        crate::store::recover(dir.path(), env.clone()).unwrap();
        let store = Store::open_with(dir.path(), env.clone()).unwrap();
        assert_eq!(store.period_index(), index);
        drop(store);
        std::fs::remove_dir_all(dir.path().join(crate::store::STORE_DIR)).unwrap();
        crate::store::recover(dir.path(), env.clone()).unwrap();
        let store = Store::open_with(dir.path(), env).unwrap();
        assert_eq!(store.period_index(), index);
    }

    #[test]
    fn an_older_store_is_read_whole_when_opened_to_read_and_indexed_at_a_read_write_open() {
        let dir = tempfile::tempdir().unwrap();
        let (env, _clock) = Env::manual(t0());
        let store = Store::open_with(dir.path(), env.clone()).unwrap();
        let q4: Period = "2026-Q4".parse().unwrap();
        let a = store.create_draft(new(t0())).unwrap();
        let b = store.create_draft(new(t0() - Duration::days(60))).unwrap();
        store.finalize(a.id, Status::Complete, t0()).unwrap();
        store.finalize(b.id, Status::Complete, t0()).unwrap();
        let seen = |store: &Store| {
            let mut seen = Vec::new();
            store
                .each_in_period(q4, true, |r| {
                    seen.push((r.head().0, matches!(r, InPeriod::Stored(_))));
                    Ok(())
                })
                .unwrap();
            seen
        };
        assert_eq!(seen(&store), [(a.id, true), (b.id, false)]);
        let index = store.period_index();
        store.forget_periods().unwrap();
        drop(store);

        // Read-only, nothing is built: every record is read whole, the same ones in order.
        let reader = Store::open_read_only(dir.path()).unwrap();
        assert!(reader.periods_stale().unwrap());
        assert_eq!(seen(&reader), [(a.id, true), (b.id, true)]);
        drop(reader);

        let store = Store::open_with(dir.path(), env.clone()).unwrap();
        assert_eq!(store.period_index(), index);
        // Counts a release without the index moved, and it did not: built again.
        store
            .tree(TALLIES)
            .unwrap()
            .insert(PERIODS_COUNT, &7u64.to_be_bytes())
            .unwrap();
        assert!(store.periods_stale().unwrap());
        store.flush().unwrap();
        drop(store);
        let reader = Store::open_read_only(dir.path()).unwrap();
        assert_eq!(seen(&reader), [(a.id, true), (b.id, true)]);
        drop(reader);
        let store = Store::open_with(dir.path(), env).unwrap();
        assert_eq!(store.period_index(), index);
    }

    #[test]
    fn a_record_the_index_cannot_read_is_read_and_reported_by_a_reader() {
        let dir = tempfile::tempdir().unwrap();
        let (env, _clock) = Env::manual(t0());
        let store = Store::open_with(dir.path(), env).unwrap();
        let a = store.create_draft(new(t0())).unwrap();
        let b = store.create_draft(new(t0() - Duration::days(60))).unwrap();
        // An answer kept by the index that does not decode, written as a merge writes.
        let bytes = store.read(RESPONSES, b.id.as_bytes()).unwrap().unwrap();
        let mut r: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        r["record"]["status"] = "complete".into();
        r["record"]["answers"]["consent"] = serde_json::json!({"value": {"plain": 3}});
        let broken = serde_json::to_vec(&r).unwrap();
        store
            .apply_writes(
                &[super::super::Write::put(
                    super::super::Tree::Responses,
                    b.id.as_bytes().to_vec(),
                    broken,
                )],
                None,
            )
            .unwrap();
        store.assert_periods_in_step();
        assert!(kept(&store, b.id).is_none());
        let mut seen = Vec::new();
        let unreadable = store
            .each_in_period("2026-Q4".parse().unwrap(), false, |r| {
                seen.push(r.head().0);
                Ok(())
            })
            .unwrap();
        // Read whole, it reads: the answer fails when decoded, as in a full scan.
        assert!(unreadable.is_empty());
        assert_eq!(seen, [a.id, b.id]);
    }
}
