//! `doorstep batch export|verify`: a laptop's work leaves it as one signed, encrypted file;
//! the coordinator's machine checks each file before anything is merged.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::Subcommand;
use uuid::Uuid;

use super::{emit, remark};
use crate::Error;
use crate::batch::{self, Batch, Manifest, Selection};
use crate::seal::CoordinatorIdentity;
use crate::store::Store;
use crate::store::batches::{DevicePin, PinSource};
use crate::store::export::{Exported, Nothing};
use crate::survey::registry::Registry;

#[derive(Debug, Subcommand)]
pub enum BatchCommand {
    /// Write this device's finalized responses, doors and knocks not yet exported to one
    /// signed batch file, encrypted to the coordinator's recipient.
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
    },
    /// Check batch files before merging: manifest, checksums, signature, counts, surveys,
    /// answers and the device's key. Changes nothing but a device key seen for the first time.
    Verify {
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
        /// The coordinator identity (written by `doorstep keys new`) to open encrypted batches.
        #[arg(long, value_name = "KEY")]
        identity: Option<PathBuf>,
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
        } => {
            let selection = match (all, since) {
                (true, _) => Selection::All,
                (false, Some(batch)) => Selection::Since { batch: *batch },
                (false, None) => Selection::New,
            };
            export(data_dir, path, selection, *unencrypted, out, err)
        }
        BatchCommand::Verify { files, identity } => {
            verify(data_dir, files, identity.as_deref(), out, err)
        }
    }
}

fn export(
    data_dir: &Path,
    path: &Path,
    selection: Selection,
    unencrypted: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    // Reads, and marks what it exported: a writer's open.
    let store = super::open_store(data_dir, err)?;
    let written = match store.export_batch(path, selection, unencrypted)? {
        Exported::Written(w) => w,
        Exported::Nothing(Nothing::NoFieldwork) => {
            return emit(
                out,
                "nothing to export: this device holds no finalized responses, doors or knocks; no file written\n",
            );
        }
        Exported::Nothing(Nothing::AllExported { last }) => {
            return emit(
                out,
                &format!(
                    "nothing new to export: every finalized response, door and knock is already in a batch (the last is batch {} of this device, {}); no file written (--all exports everything again)\n",
                    last.sequence, last.batch
                ),
            );
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
    emit(
        out,
        &export_summary(path, &written.manifest, written.recipient.as_ref()),
    )
}

fn export_summary(
    path: &Path,
    m: &Manifest,
    recipient: Option<&crate::seal::SealRecipient>,
) -> String {
    let mut text = format!(
        "batch {} (number {} from {}) written to {}\n  holds {}\n",
        m.batch,
        m.sequence,
        m.device,
        path.display(),
        m.counts
    );
    text.push_str(&match recipient {
        Some(r) => format!("  encrypted to {r}\n"),
        None => "  NOT encrypted (--unencrypted): anyone with the file can read its plain answers; sealed answers stay sealed\n".to_owned(),
    });
    text.push_str(&format!("  signed with {}\n", m.device_key));
    text
}

/// UK local time, as the coordinator reads it.
fn uk_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::London)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

fn verify(
    data_dir: &Path,
    files: &[PathBuf],
    identity: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let identity = match identity {
        None => None,
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
            Some(
                CoordinatorIdentity::from_file_text(&text)
                    .map_err(|e| Error::BadInput(format!("{}: {e}", p.display())))?,
            )
        }
    };
    let (registry, _diagnostics) = Registry::load(data_dir)?;
    // Pins a device key seen for the first time: a writer's open.
    let store = super::open_store(data_dir, err)?;
    let mut refused = Vec::new();
    for path in files {
        let (text, outcome) = verify_one(&store, &registry, path, identity.as_ref())?;
        emit(out, &text)?;
        if let Err(reason) = outcome {
            refused.push(format!("{}: {reason}", path.display()));
        }
    }
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

/// Verifies one file: the report to print, and why it is refused if it is.
fn verify_one(
    store: &Store,
    registry: &Registry,
    path: &Path,
    identity: Option<&CoordinatorIdentity>,
) -> Result<(String, Result<(), String>), Error> {
    let mut text = format!("{}\n", path.display());
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            let reason = format!("cannot be read: {e}");
            text.push_str(&format!("  ✗ {reason}\n"));
            return Ok((text, Err(reason)));
        }
    };
    let batch = match batch::open(&bytes, identity) {
        Ok(b) => b,
        Err(e) => {
            text.push_str(&format!("  ✗ {e}\n"));
            return Ok((text, Err(e.to_string())));
        }
    };
    text.push_str(&manifest_text(&batch));
    text.push_str("  ✓ every record's checksum, the signature and the counts\n");
    let problems = batch::check_against(&batch, registry);
    if !problems.is_empty() {
        for p in &problems {
            text.push_str(&format!("  ✗ {p}\n"));
        }
        let reason = problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        return Ok((text, Err(reason)));
    }
    text.push_str(
        "  ✓ every survey is on this machine and every answer passes its survey's checks\n",
    );
    let m = &batch.manifest;
    match store.device_pin(&m.device)? {
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
            text.push_str(&format!("  ✗ {reason}\n"));
            return Ok((text, Err(reason)));
        }
        Some(pin) if pin.revoked_at.is_some() => {
            let reason = format!(
                "the key of device `{}` was revoked on {}; batches signed with it are refused (`doorstep devices trust` to trust it again)",
                m.device,
                pin.revoked_at.map(uk_time).unwrap_or_default()
            );
            text.push_str(&format!("  ✗ {reason}\n"));
            return Ok((text, Err(reason)));
        }
        Some(pin) => text.push_str(&format!(
            "  ✓ device key matches the one pinned for `{}` on {}\n",
            m.device,
            uk_time(pin.since)
        )),
        None => {
            store.put_device_pin(&DevicePin {
                device: m.device.clone(),
                key: m.device_key.clone(),
                since: store.env().now(),
                source: PinSource::FirstUse,
                revoked_at: None,
            })?;
            text.push_str(&format!(
                "  ✓ first batch seen from `{}`: its key is now pinned on this machine (written to the store; later batches must carry the same key)\n",
                m.device
            ));
        }
    }
    text.push_str("  verified\n");
    Ok((text, Ok(())))
}

fn manifest_text(batch: &Batch) -> String {
    let m = &batch.manifest;
    let mut text = format!(
        "  batch      {} (number {} from {}{})\n",
        m.batch,
        m.sequence,
        m.device,
        match m.previous {
            Some(p) => format!("; previous {p}"),
            None => String::new(),
        }
    );
    text.push_str(&format!(
        "  device     {}, officer {}\n",
        m.device,
        m.officer.as_deref().unwrap_or("(not set)")
    ));
    text.push_str(&format!("  key        {}\n", m.device_key));
    text.push_str(&format!("  created    {}\n", uk_time(m.created_at)));
    text.push_str(&format!("  selection  {}\n", m.selection));
    text.push_str(&format!("  holds      {}\n", m.counts));
    if let Some(span) = m.span {
        text.push_str(&format!(
            "  span       {} to {}\n",
            uk_time(span.first),
            uk_time(span.last)
        ));
    }
    for s in &m.surveys {
        text.push_str(&format!(
            "  survey     {} version {} ({})\n",
            s.id, s.version, s.fingerprint
        ));
    }
    text.push_str(&format!(
        "  format     {}, {}\n",
        m.format,
        if batch.encrypted {
            "encrypted (opened with the given identity)"
        } else {
            "NOT encrypted"
        }
    ));
    text
}
