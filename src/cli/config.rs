//! `doorstep config get|set KEY [VALUE]`: device settings.

use std::io::Write;
use std::path::Path;

use clap::Subcommand;

use super::print;
use crate::Error;
use crate::output::{Cell, Document, Fields, Format};
use crate::response::SettingKey;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a setting (officer, device, recipient, language, area), or all of them.
    Get {
        #[arg(value_name = "KEY")]
        key: Option<SettingKey>,
        /// Print JSON: fields `officer`, `device`, `recipient`, `language`, `area` (null when
        /// not set); with KEY, only that one.
        #[arg(long)]
        json: bool,
    },
    /// Set a setting. The value is checked first; a bad value stores nothing.
    Set {
        #[arg(value_name = "KEY")]
        key: SettingKey,
        #[arg(value_name = "VALUE")]
        value: String,
    },
}

pub fn run(
    cmd: &ConfigCommand,
    data_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let store = super::open_store(data_dir, err)?;
    match cmd {
        ConfigCommand::Get {
            key: Some(key),
            json,
        } => match store.settings()?.get(*key) {
            Some(value) => {
                let mut doc = Document::new();
                if *json {
                    let mut fields = Fields::new("settings");
                    fields.add(key.as_str(), value);
                    doc.fields(fields);
                } else {
                    // Just the value, for `$(doorstep config get officer)`.
                    doc.paragraph(value);
                }
                print(out, &doc, Format::json_if(*json))
            }
            None => Err(Error::Failure(format!(
                "{key} is not set (doorstep config set {key} VALUE)"
            ))),
        },
        ConfigCommand::Get { key: None, json } => {
            let settings = store.settings()?;
            let mut fields = Fields::new("settings");
            for key in SettingKey::ALL {
                let value = settings.get(key);
                let cell = match value {
                    Some(v) => Cell::from(v),
                    None => Cell::from(None::<String>).shown_as("(not set)"),
                };
                fields.add(key.as_str(), cell);
            }
            let mut doc = Document::new();
            doc.fields(fields);
            print(out, &doc, Format::json_if(*json))
        }
        ConfigCommand::Set { key, value } => {
            let stored = store.set_setting(*key, value)?;
            let mut doc = Document::new();
            doc.paragraph(format!("{key} set to {stored}"));
            print(out, &doc, Format::Text)
        }
    }
}
