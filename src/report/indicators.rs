//! The standard perception indicators, exactly as DOMAIN.md defines them, on residents
//! only. Questions are found by their `indicator` tag, so every survey version that asks
//! the same measure feeds the same figure.

use serde::{Deserialize, Serialize};

use super::figure::{Rules, Tally};
use super::model::{Indicator, Indicators};
use super::{AreaPeriod, Counted, Respondent, step};
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
fn tagged<'a>(c: &Counted<'a>, tags: &[impl AsRef<str>]) -> Option<&'a crate::survey::Question> {
    c.survey.questions.iter().find(|q| {
        q.indicator
            .as_deref()
            .is_some_and(|t| tags.iter().any(|x| x.as_ref() == t))
    })
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
fn scored(c: &Counted<'_>, tags: &[impl AsRef<str>], positive: &[&str]) -> Scored {
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

/// Counts one answer in (`add`) or back out.
fn tally_step(t: &mut Tally, s: Scored, add: bool) {
    match s {
        Scored::Counted => {
            t.count = step(t.count, add);
            t.base = step(t.base, add);
        }
        Scored::Base => t.base = step(t.base, add),
        Scored::Excluded => t.excluded = step(t.excluded, add),
    }
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

/// A measure on one scale: its id, wording, what it counts, the question tags that ask it
/// and the answers counted.
#[derive(Debug, Clone)]
pub struct Measure {
    pub id: String,
    pub label: String,
    pub counts: &'static str,
    pub tags: Vec<String>,
    pub positive: &'static [&'static str],
}

/// The measures after NI 17's high level, in the order reported.
pub fn measures() -> Vec<Measure> {
    let m = |id: &str, label: &str, counts: &'static str, tags: &[&str], positive| Measure {
        id: id.to_owned(),
        label: label.to_owned(),
        counts,
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        positive,
    };
    let mut out = Vec::new();
    for (strand, label) in NI17_STRANDS.iter().zip(STRAND_LABELS) {
        let tag = format!("ni17.{strand}");
        out.push(m(
            &tag,
            &format!("NI 17 strand: {label}"),
            "very or fairly big problem",
            &[tag.as_str()],
            &BIG,
        ));
    }
    out.push(m(
        "ni41",
        "NI 41: drunk or rowdy behaviour as a problem",
        "very or fairly big problem (NI 17 strand 6)",
        &["ni17.drunk_rowdy"],
        &BIG,
    ));
    out.push(m(
        "ni42",
        "NI 42: drug use or drug dealing as a problem",
        "very or fairly big problem (NI 17 strand 5)",
        &["ni17.drugs"],
        &BIG,
    ));
    out.push(m(
        "unsafe_after_dark",
        "Feeling unsafe walking alone in the area after dark",
        "a bit or very unsafe (never walks alone is excluded)",
        &["safety.after_dark"],
        &UNSAFE,
    ));
    out.push(m(
        "unsafe_day",
        "Feeling unsafe walking alone in the area during the day",
        "a bit or very unsafe (never walks alone is excluded)",
        &["safety.day"],
        &UNSAFE,
    ));
    // Version 1 tagged this wording `ni21`; it is the PSA 23 single confidence measure's
    // wording, not the Place Survey's, so it is not called NI 21.
    out.push(m(
        "single_confidence_measure",
        "Agree the police and local council are dealing with the anti-social behaviour and \
         crime issues that matter in this area (single confidence measure, PSA 23 wording; \
         not NI 21)",
        "strongly or tend to agree",
        &["psa23.confidence", "ni21"],
        &AGREE5,
    ));
    out.push(m(
        "ni4",
        "NI 4: feel they can influence decisions affecting their local area",
        "definitely or tend to agree (don't know excluded)",
        &["ni4"],
        &AGREE4,
    ));
    out.push(m(
        "police_confidence",
        "Confidence in the police in this area (CSEW wording)",
        "strongly or tend to agree",
        &["police_confidence"],
        &AGREE5,
    ));
    out
}

/// The residents' answers to every measure, counted one resident at a time.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Acc {
    high: Tally,
    /// One per [`measures`], in order.
    measures: Vec<Tally>,
}

impl Acc {
    /// Counts a resident's interview in (`add`) or back out.
    pub fn count(&mut self, measures: &[Measure], c: &Counted<'_>, add: bool) {
        let high = match ni17_total(c) {
            Some(t) if t >= NI17_HIGH => Scored::Counted,
            Some(_) => Scored::Base,
            None => Scored::Excluded,
        };
        tally_step(&mut self.high, high, add);
        if self.measures.len() < measures.len() {
            self.measures.resize(measures.len(), Tally::default());
        }
        for (m, t) in measures.iter().zip(&mut self.measures) {
            tally_step(t, scored(c, &m.tags, m.positive), add);
        }
    }

    /// Adds the counts of other residents (another area code's) to these.
    pub fn absorb(&mut self, other: &Acc) {
        self.high.absorb(other.high);
        if self.measures.len() < other.measures.len() {
            self.measures.resize(other.measures.len(), Tally::default());
        }
        for (t, o) in self.measures.iter_mut().zip(&other.measures) {
            t.absorb(*o);
        }
    }
}

/// The indicators; when the residents' count is hidden (`residents_hidden`), so is every
/// figure on it, whole.
pub fn indicators(now: &AreaPeriod, rules: &Rules, residents_hidden: bool) -> Indicators {
    let figure = |t: Tally| {
        if residents_hidden {
            rules.figure_whole_hidden(t)
        } else {
            rules.figure(t)
        }
    };
    let acc = &now.indicators;
    let mut out = vec![Indicator {
        id: "ni17_high".to_owned(),
        label: "NI 17: high level of perceived anti-social behaviour".to_owned(),
        counts: "total of 11 or more over the seven strands (3/2/1/0 each); only residents \
                 answering all seven are in the base"
            .to_owned(),
        figure: figure(acc.high),
    }];
    for (i, m) in measures().into_iter().enumerate() {
        out.push(Indicator {
            id: m.id,
            label: m.label,
            counts: m.counts.to_owned(),
            figure: figure(acc.measures.get(i).copied().unwrap_or_default()),
        });
    }
    Indicators {
        population: "residents only".to_owned(),
        residents: rules.count_hidden(now.by_type[Respondent::Resident.index()], residents_hidden),
        measures: out,
    }
}
