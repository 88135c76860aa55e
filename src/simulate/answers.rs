//! Plausible answers, drawn with weights that depend on the area and drift between periods,
//! so each area has its own priorities and they move from one quarter to the next.

use chrono::{DateTime, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::response::FIELDWORK_ZONE;
use crate::survey::model::{DateTimeMode, LocationForm, QuestionKind};
use crate::survey::walker::Answers;
use crate::survey::{Answer, Grade, IssueCoding, Location, Question, Survey};

/// Where an answer is given: what the weights depend on.
#[derive(Debug, Clone, Copy)]
pub(super) struct Setting<'a> {
    pub seed: u64,
    pub area: &'a str,
    /// 0 for the first simulated period, 1 for the next, …
    pub period: usize,
}

impl Setting<'_> {
    /// A number in [0, 1) fixed for the seed, the area and `parts`: the area's leaning.
    fn leaning(&self, parts: &[&str]) -> f64 {
        unit(self.seed, self.area, parts)
    }

    /// A factor that moves one way or the other by up to 40% a period: the drift.
    fn drift(&self, parts: &[&str]) -> f64 {
        let direction = unit(self.seed ^ 0x5eed_d21f, self.area, parts) * 2.0 - 1.0;
        (0.35 * direction * self.period as f64).exp()
    }

    /// The weight of a choice of a question here.
    fn weight(&self, question: &str, value: &str, non_substantive: bool) -> f64 {
        if non_substantive {
            return 0.08;
        }
        let lean = self.leaning(&[question, value]);
        // Squared, so a few choices lead in each area.
        (0.2 + 2.5 * lean * lean) * self.drift(&[question, value])
    }
}

impl Setting<'_> {
    /// The `n` issues residents here name most this period, likeliest first: what the
    /// partnership takes as its priorities.
    pub(super) fn top_issues(&self, survey: &Survey, n: usize) -> Vec<String> {
        let mut ids: Vec<(f64, &str)> = survey
            .taxonomy
            .issues
            .iter()
            .map(|t| t.id.as_str())
            .filter(|id| *id != "other")
            .map(|id| (self.weight("issue", id, false), id))
            .collect();
        ids.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        ids.dedup_by(|a, b| a.1 == b.1);
        ids.into_iter()
            .take(n)
            .map(|(_, id)| id.to_owned())
            .collect()
    }
}

/// FNV-1a over the parts, finished with a 64-bit mix: a stable hash, not a generator.
fn unit(seed: u64, area: &str, parts: &[&str]) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for part in std::iter::once(area).chain(parts.iter().copied()) {
        for b in part.bytes().chain(std::iter::once(0x1f)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// One index drawn with the given weights.
fn pick(rng: &mut ChaCha8Rng, weights: &[f64]) -> Option<usize> {
    let total: f64 = weights.iter().sum();
    if weights.is_empty() || total <= 0.0 {
        return None;
    }
    let mut x = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return Some(i);
        }
        x -= w;
    }
    Some(weights.len() - 1)
}

/// Up to `n` distinct indices drawn with the given weights, the likeliest usually first.
fn pick_many(rng: &mut ChaCha8Rng, weights: &[f64], n: usize) -> Vec<usize> {
    let mut weights = weights.to_vec();
    let mut out = Vec::new();
    while out.len() < n {
        let Some(i) = pick(rng, &weights) else { break };
        out.push(i);
        weights[i] = 0.0;
    }
    out
}

const TEXTS: [&str; 8] = [
    "Cars speeding past the school at home time",
    "Litter and broken glass by the shops",
    "Groups gathering in the park after dark",
    "Better street lighting on the back lane",
    "Dog fouling on the path to the play area",
    "Parking on the pavement near the junction",
    "Noise from the flats late at night",
    "More officers walking the beat",
];

