//! Simulated fieldwork for training, demos and benchmarks: the batches a force's laptops
//! would send a coordinator over some quarters, made from a seed.
//!
//! Each simulated device (an officer's laptop) works a few areas and sends one batch per
//! period. Answers are drawn with weights that depend on the area and drift between periods
//! ([`answers`]), so priorities differ by area and change over time; KIN interviews come
//! with their door log (no-answers, refusals, call-backs), EVA transects with graded
//! findings and now and then an urgent one. Some responses are revised, a few are sent again
//! in the device's next batch (duplicates), and exactly one response id comes back with
//! different content in the second batch (the one conflict; none with a single batch). Every answer is one its survey
//! accepts. Each area's action register travels too, in the batches of the first device
//! that works the area: for each period, a few actions for each of the area's top issues,
//! tasked to partners (council, housing, youth service …), some done with what was done
//! and a public line ("You said, We did"), some under way, some still open (overdue once
//! their date has passed), now and then one not possible. The same plan and seed give the
//! same records, keys, ids and times.
//!
//! Pure domain code: the caller writes the batches ([`crate::batch::write`]).

mod answers;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use crate::action::{Action, ActionError, ActionStatus, Change, NewAction, Priority};
use crate::batch::{
    DeviceKey, DoorEntry, KnockEntry, Manifest, Origin, Record, Selection, SettingEntry,
};
use crate::response::{
    Door, FIELDWORK_ZONE, Knock, NewResponse, Outcome, Period, Response, ResponseError, SettingKey,
    Status, StoredAnswer,
};
use crate::survey::eva;
use crate::survey::model::QuestionKind;
use crate::survey::registry::Registry;
use crate::survey::walker::{Answers, Walker};
use crate::survey::{Answer, Finding, Survey, SurveyKind};
use answers::Setting;

/// Street names for simulated door logs and transects.
pub(crate) const STREETS: [&str; 12] = [
    "Kay Street",
    "Bell Lane",
    "Church Road",
    "Mesnes Terrace",
    "Poolstock Lane",
    "Frog Lane",
    "Wallgate",
    "Darlington Street",
    "Woodhouse Lane",
    "Park Road",
    "Scholes",
    "Gidlow Lane",
];

fn street(_area: &str, k: usize) -> String {
    STREETS[k % STREETS.len()].to_owned()
}

/// House numbers on each simulated street.
const DOORS_PER_STREET: usize = 150;

/// The name of the `s`th street of a simulated door round: the twelve names, then the
/// same names numbered on ("Kay Street 2"), as many as a large simulation walks.
fn round_street(s: usize) -> String {
    let base = STREETS[s % STREETS.len()];
    match s / STREETS.len() {
        0 => base.to_owned(),
        n => format!("{base} {}", n + 1),
    }
}

/// The next door this laptop knocks in `area`, and its place in the round: numbers up
/// its own streets from `first`, within its round of `round` doors (starting again at its
/// first door should a quarter ever outrun it).
fn next_door<'a>(
    walked: &mut BTreeMap<&'a str, usize>,
    area: &'a str,
    first: usize,
    round: usize,
) -> Result<(Door, usize), SimulateError> {
    let n = walked.entry(area).or_insert(0);
    let place = *n % round.max(1);
    let k = first + place;
    *n += 1;
    let door = Door::new(
        &round_street(k / DOORS_PER_STREET),
        &(1 + k % DOORS_PER_STREET).to_string(),
    )?;
    Ok((door, place))
}

/// What to simulate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Simulated laptops, each with its own signing key.
    pub devices: usize,
    /// The number of the first simulated laptop (1 for `SIM-001`): a second simulation for
    /// the same coordinator starts after the first's, so its laptops are other laptops
    /// (names, keys, ids) rather than the same names with other keys, which the
    /// coordinator's pinned device keys would refuse.
    pub first_device: usize,
    /// Responses in all (KIN and EVA, revisions not counted), spread over the batches.
    pub responses: usize,
    /// The last period simulated.
    pub period: Period,
    /// How many periods, ending with `period`.
    pub periods: usize,
    pub seed: u64,
    /// The area codes fieldwork is spread over.
    pub areas: Vec<String>,
}

