//! `doorstep devices list|trust|revoke`: the device keys a coordinator's machine trusts.
//! A device's key is pinned by its first verified batch; these change or end that trust.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use clap::Subcommand;

use super::{emit, print};
use crate::Error;
use crate::batch::DevicePublicKey;
use crate::output::{Cell, Column, Document, Format, Table};
use crate::store::Store;
use crate::store::batches::{DevicePin, PinSource};

#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    /// Every device whose batches this machine has verified, with its pinned key.
    List {
        /// Print JSON: table `devices` (`device`, `key`, `source` first_use|trusted,
        /// `since`, `revoked_at`).
        #[arg(long)]
        json: bool,
    },
    /// Pin a device name to a key (e.g. after the laptop was reinstalled and made a new key).
    Trust {
        #[arg(value_name = "DEVICE")]
        device: String,
        /// The key as `doorstep batch verify` prints it (`ed25519:` and 64 hex digits).
        #[arg(value_name = "KEY", value_parser = parse_key)]
        key: DevicePublicKey,
    },
    /// Stop trusting a device's key: its batches are refused until it is trusted again.
    Revoke {
        #[arg(value_name = "DEVICE")]
        device: String,
    },
}

fn parse_key(s: &str) -> Result<DevicePublicKey, String> {
    s.parse()
}

fn uk_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::London)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

pub fn run(
    cmd: &DevicesCommand,
    data_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let store = super::open_store(data_dir, err)?;
    match cmd {
        DevicesCommand::List { json } => list(&store, out, Format::json_if(*json)),
        DevicesCommand::Trust { device, key } => {
            let device = crate::response::SettingKey::Device.validate(device)?;
            store.put_device_pin(&DevicePin {
                device: device.clone(),
                key: key.clone(),
                since: store.env().now(),
                source: PinSource::Trusted,
                revoked_at: None,
            })?;
            emit(
                out,
                &format!("device `{device}` now trusted with key {key}\n"),
            )
        }
        DevicesCommand::Revoke { device } => {
            let mut pin = store.device_pin(device)?.ok_or_else(|| {
                Error::Usage(format!(
                    "no device `{device}` is known here (`doorstep devices list` shows them)"
                ))
            })?;
            if pin.revoked_at.is_some() {
                return emit(out, &format!("device `{device}` was already revoked\n"));
            }
            pin.revoked_at = Some(store.env().now());
            store.put_device_pin(&pin)?;
            emit(
                out,
                &format!(
                    "device `{device}` revoked: batches signed with {} are refused\n",
                    pin.key
                ),
            )
        }
    }
}

fn list(store: &Store, out: &mut dyn Write, format: Format) -> Result<(), Error> {
    let mut table = Table::new(
        "devices",
        vec![
            Column::text("device", "DEVICE"),
            Column::text("key", "KEY"),
            Column::text("source", "PINNED BY"),
            Column::time("since", "SINCE"),
            Column::text("revoked_at", "STATE"),
        ],
    )
    .when_empty(
        "no devices yet: `doorstep batch verify` pins each device's key on its first batch",
    );
    for p in store.device_pins()? {
        let source = match p.source {
            PinSource::FirstUse => "first_use",
            PinSource::Trusted => "trusted",
        };
        let state = match p.revoked_at {
            Some(t) => Cell::from(rfc3339(t)).shown_as(format!("REVOKED {}", uk_time(t))),
            None => Cell::from(None::<String>).shown_as("active"),
        };
        table.push(vec![
            Cell::from(&p.device),
            Cell::from(p.key.to_string()),
            Cell::from(source).shown_as(source.replace('_', " ")),
            Cell::from(rfc3339(p.since)).shown_as(uk_time(p.since)),
            state,
        ]);
    }
    let mut doc = Document::new();
    doc.table(table);
    print(out, &doc, format)
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
