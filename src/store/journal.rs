//! The append-only journal: every draft event (start, answer, finding, door), every
//! finalized response (and revision), every door, knock and setting change, one
//! checksummed JSON line each, fsynced before the caller is told. `doorstep recover`
//! rebuilds the sled store from it; the store records how much of it it reflects.
//!
//! Line format: `sha256:<64 hex digits of the SHA-256 of the JSON> <JSON>\n`. Lines ending
//! `\r\n` (a journal copied through Windows) read the same. New entry kinds are only ever
//! added, so a journal written by an earlier release still reads.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{FORMAT, StoreError};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::action::{Action, Change};
use crate::response::{Door, Knock, Response, SettingKey, StoredAnswer};
use crate::survey::Finding;

pub const JOURNAL_DIR: &str = "journal";
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// One journal record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalEntry {
    /// A response as finalized (the last line for an id is the latest state).
    Response(Response),
    /// A door added to an area's log before anyone knocked.
    Door {
        area: String,
        door: Door,
    },
    Knock {
        area: String,
        door: Door,
        knock: Knock,
    },
    Setting {
        key: SettingKey,
        value: String,
    },
    /// A door's street or number corrected; its knocks go with it.
    DoorEdited {
        area: String,
        from: Door,
        to: Door,
        /// What the batch record of the correction needs (absent from lines written
        /// before corrections travelled in batches).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        change: Option<DoorChangeMeta>,
    },
    /// A door taken out of the log (entered by mistake), with its knocks.
    DoorRemoved {
        area: String,
        door: Door,
        /// As for `DoorEdited`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        change: Option<DoorChangeMeta>,
    },
    /// A door correction (`to` set) or removal made on this device, kept for its exports;
    /// written only when a journal is rebuilt from the store, whose doors already reflect
    /// it, so applying it changes no door.
    DoorChangeKept {
        area: String,
        from: Door,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<Door>,
        change: DoorChangeMeta,
    },
    /// A draft as started (or a revision as opened), before any answer.
    Draft(Response),
    /// One answer recorded on a draft (personal answers only ever sealed). Small on
    /// purpose: a line per answer, not the whole response again.
    Answer {
        id: Uuid,
        question: String,
        value: StoredAnswer,
        at: DateTime<Utc>,
    },
    /// An EVA finding recorded on a draft.
    Finding {
        id: Uuid,
        question: String,
        finding: Finding,
        at: DateTime<Utc>,
    },
    /// The door a draft was started at.
    DraftDoor {
        id: Uuid,
        door: Door,
    },
    /// A batch merged into this store: the batch as recorded (with what merging it did)
    /// and its records (its settings are never applied). Applying it again changes nothing.
    Merged {
        batch: super::merge::MergedBatch,
        records: Vec<crate::batch::Record>,
    },
    /// A conflict settled: the version with content digest `keep` is the active one.
    Resolved {
        id: Uuid,
        keep: String,
        at: DateTime<Utc>,
    },
    /// An action added to the register, as added (or, in a journal rebuilt from the
    /// store, as it stands, history and all).
    ActionAdded(Action),
    /// One checked change to an action.
    ActionChanged {
        id: Uuid,
        change: Change,
    },
    /// The key a coordinator expects for a device, as pinned on first use, trusted or
    /// revoked (the last line for a device is how it stands). Journaled so that a store
    /// rebuilt from the journal alone still refuses a batch signed with another key.
    DevicePin(super::batches::DevicePin),
}

/// Who corrected or removed a door, when, and the knocks it had then: what a batch's
/// `door_edit` or `door_remove` record carries besides the doors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorChangeMeta {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// The `device` and `officer` settings then (an export names the device if unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub officer: Option<String>,
    /// [`Knock::identity`] of every knock at the door then.
    pub knocks: Vec<Uuid>,
}

#[derive(Deserialize)]
struct JournalLine<T> {
    format: u32,
    entry: T,
}

/// A journal line that could not be read; reported and skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptLine {
    /// 1-based line number in the journal file.
    pub line: usize,
    pub reason: String,
}

/// What a journal holds: good entries with their line numbers, and the corrupt lines.
#[derive(Debug, Default)]
pub struct JournalContents {
    pub entries: Vec<(usize, JournalEntry)>,
    pub corrupt: Vec<CorruptLine>,
    pub lines: usize,
    /// The journal's length in bytes.
    pub bytes: u64,
}

pub fn journal_path(data_dir: &Path) -> PathBuf {
    data_dir.join(JOURNAL_DIR).join(JOURNAL_FILE)
}

/// How far a journal goes: its lines (good, bad and blank) and its length in bytes. The
/// store keeps the mark of the journal it reflects, written with the data it describes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalMark {
    pub lines: u64,
    pub bytes: u64,
}

