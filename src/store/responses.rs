//! Responses in the store: drafts written answer by answer (each journaled and synced
//! before the call returns), finalized in one write, revised as new records.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use uuid::Uuid;

use super::{FORMAT, JournalEntry, Store, StoreError, decode};
use crate::response::{
    AnswerRecord, Door, NewResponse, Period, Response, ResponseFilter, ResponseSummary, Status,
    StoredAnswer, TypedText,
};
use crate::seal;
use crate::survey::{Answer, Finding, Question};

pub(super) const RESPONSES: &str = "responses";

/// Responses read from the store, and any stored record that could not be read (each
/// error names its record).
#[derive(Debug, Default)]
pub struct Listing {
    pub responses: Vec<Response>,
    pub unreadable: Vec<StoreError>,
}

/// Every response's summary, and any stored record that could not be read.
#[derive(Debug, Default)]
pub struct Summaries {
    pub summaries: Vec<ResponseSummary>,
    pub unreadable: Vec<StoreError>,
}

/// What `input` says of an id: the start of its hex digits (or all 32 of them), lower
/// case, with hyphens and surrounding space dropped; `None` when it is not that.
pub fn id_prefix(input: &str) -> Option<String> {
    let prefix: String = input
        .trim()
        .chars()
        .filter(|c| *c != '-')
        .collect::<String>()
        .to_ascii_lowercase();
    let hex = !prefix.is_empty() && prefix.len() <= 32;
    (hex && prefix.bytes().all(|b| b.is_ascii_hexdigit())).then_some(prefix)
}

impl Store {
    /// Starts a draft and saves it.
    pub fn create_draft(&self, new: NewResponse) -> Result<Response, StoreError> {
        let response = Response::draft(self.env.new_id(), new)?;
        let _guard = self.write_guard();
        self.journaled(&JournalEntry::Draft(response.clone()), || {
            self.put_response(&response)
        })?;
        Ok(response)
    }

    /// Records an answer on a draft; it is on disk (journaled) before this returns. A personal
    /// question's answer is sealed to the coordinator's recipient first; with no recipient
    /// set it is refused with [`StoreError::NoRecipient`] (record [`Answer::Skipped`]
    /// instead, which carries nothing personal).
    pub fn record_answer(
        &self,
        id: Uuid,
        question: &Question,
        answer: Answer,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let _guard = self.write_guard();
        // The stored bytes are kept to write over (no second read on the answer path).
        let (mut response, before) = self.draft_for_edit_raw(id)?;
        let before_summary = ResponseSummary::from(&response);
        let before_entry = super::periods::entry_of(&response)?;
        let value = if question.personal && answer.is_given() {
            let recipient = self.recipient()?.ok_or_else(|| StoreError::NoRecipient {
                question: question.id.clone(),
            })?;
            StoredAnswer::Sealed(seal::seal(&recipient, &answer)?)
        } else {
            StoredAnswer::Plain(answer)
        };
        response.set_answer(&question.id, value.clone(), at);
        let entry = JournalEntry::Answer {
            id,
            question: question.id.clone(),
            value,
            at,
        };
        self.journaled(&entry, || {
            self.put_response_over(&response, &before, &before_summary, &before_entry)
        })
    }

    /// Records (or replaces) the finding on an EVA checklist item.
    pub fn record_finding(
        &self,
        id: Uuid,
        question: &str,
        finding: Finding,
    ) -> Result<(), StoreError> {
        let _guard = self.write_guard();
        let mut response = self.draft_for_edit(id)?;
        let at = self.env.now();
        response
            .findings
            .insert(question.to_owned(), finding.clone());
        response.touch(at);
        let entry = JournalEntry::Finding {
            id,
            question: question.to_owned(),
            finding,
            at,
        };
        self.journaled(&entry, || self.put_response(&response))
    }

    /// Remembers the door a draft was started at.
    pub fn set_door(&self, id: Uuid, door: &crate::response::Door) -> Result<(), StoreError> {
        let _guard = self.write_guard();
        let mut response = self.draft_for_edit(id)?;
        response.door = Some(door.clone());
        let entry = JournalEntry::DraftDoor {
            id,
            door: door.clone(),
        };
        self.journaled(&entry, || self.put_response(&response))
    }

