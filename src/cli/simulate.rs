//! `doorstep simulate`: realistic batch files from simulated laptops, for training, demos
//! and benchmarks. The batches are real: signed by each simulated device's key and
//! encrypted to the coordinator like a laptop's export.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use super::print;
use crate::Error;
use crate::batch;
use crate::output::{Cell, Column, Document, Format, Table};
use crate::response::Period;
use crate::seal::SealRecipient;
use crate::simulate::{Plan, SimulateError, Simulation};
use crate::survey::registry::Registry;

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Simulated laptops; each sends one batch per period.
    #[arg(long, value_name = "N")]
    pub devices: usize,
    /// The number of the first simulated laptop: give a second simulation for the same
    /// coordinator the number after the first one's last (e.g. 26 after `--devices 25`), so
    /// its laptops are new ones (SIM-026 on) and not the same names with other keys.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub first_device: usize,
    /// Responses in all (KIN interviews and some EVA transects), spread over the batches.
    #[arg(long, value_name = "M")]
    pub responses: usize,
    /// The last period simulated, such as 2026-Q4.
    #[arg(long, value_name = "PERIOD", value_parser = parse_period)]
    pub period: Period,
    /// How many periods, ending with --period.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub periods: usize,
    /// The same seed gives the same records, keys, ids and times.
    #[arg(long, value_name = "S")]
    pub seed: u64,
    /// The folder to write the batch files into (created if missing; files already there
    /// are never overwritten).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Encrypt to this coordinator recipient (`age1…`) instead of this device's
    /// `recipient` setting.
    #[arg(long, value_name = "RECIPIENT", conflicts_with = "unencrypted")]
    pub recipient: Option<String>,
    /// Write the batches in the clear (still signed), like `batch export --unencrypted`.
    #[arg(long)]
    pub unencrypted: bool,
    /// Print JSON: table `batches` (`file`, `device`, `sequence`, `responses`,
    /// `revisions`, `doors`, `knocks`, `actions`).
    #[arg(long)]
    pub json: bool,
}

fn parse_period(s: &str) -> Result<Period, String> {
    s.parse()
        .map_err(|e: crate::response::ResponseError| e.to_string())
}

pub fn run(
    args: &SimulateArgs,
    data_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let recipient = recipient(args, data_dir, err)?;
    let store = super::open_store_read_only(data_dir, err)?;
    let geography = store.stored_geography()?.or_builtin()?;
    drop(store);
    // Fieldwork is filed under priority action areas where the plan has them, else wards.
    let layer = geography
        .paas
        .as_ref()
        .filter(|l| !l.areas.is_empty())
        .or(geography.wards.as_ref());
    let areas: Vec<String> = layer
        .map(|l| l.areas.iter().map(|a| a.code.clone()).collect())
        .unwrap_or_default();
    let (registry, _) = Registry::load(data_dir)?;
    let plan = Plan {
        devices: args.devices,
        first_device: args.first_device,
        responses: args.responses,
        period: args.period,
        periods: args.periods,
        seed: args.seed,
        areas,
    };
    let mut simulation = Simulation::new(plan, &registry).map_err(usage)?;
    std::fs::create_dir_all(&args.out).map_err(|e| Error::io(&args.out, e))?;
    let keys: Vec<_> = (0..args.devices)
        .map(|d| simulation.device_key(d))
        .collect();

    let mut table = Table::new(
        "batches",
        vec![
            Column::text("file", "FILE"),
            Column::text("device", "DEVICE"),
            Column::integer("sequence", "BATCH"),
            Column::text("period", "PERIOD"),
            Column::integer("responses", "RESPONSES"),
            Column::integer("revisions", "REVISIONS"),
            Column::integer("doors", "DOORS"),
            Column::integer("knocks", "KNOCKS"),
            Column::integer("actions", "ACTIONS"),
        ],
    );
    while let Some(sim) = simulation.next_batch().map_err(usage)? {
        let key = &keys[sim.device];
        let bytes = match &recipient {
            Some(r) => batch::write_encrypted(&sim.manifest, &sim.records, key, r),
            None => batch::write(&sim.manifest, &sim.records, key),
        }
        .map_err(|e| Error::Failure(e.to_string()))?;
        let path = args.out.join(&sim.file_name);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| f.write_all(&bytes))
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => Error::Usage(format!(
                    "{} already exists; simulate never overwrites a batch, so give an empty folder",
                    path.display()
                )),
                _ => Error::io(&path, e),
            })?;
        let c = sim.manifest.counts;
        table.push(vec![
            Cell::from(sim.file_name.as_str()),
            Cell::from(sim.manifest.device.as_str()),
            Cell::from(count(sim.manifest.sequence)),
            Cell::from(sim.period.to_string()),
            Cell::from(count(c.responses)),
            Cell::from(count(c.revisions)),
            Cell::from(count(c.doors)),
            Cell::from(count(c.knocks)),
            Cell::from(count(c.actions)),
        ]);
    }
    let mut doc = Document::new();
    doc.table(table);
    if !args.json {
        doc.note(match &recipient {
            Some(_) => format!(
                "{} batch(es) written to {}, encrypted to the coordinator; merge them with `doorstep batch merge {}`",
                simulation.batch_count(),
                args.out.display(),
                args.out.display()
            ),
            None => format!(
                "{} batch(es) written to {} in the clear (signed); merge them with `doorstep batch merge {}`",
                simulation.batch_count(),
                args.out.display(),
                args.out.display()
            ),
        });
    }
    print(out, &doc, Format::json_if(args.json))
}

fn count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn usage(e: SimulateError) -> Error {
    match e {
        SimulateError::Response(e) => Error::Response(e),
        SimulateError::BadTime(_) => Error::Failure(e.to_string()),
        other => Error::Usage(other.to_string()),
    }
}

/// The recipient to encrypt to: --recipient, else this device's setting; none with
/// --unencrypted. Like export, it refuses to write in the clear unless asked.
fn recipient(
    args: &SimulateArgs,
    data_dir: &Path,
    err: &mut dyn Write,
) -> Result<Option<SealRecipient>, Error> {
    if args.unencrypted {
        return Ok(None);
    }
    if let Some(text) = &args.recipient {
        return text
            .parse()
            .map(Some)
            .map_err(|e| Error::Usage(format!("--recipient `{text}`: {e}")));
    }
    let store = super::open_store_read_only(data_dir, err)?;
    store.recipient()?.map(Some).ok_or_else(|| {
        Error::Usage(
            "no coordinator recipient is set, so the batches cannot be encrypted: give --recipient age1… (the coordinator's `doorstep keys new` prints it), set one with `doorstep config set recipient`, or give --unencrypted to write them in the clear".into(),
        )
    })
}