/// The open journal, appended to by the store.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    /// None for a store opened read-only: nothing is ever appended.
    file: Option<File>,
    /// Whether the file had to be created (it was missing).
    pub(super) created: bool,
    /// Where the journal ends; `lines` is set by the store once it knows it.
    pub(super) mark: JournalMark,
}

impl Journal {
    /// Opens (creating) the journal for appending. A last line left half-written by a
    /// crash is closed off with a newline so the next entry starts on its own line.
    pub fn open(data_dir: &Path) -> Result<Journal, StoreError> {
        let path = journal_path(data_dir);
        let dir = data_dir.join(JOURNAL_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        let is_new = !path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| StoreError::io(&path, e))?;
        if is_new {
            // Make the new file's directory entry durable too.
            File::open(&dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| StoreError::io(&dir, e))?;
        }
        let len = file.metadata().map_err(|e| StoreError::io(&path, e))?.len();
        if len > 0 && !ends_a_line(&mut file, len).map_err(|e| StoreError::io(&path, e))? {
            file.write_all(b"\n")
                .and_then(|()| file.sync_all())
                .map_err(|e| StoreError::io(&path, e))?;
        }
        let bytes = file.metadata().map_err(|e| StoreError::io(&path, e))?.len();
        Ok(Journal {
            path,
            file: Some(file),
            created: is_new,
            mark: JournalMark { lines: 0, bytes },
        })
    }

    /// The journal of a store opened read-only: its length is read, nothing is created,
    /// repaired or appended.
    pub fn read_only(data_dir: &Path) -> Result<Journal, StoreError> {
        let path = journal_path(data_dir);
        let (created, bytes) = match std::fs::metadata(&path) {
            Ok(m) => (false, m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (true, 0),
            Err(e) => return Err(StoreError::io(&path, e)),
        };
        Ok(Journal {
            path,
            file: None,
            created,
            mark: JournalMark { lines: 0, bytes },
        })
    }

    /// Appends one entry and makes it durable; returns where the journal now ends.
    /// `fdatasync` is enough: it writes the data and the file's new length (what reading
    /// the line back needs), skipping only timestamps. This is the one sync on an answer's
    /// path; sled catches up in the background (see the store's module doc).
    pub fn append(&mut self, entry: &JournalEntry) -> Result<JournalMark, StoreError> {
        self.append_line(&encode_line(entry)?)
    }

    /// Appends the [`JournalEntry::Merged`] entry of `batch` with `records` (the same
    /// line as `append` writes for it) and fsyncs it.
    ///
    /// The line is as long as the batch, so it is never held whole: the checksum that
    /// starts it is worked out in a first pass over the JSON, which a second pass then
    /// writes straight to the file. A crash part way leaves a torn line, as any append.
    ///
    /// Records given as the batch file's text are written as they are: the same entry,
    /// without encoding every record again (the batch reader decoded the records from
    /// that very text).
    pub fn append_merged(
        &mut self,
        batch: &super::merge::MergedBatch,
        records: MergedRecords<'_, '_>,
    ) -> Result<JournalMark, StoreError> {
        let records = match records {
            MergedRecords::Decoded(r) => r,
            MergedRecords::Lines(lines) => return self.append_merged_lines(batch, lines),
        };
        let line = LineOut {
            format: FORMAT,
            entry: &MergedOut::Merged { batch, records },
        };
        let write_line = |w: &mut dyn Write| -> std::io::Result<()> {
            serde_json::to_writer(w, &line).map_err(std::io::Error::other)
        };
        let mut sum = Summing::default();
        write_line(&mut sum).map_err(|e| StoreError::Encode(e.to_string()))?;
        let Some(file) = self.file.as_mut() else {
            return Err(StoreError::ReadOnly);
        };
        let head = format!("sha256:{} ", hex(&sum.sha.finalize()));
        let written = (|| {
            let mut w = std::io::BufWriter::with_capacity(1 << 20, &mut *file);
            w.write_all(head.as_bytes())?;
            write_line(&mut w)?;
            w.write_all(b"\n")?;
            w.flush()?;
            drop(w);
            file.sync_all()
        })();
        written.map_err(|e| StoreError::io(&self.path, e))?;
        self.mark.lines += 1;
        self.mark.bytes += head.len() as u64 + sum.len + 1;
        Ok(self.mark)
    }

    /// [`Journal::append_merged`] of records given one at a time by `lines` (the batch
    /// file's own text of each, written as it is): one pass, never holding the line. The
    /// checksum that starts the line is known only at its end, so the line is written
    /// after room for it and the checksum put in that room before the fsync. Anything
    /// failing part way — `lines` finding the file changed, a write — cuts the journal
    /// back to where it ended; a crash part way leaves a line whose checksum does not
    /// match (or a torn one), which every reader passes over as damaged.
    fn append_merged_lines(
        &mut self,
        batch: &super::merge::MergedBatch,
        lines: &mut dyn RecordSource,
    ) -> Result<JournalMark, StoreError> {
        // `{"format":…,"entry":{"merged":{"batch":…,"records":[` + records + `]}}}`, as
        // serde writes the entry (`append_merged`).
        let head_json = format!(
            "{{\"format\":{FORMAT},\"entry\":{{\"merged\":{{\"batch\":{},\"records\":[",
            serde_json::to_string(batch).map_err(|e| StoreError::Encode(e.to_string()))?
        );
        let Some(file) = self.file.as_mut() else {
            return Err(StoreError::ReadOnly);
        };
        let path = &self.path;
        let start = file.metadata().map_err(|e| StoreError::io(path, e))?.len();
        match write_merged_lines(file, path, start, &head_json, lines) {
            Ok(len) => {
                self.mark.lines += 1;
                self.mark.bytes = start + len;
                Ok(self.mark)
            }
            Err(e) => {
                // Nothing of the entry may stay: the next one starts where this one did.
                file.set_len(start)
                    .and_then(|()| file.sync_all())
                    .map_err(|e| StoreError::io(path, e))?;
                Err(e)
            }
        }
    }

    fn append_line(&mut self, line: &str) -> Result<JournalMark, StoreError> {
        let Some(file) = self.file.as_mut() else {
            return Err(StoreError::ReadOnly);
        };
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|e| StoreError::io(&self.path, e))?;
        self.mark.lines += 1;
        self.mark.bytes += line.len() as u64;
        Ok(self.mark)
    }
}