    /// Discards a draft: it is kept, finalized as abandoned and journaled like any finalized
    /// response, never erased.
    pub fn abandon_draft(&self, id: Uuid) -> Result<Response, StoreError> {
        self.finalize(id, Status::Abandoned, self.env.now())
    }

    /// Points the drafts started at door `from` in `area` at door `to` (the door was
    /// corrected). Called under the write guard.
    pub(super) fn move_drafts_at(
        &self,
        area: &str,
        from: &crate::response::Door,
        to: &crate::response::Door,
    ) -> Result<(), StoreError> {
        for s in self.summaries()?.summaries {
            if s.status != Status::Draft || !s.area.eq_ignore_ascii_case(area) {
                continue;
            }
            let Ok(mut draft) = self.get(s.id) else {
                continue;
            };
            if draft.door.as_ref().is_some_and(|d| d.key() == from.key()) {
                draft.door = Some(to.clone());
                self.put_response(&draft)?;
            }
        }
        Ok(())
    }

    /// Remembers the question to resume the draft at. Not journaled: it is where the
    /// screen was, not what the resident said, and it changes at every question. Not
    /// flushed either (it would double the cost of an answer): sled's background flush
    /// and a clean close write it, and a kill can only send the officer back a question
    /// or two.
    pub fn set_position(&self, id: Uuid, question: &str) -> Result<(), StoreError> {
        let _guard = self.write_guard();
        let mut response = self.draft_for_edit(id)?;
        response.position = Some(question.to_owned());
        self.put_response(&response)
    }

    /// Keeps (or with `None` forgets) text typed but not yet confirmed on a draft, so
    /// closing the app does not lose it.
    pub fn set_typed(&self, id: Uuid, typed: Option<TypedText>) -> Result<(), StoreError> {
        let _guard = self.write_guard();
        let mut response = self.draft_for_edit(id)?;
        if response.typed.as_deref() == typed.as_ref() {
            return Ok(());
        }
        response.typed = typed.map(Box::new);
        self.put_response(&response)?;
        self.flush()
    }

    /// Finalizes a draft as complete, refused or abandoned. The journal line is written
    /// and synced first, then the whole record in one sled write: the store never holds
    /// half a draft and half a finalized response.
    pub fn finalize(
        &self,
        id: Uuid,
        status: Status,
        at: DateTime<Utc>,
    ) -> Result<Response, StoreError> {
        if !status.is_final() {
            return Err(StoreError::FinalizeAsDraft { id });
        }
        let _guard = self.write_guard();
        let mut response = self.draft_for_edit(id)?;
        response.finalize(status, at);
        let entry = JournalEntry::Response(response.clone());
        if response.replaces.is_some() {
            // A revision is checked against other revisions of the same response (merged
            // ones, or a conflict of them) as a merged revision is, the way replay does.
            let mut model = super::replay::Model::default();
            model.load_revision(self, &response)?;
            model.apply(entry.clone());
            let writes = model.write_set()?;
            self.journaled(&entry, || self.apply_writes(&writes, None))?;
            return Ok(response);
        }
        self.journaled(&entry, || self.put_response(&response))?;
        Ok(response)
    }

    /// Starts a new draft revision of a finalized response; the original is kept. Each
    /// response can be revised once (revise the revision to change it again).
    pub fn revise(&self, id: Uuid) -> Result<Response, StoreError> {
        let _guard = self.write_guard();
        let original = self.get(id)?;
        if !original.status.is_final() {
            return Err(StoreError::NotFinal { id });
        }
        for entry in self.tree(RESPONSES)?.iter() {
            let (key, value) = entry?;
            let Ok(other) = decode::<Response>(|| key_name(&key), &value) else {
                continue;
            };
            if other.replaces == Some(id) {
                return Err(StoreError::AlreadyRevised { id, by: other.id });
            }
        }
        let revision = original.revision(self.env.new_id(), self.env.now());
        self.journaled(&JournalEntry::Draft(revision.clone()), || {
            self.put_response(&revision)
        })?;
        Ok(revision)
    }

    /// One response.
    pub fn get(&self, id: Uuid) -> Result<Response, StoreError> {
        let bytes = self
            .read(RESPONSES, id.as_bytes())?
            .ok_or(StoreError::NotFound { id })?;
        decode(|| id.to_string(), &bytes)
    }

