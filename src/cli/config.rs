//! `doorstep config get|set KEY [VALUE]`: device settings.

use std::io::Write;
use std::path::Path;

use clap::Subcommand;

use super::emit;
use crate::Error;
use crate::response::SettingKey;

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
    let store = super::open_store(data_dir)?;
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
            let stored = store.set_setting(*key, value)?;
            emit(out, &format!("{key} set to {stored}\n"))
        }
    }
}