/// The records of a `Merged` entry to journal: decoded, or the batch file's own text of
/// each, read as it is written.
pub(crate) enum MergedRecords<'a, 'b> {
    Decoded(&'a [crate::batch::Record]),
    Lines(&'a mut (dyn RecordSource + 'b)),
}

/// Where a merged batch's records come from one at a time, to be journaled as they are.
pub(crate) trait RecordSource {
    /// The next record's JSON; `None` when there are no more (and they were all good).
    fn next_record(&mut self) -> Result<Option<&[u8]>, StoreError>;
}

/// Writes a `Merged` line of `head_json`, the records of `lines` and the entry's end at
/// `start` (the journal's end) through the append handle `file`, then its checksum into
/// the room left for it, and fsyncs: the line's length.
fn write_merged_lines(
    file: &mut File,
    path: &Path,
    start: u64,
    head_json: &str,
    lines: &mut dyn RecordSource,
) -> Result<u64, StoreError> {
    let io = |e: std::io::Error| StoreError::io(path, e);
    // `sha256:` and 64 hex digits and a space, filled in at the end.
    let room = format!("sha256:{} ", "0".repeat(64));
    let mut w = std::io::BufWriter::with_capacity(1 << 20, &mut *file);
    w.write_all(room.as_bytes()).map_err(io)?;
    let mut sum = Summing::default();
    let mut out = |bytes: &[u8], w: &mut std::io::BufWriter<&mut File>| {
        sum.sha.update(bytes);
        sum.len += bytes.len() as u64;
        w.write_all(bytes).map_err(io)
    };
    out(head_json.as_bytes(), &mut w)?;
    let mut first = true;
    while let Some(record) = lines.next_record()? {
        if !first {
            out(b",", &mut w)?;
        }
        first = false;
        out(record, &mut w)?;
    }
    out(b"]}}}", &mut w)?;
    w.write_all(b"\n").map_err(io)?;
    w.flush().map_err(io)?;
    drop(w);
    // The append handle writes at the end whatever its position: the checksum goes in
    // through a handle of its own.
    let head = format!("sha256:{} ", hex(&sum.sha.finalize()));
    let mut at = OpenOptions::new().write(true).open(path).map_err(io)?;
    at.seek(SeekFrom::Start(start))
        .and_then(|_| at.write_all(head.as_bytes()))
        .map_err(io)?;
    drop(at);
    file.sync_all().map_err(io)?;
    Ok(room.len() as u64 + sum.len + 1)
}

/// A journal line as written: borrows its entry (a merged batch's entry holds the whole
/// batch; it is not copied to be written).
#[derive(Serialize)]
struct LineOut<'a, E: Serialize> {
    format: u32,
    entry: &'a E,
}

/// A writer that only hashes and counts what is written to it.
#[derive(Default)]
struct Summing {
    sha: Sha256,
    len: u64,
}

impl Write for Summing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.sha.update(buf);
        self.len += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// [`JournalEntry::Merged`] over borrowed records: the same JSON, without copying them.
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum MergedOut<'a> {
    Merged {
        batch: &'a super::merge::MergedBatch,
        records: &'a [crate::batch::Record],
    },
}

