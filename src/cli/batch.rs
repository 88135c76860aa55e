//! `doorstep batch export|verify|merge|conflicts|resolve`: a laptop's work leaves it as one
//! signed, encrypted file; the coordinator's machine checks each file, merges the good ones
//! (all of a batch or none of it) and settles the conflicts merging finds.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::Subcommand;
use uuid::Uuid;

use super::{print, remark};
use crate::Error;
use crate::batch::{self, Manifest, Selection};
use crate::output::{Cell, Column, Document, Fields, Format, Table};
use crate::seal::CoordinatorIdentity;
use crate::store::export::{Exported, Nothing};
use crate::store::{
    ActionConflict, Conflict, FileCheck, MergeResult, PinCheck, Stage, StoreError, batch_files,
};
use crate::survey::registry::Registry;

#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// Write this device's finalized responses, doors, knocks and actions (each action as it
    /// stands, if added or changed since) not yet exported to one signed batch file,
    /// encrypted to the coordinator's recipient.
    Export {
        /// The batch file to write (must not exist; written whole or not at all).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Everything, including records already exported.
        #[arg(long, conflicts_with = "since")]
        all: bool,
        /// Everything first exported after this batch, plus everything new (to replace
        /// batches the coordinator lost).
        #[arg(long, value_name = "BATCH_ID")]
        since: Option<Uuid>,
        /// Write the batch in the clear (still signed; sealed answers stay sealed).
        #[arg(long)]
        unencrypted: bool,
        /// Print JSON: fields `export` (`written`, `file`, `batch`, `sequence`, `device`,
        /// `encrypted`, `recipient`, `device_key`, and the counts per kind).
        #[arg(long)]
        json: bool,
    },
    /// Check batch files before merging: manifest, checksums, signature, counts, surveys,
    /// answers and the device's key. Changes nothing but a device key seen for the first time.
    Verify {
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
        /// The coordinator identity (written by `doorstep keys new`) to open encrypted batches.
        #[arg(long, value_name = "KEY")]
        identity: Option<PathBuf>,
        /// Print JSON: per file, fields `batch` (`file`, `verified`, `reasons`, and the
        /// manifest: `batch`, `sequence`, `device`, `officer`, `created_at`, counts …).
        #[arg(long)]
        json: bool,
    },
    /// Verify batch files (or every `*.batch` file in a folder) and merge them into this
    /// store: all of each batch or none of it. Nothing is written unless every file passes.
    Merge {
        #[arg(value_name = "FILE|DIR", required = true)]
        paths: Vec<PathBuf>,
        /// The coordinator identity (written by `doorstep keys new`) to open encrypted batches.
        #[arg(long, value_name = "KEY")]
        identity: Option<PathBuf>,
        /// Verify and work out what merging would do, writing nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print JSON: table `merges` (`file`, `batch`, `device`, `sequence`, `result`
        /// merged|already_merged|would_merge|refused, `new`, `duplicate`, `superseded`,
        /// `conflict`, `rejected`, `reason`), table `rejections` (`file`, `record`, `line`,
        /// `kind`, `reason`), fields `state` (`unresolved_conflicts`, `gaps`).
        #[arg(long)]
        json: bool,
    },
    /// List the conflicts merging found and nobody has settled, their versions side by side.
    Conflicts {
        /// Print JSON: per conflict, fields `conflict` (`response` or `action`, `active`)
        /// and table `versions` (`field`, then one column per version: `a`, `b`, …).
        #[arg(long)]
        json: bool,
    },
    /// Settle a conflict: keep one version (A, B, … as `batch conflicts` shows them) as the
    /// response (or action) that counts. Journaled.
    Resolve {
        /// The response or action id, or its first characters.
        #[arg(value_name = "ID")]
        id: String,
        /// The version to keep: A, B, …
        #[arg(long, value_name = "A|B")]
        keep: String,
    },
}

pub fn run(
    cmd: &BatchCommand,
    data_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    match cmd {
        BatchCommand::Export {
            out: path,
            all,
            since,
            unencrypted,
            json,
        } => {
            let selection = match (all, since) {
                (true, _) => Selection::All,
                (false, Some(batch)) => Selection::Since { batch: *batch },
                (false, None) => Selection::New,
            };
            let format = Format::json_if(*json);
            export(data_dir, path, selection, *unencrypted, format, out, err)
        }
        BatchCommand::Verify {
            files,
            identity,
            json,
        } => verify(
            data_dir,
            files,
            identity.as_deref(),
            Format::json_if(*json),
            out,
            err,
        ),
        BatchCommand::Merge {
            paths,
            identity,
            dry_run,
            json,
        } => merge(
            data_dir,
            paths,
            identity.as_deref(),
            *dry_run,
            Format::json_if(*json),
            out,
            err,
        ),
        BatchCommand::Conflicts { json } => conflicts(data_dir, Format::json_if(*json), out, err),
        BatchCommand::Resolve { id, keep } => resolve(data_dir, id, keep, out, err),
    }
}