/// Why a plan cannot be simulated.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("--devices must be at least 1")]
    NoDevices,
    #[error("--first-device must be at least 1")]
    BadFirstDevice,
    #[error("--periods must be from 1 to 40")]
    BadPeriods,
    #[error("there are no areas to simulate fieldwork in: import areas or use the built-in demo")]
    NoAreas,
    #[error("the {0} survey is not on this machine")]
    NoSurvey(&'static str),
    #[error("period {0} is too early to go back {1} periods from")]
    TooEarly(Period, usize),
    #[error("a simulated time is not a time in the UK: {0}")]
    BadTime(NaiveDate),
    #[error(transparent)]
    Response(#[from] ResponseError),
    #[error("a simulated action is not one doorstep accepts: {0}")]
    Action(#[from] ActionError),
}

/// One simulated batch, ready for [`crate::batch::write`].
#[derive(Debug)]
pub struct SimBatch {
    /// The simulated device (0-based) whose key signs it ([`Simulation::device_key`]).
    pub device: usize,
    pub period: Period,
    /// The file name to write it under (`SIM-001-01.batch`).
    pub file_name: String,
    pub manifest: Manifest,
    pub records: Vec<Record>,
}

/// The simulation: batches in order, device by device, period by period. Holds at most one
/// batch (plus the few records carried to the next), so a million responses stream.
pub struct Simulation<'r> {
    plan: Plan,
    kin: &'r Survey,
    eva: &'r Survey,
    periods: Vec<Period>,
    /// Next batch: device and period index.
    next: (usize, usize),
    /// Responses sent again in the device's next batch.
    carried: Vec<Response>,
    /// How many doors of its round, by area, the device being simulated has already sent
    /// in a batch: a laptop exports a door once, then only its new knocks.
    doors_sent: BTreeMap<String, usize>,
    /// The previous batch of the device being simulated.
    previous: Option<Uuid>,
    /// The response the conflict is made from (the first of the first batch).
    conflict_source: Option<Response>,
    /// Responses still to give out, and batches still to make.
    responses_left: usize,
    batches_left: usize,
}

impl<'r> Simulation<'r> {
    pub fn new(plan: Plan, registry: &'r Registry) -> Result<Simulation<'r>, SimulateError> {
        if plan.devices == 0 {
            return Err(SimulateError::NoDevices);
        }
        if plan.first_device == 0 {
            return Err(SimulateError::BadFirstDevice);
        }
        if !(1..=40).contains(&plan.periods) {
            return Err(SimulateError::BadPeriods);
        }
        if plan.areas.is_empty() {
            return Err(SimulateError::NoAreas);
        }
        let kin = registry
            .get("kin", None)
            .ok_or(SimulateError::NoSurvey("KIN"))?;
        let eva = registry
            .get("eva", None)
            .ok_or(SimulateError::NoSurvey("EVA"))?;
        let mut periods = vec![plan.period];
        for _ in 1..plan.periods {
            let last = periods[periods.len() - 1];
            let before = if last.quarter() == 1 {
                Period::new(last.year() - 1, 4)
            } else {
                Period::new(last.year(), last.quarter() - 1)
            }
            .map_err(|_| SimulateError::TooEarly(plan.period, plan.periods))?;
            periods.push(before);
        }
        periods.reverse();
        let batches = plan.devices * plan.periods;
        Ok(Simulation {
            responses_left: plan.responses,
            batches_left: batches,
            plan,
            kin,
            eva,
            periods,
            next: (0, 0),
            carried: Vec::new(),
            doors_sent: BTreeMap::new(),
            previous: None,
            conflict_source: None,
        })
    }

    /// How many batches the plan makes.
    pub fn batch_count(&self) -> usize {
        self.plan.devices * self.plan.periods
    }

    /// The number of simulated device `device` (0-based in this simulation): what names
    /// it and seeds its key and records, so device 12 is the same laptop whichever
    /// simulation it is the first of.
    fn number(&self, device: usize) -> usize {
        self.plan.first_device - 1 + device
    }

    /// The signing key of simulated device `device` (0-based): from the seed.
    pub fn device_key(&self, device: usize) -> DeviceKey {
        let mut rng = ChaCha8Rng::seed_from_u64(self.plan.seed);
        rng.set_stream(1 << 40 | self.number(device) as u64);
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut secret);
        DeviceKey::from_secret_bytes(secret)
    }

    /// The name of the simulated device numbered `number` (0-based, [`Self::number`]).
    fn device_name(number: usize) -> String {
        format!("SIM-{:03}", number + 1)
    }

    fn officer(number: usize) -> String {
        format!("PC {}", 4101 + number)
    }

    /// How many doors each laptop's round has: enough for the most interviews a batch
    /// holds (each knocks its door and a neighbour's), in whole streets.
    fn round(&self) -> usize {
        let batches = (self.plan.devices * self.plan.periods).max(1);
        let most = self.plan.responses.div_ceil(batches);
        (2 * most).div_ceil(DOORS_PER_STREET).max(1) * DOORS_PER_STREET
    }

    /// The areas device `device` works.
    fn areas_of(&self, device: usize) -> Vec<String> {
        let areas = &self.plan.areas;
        let n = self.plan.devices;
        if areas.len() >= n {
            areas
                .iter()
                .enumerate()
                .filter(|(a, _)| a % n == device)
                .map(|(_, code)| code.clone())
                .collect()
        } else {
            vec![areas[device % areas.len()].clone()]
        }
    }

    /// The next batch, or `None` when all are made.
    pub fn next_batch(&mut self) -> Result<Option<SimBatch>, SimulateError> {
        let (device, p) = self.next;
        if device >= self.plan.devices {
            return Ok(None);
        }
        let index = device * self.plan.periods + p;
        // The conflict goes into the second batch made: the first device's next period
        // (or, with one period, the next device's batch).
        let conflict_here = index == 1;
        let n = self.responses_left / self.batches_left;
        self.responses_left -= n;
        self.batches_left -= 1;
        let mut rng = ChaCha8Rng::seed_from_u64(self.plan.seed);
        rng.set_stream((self.number(device) * self.plan.periods + p) as u64 + 1);
        let batch = self.make(device, p, n, conflict_here, &mut rng)?;
        self.next = if p + 1 < self.plan.periods {
            (device, p + 1)
        } else {
            self.carried.clear();
            self.doors_sent.clear();
            self.previous = None;
            (device + 1, 0)
        };
        Ok(Some(batch))
    }

    fn make(
        &mut self,
        device: usize,
        p: usize,
        n: usize,
        conflict_here: bool,
        rng: &mut ChaCha8Rng,
    ) -> Result<SimBatch, SimulateError> {
        let period = self.periods[p];
        let name = Simulation::device_name(self.number(device));
        let officer = Simulation::officer(self.number(device));
        let areas = self.areas_of(device);
        let (start, days) = quarter(period);
        // Fieldwork 10:00 to 18:00 UK time, spread evenly over the quarter.
        let working = 8 * 3600;
        let span = (days - 1).max(1) * working;
        let mut responses: Vec<Response> = std::mem::take(&mut self.carried);
        let mut doors: BTreeMap<(String, String), DoorEntry> = BTreeMap::new();
        let mut knocks: Vec<KnockEntry> = Vec::new();
        let mut revisions = Vec::new();
        // Each laptop walks its own round of doors in each area, the same doors every
        // quarter (key individuals are visited again), so two laptops never log the same
        // door as if it were one, and a door gathers a knock or two a quarter as a real
        // one does (a round shared by every laptop gave a door hundreds of knocks in a
        // large simulation).
        let round = self.round();
        let first_door = self.number(device) * round;
        let mut walked: BTreeMap<&str, usize> = BTreeMap::new();
        for i in 0..n {
            let slot = i64::try_from(i as u128 * span as u128 / n.max(1) as u128)
                .unwrap_or(i64::MAX)
                + rng.random_range(0..60);
            let day = start + Duration::days(slot / working);
            let started = uk_time(day, 10 * 3600 + slot % working)?;
            let area = areas[rng.random_range(0..areas.len())].as_str();
            let place = Setting {
                seed: self.plan.seed,
                area,
                period: p,
            };
            let eva = rng.random_bool(0.05);
            let survey = if eva { self.eva } else { self.kin };
            let new = NewResponse {
                survey_id: survey.id.clone(),
                survey_version: survey.version,
                fingerprint: survey.fingerprint.clone(),
                area: area.to_owned(),
                period: Some(period),
                interviewer: officer.clone(),
                device: name.clone(),
                language: if rng.random_bool(0.06) { "pl" } else { "en" }.into(),
                started_at: started,
            };
            let mut response = Response::draft(v7(started, rng), new)?;
            let declined = walk(survey, &mut response, started, place, rng);
            if survey.kind == SurveyKind::Kin {
                let sent = self.doors_sent.get(area).copied().unwrap_or(0);
                let (door, nth) = next_door(&mut walked, area, first_door, round)?;
                response.door = Some(door.clone());
                let mut knock =
                    |at: DateTime<Utc>, outcome: Outcome, (door, nth): (&Door, usize), id: Uuid| {
                        // A door the laptop sent before goes again only as its new knocks.
                        if nth >= sent {
                            doors
                                .entry((area.to_ascii_lowercase(), door.key()))
                                .or_insert_with(|| DoorEntry {
                                    area: area.to_owned(),
                                    door: door.clone(),
                                });
                        }
                        knocks.push(KnockEntry {
                            area: area.to_owned(),
                            door: door.clone(),
                            knock: Knock {
                                at,
                                outcome,
                                id: Some(id),
                                device: Some(name.clone()),
                                officer: Some(officer.clone()),
                            },
                        });
                    };
                if rng.random_bool(0.3) {
                    knock(
                        started - Duration::days(2),
                        Outcome::NoAnswer,
                        (&door, nth),
                        v4(rng),
                    );
                }
                knock(
                    started,
                    Outcome::of_interview(declined, response.id),
                    (&door, nth),
                    v4(rng),
                );
                // A neighbour's door on the same round.
                let (next, next_nth) = next_door(&mut walked, area, first_door, round)?;
                let outcome = match rng.random_range(0..100u8) {
                    0..55 => Outcome::NoAnswer,
                    55..75 => Outcome::Refused,
                    75..85 => Outcome::CallBack {
                        at: started + Duration::days(2),
                    },
                    _ => Outcome::NotApplicable,
                };
                knock(
                    started - Duration::minutes(10),
                    outcome,
                    (&next, next_nth),
                    v4(rng),
                );
            }
            if rng.random_bool(0.01)
                && let Some(revision) = revise(survey, &response, rng)
            {
                revisions.push(revision);
            }
            responses.push(response);
        }
        for (area, n) in walked {
            let sent = self.doors_sent.entry(area.to_owned()).or_insert(0);
            *sent = (*sent).max(n.min(round));
        }
        if p == 0 && device == 0 {
            self.conflict_source = responses.first().cloned();
        }
        // A few of the last responses go again in the device's next batch (exported twice).
        let dups = (n / 200).clamp(1, 20).min(n.saturating_sub(1));
        if p + 1 < self.plan.periods {
            self.carried = responses[responses.len() - dups..].to_vec();
        }
        if conflict_here
            && let Some(source) = &self.conflict_source
            && let Some(conflict) = revise(
                if source.survey_id == self.eva.id {
                    self.eva
                } else {
                    self.kin
                },
                source,
                rng,
            )
        {
            // Same id, different content, no revision link: what a merge must call a conflict.
            let mut conflict = Response {
                id: source.id,
                replaces: None,
                started_at: source.started_at,
                ..conflict
            };
            conflict.finalized_at = source.finalized_at.map(|t| t + Duration::hours(1));
            responses.push(conflict);
        }
        responses.extend(revisions);
        responses.sort_by_key(|r| (r.started_at, r.id));

        let mut records: Vec<Record> = vec![
            Record::Setting(SettingEntry {
                key: SettingKey::Device,
                value: name.clone(),
            }),
            Record::Setting(SettingEntry {
                key: SettingKey::Officer,
                value: officer.clone(),
            }),
        ];
        let latest = responses
            .iter()
            .filter_map(|r| r.finalized_at)
            .max()
            .unwrap_or(start_utc(start)?);
        records.extend(responses.into_iter().map(Record::Response));
        records.extend(doors.into_values().map(Record::Door));
        records.extend(knocks.into_iter().map(Record::Knock));
        let actions = self.actions(device, p, &areas, &officer)?;
        records.extend(actions.into_iter().map(Record::Action));
        let created_at = latest + Duration::hours(1);
        let key = self.device_key(device);
        let origin = Origin {
            batch: v7(created_at, rng),
            sequence: p as u64 + 1,
            previous: self.previous,
            device: name.clone(),
            officer: Some(officer),
            created_at,
            selection: Selection::New,
        };
        let manifest = Manifest::describe(origin, &key.public(), &records);
        self.previous = Some(manifest.batch);
        Ok(SimBatch {
            device,
            period,
            file_name: format!("{name}-{:02}.batch", p + 1),
            manifest,
            records,
        })
    }
}

impl Simulation<'_> {
    /// The first device that works `area`: it keeps the area's action register.
    fn keeper(&self, area: &str) -> Option<usize> {
        (0..self.plan.devices).find(|d| self.areas_of(*d).iter().any(|a| a == area))
    }

    /// The actions agreed for period `p` in the areas whose register device `device`
    /// keeps: one or two for each of an area's three top issues, each as it stands at
    /// the end of the quarter. From their own random stream, so the fieldwork is the same
    /// with or without them.
    fn actions(
        &self,
        device: usize,
        p: usize,
        areas: &[String],
        officer: &str,
    ) -> Result<Vec<Action>, SimulateError> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.plan.seed);
        rng.set_stream(1 << 41 | (self.number(device) * self.plan.periods + p) as u64);
        let period = self.periods[p];
        let (start, _) = quarter(period);
        let mut out = Vec::new();
        for area in areas {
            if self.keeper(area) != Some(device) {
                continue;
            }
            let place = Setting {
                seed: self.plan.seed,
                area,
                period: p,
            };
            for issue in place.top_issues(self.kin, 3) {
                let label = self
                    .kin
                    .taxonomy
                    .get(&issue)
                    .map_or_else(|| issue.replace('_', " "), |i| i.label.get("en").to_owned());
                for _ in 0..rng.random_range(1..=2) {
                    out.push(action(
                        &mut rng,
                        Priority {
                            issue: issue.clone(),
                            area: area.clone(),
                            period,
                        },
                        &label,
                        start,
                        officer,
                    )?);
                }
            }
        }
        Ok(out)
    }
}

