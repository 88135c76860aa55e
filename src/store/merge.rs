//! Merging batches into a coordinator's store (tree `merge`), the conflicts that leaves
//! and their resolution. The rules (also in `BATCH_FORMAT.md`):
//!
//! - same response id, same content → duplicate, no change (content ignores where a
//!   screen was: `position`, `typed`);
//! - a revision (`replaces`) supersedes the response it replaces whichever arrives first:
//!   both are kept, and [`Store::active_responses`] leaves out the replaced one;
//! - same id, different content, no revision link → conflict: every version is kept in
//!   the conflict record, and the active one (the one in `responses`) is the version
//!   finalized first (then the smaller content digest), so the order batches arrive in
//!   does not matter; [`Store::resolve_conflict`] picks another;
//! - doors merge by area and door key, knocks by their identity: two laptops on the same
//!   street give one door log, each knock once;
//! - a door correction (`door_edit`) moves the knocks it names to the corrected door,
//!   wherever they are here, and the door it was made from goes once no other knock (and
//!   nothing else, below) keeps it; a knock it names that arrives later lands on the
//!   corrected door; when several changes name a knock the latest (time, then id) decides;
//!   only changes of the knock's own device count: one signed by another device leaves
//!   it where it is;
//! - a door removal (`door_remove`) takes out the knocks it names, and the door when
//!   nothing remains there; another device's knocks at that door stay, and the door with
//!   them. A door stays while it has knocks, or a device's latest correction puts it there,
//!   or a device that sent its `door` record has not corrected it away or removed it
//!   since — see [`super::merge_doors`] for what is kept to make that order-independent;
//! - every merged record remembers each batch and device that carried it;
//! - a batch already merged (same batch id or same digest) changes nothing;
//! - the other device's settings are never imported;
//! - actions of the register merge by the same rules mapped onto their append-only
//!   history: same content is a duplicate, a history that extends another supersedes it,
//!   diverged histories are a conflict (earliest divergent change active) — see
//!   [`super::merge_actions`];
//! - two revisions of one response that do not revise each other (R1 and R2 both
//!   `replaces` R, made on two laptops) are a conflict of revisions, keyed by R: both
//!   kept in the conflict record, the active one (by the same order as above) is in
//!   `responses` and the other is taken out of them, so one interview counts once.
//!   A revision of a revision (R2 replaces R1 replaces R) is a chain, not a conflict.
//!   The conflict is between the heads of the chains: a revision of a revision in such a
//!   conflict (R3 replaces R1, R1 in conflict with R2) joins that side
//!   ([`ConflictVersion::later`]; `side\x1f<uuid>` records which conflict each revision of
//!   it is in), so a side counts only through its last revision and only when it is the
//!   active side; revisions already here that follow a side's last one join it when the
//!   conflict forms, so the arrival order does not matter. A revision finalized on this
//!   machine goes through the same rules with no source (`Model::merge_revision` from
//!   [`Store::finalize`] and from replay), and is recorded as its original's revision
//!   (`revised`) so that a revision merged later finds it (a store from before that
//!   record gets it at its first open and at `recover`: [`super::revisions`]). One that
//!   loses such a conflict is still this machine's work: set aside ([`set_aside`]) it is
//!   counted as not yet exported and exported from the conflict record, so the other side
//!   sees the same conflict.
//!
//! Atomicity: a batch's merge is worked out a slice of records at a time into a scratch
//! database in the data folder (each slice on a model of its own, loaded from the store
//! through what the slices before it staged there), then journaled as one `Merged`
//! entry (fsynced), then copied into sled in slices (the `merge` tree first, responses
//! with their tallies last) and the journal mark after them (see
//! [`Store::apply_staged`]). Nothing of the store is written before the journal line is
//! whole: a crash before it leaves the scratch folder, which the next merge removes (a
//! torn line fails its checksum); a crash after it leaves a journal ahead of the mark,
//! with none, some or all of the writes made, and the next open replays the entry onto
//! that. Applying a `Merged` entry again, whole or over part of itself, gives what
//! applying it once gives, so a replay interrupted in turn is simply done again.
//!
//! Memory: one slice of a batch at a time ([`STAGE_RECORDS`] records). `batch merge`
//! verifies every file first keeping only its manifest and digest (each record checked
//! as it is decoded and let go: a thread verifying holds a file's text and one record),
//! then reads each again a line at a time to merge it (when its bytes are unchanged — the
//! same digest — its answers are not validated twice, nor its record checksums and
//! signature worked out again; a file changed since is refused once read to its end,
//! nothing journaled). A slice holds its records decoded, the records they touch (loaded
//! from the store, not the store's other records) and their encoded writes until they
//! are staged. The `Merged` line is streamed to the journal from the file read once more
//! (not encoded again, not built in memory). A dry run works batches out the same
//! way (see [`DryRun`]). A batch's response ids are looked up in the index of ids (in the
//! tallies tree, see [`Store::may_have_response`]) before the responses: most are new,
//! and finding one missing there reads no leaf of response bodies.
//!
//! Keys in `merge`: `batch\x1f<uuid bytes>` → [`MergedBatch`]; `digest\x1f<digest>` → the
//! batch id; `conflict\x1f<uuid bytes>` → [`Conflict`]; `from\x1f<record key>` → the
//! [`Source`]s that carried a record (record keys `response:<uuid>`, `knock:<uuid>`,
//! `door:<door key>`, `action:<uuid>`, `door-edit:<uuid>`, `door-remove:<uuid>`);
//! `knock-fate\x1f<uuid bytes>` and `door-fate\x1f<door key>` → what corrections and
//! removals decided ([`super::merge_doors`]); `conflict\x1f<uuid bytes>\x1frevisions` → the
//! [`Conflict`] of the revisions of a response; `revised\x1f<uuid bytes>` → the revision that
//! replaces a response; `side\x1f<uuid bytes>` → the response whose conflict of revisions a
//! revision is in; `action\x1f<uuid bytes>` → every version of a merged action
//! ([`super::merge_actions::ActionVersions`]).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::batches::{DevicePin, PinSource};
use super::doors::door_key;
use super::journal::MergedRecords;
use super::replay::{AppendedDoors, Model};
use super::{JournalEntry, JournalMark, Store, StoreError, Write, decode, encode};
use crate::batch::{self, Batch, Counts, Manifest, Record};
use crate::response::{DoorRecord, Response, Status};
use crate::seal::CoordinatorIdentity;
use crate::survey::registry::Registry;

pub(super) const MERGE: &str = "merge";

const BATCH_PREFIX: &[u8] = b"batch\x1f";
const DIGEST_PREFIX: &[u8] = b"digest\x1f";
pub(super) const CONFLICT_PREFIX: &[u8] = b"conflict\x1f";
pub(super) const FROM_PREFIX: &[u8] = b"from\x1f";
const REVISED_PREFIX: &[u8] = b"revised\x1f";
const REVISIONS_SUFFIX: &[u8] = b"\x1frevisions";
/// `side\x1f<uuid bytes>` → the response whose conflict of revisions this revision is in
/// (as a version or a later revision of one).
const SIDE_PREFIX: &[u8] = b"side\x1f";

/// A batch (and the device that wrote it) that carried a record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Source {
    pub device: String,
    pub batch: Uuid,
}

/// What happened to the records of a merged batch, by kind of outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeCounts {
    /// Records this store did not have.
    pub new: u64,
    /// Records it already had, with the same content.
    pub duplicate: u64,
    /// New responses that are a revision of a response here, or that a revision here
    /// already replaces: both kept, the revision active.
    pub superseded: u64,
    /// Responses whose id is here with other content and no revision link.
    pub conflict: u64,
    /// Records not merged (each with its reason in the report).
    pub rejected: u64,
}

/// A batch merged into this store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergedBatch {
    pub batch: Uuid,
    /// [`Batch::digest`]: the same batch file always has the same one.
    pub digest: String,
    pub device: String,
    pub officer: Option<String>,
    pub sequence: u64,
    pub previous: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub merged_at: DateTime<Utc>,
    /// What the manifest announced.
    pub counts: Counts,
    /// What merging it did (as it was when it was merged).
    pub outcome: MergeCounts,
}

impl MergedBatch {
    fn from_manifest(m: &Manifest, digest: &str, merged_at: DateTime<Utc>) -> MergedBatch {
        MergedBatch {
            batch: m.batch,
            digest: digest.to_owned(),
            device: m.device.clone(),
            officer: m.officer.clone(),
            sequence: m.sequence,
            previous: m.previous,
            created_at: m.created_at,
            merged_at,
            counts: m.counts,
            outcome: MergeCounts::default(),
        }
    }
}

/// A record of a batch that was not merged, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// 1-based record number in the batch.
    pub record: usize,
    /// Its line in the signed batch.
    pub line: usize,
    /// `response`, `revision`, `door`, `knock`, `action`, `door_edit` or `door_remove`.
    pub kind: &'static str,
    pub reason: String,
}

/// What merging one batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeResult {
    /// Merged now (or, in a dry run, would be); `batch.outcome` has the counts.
    Merged {
        batch: MergedBatch,
        rejections: Vec<Rejection>,
    },
    /// This batch (same id or same digest) was merged before: nothing changed. Holds the
    /// batch as merged then.
    AlreadyMerged(MergedBatch),
}

/// One version of a conflicting response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictVersion {
    pub response: Response,
    /// [`content_digest`] of the response.
    pub digest: String,
    /// Every batch that carried this version (empty: recorded on this machine).
    pub sources: BTreeSet<Source>,
    /// In a conflict of revisions: the later revisions of this version (a revision of it,
    /// a revision of that, …), oldest first. They are its side: they count when it is the
    /// active version and are taken out of the responses with it when it is not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub later: Vec<Response>,
}

impl ConflictVersion {
    /// The version and its later revisions: the chain whose last one counts.
    pub fn chain(&self) -> impl Iterator<Item = &Response> {
        std::iter::once(&self.response).chain(&self.later)
    }

    /// The revision that counts when this side is active: the last of its chain.
    pub fn head(&self) -> &Response {
        self.later.last().unwrap_or(&self.response)
    }
}

/// Two or more versions of one response id, none revising another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conflict {
    pub id: Uuid,
    /// In a fixed order (finalized first, then by digest), whatever order they came in;
    /// shown as A, B, C …
    pub versions: Vec<ConflictVersion>,
    /// The digest of the version the coordinator chose to keep, if any.
    pub kept: Option<String>,
    /// When the coordinator settled it; cleared when yet another version arrives.
    pub resolved_at: Option<DateTime<Utc>>,
    /// A conflict of revisions: `id` is the response each version `replaces`, and the
    /// versions are different responses (each its own id).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub revisions: bool,
}

impl Conflict {
    /// The index of the active version: the one kept, else the first.
    pub fn active_index(&self) -> usize {
        self.kept
            .as_ref()
            .and_then(|k| self.versions.iter().position(|v| &v.digest == k))
            .unwrap_or(0)
    }

    /// The active version (the one in the responses).
    pub fn active(&self) -> Option<&ConflictVersion> {
        self.versions.get(self.active_index())
    }

    pub fn is_resolved(&self) -> bool {
        self.resolved_at.is_some()
    }

    /// The letter a version is shown with (A for the first).
    pub fn letter(index: usize) -> String {
        match u8::try_from(index) {
            Ok(i) if i < 26 => char::from(b'A' + i).to_string(),
            _ => format!("#{}", index + 1),
        }
    }

    /// The index of the version shown as `letter` (case-insensitive).
    pub fn index_of(&self, letter: &str) -> Option<usize> {
        (0..self.versions.len()).find(|i| Conflict::letter(*i).eq_ignore_ascii_case(letter.trim()))
    }

    fn add(&mut self, version: ConflictVersion) {
        self.versions.push(version);
        self.versions.sort_by(|a, b| {
            order_key(&a.response, &a.digest).cmp(&order_key(&b.response, &b.digest))
        });
    }
}

/// The revisions on the sides of a conflict of revisions that are not the active one.
pub(super) fn set_aside(conflict: &Conflict) -> impl Iterator<Item = &Response> {
    let active = conflict.active_index();
    conflict
        .versions
        .iter()
        .enumerate()
        .filter(move |(i, _)| *i != active)
        .flat_map(|(_, v)| v.chain())
}

/// The conflict of revisions a `merge` tree key names (`conflict\x1f<uuid>\x1frevisions`).
pub(super) fn revisions_of_key(key: &[u8]) -> Option<Uuid> {
    let rest = key
        .strip_prefix(CONFLICT_PREFIX)?
        .strip_suffix(REVISIONS_SUFFIX)?;
    Uuid::from_slice(rest).ok()
}

fn order_key<'a>(r: &Response, digest: &'a str) -> (Option<DateTime<Utc>>, &'a str) {
    (r.finalized_at, digest)
}

/// A gap in a device's chain of merged batches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub device: String,
    /// The sequence numbers below the latest that were never merged.
    pub missing: Vec<u64>,
    /// The latest sequence number merged from the device.
    pub latest: u64,
}

impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list: Vec<String> = self.missing.iter().map(u64::to_string).collect();
        write!(
            f,
            "device {}: batch{} {} of {} missing",
            self.device,
            if self.missing.len() == 1 { "" } else { "es" },
            list.join(", "),
            self.latest
        )
    }
}

/// How the device key of a verified batch stands with this machine's pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinCheck {
    /// It matches the key pinned for the device since then.
    Pinned { since: DateTime<Utc> },
    /// No key is pinned for the device yet: merging (or `batch verify`) pins this one.
    FirstUse,
}

/// A batch file that passed every check.
#[derive(Debug, Clone)]
pub struct Verified {
    pub manifest: Manifest,
    pub digest: String,
    pub encrypted: bool,
    pub pin: PinCheck,
    /// Whether this batch was merged here before (merging it again changes nothing).
    pub already_merged: bool,
}

/// Why a batch file is refused; nothing of it may be merged.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// The manifest, when the file got far enough to have one that can be trusted.
    pub manifest: Option<Manifest>,
    pub encrypted: bool,
    /// Which check refused it (every check before it passed).
    pub stage: Stage,
    /// One sentence each.
    pub reasons: Vec<String>,
}

/// The checks of a batch file, in the order they are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading and opening: identity, header, checksums, signature, counts.
    Open,
    /// Its surveys on this machine and every answer's validation.
    Content,
    /// Its device key against the key pinned for the device.
    DeviceKey,
}

impl Refusal {
    fn new(reason: String) -> Refusal {
        Refusal {
            manifest: None,
            encrypted: false,
            stage: Stage::Open,
            reasons: vec![reason],
        }
    }

    /// The reasons as one sentence.
    pub fn reason(&self) -> String {
        self.reasons.join("; ")
    }
}

/// One batch file's verification.
#[derive(Debug, Clone)]
pub struct FileCheck {
    pub path: PathBuf,
    pub result: Result<Verified, Refusal>,
}

/// A merge worked out without writing: batches are worked out one after another, each
/// seeing what the ones before it would have written. See [`Store::dry_run`].
///
/// Memory is bounded by one slice of a batch, as for a merge: each batch is worked out
/// a slice at a time, and the writes it would make go to a scratch sled database in a
/// temporary folder (removed when the dry run is dropped) that the next slices' and
/// batches' lookups read before the store. Nothing of the store itself is written. A
/// batch that fails part way (a file changed since it was verified) may leave some of
/// its slices there: a dry run that returned an error is not asked for more
/// (`batch merge --dry-run` stops at the error).
pub struct DryRun {
    // Dropped before the folder that holds its files.
    overlay: sled::Db,
    _scratch: tempfile::TempDir,
}

/// The value an overlay holds for a key: what a merge would have written, or that it
/// would have removed the key.
const OVERLAY_PUT: u8 = 1;
const OVERLAY_REMOVED: u8 = 0;

/// A scratch database's page cache: it is read back a batch at a time.
const OVERLAY_CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// Sets an overlay (a merge's or a dry run's) on the store for as long as it lives.
struct OverlayGuard<'a> {
    store: &'a Store,
}

impl<'a> OverlayGuard<'a> {
    fn new(store: &'a Store, overlay: &sled::Db) -> OverlayGuard<'a> {
        *store.overlay_slot() = Some(overlay.clone());
        OverlayGuard { store }
    }
}

impl Drop for OverlayGuard<'_> {
    fn drop(&mut self) {
        *self.store.overlay_slot() = None;
    }
}