fn export(
    data_dir: &Path,
    path: &Path,
    selection: Selection,
    unencrypted: bool,
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    // Reads, and marks what it exported: a writer's open. The export itself is the store's
    // (the field app's export calls the same function).
    let store = super::open_store(data_dir, err)?;
    let written = match store.export_batch(path, selection, unencrypted)? {
        Exported::Written(w) => w,
        Exported::Nothing(nothing) => {
            let text = match nothing {
                Nothing::NoFieldwork => {
                    "nothing to export: this device holds no finalized responses, doors, knocks or actions of its own (merged ones travel in the batch files that brought them); no file written".to_owned()
                }
                Nothing::AllExported { last } => format!(
                    "nothing new to export: every finalized response, door, knock and action is already in a batch (the last is batch {} of this device, {}); no file written (--all exports everything again)",
                    last.sequence, last.batch
                ),
            };
            let mut doc = Document::new();
            doc.paragraph(text);
            let mut fields = Fields::new("export");
            fields.add_hidden("written", false);
            doc.fields(fields);
            return print(out, &doc, format);
        }
    };
    if let Some(key_path) = &written.key_made {
        remark(
            err,
            &format!(
                "made this device's batch signing key in {} (it never leaves this device)",
                key_path.display()
            ),
        )?;
    }
    print(
        out,
        &export_summary(path, &written.manifest, written.recipient.as_ref()),
        format,
    )
}

fn export_summary(
    path: &Path,
    m: &Manifest,
    recipient: Option<&crate::seal::SealRecipient>,
) -> Document {
    let mut doc = Document::new();
    doc.paragraph(format!(
        "batch {} (number {} from {}) written to {}",
        m.batch,
        m.sequence,
        m.device,
        path.display()
    ));
    doc.paragraph(format!("  holds {}", m.counts));
    doc.paragraph(match recipient {
        Some(r) => format!("  encrypted to {r}"),
        None => "  NOT encrypted (--unencrypted): anyone with the file can read its plain answers; sealed answers stay sealed".to_owned(),
    });
    doc.paragraph(format!("  signed with {}", m.device_key));
    let mut fields = Fields::new("export");
    fields
        .add_hidden("written", true)
        .add_hidden("file", path.display().to_string())
        .add_hidden("batch", m.batch.to_string())
        .add_hidden("sequence", count(m.sequence))
        .add_hidden("device", &m.device)
        .add_hidden("encrypted", recipient.is_some())
        .add_hidden("recipient", recipient.map(ToString::to_string))
        .add_hidden("device_key", m.device_key.to_string());
    add_counts(&mut fields, &m.counts);
    doc.fields(fields);
    doc
}

fn count(n: u64) -> crate::output::Value {
    i64::try_from(n).map_or(crate::output::Value::Number(n as f64), |n| {
        crate::output::Value::Integer(n)
    })
}

fn add_counts(fields: &mut Fields, c: &batch::Counts) {
    fields
        .add_hidden("responses", count(c.responses))
        .add_hidden("revisions", count(c.revisions))
        .add_hidden("doors", count(c.doors))
        .add_hidden("knocks", count(c.knocks))
        .add_hidden("settings", count(c.settings))
        .add_hidden("actions", count(c.actions))
        .add_hidden("door_edits", count(c.door_edits))
        .add_hidden("door_removals", count(c.door_removals));
}

/// UK local time, as the coordinator reads it.
fn uk_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::London)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A time as a cell: RFC 3339 for machines, UK local time for people.
fn time_cell(t: DateTime<Utc>) -> Cell {
    Cell::from(rfc3339(t)).shown_as(uk_time(t))
}

fn read_identity(identity: Option<&Path>) -> Result<Option<CoordinatorIdentity>, Error> {
    let Some(p) = identity else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
    CoordinatorIdentity::from_file_text(&text)
        .map(Some)
        .map_err(|e| Error::BadInput(format!("{}: {e}", p.display())))
}

