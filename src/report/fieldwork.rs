//! Fieldwork: doors knocked and answered (door log), interviews, refusals, the response
//! rate, interviewers and EVA transects walked.

use serde::{Deserialize, Serialize};

use super::AreaPeriod;
use super::figure::{Rules, Tally};
use super::model::Fieldwork;
use crate::response::{DoorRecord, Outcome, Period};

/// Door log counts over the knocks made in the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DoorTally {
    pub knocked: u64,
    pub answered: u64,
    pub interviewed: u64,
    pub refused: u64,
}

impl DoorTally {
    /// One door's counts over its knocks in the period (all zero when none is in it). A
    /// door counts as answered when a knock in the period was refused, a call-back or an
    /// interview (as the door log counts it); refused when its latest knock in the period
    /// is a refusal and none was an interview.
    pub fn of(d: &DoorRecord, period: Period) -> DoorTally {
        let mut t = DoorTally::default();
        let mut last = None;
        let (mut answered, mut interviewed) = (false, false);
        for k in d.knocks.iter().filter(|k| period.contains(k.at)) {
            last = Some(k);
            interviewed |= matches!(k.outcome, Outcome::Interviewed { .. });
            answered |= matches!(
                k.outcome,
                Outcome::Refused | Outcome::CallBack { .. } | Outcome::Interviewed { .. }
            );
        }
        let Some(last) = last else {
            return t;
        };
        t.knocked = 1;
        t.answered = u64::from(answered);
        if interviewed {
            t.interviewed = 1;
        } else if matches!(last.outcome, Outcome::Refused) {
            t.refused = 1;
        }
        t
    }

    /// Adds another door's counts.
    pub fn add(&mut self, other: DoorTally) {
        self.knocked += other.knocked;
        self.answered += other.answered;
        self.interviewed += other.interviewed;
        self.refused += other.refused;
    }
}

pub fn fieldwork(now: &AreaPeriod, d: DoorTally, rules: &Rules) -> Fieldwork {
    Fieldwork {
        doors_knocked: rules.count(d.knocked),
        doors_answered: rules.count(d.answered),
        doors_interviewed: rules.count(d.interviewed),
        refused_at_door: rules.count(d.refused),
        interviews: rules.count(now.interviews()),
        youth_interviews: rules.count(now.youth),
        declined_consent: rules.count(now.declined),
        stopped_part_way: rules.count(now.stopped),
        response_rate: rules.figure(Tally::new(d.interviewed, d.answered)),
        interviewers: now.interviewers.len() as u64,
        transects: now.audits,
    }
}