impl DryRun {
    fn new() -> Result<DryRun, StoreError> {
        let scratch = tempfile::Builder::new()
            .prefix("doorstep-dry-run.")
            .tempdir()
            .map_err(|e| StoreError::io(std::env::temp_dir(), e))?;
        DryRun::in_folder(scratch)
    }

    /// A scratch database in `scratch` (removed when it is dropped).
    fn in_folder(scratch: tempfile::TempDir) -> Result<DryRun, StoreError> {
        let path = scratch.path().join("overlay");
        let overlay = sled::Config::new()
            .path(&path)
            .cache_capacity(OVERLAY_CACHE_BYTES)
            .flush_every_ms(None)
            .open()
            .map_err(|e| StoreError::Open {
                path,
                message: e.to_string(),
            })?;
        Ok(DryRun {
            overlay,
            _scratch: scratch,
        })
    }

    /// What merging `batch` would do after the batches given before it.
    pub fn merge(&mut self, store: &Store, batch: &Batch) -> Result<MergeResult, StoreError> {
        let meta = MergedBatch::from_manifest(&batch.manifest, &batch.digest, store.env.now());
        let total = batch.records.len() as u64;
        self.stage_batch(
            store,
            meta,
            StagedRecords::Decoded(batch.records.iter()),
            total,
        )
    }

    /// Works a batch out into the overlay a slice at a time, as a merge does (see
    /// [`Store::journal_staged`]), unless the batches before (or the store) have it.
    fn stage_batch(
        &mut self,
        store: &Store,
        meta: MergedBatch,
        records: StagedRecords<'_>,
        total: u64,
    ) -> Result<MergeResult, StoreError> {
        let before = {
            let _overlay = OverlayGuard::new(store, &self.overlay);
            store.merged_before(&meta)?
        };
        if let Some(before) = before {
            return Ok(MergeResult::AlreadyMerged(before));
        }
        let (merged, rejections, _) =
            store.stage_merge(self, meta, records, total, &mut |_, _| {})?;
        Ok(MergeResult::Merged {
            batch: merged,
            rejections,
        })
    }

    /// Keeps `writes` in the overlay, each over what it held for the key.
    fn stage(&self, mut writes: Vec<Write>) -> Result<(), StoreError> {
        for kind in WRITE_ORDER.into_iter().chain([super::Tree::Responses]) {
            let tree = self.overlay.open_tree(tree_name(kind))?;
            let (these, rest): (Vec<Write>, Vec<Write>) =
                writes.into_iter().partition(|w| w.tree == kind);
            writes = rest;
            // In slices, each let go once written, as a merge does: sled keeps every page
            // one `apply_batch` reads until it returns (a whole batch's writes at once held
            // some 600 MB of the overlay's pages at 1,000,000 responses).
            let size = match kind {
                super::Tree::Responses => RESPONSE_SLICE,
                _ => WRITE_SLICE,
            };
            let overlaid = these.into_iter().map(|w| {
                let value = match w.value {
                    Some(v) => {
                        let mut value = Vec::with_capacity(1 + v.len());
                        value.push(OVERLAY_PUT);
                        value.extend_from_slice(&v);
                        value
                    }
                    None => vec![OVERLAY_REMOVED],
                };
                Ok((w.key, Some(value)))
            });
            write_sliced(&tree, overlaid, size)?;
        }
        Ok(())
    }

    /// Every write the overlay holds for the trees of `kind`, in key order.
    fn staged(
        &self,
        kind: super::Tree,
    ) -> Result<impl Iterator<Item = Result<Write, StoreError>> + use<>, StoreError> {
        let tree = self.overlay.open_tree(tree_name(kind))?;
        Ok(tree.iter().map(move |entry| {
            let (key, held) = entry?;
            Ok(Write {
                tree: kind,
                key: key.to_vec(),
                value: overlay_value(&held).map(|v| v.to_vec()),
            })
        }))
    }

    /// [`Store::merge_file`] without writing anything (no device key is pinned either).
    pub fn merge_file(
        &mut self,
        store: &Store,
        path: &Path,
        identity: Option<&CoordinatorIdentity>,
        registry: &Registry,
    ) -> Result<MergeResult, StoreError> {
        self.merge_checked_file(store, path, identity, registry, None)
    }

    /// [`Store::merge_verified_file`] without writing anything.
    pub fn merge_verified_file(
        &mut self,
        store: &Store,
        path: &Path,
        identity: Option<&CoordinatorIdentity>,
        registry: &Registry,
        verified: &Verified,
    ) -> Result<MergeResult, StoreError> {
        self.merge_checked_file(store, path, identity, registry, Some(verified))
    }

    fn merge_checked_file(
        &mut self,
        store: &Store,
        path: &Path,
        identity: Option<&CoordinatorIdentity>,
        registry: &Registry,
        verified: Option<&Verified>,
    ) -> Result<MergeResult, StoreError> {
        let (manifest, digest) = store.checked_again(path, identity, registry, verified)?.0;
        let records = usize::try_from(manifest.counts.total()).unwrap_or(usize::MAX);
        let meta = MergedBatch::from_manifest(&manifest, &digest, store.env.now());
        let lines = FileRecords::open(path, identity, &digest, records)?;
        self.stage_batch(
            store,
            meta,
            StagedRecords::File(Box::new(lines)),
            records as u64,
        )
    }
}

/// A value read through an overlay: what it holds for the key, if anything
/// (`Some(None)`: a batch before would have removed it).
pub(super) fn overlay_value(held: &[u8]) -> Option<sled::IVec> {
    match held.split_first() {
        Some((&OVERLAY_PUT, rest)) => Some(sled::IVec::from(rest)),
        _ => None,
    }
}

/// The content digest of a response: `sha256:` of its JSON without `position` and
/// `typed` (where a screen was, not what was recorded).
pub fn content_digest(r: &Response) -> String {
    let mut c = r.clone();
    c.position = None;
    c.typed = None;
    let json = serde_json::to_vec(&c).unwrap_or_default();
    format!("sha256:{}", batch::to_hex(&Sha256::digest(&json)))
}

/// Where a record's lookups fall: responses by id (time-ordered), then doors and knocks
/// by door key, then actions.
fn lookup_order(r: &Record) -> Vec<u8> {
    let mut key = Vec::with_capacity(24);
    match r {
        Record::Response(r) => {
            key.push(0);
            key.extend_from_slice(r.id.as_bytes());
        }
        Record::Door(d) => {
            key.push(1);
            key.extend(door_key(&d.area, &d.door).unwrap_or_default());
        }
        Record::Knock(k) => {
            key.push(1);
            key.extend(door_key(&k.area, &k.door).unwrap_or_default());
        }
        Record::Action(a) => {
            key.push(2);
            key.extend_from_slice(a.id.as_bytes());
        }
        Record::DoorEdit(e) => {
            key.push(1);
            key.extend(door_key(&e.area, &e.from).unwrap_or_default());
        }
        Record::DoorRemove(r) => {
            key.push(1);
            key.extend(door_key(&r.area, &r.door).unwrap_or_default());
        }
        Record::Setting(_) => key.push(3),
    }
    key
}

/// The key of a record in the merge provenance.
pub(super) fn response_key(id: Uuid) -> Vec<u8> {
    format!("response:{id}").into_bytes()
}

pub(super) fn knock_key(id: Uuid) -> Vec<u8> {
    format!("knock:{id}").into_bytes()
}

pub(super) fn door_record_key(door_key: &[u8]) -> Vec<u8> {
    let mut k = b"door:".to_vec();
    k.extend_from_slice(door_key);
    k
}

/// The key of the conflict of the revisions of response `original` (beside its own
/// conflict, so one scan lists both).
fn revisions_key(original: Uuid) -> Vec<u8> {
    let mut k = prefixed(CONFLICT_PREFIX, original.as_bytes());
    k.extend_from_slice(REVISIONS_SUFFIX);
    k
}

fn prefixed(prefix: &[u8], rest: &[u8]) -> Vec<u8> {
    let mut k = prefix.to_vec();
    k.extend_from_slice(rest);
    k
}

/// A key of the `merge` tree that a merge changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum MergeKey {
    Batch(Uuid),
    Digest(String),
    Conflict(Uuid),
    From(Vec<u8>),
    Revised(Uuid),
    Action(Uuid),
    /// The conflict of the revisions of a response.
    Revisions(Uuid),
    /// Where corrections and removals put a knock.
    KnockFate(Uuid),
    /// What corrections and removals say about a door (by door key).
    DoorFate(Vec<u8>),
    /// Which conflict of revisions a revision is in.
    Side(Uuid),
}

/// The trees a merge writes before the responses (which go last, with their tallies).
const WRITE_ORDER: [super::Tree; 5] = [
    super::Tree::Merge,
    super::Tree::Doors,
    super::Tree::Actions,
    super::Tree::Settings,
    super::Tree::Meta,
];

/// The sled tree of a kind of write.
fn tree_name(t: super::Tree) -> &'static str {
    use super::Tree;
    match t {
        Tree::Responses => super::responses::RESPONSES,
        Tree::Doors => super::doors::DOORS,
        Tree::Settings => super::settings::SETTINGS,
        Tree::Merge => MERGE,
        Tree::Meta => super::META,
        Tree::Actions => super::actions::ACTIONS,
    }
}

/// How many writes of a merge go to sled in one `apply_batch`, and how many bytes at
/// most: sled holds every page one `apply_batch` reads until it returns, and a door
/// record of a store of 1,000,000 responses is tens of kilobytes.
pub(super) const WRITE_SLICE: usize = 1024;
pub(super) const WRITE_SLICE_BYTES: usize = 4 * 1024 * 1024;

/// Writes `writes` (key, and value or `None` to remove) to `tree` in slices of at most
/// `slice` writes or [`WRITE_SLICE_BYTES`] bytes, each let go once sled has it. One
/// `apply_batch` keeps every version of every node it writes until it returns (each write
/// copies its node): a journal line's merge sources written in one held some 320 MB at the
/// peak of recovering a store of 200,000 responses. Not atomic across slices: a merge
/// gets all or nothing from the journal's mark, written after its slices (a replay
/// completes a cut-off merge); recover's scratch trees are never read unless the recover
/// completes; an overlay is read only by its own merge or dry run. The first error stops
/// the writing and is returned.
pub(super) fn write_sliced(
    tree: &sled::Tree,
    writes: impl Iterator<Item = Result<(Vec<u8>, Option<Vec<u8>>), StoreError>>,
    slice: usize,
) -> Result<(), StoreError> {
    let mut batch = sled::Batch::default();
    let (mut n, mut bytes) = (0, 0);
    for write in writes {
        let (key, value) = write?;
        bytes += key.len() + value.as_ref().map_or(0, Vec::len);
        match value {
            Some(v) => batch.insert(key, v),
            None => batch.remove(key),
        }
        n += 1;
        if n >= slice || bytes >= WRITE_SLICE_BYTES {
            tree.apply_batch(std::mem::take(&mut batch))?;
            (n, bytes) = (0, 0);
        }
    }
    if n > 0 {
        tree.apply_batch(batch)?;
    }
    Ok(())
}

/// How many response writes (with their tallies) go to sled in one transaction. Few:
/// sled frees what a transaction's writes replace (versions of leaves of responses)
/// only once the transaction ends: with 256, the transactions of a merge into a store of
/// 1,000,000 responses took the memory up to 120 MB higher for a moment.
const RESPONSE_SLICE: usize = 64;

/// A key and its encoded value.
pub(super) type KeyValue = (Vec<u8>, Vec<u8>);

/// The merge records a journal replay (or a merge being worked out) has touched.
#[derive(Debug, Default)]
pub(super) struct MergeState {
    pub batches: BTreeMap<Uuid, MergedBatch>,
    pub digests: BTreeMap<String, Uuid>,
    pub conflicts: BTreeMap<Uuid, Conflict>,
    pub sources: BTreeMap<Vec<u8>, BTreeSet<Source>>,
    pub revised: BTreeMap<Uuid, Uuid>,
    /// Every version of each merged action the merge touched.
    pub actions: BTreeMap<Uuid, super::merge_actions::ActionVersions>,
    /// Conflicts of revisions, by the response they each replace.
    pub revision_conflicts: BTreeMap<Uuid, Conflict>,
    /// Revisions already here that a merged revision may conflict with (read from the
    /// store for it; never written from here).
    pub siblings: BTreeMap<Uuid, Response>,
    /// Door corrections and removals: by knock, and by door key.
    pub knock_fates: BTreeMap<Uuid, super::merge_doors::KnockFate>,
    pub door_fates: BTreeMap<Vec<u8>, super::merge_doors::DoorFate>,
    /// Areas whose door fates and door sources are loaded (lower case).
    pub door_areas_loaded: BTreeSet<String>,
    /// For each revision in a conflict of revisions, the response the conflict is of.
    pub sides: BTreeMap<Uuid, Uuid>,
    pub changed: BTreeSet<MergeKey>,
}

impl MergeState {
    /// The key and value to write for a changed key (None: nothing to write).
    pub fn write_for(&self, key: &MergeKey) -> Result<Option<KeyValue>, StoreError> {
        Ok(match key {
            MergeKey::Batch(id) => match self.batches.get(id) {
                Some(b) => Some((prefixed(BATCH_PREFIX, id.as_bytes()), encode(b)?)),
                None => None,
            },
            MergeKey::Digest(d) => match self.digests.get(d) {
                Some(id) => Some((prefixed(DIGEST_PREFIX, d.as_bytes()), encode(id)?)),
                None => None,
            },
            MergeKey::Conflict(id) => match self.conflicts.get(id) {
                Some(c) => Some((prefixed(CONFLICT_PREFIX, id.as_bytes()), encode(c)?)),
                None => None,
            },
            MergeKey::From(k) => match self.sources.get(k) {
                Some(s) => Some((prefixed(FROM_PREFIX, k), encode(s)?)),
                None => None,
            },
            MergeKey::Revised(id) => match self.revised.get(id) {
                Some(r) => Some((prefixed(REVISED_PREFIX, id.as_bytes()), encode(r)?)),
                None => None,
            },
            MergeKey::Action(id) => match self.actions.get(id) {
                Some(a) => Some((
                    prefixed(super::merge_actions::ACTION_PREFIX, id.as_bytes()),
                    encode(a)?,
                )),
                None => None,
            },
            MergeKey::Revisions(id) => match self.revision_conflicts.get(id) {
                Some(c) => Some((revisions_key(*id), encode(c)?)),
                None => None,
            },
            MergeKey::KnockFate(id) => match self.knock_fates.get(id) {
                Some(f) => Some((super::merge_doors::knock_fate_key(*id), encode(f)?)),
                None => None,
            },
            MergeKey::DoorFate(k) => match self.door_fates.get(k) {
                Some(f) => Some((super::merge_doors::door_fate_key(k), encode(f)?)),
                None => None,
            },
            MergeKey::Side(id) => match self.sides.get(id) {
                Some(o) => Some((prefixed(SIDE_PREFIX, id.as_bytes()), encode(o)?)),
                None => None,
            },
        })
    }

    /// [`MergeState::write_for`] that takes the record out of the state once encoded.
    pub fn take_write(&mut self, key: &MergeKey) -> Result<Option<KeyValue>, StoreError> {
        let write = self.write_for(key)?;
        match key {
            MergeKey::Batch(id) => drop(self.batches.remove(id)),
            MergeKey::Digest(d) => drop(self.digests.remove(d)),
            MergeKey::Conflict(id) => drop(self.conflicts.remove(id)),
            MergeKey::From(k) => drop(self.sources.remove(k)),
            MergeKey::Revised(id) => drop(self.revised.remove(id)),
            MergeKey::Action(id) => drop(self.actions.remove(id)),
            MergeKey::Revisions(id) => drop(self.revision_conflicts.remove(id)),
            MergeKey::KnockFate(id) => drop(self.knock_fates.remove(id)),
            MergeKey::DoorFate(k) => drop(self.door_fates.remove(k)),
            MergeKey::Side(id) => drop(self.sides.remove(id)),
        }
        Ok(write)
    }