fn verify(
    data_dir: &Path,
    files: &[PathBuf],
    identity: Option<&Path>,
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let identity = read_identity(identity)?;
    let (registry, _diagnostics) = Registry::load(data_dir)?;
    // Pins a device key seen for the first time: a writer's open.
    let store = super::open_store(data_dir, err)?;
    let mut refused = Vec::new();
    let mut doc = Document::new();
    for (path, mut check) in
        files
            .iter()
            .zip(store.verify_files(files, identity.as_ref(), &registry)?)
    {
        // Checked two at a time, before any was pinned: a device first seen in an
        // earlier file is pinned by now, and this file's key is checked against that pin
        // as if the files had been checked one after the other.
        if let Ok(v) = &mut check.result
            && v.pin == PinCheck::FirstUse
        {
            match store.check_device_key(&v.manifest, v.encrypted)? {
                Ok(pin) => v.pin = pin,
                Err(refusal) => check.result = Err(refusal),
            }
        }
        let pinned_now = match &check.result {
            Ok(v) if v.pin == PinCheck::FirstUse => store.pin_first_use(&v.manifest)?,
            _ => false,
        };
        verify_report(&mut doc, &check, pinned_now);
        if let Err(refusal) = &check.result {
            refused.push(format!("{}: {}", path.display(), refusal.reason()));
        }
    }
    print(out, &doc, format)?;
    match refused.len() {
        0 => Ok(()),
        1 => Err(Error::BadInput(refused.remove(0))),
        n => Err(Error::BadInput(format!(
            "{n} of {} batch files refused:\n  {}",
            files.len(),
            refused.join("\n  ")
        ))),
    }
}

/// One file's verification: its manifest and every check, ✓ or ✗.
fn verify_report(doc: &mut Document, check: &FileCheck, pinned_now: bool) {
    doc.heading(check.path.display().to_string());
    let (manifest, encrypted, stage, reasons) = match &check.result {
        Ok(v) => (Some(&v.manifest), v.encrypted, None, Vec::new()),
        Err(r) => (
            r.manifest.as_ref(),
            r.encrypted,
            Some(r.stage),
            r.reasons.clone(),
        ),
    };
    let mut fields = Fields::new("batch");
    fields.add_hidden("file", check.path.display().to_string());
    if let Some(m) = manifest {
        manifest_fields(&mut fields, m, encrypted);
    }
    fields
        .add_hidden("verified", check.result.is_ok())
        .add_hidden("reasons", reasons.clone());
    doc.fields(fields);
    let cross = |doc: &mut Document, reasons: &[String]| {
        for r in reasons {
            doc.paragraph(format!("  ✗ {r}"));
        }
    };
    if stage == Some(Stage::Open) {
        return cross(doc, &reasons);
    }
    doc.paragraph("  ✓ every record's checksum, the signature and the counts");
    if stage == Some(Stage::Content) {
        return cross(doc, &reasons);
    }
    doc.paragraph(
        "  ✓ every survey is on this machine and every answer passes its survey's checks",
    );
    if stage == Some(Stage::DeviceKey) {
        return cross(doc, &reasons);
    }
    if let Ok(v) = &check.result {
        match v.pin {
            PinCheck::Pinned { since } => doc.paragraph(format!(
                "  ✓ device key matches the one pinned for `{}` on {}",
                v.manifest.device,
                uk_time(since)
            )),
            PinCheck::FirstUse if pinned_now => doc.paragraph(format!(
                "  ✓ first batch seen from `{}`: its key is now pinned on this machine (written to the store; later batches must carry the same key)",
                v.manifest.device
            )),
            PinCheck::FirstUse => doc.paragraph(format!(
                "  ✓ first batch seen from `{}`: its key will be pinned when it is merged",
                v.manifest.device
            )),
        };
        if v.already_merged {
            doc.paragraph("  already merged here: merging it again changes nothing");
        }
    }
    doc.paragraph("  verified");
}