    /// Calls `read` with one stored record, its answers undecoded: for a reader that needs
    /// a few of them ([`StoredResponse::values`]) rather than the whole response.
    pub fn with_stored<T>(
        &self,
        id: Uuid,
        read: impl FnOnce(StoredResponse<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let bytes = self
            .read(RESPONSES, id.as_bytes())?
            .ok_or(StoreError::NotFound { id })?;
        read(StoredResponse::read(id.as_bytes(), &bytes)?)
    }

    /// The response whose id is `input`, or starts with it (the short id the app shows):
    /// hyphens and case do not matter. Unknown and ambiguous prefixes are errors that say so.
    pub fn resolve_id(&self, input: &str) -> Result<Uuid, StoreError> {
        let trimmed = || input.trim().to_owned();
        match self.ids_starting(RESPONSES, input)? {
            IdPrefix::Bad => Err(StoreError::BadId {
                input: input.to_owned(),
            }),
            IdPrefix::One(id) => Ok(id),
            IdPrefix::None { whole: Some(id) } => Err(StoreError::NotFound { id }),
            IdPrefix::None { whole: None } => Err(StoreError::NoSuchPrefix { prefix: trimmed() }),
            IdPrefix::Many(ids) => Err(StoreError::AmbiguousPrefix {
                prefix: trimmed(),
                ids,
            }),
        }
    }

    /// The ids in `tree` (keyed by UUID bytes) that `input` names: the whole id or its
    /// start, in hex digits, dashes ignored.
    pub(super) fn ids_starting(&self, tree: &str, input: &str) -> Result<IdPrefix, StoreError> {
        let Some(prefix) = id_prefix(input) else {
            return Ok(IdPrefix::Bad);
        };
        // Whole bytes narrow the scan; an odd last digit is checked on the text.
        let bytes: Vec<u8> = (0..prefix.len() / 2)
            .filter_map(|i| u8::from_str_radix(&prefix[2 * i..2 * i + 2], 16).ok())
            .collect();
        let mut ids = Vec::new();
        for key in self.tree(tree)?.scan_prefix(&bytes).keys() {
            let key = key?;
            if let Ok(id) = Uuid::from_slice(&key)
                && id.simple().to_string().starts_with(&prefix)
            {
                ids.push(id);
            }
        }
        Ok(match ids.len() {
            0 => IdPrefix::None {
                whole: Uuid::parse_str(&prefix).ok().filter(|_| prefix.len() == 32),
            },
            1 => IdPrefix::One(ids[0]),
            _ => IdPrefix::Many(ids),
        })
    }

    /// Responses matching the filter, oldest first (UUID v7 order).
    pub fn list(&self, filter: &ResponseFilter) -> Result<Listing, StoreError> {
        let mut listing = Listing::default();
        for entry in self.tree(RESPONSES)?.iter() {
            let (key, value) = entry?;
            match decode::<Response>(|| key_name(&key), &value) {
                Ok(r) if filter.matches(&r) => listing.responses.push(r),
                Ok(_) => {}
                Err(e) => listing.unreadable.push(e),
            }
        }
        Ok(listing)
    }

    /// Calls `each` with every response matching the filter, oldest first, one at a time:
    /// a caller that keeps only what it needs of each reads a store of any size in
    /// bounded memory. Returns the records that could not be read.
    pub fn each_response(
        &self,
        filter: &ResponseFilter,
        mut each: impl FnMut(Response) -> Result<(), StoreError>,
    ) -> Result<Vec<StoreError>, StoreError> {
        let mut unreadable = Vec::new();
        for entry in self.tree(RESPONSES)?.iter() {
            let (key, value) = entry?;
            match decode::<Response>(|| key_name(&key), &value) {
                Ok(r) if filter.matches(&r) => each(r)?,
                Ok(_) => {}
                Err(e) => unreadable.push(e),
            }
        }
        Ok(unreadable)
    }

    /// Calls `each` with every stored response, oldest first, as read from the store's
    /// bytes: its answers are decoded only when asked for ([`StoredResponse::full`],
    /// [`StoredResponse::only`]), which is most of the work of reading a response. Nothing
    /// is kept between calls. Returns the records that could not be read.
    pub fn each_stored_response(
        &self,
        mut each: impl FnMut(StoredResponse<'_>) -> Result<(), StoreError>,
    ) -> Result<Vec<StoreError>, StoreError> {
        let mut unreadable = Vec::new();
        for entry in self.tree(RESPONSES)?.iter() {
            let (key, value) = entry?;
            match StoredResponse::read(&key, &value) {
                Ok(r) => each(r)?,
                Err(e) => unreadable.push(e),
            }
        }
        Ok(unreadable)
    }

    /// A summary of every response, oldest first: what counts need, read without
    /// decoding any answers (a store of 100,000 interviews is mostly answers). A record
    /// that is not well-formed JSON, or whose summary fields are bad, is unreadable.
    pub fn summaries(&self) -> Result<Summaries, StoreError> {
        let mut out = Summaries::default();
        for entry in self.tree(RESPONSES)?.iter() {
            let (key, value) = entry?;
            match decode::<ResponseSummary>(|| key_name(&key), &value) {
                Ok(s) => out.summaries.push(s),
                Err(e) => out.unreadable.push(e),
            }
        }
        Ok(out)
    }

    /// Drafts to resume, oldest first. Finds them in the index of periods, which keeps
    /// the drafts apart, and reads only them (and any record the index could not read);
    /// without the index (a store opened to read before it was built), by every record's
    /// summary. Either way a coordinator's store of a million finalized responses still
    /// opens its drafts and door log at once.
    pub fn drafts(&self) -> Result<Listing, StoreError> {
        if let Some(keys) = self.draft_keys()? {
            let mut listing = Listing::default();
            for key in keys {
                let Some(bytes) = self.read(RESPONSES, &key)? else {
                    continue;
                };
                match decode::<Response>(|| key_name(&key), &bytes) {
                    Ok(r) if r.status == Status::Draft => listing.responses.push(r),
                    Ok(_) => {}
                    Err(e) => listing.unreadable.push(e),
                }
            }
            return Ok(listing);
        }
        let summaries = self.summaries()?;
        let mut listing = Listing {
            unreadable: summaries.unreadable,
            ..Listing::default()
        };
        for s in summaries
            .summaries
            .iter()
            .filter(|s| s.status == Status::Draft)
        {
            match self.get(s.id) {
                Ok(r) => listing.responses.push(r),
                Err(e) => listing.unreadable.push(e),
            }
        }
        Ok(listing)
    }

    fn draft_for_edit(&self, id: Uuid) -> Result<Response, StoreError> {
        self.draft_for_edit_raw(id).map(|(response, _)| response)
    }

    /// A draft, with the bytes it was read from.
    fn draft_for_edit_raw(&self, id: Uuid) -> Result<(Response, sled::IVec), StoreError> {
        let bytes = self
            .read(RESPONSES, id.as_bytes())?
            .ok_or(StoreError::NotFound { id })?;
        let response: Response = decode(|| id.to_string(), &bytes)?;
        if response.status != Status::Draft {
            return Err(StoreError::NotDraft {
                id,
                status: response.status,
            });
        }
        Ok((response, bytes))
    }

    /// Writes a response; the home screen's tallies move with it in the same transaction.
    pub(super) fn put_response(&self, response: &Response) -> Result<(), StoreError> {
        self.put_response_counted(response)
    }
}

/// A stored response with its answers and findings still undecoded (borrowed from the
/// stored bytes): what a reader that needs a few answers of each response reads.
#[derive(Debug, Deserialize)]
pub struct StoredResponse<'a> {
    pub id: Uuid,
    pub survey_id: String,
    pub survey_version: u32,
    pub fingerprint: String,
    pub area: String,
    pub period: Period,
    pub interviewer: String,
    pub device: String,
    pub language: String,
    pub started_at: DateTime<Utc>,
    pub changed_at: DateTime<Utc>,
    pub finalized_at: Option<DateTime<Utc>>,
    pub status: Status,
    #[serde(borrow, deserialize_with = "raw_answers")]
    answers: Vec<(Cow<'a, str>, &'a RawValue)>,
    #[serde(default, borrow)]
    findings: Option<&'a RawValue>,
    pub replaces: Option<Uuid>,
    pub position: Option<String>,
    #[serde(default)]
    pub door: Option<Door>,
    #[serde(default)]
    pub typed: Option<Box<TypedText>>,
}

#[derive(Deserialize)]
struct StoredRecord<'a> {
    format: u32,
    #[serde(borrow)]
    record: StoredResponse<'a>,
}