/// The text of one journal line, newline included.
pub fn encode_line(entry: &JournalEntry) -> Result<String, StoreError> {
    let json = serde_json::to_string(&LineOut {
        format: FORMAT,
        entry,
    })
    .map_err(|e| StoreError::Encode(e.to_string()))?;
    let sum = Sha256::digest(json.as_bytes());
    Ok(format!("sha256:{} {json}\n", hex(&sum)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Takes journal entries one at a time (see [`write_journal_with`]).
pub type Emit<'a> = dyn FnMut(&JournalEntry) -> Result<(), StoreError> + 'a;

/// Writes a whole new journal at `path` from the entries `fill` gives `emit`, each line
/// written as it comes (so a journal of any length is never held whole): to a temporary
/// file, fsynced, then renamed over, so a crash leaves either the old journal or the new
/// one. Returns its mark.
pub fn write_journal_with(
    path: &Path,
    fill: impl FnOnce(&mut Emit<'_>) -> Result<(), StoreError>,
) -> Result<JournalMark, StoreError> {
    let tmp = path.with_extension("jsonl.writing");
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    let file = File::create(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
    let mut out = std::io::BufWriter::new(file);
    let mut mark = JournalMark::default();
    fill(&mut |entry: &JournalEntry| {
        let line = encode_line(entry)?;
        out.write_all(line.as_bytes())
            .map_err(|e| StoreError::io(&tmp, e))?;
        mark.lines += 1;
        mark.bytes += line.len() as u64;
        Ok(())
    })?;
    out.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|file| file.sync_all())
        .map_err(|e| StoreError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| StoreError::io(path, e))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(dir, e))?;
    Ok(mark)
}

/// Reads the journal a line at a time, calling `each` with every good entry (line number,
/// entry); corrupt lines are collected, not passed on. Nothing but the current line is
/// held, so a journal of any length reads in bounded memory. `lines` and `bytes` of the
/// result say how far it went; its `entries` stay empty. A missing journal is empty.
pub fn each_journal_entry(
    path: &Path,
    each: impl FnMut(usize, JournalEntry) -> Result<(), StoreError>,
) -> Result<JournalContents, StoreError> {
    each_journal_entry_after(path, JournalMark::default(), each)
}

/// Whether the first `len` bytes of `file` end with a line end (false when empty). A
/// journal whose end is not one was cut off in the middle of an append.
pub(super) fn ends_a_line(file: &mut File, len: u64) -> std::io::Result<bool> {
    if len == 0 {
        return Ok(false);
    }
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(len - 1))?;
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

/// Like [`each_journal_entry`], but starts where `mark` says the journal stood (its byte
/// length then, and the lines before it), so a store a few entries behind a long journal
/// reads only those. When the journal does not end a line at that point (it is not the
/// journal the mark was taken from), it is read from the start. The result counts from
/// the start of the journal either way.
pub fn each_journal_entry_after(
    path: &Path,
    mark: JournalMark,
    mut each: impl FnMut(usize, JournalEntry) -> Result<(), StoreError>,
) -> Result<JournalContents, StoreError> {
    each_decoded(
        path,
        mark,
        |_, _, text| decode_line(text),
        |to, entry| each(to.lines as usize, entry),
    )
}

/// Whether reading the journal at `path` after `mark` starts at the mark (see
/// [`each_journal_entry_after`]): the mark is past the start and a line ends there.
pub(super) fn starts_at(path: &Path, mark: JournalMark) -> Result<bool, StoreError> {
    match File::open(path) {
        Ok(mut file) if mark.bytes > 0 => Ok(ends_a_line(&mut file, mark.bytes).unwrap_or(false)),
        Ok(_) => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StoreError::io(path, e)),
    }
}

/// How many lines the journal at `path` has, as its readers number them (a last line
/// without its line end counts), nothing decoded.
pub(super) fn line_count(path: &Path) -> Result<usize, StoreError> {
    Ok(each_decoded(
        path,
        JournalMark::default(),
        |_, _, _| Ok(()),
        |_, ()| Ok(()),
    )?
    .lines)
}

/// A journal line as `recover` reads it: a `Merged` line's records are left in the file
/// and read back a slice at a time (see [`MergedLine::read`]); any other line is decoded
/// whole.
#[derive(Debug)]
pub(super) enum Item {
    Entry(JournalEntry),
    Merged(MergedLine),
}

/// A `Merged` line whose batch is decoded and whose records are where they are in the
/// journal: the line is tens of megabytes for a batch of 10,000 responses, and its
/// records about twice that decoded.
#[derive(Debug)]
pub(super) struct MergedLine {
    pub(super) line: usize,
    pub(super) batch: super::merge::MergedBatch,
    /// Each record's text: where it starts in the journal file, and its length.
    records: Vec<(u64, usize)>,
}

impl MergedLine {
    pub(super) fn len(&self) -> usize {
        self.records.len()
    }

    /// Records `range` of the line, read from `file` (the journal this line was read
    /// from, unchanged since) and decoded. A record that does not decode is
    /// [`StoreError::Corrupt`], named by line and record.
    pub(super) fn read(
        &self,
        file: &mut File,
        path: &Path,
        range: std::ops::Range<usize>,
    ) -> Result<Vec<crate::batch::Record>, StoreError> {
        let Some(spans) = self.records.get(range.clone()).filter(|s| !s.is_empty()) else {
            return Ok(Vec::new());
        };
        let (first, _) = spans[0];
        let (last, last_len) = spans[spans.len() - 1];
        let mut text = vec![0u8; (last - first) as usize + last_len];
        file.seek(SeekFrom::Start(first))
            .and_then(|_| file.read_exact(&mut text))
            .map_err(|e| StoreError::io(path, e))?;
        spans
            .iter()
            .enumerate()
            .map(|(k, (at, len))| {
                let start = (at - first) as usize;
                let record = text.get(start..start + len).unwrap_or_default();
                serde_json::from_slice(record).map_err(|e| StoreError::Corrupt {
                    key: format!(
                        "journal line {}, record {} of its batch",
                        self.line,
                        range.start + k + 1
                    ),
                    message: e.to_string(),
                })
            })
            .collect()
    }
}

/// Reads merged lines' records back from the journal they were read from, `slice` at a
/// time, opening the file at the first read.
pub(super) struct RecordsReader<'a> {
    path: &'a Path,
    slice: usize,
    file: Option<File>,
}

impl<'a> RecordsReader<'a> {
    /// Slices of `slice` records (at least one).
    pub(super) fn new(path: &'a Path, slice: usize) -> RecordsReader<'a> {
        RecordsReader {
            path,
            slice: slice.max(1),
            file: None,
        }
    }

    /// Calls `each` with each slice of `line`'s records in order, and the index of its
    /// first record. Stops at the first error: a record that does not decode is
    /// [`StoreError::Corrupt`] (see [`MergedLine::read`]).
    pub(super) fn each_slice(
        &mut self,
        line: &MergedLine,
        mut each: impl FnMut(usize, Vec<crate::batch::Record>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let path = self.path;
        let file = match &mut self.file {
            Some(f) => f,
            None => self
                .file
                .insert(File::open(path).map_err(|e| StoreError::io(path, e))?),
        };
        let mut first = 0;
        while first < line.len() {
            let end = (first + self.slice).min(line.len());
            each(first, line.read(file, path, first..end)?)?;
            first = end;
        }
        Ok(())
    }
}

/// Like [`each_journal_entry`], with `Merged` lines given as [`Item::Merged`]: their
/// records are not decoded here (nor checked, beyond the line's checksum and shape).
pub(super) fn each_journal_item(
    path: &Path,
    mut each: impl FnMut(usize, Item) -> Result<(), StoreError>,
) -> Result<JournalContents, StoreError> {
    each_decoded(path, JournalMark::default(), decode_item, |to, item| {
        each(to.lines as usize, item)
    })
}

/// [`each_journal_item`] from `mark` on, as [`each_journal_entry_after`] reads; each item
/// comes with the mark of the journal up to the end of its line (its line number, and
/// where the line ends).
pub(super) fn each_journal_item_after(
    path: &Path,
    mark: JournalMark,
    each: impl FnMut(JournalMark, Item) -> Result<(), StoreError>,
) -> Result<JournalContents, StoreError> {
    each_decoded(path, mark, decode_item, each)
}

/// The start of a `Merged` line's record as this journal writes it (the format first).
const MERGED_ENTRY: &str = r#""entry":{"merged":"#;

fn decode_item(line: usize, at: u64, raw: &[u8]) -> Result<Item, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Lazy<'a> {
        Merged {
            batch: super::merge::MergedBatch,
            #[serde(borrow)]
            records: Vec<&'a serde_json::value::RawValue>,
        },
    }
    let json = checked(raw)?;
    let head = json.get(..40).unwrap_or(json);
    if head.contains(MERGED_ENTRY)
        && let Ok(parsed) = serde_json::from_str::<JournalLine<Lazy<'_>>>(json)
        && parsed.format == FORMAT
    {
        let Lazy::Merged { batch, records } = parsed.entry;
        // Where the record text starts in the file: the line's start, the checksum before
        // the JSON, and the record's place in the JSON.
        let json_at = at + (json.as_ptr() as usize - raw.as_ptr() as usize) as u64;
        let records = records
            .iter()
            .map(|r| {
                let start = r.get().as_ptr() as usize - json.as_ptr() as usize;
                (json_at + start as u64, r.get().len())
            })
            .collect();
        return Ok(Item::Merged(MergedLine {
            line,
            batch,
            records,
        }));
    }
    // Any other line; also a `Merged` line of another shape, and one that does not
    // decode, whose reason the whole decode gives.
    decode_line(raw).map(Item::Entry)
}

/// Calls `each` with the journal's mark at the end of each line (the line's number and
/// where it ends) and what `decode` makes of its text (given the number and where the line
/// starts in the file); a line `decode` refuses is listed as corrupt.
fn each_decoded<T>(
    path: &Path,
    mark: JournalMark,
    mut decode: impl FnMut(usize, u64, &[u8]) -> Result<T, String>,
    mut each: impl FnMut(JournalMark, T) -> Result<(), StoreError>,
) -> Result<JournalContents, StoreError> {
    use std::io::BufRead;
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(JournalContents::default()),
        Err(e) => return Err(StoreError::io(path, e)),
    };
    let mut out = JournalContents::default();
    if mark.bytes > 0 {
        if ends_a_line(&mut file, mark.bytes).unwrap_or(false) {
            out.lines = mark.lines as usize;
            out.bytes = mark.bytes;
        } else {
            file.seek(SeekFrom::Start(0))
                .map_err(|e| StoreError::io(path, e))?;
        }
    }
    let mut reader = std::io::BufReader::with_capacity(READ_BUFFER, file);
    let mut raw = Vec::new();
    let mut measure: Option<File> = None;
    loop {
        raw.clear();
        let buffered = reader.fill_buf().map_err(|e| StoreError::io(path, e))?;
        if buffered.is_empty() {
            break;
        }
        // A line longer than the buffer (a merged batch's is tens of megabytes) is
        // measured first and read into room of its size, not into room grown by doubling
        // (which held up to three times the line while it grew).
        if !buffered.contains(&b'\n') {
            let file = match &mut measure {
                Some(f) => f,
                None => measure.insert(File::open(path).map_err(|e| StoreError::io(path, e))?),
            };
            let len = line_length(file, out.bytes).map_err(|e| StoreError::io(path, e))?;
            raw.reserve_exact(len);
        }
        let at = out.bytes;
        let n = reader
            .read_until(b'\n', &mut raw)
            .map_err(|e| StoreError::io(path, e))?;
        out.bytes += n as u64;
        out.lines += 1;
        let line = out.lines;
        let text = raw.strip_suffix(b"\n").unwrap_or(&raw);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let entry = decode(line, at, text);
        // The text of a long line goes before its entry is applied: the entry holds it all.
        if raw.capacity() > READ_BUFFER {
            raw = Vec::new();
        }
        let to = JournalMark {
            lines: line as u64,
            bytes: out.bytes,
        };
        match entry {
            Ok(entry) => each(to, entry)?,
            Err(reason) => out.corrupt.push(CorruptLine { line, reason }),
        }
    }
    Ok(out)
}