fn manifest_fields(fields: &mut Fields, m: &Manifest, encrypted: bool) {
    fields
        .add_labelled(
            "batch",
            "  batch",
            Cell::from(m.batch.to_string()).shown_as(format!(
                "{} (number {} from {}{})",
                m.batch,
                m.sequence,
                m.device,
                match m.previous {
                    Some(p) => format!("; previous {p}"),
                    None => String::new(),
                }
            )),
        )
        .add_hidden("sequence", count(m.sequence))
        .add_hidden("previous", m.previous.map(|p| p.to_string()))
        .add_labelled(
            "device",
            "  device",
            Cell::from(&m.device).shown_as(format!(
                "{}, officer {}",
                m.device,
                m.officer.as_deref().unwrap_or("(not set)")
            )),
        )
        .add_hidden("officer", m.officer.clone())
        .add_labelled("device_key", "  key", m.device_key.to_string())
        .add_labelled("created_at", "  created", time_cell(m.created_at))
        .add_labelled("selection", "  selection", m.selection.to_string())
        .add_labelled(
            "counts",
            "  holds",
            Cell::from(m.counts.total() as usize).shown_as(m.counts.to_string()),
        );
    add_counts(fields, &m.counts);
    if let Some(span) = m.span {
        fields
            .add_labelled(
                "span_first",
                "  span",
                Cell::from(rfc3339(span.first)).shown_as(format!(
                    "{} to {}",
                    uk_time(span.first),
                    uk_time(span.last)
                )),
            )
            .add_hidden("span_last", rfc3339(span.last));
    }
    let surveys: Vec<String> = m
        .surveys
        .iter()
        .map(|s| format!("{} version {} ({})", s.id, s.version, s.fingerprint))
        .collect();
    let shown = surveys.join("; ");
    fields
        .add_labelled("surveys", "  surveys", Cell::from(surveys).shown_as(shown))
        .add_labelled(
            "encrypted",
            "  format",
            Cell::from(encrypted).shown_as(format!(
                "{}, {}",
                m.format,
                if encrypted {
                    "encrypted (opened with the given identity)"
                } else {
                    "NOT encrypted"
                }
            )),
        );
}

/// The batch files named: files as given, folders as their `*.batch` files.
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let found = batch_files(p)?;
            if found.is_empty() {
                return Err(Error::Usage(format!(
                    "{} holds no batch files (`*.batch`)",
                    p.display()
                )));
            }
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