impl<'a> StoredResponse<'a> {
    pub(super) fn read(key: &[u8], bytes: &'a [u8]) -> Result<StoredResponse<'a>, StoreError> {
        let corrupt = |message: String| StoreError::Corrupt {
            key: key_name(key),
            message,
        };
        // Checked as UTF-8 once, whole: read from bytes, serde_json checks every string
        // and every undecoded answer again. Bytes that are not UTF-8 are read as bytes,
        // for serde_json's own account of where they go wrong.
        let rec: Result<StoredRecord<'a>, _> = match std::str::from_utf8(bytes) {
            Ok(text) => serde_json::from_str(text),
            Err(_) => serde_json::from_slice(bytes),
        };
        let rec = rec.map_err(|e| corrupt(e.to_string()))?;
        if rec.format != FORMAT {
            return Err(corrupt(format!(
                "record format {} is not one this doorstep reads ({FORMAT})",
                rec.format
            )));
        }
        Ok(rec.record)
    }

    /// The answers the index of periods keeps (see [`super::periods`]): those `always`
    /// names, and every plain rank answer, decoded (values only). `Err` when one of them
    /// does not decode. Only answers whose text says `rank` are decoded to be looked at.
    pub(super) fn kept_answers(
        &self,
        always: impl Fn(&str) -> bool,
    ) -> Result<BTreeMap<String, StoredAnswer>, serde_json::Error> {
        let mut out = BTreeMap::new();
        for (question, raw) in &self.answers {
            let text = raw.get();
            let fixed = always(question);
            if !fixed && !text.contains("rank") {
                continue;
            }
            let v: AnswerValue = serde_json::from_str(text)?;
            if fixed || matches!(v.value, StoredAnswer::Plain(Answer::Rank(_))) {
                out.insert(question.to_string(), v.value);
            }
        }
        Ok(out)
    }