/// Who leads on an issue, who owns it, who supports, what will be done and what was.
struct Tasking {
    lead: &'static str,
    owner: &'static str,
    support: &'static [&'static str],
    what: &'static str,
    did: &'static str,
}

fn tasking(issue: &str) -> Tasking {
    let t = |lead, owner, support, what, did| Tasking {
        lead,
        owner,
        support,
        what,
        did,
    };
    match issue {
        "speeding" | "nuisance_motorbikes" | "inconsiderate_parking" | "vehicle_crime" => t(
            "Police",
            "Roads policing sergeant",
            &["Council"],
            "Speed and parking checks at the times residents named",
            "held weekly speed and parking checks, stopping and warning or fining drivers",
        ),
        "litter"
        | "fly_tipping"
        | "dog_fouling"
        | "overgrown_vegetation"
        | "abandoned_vehicles" => t(
            "Council",
            "Street scene manager",
            &["Police"],
            "Clean-up and enforcement patrols on the worst streets",
            "cleared the streets residents named and fined those caught",
        ),
        "potholes_pavements" | "street_lighting" | "derelict_property" => t(
            "Council",
            "Highways officer",
            &[],
            "Survey the streets and repair what residents reported",
            "repaired the defects the survey found",
        ),
        "vandalism_graffiti" | "deliberate_fires" => t(
            "Council",
            "Community safety officer",
            &["Fire and rescue", "Police"],
            "Remove graffiti and clear fire-risk rubbish quickly",
            "removed graffiti and cleared rubbish within two days of each report",
        ),
        "youths" | "nothing_for_young_people" => t(
            "Youth service",
            "Youth services lead",
            &["Police"],
            "Evening youth sessions near where young people gather",
            "ran evening youth sessions every week",
        ),
        "noisy_neighbours" => t(
            "Housing",
            "Tenancy enforcement officer",
            &["Council"],
            "Follow up each noise complaint with the tenants",
            "visited the addresses complained about and gave warnings",
        ),
        "scams_rogue_traders" => t(
            "Trading standards",
            "Trading standards officer",
            &["Police"],
            "Doorstep crime talks and a no-cold-calling zone",
            "held talks and set up a no-cold-calling zone",
        ),
        _ => t(
            "Police",
            "Neighbourhood sergeant",
            &["Council"],
            "Targeted patrols where and when residents said",
            "patrolled the places residents named at the times they named",
        ),
    }
}