fn merge(
    data_dir: &Path,
    paths: &[PathBuf],
    identity: Option<&Path>,
    dry_run: bool,
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let identity = read_identity(identity)?;
    let files = expand(paths)?;
    let (registry, _diagnostics) = Registry::load(data_dir)?;
    let store = super::open_store(data_dir, err)?;

    // Every file is verified before anything is written.
    let mut refused = Vec::new();
    let mut first_keys: HashMap<String, String> = HashMap::new();
    // What each file verified as (its manifest and digest, not its records): merging
    // below skips validating the answers of a file that still has the same bytes.
    let mut verified = Vec::with_capacity(files.len());
    for (path, check) in
        files
            .iter()
            .zip(store.verify_files(&files, identity.as_ref(), &registry)?)
    {
        match &check.result {
            Err(r) => refused.push((path.clone(), r.reason())),
            // Two never-seen keys for one device name: which one to pin is not ours to guess.
            Ok(v) if v.pin == PinCheck::FirstUse => {
                let key = v.manifest.device_key.to_string();
                match first_keys.get(&v.manifest.device) {
                    Some(k) if *k != key => refused.push((
                        path.clone(),
                        format!(
                            "device `{}` signed this batch with key {key}, and another batch given here with key {k}; neither is pinned yet, so pin the right one with `doorstep devices trust` first",
                            v.manifest.device
                        ),
                    )),
                    _ => {
                        first_keys.insert(v.manifest.device.clone(), key);
                    }
                }
            }
            Ok(_) => {}
        }
        verified.push(check.result.ok());
    }
    if !refused.is_empty() {
        let mut table = merges_table();
        for (path, reason) in &refused {
            table.push(vec![
                Cell::from(path.display().to_string()),
                Cell::from(None::<String>),
                Cell::from(None::<String>),
                Cell::from(None::<String>),
                Cell::from("refused"),
                Cell::from(None::<String>),
                Cell::from(None::<String>),
                Cell::from(None::<String>),
                Cell::from(None::<String>),
                Cell::from(None::<String>),
                Cell::from(reason),
            ]);
        }
        let mut doc = Document::new();
        doc.table(table);
        print(out, &doc, format)?;
        let list: Vec<String> = refused
            .iter()
            .map(|(p, r)| format!("{}: {r}", p.display()))
            .collect();
        return Err(Error::BadInput(format!(
            "{} of {} batch files refused, nothing merged:\n  {}",
            refused.len(),
            files.len(),
            list.join("\n  ")
        )));
    }

    let mut table = merges_table();
    let mut rejections = Table::new(
        "rejections",
        vec![
            Column::text("file", "FILE"),
            Column::integer("record", "RECORD"),
            Column::integer("line", "LINE"),
            Column::text("kind", "KIND"),
            Column::text("reason", "WHY"),
        ],
    );
    let bar = Progress::new(files.len());
    let mut dry = dry_run.then(|| store.dry_run()).transpose()?;
    for (path, check) in files.iter().zip(&verified) {
        bar.file(path);
        let identity = identity.as_ref();
        let mut progress = |done, total| bar.records(done, total);
        let result = match (dry.as_mut(), check) {
            (Some(d), Some(v)) => d.merge_verified_file(&store, path, identity, &registry, v)?,
            (Some(d), None) => d.merge_file(&store, path, identity, &registry)?,
            (None, Some(v)) => {
                store.merge_verified_file(path, identity, &registry, v, &mut progress)?
            }
            (None, None) => store.merge_file(path, identity, &registry, &mut progress)?,
        };
        let file = path.display().to_string();
        let (b, word) = match &result {
            MergeResult::Merged { batch, .. } if dry_run => (batch, "would_merge"),
            MergeResult::Merged { batch, .. } => (batch, "merged"),
            MergeResult::AlreadyMerged(batch) => (batch, "already_merged"),
        };
        let shown = match word {
            "would_merge" => "would merge",
            "already_merged" => "already merged",
            w => w,
        };
        let o = match &result {
            MergeResult::Merged { batch, .. } => batch.outcome,
            MergeResult::AlreadyMerged(_) => crate::store::MergeCounts::default(),
        };
        table.push(vec![
            Cell::from(file.clone()),
            Cell::from(b.batch.to_string()),
            Cell::from(&b.device),
            Cell::from(count(b.sequence)),
            Cell::from(word).shown_as(shown),
            Cell::from(count(o.new)),
            Cell::from(count(o.duplicate)),
            Cell::from(count(o.superseded)),
            Cell::from(count(o.conflict)),
            Cell::from(count(o.rejected)),
            Cell::from(None::<String>),
        ]);
        if let MergeResult::Merged { rejections: r, .. } = &result {
            for x in r {
                rejections.push(vec![
                    Cell::from(file.clone()),
                    Cell::from(x.record),
                    Cell::from(x.line),
                    Cell::from(x.kind),
                    Cell::from(&x.reason),
                ]);
            }
        }
    }
    // Its scratch folder goes now, before the report.
    drop(dry);
    // The report's counts brought up to date while the store is open: what comes after
    // a merge is the reports, which then read them instead of every response.
    let mut counts_note = None;
    if !dry_run {
        bar.counting();
        if let Err(e) = crate::pack::keep_counts(&store, &registry) {
            counts_note = Some(format!(
                "the report's counts could not be kept ({e}); reports count every response instead"
            ));
        }
    }
    bar.finish();

    let mut doc = Document::new();
    doc.table(table);
    if !rejections.rows.is_empty() {
        doc.heading("Records not merged");
        doc.table(rejections);
    }
    let gaps = store.batch_gaps()?;
    for g in &gaps {
        doc.warning(g.to_string());
    }
    if let Some(note) = counts_note {
        doc.warning(note);
    }
    let unresolved =
        store.unresolved_conflict_count()? + store.unresolved_action_conflicts()?.len();
    if unresolved > 0 {
        doc.warning(format!(
            "{unresolved} conflict{} unresolved: `doorstep batch conflicts` lists them, `doorstep batch resolve ID --keep A|B` settles one",
            if unresolved == 1 { "" } else { "s" }
        ));
    }
    if dry_run {
        doc.note(
            "dry run: nothing was written (gaps and conflicts above are the store's as it is)",
        );
    }
    let mut state = Fields::new("state");
    state
        .add_hidden("dry_run", dry_run)
        .add_hidden("unresolved_conflicts", unresolved)
        .add_hidden(
            "gaps",
            gaps.iter().map(ToString::to_string).collect::<Vec<_>>(),
        );
    doc.fields(state);
    print(out, &doc, format)
}

fn merges_table() -> Table {
    Table::new(
        "merges",
        vec![
            Column::text("file", "FILE"),
            Column::text("batch", "BATCH").machine_only(),
            Column::text("device", "DEVICE"),
            Column::integer("sequence", "NO."),
            Column::text("result", "RESULT"),
            Column::integer("new", "NEW"),
            Column::integer("duplicate", "DUPLICATE"),
            Column::integer("superseded", "SUPERSEDED"),
            Column::integer("conflict", "CONFLICT"),
            Column::integer("rejected", "REJECTED"),
            Column::text("reason", "WHY"),
        ],
    )
}

