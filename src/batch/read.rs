//! Reading a batch: decrypt if needed, then check header, manifest, every record's
//! checksum, the signature and the counts — in that order, so the first problem found is
//! named precisely. Never panics, whatever the bytes.

use sha2::{Digest, Sha256};

use super::{
    AGE_ARMOR_MAGIC, AGE_MAGIC, BatchError, Counts, FORMAT, MAGIC, Manifest, Record, from_hex,
    to_hex,
};
use crate::seal::{self, CoordinatorIdentity, OpenFileError};

/// A batch whose checksums, signature and counts are good.
#[derive(Debug, Clone)]
pub struct Batch {
    pub manifest: Manifest,
    pub records: Vec<Record>,
    /// Whether it arrived age-encrypted.
    pub encrypted: bool,
    /// `sha256:` of the signed bytes: the same batch always has the same digest.
    pub digest: String,
    /// The records' JSON as signed, when opened with [`open_owned`]: a merge journals
    /// it as it is instead of encoding every record again.
    pub text: Option<RecordText>,
}

type Spans = Vec<std::ops::Range<usize>>;

/// The signed text of a batch and where each record's JSON lies in it.
#[derive(Debug, Clone, Default)]
pub struct RecordText {
    text: Vec<u8>,
    spans: Spans,
}

impl RecordText {
    /// The JSON of each record, in order (one per record of the batch).
    pub fn records(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.spans
            .iter()
            .map(|s| self.text.get(s.clone()).unwrap_or_default())
    }
}

impl Batch {
    /// The 1-based line of record `index` (0-based) in the signed batch.
    pub fn line_of(index: usize) -> usize {
        index + 3
    }
}

/// Opens a batch file's bytes. An encrypted batch needs the coordinator's identity.
pub fn open(bytes: &[u8], identity: Option<&CoordinatorIdentity>) -> Result<Batch, BatchError> {
    if bytes.starts_with(AGE_MAGIC) || bytes.starts_with(AGE_ARMOR_MAGIC) {
        let plain = decrypt(bytes, identity)?;
        let (mut batch, _) = open_signed(&plain, None)?;
        batch.encrypted = true;
        return Ok(batch);
    }
    check_start(bytes)?;
    Ok(open_signed(bytes, None)?.0)
}

/// [`open`], keeping the signed text with the batch ([`Batch::text`]) rather than
/// letting it go: it is the file itself (or what it decrypts to), not a copy.
pub fn open_owned(
    bytes: Vec<u8>,
    identity: Option<&CoordinatorIdentity>,
) -> Result<Batch, BatchError> {
    open_owned_known(bytes, identity, None)
}

/// [`open_owned`] for a file that may be one opened (every check passed) earlier in the
/// same run, whose [`Batch::digest`] is `known`: when the bytes still have that digest
/// they are the same signed bytes, so the per-record checksums and the signature (which
/// cannot fail on them) are not worked out again. Everything else is checked as ever,
/// and bytes with another digest get every check.
pub fn open_owned_known(
    bytes: Vec<u8>,
    identity: Option<&CoordinatorIdentity>,
    known: Option<&str>,
) -> Result<Batch, BatchError> {
    let (text, encrypted) = plain_text(bytes, identity)?;
    let (mut batch, spans) = open_signed(&text, known)?;
    batch.encrypted = encrypted;
    batch.text = Some(RecordText { text, spans });
    Ok(batch)
}

/// What a batch opened as with [`check_each`], its records checked and let go.
#[derive(Debug, Clone)]
pub struct Opened {
    pub manifest: Manifest,
    /// Whether it arrived age-encrypted.
    pub encrypted: bool,
    /// `sha256:` of the signed bytes, as [`Batch::digest`].
    pub digest: String,
}

/// [`open`] without keeping the records: each is given to `each` (with its 0-based
/// index) as it is read, then let go, so checking a batch holds its text and one
/// decoded record rather than all of them. The same checks in the same order as
/// [`open`], so the same batch is accepted and the same error names what is wrong.
/// `each` sees records before the signature and counts are checked: what it finds
/// means something only if this returns `Ok`.
pub fn check_each(
    bytes: Vec<u8>,
    identity: Option<&CoordinatorIdentity>,
    each: &mut dyn FnMut(usize, &Record),
) -> Result<Opened, BatchError> {
    let (text, encrypted) = plain_text(bytes, identity)?;
    let (manifest, digest, _) = read_signed(&text, None, &mut |i, record| each(i, &record))?;
    Ok(Opened {
        manifest,
        encrypted,
        digest,
    })
}