/// One action for `priority`, agreed in the quarter starting `start`, as it stands at the
/// quarter's end: done half the time, under way a quarter, still open, or not possible.
fn action(
    rng: &mut ChaCha8Rng,
    priority: Priority,
    label: &str,
    start: NaiveDate,
    officer: &str,
) -> Result<Action, SimulateError> {
    let task = tasking(&priority.issue);
    let agreed = start + Duration::days(rng.random_range(10..20));
    let due = agreed + Duration::days(rng.random_range(30..70));
    let at = uk_time(agreed, 11 * 3600 + rng.random_range(0..3600))?;
    let new = NewAction {
        priority,
        problem: Some(format!(
            "Residents named {} among their worries",
            label.to_lowercase()
        )),
        action: task.what.to_owned(),
        lead: task.lead.to_owned(),
        owner: task.owner.to_owned(),
        support: task.support.iter().map(|s| (*s).to_owned()).collect(),
        agreed,
        due,
        source: None,
    };
    let mut a = Action::new(v7(at, rng), new, at, officer)?;
    let fate = rng.random_range(0..100u8);
    if (75..90).contains(&fate) {
        return Ok(a);
    }
    let started = at + Duration::days(rng.random_range(3..10));
    let mut change = Change::new(started, officer);
    change.status = Some(ActionStatus::InProgress);
    change.note = Some(format!("{} started", task.lead));
    if fate < 75 {
        change.public = Some(format!("You said: {label}. In hand: {}.", task.what));
    }
    a.update(change)?;
    let ended = started + Duration::days(rng.random_range(10..40));
    let mut change = Change::new(ended, officer);
    match fate {
        0..50 => {
            change.status = Some(ActionStatus::Done);
            change.outcome = Some(format!("We {}", task.did));
            change.public = Some(format!("You said: {label}. We {}.", task.did));
        }
        90.. => {
            change.status = Some(ActionStatus::NotPossible);
            change.note = Some("No budget this quarter; raised with the partnership".into());
            change.public = Some(format!(
                "You said: {label}. We could not act this quarter: no budget was left."
            ));
        }
        _ => {
            change.note = Some("Under way; next check at the PACT meeting".into());
        }
    }
    a.update(change)?;
    Ok(a)
}