/// A progress bar on standard error, only when it is a terminal.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(files: usize) -> Progress {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(0),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} records")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(format!("merging {files} batch file(s)"));
        Progress { bar: Some(bar) }
    }

    fn file(&self, path: &Path) {
        if let Some(bar) = &self.bar {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            bar.set_message(crate::output::escape(&name));
            bar.set_position(0);
        }
    }

    fn records(&self, done: u64, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    }

    /// After the files: counting the store for reports ([`crate::pack::keep_counts`]).
    fn counting(&self) {
        if let Some(bar) = &self.bar {
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg}") {
                bar.set_style(style);
            }
            bar.set_message("counting the store for reports");
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn conflicts(
    data_dir: &Path,
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let store = super::open_store_read_only(data_dir, err)?;
    let list = store.unresolved_conflicts()?;
    let actions = store.unresolved_action_conflicts()?;
    let mut doc = Document::new();
    if list.is_empty() && actions.is_empty() {
        doc.paragraph("no unresolved conflicts");
    }
    for c in &list {
        conflict_report(&mut doc, c);
    }
    for c in &actions {
        action_conflict_report(&mut doc, c);
    }
    if !list.is_empty() || !actions.is_empty() {
        doc.note("settle one with `doorstep batch resolve ID --keep A|B`");
    }
    print(out, &doc, format)
}

/// One conflict: its versions side by side, with only the answers that differ.
fn conflict_report(doc: &mut Document, c: &Conflict) {
    let active = c.active_index();
    doc.heading(format!(
        "{}response {}: {} versions, {} active{}",
        if c.revisions { "revisions of " } else { "" },
        c.id,
        c.versions.len(),
        Conflict::letter(active),
        if c.kept.is_some() {
            " (kept before another version arrived)"
        } else {
            " (finalized first)"
        }
    ));
    let mut fields = Fields::new("conflict");
    fields
        .add_hidden("response", c.id.to_string())
        .add_hidden("active", Conflict::letter(active))
        .add_hidden("revisions", c.revisions);
    doc.fields(fields);
    let mut columns = vec![Column::text("field", "")];
    for i in 0..c.versions.len() {
        let letter = Conflict::letter(i);
        let title = if i == active {
            format!("{letter} (active)")
        } else {
            letter.clone()
        };
        columns.push(Column::text(&letter.to_lowercase(), &title).max_width(40));
    }
    let mut table = Table::new("versions", columns);
    let row = |label: &str, cells: Vec<Cell>| {
        let mut r = vec![Cell::from(label)];
        r.extend(cells);
        r
    };
    let each = |f: &dyn Fn(&crate::store::ConflictVersion) -> Cell| -> Vec<Cell> {
        c.versions.iter().map(f).collect()
    };
    table.push(row(
        "batch",
        each(&|v| {
            let list: Vec<String> = v.sources.iter().map(|s| s.batch.to_string()).collect();
            let shown = if list.is_empty() {
                "(this machine)".to_owned()
            } else {
                list.join(", ")
            };
            Cell::from(list).shown_as(shown)
        }),
    ));
    table.push(row(
        "sent by",
        each(&|v| {
            let list: Vec<String> = v.sources.iter().map(|s| s.device.clone()).collect();
            let shown = if list.is_empty() {
                "(this machine)".to_owned()
            } else {
                list.join(", ")
            };
            Cell::from(list).shown_as(shown)
        }),
    ));
    if c.revisions {
        // Each version is its own response, revising the one in the heading.
        table.push(row(
            "revision",
            each(&|v| Cell::from(v.response.id.to_string())),
        ));
        if c.versions.iter().any(|v| !v.later.is_empty()) {
            // A version's later revisions are its side: its last counts if it is kept.
            table.push(row(
                "revised since",
                each(&|v| {
                    let list: Vec<String> = v.later.iter().map(|r| r.id.to_string()).collect();
                    let shown = if list.is_empty() {
                        "—".to_owned()
                    } else {
                        list.join(", ")
                    };
                    Cell::from(list).shown_as(shown)
                }),
            ));
        }
    }
    table.push(row("device", each(&|v| Cell::from(&v.response.device))));
    table.push(row(
        "interviewer",
        each(&|v| Cell::from(&v.response.interviewer)),
    ));
    table.push(row(
        "status",
        each(&|v| Cell::from(v.response.status.to_string())),
    ));
    table.push(row(
        "finalized at",
        each(&|v| match v.response.finalized_at {
            Some(t) => time_cell(t),
            None => Cell::from(None::<String>),
        }),
    ));
    let questions: std::collections::BTreeSet<&String> = c
        .versions
        .iter()
        .flat_map(|v| v.response.answers.keys())
        .collect();
    for q in questions {
        let values: Vec<Option<&crate::response::StoredAnswer>> = c
            .versions
            .iter()
            .map(|v| v.response.answers.get(q).map(|a| &a.value))
            .collect();
        if values.windows(2).all(|w| w[0] == w[1]) {
            continue;
        }
        table.push(row(
            q,
            values
                .iter()
                .map(|v| match v {
                    Some(a) => Cell::from(a.display()),
                    None => Cell::from(None::<String>).shown_as("(not answered)"),
                })
                .collect(),
        ));
    }
    let findings: std::collections::BTreeSet<&String> = c
        .versions
        .iter()
        .flat_map(|v| v.response.findings.keys())
        .collect();
    for q in findings {
        let values: Vec<Option<&crate::survey::Finding>> = c
            .versions
            .iter()
            .map(|v| v.response.findings.get(q))
            .collect();
        if values.windows(2).all(|w| w[0] == w[1]) {
            continue;
        }
        table.push(row(
            &format!("finding {q}"),
            values
                .iter()
                .map(|v| match v {
                    Some(f) => {
                        let parts: Vec<&str> = [f.note.as_deref(), f.location.as_deref()]
                            .into_iter()
                            .flatten()
                            .collect();
                        Cell::from(if parts.is_empty() {
                            "(recorded)".to_owned()
                        } else {
                            parts.join(", at ")
                        })
                    }
                    None => Cell::from(None::<String>).shown_as("(none)"),
                })
                .collect(),
        ));
    }
    doc.table(table);
}