/// The signed text of a batch file's bytes (decrypted if need be; the encrypted bytes are
/// let go once decrypted) and whether it was encrypted.
fn plain_text(
    bytes: Vec<u8>,
    identity: Option<&CoordinatorIdentity>,
) -> Result<(Vec<u8>, bool), BatchError> {
    if bytes.starts_with(AGE_MAGIC) || bytes.starts_with(AGE_ARMOR_MAGIC) {
        Ok((decrypt(&bytes, identity)?, true))
    } else {
        check_start(&bytes)?;
        Ok((bytes, false))
    }
}

/// The records of a batch file opened before with every check, whose [`Batch::digest`]
/// is `known`, read again one line at a time (decrypted as they are read): a merge
/// journals a batch from them without holding its text. Each record's JSON is given
/// before the file has been read to its end, so only the end says whether the bytes were
/// the ones verified: [`RecordLines::next_record`] gives `Ok(None)` only then, and
/// [`BatchError::ChangedSince`] if they changed — whatever was taken from it before must
/// then be thrown away.
pub struct RecordLines<'a> {
    reader: std::io::BufReader<Hashing<Box<dyn std::io::Read + 'a>>>,
    known: &'a str,
    /// The line read last, not yet given: a record, or the signature if no record follows.
    line: Vec<u8>,
    /// The line before `line`, once given.
    given: Vec<u8>,
    started: bool,
    done: bool,
}

/// Hashes everything read through it.
struct Hashing<R> {
    inner: R,
    sha: Sha256,
}

impl<R: std::io::Read> std::io::Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha.update(&buf[..n]);
        Ok(n)
    }
}

/// Opens a batch file's bytes from `file` as [`RecordLines`].
pub fn record_lines_known<'a>(
    mut file: impl std::io::BufRead + 'a,
    identity: Option<&CoordinatorIdentity>,
    known: &'a str,
) -> Result<RecordLines<'a>, BatchError> {
    let start = file.fill_buf().map_err(|_| BatchError::ChangedSince)?;
    let inner: Box<dyn std::io::Read + 'a> =
        if start.starts_with(AGE_MAGIC) || start.starts_with(AGE_ARMOR_MAGIC) {
            let identity = identity.ok_or(BatchError::ChangedSince)?;
            Box::new(seal::decrypting_reader(identity, file).map_err(|_| BatchError::ChangedSince)?)
        } else {
            Box::new(file)
        };
    Ok(RecordLines {
        reader: std::io::BufReader::with_capacity(
            1 << 16,
            Hashing {
                inner,
                sha: Sha256::new(),
            },
        ),
        known,
        line: Vec::new(),
        given: Vec::new(),
        started: false,
        done: false,
    })
}

impl RecordLines<'_> {
    /// The next record's JSON (as signed, without its checksum), or `None` once the whole
    /// file has been read and found to be the batch verified.
    pub fn next_record(&mut self) -> Result<Option<&[u8]>, BatchError> {
        use std::io::BufRead;
        if self.done {
            return Ok(None);
        }
        let changed = |_| BatchError::ChangedSince;
        if !self.started {
            self.started = true;
            // Header and manifest, then the first record (or the signature).
            for _ in 0..3 {
                self.line.clear();
                if self
                    .reader
                    .read_until(b'\n', &mut self.line)
                    .map_err(changed)?
                    == 0
                {
                    return Err(BatchError::ChangedSince);
                }
            }
        }
        self.given.clear();
        let read = self
            .reader
            .read_until(b'\n', &mut self.given)
            .map_err(changed)?;
        // As `open_signed` reads it, the last line is the signature.
        if read == 0 {
            self.done = true;
            let sha = self.reader.get_ref().sha.clone().finalize();
            return if format!("sha256:{}", to_hex(&sha)) == self.known {
                Ok(None)
            } else {
                Err(BatchError::ChangedSince)
            };
        }
        std::mem::swap(&mut self.line, &mut self.given);
        match self.given.strip_suffix(b"\n") {
            Some(line) if line.len() >= 72 => Ok(Some(&line[72..])),
            _ => Err(BatchError::ChangedSince),
        }
    }
}

fn decrypt(bytes: &[u8], identity: Option<&CoordinatorIdentity>) -> Result<Vec<u8>, BatchError> {
    let identity = identity.ok_or(BatchError::IdentityNeeded)?;
    seal::decrypt_file(identity, bytes).map_err(|e| match e {
        OpenFileError::NotForThisIdentity => BatchError::WrongIdentity,
        OpenFileError::Damaged(reason) => BatchError::Damaged(reason),
    })
}

