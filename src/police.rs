//! police.uk crime categories: API slug and the display name used in the street-level CSVs.

/// `(slug, CSV "Crime type" name)` for every current police.uk category.
pub const CATEGORIES: [(&str, &str); 14] = [
    ("anti-social-behaviour", "Anti-social behaviour"),
    ("bicycle-theft", "Bicycle theft"),
    ("burglary", "Burglary"),
    ("criminal-damage-arson", "Criminal damage and arson"),
    ("drugs", "Drugs"),
    ("other-theft", "Other theft"),
    ("possession-of-weapons", "Possession of weapons"),
    ("public-order", "Public order"),
    ("robbery", "Robbery"),
    ("shoplifting", "Shoplifting"),
    ("theft-from-the-person", "Theft from the person"),
    ("vehicle-crime", "Vehicle crime"),
    ("violent-crime", "Violence and sexual offences"),
    ("other-crime", "Other crime"),
];

pub fn is_slug(slug: &str) -> bool {
    CATEGORIES.iter().any(|(s, _)| *s == slug)
}

/// The slug for a CSV "Crime type" value.
pub fn slug_for_name(name: &str) -> Option<&'static str> {
    CATEGORIES
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(name.trim()))
        .map(|(s, _)| *s)
}

pub fn name_for_slug(slug: &str) -> Option<&'static str> {
    CATEGORIES.iter().find(|(s, _)| *s == slug).map(|(_, n)| *n)
}