    /// The response whole, as [`Store::get`] reads it.
    pub fn full(self) -> Result<Response, StoreError> {
        self.decode(|_| true, true)
    }

    /// The response with only the answers `keep` names decoded (the others left out) and
    /// no findings: for a reader that counts a few answers.
    pub fn only(self, keep: impl Fn(&str) -> bool) -> Result<Response, StoreError> {
        self.decode(keep, false)
    }

    /// The response with only the values of the answers `keep` names decoded, and the
    /// findings if `findings`: for a reader that counts answers' values alone. Each
    /// answer's times and history are not read (the less there is to decode, the faster):
    /// its times are given as the response's `changed_at` and its history as empty.
    pub fn values(
        self,
        keep: impl Fn(&str) -> bool,
        findings: bool,
    ) -> Result<Response, StoreError> {
        let at = self.changed_at;
        self.read_answers(keep, findings, |raw| {
            let v: AnswerValue = serde_json::from_str(raw)?;
            Ok(AnswerRecord {
                value: v.value,
                given_at: at,
                changed_at: at,
                history: Vec::new(),
            })
        })
    }

    fn decode(self, keep: impl Fn(&str) -> bool, findings: bool) -> Result<Response, StoreError> {
        self.read_answers(keep, findings, |raw| serde_json::from_str(raw))
    }

    fn read_answers(
        self,
        keep: impl Fn(&str) -> bool,
        findings: bool,
        answer: impl Fn(&str) -> Result<AnswerRecord, serde_json::Error>,
    ) -> Result<Response, StoreError> {
        let id = self.id;
        let corrupt = |what: &str, e: serde_json::Error| StoreError::Corrupt {
            key: id.to_string(),
            message: format!("{what}: {e}"),
        };
        let mut answers = BTreeMap::new();
        for (question, raw) in self.answers {
            if keep(&question) {
                let record =
                    answer(raw.get()).map_err(|e| corrupt(&format!("answer `{question}`"), e))?;
                answers.insert(question.into_owned(), record);
            }
        }
        let findings = match self.findings.filter(|_| findings) {
            Some(raw) => serde_json::from_str(raw.get()).map_err(|e| corrupt("findings", e))?,
            None => BTreeMap::new(),
        };
        Ok(Response {
            id: self.id,
            survey_id: self.survey_id,
            survey_version: self.survey_version,
            fingerprint: self.fingerprint,
            area: self.area,
            period: self.period,
            interviewer: self.interviewer,
            device: self.device,
            language: self.language,
            started_at: self.started_at,
            changed_at: self.changed_at,
            finalized_at: self.finalized_at,
            status: self.status,
            answers,
            findings,
            replaces: self.replaces,
            position: self.position,
            door: self.door,
            typed: self.typed,
        })
    }
}