/// One action conflict: each line of changes side by side, from where they parted.
fn action_conflict_report(doc: &mut Document, c: &ActionConflict) {
    doc.heading(format!(
        "action {}: {} versions, {} active{}",
        c.id,
        c.versions.len(),
        Conflict::letter(c.active),
        if c.kept.is_some() {
            " (kept before another version arrived)"
        } else {
            " (changed differently first)"
        }
    ));
    let mut fields = Fields::new("conflict");
    fields
        .add_hidden("action", c.id.to_string())
        .add_hidden("active", Conflict::letter(c.active));
    doc.fields(fields);
    let mut columns = vec![Column::text("field", "")];
    for i in 0..c.versions.len() {
        let letter = Conflict::letter(i);
        let title = if i == c.active {
            format!("{letter} (active)")
        } else {
            letter.clone()
        };
        columns.push(Column::text(&letter.to_lowercase(), &title).max_width(40));
    }
    let mut table = Table::new("versions", columns);
    let row = |label: &str, cells: Vec<Cell>| {
        let mut r = vec![Cell::from(label)];
        r.extend(cells);
        r
    };
    let each = |f: &dyn Fn(&crate::store::ActionVersion) -> Cell| -> Vec<Cell> {
        c.versions.iter().map(f).collect()
    };
    let listed = |list: Vec<String>| {
        let shown = if list.is_empty() {
            "(this machine)".to_owned()
        } else {
            list.join(", ")
        };
        Cell::from(list).shown_as(shown)
    };
    table.push(row(
        "batch",
        each(&|v| listed(v.sources.iter().map(|s| s.batch.to_string()).collect())),
    ));
    table.push(row(
        "sent by",
        each(&|v| {
            // A device that sent several batches is named once.
            let devices: std::collections::BTreeSet<&str> =
                v.sources.iter().map(|s| s.device.as_str()).collect();
            listed(devices.into_iter().map(str::to_owned).collect())
        }),
    ));
    table.push(row(
        "status",
        each(&|v| Cell::from(v.action.status.to_string())),
    ));
    table.push(row(
        "changes",
        each(&|v| Cell::from(v.action.history.len())),
    ));
    let shared = c.shared_changes();
    let longest = c
        .versions
        .iter()
        .map(|v| v.action.history.len())
        .max()
        .unwrap_or(0);
    for n in shared..longest {
        table.push(row(
            &format!("change {}", n + 1),
            each(&|v| match v.action.history.get(n) {
                Some(ch) => Cell::from(change_summary(ch)),
                None => Cell::from(None::<String>).shown_as("(none)"),
            }),
        ));
    }
    doc.table(table);
}