/// How much of the journal is read at a time.
const READ_BUFFER: usize = 1 << 20;

/// The length of the line that starts `at` bytes into `file`, its line end included (to
/// the end of the file for a last line without one).
fn line_length(file: &mut File, at: u64) -> std::io::Result<usize> {
    file.seek(SeekFrom::Start(at))?;
    let mut chunk = vec![0u8; READ_BUFFER];
    let mut len = 0;
    loop {
        let n = file.read(&mut chunk)?;
        let Some(read) = chunk.get(..n).filter(|r| !r.is_empty()) else {
            return Ok(len);
        };
        if let Some(end) = read.iter().position(|b| *b == b'\n') {
            return Ok(len + end + 1);
        }
        len += n;
    }
}

pub fn read_journal(path: &Path) -> Result<JournalContents, StoreError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(JournalContents::default()),
        Err(e) => return Err(StoreError::io(path, e)),
    };
    let mut out = JournalContents {
        bytes: bytes.len() as u64,
        ..JournalContents::default()
    };
    let mut pieces: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    if pieces.last().is_some_and(|p| p.is_empty()) {
        pieces.pop();
    }
    for (i, raw) in pieces.into_iter().enumerate() {
        let line = i + 1;
        out.lines = line;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            // A crash between a half-written line and its repair can leave an empty line.
            continue;
        }
        match decode_line(raw) {
            Ok(entry) => out.entries.push((line, entry)),
            Err(reason) => out.corrupt.push(CorruptLine { line, reason }),
        }
    }
    Ok(out)
}