    /// Every key held (recover writes them all into a new store).
    pub fn all_keys(&self) -> Vec<MergeKey> {
        let mut keys: Vec<MergeKey> = Vec::new();
        keys.extend(self.batches.keys().map(|k| MergeKey::Batch(*k)));
        keys.extend(self.digests.keys().map(|k| MergeKey::Digest(k.clone())));
        keys.extend(self.conflicts.keys().map(|k| MergeKey::Conflict(*k)));
        keys.extend(self.sources.keys().map(|k| MergeKey::From(k.clone())));
        keys.extend(self.revised.keys().map(|k| MergeKey::Revised(*k)));
        keys.extend(self.actions.keys().map(|k| MergeKey::Action(*k)));
        keys.extend(
            self.revision_conflicts
                .keys()
                .map(|k| MergeKey::Revisions(*k)),
        );
        keys.extend(self.knock_fates.keys().map(|k| MergeKey::KnockFate(*k)));
        keys.extend(
            self.door_fates
                .keys()
                .map(|k| MergeKey::DoorFate(k.clone())),
        );
        keys.extend(self.sides.keys().map(|k| MergeKey::Side(*k)));
        keys
    }

    pub(super) fn add_source(&mut self, key: Vec<u8>, source: &Source) {
        let set = self.sources.entry(key.clone()).or_default();
        if set.insert(source.clone()) {
            self.changed.insert(MergeKey::From(key));
        }
    }

