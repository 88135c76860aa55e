//! The PACT issue taxonomy (`surveys/issues.toml`): the recurring local issues, each mapped
//! to the police.uk categories that record it, its NI 17 strand and the EVA items that see it.

use serde::Serialize;

use super::model::LocalText;

/// The British Crime Survey "seven strands" of NI 17, in survey order.
pub const NI17_STRANDS: [&str; 7] = [
    "noisy_neighbours",
    "teenagers_hanging_around",
    "rubbish_litter",
    "vandalism_graffiti",
    "drugs",
    "drunk_rowdy",
    "abandoned_cars",
];

/// The issue id that takes free text.
pub const OTHER: &str = "other";

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Taxonomy {
    pub issues: Vec<IssueDef>,
}

impl Taxonomy {
    pub fn get(&self, id: &str) -> Option<&IssueDef> {
        self.issues.iter().find(|i| i.id == id)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IssueDef {
    pub id: String,
    pub label: LocalText,
    /// police.uk category slugs that record this issue (may be empty).
    pub police_categories: Vec<String>,
    /// The NI 17 strand this issue corresponds to, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ni17: Option<String>,
    /// EVA question ids that observe it.
    pub eva_items: Vec<String>,
}
