//! The street as audited: NI 195 per element over the area's EVA transects, and the urgent
//! findings with their fixed references and agencies.

use super::model::{LocatedFinding, Ni195Element, Street, UrgentFinding};
use super::render::round6;
use super::{AreaPeriod, Counted};
use crate::response::location_point;
use crate::response::transect::transect_id;
use crate::survey::{Answer, Finding, Grade, Location, QuestionKind};

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

/// The transect's own position: the answer to the audit's first location question that is
/// not a checklist item (EVA version 2's `start_point`), as WGS84 (longitude, latitude).
fn transect_point(c: &Counted<'_>) -> Option<(f64, f64)> {
    let q = c
        .survey
        .questions
        .iter()
        .find(|q| q.item.is_none() && matches!(q.kind, QuestionKind::Location { .. }))?;
    match c.answer(&q.id)? {
        Answer::Location(l) => location_point(l),
        _ => None,
    }
}

/// The findings of the audits that have a position, urgent or not, in audit order then
/// checklist order. A finding's fixed reference locates it when it reads as a grid
/// reference; otherwise it is placed at the transect's start point; with neither it is
/// left out. Notes are free text: `public` drops them.
pub fn located(audits: &[Counted<'_>], public: bool) -> Vec<LocatedFinding> {
    let mut out = Vec::new();
    for c in audits {
        let start = transect_point(c);
        for q in c.survey.questions.iter().filter(|q| q.item.is_some()) {
            let Some(f) = c.response.findings.get(&q.id) else {
                continue;
            };
            // A record the urgency rule left behind after clearing itself says nothing.
            if *f == Finding::default() {
                continue;
            }
            let reference = f.location.clone().filter(|l| !l.trim().is_empty());
            let own = reference.as_ref().and_then(|r| {
                location_point(&Location::GridRef {
                    text: r.trim().to_owned(),
                })
            });
            let (position_from, (lon, lat)) = match (own, start) {
                (Some(p), _) => ("finding", p),
                (None, Some(p)) => ("transect_start", p),
                (None, None) => continue,
            };
            out.push(LocatedFinding {
                transect: transect_id(c.response),
                item: q.id.clone(),
                item_label: q.text.get("en").to_owned(),
                grade: match c.answer(&q.id) {
                    Some(Answer::Grade(g)) => Some(g.to_string()),
                    _ => None,
                },
                agency: f
                    .agency
                    .clone()
                    .or_else(|| q.item.as_ref().and_then(|i| i.agency.clone())),
                urgent: f.urgent,
                reference,
                lon: round6(lon),
                lat: round6(lat),
                position_from: position_from.to_owned(),
                note: if public {
                    None
                } else {
                    f.note.clone().filter(|n| !n.trim().is_empty())
                },
            });
        }
    }
    out
}

pub fn street(now: &AreaPeriod<'_>, public: bool) -> Street {
    Street {
        transects: now.audits.len() as u64,
        ni195: NI195_ELEMENTS
            .iter()
            .map(|e| ni195(&now.audits, e))
            .collect(),
        urgent: urgent(&now.audits),
        located_findings: located(&now.audits, public),
    }
}