/// One change of an action's history in a line: when, who, what.
fn change_summary(c: &crate::action::Change) -> String {
    // The words are the register's own, so the CLI and the field app say the same.
    let what = c.describe();
    let when = format!("{} by {}", uk_time(c.at), c.by);
    if what.is_empty() {
        when
    } else {
        format!("{when}; {what}")
    }
}

fn resolve(
    data_dir: &Path,
    id: &str,
    keep: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let store = super::open_store(data_dir, err)?;
    let named = conflict_named(&store, id)?.map(|full| full.to_string());
    let id = named.as_deref().unwrap_or(id);
    // An action's conflict when the id names one; otherwise a response's, as before.
    let action = store.resolve_action_id(id);
    if let Ok(action) = &action
        && let Some(conflict) = store.action_conflict(*action)?
    {
        return resolve_action(&store, &conflict, keep, out);
    }
    let id = match store.resolve_id(id) {
        Ok(id) => id,
        // Neither a response nor one action: an ambiguous action prefix says which.
        Err(e) => match action {
            Err(ambiguous @ StoreError::AmbiguousAction { .. }) => return Err(ambiguous.into()),
            _ => return Err(e.into()),
        },
    };
    let conflict = store.conflict(id)?.ok_or(StoreError::NoConflict { id })?;
    let Some(index) = conflict.index_of(keep) else {
        let letters: Vec<String> = (0..conflict.versions.len()).map(Conflict::letter).collect();
        return Err(Error::Usage(format!(
            "--keep {keep}: the conflict of response {id} has versions {}",
            letters.join(", ")
        )));
    };
    let settled = store.resolve_conflict(id, index)?;
    let v = &settled.versions[index];
    let mut doc = Document::new();
    let what = if settled.revisions {
        format!(
            "revisions of response {id}: version {} (revision {},",
            Conflict::letter(index),
            v.response.id
        )
    } else {
        format!("response {id}: version {} (", Conflict::letter(index))
    };
    doc.paragraph(format!(
        "{what}device {}, interviewer {}) is now the one that counts; the other version{} kept in the conflict record",
        v.response.device,
        v.response.interviewer,
        if settled.versions.len() > 2 { "s are" } else { " is" }
    ));
    print(out, &doc, Format::Text)
}

/// The one conflict (of responses or of actions) whose id starts with `input`, hyphens
/// and case aside. The listings show short ids, and ids made within the same minute or
/// so start alike (UUID v7 ids begin with their time): a short id that is ambiguous among
/// all records can still name one conflict. `None` when no conflict's id starts so (the
/// caller then reads `input` as any response's or action's id, and says what is wrong);
/// ambiguous among conflicts, an error naming them.
fn conflict_named(store: &crate::store::Store, input: &str) -> Result<Option<Uuid>, Error> {
    let Some(prefix) = crate::store::id_prefix(input) else {
        return Ok(None);
    };
    let mut ids: Vec<Uuid> = store
        .conflicts()?
        .iter()
        .map(|c| c.id)
        .chain(store.action_conflicts()?.iter().map(|c| c.id))
        .filter(|id| id.simple().to_string().starts_with(&prefix))
        .collect();
    ids.sort();
    ids.dedup();
    match ids.len() {
        0 => Ok(None),
        1 => Ok(Some(ids[0])),
        _ => Err(StoreError::AmbiguousPrefix {
            prefix: input.trim().to_owned(),
            ids,
        }
        .into()),
    }
}

fn resolve_action(
    store: &crate::store::Store,
    conflict: &ActionConflict,
    keep: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let id = conflict.id;
    let Some(index) = conflict.index_of(keep) else {
        let letters: Vec<String> = (0..conflict.versions.len()).map(Conflict::letter).collect();
        return Err(Error::Usage(format!(
            "--keep {keep}: the conflict of action {id} has versions {}",
            letters.join(", ")
        )));
    };
    let settled = store.resolve_action_conflict(id, index)?;
    let kept = &conflict.versions[index];
    let by: Vec<&str> = kept.sources.iter().map(|s| s.device.as_str()).collect();
    let mut doc = Document::new();
    doc.paragraph(format!(
        "action {id}: version {} ({}, status {}, {} changes) is now the one in the register; the other version{} kept in the conflict record",
        Conflict::letter(index),
        if by.is_empty() {
            "this machine".to_owned()
        } else {
            format!("sent by {}", by.join(", "))
        },
        kept.action.status,
        kept.action.history.len(),
        if settled.versions.len() > 2 { "s are" } else { " is" }
    ));
    print(out, &doc, Format::Text)
}