/// Answers to try for question `i`, likeliest first; the caller keeps the first its survey
/// accepts and otherwise skips the question. Personal questions are skipped: sealing draws
/// on the system's randomness, and a simulation must give the same bytes for a seed.
pub(super) fn candidates(
    survey: &Survey,
    i: usize,
    answers: &Answers,
    at: DateTime<Utc>,
    place: Setting<'_>,
    rng: &mut ChaCha8Rng,
) -> Vec<Answer> {
    let q = &survey.questions[i];
    if q.personal {
        return vec![Answer::Skipped];
    }
    match &q.kind {
        QuestionKind::Single { choices } | QuestionKind::Scale { choices, .. } => {
            let weights: Vec<f64> = choices
                .iter()
                .map(|c| choice_weight(q, &c.value, c.non_substantive, place))
                .collect();
            let mut order = pick_many(rng, &weights, choices.len());
            order.dedup();
            order
                .into_iter()
                .map(|k| Answer::Choice(choices[k].value.clone()))
                .collect()
        }
        QuestionKind::Multiple { choices, max, .. } => {
            let weights: Vec<f64> = choices
                .iter()
                .map(|c| {
                    if c.exclusive {
                        0.0
                    } else {
                        choice_weight(q, &c.value, c.non_substantive, place)
                    }
                })
                .collect();
            let n = rng
                .random_range(1..=3)
                .min(max.unwrap_or(u32::MAX) as usize);
            let chosen = pick_many(rng, &weights, n);
            let values: Vec<String> = chosen.iter().map(|k| choices[*k].value.clone()).collect();
            let mut out = vec![Answer::Choices(values.clone())];
            if let Some(first) = values.first() {
                out.push(Answer::Choices(vec![first.clone()]));
            }
            out
        }
        QuestionKind::Issues { max, choices } => {
            // Now and then nothing worries them.
            if rng.random_bool(0.04)
                && let Some(nothing) = choices.iter().find(|c| c.exclusive)
            {
                return vec![Answer::Issues(IssueCoding {
                    issues: vec![nothing.value.clone()],
                    other: None,
                })];
            }
            let ids: Vec<&str> = survey
                .taxonomy
                .issues
                .iter()
                .map(|t| t.id.as_str())
                .filter(|id| *id != "other")
                .collect();
            let weights: Vec<f64> = ids
                .iter()
                .map(|id| place.weight("issue", id, false).powi(2))
                .collect();
            let n = rng
                .random_range(1..=3)
                .min(max.unwrap_or(u32::MAX) as usize);
            let chosen: Vec<String> = pick_many(rng, &weights, n)
                .into_iter()
                .map(|k| ids[k].to_owned())
                .collect();
            let mut out = vec![Answer::Issues(IssueCoding {
                issues: chosen.clone(),
                other: None,
            })];
            if let Some(first) = chosen.first() {
                out.push(Answer::Issues(IssueCoding {
                    issues: vec![first.clone()],
                    other: None,
                }));
            }
            out
        }
        QuestionKind::Rank { from, max } => {
            let values: Vec<String> = answers
                .get(from)
                .map(Answer::values)
                .unwrap_or_default()
                .into_iter()
                .filter(|v| v != "other")
                .collect();
            (1..=values.len().min(*max as usize))
                .rev()
                .map(|k| Answer::Rank(values[..k].to_vec()))
                .collect()
        }
        QuestionKind::Number { min, integer, .. } => {
            let base = min.unwrap_or(0.0).max(1.0);
            let x = base + f64::from(rng.random_range(0..4u8));
            vec![
                Answer::Number(if *integer { x.round() } else { x + 0.5 }),
                Answer::Number(base),
            ]
        }
        QuestionKind::Count { max } => {
            vec![Answer::Count(
                count(q, place, rng).min(max.unwrap_or(u64::MAX)),
            )]
        }
        QuestionKind::Text { .. } => {
            let text = match q.id.as_str() {
                "transect_id" => format!("T{}", rng.random_range(1..=40u8)),
                "street" => super::street(place.area, rng.random_range(0..super::STREETS.len())),
                "from_ref" => format!("lamp column {}", rng.random_range(1..=30u8)),
                "to_ref" => format!(
                    "junction with {}",
                    super::STREETS[rng.random_range(0..super::STREETS.len())]
                ),
                _ => TEXTS[rng.random_range(0..TEXTS.len())].to_owned(),
            };
            vec![Answer::Text(text), Answer::Skipped]
        }
        QuestionKind::YesNo => {
            let p_yes = match q.id.as_str() {
                "consent" => 0.9,
                "parent_consent" => 0.7,
                _ => 0.1 + 0.6 * place.leaning(&[&q.id]),
            };
            let yes = rng.random_bool(p_yes);
            vec![Answer::YesNo(yes), Answer::YesNo(!yes)]
        }
        QuestionKind::DateTime { mode } => {
            let local = at.with_timezone(&FIELDWORK_ZONE).naive_local();
            vec![match mode {
                DateTimeMode::Date => Answer::Date(local.date()),
                DateTimeMode::Time => Answer::Time(local.time()),
                DateTimeMode::DateTime => Answer::DateTime(local),
            }]
        }
        QuestionKind::Location { forms } => forms
            .iter()
            .map(|f| match f {
                LocationForm::Fixed => Answer::Location(Location::Fixed {
                    text: format!("lamp column {}", rng.random_range(1..=30u8)),
                }),
                LocationForm::GridRef => Answer::Location(Location::GridRef {
                    text: "SD 5760 0540".into(),
                }),
                LocationForm::LatLon => Answer::Location(Location::LatLon {
                    lat: 53.5450,
                    lon: -2.6325,
                }),
            })
            .collect(),
        QuestionKind::Grade => vec![Answer::Grade(grade(q, place, rng))],
        QuestionKind::Note => Vec::new(),
    }
}