/// The checks of an unencrypted file's first bytes.
fn check_start(bytes: &[u8]) -> Result<(), BatchError> {
    if bytes.is_empty() {
        return Err(BatchError::Truncated("the file is empty".into()));
    }
    if MAGIC.as_bytes().starts_with(bytes) {
        return Err(BatchError::Truncated(
            "it ends inside the header line".into(),
        ));
    }
    if !bytes.starts_with(MAGIC.as_bytes()) {
        return Err(BatchError::NotABatch);
    }
    Ok(())
}

/// The batch and where each record's JSON lies in `bytes`. `known`: the digest of bytes
/// already opened with every check (see [`open_owned_known`]).
fn open_signed(bytes: &[u8], known: Option<&str>) -> Result<(Batch, Spans), BatchError> {
    let mut records = Vec::new();
    let (manifest, digest, spans) = read_signed(bytes, known, &mut |_, r| records.push(r))?;
    Ok((
        Batch {
            manifest,
            records,
            encrypted: false,
            digest,
            text: None,
        },
        spans,
    ))
}

/// Every check of a batch's signed text, each record given to `each` as it is read: the
/// manifest, the digest and where each record's JSON lies in `bytes`.
fn read_signed(
    bytes: &[u8],
    known: Option<&str>,
    each: &mut dyn FnMut(usize, Record),
) -> Result<(Manifest, String, Spans), BatchError> {
    let digest = format!("sha256:{}", to_hex(&Sha256::digest(bytes)));
    let checked = known == Some(digest.as_str());
    let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    // A file that ends with a newline splits into complete lines and one empty tail.
    let tail = lines.pop().unwrap_or_default();
    let header = match lines.first() {
        Some(h) => *h,
        None => {
            return Err(BatchError::Truncated(
                "it ends inside the header line".into(),
            ));
        }
    };
    let version = read_header(header)?;
    if version == 0 || version > u64::from(FORMAT) {
        return Err(BatchError::UnknownFormat {
            version: version.to_string(),
        });
    }
    if !tail.is_empty() {
        return Err(BatchError::Truncated(format!(
            "line {} is cut short (the file does not end with a newline)",
            lines.len() + 1
        )));
    }
    let Some(manifest_line) = lines.get(1) else {
        return Err(BatchError::Truncated("it ends before the manifest".into()));
    };
    let manifest: Manifest = serde_json::from_slice(manifest_line)
        .map_err(|e| BatchError::BadManifest(e.to_string()))?;
    if u64::from(manifest.format) != version {
        return Err(BatchError::BadManifest(format!(
            "it says format {} but the header says {version}",
            manifest.format
        )));
    }
    let last = lines.len() - 1;
    let signature_line = lines[last];
    if last < 2 || !signature_line.starts_with(b"ed25519:") {
        let records = lines.len().saturating_sub(2);
        return Err(BatchError::Truncated(format!(
            "it ends after line {} with no signature ({records} of the {} records the manifest announces are there)",
            lines.len(),
            manifest.counts.total()
        )));
    }
    let mut spans = Vec::with_capacity(last - 2);
    let mut counts = Counted::default();
    let start = bytes.as_ptr() as usize;
    for (i, line) in lines[2..last].iter().enumerate() {
        let record = read_record(i, line, checked)?;
        counts.add(&manifest, i, &record);
        each(i, record);
        // The JSON after `sha256:<64 hex> ` (read_record checked that shape).
        let at = line.as_ptr() as usize - start;
        spans.push(at + 72..at + line.len());
    }
    let signature =
        from_hex::<64>(&String::from_utf8_lossy(&signature_line[8..])).ok_or_else(|| {
            BatchError::BadSignatureLine {
                line: last + 1,
                reason: "expected `ed25519:` and 128 hex digits".into(),
            }
        })?;
    let signed_len = bytes.len() - signature_line.len() - 1;
    let signed = &bytes[..signed_len];
    if !checked && !manifest.device_key.verifies(signed, &signature) {
        return Err(BatchError::BadSignature {
            key: manifest.device_key.to_string(),
        });
    }
    counts.check(&manifest)?;
    Ok((manifest, digest, spans))
}

/// The version text of a header line `doorstep-batch N`.
fn read_header(line: &[u8]) -> Result<u64, BatchError> {
    let text =
        std::str::from_utf8(line).map_err(|_| BatchError::BadHeader("it is not text".into()))?;
    let rest = text
        .strip_prefix(MAGIC)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or_else(|| BatchError::BadHeader(format!("expected `{MAGIC} N`")))?;
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) || rest.len() > 9 {
        let shown: String = rest.chars().take(20).collect();
        return Err(BatchError::BadHeader(format!(
            "`{shown}` is not a format version number"
        )));
    }
    rest.parse()
        .map_err(|_| BatchError::BadHeader(format!("`{rest}` is not a format version number")))
}

