//! `doorstep config get|set KEY [VALUE]`: device settings.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use clap::Subcommand;

use super::emit;
use crate::Error;
use crate::geography::Level;
use crate::response::{ResponseError, SettingKey};
use crate::store::Store;
use crate::survey::registry::Registry;

use super::areas::effective_geography;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a setting (officer, device, recipient, language, area), or all of them.
    Get {
        #[arg(value_name = "KEY")]
        key: Option<SettingKey>,
    },
    /// Set a setting. The value is checked first; a bad value stores nothing.
    Set {
        #[arg(value_name = "KEY")]
        key: SettingKey,
        #[arg(value_name = "VALUE")]
        value: String,
    },
}

pub fn run(cmd: &ConfigCommand, data_dir: &Path, out: &mut dyn Write) -> Result<(), Error> {
    let store = Store::open(data_dir)?;
    match cmd {
        ConfigCommand::Get { key: Some(key) } => match store.settings()?.get(*key) {
            Some(value) => emit(out, &format!("{value}\n")),
            None => Err(Error::Failure(format!(
                "{key} is not set (doorstep config set {key} VALUE)"
            ))),
        },
        ConfigCommand::Get { key: None } => {
            let settings = store.settings()?;
            let mut text = String::new();
            for key in SettingKey::ALL {
                let value = settings.get(key).unwrap_or("(not set)");
                text.push_str(&format!("{:<10} {value}\n", key.as_str()));
            }
            emit(out, &text)
        }
        ConfigCommand::Set { key, value } => {
            check_against_data(*key, value, &store, data_dir)?;
            let stored = store.set_setting(*key, value)?;
            emit(out, &format!("{key} set to {stored}\n"))
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
            let geography = effective_geography(store)?;
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