/// An answer's value alone (its times and history skipped, not decoded).
#[derive(Deserialize)]
struct AnswerValue {
    value: StoredAnswer,
}

/// The stored answers (a JSON object) as a list of question and undecoded answer, in
/// stored order: walked once, so no map is built, and question ids are borrowed from the
/// stored bytes (a map of `Cow` keys would copy each one).
fn raw_answers<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<(Cow<'de, str>, &'de RawValue)>, D::Error> {
    struct Key<'a>(Cow<'a, str>);
    impl<'de> Deserialize<'de> for Key<'de> {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Key<'de>, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Key<'de>;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a question id")
                }
                fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                    Ok(Key(Cow::Borrowed(v)))
                }
                // An id with an escape in it cannot be borrowed.
                fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                    Ok(Key(Cow::Owned(v.to_owned())))
                }
            }
            d.deserialize_str(V)
        }
    }
    struct Answers;
    impl<'de> serde::de::Visitor<'de> for Answers {
        type Value = Vec<(Cow<'de, str>, &'de RawValue)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map of answers")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
            while let Some((Key(k), v)) = map.next_entry::<Key<'de>, &'de RawValue>()? {
                out.push((k, v));
            }
            Ok(out)
        }
    }
    d.deserialize_map(Answers)
}

/// A response key as the id it holds (or its raw bytes when it is not one).
pub(super) fn key_name(key: &[u8]) -> String {
    Uuid::from_slice(key)
        .map(|u| u.to_string())
        .unwrap_or_else(|_| format!("{key:02x?}"))
}

