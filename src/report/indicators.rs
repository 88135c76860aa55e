//! The standard perception indicators, exactly as DOMAIN.md defines them, on residents
//! only. Questions are found by their `indicator` tag, so every survey version that asks
//! the same measure feeds the same figure.

use super::figure::{Rules, Tally};
use super::model::{Indicator, Indicators};
use super::{AreaPeriod, Counted, Respondent};
use crate::survey::taxonomy::NI17_STRANDS;

/// The NI 17 total (0–21) at or above which a respondent perceives a high level of ASB.
pub const NI17_HIGH: f64 = 11.0;

/// The English wording of each NI 17 strand, in survey order.
const STRAND_LABELS: [&str; 7] = [
    "noisy neighbours or loud parties",
    "teenagers hanging around on the streets",
    "rubbish or litter lying around",
    "vandalism, graffiti and other deliberate damage to property or vehicles",
    "people using or dealing drugs",
    "people being drunk or rowdy in public places",
    "abandoned or burnt-out cars",
];

/// The question of this response's survey tagged `tag` (any of `tags`).
fn tagged<'a>(c: &Counted<'a>, tags: &[&str]) -> Option<&'a crate::survey::Question> {
    c.survey
        .questions
        .iter()
        .find(|q| q.indicator.as_deref().is_some_and(|t| tags.contains(&t)))
}

/// One resident's answer to a measure: counted, in the base only, or excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scored {
    Counted,
    Base,
    Excluded,
}

/// A measure answered on one scale: `positive` values are counted; any other substantive
/// answer is in the base; non-substantive answers (don't know, refused, never walks
/// alone), skipped or missing questions are excluded.
fn scored(c: &Counted<'_>, tags: &[&str], positive: &[&str]) -> Scored {
    let Some(q) = tagged(c, tags) else {
        return Scored::Excluded;
    };
    let Some(value) = c.choice(&q.id) else {
        return Scored::Excluded;
    };
    let substantive = q
        .choices()
        .iter()
        .any(|ch| ch.value == value && !ch.non_substantive);
    if !substantive {
        Scored::Excluded
    } else if positive.contains(&value) {
        Scored::Counted
    } else {
        Scored::Base
    }
}

fn tally_of(scores: impl Iterator<Item = Scored>) -> Tally {
    let mut t = Tally::default();
    for s in scores {
        match s {
            Scored::Counted => {
                t.count += 1;
                t.base += 1;
            }
            Scored::Base => t.base += 1,
            Scored::Excluded => t.excluded += 1,
        }
    }
    t
}

/// A resident's NI 17 total, or `None` when any strand lacks a valid (scored) answer.
pub fn ni17_total(c: &Counted<'_>) -> Option<f64> {
    let mut total = 0.0;
    for strand in NI17_STRANDS {
        let tag = format!("ni17.{strand}");
        let q = tagged(c, &[tag.as_str()])?;
        let value = c.choice(&q.id)?;
        let choice = q
            .choices()
            .iter()
            .find(|ch| ch.value == value && !ch.non_substantive)?;
        total += choice.score?;
    }
    Some(total)
}

const BIG: [&str; 2] = ["very_big", "fairly_big"];
const UNSAFE: [&str; 2] = ["a_bit_unsafe", "very_unsafe"];
const AGREE5: [&str; 2] = ["strongly_agree", "tend_to_agree"];
const AGREE4: [&str; 2] = ["definitely_agree", "tend_to_agree"];

/// The indicators; when the residents' count is hidden (`residents_hidden`), so is every
/// figure on it, whole.
pub fn indicators(now: &AreaPeriod<'_>, rules: &Rules, residents_hidden: bool) -> Indicators {
    let residents: Vec<&Counted<'_>> = now
        .interviews
        .iter()
        .filter(|i| i.respondent == Respondent::Resident)
        .map(|i| &i.counted)
        .collect();
    let measure = |tags: &[&str], positive: &[&str]| {
        tally_of(residents.iter().map(|c| scored(c, tags, positive)))
    };
    let mut measures = Vec::new();
    let mut push = |id: &str, label: &str, counts: &str, t: Tally| {
        measures.push(Indicator {
            id: id.to_owned(),
            label: label.to_owned(),
            counts: counts.to_owned(),
            figure: if residents_hidden {
                rules.figure_whole_hidden(t)
            } else {
                rules.figure(t)
            },
        });
    };
    let high = tally_of(residents.iter().map(|c| match ni17_total(c) {
        Some(t) if t >= NI17_HIGH => Scored::Counted,
        Some(_) => Scored::Base,
        None => Scored::Excluded,
    }));
    push(
        "ni17_high",
        "NI 17: high level of perceived anti-social behaviour",
        "total of 11 or more over the seven strands (3/2/1/0 each); only residents \
         answering all seven are in the base",
        high,
    );
    for (strand, label) in NI17_STRANDS.iter().zip(STRAND_LABELS) {
        let tag = format!("ni17.{strand}");
        push(
            &tag,
            &format!("NI 17 strand: {label}"),
            "very or fairly big problem",
            measure(&[tag.as_str()], &BIG),
        );
    }
    push(
        "ni41",
        "NI 41: drunk or rowdy behaviour as a problem",
        "very or fairly big problem (NI 17 strand 6)",
        measure(&["ni17.drunk_rowdy"], &BIG),
    );
    push(
        "ni42",
        "NI 42: drug use or drug dealing as a problem",
        "very or fairly big problem (NI 17 strand 5)",
        measure(&["ni17.drugs"], &BIG),
    );
    push(
        "unsafe_after_dark",
        "Feeling unsafe walking alone in the area after dark",
        "a bit or very unsafe (never walks alone is excluded)",
        measure(&["safety.after_dark"], &UNSAFE),
    );
    push(
        "unsafe_day",
        "Feeling unsafe walking alone in the area during the day",
        "a bit or very unsafe (never walks alone is excluded)",
        measure(&["safety.day"], &UNSAFE),
    );
    // Version 1 tagged this wording `ni21`; it is the PSA 23 single confidence measure's
    // wording, not the Place Survey's, so it is not called NI 21.
    push(
        "single_confidence_measure",
        "Agree the police and local council are dealing with the anti-social behaviour and \
         crime issues that matter in this area (single confidence measure, PSA 23 wording; \
         not NI 21)",
        "strongly or tend to agree",
        measure(&["psa23.confidence", "ni21"], &AGREE5),
    );
    push(
        "ni4",
        "NI 4: feel they can influence decisions affecting their local area",
        "definitely or tend to agree (don't know excluded)",
        measure(&["ni4"], &AGREE4),
    );
    push(
        "police_confidence",
        "Confidence in the police in this area (CSEW wording)",
        "strongly or tend to agree",
        measure(&["police_confidence"], &AGREE5),
    );
    Indicators {
        population: "residents only".to_owned(),
        residents: rules.count_hidden(residents.len() as u64, residents_hidden),
        measures,
    }
}