fn decode_line(raw: &[u8]) -> Result<JournalEntry, String> {
    let json = checked(raw)?;
    let parsed: JournalLine<JournalEntry> =
        serde_json::from_str(json).map_err(|e| format!("the record is not readable: {e}"))?;
    if parsed.format != FORMAT {
        return Err(format!(
            "record format {} is not one this doorstep reads ({FORMAT})",
            parsed.format
        ));
    }
    Ok(parsed.entry)
}

/// The JSON of a line whose checksum matches it.
fn checked(raw: &[u8]) -> Result<&str, String> {
    let text = std::str::from_utf8(raw).map_err(|_| "not valid UTF-8".to_owned())?;
    let rest = text
        .strip_prefix("sha256:")
        .ok_or("does not start with a `sha256:` checksum")?;
    let (sum, json) = rest
        .split_once(' ')
        .ok_or("no space between the checksum and the record")?;
    if sum.len() != 64 || !sum.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("the checksum is not 64 hex digits".into());
    }
    if hex(&Sha256::digest(json.as_bytes())) != sum.to_ascii_lowercase() {
        return Err("the checksum does not match the record (damaged or cut short)".into());
    }
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::SettingKey;

    fn setting(v: &str) -> JournalEntry {
        JournalEntry::Setting {
            key: SettingKey::Officer,
            value: v.into(),
        }
    }

    #[test]
    fn a_merged_entry_is_written_as_the_same_line_without_a_copy() {
        use crate::batch::{DoorEntry, Record};
        use crate::response::Door;
        let batch = super::super::merge::MergedBatch {
            batch: Uuid::from_u128(7),
            digest: "sha256:00".into(),
            device: "LAPTOP-1".into(),
            officer: Some("PC 1".into()),
            sequence: 2,
            previous: Some(Uuid::from_u128(6)),
            created_at: DateTime::UNIX_EPOCH,
            merged_at: DateTime::UNIX_EPOCH,
            counts: crate::batch::Counts::default(),
            outcome: super::super::merge::MergeCounts::default(),
        };
        let records: Vec<Record> = (1..=3)
            .map(|n| {
                Record::Door(DoorEntry {
                    area: "E01000001".into(),
                    door: Door {
                        street: "Mill Lane \"old\" – é".into(),
                        number: n.to_string(),
                    },
                })
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path()).unwrap();
        j.append(&setting("PC 1")).unwrap();
        let mark = j
            .append_merged(&batch, MergedRecords::Decoded(&records))
            .unwrap();
        let owned = JournalEntry::Merged {
            batch: batch.clone(),
            records: records.clone(),
        };
        let expected = encode_line(&setting("PC 1")).unwrap() + &encode_line(&owned).unwrap();
        let written = std::fs::read_to_string(journal_path(dir.path())).unwrap();
        assert_eq!(written, expected);
        assert_eq!(mark.lines, 2);
        assert_eq!(mark.bytes, expected.len() as u64);
        let c = read_journal(&journal_path(dir.path())).unwrap();
        assert_eq!(c.entries, vec![(1, setting("PC 1")), (2, owned)]);
    }

    /// A merged batch's line read as recover reads it: its batch decoded, its records read
    /// back from the file in any slices as the whole decode gives them, on a journal with
    /// other lines before and after, one of them ended `\r\n`.
    #[test]
    fn a_merged_lines_records_are_read_back_from_the_file_in_slices() {
        use crate::batch::{DoorEntry, Record};
        use crate::response::Door;
        let batch = super::super::merge::MergedBatch {
            batch: Uuid::from_u128(7),
            digest: "sha256:00".into(),
            device: "LAPTOP-1".into(),
            officer: None,
            sequence: 1,
            previous: None,
            created_at: DateTime::UNIX_EPOCH,
            merged_at: DateTime::UNIX_EPOCH,
            counts: crate::batch::Counts::default(),
            outcome: super::super::merge::MergeCounts::default(),
        };
        let records: Vec<Record> = (1..=7)
            .map(|n| {
                Record::Door(DoorEntry {
                    area: "E01000001".into(),
                    door: Door {
                        street: format!("Mill Lane \"{n}\" – é"),
                        number: n.to_string(),
                    },
                })
            })
            .collect();
        let merged = JournalEntry::Merged {
            batch: batch.clone(),
            records: records.clone(),
        };
        let first = encode_line(&setting("PC 1")).unwrap().replace('\n', "\r\n");
        let text = first + &encode_line(&merged).unwrap() + &encode_line(&setting("PC 2")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        std::fs::write(&path, &text).unwrap();

        let mut items = Vec::new();
        let contents = each_journal_item(&path, |line, item| {
            items.push((line, item));
            Ok(())
        })
        .unwrap();
        assert!(contents.corrupt.is_empty());
        assert_eq!((contents.lines, contents.bytes), (3, text.len() as u64));
        let [
            (1, Item::Entry(one)),
            (2, Item::Merged(line)),
            (3, Item::Entry(three)),
        ] = items.as_slice()
        else {
            panic!("not a setting, a merged line and a setting: {items:?}");
        };
        assert_eq!((one, three), (&setting("PC 1"), &setting("PC 2")));
        assert_eq!((line.line, &line.batch, line.len()), (2, &batch, 7));
        let mut file = File::open(&path).unwrap();
        for slice in 1..=8 {
            let mut read = Vec::new();
            let mut at = 0;
            while at < line.len() {
                let end = (at + slice).min(line.len());
                read.extend(line.read(&mut file, &path, at..end).unwrap());
                at = end;
            }
            assert_eq!(read, records, "slices of {slice}");
        }
        assert!(line.read(&mut file, &path, 7..7).unwrap().is_empty());
    }

    #[test]
    fn appends_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path()).unwrap();
        j.append(&setting("PC 1")).unwrap();
        j.append(&setting("PC 2")).unwrap();
        let c = read_journal(&journal_path(dir.path())).unwrap();
        assert_eq!(c.entries, vec![(1, setting("PC 1")), (2, setting("PC 2"))]);
        assert!(c.corrupt.is_empty());
    }

    #[test]
    fn bad_lines_are_reported_by_number_and_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(dir.path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let good = encode_line(&setting("PC 1")).unwrap();
        let tampered = good.replace("PC 1", "PC 9");
        let other_format = {
            let json = r#"{"format":99,"entry":{"setting":{"key":"officer","value":"x"}}}"#;
            format!("sha256:{} {json}\n", hex(&Sha256::digest(json.as_bytes())))
        };
        let mut bytes = Vec::new();
        bytes.extend_from_slice(good.as_bytes());
        bytes.extend_from_slice(tampered.as_bytes());
        bytes.extend_from_slice(b"garbage\n");
        bytes.extend_from_slice(&[0xff, 0xfe, b'\n']);
        bytes.extend_from_slice(other_format.as_bytes());
        bytes.extend_from_slice(b"sha256:abc {}\n");
        bytes.extend_from_slice(&good.as_bytes()[..good.len() / 2]);
        std::fs::write(&path, &bytes).unwrap();
        let c = read_journal(&path).unwrap();
        assert_eq!(c.entries, vec![(1, setting("PC 1"))]);
        let lines: Vec<(usize, &str)> = c
            .corrupt
            .iter()
            .map(|l| (l.line, l.reason.as_str()))
            .collect();
        assert_eq!(lines.len(), 6, "{lines:?}");
        assert_eq!(lines[0].0, 2);
        assert!(lines[0].1.contains("checksum does not match"));
        assert!(lines[1].1.contains("`sha256:`"));
        assert_eq!(lines[2].1, "not valid UTF-8");
        assert!(lines[3].1.contains("format 99"));
        assert!(lines[4].1.contains("64 hex digits"));
        assert_eq!(lines[5].0, 7);

        // Reopening closes off the torn last line; the next entry reads fine.
        let mut j = Journal::open(dir.path()).unwrap();
        j.append(&setting("PC 3")).unwrap();
        let c = read_journal(&path).unwrap();
        assert_eq!(c.entries.last(), Some(&(8, setting("PC 3"))));
        assert_eq!(c.corrupt.len(), 6);
    }

    /// Lines longer than the read buffer (a merged batch's line) read line by line as the
    /// whole journal read at once reads them: good, damaged, and torn at the end.
    #[test]
    fn lines_longer_than_the_buffer_read_as_a_whole_read_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(dir.path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let long = |c: char, n: usize| setting(&std::iter::repeat_n(c, n).collect::<String>());
        let good_long = encode_line(&long('a', 3 * READ_BUFFER + 17)).unwrap();
        let tampered = encode_line(&long('b', READ_BUFFER))
            .unwrap()
            .replacen('b', "c", 1);
        let torn = encode_line(&long('d', 2 * READ_BUFFER)).unwrap();
        let mut bytes = Vec::new();
        bytes.extend_from_slice(encode_line(&setting("PC 1")).unwrap().as_bytes());
        bytes.extend_from_slice(good_long.as_bytes());
        bytes.extend_from_slice(tampered.as_bytes());
        bytes.extend_from_slice(encode_line(&setting("PC 2")).unwrap().as_bytes());
        bytes.extend_from_slice(good_long.as_bytes());
        bytes.extend_from_slice(&torn.as_bytes()[..torn.len() - READ_BUFFER / 2]);
        std::fs::write(&path, &bytes).unwrap();

        let whole = read_journal(&path).unwrap();
        let mut entries = Vec::new();
        let read = each_journal_entry(&path, |line, e| {
            entries.push((line, e));
            Ok(())
        })
        .unwrap();
        assert_eq!(entries, whole.entries);
        assert_eq!(
            entries.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
            [1, 2, 4, 5]
        );
        assert_eq!(entries[1].1, long('a', 3 * READ_BUFFER + 17));
        assert_eq!(read.corrupt, whole.corrupt);
        let corrupt: Vec<usize> = read.corrupt.iter().map(|c| c.line).collect();
        assert_eq!(corrupt, [3, 6]);
        assert_eq!((read.lines, read.bytes), (6, bytes.len() as u64));

        // From a mark after the first long line: the lines after it, counted from the start.
        let mark = JournalMark {
            lines: 2,
            bytes: (encode_line(&setting("PC 1")).unwrap().len() + good_long.len()) as u64,
        };
        let mut after = Vec::new();
        each_journal_entry_after(&path, mark, |line, e| {
            after.push((line, e));
            Ok(())
        })
        .unwrap();
        assert_eq!(after, whole.entries[2..]);
    }

    #[test]
    fn a_missing_journal_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let c = read_journal(&journal_path(dir.path())).unwrap();
        assert_eq!((c.entries.len(), c.corrupt.len(), c.lines), (0, 0, 0));
    }
}