/// What an id or the start of one names in a tree.
pub(super) enum IdPrefix {
    /// Not hex digits (dashes aside), or longer than an id.
    Bad,
    One(Uuid),
    /// Nothing; `whole` is the id when the input was a whole one.
    None {
        whole: Option<Uuid>,
    },
    Many(Vec<Uuid>),
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::response::Env;
    use crate::store::{StoreState, recover};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 10, 5, 9, 0, 0).unwrap()
    }

    fn new() -> NewResponse {
        NewResponse {
            survey_id: "kin".into(),
            survey_version: 1,
            fingerprint: "f".into(),
            area: "E05000650".into(),
            period: None,
            interviewer: "PC 1".into(),
            device: "d".into(),
            language: "en".into(),
            started_at: t0(),
        }
    }

    #[test]
    fn a_corrupt_stored_record_is_reported_by_id_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(dir.path(), Env::manual(t0()).0).unwrap();
        let good = store.create_draft(new()).unwrap();
        let bad = store.create_draft(new()).unwrap();
        let tree = store.tree(RESPONSES).unwrap();
        for garbage in [&b"{not json"[..], br#"{"format":2,"record":{}}"#] {
            tree.insert(bad.id.as_bytes(), garbage).unwrap();
            let err = store.get(bad.id).unwrap_err();
            assert_eq!(err.exit_code(), crate::exit::DATA_ERR);
            assert!(
                err.to_string()
                    .starts_with(&format!("stored record {} is unreadable", bad.id)),
                "{err}"
            );
            let listing = store.list(&ResponseFilter::default()).unwrap();
            assert_eq!(listing.responses, vec![good.clone()]);
            assert_eq!(listing.unreadable.len(), 1);
            let q = crate::store::test_support::question("q1");
            assert!(
                store
                    .record_answer(bad.id, &q, Answer::YesNo(true), t0())
                    .is_err()
            );
            assert!(store.finalize(bad.id, Status::Complete, t0()).is_err());
            assert_eq!(
                tree.get(bad.id.as_bytes()).unwrap().unwrap().as_ref(),
                garbage
            );
        }
    }

    #[test]
    fn a_stored_response_reads_whole_or_with_only_the_answers_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(dir.path(), Env::manual(t0()).0).unwrap();
        let mut r = store.create_draft(new()).unwrap();
        for (q, a) in [
            ("consent", Answer::Choice("yes".into())),
            ("q\"2", Answer::Text("a \"quoted\" é".into())),
            ("skip", Answer::Skipped),
        ] {
            r.answers.insert(
                q.into(),
                AnswerRecord {
                    value: StoredAnswer::Plain(a),
                    given_at: t0(),
                    changed_at: t0(),
                    history: vec![(t0(), StoredAnswer::Plain(Answer::Skipped))],
                },
            );
        }
        r.findings.insert(
            "litter".into(),
            Finding {
                note: Some("by the bins".into()),
                ..Finding::default()
            },
        );
        store.put_response(&r).unwrap();
        let mut read = Vec::new();
        let unreadable = store
            .each_stored_response(|s| {
                read.push(s.full()?);
                Ok(())
            })
            .unwrap();
        assert!(unreadable.is_empty());
        assert_eq!(read, vec![store.get(r.id).unwrap()]);
        assert_eq!(read, vec![r.clone()]);

        let mut only = Vec::new();
        store
            .each_stored_response(|s| {
                only.push(s.only(|q| q == "consent")?);
                Ok(())
            })
            .unwrap();
        let mut expected = r.clone();
        expected.answers.retain(|q, _| q == "consent");
        expected.findings.clear();
        assert_eq!(only, vec![expected]);

        // A bad answer is named when it is decoded, not before.
        let bytes = store
            .tree(RESPONSES)
            .unwrap()
            .get(r.id.as_bytes())
            .unwrap()
            .unwrap();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let broken = text.replacen(
            r#""value":{"plain":{"type":"choice""#,
            r#""value":{"plain":{"type":"nope""#,
            1,
        );
        assert_ne!(broken, text);
        store
            .tree(RESPONSES)
            .unwrap()
            .insert(r.id.as_bytes(), broken.as_bytes())
            .unwrap();
        let mut skipped = 0;
        store
            .each_stored_response(|s| {
                assert!(s.only(|q| q == "skip").is_ok());
                skipped += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!(skipped, 1);
        let err = store
            .each_stored_response(|s| s.full().map(|_| ()))
            .unwrap_err();
        assert!(err.to_string().contains(&r.id.to_string()), "{err}");
        assert!(err.to_string().contains("answer `consent`"), "{err}");
    }

    #[test]
    fn summaries_match_the_records_and_report_unreadable_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(dir.path(), Env::manual(t0()).0).unwrap();
        let draft = store.create_draft(new()).unwrap();
        let done = store.create_draft(new()).unwrap();
        let done = store.finalize(done.id, Status::Complete, t0()).unwrap();
        let bad = store.create_draft(new()).unwrap();
        store
            .tree(RESPONSES)
            .unwrap()
            .insert(bad.id.as_bytes(), &br#"{"format":1,"record":{"id":"#[..])
            .unwrap();
        let s = store.summaries().unwrap();
        assert_eq!(
            s.summaries,
            vec![ResponseSummary::from(&draft), ResponseSummary::from(&done)]
        );
        assert_eq!(s.unreadable.len(), 1);
        assert!(s.unreadable[0].to_string().contains(&bad.id.to_string()));
    }

    #[test]
    fn recover_restores_a_corrupt_finalized_record_from_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let done = {
            let store = Store::open_with(dir.path(), Env::manual(t0()).0).unwrap();
            let r = store.create_draft(new()).unwrap();
            let done = store.finalize(r.id, Status::Refused, t0()).unwrap();
            store
                .tree(RESPONSES)
                .unwrap()
                .insert(r.id.as_bytes(), &b"\xff\xfe"[..])
                .unwrap();
            store.flush().unwrap();
            done
        };
        let report = recover(dir.path(), Env::manual(t0()).0).unwrap();
        assert_eq!(report.store, StoreState::Healthy);
        assert_eq!(report.responses_restored(), 1);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.get(done.id).unwrap(), done);
    }
}
