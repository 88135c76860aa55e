//! The street as audited: NI 195 per element over the area's EVA transects, and the urgent
//! findings with their fixed references and agencies.

use super::model::{Ni195Element, Street, UrgentFinding};
use super::{AreaPeriod, Counted};
use crate::response::transect::transect_id;
use crate::survey::{Answer, Grade};

/// NI 195's four elements, in the order reported.
pub const NI195_ELEMENTS: [&str; 4] = ["litter", "detritus", "graffiti", "fly_posting"];

/// The grade an audit gave an NI 195 element: the question tagged `ni195.<element>`, or
/// (EVA version 1, untagged) the grade question with the element's id.
pub fn element_grade(c: &Counted<'_>, element: &str) -> Option<Grade> {
    let tag = format!("ni195.{element}");
    let q = c
        .survey
        .questions
        .iter()
        .find(|q| q.indicator.as_deref() == Some(tag.as_str()))
        .or_else(|| c.survey.question(element))?;
    match c.answer(&q.id)? {
        Answer::Grade(g) => Some(*g),
        _ => None,
    }
}

/// NI 195 for one element: C, C− and D count in full, B− with half weight, over the
/// transects graded on it.
pub fn ni195(audits: &[Counted<'_>], element: &str) -> Ni195Element {
    let mut e = Ni195Element {
        element: element.to_owned(),
        graded: 0,
        below_b: 0,
        b_minus: 0,
        score: None,
    };
    for g in audits.iter().filter_map(|c| element_grade(c, element)) {
        e.graded += 1;
        match g {
            Grade::BMinus => e.b_minus += 1,
            Grade::C | Grade::CMinus | Grade::D => e.below_b += 1,
            Grade::A | Grade::BPlus | Grade::B => {}
        }
    }
    if e.graded > 0 {
        e.score = Some((e.below_b as f64 + e.b_minus as f64 / 2.0) / e.graded as f64);
    }
    e
}

/// A text answer, trimmed; `None` when empty or not given.
fn text(c: &Counted<'_>, q: &str) -> Option<String> {
    match c.answer(q)? {
        Answer::Text(t) if !t.trim().is_empty() => Some(t.trim().to_owned()),
        _ => None,
    }
}

/// The urgent findings of the audits, in audit order then checklist order. Notes are free
/// text and never leave the device in a report; fixed references do.
pub fn urgent(audits: &[Counted<'_>]) -> Vec<UrgentFinding> {
    let mut out = Vec::new();
    for c in audits {
        for q in c.survey.questions.iter().filter(|q| q.item.is_some()) {
            let Some(f) = c.response.findings.get(&q.id) else {
                continue;
            };
            if !f.urgent {
                continue;
            }
            out.push(UrgentFinding {
                transect: transect_id(c.response),
                street: text(c, "street"),
                from_ref: text(c, "from_ref"),
                to_ref: text(c, "to_ref"),
                item: q.id.clone(),
                item_label: q.text.get("en").to_owned(),
                answer: c.answer(&q.id).map(ToString::to_string).unwrap_or_default(),
                location: f.location.clone().filter(|l| !l.trim().is_empty()),
                agency: f
                    .agency
                    .clone()
                    .or_else(|| q.item.as_ref().and_then(|i| i.agency.clone())),
            });
        }
    }
    out
}

pub fn street(now: &AreaPeriod<'_>) -> Street {
    Street {
        transects: now.audits.len() as u64,
        ni195: NI195_ELEMENTS
            .iter()
            .map(|e| ni195(&now.audits, e))
            .collect(),
        urgent: urgent(&now.audits),
    }
}