fn choice_weight(q: &Question, value: &str, non_substantive: bool, place: Setting<'_>) -> f64 {
    // Most people met at the door are adults (one or two in a hundred are under 16,
    // however the area leans); "other" needs words typed, so is rarer.
    if value.starts_with("under_") {
        return 0.004;
    }
    if value == "other" {
        return 0.1;
    }
    place.weight(&q.id, value, non_substantive)
}

/// An EVA count: how bad the item is here, rarer for items that are urgent when found.
fn count(q: &Question, place: Setting<'_>, rng: &mut ChaCha8Rng) -> u64 {
    let severity = (place.leaning(&[&q.id]) * place.drift(&[&q.id])).min(1.0);
    let urgent = q.item.as_ref().is_some_and(|i| i.urgent_if.is_some());
    let p_found = if urgent {
        0.02 + 0.08 * severity
    } else {
        0.1 + 0.5 * severity
    };
    if rng.random_bool(p_found.clamp(0.0, 1.0)) {
        rng.random_range(1..=1 + (8.0 * severity) as u64)
    } else {
        0
    }
}

const GRADES: [Grade; 7] = [
    Grade::A,
    Grade::BPlus,
    Grade::B,
    Grade::BMinus,
    Grade::C,
    Grade::CMinus,
    Grade::D,
];

/// An NI 195 grade centred on how clean the area is for this item, drifting by period.
fn grade(q: &Question, place: Setting<'_>, rng: &mut ChaCha8Rng) -> Grade {
    let severity = place.leaning(&[&q.id]);
    let centre = 0.5 + 4.5 * severity * place.drift(&[&q.id, "grade"]);
    let weights: Vec<f64> = (0..GRADES.len())
        .map(|i| (-(i as f64 - centre).powi(2) / 2.0).exp())
        .collect();
    GRADES[pick(rng, &weights).unwrap_or(2)]
}

/// Whether a grade is bad enough to note as a finding.
pub(super) fn poor(grade: Grade) -> bool {
    matches!(grade, Grade::C | Grade::CMinus | Grade::D)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_leaning_is_stable_and_differs_between_areas() {
        let a = Setting {
            seed: 7,
            area: "E05000841",
            period: 0,
        };
        let b = Setting {
            area: "E05000842",
            ..a
        };
        assert_eq!(a.leaning(&["q", "v"]), a.leaning(&["q", "v"]));
        assert_ne!(a.leaning(&["q", "v"]), b.leaning(&["q", "v"]));
        let later = Setting { period: 2, ..a };
        assert_eq!(a.drift(&["q"]), 1.0);
        assert_ne!(later.drift(&["q"]), 1.0);
    }
}