    /// Loads from the store what `records` of a batch need, unless already held.
    pub fn load_for<'r>(
        &mut self,
        store: &Store,
        batch: &MergedBatch,
        records: impl IntoIterator<Item = &'r Record>,
    ) -> Result<(), StoreError> {
        if !self.batches.contains_key(&batch.batch)
            && let Some(b) = store.merged_batch(batch.batch)?
        {
            self.batches.insert(b.batch, b);
        }
        if !self.digests.contains_key(&batch.digest)
            && let Some(id) = store.merge_get::<Uuid>(DIGEST_PREFIX, batch.digest.as_bytes())?
        {
            self.digests.insert(batch.digest.clone(), id);
        }
        for record in records {
            match record {
                Record::Response(r) => self.load_response_record(store, r)?,
                Record::Door(d) => {
                    if let Ok(key) = door_key(&d.area, &d.door) {
                        self.load_sources(store, door_record_key(&key))?;
                        self.load_door_fate(store, &key)?;
                    }
                }
                Record::Knock(k) => {
                    let id = k.knock.identity(&k.area, &k.door);
                    self.load_sources(store, knock_key(id))?;
                    // A knock a correction moved takes the spelling the corrected door
                    // has now (its fate's), not the one that correction gave it.
                    let targets: Vec<Vec<u8>> = self
                        .load_knock_fate(store, id)?
                        .map(|f| {
                            f.targets()
                                .filter_map(|to| door_key(&to.area, &to.door).ok())
                                .collect()
                        })
                        .unwrap_or_default();
                    let own = door_key(&k.area, &k.door).ok();
                    for key in own.iter().chain(&targets) {
                        self.load_door_fate(store, key)?;
                    }
                }
                Record::DoorEdit(e) => {
                    self.load_sources(store, super::merge_doors::edit_key(e.id))?;
                    self.load_for_door_change(store, &e.area, &e.knocks)?;
                }
                Record::DoorRemove(r) => {
                    self.load_sources(store, super::merge_doors::remove_key(r.id))?;
                    self.load_for_door_change(store, &r.area, &r.knocks)?;
                }
                Record::Setting(_) => {}
                Record::Action(a) => {
                    self.load_action_versions(store, a.id)?;
                    self.load_sources(store, super::merge_actions::action_key(a.id))?;
                }
            }
        }
        Ok(())
    }

    /// Loads what merging response `r` (from a batch, or finalized here) reads.
    pub(super) fn load_response_record(
        &mut self,
        store: &Store,
        r: &Response,
    ) -> Result<(), StoreError> {
        self.load_conflict(store, r.id)?;
        self.load_sources(store, response_key(r.id))?;
        for id in std::iter::once(r.id).chain(r.replaces) {
            self.load_revised(store, id)?;
            self.load_side(store, id)?;
        }
        if let Some(original) = r.replaces {
            self.load_revision_siblings(store, original, r.id)?;
        }
        self.load_chain(store, r.id)
    }

    fn load_revised(&mut self, store: &Store, id: Uuid) -> Result<(), StoreError> {
        if !self.revised.contains_key(&id)
            && let Some(rev) = store.merge_get::<Uuid>(REVISED_PREFIX, id.as_bytes())?
        {
            self.revised.insert(id, rev);
        }
        Ok(())
    }

    /// Loads which conflict of revisions `id` is in, and that conflict.
    fn load_side(&mut self, store: &Store, id: Uuid) -> Result<(), StoreError> {
        if !self.sides.contains_key(&id)
            && let Some(original) = store.merge_get::<Uuid>(SIDE_PREFIX, id.as_bytes())?
        {
            self.sides.insert(id, original);
        }
        if let Some(original) = self.sides.get(&id).copied()
            && !self.revision_conflicts.contains_key(&original)
            && let Some(c) = store.revision_conflict(original)?
        {
            self.revision_conflicts.insert(original, c);
        }
        Ok(())
    }

    /// Loads the revisions here that follow `start` (a revision of it, of that, …), with
    /// where they came from: they join its side if it enters a conflict of revisions.
    fn load_chain(&mut self, store: &Store, start: Uuid) -> Result<(), StoreError> {
        let mut at = start;
        // A chain is a handful of corrections; the bound only guards against a loop.
        for _ in 0..64 {
            self.load_revised(store, at)?;
            let Some(next) = self.revised.get(&at).copied() else {
                break;
            };
            self.load_sources(store, response_key(next))?;
            if let std::collections::btree_map::Entry::Vacant(e) = self.siblings.entry(next) {
                match store.get(next) {
                    Ok(r) => {
                        e.insert(r);
                    }
                    Err(StoreError::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            at = next;
        }
        Ok(())
    }

    /// Loads the conflict of response `id` and the conflict of its revisions, if any.
    pub fn load_conflict(&mut self, store: &Store, id: Uuid) -> Result<(), StoreError> {
        if !self.conflicts.contains_key(&id)
            && let Some(c) = store.merge_get(CONFLICT_PREFIX, id.as_bytes())?
        {
            self.conflicts.insert(id, c);
        }
        if !self.revision_conflicts.contains_key(&id)
            && let Some(c) = store.revision_conflict(id)?
        {
            self.revision_conflicts.insert(id, c);
        }
        Ok(())
    }

    /// Loads what a revision `id` of `original` may conflict with: the conflict of
    /// `original`'s revisions, or the revision of it already here and where that came from.
    fn load_revision_siblings(
        &mut self,
        store: &Store,
        original: Uuid,
        id: Uuid,
    ) -> Result<(), StoreError> {
        if !self.revision_conflicts.contains_key(&original)
            && let Some(c) = store.revision_conflict(original)?
        {
            self.revision_conflicts.insert(original, c);
        }
        let Some(other) = self.revised.get(&original).copied().filter(|o| *o != id) else {
            return Ok(());
        };
        self.load_sources(store, response_key(other))?;
        if let std::collections::btree_map::Entry::Vacant(e) = self.siblings.entry(other) {
            match store.get(other) {
                Ok(r) => {
                    e.insert(r);
                }
                Err(StoreError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        self.load_chain(store, other)
    }

    pub(super) fn load_sources(&mut self, store: &Store, key: Vec<u8>) -> Result<(), StoreError> {
        if !self.sources.contains_key(&key)
            && let Some(s) = store.merge_get::<BTreeSet<Source>>(FROM_PREFIX, &key)?
        {
            self.sources.insert(key, s);
        }
        Ok(())
    }
}

/// What one record's merge did.
pub(super) enum Outcome {
    New,
    Duplicate,
    Superseded,
    Conflict,
}

impl Model {
    /// Applies a batch's records (settings are never imported) and records the batch.
    /// Applying it again changes nothing. Returns the counts and the rejected records.
    /// Records given owned are moved into the model, not copied. (A merge and a replay
    /// apply a batch a slice at a time; tests work one out whole.)
    #[cfg(test)]
    pub(super) fn apply_merge<'a>(
        &mut self,
        batch: &MergedBatch,
        records: impl IntoIterator<Item = Cow<'a, Record>>,
    ) -> (MergeCounts, Vec<Rejection>) {
        let mut counts = MergeCounts::default();
        let mut rejections = Vec::new();
        self.apply_records(batch, records, 0, &mut counts, &mut rejections);
        self.record_batch(batch, counts);
        (counts, rejections)
    }

    /// Applies records of a batch, the first of them its record `first` (0-based),
    /// adding what each did to `counts` and `rejections`; the batch itself is not
    /// recorded (see [`Model::record_batch`]).
    pub(super) fn apply_records<'a>(
        &mut self,
        batch: &MergedBatch,
        records: impl IntoIterator<Item = Cow<'a, Record>>,
        first: usize,
        counts: &mut MergeCounts,
        rejections: &mut Vec<Rejection>,
    ) {
        let source = Source {
            device: batch.device.clone(),
            batch: batch.batch,
        };
        for (i, record) in records.into_iter().enumerate() {
            let i = first + i;
            let kind = record.kind();
            let done = match record {
                Cow::Owned(Record::Response(r)) => self.merge_response(Cow::Owned(r), &source),
                record => match record.as_ref() {
                    Record::Setting(_) => continue,
                    Record::Response(r) => self.merge_response(Cow::Borrowed(r), &source),
                    Record::Door(d) => self.merge_door(&d.area, &d.door, &source),
                    Record::Knock(k) => self.merge_knock(k, &source),
                    Record::Action(a) => self.merge_action(a, &source),
                    Record::DoorEdit(e) => self.merge_door_edit(e, &source),
                    Record::DoorRemove(r) => self.merge_door_remove(r, &source),
                },
            };
            match done {
                Ok(Outcome::New) => counts.new += 1,
                Ok(Outcome::Duplicate) => counts.duplicate += 1,
                Ok(Outcome::Superseded) => counts.superseded += 1,
                Ok(Outcome::Conflict) => counts.conflict += 1,
                Err(reason) => {
                    counts.rejected += 1;
                    rejections.push(Rejection {
                        record: i + 1,
                        line: Batch::line_of(i),
                        kind,
                        reason,
                    });
                }
            }
        }
    }

    /// Records a batch as merged with what merging it did (`counts`), unless recorded.
    pub(super) fn record_batch(&mut self, batch: &MergedBatch, counts: MergeCounts) {
        if let std::collections::btree_map::Entry::Vacant(e) = self.merge.batches.entry(batch.batch)
        {
            let mut recorded = batch.clone();
            recorded.outcome = counts;
            e.insert(recorded);
            self.merge.changed.insert(MergeKey::Batch(batch.batch));
        }
        if !self.merge.digests.contains_key(&batch.digest) {
            self.merge.digests.insert(batch.digest.clone(), batch.batch);
            self.merge
                .changed
                .insert(MergeKey::Digest(batch.digest.clone()));
        }
    }

    fn merge_response(&mut self, r: Cow<'_, Response>, source: &Source) -> Result<Outcome, String> {
        let (id, replaces) = (r.id, r.replaces);
        if !r.status.is_final() {
            return Err(format!(
                "response {} is a draft; only finalized responses are merged",
                id
            ));
        }
        if let Some(done) = self.merge_revision(&r, Some(source)) {
            return done;
        }
        // The digest only matters when the id is here already (rare): not worked out
        // for a new response.
        let key = response_key(id);
        if let Some(conflict) = self.merge.conflicts.get_mut(&id) {
            let digest = content_digest(&r);
            if let Some(v) = conflict.versions.iter_mut().find(|v| v.digest == digest) {
                if v.sources.insert(source.clone()) {
                    self.merge.changed.insert(MergeKey::Conflict(id));
                }
                // A replay onto a merge cut off after its `merge` writes: the conflict is
                // recorded but the responses may still hold the version it displaced.
                if let Some(active) = conflict.active()
                    && self
                        .responses
                        .get(&id)
                        .is_none_or(|held| content_digest(held) != active.digest)
                {
                    self.responses.insert(id, active.response.clone());
                    self.changed_responses.insert(id);
                }
                self.merge.add_source(key, source);
                return Ok(Outcome::Duplicate);
            }
            conflict.add(ConflictVersion {
                later: Vec::new(),
                response: r.into_owned(),
                digest,
                sources: BTreeSet::from([source.clone()]),
            });
            conflict.resolved_at = None;
            if let Some(active) = conflict.active() {
                self.responses.insert(id, active.response.clone());
                self.changed_responses.insert(id);
            }
            self.merge.changed.insert(MergeKey::Conflict(id));
            self.merge.add_source(key, source);
            return Ok(Outcome::Conflict);
        }
        let outcome = match self.responses.get(&id) {
            None => {
                self.responses.insert(id, r.into_owned());
                self.changed_responses.insert(id);
                let mut outcome = Outcome::New;
                if let Some(original) = replaces {
                    // Two revisions of one response: the smaller id is recorded, whatever
                    // the order.
                    let current = self.merge.revised.get(&original).copied();
                    if current.is_none_or(|c| id < c) {
                        self.merge.revised.insert(original, id);
                        self.merge.changed.insert(MergeKey::Revised(original));
                    }
                    if self.responses.contains_key(&original) {
                        outcome = Outcome::Superseded;
                    }
                }
                if self.merge.revised.contains_key(&id) {
                    outcome = Outcome::Superseded;
                }
                outcome
            }
            Some(existing) if existing.status == Status::Draft => {
                return Err(format!(
                    "response {} is a draft being recorded on this machine; it was not replaced",
                    id
                ));
            }
            Some(existing) => {
                let existing_digest = content_digest(existing);
                let digest = content_digest(&r);
                if existing_digest == digest {
                    Outcome::Duplicate
                } else {
                    let mut conflict = Conflict {
                        id,
                        versions: vec![ConflictVersion {
                            later: Vec::new(),
                            response: existing.clone(),
                            digest: existing_digest,
                            sources: self.merge.sources.get(&key).cloned().unwrap_or_default(),
                        }],
                        kept: None,
                        resolved_at: None,
                        revisions: false,
                    };
                    conflict.add(ConflictVersion {
                        later: Vec::new(),
                        response: r.into_owned(),
                        digest,
                        sources: BTreeSet::from([source.clone()]),
                    });
                    if let Some(active) = conflict.active() {
                        self.responses.insert(id, active.response.clone());
                        self.changed_responses.insert(id);
                    }
                    self.merge.conflicts.insert(id, conflict);
                    self.merge.changed.insert(MergeKey::Conflict(id));
                    Outcome::Conflict
                }
            }
        };
        self.merge.add_source(key, source);
        Ok(outcome)
    }

    fn merge_door(
        &mut self,
        area: &str,
        door: &crate::response::Door,
        source: &Source,
    ) -> Result<Outcome, String> {
        let key = door_key(area, door).map_err(|e| e.to_string())?;
        self.merge.add_source(door_record_key(&key), source);
        let spelled = self.merge.spelling(&key).cloned();
        let was_out = self.removed_doors.remove(&key);
        match self.doors.get_mut(&key) {
            Some(existing) => {
                // The same door spelled differently: as the latest correction to it spells
                // it, else the smaller spelling, whatever the order.
                let wanted = spelled.unwrap_or_else(|| door.clone().min(existing.door.clone()));
                if wanted != existing.door && existing.knocks.iter().all(|k| k.id.is_some()) {
                    existing.door = wanted;
                    self.changed_doors.insert(key);
                }
                Ok(Outcome::Duplicate)
            }
            None => {
                self.doors.insert(
                    key.clone(),
                    DoorRecord::new(area.trim(), spelled.unwrap_or_else(|| door.clone())),
                );
                // This device corrected the door away or removed it since: it stays out.
                if !self.door_wanted(&key) {
                    self.doors.remove(&key);
                    if was_out {
                        self.removed_doors.insert(key);
                    }
                    return Ok(Outcome::Superseded);
                }
                self.changed_doors.insert(key);
                Ok(Outcome::New)
            }
        }
    }

    fn merge_knock(&mut self, k: &batch::KnockEntry, source: &Source) -> Result<Outcome, String> {
        door_key(&k.area, &k.door).map_err(|e| e.to_string())?;
        let id = k.knock.identity(&k.area, &k.door);
        self.merge.add_source(knock_key(id), source);
        // A knock that does not name its device is the device's that sent it.
        let mut knock = k.knock.clone();
        knock.device = knock.device.or_else(|| Some(source.device.clone()));
        // A correction or removal of the knock's own device that named it decides where
        // it goes (another device's cannot move it).
        self.merge.keep_knock(id, &knock);
        let placed = self
            .merge
            .knock_fates
            .get(&id)
            .and_then(|f| f.placement(knock.device.as_deref()))
            .map(|to| to.cloned());
        let (area, door) = match placed {
            Some(Some(to)) => (to.area, to.door),
            Some(None) => return Ok(Outcome::Superseded),
            None => (k.area.trim().to_owned(), k.door.clone()),
        };
        let key = door_key(&area, &door).map_err(|e| e.to_string())?;
        let door = self.merge.spelling(&key).cloned().unwrap_or(door);
        self.removed_doors.remove(&key);
        let record = self
            .doors
            .entry(key.clone())
            .or_insert_with(|| DoorRecord::new(&area, door));
        let (area, door) = (record.area.clone(), record.door.clone());
        if record.knocks.iter().any(|x| x.identity(&area, &door) == id) {
            return Ok(Outcome::Duplicate);
        }
        knock.id = Some(id);
        record.add_knock(knock);
        self.knock_ids_added
            .entry(key.clone())
            .or_default()
            .push(id);
        // Knocks at the same moment in a fixed order, whatever order they came in.
        record
            .knocks
            .sort_by_cached_key(|x| (x.at, x.identity(&area, &door)));
        self.changed_doors.insert(key);
        Ok(Outcome::New)
    }

    /// A revision that conflicts with another revision of the same response, or that
    /// revises a revision in such a conflict (see the module notes); None when `r` is
    /// neither (then it is stored as any response). `source`: the batch that carried it;
    /// None for a revision finalized on this machine (it gets no source).
    pub(super) fn merge_revision(
        &mut self,
        r: &Response,
        source: Option<&Source>,
    ) -> Option<Result<Outcome, String>> {
        let original = r.replaces?;
        if let Some(done) = self.extend_side(r, original, source) {
            return Some(done);
        }
        let sources: BTreeSet<Source> = source.into_iter().cloned().collect();
        if let Some(conflict) = self.merge.revision_conflicts.get_mut(&original) {
            let digest = content_digest(r);
            if let Some(v) = conflict.versions.iter_mut().find(|v| v.digest == digest) {
                if let Some(s) = source
                    && v.sources.insert(s.clone())
                {
                    self.merge.changed.insert(MergeKey::Revisions(original));
                }
                if let Some(s) = source {
                    self.merge.add_source(response_key(r.id), s);
                }
                return Some(Ok(Outcome::Duplicate));
            }
            conflict.add(ConflictVersion {
                response: r.clone(),
                digest,
                sources,
                later: Vec::new(),
            });
            conflict.resolved_at = None;
        } else {
            let other = self
                .merge
                .revised
                .get(&original)
                .copied()
                .filter(|o| *o != r.id)?;
            // A merged response already here is a duplicate or a conflict of its own; a
            // revision finalized here is the draft it was.
            if source.is_some() && self.responses.contains_key(&r.id) {
                return None;
            }
            let existing = self
                .responses
                .get(&other)
                .or_else(|| self.merge.siblings.get(&other))
                .filter(|e| e.status.is_final() && e.replaces == Some(original))?
                .clone();
            let mut conflict = Conflict {
                id: original,
                versions: vec![ConflictVersion {
                    digest: content_digest(&existing),
                    sources: self
                        .merge
                        .sources
                        .get(&response_key(other))
                        .cloned()
                        .unwrap_or_default(),
                    response: existing,
                    later: Vec::new(),
                }],
                kept: None,
                resolved_at: None,
                revisions: true,
            };
            conflict.add(ConflictVersion {
                response: r.clone(),
                digest: content_digest(r),
                sources,
                later: Vec::new(),
            });
            self.merge.revision_conflicts.insert(original, conflict);
        }
        if self.merge.revised.get(&original).is_none_or(|c| r.id < *c) {
            self.merge.revised.insert(original, r.id);
            self.merge.changed.insert(MergeKey::Revised(original));
        }
        self.gather_sides(original);
        self.activate_revision(original);
        if let Some(s) = source {
            self.merge.add_source(response_key(r.id), s);
        }
        Some(Ok(Outcome::Conflict))
    }

    /// A revision of a revision that is in a conflict of revisions (a version, or a later
    /// revision of one): it joins that version's side, counting only if that side is the
    /// active one. None when `r` revises no such revision.
    fn extend_side(
        &mut self,
        r: &Response,
        revised: Uuid,
        source: Option<&Source>,
    ) -> Option<Result<Outcome, String>> {
        let original = *self.merge.sides.get(&revised)?;
        let conflict = self.merge.revision_conflicts.get_mut(&original)?;
        let side = conflict
            .versions
            .iter()
            .position(|v| v.chain().any(|m| m.id == revised))?;
        let digest = content_digest(r);
        let held = conflict
            .versions
            .iter()
            .flat_map(ConflictVersion::chain)
            .find(|m| m.id == r.id)
            .map(content_digest);
        if let Some(held) = held {
            if held != digest {
                return Some(Err(format!(
                    "response {} is already here, in the conflict of the revisions of {}, with other content",
                    r.id, original
                )));
            }
            if let Some(s) = source {
                self.merge.add_source(response_key(r.id), s);
            }
            return Some(Ok(Outcome::Duplicate));
        }
        let later = &mut conflict.versions[side].later;
        later.push(r.clone());
        // One order whatever the arrival order: a chain is finalized in turn.
        later.sort_by_key(|a| (a.finalized_at, a.id));
        self.merge.sides.insert(r.id, original);
        self.merge.changed.insert(MergeKey::Side(r.id));
        if self.merge.revised.get(&revised).is_none_or(|c| r.id < *c) {
            self.merge.revised.insert(revised, r.id);
            self.merge.changed.insert(MergeKey::Revised(revised));
        }
        self.gather_sides(original);
        self.activate_revision(original);
        if let Some(s) = source {
            self.merge.add_source(response_key(r.id), s);
        }
        Some(Ok(Outcome::Superseded))
    }

    /// Brings into each side of the conflict of `original`'s revisions the revisions
    /// here that follow its last one (they arrived before the conflict, or before the
    /// revision they follow), and records the side of every revision in it.
    fn gather_sides(&mut self, original: Uuid) {
        let Some(conflict) = self.merge.revision_conflicts.get_mut(&original) else {
            return;
        };
        for v in &mut conflict.versions {
            let mut at = v.head().id;
            for _ in 0..64 {
                let Some(next) = self.merge.revised.get(&at).copied() else {
                    break;
                };
                if v.chain().any(|m| m.id == next) {
                    break;
                }
                let Some(found) = self
                    .responses
                    .get(&next)
                    .or_else(|| self.merge.siblings.get(&next))
                    .filter(|n| n.status.is_final() && n.replaces == Some(at))
                else {
                    break;
                };
                v.later.push(found.clone());
                at = next;
            }
            for m in v.chain() {
                if self.merge.sides.get(&m.id) != Some(&original) {
                    self.merge.sides.insert(m.id, original);
                    self.merge.changed.insert(MergeKey::Side(m.id));
                }
            }
        }
    }

    /// Puts the side of the active version of the conflict of `original`'s revisions (it
    /// and its later revisions) in the responses and takes the other sides out of them.
    fn activate_revision(&mut self, original: Uuid) {
        let Some(conflict) = self.merge.revision_conflicts.get(&original) else {
            return;
        };
        self.merge.changed.insert(MergeKey::Revisions(original));
        let active = conflict.active_index();
        let mut keep = Vec::new();
        let mut out = Vec::new();
        for (i, v) in conflict.versions.iter().enumerate() {
            for m in v.chain() {
                if i == active {
                    keep.push(m.clone());
                } else {
                    out.push(m.id);
                }
            }
        }
        for id in out {
            self.responses.remove(&id);
            self.changed_responses.remove(&id);
            self.removed_responses.insert(id);
        }
        for kept in keep {
            let here = self
                .responses
                .get(&kept.id)
                .is_some_and(|r| content_digest(r) == content_digest(&kept));
            if !here {
                self.removed_responses.remove(&kept.id);
                self.changed_responses.insert(kept.id);
                self.responses.insert(kept.id, kept);
            }
        }
    }

    /// Keeps the version with `digest` active; marks the conflict resolved. `id` names a
    /// response in conflict, or the response whose revisions are in conflict.
    pub(super) fn apply_resolution(&mut self, id: Uuid, digest: &str, at: DateTime<Utc>) {
        let own = self
            .merge
            .conflicts
            .get(&id)
            .is_some_and(|c| c.versions.iter().any(|v| v.digest == digest));
        if !own {
            if let Some(conflict) = self.merge.revision_conflicts.get_mut(&id)
                && conflict.versions.iter().any(|v| v.digest == digest)
            {
                conflict.kept = Some(digest.to_owned());
                conflict.resolved_at = Some(at);
                self.activate_revision(id);
            }
            return;
        }
        let Some(conflict) = self.merge.conflicts.get_mut(&id) else {
            return;
        };
        conflict.kept = Some(digest.to_owned());
        conflict.resolved_at = Some(at);
        if let Some(active) = conflict.active() {
            self.responses.insert(id, active.response.clone());
            self.changed_responses.insert(id);
        }
        self.merge.changed.insert(MergeKey::Conflict(id));
    }
}

impl Store {
    pub(super) fn merge_get<T: serde::de::DeserializeOwned>(
        &self,
        prefix: &[u8],
        rest: &[u8],
    ) -> Result<Option<T>, StoreError> {
        let key = prefixed(prefix, rest);
        match self.read(MERGE, &key)? {
            None => Ok(None),
            Some(bytes) => decode(
                || format!("merge record {}", String::from_utf8_lossy(&key)),
                &bytes,
            )
            .map(Some),
        }
    }

    fn merge_scan<T: serde::de::DeserializeOwned>(
        &self,
        prefix: &[u8],
    ) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        for entry in self.tree(MERGE)?.scan_prefix(prefix) {
            let (key, value) = entry?;
            out.push(decode(
                || format!("merge record {}", String::from_utf8_lossy(&key)),
                &value,
            )?);
        }
        Ok(out)
    }

    /// Checks one batch file completely without changing anything: it opens (identity,
    /// checksums, signature, counts), every survey it used is on this machine and every
    /// answer passes, and its device key is the one pinned for the device (or none is
    /// pinned yet). `Ok` holds the refusal too; `Err` is this store failing.
    pub fn verify_file(
        &self,
        path: &Path,
        identity: Option<&CoordinatorIdentity>,
        registry: &Registry,
    ) -> Result<FileCheck, StoreError> {
        let result = self.check_file_records(path, identity, registry)?.map(
            |(opened, pin)| -> Result<Verified, StoreError> {
                Ok(Verified {
                    already_merged: self
                        .already_merged_as(opened.manifest.batch, &opened.digest)?
                        .is_some(),
                    manifest: opened.manifest,
                    digest: opened.digest,
                    encrypted: opened.encrypted,
                    pin,
                })
            },
        );
        let result = match result {
            Ok(v) => Ok(v?),
            Err(r) => Err(r),
        };
        Ok(FileCheck {
            path: path.to_path_buf(),
            result,
        })
    }

    /// [`Store::verify_file`] for every `*.batch` file in `dir` (not its subfolders),
    /// by file name. Files starting with `.` (such as a half-written export) are skipped.
    pub fn verify_folder(
        &self,
        dir: &Path,
        identity: Option<&CoordinatorIdentity>,
        registry: &Registry,
    ) -> Result<Vec<FileCheck>, StoreError> {
        self.verify_files(&batch_files(dir)?, identity, registry)
    }

    /// [`Store::verify_file`] for each of `paths`, the checks in the order given. Files
    /// are checked [`VERIFY_THREADS`] at a time: reading, decrypting, decoding and
    /// validating a batch is most of a merge's work before anything can be written, and
    /// one thread would leave a coordinator's other core idle meanwhile. Each thread
    /// holds one batch's text and the record it is checking; what a check finds does
    /// not depend on the others.
    pub fn verify_files(
        &self,
        paths: &[PathBuf],
        identity: Option<&CoordinatorIdentity>,
        registry: &Registry,
    ) -> Result<Vec<FileCheck>, StoreError> {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let threads = VERIFY_THREADS.min(paths.len());
        let mut checks: Vec<Option<Result<FileCheck, StoreError>>> =
            std::iter::repeat_with(|| None).take(paths.len()).collect();
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        // A store that cannot be read ends the checks: its error is returned.
                        while !failed.load(Ordering::Relaxed) {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(path) = paths.get(i) else { break };
                            let check = self.verify_file(path, identity, registry);
                            if check.is_err() {
                                failed.store(true, Ordering::Relaxed);
                            }
                            done.push((i, check));
                        }
                        done
                    })
                })
                .collect();
            for worker in workers {
                match worker.join() {
                    Ok(done) => {
                        for (i, check) in done {
                            checks[i] = Some(check);
                        }
                    }
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        });
        // Files are taken in order and each taken is checked, so a file is left
        // unchecked only after one whose check failed: that error is the one returned.
        checks
            .into_iter()
            .map(|check| {
                check.unwrap_or_else(|| {
                    Err(StoreError::Encode("a batch file was left unchecked".into()))
                })
            })
            .collect()
    }

    /// The checks of a batch file after it opened: its content's `problems` (refused
    /// if any), then its device key.
    fn judge_opened(
        &self,
        manifest: &Manifest,
        encrypted: bool,
        problems: Vec<batch::Problem>,
    ) -> Result<Result<PinCheck, Refusal>, StoreError> {
        if !problems.is_empty() {
            return Ok(Err(Refusal {
                manifest: Some(manifest.clone()),
                encrypted,
                stage: Stage::Content,
                reasons: problems.iter().map(ToString::to_string).collect(),
            }));
        }
        self.check_device_key(manifest, encrypted)
    }

    /// [`Store::check_file`] for a file that is only verified: each record is checked
    /// against `registry` as it is read and let go, so a thread checking a batch holds
    /// its text and one decoded record (a batch of 10,000 responses decoded whole is
    /// some hundreds of MB). The same checks, in the same order, as a merge makes.
    fn check_file_records(
        &self,
        path: &Path,
        identity: Option<&CoordinatorIdentity>,
        registry: &Registry,
    ) -> Result<Result<(batch::Opened, PinCheck), Refusal>, StoreError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => return Ok(Err(Refusal::new(format!("cannot be read: {e}")))),
        };
        let mut found = Vec::new();
        let opened = match batch::check_each(bytes, identity, &mut |i, record| {
            batch::record_problems(i, record, registry, &mut found);
        }) {
            Ok(o) => o,
            Err(e) => return Ok(Err(Refusal::new(e.to_string()))),
        };
        let mut problems = batch::survey_problems(&opened.manifest, registry);
        problems.append(&mut found);
        Ok(self
            .judge_opened(&opened.manifest, opened.encrypted, problems)?
            .map(|pin| (opened, pin)))
    }

    /// The last check of a batch file, its device key against the one pinned for its
    /// device: pinned, first use (none pinned yet), or refused (another key pinned, or
    /// the key revoked). `batch verify` asks again for a file that was first use when
    /// checked, once the files before it have pinned their keys.
    pub fn check_device_key(
        &self,
        m: &Manifest,
        encrypted: bool,
    ) -> Result<Result<PinCheck, Refusal>, StoreError> {
        let refuse = |reason: String| Refusal {
            manifest: Some(m.clone()),
            encrypted,
            stage: Stage::DeviceKey,
            reasons: vec![reason],
        };
        let pin = match self.device_pin(&m.device)? {
            Some(pin) if pin.key != m.device_key => {
                let reason = format!(
                    "device `{}` signed this batch with key {}, but this machine pinned {} for it on {}; if that laptop was really given a new key, run `doorstep devices trust {} {}`, otherwise treat the batch as forged",
                    m.device,
                    m.device_key,
                    pin.key,
                    uk_time(pin.since),
                    m.device,
                    m.device_key
                );
                return Ok(Err(refuse(reason)));
            }
            Some(pin) if pin.revoked_at.is_some() => {
                let reason = format!(
                    "the key of device `{}` was revoked on {}; batches signed with it are refused (`doorstep devices trust` to trust it again)",
                    m.device,
                    pin.revoked_at.map(uk_time).unwrap_or_default()
                );
                return Ok(Err(refuse(reason)));
            }
            Some(pin) => PinCheck::Pinned { since: pin.since },
            None => PinCheck::FirstUse,
        };
        Ok(Ok(pin))
    }

    /// Pins the device key of a verified batch when the device has none pinned yet
    /// (trust on first use). Returns whether it pinned.
    pub fn pin_first_use(&self, manifest: &Manifest) -> Result<bool, StoreError> {
        if self.device_pin(&manifest.device)?.is_some() {
            return Ok(false);
        }
        self.put_device_pin(&DevicePin {
            device: manifest.device.clone(),
            key: manifest.device_key.clone(),
            since: self.env.now(),
            source: PinSource::FirstUse,
            revoked_at: None,
        })?;
        Ok(true)
    }

    /// Verifies a batch file again (as [`Store::verify_file`]) and merges it: pins the
    /// device key on first use, then [`Store::merge_batch`]. A refused file is
    /// [`StoreError::BatchRefused`] and changes nothing.
    pub fn merge_file(
        &self,
        path: &Path,
        identity: Option<&CoordinatorIdentity>,
        registry: &Registry,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<MergeResult, StoreError> {
        self.merge_checked_file(path, identity, registry, None, progress)
    }

    /// [`Store::merge_file`] for a file verified just before with [`Store::verify_file`]
    /// (`verified`): its answers are not validated a second time (they passed against
    /// the same surveys) nor its record checksums and signature worked out again (they
    /// cannot fail on the same bytes). Its device key is checked again, and the file is
    /// read (decrypted) to its end to find it still holds the same signed bytes (the same
    /// digest) before anything of it is journaled: a file changed since is refused,
    /// nothing of it merged, to be verified and merged again.
    pub fn merge_verified_file(
        &self,
        path: &Path,
        identity: Option<&CoordinatorIdentity>,
        registry: &Registry,
        verified: &Verified,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<MergeResult, StoreError> {
        self.merge_checked_file(path, identity, registry, Some(verified), progress)
    }

    fn merge_checked_file(
        &self,
        path: &Path,
        identity: Option<&CoordinatorIdentity>,
        registry: &Registry,
        verified: Option<&Verified>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<MergeResult, StoreError> {
        let ((manifest, digest), pin) = self.checked_again(path, identity, registry, verified)?;
        if pin == PinCheck::FirstUse {
            self.pin_first_use(&manifest)?;
        }
        if self.read_only.is_some() {
            return Err(StoreError::ReadOnly);
        }
        let _guard = self.write_guard();
        let records = usize::try_from(manifest.counts.total()).unwrap_or(usize::MAX);
        let (result, pending) =
            self.journal_file_merge(path, identity, &manifest, &digest, records, progress)?;
        self.finish_staged(pending, records as u64, progress)?;
        Ok(result)
    }

    /// The checks of a batch file about to be merged: every check, or for a file
    /// `verified` earlier in this run its device key alone (a key may have been pinned
    /// or revoked since): its records are not checked one by one again, and reading it
    /// to merge it finds whether it still has the bytes verified (its digest). The
    /// file's manifest and digest, and its pin state; a refusal is
    /// [`StoreError::BatchRefused`].
    fn checked_again(
        &self,
        path: &Path,
        identity: Option<&CoordinatorIdentity>,
        registry: &Registry,
        verified: Option<&Verified>,
    ) -> Result<((Manifest, String), PinCheck), StoreError> {
        let refused = |refusal: Refusal| StoreError::BatchRefused {
            path: path.to_path_buf(),
            reason: refusal.reason(),
        };
        match verified {
            Some(v) => match self.check_device_key(&v.manifest, v.encrypted)? {
                Ok(pin) => Ok(((v.manifest.clone(), v.digest.clone()), pin)),
                Err(refusal) => Err(refused(refusal)),
            },
            None => match self.check_file_records(path, identity, registry)? {
                Ok((opened, pin)) => Ok(((opened.manifest, opened.digest), pin)),
                Err(refusal) => Err(refused(refusal)),
            },
        }
    }

    /// [`Store::journal_staged`] of the batch file at `path` (`manifest`, `digest`,
    /// `records` records, as verified): worked out from the file read a line at a time,
    /// then journaled from it read once more. The caller holds the write guard.
    fn journal_file_merge(
        &self,
        path: &Path,
        identity: Option<&CoordinatorIdentity>,
        manifest: &Manifest,
        digest: &str,
        records: usize,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(MergeResult, Option<StagedPending>), StoreError> {
        let meta = MergedBatch::from_manifest(manifest, digest, self.env.now());
        let lines = FileRecords::open(path, identity, digest, records)?;
        self.journal_staged(
            meta,
            StagedRecords::File(Box::new(lines)),
            records as u64,
            &mut |merged| {
                let mut lines = FileRecords::open(path, identity, digest, records)?;
                self.journal_guard()
                    .append_merged(merged, MergedRecords::Lines(&mut lines))
            },
            progress,
        )
    }

    /// Merges one batch that has been verified (see [`Store::verify_file`]): all of it or,
    /// if anything fails or the process dies, none of it (see the module notes).
    /// `progress(done, total)` is called as records are worked out and once more when
    /// they are written. A batch merged before changes nothing.
    pub fn merge_batch(
        &self,
        batch: &Batch,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<MergeResult, StoreError> {
        if self.read_only.is_some() {
            return Err(StoreError::ReadOnly);
        }
        let _guard = self.write_guard();
        let (result, pending) = self.journal_batch_merge(batch, progress)?;
        self.finish_staged(pending, batch.records.len() as u64, progress)?;
        Ok(result)
    }

    /// [`Store::journal_staged`] of a batch's decoded records. The caller holds the
    /// write guard.
    fn journal_batch_merge(
        &self,
        batch: &Batch,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(MergeResult, Option<StagedPending>), StoreError> {
        let meta = MergedBatch::from_manifest(&batch.manifest, &batch.digest, self.env.now());
        self.journal_staged(
            meta,
            StagedRecords::Decoded(batch.records.iter()),
            batch.records.len() as u64,
            &mut |merged| {
                self.journal_guard()
                    .append_merged(merged, MergedRecords::Decoded(&batch.records))
            },
            progress,
        )
    }

    /// Works out a batch's merge (`meta`, its `records`, `total` of them) a slice of
    /// [`STAGE_RECORDS`] records at a time, so that its memory is one slice and not the
    /// batch: each slice is worked out on a model of its own and the writes it calls for
    /// go to a scratch database beside the store, which the next slices' lookups read
    /// first (as a dry run's do). Only once every record is worked out (and, for a file,
    /// read to its end and found to be the bytes verified) is the merge journaled by
    /// `journal` (fsynced). Returns the result and, unless the batch was merged before,
    /// the scratch database with the journal mark and the doors only given knocks, for
    /// [`Store::finish_staged`]. Until the journal line is whole the store is
    /// untouched: a failure or a kill before it leaves nothing but the scratch folder,
    /// removed by the next merge. The caller holds the write guard.
    fn journal_staged(
        &self,
        meta: MergedBatch,
        records: StagedRecords<'_>,
        total: u64,
        journal: &mut dyn FnMut(&MergedBatch) -> Result<JournalMark, StoreError>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(MergeResult, Option<StagedPending>), StoreError> {
        if let Some(before) = self.merged_before(&meta)? {
            return Ok((MergeResult::AlreadyMerged(before), None));
        }
        let stage = DryRun::in_folder(self.merge_scratch()?)?;
        let (merged, rejections, appended) =
            self.stage_merge(&stage, meta, records, total, progress)?;
        let mark = journal(&merged)?;
        let result = MergeResult::Merged {
            batch: merged,
            rejections,
        };
        Ok((result, Some((stage, mark, appended))))
    }

    /// The batch merged here before as `meta` is (the same digest or the same batch
    /// id), read through an overlay if one is set.
    fn merged_before(&self, meta: &MergedBatch) -> Result<Option<MergedBatch>, StoreError> {
        let mut model = Model::default();
        model.merge.load_for(self, meta, [])?;
        let id = model.merge.digests.get(&meta.digest).copied().or_else(|| {
            model
                .merge
                .batches
                .contains_key(&meta.batch)
                .then_some(meta.batch)
        });
        Ok(id.map(|id| {
            model
                .merge
                .batches
                .remove(&id)
                .unwrap_or_else(|| meta.clone())
        }))
    }

    /// Works `records` of a batch not merged before (`meta`, `total` records) out into
    /// `stage` a slice at a time (see [`Store::journal_staged`]), the batch's own record
    /// last. Returns the batch as merged, the records rejected, and the doors the merge
    /// only gives knocks.
    fn stage_merge(
        &self,
        stage: &DryRun,
        meta: MergedBatch,
        mut records: StagedRecords<'_>,
        total: u64,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(MergedBatch, Vec<Rejection>, AppendedDoors), StoreError> {
        let mut counts = MergeCounts::default();
        let mut rejections = Vec::new();
        // Doors only given knocks, by every slice; and doors a slice wrote otherwise
        // (then the door's knocks are compared with the store's when the merge is applied).
        let mut appended = AppendedDoors::new();
        let mut rewritten = BTreeSet::new();
        let mut done = 0usize;
        {
            let _overlay = OverlayGuard::new(self, &stage.overlay);
            loop {
                let slice = records.next_slice(self.merge_slice())?;
                if slice.is_empty() {
                    break;
                }
                let n = slice.len();
                let mut model = Model::default();
                // Looked up in key order, one tree after the other: neighbouring lookups
                // fall in the same sled leaf (UUID v7 ids are time-ordered). Applied below
                // in the batch's own order.
                let mut order: Vec<(Vec<u8>, &Record)> = slice
                    .iter()
                    .map(|r| (lookup_order(r), r.as_ref()))
                    .collect();
                order.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                let order: Vec<&Record> = order.into_iter().map(|(_, r)| r).collect();
                model.load_records(self, order.iter().copied())?;
                model.merge.load_for(self, &meta, order)?;
                model.apply_records(&meta, slice, done, &mut counts, &mut rejections);
                let writes = model.take_write_set()?;
                for w in writes.iter().filter(|w| w.tree == super::Tree::Doors) {
                    if !model.appended.contains_key(&w.key) {
                        rewritten.insert(w.key.clone());
                    }
                }
                for (key, a) in std::mem::take(&mut model.appended) {
                    match appended.entry(key) {
                        std::collections::btree_map::Entry::Vacant(e) => {
                            e.insert(a);
                        }
                        std::collections::btree_map::Entry::Occupied(mut e) => {
                            let held = &mut e.get_mut().added;
                            for id in a.added {
                                if !held.contains(&id) {
                                    held.push(id);
                                }
                            }
                        }
                    }
                }
                drop(model);
                stage.stage(writes)?;
                done += n;
                progress((done as u64).min(total), total);
            }
        }
        appended.retain(|key, _| !rewritten.contains(key));
        let mut merged = meta;
        merged.outcome = counts;
        let mut model = Model::default();
        model.record_batch(&merged, counts);
        stage.stage(model.take_write_set()?)?;
        Ok((merged, rejections, appended))
    }

    /// Makes a journaled merge's writes, then its mark, and flushes (see
    /// [`Store::apply_staged`]); the scratch database goes after.
    fn finish_staged(
        &self,
        pending: Option<StagedPending>,
        total: u64,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), StoreError> {
        if let Some((stage, mark, appended)) = pending {
            self.apply_staged(&stage, mark, &appended)?;
            drop(stage);
            self.flush()?;
            progress(total, total);
        }
        Ok(())
    }

    /// Sets how many records of a batch a merge works out at a time (at least one; by
    /// default [`STAGE_RECORDS`]): fewer hold less memory and look up less at once. What
    /// a merge does does not depend on it.
    pub fn set_merge_slice(&self, records: usize) {
        self.merge_slice
            .store(records.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    pub(super) fn merge_slice(&self) -> usize {
        self.merge_slice.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A new scratch folder for a merge's [`DryRun`] database, in the data folder (on
    /// the store's disk, not a temporary folder that may be memory), after removing any
    /// a merge killed before its end left there.
    fn merge_scratch(&self) -> Result<tempfile::TempDir, StoreError> {
        let dir = &self.data_dir;
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                if name.to_string_lossy().starts_with(MERGE_SCRATCH) {
                    let path = entry.path();
                    std::fs::remove_dir_all(&path).map_err(|e| StoreError::io(&path, e))?;
                }
            }
        }
        tempfile::Builder::new()
            .prefix(MERGE_SCRATCH)
            .tempdir_in(dir)
            .map_err(|e| StoreError::io(dir, e))
    }

    /// Copies a journaled merge worked out into `stage` into the store, then its mark:
    /// the `merge` tree first, then doors, actions, settings and meta, then responses
    /// with the tallies they move (each slice one transaction of the two trees, so the
    /// counts never disagree with the records), and the journal mark last. What it
    /// changes in the record of what is not yet exported is worked out first, from the
    /// store as it was.
    ///
    /// A kill in between leaves a store with part of the merge and a mark before its
    /// journal line (sled brings back a prefix of its writes, which the answer path
    /// relies on too), so the next open replays the `Merged` entry onto it. Replaying
    /// onto part of a merge completes it: every rule is idempotent (sources, knocks and
    /// conflict versions are sets, revisions keep the smallest id), and since the
    /// `merge` tree goes first a conflict's versions are never lost — a replay that
    /// finds a conflict's version already recorded puts its active version back into
    /// the responses (see `merge_response`).
    fn apply_staged(
        &self,
        stage: &DryRun,
        mark: JournalMark,
        appended: &AppendedDoors,
    ) -> Result<(), StoreError> {
        use sled::Transactional;
        if self.read_only.is_some() {
            return Err(StoreError::ReadOnly);
        }
        let staged_responses = stage.overlay.open_tree(tree_name(super::Tree::Responses))?;
        let pending = {
            // Every write but the responses' values (read from the stage when needed).
            let mut writes = Vec::new();
            for kind in WRITE_ORDER {
                for w in stage.staged(kind)? {
                    let mut w = w?;
                    // Held for the whole batch, so without the values that index does
                    // not read: the record of a door the merge only adds knocks to
                    // (every knock made there, growing with the store) and a record's
                    // provenance (its key is what is read).
                    let key_alone = match kind {
                        super::Tree::Doors => appended.contains_key(&w.key),
                        super::Tree::Merge => w.key.starts_with(FROM_PREFIX),
                        _ => false,
                    };
                    if key_alone && let Some(value) = &mut w.value {
                        *value = Vec::new();
                    }
                    writes.push(w);
                }
            }
            for entry in staged_responses.iter().keys() {
                writes.push(Write {
                    tree: super::Tree::Responses,
                    key: entry?.to_vec(),
                    value: None,
                });
            }
            self.pending_changes_staged(&writes, appended, Some(&staged_responses))?
        };
        for kind in WRITE_ORDER {
            let tree = self.tree(tree_name(kind))?;
            let these = stage.staged(kind)?.map(|w| w.map(|w| (w.key, w.value)));
            write_sliced(&tree, these, WRITE_SLICE)?;
        }
        let responses = self.tree(super::responses::RESPONSES)?;
        let tallies = self.tree(super::tallies::TALLIES)?;
        let mut staged = stage.staged(super::Tree::Responses)?;
        loop {
            let slice = staged
                .by_ref()
                .take(RESPONSE_SLICE)
                .collect::<Result<Vec<Write>, StoreError>>()?;
            if slice.is_empty() {
                break;
            }
            let result: Result<(), sled::transaction::TransactionError<()>> =
                (&responses, &tallies).transaction(|(r, t)| {
                    for w in &slice {
                        let old = match &w.value {
                            Some(v) => r.insert(w.key.as_slice(), v.as_slice())?,
                            None => r.remove(w.key.as_slice())?,
                        };
                        super::tallies::count_write(t, &w.key, old.as_deref(), w.value.as_deref())?;
                    }
                    Ok(())
                });
            super::transaction_result(result)?;
        }
        let result: Result<(), sled::transaction::TransactionError<()>> =
            tallies.transaction(|t| super::own::apply_pending(t, &pending));
        super::transaction_result(result)?;
        self.put_mark(mark)
    }

    /// A dry run: [`DryRun::merge`] works out each batch in turn, writing nothing to
    /// this store (what it would write is kept aside in a temporary folder).
    pub fn dry_run(&self) -> Result<DryRun, StoreError> {
        DryRun::new()
    }

    /// The batch merged here with this id, if any.
    pub fn merged_batch(&self, id: Uuid) -> Result<Option<MergedBatch>, StoreError> {
        self.merge_get(BATCH_PREFIX, id.as_bytes())
    }

    /// The batch merged here before that is `batch` (same id or same digest), if any.
    pub fn already_merged(&self, batch: &Batch) -> Result<Option<MergedBatch>, StoreError> {
        self.already_merged_as(batch.manifest.batch, &batch.digest)
    }

    /// [`Store::already_merged`] for the batch with id `batch` and digest `digest`.
    pub fn already_merged_as(
        &self,
        batch: Uuid,
        digest: &str,
    ) -> Result<Option<MergedBatch>, StoreError> {
        if let Some(b) = self.merged_batch(batch)? {
            return Ok(Some(b));
        }
        match self.merge_get::<Uuid>(DIGEST_PREFIX, digest.as_bytes())? {
            Some(id) => self.merged_batch(id),
            None => Ok(None),
        }
    }

    /// Every batch merged here, by device then sequence.
    pub fn merged_batches(&self) -> Result<Vec<MergedBatch>, StoreError> {
        let mut out: Vec<MergedBatch> = self.merge_scan(BATCH_PREFIX)?;
        out.sort_by(|a, b| (&a.device, a.sequence).cmp(&(&b.device, b.sequence)));
        Ok(out)
    }

    /// The gaps in each device's chain of merged batches ("device X: batch 3 of 5
    /// missing"), by device.
    pub fn batch_gaps(&self) -> Result<Vec<Gap>, StoreError> {
        let mut by_device: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
        for b in self.merged_batches()? {
            by_device.entry(b.device).or_default().insert(b.sequence);
        }
        let mut gaps = Vec::new();
        for (device, seqs) in by_device {
            let latest = seqs.iter().next_back().copied().unwrap_or(0);
            let missing: Vec<u64> = (1..latest).filter(|s| !seqs.contains(s)).collect();
            if !missing.is_empty() {
                gaps.push(Gap {
                    device,
                    missing,
                    latest,
                });
            }
        }
        Ok(gaps)
    }

    /// The conflict for a response id, if there is one (resolved or not): its own, else
    /// the conflict of its revisions.
    pub fn conflict(&self, id: Uuid) -> Result<Option<Conflict>, StoreError> {
        match self.merge_get(CONFLICT_PREFIX, id.as_bytes())? {
            Some(c) => Ok(Some(c)),
            None => self.revision_conflict(id),
        }
    }

    /// The conflict of the revisions of response `original`, if there is one.
    pub fn revision_conflict(&self, original: Uuid) -> Result<Option<Conflict>, StoreError> {
        match self.read(MERGE, &revisions_key(original))? {
            None => Ok(None),
            Some(bytes) => decode(
                || format!("merge record conflict of the revisions of {original}"),
                &bytes,
            )
            .map(Some),
        }
    }

    /// The revisions set aside by conflicts of revisions: every revision on a side that
    /// is not the active one (they are out of the responses, kept in the conflict record).
    pub(super) fn set_aside_revisions(&self) -> Result<Vec<Response>, StoreError> {
        let mut out = Vec::new();
        for conflict in self.conflicts()?.into_iter().filter(|c| c.revisions) {
            out.extend(set_aside(&conflict).cloned());
        }
        Ok(out)
    }

    /// Whether revision `id` is set aside by a conflict of revisions (see
    /// [`Store::set_aside_revisions`]).
    pub(super) fn is_set_aside(&self, id: Uuid) -> Result<bool, StoreError> {
        let Some(original) = self.merge_get::<Uuid>(SIDE_PREFIX, id.as_bytes())? else {
            return Ok(false);
        };
        Ok(self
            .revision_conflict(original)?
            .is_some_and(|c| set_aside(&c).any(|r| r.id == id)))
    }

    /// Every conflict, resolved or not, by response id.
    pub fn conflicts(&self) -> Result<Vec<Conflict>, StoreError> {
        self.merge_scan(CONFLICT_PREFIX)
    }

    /// The conflicts the coordinator has not settled, by response id.
    pub fn unresolved_conflicts(&self) -> Result<Vec<Conflict>, StoreError> {
        Ok(self
            .conflicts()?
            .into_iter()
            .filter(|c| !c.is_resolved())
            .collect())
    }

    /// How many conflicts are unresolved (for reports to warn about).
    pub fn unresolved_conflict_count(&self) -> Result<usize, StoreError> {
        Ok(self.unresolved_conflicts()?.len())
    }

    /// Settles a conflict: the version at `keep` (0 for A) becomes the active response.
    /// Journaled (so `recover` keeps it) and flushed.
    pub fn resolve_conflict(&self, id: Uuid, keep: usize) -> Result<Conflict, StoreError> {
        let _guard = self.write_guard();
        let conflict = self.conflict(id)?.ok_or(StoreError::NoConflict { id })?;
        let Some(version) = conflict.versions.get(keep) else {
            return Err(StoreError::NoSuchVersion {
                id,
                asked: Conflict::letter(keep),
                versions: conflict.versions.len(),
            });
        };
        let entry = JournalEntry::Resolved {
            id,
            keep: version.digest.clone(),
            at: self.env.now(),
        };
        let mut model = Model::default();
        let revisions = conflict.revisions;
        if revisions {
            model.merge.revision_conflicts.insert(id, conflict);
        } else {
            model.merge.conflicts.insert(id, conflict);
        }
        if let JournalEntry::Resolved { id, keep, at } = &entry {
            model.apply_resolution(*id, keep, *at);
        }
        let mark = self.journal_guard().append(&entry)?;
        let writes = model.write_set()?;
        self.apply_writes(&writes, Some(mark))?;
        self.flush()?;
        let settled = if revisions {
            model.merge.revision_conflicts.remove(&id)
        } else {
            model.merge.conflicts.remove(&id)
        };
        settled.ok_or(StoreError::NoConflict { id })
    }

    /// The batches (and devices) that carried a response here; empty if it was recorded
    /// on this machine.
    pub fn response_sources(&self, id: Uuid) -> Result<BTreeSet<Source>, StoreError> {
        Ok(self
            .merge_get(FROM_PREFIX, &response_key(id))?
            .unwrap_or_default())
    }

    /// Every merged record's sources, by record key (`response:<id>`, `knock:<id>`,
    /// `door:<area>…`).
    pub fn record_sources(&self) -> Result<BTreeMap<String, BTreeSet<Source>>, StoreError> {
        let mut out = BTreeMap::new();
        for entry in self.tree(MERGE)?.scan_prefix(FROM_PREFIX) {
            let (key, value) = entry?;
            let name = String::from_utf8_lossy(&key[FROM_PREFIX.len()..]).into_owned();
            out.insert(
                name.clone(),
                decode(|| format!("merge record from {name}"), &value)?,
            );
        }
        Ok(out)
    }

    /// The latest active revision of each completed response: finalized `complete`,
    /// not replaced by a finalized revision here, and (in a conflict) the active version.
    /// Read one at a time, oldest first; an unreadable record is an error item.
    pub fn active_responses(
        &self,
    ) -> Result<impl Iterator<Item = Result<Response, StoreError>> + '_, StoreError> {
        let summaries = self.summaries()?;
        let replaced: BTreeSet<Uuid> = summaries
            .summaries
            .iter()
            .filter(|s| s.status.is_final())
            .filter_map(|s| s.replaces)
            .collect();
        let wanted: Vec<Uuid> = summaries
            .summaries
            .iter()
            .filter(|s| s.status == Status::Complete && !replaced.contains(&s.id))
            .map(|s| s.id)
            .collect();
        let unreadable = summaries.unreadable.into_iter().map(Err);
        Ok(unreadable.chain(wanted.into_iter().map(move |id| self.get(id))))
    }
}

/// How many records of a batch a merge works out at a time (see
/// [`Store::journal_staged`]): some 14 MB decoded for responses of the simulation. The
/// unit tests take a few at a time, so that their batches cross slices.
#[cfg(not(test))]
pub(super) const STAGE_RECORDS: usize = 1024;
#[cfg(test)]
pub(super) const STAGE_RECORDS: usize = 3;

/// A merge worked out into a scratch database ([`DryRun`]) and journaled: the journal
/// mark its writes bring the store to, and the doors it only gives knocks.
type StagedPending = (DryRun, JournalMark, AppendedDoors);

/// What the scratch folders of merges are named in the data folder.
const MERGE_SCRATCH: &str = ".merge-scratch.";

/// Where a merge takes a batch's records from, a slice at a time.
enum StagedRecords<'a> {
    /// The batch's decoded records.
    Decoded(std::slice::Iter<'a, Record>),
    /// The batch file, read again a line at a time: its end (an empty slice) is given
    /// only once the whole file has been found to be the bytes verified.
    File(Box<FileRecords<'a>>),
}

impl<'a> StagedRecords<'a> {
    /// The next `n` records (fewer at the end, none after it).
    fn next_slice(&mut self, n: usize) -> Result<Vec<Cow<'a, Record>>, StoreError> {
        use super::journal::RecordSource;
        match self {
            StagedRecords::Decoded(records) => {
                Ok(records.by_ref().take(n).map(Cow::Borrowed).collect())
            }
            StagedRecords::File(lines) => {
                let mut out = Vec::with_capacity(n);
                while out.len() < n {
                    let Some(json) = lines.next_record()? else {
                        break;
                    };
                    // Decoded when verified: bytes that no longer decode changed since.
                    let record: Record =
                        serde_json::from_slice(json).map_err(|_| StoreError::BatchRefused {
                            path: lines.path.to_path_buf(),
                            reason: batch::BatchError::ChangedSince.to_string(),
                        })?;
                    out.push(Cow::Owned(record));
                }
                Ok(out)
            }
        }
    }
}

/// The records of the batch file at `path`, which had `digest` when it was verified,
/// read again to journal its merge: [`StoreError::BatchRefused`] (nothing journaled or
/// written) if it changed or went in between.
struct FileRecords<'a> {
    lines: batch::RecordLines<'a>,
    path: &'a Path,
    /// Records still to come: as many as the batch verified had.
    left: usize,
}

impl<'a> FileRecords<'a> {
    fn open(
        path: &'a Path,
        identity: Option<&CoordinatorIdentity>,
        digest: &'a str,
        records: usize,
    ) -> Result<FileRecords<'a>, StoreError> {
        let refused = |reason: String| StoreError::BatchRefused {
            path: path.to_path_buf(),
            reason,
        };
        let file =
            std::fs::File::open(path).map_err(|e| refused(format!("cannot be read: {e}")))?;
        let lines = batch::record_lines_known(std::io::BufReader::new(file), identity, digest)
            .map_err(|e| refused(e.to_string()))?;
        Ok(FileRecords {
            lines,
            path,
            left: records,
        })
    }
}

impl super::journal::RecordSource for FileRecords<'_> {
    fn next_record(&mut self) -> Result<Option<&[u8]>, StoreError> {
        let refused = |reason: String| StoreError::BatchRefused {
            path: self.path.to_path_buf(),
            reason,
        };
        let changed = || refused(batch::BatchError::ChangedSince.to_string());
        match self.lines.next_record() {
            Ok(Some(record)) => match self.left.checked_sub(1) {
                Some(left) => {
                    self.left = left;
                    Ok(Some(record))
                }
                None => Err(changed()),
            },
            Ok(None) if self.left == 0 => Ok(None),
            Ok(None) => Err(changed()),
            Err(e) => Err(refused(e.to_string())),
        }
    }
}

/// Every `*.batch` file in `dir`, by name; hidden files skipped.
pub fn batch_files(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| StoreError::io(dir, e))? {
        let entry = entry.map_err(|e| StoreError::io(dir, e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && name.ends_with(".batch") && path.is_file() {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// How many batch files [`Store::verify_files`] checks at once (and so holds at once).
pub const VERIFY_THREADS: usize = 2;

/// UK local time, as the coordinator reads it.
fn uk_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::London)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::super::journal_path;
    use super::super::own::Pending;
    use super::*;
    use crate::batch::{DeviceKey, Origin, Selection};
    use crate::response::{Env, NewResponse};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 10, 5, 10, 0, 0).unwrap()
    }

    /// Works `batch` out whole on `model`, loading what it touches from `store` (a
    /// merge works it out a slice at a time): the writes of a whole batch at once.
    fn work_out_whole(store: &Store, model: &mut Model, batch: &Batch) {
        let meta = MergedBatch::from_manifest(&batch.manifest, &batch.digest, t0());
        model.load_records(store, batch.records.iter()).unwrap();
        model.merge.load_for(store, &meta, &batch.records).unwrap();
        model.apply_merge(&meta, batch.records.iter().map(Cow::Borrowed));
    }

    /// Every write a merge staged, in the order [`Store::apply_staged`] makes them.
    fn staged_in_order(stage: &DryRun) -> Vec<Write> {
        WRITE_ORDER
            .into_iter()
            .chain([super::super::Tree::Responses])
            .flat_map(|kind| stage.staged(kind).unwrap().map(Result::unwrap))
            .collect()
    }

    fn response(id: u128, interviewer: &str, finalized_min: i64) -> Response {
        let mut r = Response::draft(
            Uuid::from_u128(id),
            NewResponse {
                survey_id: "kin".into(),
                survey_version: 2,
                fingerprint: "f".into(),
                area: "E05000841".into(),
                period: None,
                interviewer: interviewer.into(),
                device: "d".into(),
                language: "en".into(),
                started_at: t0(),
            },
        )
        .unwrap();
        r.finalize(
            Status::Complete,
            t0() + chrono::Duration::minutes(finalized_min),
        );
        r
    }

    fn batch_of(device: &str, records: Vec<Record>) -> Batch {
        batch_numbered(device, 1, records)
    }

    fn batch_numbered(device: &str, sequence: u64, records: Vec<Record>) -> Batch {
        let key = DeviceKey::from_secret_bytes([device.len() as u8; 32]);
        let origin = Origin {
            batch: Uuid::from_u128(device.len() as u128 * 100 + u128::from(sequence)),
            sequence,
            previous: None,
            device: device.into(),
            officer: None,
            created_at: t0(),
            selection: Selection::New,
        };
        let manifest = Manifest::describe(origin, &key.public(), &records);
        batch::open(&batch::write(&manifest, &records, &key).unwrap(), None).unwrap()
    }

    /// A file opened again with the digest it was checked with skips only the checks that
    /// cannot fail on the same bytes: the same bytes give the same batch, and bytes changed
    /// in between get every check (a changed record is still named).
    #[test]
    fn reopening_with_a_known_digest_still_checks_changed_bytes() {
        let records = vec![
            Record::Response(response(1, "PC 1", 1)),
            Record::Response(response(2, "PC 1", 2)),
        ];
        let key = DeviceKey::from_secret_bytes([9; 32]);
        let origin = Origin {
            batch: Uuid::from_u128(9),
            sequence: 1,
            previous: None,
            device: "d9".into(),
            officer: None,
            created_at: t0(),
            selection: Selection::New,
        };
        let manifest = Manifest::describe(origin, &key.public(), &records);
        let bytes = batch::write(&manifest, &records, &key).unwrap();
        let first = batch::open(&bytes, None).unwrap();
        let again = batch::open_owned_known(bytes.clone(), None, Some(&first.digest)).unwrap();
        assert_eq!(again.digest, first.digest);
        assert_eq!(again.records, first.records);
        assert_eq!(again.manifest, first.manifest);

        // One byte of the second record changed (its interviewer), same length.
        let text = String::from_utf8(bytes).unwrap();
        let at = text.rfind("PC 1").unwrap();
        let mut changed = text.into_bytes();
        changed[at + 3] = b'2';
        let err = batch::open_owned_known(changed.clone(), None, Some(&first.digest)).unwrap_err();
        assert!(
            matches!(err, batch::BatchError::Changed { record: 2, .. }),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            batch::open(&changed, None).unwrap_err().to_string()
        );
    }

    /// What the tests compare: every response, conflict and source, the tallies, and
    /// the door log.
    fn state(
        store: &Store,
    ) -> (
        Vec<Response>,
        Vec<Conflict>,
        String,
        super::super::Tallies,
        Vec<DoorRecord>,
    ) {
        let listing = store.list(&Default::default()).unwrap();
        (
            listing.responses,
            store.conflicts().unwrap(),
            format!("{:?}", store.record_sources().unwrap()),
            store.tallies().unwrap(),
            store.all_doors().unwrap(),
        )
    }

    const AREA: &str = "E05000841";

    fn door(number: &str) -> crate::response::Door {
        crate::response::Door::new("Kay Street", number).unwrap()
    }

    fn knock(n: u128, number: &str) -> Record {
        Record::Knock(batch::KnockEntry {
            area: AREA.into(),
            door: door(number),
            knock: crate::response::Knock {
                id: Some(Uuid::from_u128(1000 + n)),
                device: Some("laptop-1".into()),
                officer: None,
                ..crate::response::Knock::new(
                    t0() + chrono::Duration::minutes(n as i64),
                    crate::response::Outcome::NoAnswer,
                )
            },
        })
    }

    fn door_entry(number: &str) -> Record {
        Record::Door(batch::DoorEntry {
            area: AREA.into(),
            door: door(number),
        })
    }

    /// A merge killed part way through its writes (any prefix of them, in the order
    /// `Store::apply_staged` makes them) is completed by the next open: the same store as
    /// the merge left whole. The batch brings a conflict whose new version becomes the
    /// active one, the case where a replay must put the response back itself; and a door
    /// correction moving one of two knocks from 12 to 14 Kay Street (the write taking it
    /// from 12 comes before the one putting it on 14) and a removal of 16.
    #[test]
    fn a_merge_cut_off_among_its_writes_is_completed_by_the_next_open() {
        let at = t0() + chrono::Duration::hours(1);
        let (first, second) =
            conflict_and_door_changes_with(Record::DoorRemove(batch::DoorRemoveEntry {
                id: Uuid::from_u128(78),
                area: AREA.into(),
                door: door("16"),
                at,
                device: "laptop-1".into(),
                officer: None,
                knocks: vec![Uuid::from_u128(1003)],
            }));
        let open = |dir: &Path| Store::open_with(dir, Env::manual(t0()).0).unwrap();
        let whole = {
            let dir = tempfile::tempdir().unwrap();
            let store = open(dir.path());
            store.merge_batch(&first, &mut |_, _| {}).unwrap();
            store.merge_batch(&second, &mut |_, _| {}).unwrap();
            state(&store)
        };
        assert_eq!(whole.1.len(), 1);
        assert_eq!(whole.0[0].interviewer, "PC 2");
        let doors: Vec<(String, usize)> = whole
            .4
            .iter()
            .map(|d| (d.door.number.clone(), d.knocks.len()))
            .collect();
        assert_eq!(doors, [("12".to_owned(), 1), ("14".to_owned(), 1)]);
        let writes = {
            let dir = tempfile::tempdir().unwrap();
            let store = open(dir.path());
            store.merge_batch(&first, &mut |_, _| {}).unwrap();
            let _guard = store.write_guard();
            let (_, pending) = store.journal_batch_merge(&second, &mut |_, _| {}).unwrap();
            staged_in_order(&pending.unwrap().0).len()
        };
        for cut in 0..=writes {
            let dir = tempfile::tempdir().unwrap();
            let store = open(dir.path());
            store.merge_batch(&first, &mut |_, _| {}).unwrap();
            let before = store.stored_mark().unwrap().unwrap();
            let (_, pending) = {
                let _guard = store.write_guard();
                store.journal_batch_merge(&second, &mut |_, _| {}).unwrap()
            };
            let (stage, _, _) = pending.unwrap();
            // The writes in the order they are made, cut after `cut` of them, and the mark
            // left where it was (the kill came before it).
            let ordered: Vec<Write> = staged_in_order(&stage).into_iter().take(cut).collect();
            let cut_stage = DryRun::new().unwrap();
            cut_stage.stage(ordered).unwrap();
            store
                .apply_staged(&cut_stage, before, &Default::default())
                .unwrap();
            store.flush().unwrap();
            drop(store);
            let store = open(dir.path());
            assert_eq!(state(&store), whole, "cut after {cut} of {writes} writes");
        }
    }

    /// Two batches: a response, doors and knocks, then a conflict over the response, a
    /// new response and a door correction moving one knock from 12 to 14, ending with a
    /// knock at 16.
    fn conflict_and_door_changes() -> (Batch, Batch) {
        conflict_and_door_changes_with(knock(4, "16"))
    }

    /// [`conflict_and_door_changes`] with `last` as the second batch's last record.
    fn conflict_and_door_changes_with(last: Record) -> (Batch, Batch) {
        let first = batch_of(
            "laptop-1",
            vec![
                Record::Response(response(1, "PC 1", 30)),
                door_entry("12"),
                door_entry("16"),
                knock(1, "12"),
                knock(2, "12"),
                knock(3, "16"),
            ],
        );
        let at = t0() + chrono::Duration::hours(1);
        let second = batch_numbered(
            "laptop-1",
            2,
            vec![
                Record::Response(response(1, "PC 2", 10)),
                Record::Response(response(2, "PC 2", 20)),
                Record::DoorEdit(batch::DoorEditEntry {
                    id: Uuid::from_u128(77),
                    area: AREA.into(),
                    from: door("12"),
                    to: door("14"),
                    at,
                    device: "laptop-1".into(),
                    officer: None,
                    knocks: vec![Uuid::from_u128(1001)],
                }),
                last,
            ],
        );
        (first, second)
    }

    /// A knock that arrives after the corrections that moved it lands on the corrected
    /// door with the spelling of the latest correction to that door, as it does when it
    /// arrives first — also when that door had gone from the log meanwhile (a removal
    /// took the only knock that was there), so that nothing but the door's fate knows
    /// the spelling. Both orders, and `recover` of each, give the same door log.
    #[test]
    fn a_knock_moved_to_a_door_that_had_gone_takes_its_latest_spelling() {
        let spelled = |street: &str| crate::response::Door::new(street, "14").unwrap();
        let hour = |h: i64| t0() + chrono::Duration::hours(h);
        let knocks = batch_numbered(
            "laptop-1",
            1,
            vec![door_entry("12"), knock(1, "12"), knock(2, "12")],
        );
        let edit = |id: u128, at, street: &str, knock: u128| {
            Record::DoorEdit(batch::DoorEditEntry {
                id: Uuid::from_u128(id),
                area: AREA.into(),
                from: door("12"),
                to: spelled(street),
                at,
                device: "laptop-1".into(),
                officer: None,
                knocks: vec![Uuid::from_u128(knock)],
            })
        };
        let changes = batch_numbered(
            "laptop-1",
            2,
            vec![
                edit(77, hour(1), "Kay Street", 1001),
                edit(78, hour(2), "KAY STREET", 1002),
                Record::DoorRemove(batch::DoorRemoveEntry {
                    id: Uuid::from_u128(79),
                    area: AREA.into(),
                    door: spelled("KAY STREET"),
                    at: hour(3),
                    device: "laptop-1".into(),
                    officer: None,
                    knocks: vec![Uuid::from_u128(1002)],
                }),
            ],
        );
        let merged = |order: [&Batch; 2]| {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open_with(dir.path(), Env::manual(t0()).0).unwrap();
            for b in order {
                store.merge_batch(b, &mut |_, _| {}).unwrap();
            }
            let doors = store.all_doors().unwrap();
            drop(store);
            let (env, _) = Env::manual(t0());
            super::super::recover::recover(dir.path(), env).unwrap();
            let store = Store::open_with(dir.path(), Env::manual(t0()).0).unwrap();
            assert_eq!(
                store.all_doors().unwrap(),
                doors,
                "recover gives what merge gave"
            );
            doors
        };
        let first = merged([&knocks, &changes]);
        let fourteen: Vec<_> = first.iter().filter(|d| d.door.number == "14").collect();
        assert_eq!(fourteen.len(), 1, "{first:?}");
        assert_eq!(fourteen[0].door.street, "KAY STREET");
        assert_eq!(fourteen[0].knocks.len(), 1);
        assert_eq!(merged([&changes, &knocks]), first);
    }

    #[test]
    fn writes_go_in_slices_and_stop_at_the_first_error() {
        let (env, _) = Env::manual(chrono::Utc::now());
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(dir.path(), env).unwrap();
        let tree = store.db.open_tree("scratch-test").unwrap();
        let key = |i: usize| format!("k{i:05}").into_bytes();
        // More writes than a slice holds, and values over a slice's bytes: all written
        // across the slices' ends.
        let n = WRITE_SLICE * 2 + 7;
        write_sliced(
            &tree,
            (0..n).map(|i| Ok((key(i), Some(vec![b'v'; i % 3])))),
            WRITE_SLICE,
        )
        .unwrap();
        let big = WRITE_SLICE_BYTES / 2 + 1;
        write_sliced(
            &tree,
            (0..3).map(|i| Ok((format!("big{i}").into_bytes(), Some(vec![b'b'; big])))),
            WRITE_SLICE,
        )
        .unwrap();
        assert_eq!(tree.len(), n + 3);
        assert_eq!(tree.get(key(n - 1)).unwrap().unwrap().len(), (n - 1) % 3);
        assert_eq!(tree.get(b"big2").unwrap().unwrap().len(), big);
        // Removals, across a slice's end.
        let removed = WRITE_SLICE + 3;
        write_sliced(&tree, (0..removed).map(|i| Ok((key(i), None))), WRITE_SLICE).unwrap();
        assert_eq!(tree.len(), n + 3 - removed);
        assert_eq!(tree.get(key(removed - 1)).unwrap(), None);
        assert!(tree.get(key(removed)).unwrap().is_some());
        // An error ends the writing there (the slice it was in is not written: the caller
        // stops on it), returned as it was.
        let writes = (removed..n).map(|i| {
            if i == removed + 5 {
                Err(StoreError::Encode("no".into()))
            } else {
                Ok((key(i), None))
            }
        });
        let err = write_sliced(&tree, writes, WRITE_SLICE).unwrap_err();
        assert!(
            matches!(err, StoreError::Encode(ref m) if m == "no"),
            "{err:?}"
        );
        assert!(tree.get(key(removed + 5)).unwrap().is_some());
        assert!(tree.get(key(removed + 6)).unwrap().is_some());
    }

    /// A door two devices sent stays when one of them removes it, and recover (of the
    /// store, and from the journal alone) rebuilds the same: the replay reads back what it
    /// wrote out of the sources of the area's doors before applying the removal.
    #[test]
    fn a_door_another_device_sent_outlives_a_removal_through_recover() {
        let sent = batch_numbered("laptop-1", 1, vec![door_entry("20"), door_entry("22")]);
        let also = batch_numbered("laptop-two", 1, vec![door_entry("20")]);
        let removal = |number: &str, id: u128| {
            Record::DoorRemove(batch::DoorRemoveEntry {
                id: Uuid::from_u128(id),
                area: AREA.into(),
                door: door(number),
                at: t0() + chrono::Duration::hours(1),
                device: "laptop-1".into(),
                officer: None,
                knocks: Vec::new(),
            })
        };
        let removed = batch_numbered("laptop-1", 2, vec![removal("20", 90), removal("22", 91)]);
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(dir.path(), Env::manual(t0()).0).unwrap();
        for b in [&sent, &also, &removed] {
            store.merge_batch(b, &mut |_, _| {}).unwrap();
        }
        let numbers = |store: &Store| -> Vec<String> {
            let doors = store.all_doors().unwrap();
            doors.into_iter().map(|d| d.door.number).collect()
        };
        // 22 only laptop-1 sent, and it removed it; 20 laptop-two sent too.
        assert_eq!(numbers(&store), ["20"]);
        let merged = state(&store);
        drop(store);
        for from_journal_alone in [false, true] {
            if from_journal_alone {
                std::fs::remove_dir_all(dir.path().join(super::super::STORE_DIR)).unwrap();
            }
            super::super::recover::recover(dir.path(), Env::manual(t0()).0).unwrap();
            let store = Store::open_with(dir.path(), Env::manual(t0()).0).unwrap();
            assert_eq!(
                numbers(&store),
                ["20"],
                "journal alone: {from_journal_alone}"
            );
            assert_eq!(state(&store), merged, "journal alone: {from_journal_alone}");
        }
    }

    /// A dry run writes its overlay in slices, as a merge writes the store: batches of
    /// several slices each, the second half again in a later batch with one changed,
    /// counted as the merges then count them, and nothing written.
    #[test]
    fn a_dry_run_over_several_slices_says_what_the_merges_do() {
        let n = (RESPONSE_SLICE * 2 + 10) as u128;
        let first = batch_numbered(
            "laptop-1",
            1,
            (1..=n)
                .map(|i| Record::Response(response(i, "PC 1", i as i64)))
                .collect(),
        );
        // The later half again (duplicates), one of them with other content (a conflict),
        // and as many new.
        let second = batch_numbered(
            "laptop-1",
            2,
            (n / 2..=n + n / 2)
                .map(|i| {
                    let who = if i == n { "PC 2" } else { "PC 1" };
                    Record::Response(response(i, who, i as i64))
                })
                .collect(),
        );
        let counts = |r: MergeResult| match r {
            MergeResult::Merged { batch, .. } => batch.outcome,
            other => panic!("{other:?}"),
        };
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(dir.path(), Env::manual(t0()).0).unwrap();
        let before = state(&store);
        let mut dry = store.dry_run().unwrap();
        let said: Vec<MergeCounts> = [&first, &second]
            .into_iter()
            .map(|b| counts(dry.merge(&store, b).unwrap()))
            .collect();
        drop(dry);
        assert_eq!(state(&store), before, "a dry run writes nothing");
        let done: Vec<MergeCounts> = [&first, &second]
            .into_iter()
            .map(|b| counts(store.merge_batch(b, &mut |_, _| {}).unwrap()))
            .collect();
        assert_eq!(said, done);
        assert_eq!(done[0].new, n as u64);
        assert_eq!(done[1].duplicate, (n - n / 2) as u64);
        assert_eq!(done[1].conflict, 1);
    }

    /// Taking a merge's writes out of its model (letting each record go as it is
    /// encoded) gives exactly the writes [`Model::write_set`] lists for the same model.
    #[test]
    fn taking_the_write_set_gives_the_same_writes() {
        let (first, second) = conflict_and_door_changes();
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(dir.path(), Env::manual(t0()).0).unwrap();
        store.merge_batch(&first, &mut |_, _| {}).unwrap();
        let worked_out = || {
            let mut model = Model::default();
            work_out_whole(&store, &mut model, &second);
            model
        };
        let sorted = |writes: Vec<Write>| {
            let mut w: Vec<(String, Vec<u8>, Option<Vec<u8>>)> = writes
                .into_iter()
                .map(|w| (format!("{:?}", w.tree), w.key, w.value))
                .collect();
            w.sort();
            w
        };
        let listed = sorted(worked_out().write_set().unwrap());
        let mut model = worked_out();
        let taken = sorted(model.take_write_set().unwrap());
        assert!(listed.iter().any(|w| w.0 == "Doors"));
        assert!(listed.iter().any(|w| w.0 == "Merge"));
        assert_eq!(taken, listed);
        // What was written is gone from the model (what was only read stays).
        for (tree, key, _) in &taken {
            match tree.as_str() {
                "Doors" => assert!(!model.doors.contains_key(key)),
                "Responses" => {
                    assert!(
                        !model
                            .responses
                            .contains_key(&Uuid::from_slice(key).unwrap())
                    )
                }
                _ => {}
            }
        }
        assert!(model.merge.changed.is_empty() && model.changed_doors.is_empty());
    }

    /// A merge tells the index of what is not yet exported which door writes only add
    /// knocks (so it need not read those doors again): exactly the doors nothing else
    /// changed, and the index comes out the same as when every door is read.
    #[test]
    fn doors_a_merge_only_adds_knocks_to_index_as_when_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(dir.path(), Env::manual(t0()).0).unwrap();
        // This machine's own door, knocked here and never exported.
        let outcome = crate::response::Outcome::NoAnswer;
        store
            .knock(AREA, door("20"), outcome.clone(), t0())
            .unwrap();
        let (first, _) = conflict_and_door_changes();
        store.merge_batch(&first, &mut |_, _| {}).unwrap();
        let second = batch_numbered(
            "laptop-1",
            2,
            vec![
                knock(4, "16"),
                // Carried again: already at door 16.
                knock(3, "16"),
                knock(5, "20"),
                // Moves knock 1 from door 12 to a door 14.
                Record::DoorEdit(batch::DoorEditEntry {
                    id: Uuid::from_u128(77),
                    area: AREA.into(),
                    from: door("12"),
                    to: door("14"),
                    at: t0() + chrono::Duration::hours(1),
                    device: "laptop-1".into(),
                    officer: None,
                    knocks: vec![Uuid::from_u128(1001)],
                }),
            ],
        );
        let mut model = Model::default();
        work_out_whole(&store, &mut model, &second);
        let writes = model.take_write_set().unwrap();
        let appended = std::mem::take(&mut model.appended);
        let key = |n: &str| door_key(AREA, &door(n)).unwrap();
        let told: Vec<(Vec<u8>, Vec<Uuid>)> = appended
            .iter()
            .map(|(k, a)| (k.clone(), a.added.clone()))
            .collect();
        assert_eq!(
            told,
            [
                (key("16"), vec![Uuid::from_u128(1004)]),
                (key("20"), vec![Uuid::from_u128(1005)]),
            ]
        );
        let written: BTreeSet<Vec<u8>> = writes
            .iter()
            .filter(|w| w.tree == super::super::Tree::Doors)
            .map(|w| w.key.clone())
            .collect();
        assert!(written.contains(&key("12")) && written.contains(&key("14")));

        let read_again = store.pending_changes(&writes).unwrap();
        let told = store.pending_changes_appended(&writes, &appended).unwrap();
        assert_eq!(told, read_again);
        // This machine's door is still its own, not yet exported; the knock a batch
        // brought to it is not.
        assert_eq!(told.get(&Pending::Door(key("20"))), Some(&true));
        assert_eq!(
            told.get(&Pending::Knock(Uuid::from_u128(1005))),
            Some(&false)
        );
    }

    /// A batch file is read again to journal its merge: if its bytes changed since it
    /// was verified and worked out, the merge is refused with nothing journaled or
    /// written; the same bytes give the text `open_owned` keeps.
    #[test]
    fn a_file_changed_before_its_merge_is_journaled_is_refused() {
        let (first, second) = conflict_and_door_changes();
        let key = DeviceKey::from_secret_bytes([5; 32]);
        let records = vec![Record::Response(response(9, "PC 9", 5)), knock(9, "18")];
        let origin = Origin {
            batch: Uuid::from_u128(900),
            sequence: 1,
            previous: None,
            device: "laptop-9".into(),
            officer: None,
            created_at: t0(),
            selection: Selection::New,
        };
        let manifest = Manifest::describe(origin, &key.public(), &records);
        let bytes = batch::write(&manifest, &records, &key).unwrap();
        let kept = batch::open_owned(bytes.clone(), None).unwrap();
        let from = |b: &[u8], id| -> Result<Vec<Vec<u8>>, batch::BatchError> {
            let mut lines = batch::record_lines_known(b, id, &kept.digest)?;
            let mut out = Vec::new();
            while let Some(record) = lines.next_record()? {
                out.push(record.to_vec());
            }
            Ok(out)
        };
        let again = from(&bytes, None).unwrap();
        let texts = |t: &batch::RecordText| t.records().map(<[u8]>::to_vec).collect::<Vec<_>>();
        assert_eq!(again, texts(kept.text.as_ref().unwrap()));
        assert_eq!(again.len(), 2);
        // A byte changed anywhere, even in the signature after the last record, or the
        // file cut short: refused once read to its end.
        for at in [bytes.len() - 200, bytes.len() - 2] {
            let mut changed = bytes.clone();
            changed[at] ^= 1;
            assert_eq!(
                from(&changed, None).unwrap_err(),
                batch::BatchError::ChangedSince
            );
        }
        for cut in [bytes.len() - 1, bytes.len() / 2, 10, 0] {
            assert_eq!(
                from(&bytes[..cut], None).unwrap_err(),
                batch::BatchError::ChangedSince,
                "cut at {cut}"
            );
        }
        // Encrypted (decrypted as it is read), the same text; without the identity, or
        // changed, refused.
        let id = crate::seal::CoordinatorIdentity::generate();
        let sealed = crate::seal::encrypt_file(&id.recipient(), &bytes).unwrap();
        assert_eq!(from(&sealed, Some(&id)).unwrap(), again);
        let mut sealed_changed = sealed.clone();
        let at = sealed_changed.len() - 100;
        sealed_changed[at] ^= 1;
        for (b, id) in [(&sealed, None), (&sealed_changed, Some(&id))] {
            assert_eq!(from(b, id).unwrap_err(), batch::BatchError::ChangedSince);
        }

        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(dir.path(), Env::manual(t0()).0).unwrap();
        store.merge_batch(&first, &mut |_, _| {}).unwrap();
        let before = state(&store);
        let journal = std::fs::read(journal_path(dir.path())).unwrap();
        // The file now holds other bytes than the batch worked out (`second`).
        let file = dir.path().join("second.batch");
        std::fs::write(&file, &bytes).unwrap();
        let journal_merge = |second: &Batch| {
            let _guard = store.write_guard();
            store
                .journal_file_merge(
                    &file,
                    None,
                    &second.manifest,
                    &second.digest,
                    second.records.len(),
                    &mut |_, _| {},
                )
                .map(|(result, _)| result)
        };
        let Err(err) = journal_merge(&second) else {
            panic!("a changed file was journaled");
        };
        assert_eq!(
            err.to_string(),
            format!(
                "{}: refused, nothing of it merged: the file changed while it was being merged (it no longer holds the batch verified moments before): merge it again",
                file.display()
            )
        );
        assert_eq!(err.exit_code(), crate::exit::DATA_ERR);
        assert_eq!(std::fs::read(journal_path(dir.path())).unwrap(), journal);
        assert_eq!(state(&store), before);
        assert!(scratch_folders(dir.path()).is_empty());

        // The batch's own bytes but for one in its signature, after every record: the
        // records are written to the journal before the change is found, then cut off.
        let key = DeviceKey::from_secret_bytes(["laptop-1".len() as u8; 32]);
        let mut own = batch::write(&second.manifest, &second.records, &key).unwrap();
        assert_eq!(
            batch::open_owned(own.clone(), None).unwrap().digest,
            second.digest
        );
        let at = own.len() - 3;
        own[at] = if own[at] == b'A' { b'B' } else { b'A' };
        std::fs::write(&file, &own).unwrap();
        let Err(err) = journal_merge(&second) else {
            panic!("a file changed in its signature was journaled");
        };
        assert!(err.to_string().contains("the file changed while"), "{err}");
        assert_eq!(std::fs::read(journal_path(dir.path())).unwrap(), journal);
        assert_eq!(state(&store), before);
        assert!(scratch_folders(dir.path()).is_empty());

        // Its own bytes: journaled, and the line (replayed at the next open, as after a
        // crash before the writes) is the merge of the batch.
        own[at] = batch::write(&second.manifest, &second.records, &key).unwrap()[at];
        std::fs::write(&file, &own).unwrap();
        assert!(matches!(
            journal_merge(&second),
            Ok(MergeResult::Merged { .. })
        ));
        drop(store);
        let store = Store::open_with(dir.path(), Env::manual(t0()).0).unwrap();
        let both = tempfile::tempdir().unwrap();
        let expected = Store::open_with(both.path(), Env::manual(t0()).0).unwrap();
        expected.merge_batch(&first, &mut |_, _| {}).unwrap();
        expected.merge_batch(&second, &mut |_, _| {}).unwrap();
        assert_ne!(state(&store), before);
        assert_eq!(state(&store), state(&expected));
    }

    /// The scratch folders of merges in a data folder.
    fn scratch_folders(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with(MERGE_SCRATCH))
            .collect()
    }

    /// A merge works a batch out a few records at a time through its scratch folder,
    /// removes the folder once the batch is in, and removes one that a merge killed
    /// before its end left behind.
    #[test]
    fn a_merge_removes_its_scratch_folder_and_one_left_by_a_killed_merge() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(dir.path(), Env::manual(t0()).0).unwrap();
        let left = dir.path().join(format!("{MERGE_SCRATCH}killed"));
        std::fs::create_dir_all(left.join("overlay")).unwrap();
        std::fs::write(left.join("overlay").join("conf"), b"half written").unwrap();
        // More records than a slice, the revision in a later slice than what it revises.
        let original = response(1, "PC 1", 5);
        let mut revision = response(7, "PC 1", 30);
        revision.replaces = Some(original.id);
        let records: Vec<Record> = [original, response(2, "PC 1", 6), response(3, "PC 1", 7)]
            .into_iter()
            .chain([response(4, "PC 1", 8), revision])
            .map(Record::Response)
            .collect();
        assert!(records.len() > STAGE_RECORDS);
        let mut seen = Vec::new();
        let result = store
            .merge_batch(&batch_of("laptop-1", records), &mut |done, total| {
                seen.push((done, total))
            })
            .unwrap();
        let MergeResult::Merged { batch, rejections } = result else {
            panic!("not merged: {result:?}");
        };
        assert!(rejections.is_empty());
        assert_eq!((batch.outcome.new, batch.outcome.superseded), (4, 1));
        assert_eq!(seen, [(3, 5), (5, 5), (5, 5)]);
        assert!(scratch_folders(dir.path()).is_empty());
        let active: Vec<u128> = store
            .active_responses()
            .unwrap()
            .map(|r| r.unwrap().id.as_u128())
            .collect();
        assert_eq!(active, [2, 3, 4, 7]);
    }

    /// The index of response ids holds the responses tree's keys after local writes, a
    /// merge and a removal; a merge finds through it a response already here; a store kept
    /// without it builds it at open, and `recover` builds it again.
    #[test]
    fn the_index_of_response_ids_follows_the_responses() {
        fn indexed(store: &Store) -> Vec<Vec<u8>> {
            let t = store.tree(super::super::tallies::TALLIES).unwrap();
            t.scan_prefix(b"i\x1f")
                .keys()
                .map(|k| k.unwrap()[2..].to_vec())
                .collect()
        }
        fn stored(store: &Store) -> Vec<Vec<u8>> {
            let t = store.tree(super::super::responses::RESPONSES).unwrap();
            t.iter().keys().map(|k| k.unwrap().to_vec()).collect()
        }
        let dir = tempfile::tempdir().unwrap();
        let (env, _clock) = Env::manual(t0());
        let store = Store::open_with(dir.path(), env.clone()).unwrap();
        let draft = store.create_draft(NewResponse {
            survey_id: "kin".into(),
            survey_version: 2,
            fingerprint: "f".into(),
            area: "E05000841".into(),
            period: None,
            interviewer: "PC 9".into(),
            device: "here".into(),
            language: "en".into(),
            started_at: t0(),
        });
        let draft = draft.unwrap();
        store.finalize(draft.id, Status::Complete, t0()).unwrap();
        let batch = batch_of(
            "d1",
            vec![
                Record::Response(response(1, "PC 1", 1)),
                Record::Response(response(2, "PC 1", 2)),
            ],
        );
        store.merge_batch(&batch, &mut |_, _| {}).unwrap();
        assert_eq!(indexed(&store).len(), 3);
        assert_eq!(indexed(&store), stored(&store));
        assert!(store.may_have_response(Uuid::from_u128(1)).unwrap());
        assert!(!store.may_have_response(Uuid::from_u128(99)).unwrap());

        // The same response from another device is found through the index: a duplicate.
        let again = batch_of("d22", vec![Record::Response(response(1, "PC 1", 1))]);
        let MergeResult::Merged { batch: merged, .. } =
            store.merge_batch(&again, &mut |_, _| {}).unwrap()
        else {
            panic!("merged before");
        };
        assert_eq!((merged.outcome.new, merged.outcome.duplicate), (0, 1));

        // A response taken out of the responses tree leaves the index too.
        let gone = Uuid::from_u128(2);
        store
            .apply_writes(
                &[Write {
                    tree: super::super::Tree::Responses,
                    key: gone.as_bytes().to_vec(),
                    value: None,
                }],
                None,
            )
            .unwrap();
        assert_eq!(indexed(&store).len(), 2);
        assert_eq!(indexed(&store), stored(&store));
        assert!(!store.may_have_response(gone).unwrap());

        // A store kept by a release without the index: built once at open.
        let t = store.tree(super::super::tallies::TALLIES).unwrap();
        for k in t.scan_prefix(b"i\x1f").keys() {
            t.remove(k.unwrap()).unwrap();
        }
        t.remove(b"built\x1fids").unwrap();
        assert!(store.may_have_response(gone).unwrap());
        store.flush().unwrap();
        drop((t, store));
        let store = Store::open_with(dir.path(), env.clone()).unwrap();
        assert_eq!(indexed(&store), stored(&store));
        assert!(!store.may_have_response(Uuid::from_u128(99)).unwrap());
        drop(store);

        // A release without the index wrote a response here after it was built: the
        // counts moved and the index did not, so it is built again at the next open.
        let store = Store::open_with(dir.path(), env.clone()).unwrap();
        let t = store.tree(super::super::tallies::TALLIES).unwrap();
        let written = response(5, "PC 5", 5);
        store
            .tree(super::super::responses::RESPONSES)
            .unwrap()
            .insert(written.id.as_bytes(), encode(&written).unwrap())
            .unwrap();
        let finalized = u64::from_be_bytes(
            t.get(b"n\x1ffinalized")
                .unwrap()
                .unwrap()
                .as_ref()
                .try_into()
                .unwrap(),
        );
        t.insert(b"n\x1ffinalized", &(finalized + 1).to_be_bytes())
            .unwrap();
        assert!(!store.may_have_response(written.id).unwrap());
        store.flush().unwrap();
        drop((t, store));
        let store = Store::open_with(dir.path(), env.clone()).unwrap();
        assert_eq!(indexed(&store), stored(&store));
        assert!(store.may_have_response(written.id).unwrap());
        drop(store);

        // Recover builds it again, from the journal alone too.
        crate::store::recover(dir.path(), env.clone()).unwrap();
        let store = Store::open_with(dir.path(), env.clone()).unwrap();
        assert_eq!(indexed(&store), stored(&store));
        assert!(!indexed(&store).is_empty());
        drop(store);
        std::fs::remove_dir_all(dir.path().join(crate::store::STORE_DIR)).unwrap();
        crate::store::recover(dir.path(), env.clone()).unwrap();
        let store = Store::open_with(dir.path(), env).unwrap();
        assert_eq!(indexed(&store), stored(&store));
        assert!(store.may_have_response(Uuid::from_u128(1)).unwrap());
    }

    /// The index of what is not yet exported, kept write by write, is the one a rebuild
    /// from the records gives: knocks made here on doors batches also knocked, a door
    /// correction moving a merged knock, knocks made after the merges.
    #[test]
    fn the_pending_index_kept_on_write_is_the_one_a_rebuild_gives() {
        use crate::response::Outcome;
        let (first, second) = conflict_and_door_changes();
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(dir.path(), Env::manual(t0()).0).unwrap();
        let entries = |store: &Store| -> Vec<(Vec<u8>, Vec<u8>)> {
            store
                .tree(super::super::tallies::TALLIES)
                .unwrap()
                .iter()
                .map(|e| e.unwrap())
                .filter(|(k, _)| k.starts_with(b"p\x1f") || k.starts_with(b"n\x1fpending\x1f"))
                .map(|(k, v)| (k.to_vec(), v.to_vec()))
                .collect()
        };
        let at = |m: i64| t0() + chrono::Duration::minutes(m);
        store
            .knock(AREA, door("12"), Outcome::NoAnswer, at(5))
            .unwrap();
        store
            .knock(AREA, door("16"), Outcome::Refused, at(6))
            .unwrap();
        store.merge_batch(&first, &mut |_, _| {}).unwrap();
        store
            .knock(AREA, door("12"), Outcome::NoAnswer, at(90))
            .unwrap();
        store.merge_batch(&second, &mut |_, _| {}).unwrap();
        store
            .knock(AREA, door("14"), Outcome::Refused, at(120))
            .unwrap();
        let kept = entries(&store);
        // Four knocks made here, none exported.
        assert_eq!(
            kept.iter()
                .filter(|(k, _)| k.starts_with(b"p\x1fk"))
                .count(),
            4,
            "{kept:?}"
        );
        store.rebuild_pending().unwrap();
        assert_eq!(kept, entries(&store));
    }
}