/// Walks the survey answering every question shown with an answer it accepts, then
/// finalizes the response. Returns whether the respondent declined.
fn walk(
    survey: &Survey,
    response: &mut Response,
    started: DateTime<Utc>,
    place: Setting<'_>,
    rng: &mut ChaCha8Rng,
) -> bool {
    let walker = Walker::new(survey);
    let mut answers = Answers::new();
    let mut at = started;
    let mut index = walker.next(&answers, None);
    while let Some(i) = index {
        let q = &survey.questions[i];
        if !matches!(q.kind, QuestionKind::Note) {
            let answer = answers::candidates(survey, i, &answers, at, place, rng)
                .into_iter()
                .find(|a| walker.validate(i, a, &answers).is_ok())
                .unwrap_or(Answer::Skipped);
            at += Duration::seconds(rng.random_range(8..40));
            response.set_answer(&q.id, StoredAnswer::Plain(answer.clone()), at);
            answers.insert(q.id.clone(), answer);
            if q.item.is_some() {
                let mut finding = finding(q, &answers, rng);
                if let Some(f) = &mut finding {
                    f.urgent_by_rule = eva::urgent_by_rule(q, &answers);
                    f.urgent |= f.urgent_by_rule;
                }
                if let Some(f) = finding {
                    response.findings.insert(q.id.clone(), f);
                }
            }
        }
        index = walker.next(&answers, Some(i));
    }
    response.finalize(Status::Complete, at + Duration::seconds(30));
    walker.declined(&answers)
}

