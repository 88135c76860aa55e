//! Recorded crime in the `crime` tree, keyed by the stable row key from
//! [`crate::geography::crime`], so importing the same rows twice stores them once.

use super::areas::to_json;
use super::{Store, StoreError};
use crate::geography::Locator;
use crate::geography::crime::CrimeRecord;

const TREE: &str = "crime";

/// What storing a batch of parsed rows did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CrimeInsert {
    pub added: usize,
    pub already_stored: usize,
}

impl Store {
    /// Stores the records whose keys are new, in one atomic batch; existing keys are left alone.
    pub fn insert_crime(
        &self,
        records: &[(String, CrimeRecord)],
    ) -> Result<CrimeInsert, StoreError> {
        let tree = self.tree(TREE)?;
        let mut batch = sled::Batch::default();
        let mut result = CrimeInsert::default();
        let mut seen = std::collections::HashSet::new();
        for (key, record) in records {
            if !seen.insert(key.as_str()) || tree.contains_key(key.as_bytes())? {
                result.already_stored += 1;
                continue;
            }
            batch.insert(key.as_bytes(), to_json(key, record)?);
            result.added += 1;
        }
        tree.apply_batch(batch)?;
        self.flush()?;
        Ok(result)
    }

    /// Every stored record, in key order (month first).
    pub fn crime_records(&self) -> Result<Vec<CrimeRecord>, StoreError> {
        let tree = self.tree(TREE)?;
        let mut out = Vec::with_capacity(tree.len());
        for item in tree.iter() {
            let (key, value) = item?;
            out.push(decode(&key, &value)?);
        }
        Ok(out)
    }

    pub fn crime_count(&self) -> Result<usize, StoreError> {
        Ok(self.tree(TREE)?.len())
    }

    /// Re-assigns every stored record to the areas of `locator` (after boundaries or the plan
    /// changed); returns how many records moved.
    pub fn reassign_crime(&self, locator: &Locator) -> Result<usize, StoreError> {
        let tree = self.tree(TREE)?;
        let mut batch = sled::Batch::default();
        let mut changed = 0;
        for item in tree.iter() {
            let (key, value) = item?;
            let mut record = decode(&key, &value)?;
            if record.assign(locator) {
                let name = String::from_utf8_lossy(&key).into_owned();
                batch.insert(key, to_json(&name, &record)?);
                changed += 1;
            }
        }
        tree.apply_batch(batch)?;
        self.flush()?;
        Ok(changed)
    }
}

fn decode(key: &[u8], value: &[u8]) -> Result<CrimeRecord, StoreError> {
    serde_json::from_slice(value).map_err(|e| StoreError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        message: e.to_string(),
    })
}
