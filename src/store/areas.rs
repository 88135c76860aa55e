//! Boundary layers and the area plan, in the `areas` tree: one key per layer (`layer/ward`,
//! `layer/lsoa`, `layer/paa`) and `plan`, all written in one atomic batch.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Store, StoreError};
use crate::geography::{AreaPlan, Geography, Layer, Level};

const TREE: &str = "areas";
const PLAN_KEY: &str = "plan";

fn layer_key(level: Level) -> String {
    format!("layer/{level}")
}

impl Store {
    /// The stored layers and plan (no built-in fallback: that is the caller's choice).
    pub fn stored_geography(&self) -> Result<Geography, StoreError> {
        let tree = self.tree(TREE)?;
        let get_layer = |level: Level| -> Result<Option<Layer>, StoreError> {
            read_json(&tree, &layer_key(level))
        };
        Ok(Geography {
            wards: get_layer(Level::Ward)?,
            lsoas: get_layer(Level::Lsoa)?,
            paas: get_layer(Level::Paa)?,
            plan: read_json::<AreaPlan>(&tree, PLAN_KEY)?,
            builtin: false,
        })
    }

    /// Replaces every stored layer and the plan with `geography`'s (absent ones are removed),
    /// atomically, and flushes.
    pub fn write_geography(&self, geography: &Geography) -> Result<(), StoreError> {
        let tree = self.tree(TREE)?;
        let mut batch = sled::Batch::default();
        for level in Level::ALL {
            let key = layer_key(level);
            match geography.layer(level) {
                Some(layer) => batch.insert(key.as_bytes(), to_json(&key, layer)?),
                None => batch.remove(key.as_bytes()),
            }
        }
        match &geography.plan {
            Some(plan) => batch.insert(PLAN_KEY.as_bytes(), to_json(PLAN_KEY, plan)?),
            None => batch.remove(PLAN_KEY.as_bytes()),
        }
        tree.apply_batch(batch)?;
        self.flush()
    }
}

pub(super) fn to_json<T: Serialize>(key: &str, value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Corrupt {
        key: key.to_string(),
        message: format!("cannot be encoded: {e}"),
    })
}

fn read_json<T: DeserializeOwned>(tree: &sled::Tree, key: &str) -> Result<Option<T>, StoreError> {
    match tree.get(key.as_bytes())? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                key: key.to_string(),
                message: e.to_string(),
            }),
    }
}
