//! Fieldwork: doors knocked and answered (door log), interviews, refusals, the response
//! rate, interviewers and EVA transects walked.

use std::collections::BTreeSet;

use super::figure::{Rules, Tally};
use super::model::Fieldwork;
use super::{AreaPeriod, AreaSpec};
use crate::response::{DoorRecord, Outcome, Period};

/// Door log counts over the knocks made in the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DoorTally {
    pub knocked: u64,
    pub answered: u64,
    pub interviewed: u64,
    pub refused: u64,
}

/// Counts the doors of the area knocked in the period. A door counts as answered when a
/// knock in the period was refused, a call-back or an interview (as the door log counts
/// it); refused when its latest knock in the period is a refusal and none was an interview.
pub fn door_tally(doors: &[DoorRecord], spec: &AreaSpec, period: Period) -> DoorTally {
    let mut t = DoorTally::default();
    for d in doors.iter().filter(|d| spec.holds(&d.area)) {
        let knocks: Vec<_> = d.knocks.iter().filter(|k| period.contains(k.at)).collect();
        let Some(last) = knocks.last() else {
            continue;
        };
        t.knocked += 1;
        let interviewed = knocks
            .iter()
            .any(|k| matches!(k.outcome, Outcome::Interviewed { .. }));
        if knocks.iter().any(|k| {
            matches!(
                k.outcome,
                Outcome::Refused | Outcome::CallBack { .. } | Outcome::Interviewed { .. }
            )
        }) {
            t.answered += 1;
        }
        if interviewed {
            t.interviewed += 1;
        } else if matches!(last.outcome, Outcome::Refused) {
            t.refused += 1;
        }
    }
    t
}

pub fn fieldwork(
    now: &AreaPeriod<'_>,
    doors: &[DoorRecord],
    spec: &AreaSpec,
    period: Period,
    rules: &Rules,
) -> Fieldwork {
    let d = door_tally(doors, spec, period);
    let interviewers: BTreeSet<&str> = now
        .interviews
        .iter()
        .map(|i| i.counted.response.interviewer.trim())
        .filter(|s| !s.is_empty())
        .collect();
    Fieldwork {
        doors_knocked: rules.count(d.knocked),
        doors_answered: rules.count(d.answered),
        doors_interviewed: rules.count(d.interviewed),
        refused_at_door: rules.count(d.refused),
        interviews: rules.count(now.interviews.len() as u64),
        youth_interviews: rules.count(now.youth),
        declined_consent: rules.count(now.declined),
        stopped_part_way: rules.count(now.stopped),
        response_rate: rules.figure(Tally::new(d.interviewed, d.answered)),
        interviewers: interviewers.len() as u64,
        transects: now.audits.len() as u64,
    }
}
