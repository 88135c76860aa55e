//! `doorstep config get|set KEY [VALUE]`: device settings.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use clap::Subcommand;

use super::print;
use crate::Error;
use crate::geography::Level;
use crate::output::{Cell, Document, Fields, Format};
use crate::response::{ResponseError, SettingKey};
use crate::store::Store;
use crate::survey::registry::Registry;

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
            check_against_data(*key, value, &store, data_dir)?;
            let stored = store.set_setting(*key, value)?;
            let mut doc = Document::new();
            doc.paragraph(format!("{key} set to {stored}"));
            print(out, &doc, Format::Text)
        }
    }
}

/// A language must be one some survey offers, an area one of the geography's wards or PAAs:
/// a typo would otherwise be stored and only noticed in the field.
fn check_against_data(
    key: SettingKey,
    value: &str,
    store: &Store,
    data_dir: &Path,
) -> Result<(), Error> {
    let bad = |reason: String| ResponseError::BadSetting {
        key,
        value: value.to_owned(),
        reason,
    };
    match key {
        SettingKey::Language => {
            // The format check (two or three letters) comes first, with its own message.
            let code = key.validate(value)?;
            let (registry, _) = Registry::load(data_dir)?;
            let offered: BTreeSet<&str> = registry
                .entries()
                .iter()
                .flat_map(|e| e.survey.languages.iter().map(String::as_str))
                .collect();
            if !offered.contains(code.as_str()) {
                let list: Vec<&str> = offered.into_iter().collect();
                return Err(bad(format!(
                    "no survey offers it; the surveys' languages are {}",
                    list.join(", ")
                ))
                .into());
            }
        }
        SettingKey::Area => {
            let code = key.validate(value)?;
            let geography = store.stored_geography()?.or_builtin()?;
            let known = |level| geography.layer(level).and_then(|l| l.get(&code));
            if known(Level::Paa).is_none() && known(Level::Ward).is_none() {
                let codes: Vec<&str> = [Level::Paa, Level::Ward]
                    .into_iter()
                    .filter_map(|level| geography.layer(level))
                    .flat_map(|l| l.areas.iter().map(|a| a.code.as_str()))
                    .collect();
                let shown = codes
                    .iter()
                    .take(12)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ");
                let more = codes.len().saturating_sub(12);
                return Err(bad(format!(
                    "no ward or priority action area has that code; the codes are {shown}{} \
                     (see `doorstep areas list --tree`)",
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                ))
                .into());
            }
        }
        SettingKey::Officer | SettingKey::Device | SettingKey::Recipient => {}
    }
    Ok(())
}