/// One record line; `checked`: its checksum was found good before (same signed bytes).
fn read_record(index: usize, line: &[u8], checked: bool) -> Result<Record, BatchError> {
    let (record, line_no) = (index + 1, Batch::line_of(index));
    let bad = |reason: String| BatchError::BadRecord {
        record,
        line: line_no,
        reason,
    };
    let (sum, body) = match (line.get(..7), line.get(7..71), line.get(71), line.get(72..)) {
        (Some(b"sha256:"), Some(sum), Some(b' '), Some(body)) => (sum, body),
        _ => {
            return Err(bad(
                "expected `sha256:`, 64 hex digits, a space and a JSON record".into(),
            ));
        }
    };
    if !checked && to_hex(&Sha256::digest(body)).as_bytes() != sum {
        return Err(BatchError::Changed {
            record,
            line: line_no,
        });
    }
    serde_json::from_slice(body).map_err(|e| bad(e.to_string()))
}

/// The records of a batch counted as they are read, and the first one its format or
/// manifest does not allow: checked against the manifest once every record is read and
/// the signature is good (the counts first, then that record).
#[derive(Default)]
struct Counted {
    found: Counts,
    first_bad: Option<BatchError>,
}

impl Counted {
    fn add(&mut self, manifest: &Manifest, i: usize, r: &Record) {
        self.found.add(r);
        if self.first_bad.is_none() {
            self.first_bad = record_not_allowed(manifest, i, r);
        }
    }

    fn check(self, manifest: &Manifest) -> Result<(), BatchError> {
        let (want, found) = (manifest.counts, self.found);
        for (kind, m, f) in [
            ("responses", want.responses, found.responses),
            ("revisions", want.revisions, found.revisions),
            ("doors", want.doors, found.doors),
            ("knocks", want.knocks, found.knocks),
            ("settings", want.settings, found.settings),
            ("actions", want.actions, found.actions),
            ("door corrections", want.door_edits, found.door_edits),
            ("door removals", want.door_removals, found.door_removals),
        ] {
            if m != f {
                return Err(BatchError::CountMismatch {
                    kind,
                    manifest: m,
                    found: f,
                });
            }
        }
        self.first_bad.map_or(Ok(()), Err)
    }
}

/// Why record `i` (0-based) cannot be in a batch with this manifest, if it cannot.
fn record_not_allowed(manifest: &Manifest, i: usize, r: &Record) -> Option<BatchError> {
    let bad = |reason: String| {
        Some(BatchError::BadRecord {
            record: i + 1,
            line: Batch::line_of(i),
            reason,
        })
    };
    // Format 1 has no action records: a format-1 file holding one was not written by
    // doorstep.
    if matches!(r, Record::Action(_)) && manifest.format < 2 {
        return bad(format!(
            "an action record in a format {} batch (actions came with format 2)",
            manifest.format
        ));
    }
    // Door corrections and removals came with format 3.
    if matches!(r, Record::DoorEdit(_) | Record::DoorRemove(_)) && manifest.format < 3 {
        return bad(format!(
            "a {} record in a format {} batch (door corrections and removals came with format 3)",
            r.kind(),
            manifest.format
        ));
    }
    if let Some(reason) = bad_door_change(r) {
        return bad(reason);
    }
    if let Record::Response(resp) = r
        && !manifest.surveys.iter().any(|s| {
            s.id == resp.survey_id
                && s.version == resp.survey_version
                && s.fingerprint == resp.fingerprint
        })
    {
        return Some(BatchError::UnlistedSurvey {
            record: i + 1,
            line: Batch::line_of(i),
            id: resp.survey_id.clone(),
            version: resp.survey_version,
            fingerprint: resp.fingerprint.clone(),
        });
    }
    None
}

/// Why a door correction or removal cannot be applied anywhere (no area, or a door that
/// the door log would refuse); None for every other record.
fn bad_door_change(r: &Record) -> Option<String> {
    let (area, doors) = match r {
        Record::DoorEdit(e) => (&e.area, vec![("from", &e.from), ("to", &e.to)]),
        Record::DoorRemove(d) => (&d.area, vec![("door", &d.door)]),
        _ => return None,
    };
    let kind = r.kind();
    if area.trim().is_empty() {
        return Some(format!("{kind}: `area` is empty"));
    }
    doors.into_iter().find_map(|(field, door)| {
        crate::response::Door::new(&door.street, &door.number)
            .err()
            .map(|e| format!("{kind}: `{field}`: {e}"))
    })
}
