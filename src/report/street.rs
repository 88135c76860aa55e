//! The street as audited: NI 195 per element over the area's EVA transects, and the urgent
//! findings with their fixed references and agencies.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::model::{LocatedFinding, Ni195Element, Street, UrgentFinding};
use super::render::round6;
use super::{AreaPeriod, Counted, step};
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

/// NI 195 for one element from its counts: C, C− and D count in full, B− with half
/// weight, over the transects graded on it.
fn ni195(element: &str, n: Ni195Count) -> Ni195Element {
    Ni195Element {
        element: element.to_owned(),
        graded: n.graded,
        below_b: n.below_b,
        b_minus: n.b_minus,
        score: (n.graded > 0)
            .then(|| (n.below_b as f64 + n.b_minus as f64 / 2.0) / n.graded as f64),
    }
}

/// Transects graded on an NI 195 element, those below B and those at B−.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Ni195Count {
    pub graded: u64,
    pub below_b: u64,
    pub b_minus: u64,
}

/// The audits' street counts, added to one audit at a time.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Acc {
    /// One per [`NI195_ELEMENTS`], in order.
    ni195: [Ni195Count; 4],
    /// The urgent and located findings of each audit having any, by reading order: the
    /// pack lists every one, so they are kept (and only they, not the audits).
    findings: BTreeMap<u64, AuditFindings>,
    /// The reading order of the audits in `findings`, to take one back out.
    order: HashMap<Uuid, u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct AuditFindings {
    urgent: Vec<UrgentFinding>,
    /// With their notes; the public pack drops them when it lists them.
    located: Vec<LocatedFinding>,
}

impl Acc {
    /// Adds other audits' counts (another area code's, read in the same reading order,
    /// so their places never collide) to these.
    pub fn absorb(&mut self, other: &Acc) {
        for (n, o) in self.ni195.iter_mut().zip(&other.ni195) {
            n.graded += o.graded;
            n.below_b += o.below_b;
            n.b_minus += o.b_minus;
        }
        self.findings
            .extend(other.findings.iter().map(|(k, v)| (*k, v.clone())));
        self.order.extend(other.order.iter().map(|(k, v)| (*k, *v)));
    }

    /// Counts an audit in (`add`) or back out; `order` is its place in reading order.
    pub fn count(&mut self, c: &Counted<'_>, order: u64, add: bool) {
        for (element, n) in NI195_ELEMENTS.iter().zip(&mut self.ni195) {
            let Some(g) = element_grade(c, element) else {
                continue;
            };
            n.graded = step(n.graded, add);
            match g {
                Grade::BMinus => n.b_minus = step(n.b_minus, add),
                Grade::C | Grade::CMinus | Grade::D => n.below_b = step(n.below_b, add),
                Grade::A | Grade::BPlus | Grade::B => {}
            }
        }
        if !add {
            if let Some(o) = self.order.remove(&c.response.id) {
                self.findings.remove(&o);
            }
            return;
        }
        let one = std::slice::from_ref(c);
        let urgent = urgent(one);
        let located = located(one, false);
        if !urgent.is_empty() || !located.is_empty() {
            self.findings
                .insert(order, AuditFindings { urgent, located });
            self.order.insert(c.response.id, order);
        }
    }
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

pub fn street(now: &AreaPeriod, public: bool) -> Street {
    let findings = now.street.findings.values();
    Street {
        transects: now.audits,
        ni195: NI195_ELEMENTS
            .iter()
            .zip(now.street.ni195)
            .map(|(e, n)| ni195(e, n))
            .collect(),
        urgent: findings
            .clone()
            .flat_map(|f| f.urgent.iter().cloned())
            .collect(),
        located_findings: findings
            .flat_map(|f| f.located.iter().cloned())
            .map(|mut l| {
                if public {
                    l.note = None;
                }
                l
            })
            .collect(),
    }
}
