//! Batches: how a field laptop's work travels to the coordinator's machine.
//!
//! A batch is one file: a manifest, then the records (finalized responses and their
//! revisions, doors and knocks of the door log and its corrections and removals, actions,
//! the settings that name the laptop), signed
//! with the device's Ed25519 key and — unless explicitly asked not to — encrypted with age
//! to the coordinator's recipient. Sealed personal answers stay sealed inside either way.
//! The byte layout is in `BATCH_FORMAT.md` at the top of the repository; this module
//! writes it ([`write`]) and reads and checks it ([`open`], [`check_against`]). Pure
//! domain code: no store, no terminal; callers bring the bytes, the keys and the clock.
//!
//! For merging (next release): [`open`] gives a [`Batch`] whose records are already
//! checked (checksums, signature, counts) and whose [`Batch::digest`] names the exact
//! content, so a merge can skip a batch already merged; [`Manifest::sequence`] and
//! [`Manifest::previous`] let it report gaps in a device's chain ("batch 3 of 5 missing");
//! response ids, knock ids ([`crate::response::Knock::identity`]) and door keys are the
//! identities to de-duplicate by.

mod check;
mod key;
mod read;
mod write;

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use check::{Problem, check_against, record_problems, survey_problems};
pub use key::{DeviceKey, DevicePublicKey, KeyFileError};
pub use read::{
    Batch, Opened, RecordLines, RecordText, check_each, open, open_owned, open_owned_known,
    record_lines_known,
};
pub use write::{write, write_encrypted};

use crate::action::Action;
use crate::exit;
use crate::response::{Door, Knock, Response, SettingKey};

/// The newest batch format this release writes: 2 added `action` records, 3 added
/// `door_edit` and `door_remove` records. Readers keep accepting every earlier version.
pub const FORMAT: u32 = 3;
/// The format a batch with action records but no door corrections or removals is written
/// in, so a release that reads only formats 1 and 2 still reads it.
pub const FORMAT_WITHOUT_DOOR_CHANGES: u32 = 2;
/// The format a batch without action records (or door changes) is written in, so a
/// release that reads only format 1 still reads it.
pub const FORMAT_WITHOUT_ACTIONS: u32 = 1;
/// The first line of a signed batch starts with this, then the format version.
pub const MAGIC: &str = "doorstep-batch";
/// How an age-encrypted batch begins (binary age format).
pub const AGE_MAGIC: &[u8] = b"age-encryption.org/";
/// How an ASCII-armored age file begins (accepted, never written).
pub const AGE_ARMOR_MAGIC: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";

/// What a batch says about itself. Signed together with the records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The batch format version; equal to the one on the first line.
    pub format: u32,
    /// The batch id (UUID v7, so ids sort by creation time).
    pub batch: Uuid,
    /// 1 for a device's first batch, then 2, 3, …: a missing number is a missing batch.
    pub sequence: u64,
    /// The device's batch before this one, if any.
    pub previous: Option<Uuid>,
    /// The device name (its `device` setting); device keys are pinned by this name.
    pub device: String,
    /// The officer setting when the batch was made.
    pub officer: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The key that signs this device's batches.
    pub device_key: DevicePublicKey,
    /// What the batch was asked to hold.
    pub selection: Selection,
    /// Every survey a response in the batch was recorded with.
    pub surveys: Vec<SurveyUsed>,
    pub counts: Counts,
    /// The earliest and latest moment recorded (start, finalization, knock).
    pub span: Option<Span>,
}

/// Which records an export took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Selection {
    /// Everything not exported before.
    New,
    /// Everything, exported before or not.
    All,
    /// Everything first exported after the given batch, and everything new.
    Since { batch: Uuid },
}

impl fmt::Display for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selection::New => f.write_str("not exported before"),
            Selection::All => f.write_str("everything"),
            Selection::Since { batch } => write!(f, "since batch {batch}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SurveyUsed {
    pub id: String,
    pub version: u32,
    pub fingerprint: String,
}