/// What an auditor notes on a checklist item found wanting: where, who should act, and
/// (for the worst) an urgent flag.
fn finding(
    q: &crate::survey::Question,
    answers: &Answers,
    rng: &mut ChaCha8Rng,
) -> Option<Finding> {
    let worst = match answers.get(&q.id)? {
        Answer::Count(n) if *n > 0 => *n >= 5,
        Answer::Grade(g) if answers::poor(*g) => *g == crate::survey::Grade::D,
        _ => return None,
    };
    Some(Finding {
        note: rng.random_bool(0.5).then(|| "seen on the walk".to_owned()),
        location: Some(format!("lamp column {}", rng.random_range(1..=30u8))),
        urgent: worst && rng.random_bool(0.3),
        urgent_by_rule: false,
        agency: q.item.as_ref().and_then(|i| i.agency.clone()),
    })
}

/// A finalized revision of `original`: one scale answer changed to another the survey
/// accepts, a day later. `None` when it has no scale answer to change.
fn revise(survey: &Survey, original: &Response, rng: &mut ChaCha8Rng) -> Option<Response> {
    let walker = Walker::new(survey);
    let answers: Answers = original
        .answers
        .iter()
        .filter_map(|(q, a)| match &a.value {
            StoredAnswer::Plain(answer) => Some((q.clone(), answer.clone())),
            StoredAnswer::Sealed(_) => None,
        })
        .collect();
    let at = original.finalized_at? + Duration::days(1);
    let mut revision = original.revision(v7(at, rng), at);
    for (i, q) in survey.questions.iter().enumerate() {
        let QuestionKind::Scale { choices, .. } = &q.kind else {
            continue;
        };
        let Some(Answer::Choice(current)) = answers.get(&q.id) else {
            continue;
        };
        let other = choices
            .iter()
            .map(|c| Answer::Choice(c.value.clone()))
            .find(|a| {
                *a != Answer::Choice(current.clone()) && walker.validate(i, a, &answers).is_ok()
            })?;
        revision.set_answer(&q.id, StoredAnswer::Plain(other), at + Duration::minutes(2));
        revision.finalize(Status::Complete, at + Duration::minutes(3));
        return Some(revision);
    }
    None
}

