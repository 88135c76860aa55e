//! The street as audited: NI 195 per element over the area's EVA transects, and the urgent
//! findings with their fixed references and agencies.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

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
    /// The texts findings repeat (item ids and labels, agencies, answers), each held
    /// once: findings are what grows with the audits.
    #[serde(skip)]
    texts: HashSet<Arc<str>>,
}

/// One audit's findings that are urgent or have a position, in checklist order, with
/// what the audit says of its transect held once for them all. The urgent list and the
/// located list are both made from these ([`street`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AuditFindings {
    transect: Option<String>,
    street: Option<String>,
    from_ref: Option<String>,
    to_ref: Option<String>,
    items: Vec<ItemFinding>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ItemFinding {
    item: Arc<str>,
    label: Arc<str>,
    /// The answer on the item as text (`None`: not answered), and whether it is a grade.
    answer: Option<Arc<str>>,
    graded: bool,
    /// The finding's, else the item's usual agency.
    agency: Option<Arc<str>>,
    urgent: bool,
    /// The finding's own fixed reference, when given.
    reference: Option<String>,
    /// Its position (longitude, latitude, rounded) and whether it is the finding's own
    /// (else the transect's start); `None`: not located.
    position: Option<(f64, f64, bool)>,
    /// The auditor's note (the public pack drops it).
    note: Option<String>,
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
        let items = findings(c, &mut self.texts);
        if !items.is_empty() {
            self.findings.insert(
                order,
                AuditFindings {
                    transect: transect_id(c.response),
                    street: text(c, "street"),
                    from_ref: text(c, "from_ref"),
                    to_ref: text(c, "to_ref"),
                    items,
                },
            );
            self.order.insert(c.response.id, order);
        }
    }
}

/// `t` as held once in `texts`.
fn shared(texts: &mut HashSet<Arc<str>>, t: &str) -> Arc<str> {
    if let Some(held) = texts.get(t) {
        return held.clone();
    }
    let held: Arc<str> = Arc::from(t);
    texts.insert(held.clone());
    held
}

/// A text answer, trimmed; `None` when empty or not given.
fn text(c: &Counted<'_>, q: &str) -> Option<String> {
    match c.answer(q)? {
        Answer::Text(t) if !t.trim().is_empty() => Some(t.trim().to_owned()),
        _ => None,
    }
}

/// The audit's findings that are urgent or have a position, in checklist order. Urgent
/// findings are listed by their fixed references; notes are free text and never leave
/// the device in a report. A finding's fixed reference locates it when it reads as a
/// grid reference; otherwise it is placed at the transect's start point; with neither it
/// is not located (and listed only if urgent).
fn findings(c: &Counted<'_>, texts: &mut HashSet<Arc<str>>) -> Vec<ItemFinding> {
    let start = transect_point(c);
    let mut out = Vec::new();
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
        let position = match (own, start) {
            (Some((lon, lat)), _) => Some((round6(lon), round6(lat), true)),
            (None, Some((lon, lat))) => Some((round6(lon), round6(lat), false)),
            (None, None) => None,
        };
        if !f.urgent && position.is_none() {
            continue;
        }
        let answer = c.answer(&q.id);
        let agency = f
            .agency
            .as_deref()
            .or_else(|| q.item.as_ref().and_then(|i| i.agency.as_deref()));
        out.push(ItemFinding {
            item: shared(texts, &q.id),
            label: shared(texts, q.text.get("en")),
            answer: answer.map(|a| shared(texts, &a.to_string())),
            graded: matches!(answer, Some(Answer::Grade(_))),
            agency: agency.map(|a| shared(texts, a)),
            urgent: f.urgent,
            reference,
            position,
            note: f.note.clone().filter(|n| !n.trim().is_empty()),
        });
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

/// The urgent findings of the audits, in audit order then checklist order.
fn urgent<'a>(audits: impl Iterator<Item = &'a AuditFindings>) -> Vec<UrgentFinding> {
    audits
        .flat_map(|a| a.items.iter().filter(|f| f.urgent).map(move |f| (a, f)))
        .map(|(a, f)| UrgentFinding {
            transect: a.transect.clone(),
            street: a.street.clone(),
            from_ref: a.from_ref.clone(),
            to_ref: a.to_ref.clone(),
            item: f.item.to_string(),
            item_label: f.label.to_string(),
            answer: f.answer.as_deref().unwrap_or_default().to_owned(),
            location: f.reference.clone(),
            agency: f.agency.as_deref().map(str::to_owned),
        })
        .collect()
}

/// The findings of the audits that have a position, urgent or not, in audit order then
/// checklist order; `public` drops the notes.
fn located<'a>(
    audits: impl Iterator<Item = &'a AuditFindings>,
    public: bool,
) -> Vec<LocatedFinding> {
    audits
        .flat_map(|a| a.items.iter().map(move |f| (a, f)))
        .filter_map(|(a, f)| {
            let (lon, lat, own) = f.position?;
            Some(LocatedFinding {
                transect: a.transect.clone(),
                item: f.item.to_string(),
                item_label: f.label.to_string(),
                grade: f.answer.as_deref().filter(|_| f.graded).map(str::to_owned),
                agency: f.agency.as_deref().map(str::to_owned),
                urgent: f.urgent,
                reference: f.reference.clone(),
                lon,
                lat,
                position_from: if own { "finding" } else { "transect_start" }.to_owned(),
                note: if public { None } else { f.note.clone() },
            })
        })
        .collect()
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
        urgent: urgent(findings.clone()),
        located_findings: located(findings, public),
    }
}