/// How many records of each kind follow the manifest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Finalized responses that revise nothing.
    pub responses: u64,
    /// Finalized revisions (responses with `replaces`).
    pub revisions: u64,
    pub doors: u64,
    pub knocks: u64,
    pub settings: u64,
    /// Actions of the register (format 2; absent, so 0, in format 1).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub actions: u64,
    /// Door corrections (format 3; absent, so 0, before).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub door_edits: u64,
    /// Door removals (format 3; absent, so 0, before).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub door_removals: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Counts {
    pub fn of(records: &[Record]) -> Counts {
        let mut c = Counts::default();
        for r in records {
            c.add(r);
        }
        c
    }

    /// Counts one more record.
    pub fn add(&mut self, r: &Record) {
        match r {
            Record::Response(resp) if resp.replaces.is_some() => self.revisions += 1,
            Record::Response(_) => self.responses += 1,
            Record::Door(_) => self.doors += 1,
            Record::Knock(_) => self.knocks += 1,
            Record::Setting(_) => self.settings += 1,
            Record::Action(_) => self.actions += 1,
            Record::DoorEdit(_) => self.door_edits += 1,
            Record::DoorRemove(_) => self.door_removals += 1,
        }
    }

    pub fn total(&self) -> u64 {
        self.responses
            + self.revisions
            + self.doors
            + self.knocks
            + self.settings
            + self.actions
            + self.door_edits
            + self.door_removals
    }

    /// The format a batch with these counts is written in: the lowest that holds it.
    pub fn format(&self) -> u32 {
        if self.door_edits + self.door_removals > 0 {
            FORMAT
        } else if self.actions > 0 {
            FORMAT_WITHOUT_DOOR_CHANGES
        } else {
            FORMAT_WITHOUT_ACTIONS
        }
    }

    /// Records that carry fieldwork (settings only name the laptop).
    pub fn fieldwork(&self) -> u64 {
        self.total() - self.settings
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} responses, {} revisions, {} doors, {} knocks, {} settings",
            self.responses, self.revisions, self.doors, self.knocks, self.settings
        )?;
        // Only batches that carry actions say so, as format 1 batches always read.
        if self.actions > 0 {
            write!(f, ", {} actions", self.actions)?;
        }
        if self.door_edits > 0 {
            write!(f, ", {} door corrections", self.door_edits)?;
        }
        if self.door_removals > 0 {
            write!(f, ", {} door removals", self.door_removals)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

/// One record of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "record", rename_all = "snake_case")]
pub enum Record {
    /// A finalized response or revision, exactly as stored (sealed answers sealed).
    Response(Response),
    /// A door in an area's log.
    Door(DoorEntry),
    /// One knock; its `id`, `device` and `officer` are always set in a batch.
    Knock(KnockEntry),
    /// A setting that names the laptop (device, officer).
    Setting(SettingEntry),
    /// An action of the register as it stands, with its whole dated history (format 2).
    Action(Action),
    /// A door's street or number corrected on the laptop (format 3).
    DoorEdit(DoorEditEntry),
    /// A door entered by mistake taken out of the laptop's log (format 3).
    DoorRemove(DoorRemoveEntry),
}

impl Record {
    pub fn kind(&self) -> &'static str {
        match self {
            Record::Response(r) if r.replaces.is_some() => "revision",
            Record::Response(_) => "response",
            Record::Door(_) => "door",
            Record::Knock(_) => "knock",
            Record::Setting(_) => "setting",
            Record::Action(_) => "action",
            Record::DoorEdit(_) => "door_edit",
            Record::DoorRemove(_) => "door_remove",
        }
    }

    /// The moments the record holds, for the manifest's span.
    fn moments(&self) -> Vec<DateTime<Utc>> {
        match self {
            Record::Response(r) => std::iter::once(r.started_at)
                .chain(r.finalized_at)
                .collect(),
            Record::Knock(k) => vec![k.knock.at],
            Record::Action(a) => a.history.iter().map(|c| c.at).collect(),
            Record::DoorEdit(e) => vec![e.at],
            Record::DoorRemove(r) => vec![r.at],
            Record::Door(_) | Record::Setting(_) => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorEntry {
    pub area: String,
    pub door: Door,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnockEntry {
    pub area: String,
    pub door: Door,
    pub knock: Knock,
}

/// A door corrected on the laptop: `from` became `to` in `area`. `knocks` are the
/// identities ([`Knock::identity`]) of every knock the laptop had at the door then, so a
/// merge moves exactly those, whichever of them it has seen yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorEditEntry {
    /// Names this correction (UUID v7).
    pub id: Uuid,
    pub area: String,
    pub from: Door,
    pub to: Door,
    pub at: DateTime<Utc>,
    /// The device that made it and the officer using it then.
    pub device: String,
    pub officer: Option<String>,
    pub knocks: Vec<Uuid>,
}

/// A door taken out of the laptop's log (entered by mistake), with the identities of the
/// knocks the laptop had at it then; another device's knocks at the door are not named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorRemoveEntry {
    /// Names this removal (UUID v7).
    pub id: Uuid,
    pub area: String,
    pub door: Door,
    pub at: DateTime<Utc>,
    pub device: String,
    pub officer: Option<String>,
    pub knocks: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingEntry {
    pub key: SettingKey,
    pub value: String,
}

/// What the exporting device says about itself; the rest of the manifest is computed.
#[derive(Debug, Clone)]
pub struct Origin {
    pub batch: Uuid,
    pub sequence: u64,
    pub previous: Option<Uuid>,
    pub device: String,
    pub officer: Option<String>,
    pub created_at: DateTime<Utc>,
    pub selection: Selection,
}

impl Manifest {
    /// The manifest for these records, signed by `key`'s device.
    pub fn describe(origin: Origin, key: &DevicePublicKey, records: &[Record]) -> Manifest {
        let surveys: BTreeSet<SurveyUsed> = records
            .iter()
            .filter_map(|r| match r {
                Record::Response(resp) => Some(SurveyUsed {
                    id: resp.survey_id.clone(),
                    version: resp.survey_version,
                    fingerprint: resp.fingerprint.clone(),
                }),
                _ => None,
            })
            .collect();
        let moments: Vec<DateTime<Utc>> = records.iter().flat_map(Record::moments).collect();
        let span = match (moments.iter().min(), moments.iter().max()) {
            (Some(first), Some(last)) => Some(Span {
                first: *first,
                last: *last,
            }),
            _ => None,
        };
        let counts = Counts::of(records);
        Manifest {
            format: counts.format(),
            batch: origin.batch,
            sequence: origin.sequence,
            previous: origin.previous,
            device: origin.device,
            officer: origin.officer,
            created_at: origin.created_at,
            device_key: key.clone(),
            selection: origin.selection,
            surveys: surveys.into_iter().collect(),
            counts,
            span,
        }
    }
}

/// Why a batch file cannot be read or trusted. Each says where, when there is a where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("not a doorstep batch: it starts with neither `{MAGIC}` nor an age header")]
    NotABatch,
    #[error(
        "batch format {version} is not one this doorstep reads (it reads formats 1 to {FORMAT}); upgrade doorstep on this machine"
    )]
    UnknownFormat { version: String },
    #[error(
        "the batch is encrypted; give the coordinator identity with --identity KEY (the file written by `doorstep keys new`)"
    )]
    IdentityNeeded,
    #[error(
        "the batch is encrypted to another coordinator's recipient, not to this identity (check which key the laptop's `recipient` setting names)"
    )]
    WrongIdentity,
    #[error("the encrypted batch is damaged (changed or cut short after it was written): {0}")]
    Damaged(String),
    #[error("the batch is truncated: {0}")]
    Truncated(String),
    #[error("line 1 (header): {0}")]
    BadHeader(String),
    #[error("line 2 (manifest): {0}")]
    BadManifest(String),
    #[error(
        "record {record} (line {line}) was changed after the batch was written: its checksum does not match"
    )]
    Changed { record: usize, line: usize },
    #[error("record {record} (line {line}): {reason}")]
    BadRecord {
        record: usize,
        line: usize,
        reason: String,
    },
    #[error("line {line} (signature): {reason}")]
    BadSignatureLine { line: usize, reason: String },
    #[error(
        "bad signature: the batch was not signed by the device key its manifest names ({key}); its manifest or signature was changed, or it is forged"
    )]
    BadSignature { key: String },
    #[error("the manifest counts {manifest} {kind} but the batch holds {found}")]
    CountMismatch {
        kind: &'static str,
        manifest: u64,
        found: u64,
    },
    #[error(
        "record {record} (line {line}) uses survey {id} version {version} ({fingerprint}), which the manifest does not list"
    )]
    UnlistedSurvey {
        record: usize,
        line: usize,
        id: String,
        version: u32,
        fingerprint: String,
    },
    #[error(
        "the file changed while it was being merged (it no longer holds the batch verified moments before): merge it again"
    )]
    ChangedSince,
    #[error("the batch could not be written: {0}")]
    Write(String),
}

impl BatchError {
    pub fn exit_code(&self) -> u8 {
        match self {
            BatchError::Write(_) => exit::FAILURE,
            _ => exit::DATA_ERR,
        }
    }
}

/// Lower-case hex, for keys, signatures and checksums.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses exactly `N` bytes of hex.
pub(crate) fn from_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let text = text.as_bytes();
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, pair) in text.chunks(2).enumerate() {
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(u32::from(c - b'0')),
            b'a'..=b'f' => Some(u32::from(c - b'a') + 10),
            _ => None,
        };
        let (hi, lo) = (digit(pair[0])?, digit(pair[1])?);
        out[i] = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}