/// A time-ordered id at `at`, its random part from the simulation.
fn v7(at: DateTime<Utc>, rng: &mut ChaCha8Rng) -> Uuid {
    let mut bytes = [0u8; 10];
    rng.fill_bytes(&mut bytes);
    uuid::Builder::from_unix_timestamp_millis(
        u64::try_from(at.timestamp_millis()).unwrap_or(0),
        &bytes,
    )
    .into_uuid()
}

fn v4(rng: &mut ChaCha8Rng) -> Uuid {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// The first day of a quarter and how many days it has.
fn quarter(period: Period) -> (NaiveDate, i64) {
    let month = u32::from(period.quarter()) * 3 - 2;
    let first = NaiveDate::from_ymd_opt(period.year(), month, 1).unwrap_or_default();
    let next = if period.quarter() == 4 {
        NaiveDate::from_ymd_opt(period.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(period.year(), month + 3, 1)
    }
    .unwrap_or_default();
    (first, (next - first).num_days())
}

/// `seconds` after midnight UK time on `day`, in UTC.
fn uk_time(day: NaiveDate, seconds: i64) -> Result<DateTime<Utc>, SimulateError> {
    let local = day
        .and_hms_opt(0, 0, 0)
        .ok_or(SimulateError::BadTime(day))?
        + Duration::seconds(seconds);
    FIELDWORK_ZONE
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or(SimulateError::BadTime(day))
}

fn start_utc(day: NaiveDate) -> Result<DateTime<Utc>, SimulateError> {
    uk_time(day, 0)
}
