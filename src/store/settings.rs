//! Device settings in the store.

use super::{JournalEntry, Store, StoreError, decode, encode};
use crate::response::{SettingKey, Settings};
use crate::seal::SealRecipient;

pub(super) const SETTINGS: &str = "settings";

impl Store {
    /// Every setting.
    pub fn settings(&self) -> Result<Settings, StoreError> {
        let tree = self.tree(SETTINGS)?;
        let mut settings = Settings::default();
        for key in SettingKey::ALL {
            if let Some(bytes) = tree.get(key.as_str())? {
                let value: String = decode(|| format!("setting {key}"), &bytes)?;
                settings.set(key, value);
            }
        }
        Ok(settings)
    }

    /// Checks and saves a setting (journaled: on disk before it returns). A bad value is refused and
    /// nothing is stored.
    pub fn set_setting(&self, key: SettingKey, value: &str) -> Result<String, StoreError> {
        let value = key.validate(value)?;
        let _guard = self.write_guard();
        let entry = JournalEntry::Setting {
            key,
            value: value.clone(),
        };
        self.journaled(&entry, || self.put_setting(key, &value))?;
        Ok(value)
    }

    pub(super) fn put_setting(&self, key: SettingKey, value: &str) -> Result<(), StoreError> {
        self.tree(SETTINGS)?
            .insert(key.as_str(), encode(&value.to_owned())?)?;
        Ok(())
    }

    /// The coordinator's recipient, if one is set.
    pub fn recipient(&self) -> Result<Option<SealRecipient>, StoreError> {
        match self.settings()?.recipient {
            None => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|e| StoreError::Corrupt {
                key: "setting recipient".into(),
                message: format!("{e}"),
            }),
        }
    }
}
