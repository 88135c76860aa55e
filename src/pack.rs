//! The priority-setting pack assembled from the store and rendered in every format: the one
//! code path shared by `doorstep report` and the field app's report screen, so both give the
//! same figures and the same files.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::Error;
use crate::geography::crime::CrimeRecord;
use crate::geography::{AreaRef, AreaSelection, Geography, Level};
use crate::output::{Cell, Column, Document, Fields, Format, Kind, Table};
use crate::report::fieldwork::DoorTally;
use crate::report::fold::{Counts, Fold, Folded, Wants, door_tallies, folded};
use crate::report::profile::Profile;
use crate::report::{
    AreaLevel, AreaReport, AreaSpec, Count, Figure, Input, Report, Rules, normal_code, tidy,
};
use crate::response::{DoorRecord, Period, Response, ResponseFilter, Status};
use crate::store::{InPeriodUnread, Store, StoreError};
use crate::survey::registry::Registry;
use crate::survey::{SurveyKind, Taxonomy};

/// The formats a pack is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackFormat {
    Md,
    Json,
    Csv,
    Html,
    Geojson,
    Xlsx,
}

impl PackFormat {
    pub const ALL: [PackFormat; 6] = [
        PackFormat::Md,
        PackFormat::Html,
        PackFormat::Json,
        PackFormat::Csv,
        PackFormat::Geojson,
        PackFormat::Xlsx,
    ];

    /// The file extension, which is also the format's name.
    pub fn extension(self) -> &'static str {
        match self {
            PackFormat::Md => "md",
            PackFormat::Json => "json",
            PackFormat::Csv => "csv",
            PackFormat::Html => "html",
            PackFormat::Geojson => "geojson",
            PackFormat::Xlsx => "xlsx",
        }
    }
}

/// Everything the pack is built from, read from the store once.
pub struct Sources {
    pub geography: Geography,
    /// Every response ([`Sources::read`]); none when they were folded as read.
    pub responses: Vec<Response>,
    /// The door log ([`Sources::read`]); empty when it was folded as read.
    pub doors: Vec<DoorRecord>,
    pub crime: Vec<CrimeRecord>,
    /// Labels and mappings from the newest KIN survey's taxonomy edition (issue ids are the
    /// same across editions, so answers on every edition combine).
    pub taxonomy: Taxonomy,
    pub known_areas: BTreeSet<String>,
    pub unresolved_conflicts: u64,
    /// The responses and doors folded as read ([`Sources::read_period`]).
    pub folded: Option<Folded>,
}

/// Labels and mappings from the newest KIN survey's taxonomy edition.
fn kin_taxonomy(registry: &Registry) -> Taxonomy {
    registry
        .get("kin", None)
        .or_else(|| {
            registry
                .entries()
                .iter()
                .map(|e| &e.survey)
                .filter(|s| s.kind == SurveyKind::Kin)
                .max_by_key(|s| s.version)
        })
        .map(|s| s.taxonomy.clone())
        .unwrap_or_default()
}

/// Responses handed from one stage of [`Sources::read_period`] to the next so many at a
/// time: a message each would cost more than some responses take to decode.
const CHUNK: usize = 256;

/// Chunks in flight between two stages: what bounds the memory the stages hold.
const IN_FLIGHT: usize = 8;

/// What a stage's thread returned; a panic there goes on here.
fn joined<T>(thread: std::thread::ScopedJoinHandle<'_, T>) -> T {
    match thread.join() {
        Ok(t) => t,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// A response decoded for the fold, or a record that could not be read.
struct Decoded {
    /// Its id, status and what it revises, for [`Fold::note`]; `None` for a record that
    /// could not be read (`response` says why).
    head: Option<(Uuid, Status, Option<Uuid>)>,
    /// The answers the fold reads; an answer that does not decode stops the report,
    /// unless a revision read earlier means the response is not counted.
    response: Result<Response, StoreError>,
}

fn decode(item: InPeriodUnread, wants: &Wants) -> Decoded {
    match item {
        InPeriodUnread::Record(raw) => match raw.read() {
            Ok(s) => {
                let head = Some((s.id, s.status, s.replaces));
                let period = s.period;
                // The fold reads answers' values only: their times are not decoded.
                let response = s.values(
                    |q| wants.needs_answer(period, q),
                    wants.needs_findings(period),
                );
                Decoded { head, response }
            }
            Err(e) => Decoded {
                head: None,
                response: Err(e),
            },
        },
        InPeriodUnread::Kept(mut r) => {
            r.answers.retain(|q, _| wants.needs_answer(r.period, q));
            Decoded {
                head: Some((r.id, r.status, r.replaces)),
                response: Ok(*r),
            }
        }
    }
}

/// Folds the responses decoded, in reading order; returns the fold and the records that
/// could not be read.
fn fold_decoded<'a>(
    store: &Store,
    mut fold: Fold<'a>,
    decoded: std::sync::mpsc::Receiver<Vec<Decoded>>,
) -> Result<(Fold<'a>, Vec<StoreError>), StoreError> {
    let mut unreadable = Vec::new();
    for Decoded { head, response } in decoded.into_iter().flatten() {
        let Some((id, status, replaces)) = head else {
            if let Err(e) = response {
                unreadable.push(e);
            }
            continue;
        };
        let note = fold.note(id, status, replaces);
        if let Some(old) = note.take_out {
            // Read as it was counted: the answers the fold reads, values only.
            let read = store.with_stored(old, |s| {
                let period = s.period;
                s.values(
                    |q| fold.needs_answer(period, q),
                    fold.needs_findings(period),
                )
            });
            match read {
                Ok(r) => fold.take_out(&r),
                // A revision of something this store never held.
                Err(StoreError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        if note.skip {
            continue;
        }
        fold.add(response?);
    }
    Ok((fold, unreadable))
}

/// The installed surveys, named for kept counts' stamp: a digest of every survey's id,
/// version and fingerprint (the counts depend on the questions and taxonomy).
fn surveys_digest(registry: &Registry) -> String {
    let mut lines: Vec<String> = registry
        .entries()
        .iter()
        .map(|e| {
            format!(
                "{}\x1f{}\x1f{}\n",
                e.survey.id, e.survey.version, e.survey.fingerprint
            )
        })
        .collect();
    lines.sort();
    let digest = Sha256::digest(lines.concat().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Counts every period of the store in full, a period at a time, and keeps the counts
/// beside it ([`Store::counts_keeper`]), so that a report on any period reads them instead of
/// every response until the store next changes; `false` (and nothing read) when the counts kept
/// are the store's as it is. Run after a merge, when a coordinator's store has just
/// changed and the reports are what comes next.
pub fn keep_counts(store: &Store, registry: &Registry) -> Result<bool, Error> {
    let surveys = surveys_digest(registry);
    if store.counts_current(&surveys)? {
        return Ok(false);
    }
    let stamp = store.counts_stamp(&surveys)?;
    let taxonomy = kin_taxonomy(registry);
    let periods = match store.periods_indexed_for_reading()? {
        Some(periods) if !periods.is_empty() => periods,
        // Every record would be read whole for each period (a store not indexed), or
        // there are no responses: one pass over every period.
        _ => {
            let fold = Fold::every_period(registry, &taxonomy);
            let (fold, _) = read_into(store, fold, |each| store.each_response_unread(each))?;
            store.keep_counts(&stamp, fold.into_counts())?;
            return Ok(true);
        }
    };
    // A period at a time, each kept as it is counted: a period's full counts (the EVA
    // findings the pack lists grow with the audits) are held one period at a time, not
    // all at once. Each pass is the report's own ([`period_counts`]), so what is kept
    // for a period is what a report on it would count afresh. The index names the
    // periods of responses; a pass finds the others (doors knocked, records the index
    // has not placed).
    let mut todo: BTreeSet<Period> = periods.into_iter().collect();
    let mut done = BTreeSet::new();
    let mut keeper = store.counts_keeper(stamp)?;
    while let Some(period) = todo.pop_last() {
        let fold = Fold::new(registry, &taxonomy, period);
        let (fold, knocked) = read_into(store, fold, |each| {
            store.each_in_period_unread(period, true, each)
        })?;
        done.insert(period);
        let mut counts = fold.into_counts();
        todo.extend(
            counts
                .keys()
                .chain(&knocked)
                .filter(|p| !done.contains(*p))
                .copied(),
        );
        if let Some(c) = counts.remove(&period) {
            keeper.period(period, c)?;
        }
    }
    keeper.finish()?;
    Ok(true)
}

/// The counts a report on `period` is built from, per area code: those the store keeps
/// ([`keep_counts`]) when they are the store's as it is now; otherwise every response
/// and door read once and folded (only the period's own records in full when the
/// store's index of periods can be, [`Store::each_in_period`]), none kept. Bounded by
/// the areas and questions, not the store. `stop` is asked as responses are read: once
/// it says so the reading ends and there are no counts (a screen that no longer shows
/// the period).
pub fn period_counts(
    store: &Store,
    registry: &Registry,
    period: Period,
    stop: &dyn Fn() -> bool,
) -> Result<Option<Counts>, Error> {
    if let Some(counts) = store.kept_counts(&surveys_digest(registry), period)? {
        return Ok(Some(counts));
    }
    let taxonomy = kin_taxonomy(registry);
    let fold = Fold::new(registry, &taxonomy, period);
    let stopped = std::cell::Cell::new(false);
    let fold = read_into(store, fold, |each| {
        store.each_in_period_unread(period, true, &mut |item| {
            if stop() {
                stopped.set(true);
                return Err(StoreError::Encode("the count was stopped".into()));
            }
            each(item)
        })
    });
    match fold {
        _ if stopped.get() => Ok(None),
        Ok((fold, _)) => Ok(Some(fold.into_counts())),
        Err(e) => Err(e),
    }
}

/// Reads responses (what `read` hands over, in reading order) and the door log into
/// `fold`; returns it with the periods any door was knocked in. An unreadable response
/// stops it rather than miscount.
fn read_into<'a>(
    store: &Store,
    fold: Fold<'a>,
    read: impl FnOnce(
        &mut dyn FnMut(InPeriodUnread) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>,
) -> Result<(Fold<'a>, BTreeSet<Period>), Error> {
    let wants = fold.wants();
    // Three stages on threads of their own, in reading order throughout: this one
    // reads the store, one parses and decodes what the fold reads of each response
    // (most of the work), one folds; the door log is counted on a fourth. Every period
    // is read (the issues named in each are counted for "what changed" and
    // "persisting"); a period not counted in full, as the index keeps it.
    let (fold, unreadable, doors) = std::thread::scope(|scope| {
        let (raw_tx, raw_rx) = std::sync::mpsc::sync_channel::<Vec<InPeriodUnread>>(IN_FLIGHT);
        let (decoded_tx, decoded_rx) = std::sync::mpsc::sync_channel::<Vec<Decoded>>(IN_FLIGHT);
        let decoder_wants = wants.clone();
        scope.spawn(move || {
            for chunk in raw_rx {
                let out = chunk
                    .into_iter()
                    .map(|item| decode(item, &decoder_wants))
                    .collect();
                if decoded_tx.send(out).is_err() {
                    break;
                }
            }
        });
        let folder = scope.spawn(move || fold_decoded(store, fold, decoded_rx));
        // The door log on a thread of its own: read beside the responses, it fills
        // what the other stages leave of the machine.
        let full = wants.full();
        let doors = scope.spawn(move || {
            let mut doors: BTreeMap<(Period, String), DoorTally> = BTreeMap::new();
            let mut knocked = BTreeSet::new();
            store.each_door(|d| {
                knocked.extend(d.knocks.iter().map(|k| Period::of_fieldwork(k.at)));
                for (p, code, t) in door_tallies(&d, full) {
                    doors.entry((p, code)).or_default().add(t);
                }
                Ok(())
            })?;
            Ok::<_, StoreError>((doors, knocked))
        });
        let mut chunk = Vec::with_capacity(CHUNK);
        let send = |chunk: Vec<InPeriodUnread>| {
            // Refused only once the fold has stopped, on an error of its own, which
            // is the one returned: this one only ends the reading.
            raw_tx
                .send(chunk)
                .map_err(|_| StoreError::Encode("the report stopped".into()))
        };
        let read = read(&mut |item| {
            chunk.push(item);
            if chunk.len() == CHUNK {
                send(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)))?;
            }
            Ok(())
        });
        let read = read.and_then(|()| send(std::mem::take(&mut chunk)));
        drop(raw_tx);
        let (fold, unreadable) = joined(folder)?;
        read?;
        let doors = joined(doors)?;
        Ok::<_, StoreError>((fold, unreadable, doors))
    })?;
    let (doors, knocked) = doors;
    if let Some(e) = unreadable.into_iter().next() {
        return Err(e.into());
    }
    let mut fold = fold;
    for ((p, code), t) in doors {
        fold.door_tally(p, code, t);
    }
    Ok((fold, knocked))
}

impl Sources {
    /// Reads the whole store into memory: every response and door, each kept. The
    /// reference the folded reads ([`Sources::read_period`]) are tested against; an
    /// unreadable response stops the pack rather than miscount it.
    pub fn read(store: &Store, registry: &Registry) -> Result<Sources, Error> {
        let geography = store.stored_geography()?.or_builtin()?;
        let listing = store.list(&ResponseFilter::default())?;
        if let Some(e) = listing.unreadable.into_iter().next() {
            return Err(e.into());
        }
        Sources::with(store, registry, geography, listing.responses, None)
    }

    /// Reads the store for a report on `period` over `areas` (from `geography`, the
    /// store's): [`period_counts`], folded for `areas`. Builds the same report as
    /// [`Sources::read`] in memory bounded by the areas and questions rather than the store.
    pub fn read_period(
        store: &Store,
        registry: &Registry,
        geography: Geography,
        period: Period,
        areas: &[AreaSpec],
    ) -> Result<Sources, Error> {
        let counts = period_counts(store, registry, period, &|| false)?;
        // Never stopped, so always counted.
        let counts = counts.unwrap_or_default();
        Sources::from_counts(store, registry, geography, &counts, period, areas)
    }

    /// The sources of a report on `period` over `areas` from `counts` (see
    /// [`period_counts`]); the rest (crime, conflicts, taxonomy) read from the store.
    pub fn from_counts(
        store: &Store,
        registry: &Registry,
        geography: Geography,
        counts: &Counts,
        period: Period,
        areas: &[AreaSpec],
    ) -> Result<Sources, Error> {
        let folded = folded(counts, period, areas);
        Sources::with(store, registry, geography, Vec::new(), Some(folded))
    }

    /// Counts `areas` again from `counts` (sources made by [`Sources::from_counts`]): a
    /// screen that holds a period's counts moves from area to area without reading.
    pub fn refold(&mut self, counts: &Counts, period: Period, areas: &[AreaSpec]) {
        self.folded = Some(folded(counts, period, areas));
    }

    fn with(
        store: &Store,
        registry: &Registry,
        geography: Geography,
        responses: Vec<Response>,
        folded: Option<Folded>,
    ) -> Result<Sources, Error> {
        // Folded, the doors were read already.
        let doors = match folded {
            Some(_) => Vec::new(),
            None => store.all_doors()?,
        };
        let known_areas = [Level::Ward, Level::Paa]
            .into_iter()
            .filter_map(|l| geography.layer(l))
            .flat_map(|l| l.areas.iter().map(|a| normal_code(&a.code)))
            .chain(
                geography
                    .plan
                    .iter()
                    .flat_map(|p| p.paas.iter().map(|paa| normal_code(&paa.code))),
            )
            .collect();
        Ok(Sources {
            responses,
            doors,
            crime: store.crime_records()?,
            unresolved_conflicts: store.unresolved_conflict_count()? as u64,
            geography,
            taxonomy: kin_taxonomy(registry),
            known_areas,
            folded,
        })
    }

    /// Of `specs`, the areas with any finished fieldwork or knock in `period`.
    pub fn worked(&self, period: Period, specs: Vec<AreaSpec>) -> Vec<AreaSpec> {
        let worked: BTreeSet<String> = self
            .responses
            .iter()
            .filter(|r| r.period == period && r.status.is_final())
            .map(|r| normal_code(&r.area))
            .chain(
                self.doors
                    .iter()
                    .filter(|d| d.knocks.iter().any(|k| period.contains(k.at)))
                    .map(|d| normal_code(&d.area)),
            )
            .chain(self.folded.iter().flat_map(|f| f.worked.iter().cloned()))
            .collect();
        specs
            .into_iter()
            .filter(|s| s.members.iter().any(|m| worked.contains(m)))
            .collect()
    }

    /// The report's input for these areas and period.
    #[allow(clippy::too_many_arguments)]
    pub fn input<'a>(
        &'a self,
        registry: &'a Registry,
        period: Period,
        compare: Option<Period>,
        level: AreaLevel,
        areas: Vec<AreaSpec>,
        internal: bool,
        profile: Option<&'a Profile>,
    ) -> Input<'a> {
        Input {
            known_areas: self.known_areas.clone(),
            period,
            compare,
            level,
            areas,
            responses: &self.responses,
            surveys: registry,
            taxonomy: &self.taxonomy,
            doors: &self.doors,
            crime: &self.crime,
            unresolved_conflicts: self.unresolved_conflicts,
            folded: self.folded.as_ref(),
            rules: if internal {
                Rules::internal()
            } else {
                Rules::public()
            },
            profile,
        }
    }
}

/// The pack in `format`, as the bytes of the file.
pub fn render(
    report: &Report,
    format: PackFormat,
    geography: &Geography,
) -> Result<Vec<u8>, Error> {
    Ok(match format {
        PackFormat::Md => {
            let mut bytes: Vec<u8> = Vec::new();
            Format::Markdown
                .renderer()
                .render(&document(report), &mut bytes)
                .map_err(|e| {
                    Error::Failure(format!("could not write the report as Markdown: {e}"))
                })?;
            bytes
        }
        PackFormat::Json => {
            let mut json = serde_json::to_string_pretty(report)
                .map_err(|e| Error::Failure(format!("could not write the report as JSON: {e}")))?;
            json.push('\n');
            json.into_bytes()
        }
        PackFormat::Csv => csv_bytes(report)?,
        PackFormat::Html => {
            let shapes = crate::report::render::map_areas(geography, report);
            crate::report::render::html::render(report, &document(report), &shapes).into_bytes()
        }
        PackFormat::Xlsx => crate::report::render::xlsx::render(report, &document(report))
            .map_err(|e| Error::Failure(format!("could not write the report as XLSX: {e}")))?,
        PackFormat::Geojson => {
            let shapes = crate::report::render::map_areas(geography, report);
            crate::report::render::geojson::render(report, &shapes)
                .map_err(|e| Error::Failure(format!("could not write the report as GeoJSON: {e}")))?
                .into_bytes()
        }
    })
}

/// The areas at the level asked (or the one area asked for), in report order.
pub fn areas(
    geography: &Geography,
    area: Option<&str>,
    level: Option<AreaLevel>,
) -> Result<(AreaLevel, Vec<AreaSpec>), Error> {
    let plan = geography.plan.as_ref();
    let paas_of = |ward: &str| -> Vec<String> {
        plan.map(|p| {
            p.paas
                .iter()
                .filter(|paa| paa.ward == ward)
                .map(|paa| paa.code.clone())
                .collect()
        })
        .unwrap_or_default()
    };
    let ward_spec = |a: &AreaRef| -> AreaSpec {
        let mut members = BTreeSet::from([normal_code(&a.code)]);
        members.extend(paas_of(&a.code).iter().map(|c| normal_code(c)));
        AreaSpec {
            code: a.code.clone(),
            name: a.name.clone(),
            level: AreaLevel::Ward,
            parent: plan
                .and_then(|p| p.township_of(&a.code))
                .map(|t| t.name.clone()),
            members,
            crime: AreaSelection::Area {
                level: Level::Ward,
                area: a.clone(),
            },
        }
    };
    let paa_spec = |a: &AreaRef| -> AreaSpec {
        AreaSpec {
            code: a.code.clone(),
            name: a.name.clone(),
            level: AreaLevel::Paa,
            parent: geography.paa_ward(&a.code).map(str::to_owned),
            members: BTreeSet::from([normal_code(&a.code)]),
            crime: AreaSelection::Area {
                level: Level::Paa,
                area: a.clone(),
            },
        }
    };
    let township_spec = |t: &crate::geography::Township| -> AreaSpec {
        let mut members = BTreeSet::new();
        for w in &t.wards {
            members.insert(normal_code(w));
            members.extend(paas_of(w).iter().map(|c| normal_code(c)));
        }
        AreaSpec {
            code: t.name.clone(),
            name: t.name.clone(),
            level: AreaLevel::Township,
            parent: None,
            members,
            crime: AreaSelection::Township(t.clone()),
        }
    };
    let refs = |level: Level| -> Vec<AreaRef> {
        let mut v: Vec<AreaRef> = geography
            .layer(level)
            .map(|l| {
                l.areas
                    .iter()
                    .map(|a| AreaRef {
                        code: a.code.clone(),
                        name: a.name.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    if let Some(key) = area {
        let selection = geography
            .select(key)
            .ok_or_else(|| crate::geography::GeographyError::UnknownArea(key.to_owned()))?;
        let spec = match &selection {
            AreaSelection::Township(t) => township_spec(t),
            AreaSelection::Area {
                level: Level::Ward,
                area,
            } => ward_spec(area),
            AreaSelection::Area {
                level: Level::Paa,
                area,
            } => paa_spec(area),
            AreaSelection::Area {
                level: Level::Lsoa, ..
            } => {
                return Err(Error::Usage(format!(
                    "`{key}` is an LSOA: the pack is drawn up per township, ward or PAA"
                )));
            }
        };
        if let Some(l) = level
            && l != spec.level
        {
            return Err(Error::Usage(format!(
                "`{key}` is a {}, not a {}: leave out --level or change it",
                spec.level, l
            )));
        }
        return Ok((spec.level, vec![spec]));
    }
    let level = level.unwrap_or(AreaLevel::Ward);
    let specs = match level {
        AreaLevel::Ward => refs(Level::Ward).iter().map(ward_spec).collect(),
        AreaLevel::Paa => refs(Level::Paa).iter().map(paa_spec).collect(),
        AreaLevel::Township => plan
            .map(|p| p.townships.iter().map(township_spec).collect())
            .unwrap_or_default(),
    };
    Ok((level, specs))
}

/// The tidy CSV.
fn csv_bytes(report: &Report) -> Result<Vec<u8>, Error> {
    let fail = |e: csv::Error| Error::Failure(format!("could not write the report as CSV: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(tidy::COLUMNS).map_err(fail)?;
    let opt = |x: Option<f64>| x.map(tidy::num).unwrap_or_default();
    for r in tidy::rows(report) {
        w.write_record([
            r.area,
            r.period,
            r.measure,
            r.value,
            r.base.map(|b| b.to_string()).unwrap_or_default(),
            opt(r.low),
            opt(r.high),
            r.suppressed.to_string(),
        ])
        .map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| Error::Failure(format!("could not write the report as CSV: {e}")))
}

// ---------------------------------------------------------------------------------------
// The pack as a document.

/// The mark shown for a hidden value.
const HIDDEN: &str = "*";

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

fn count_text(c: &Count) -> Cell {
    match c.value {
        Some(n) => Cell::from(n as usize),
        None => Cell::from(crate::output::Value::Null).shown_as(HIDDEN),
    }
}

/// "45%" or the hidden mark.
fn share_cell(f: &Figure) -> Cell {
    match f.fraction {
        Some(x) => Cell::from(x).shown_as(pct(x)),
        None if f.suppressed => Cell::from(crate::output::Value::Null).shown_as(HIDDEN),
        None => Cell::from(crate::output::Value::Null).shown_as("–"),
    }
}

fn interval_cell(f: &Figure) -> Cell {
    match (f.low, f.high) {
        (Some(l), Some(h)) => Cell::from(format!("{}–{}", pct(l), pct(h))),
        _ if f.suppressed => Cell::from(HIDDEN),
        _ => Cell::from("–"),
    }
}

fn fig_count(f: &Figure) -> Cell {
    match f.count {
        Some(n) => Cell::from(n as usize),
        None => Cell::from(crate::output::Value::Null).shown_as(HIDDEN),
    }
}

fn opt_count(n: Option<u64>) -> Cell {
    match n {
        Some(n) => Cell::from(n as usize),
        None => Cell::from(crate::output::Value::Null).shown_as(HIDDEN),
    }
}

fn flags(f: &Figure) -> String {
    if f.base == Some(0) {
        "no answers".to_owned()
    } else if f.low_base && f.base.is_some() {
        "low base".to_owned()
    } else {
        String::new()
    }
}

/// Builds the Markdown pack.
pub fn document(report: &Report) -> Document {
    let mut doc = Document::new();
    let compared = report
        .compared_with
        .map(|p| format!(", compared with {p}"))
        .unwrap_or_default();
    doc.heading(format!(
        "Priority-setting pack: {}{compared}, per {}",
        report.period, report.level
    ));
    if let Some(mark) = &report.marking {
        doc.warning(format!(
            "{}: internal view, nothing suppressed.",
            mark.to_uppercase()
        ));
    }
    doc.paragraph(report.suppression.rule.clone());
    if report.public {
        doc.paragraph(format!("{HIDDEN} hidden by the small-numbers rule."));
    }
    for c in &report.caveats {
        doc.note(c.clone());
    }
    doc.paragraph(format!(
        "Counted: completed interviews and audits, the latest revision of each. Unresolved \
         merge conflicts: {}.",
        report.unresolved_conflicts
    ));
    if report.unplaced_responses > 0 {
        doc.warning(format!(
            "{} finished response(s) in {} are filed under areas outside every area reported.",
            report.unplaced_responses, report.period
        ));
    }
    if report.unknown_survey_responses > 0 {
        doc.warning(format!(
            "{} response(s) were recorded on surveys this device does not have and are not \
             counted.",
            report.unknown_survey_responses
        ));
    }
    if report.areas.is_empty() {
        doc.paragraph(format!(
            "No fieldwork in {} at {} level.",
            report.period, report.level
        ));
    }
    for a in &report.areas {
        area(&mut doc, report, a);
    }
    doc
}

fn area(doc: &mut Document, report: &Report, a: &AreaReport) {
    let parent = a
        .parent
        .as_ref()
        .map(|p| format!(" (in {p})"))
        .unwrap_or_default();
    doc.heading(format!(
        "{} {} {}{parent}: {}",
        a.level, a.code, a.name, a.period
    ));
    if let Some(mark) = &report.marking {
        doc.warning(mark.to_uppercase());
    }

    let fw = &a.fieldwork;
    doc.heading("Fieldwork");
    let mut f = Fields::new("fieldwork");
    for (label, c) in [
        ("Doors knocked", &fw.doors_knocked),
        ("Doors answered", &fw.doors_answered),
        ("Doors interviewed", &fw.doors_interviewed),
        ("Refused at the door", &fw.refused_at_door),
        ("Interviews counted", &fw.interviews),
        (
            "Interviews with under-16s (not in the tables)",
            &fw.youth_interviews,
        ),
        ("Consent declined", &fw.declined_consent),
        ("Stopped part-way", &fw.stopped_part_way),
    ] {
        f.add_labelled(label, label, count_text(c));
    }
    let rr = &fw.response_rate;
    f.add_labelled(
        "response_rate",
        "Response rate (doors interviewed of doors answered)",
        Cell::from(match rr.fraction {
            Some(x) => format!("{} ({})", pct(x), interval_cell(rr).display()),
            None if rr.suppressed => HIDDEN.to_owned(),
            None => "–".to_owned(),
        }),
    );
    f.add_labelled("interviewers", "Interviewers", fw.interviewers as usize);
    f.add_labelled("transects", "EVA transects walked", fw.transects as usize);
    doc.fields(f);

    doc.heading("What people told us");
    doc.paragraph(
        "Shares are of every interview counted, including those who named nothing; 95% \
         intervals (Wilson).",
    );
    let mut base = Fields::new("issue_base");
    base.add_labelled("interviews", "Interviews", count_text(&a.issues.interviews));
    base.add_labelled(
        "named_nothing",
        "Named nothing",
        count_text(&a.issues.named_nothing),
    );
    doc.fields(base);
    doc.table(issue_table("issues", "all respondents", &a.issues.all));
    for (name, group) in [
        ("residents", &a.issues.residents),
        ("businesses", &a.issues.businesses),
    ] {
        doc.paragraph(format!(
            "{}: {} interview(s).",
            name[..1].to_uppercase() + &name[1..],
            count_text(&group.interviews).display()
        ));
        doc.table(issue_table(name, name, &group.rows));
    }

    doc.heading("Indicators (residents only)");
    doc.note(
        "Residents only; not comparable with the national surveys (the KIN sample is \
         chosen on purpose).",
    );
    let mut t = Table::new(
        "indicators",
        vec![
            Column::text("indicator", "Indicator"),
            Column::text("counts", "Counts"),
            Column::new("fraction", "%", Kind::Number),
            Column::text("interval", "95% interval"),
            Column::integer("count", "Count"),
            Column::integer("base", "Base"),
            Column::integer("excluded", "Excluded"),
            Column::text("flag", "Flag"),
        ],
    );
    for m in &a.indicators.measures {
        t.push(vec![
            Cell::from(m.label.clone()),
            Cell::from(m.counts.clone()),
            share_cell(&m.figure),
            interval_cell(&m.figure),
            fig_count(&m.figure),
            opt_count(m.figure.base),
            opt_count(m.figure.excluded),
            Cell::from(flags(&m.figure)),
        ]);
    }
    doc.table(t);

    doc.heading("The street as audited (NI 195)");
    doc.paragraph(format!(
        "{} transect(s). NI 195: share of transects below grade B, B− counting half; lower \
         is better.",
        a.street.transects
    ));
    let mut t = Table::new(
        "ni195",
        vec![
            Column::text("element", "Element"),
            Column::integer("graded", "Graded"),
            Column::integer("below_b", "C, C−, D"),
            Column::integer("b_minus", "B−"),
            Column::new("score", "NI 195", Kind::Number),
        ],
    );
    for e in &a.street.ni195 {
        t.push(vec![
            Cell::from(e.element.replace('_', "-")),
            Cell::from(e.graded as usize),
            Cell::from(e.below_b as usize),
            Cell::from(e.b_minus as usize),
            match e.score {
                Some(s) => Cell::from(s).shown_as(pct(s)),
                None => Cell::from(crate::output::Value::Null).shown_as("–"),
            },
        ]);
    }
    doc.table(t);
    let mut t = Table::new(
        "urgent",
        vec![
            Column::text("transect", "Transect"),
            Column::text("street", "Street"),
            Column::text("between", "Between"),
            Column::text("item", "Urgent finding"),
            Column::text("answer", "Found"),
            Column::text("location", "Where"),
            Column::text("agency", "Agency"),
        ],
    )
    .when_empty("No urgent findings.");
    for u in &a.street.urgent {
        t.push(vec![
            Cell::from(u.transect.clone()),
            Cell::from(u.street.clone()),
            Cell::from(match (&u.from_ref, &u.to_ref) {
                (Some(f), Some(t)) => format!("{f} to {t}"),
                (Some(x), None) | (None, Some(x)) => x.clone(),
                (None, None) => String::new(),
            }),
            Cell::from(u.item_label.clone()),
            Cell::from(u.answer.clone()),
            Cell::from(u.location.clone()),
            Cell::from(u.agency.clone()),
        ]);
    }
    doc.table(t);

    doc.heading("The street and the record");
    let mut t = Table::new(
        "street_and_record",
        vec![
            Column::text("issue", "Issue"),
            Column::new("concern", "Named", Kind::Number),
            Column::text("street", "Transects showing it"),
            Column::integer("urgent", "Urgent"),
            Column::text("recorded", "Recorded by police"),
            Column::text("flag", "Flag"),
        ],
    )
    .when_empty("No issues named.");
    for r in &a.street_and_record {
        t.push(vec![
            Cell::from(r.label.clone()),
            share_cell(&r.concern),
            Cell::from(if r.eva_items.is_empty() {
                "not audited".to_owned()
            } else {
                format!("{} of {}", r.transects_with_evidence, r.transects_audited)
            }),
            Cell::from(r.urgent_findings as usize),
            Cell::from(match r.recorded {
                Some(n) => format!("{n} ({})", r.police_categories.join(", ")),
                None => r.recorded_note.clone(),
            }),
            Cell::from(r.disagreement_note.clone().unwrap_or_default()),
        ]);
    }
    doc.table(t);

    let compared = a
        .changes
        .compared_with
        .map_or_else(|| "no earlier period".to_owned(), |p| p.to_string());
    doc.heading(format!("What changed since {compared}"));
    doc.paragraph(format!(
        "Interviews then: {}. Up or down only where both bases are 30 or more and the \
         intervals do not overlap; persisting = among the three most named in 2 or more \
         consecutive periods.",
        count_text(&a.changes.interviews_before).display()
    ));
    let mut t = Table::new(
        "changes",
        vec![
            Column::text("issue", "Issue"),
            Column::new("now", "Now", Kind::Number),
            Column::new("before", "Before", Kind::Number),
            Column::text("change", "Change"),
            Column::text("persisting", "Persisting"),
        ],
    )
    .when_empty("No issues named in either period.");
    for c in &a.changes.issues {
        t.push(vec![
            Cell::from(c.label.clone()),
            share_cell(&c.now),
            share_cell(&c.before),
            Cell::from(
                serde_json::to_value(c.change)
                    .ok()
                    .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
                    .unwrap_or_default(),
            ),
            Cell::from(if c.persisting {
                format!("yes ({} periods)", c.consecutive_periods)
            } else {
                String::new()
            }),
        ]);
    }
    doc.table(t);

    doc.heading("Proposed top three");
    doc.paragraph(format!("Priority {}.", report.priority_formula));
    let mut t = Table::new(
        "top_three",
        vec![
            Column::integer("rank", "Rank"),
            Column::text("issue", "Issue"),
            Column::new("score", "Score", Kind::Number),
            Column::text("why", "Why"),
        ],
    )
    .when_empty("No issues named: nothing to propose.");
    for p in &a.top_three {
        t.push(vec![
            Cell::from(p.rank),
            Cell::from(p.label.clone()),
            match p.score {
                Some(x) => Cell::from(x).shown_as(format!("{x:.1}")),
                None => Cell::from(crate::output::Value::Null).shown_as(HIDDEN),
            },
            Cell::from(p.why.clone()),
        ]);
    }
    doc.table(t);

    doc.heading("Who we heard");
    let mut t = Table::new(
        "by_type",
        vec![
            Column::text("group", "Respondents"),
            Column::integer("count", "Interviews"),
        ],
    );
    for g in &a.heard.by_type {
        t.push(vec![Cell::from(g.label.clone()), count_text(&g.count)]);
    }
    doc.table(t);
    if let Some(note) = &a.heard.about_you_note {
        doc.paragraph(note.clone());
    }
    if let Some(m) = a.heard.profile_margin {
        doc.paragraph(format!(
            "Under-represented: share among respondents more than {} points below the \
             area profile's share.",
            (m * 100.0).round()
        ));
    }
    for q in &a.heard.about_you {
        doc.paragraph(q.text.clone());
        let mut t = Table::new(
            &q.question,
            vec![
                Column::text("group", "Answer"),
                Column::integer("count", "Count"),
                Column::new("share", "Share", Kind::Number),
                Column::new("population", "Area profile", Kind::Number),
                Column::text("flag", "Flag"),
            ],
        );
        for g in &q.rows {
            t.push(vec![
                Cell::from(g.label.clone()),
                count_text(&g.count),
                match g.share {
                    Some(s) => Cell::from(s).shown_as(pct(s)),
                    None if g.count.suppressed => {
                        Cell::from(crate::output::Value::Null).shown_as(HIDDEN)
                    }
                    None => Cell::from(crate::output::Value::Null),
                },
                match g.population_share {
                    Some(s) => Cell::from(s).shown_as(pct(s)),
                    None => Cell::from(crate::output::Value::Null),
                },
                Cell::from(if g.under_represented {
                    "under-represented"
                } else {
                    ""
                }),
            ]);
        }
        doc.table(t);
    }
}

fn issue_table(name: &str, who: &str, rows: &[crate::report::IssueRow]) -> Table {
    let mut t = Table::new(
        name,
        vec![
            Column::text("issue", "Issue"),
            Column::integer("named", "Named"),
            Column::new("share", "% of interviews", Kind::Number),
            Column::text("interval", "95% interval"),
            Column::integer("ranked_first", "Ranked first"),
            Column::integer("top_three", "In top three"),
            Column::text("flag", "Flag"),
        ],
    )
    .when_empty(&format!("No issues named by {who}."));
    for r in rows {
        t.push(vec![
            Cell::from(r.label.clone()),
            fig_count(&r.named),
            share_cell(&r.named),
            interval_cell(&r.named),
            fig_count(&r.ranked_first),
            fig_count(&r.top_three),
            Cell::from(flags(&r.named)),
        ]);
    }
    t
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::batch::{self, DeviceKey, Manifest, Origin, Record, Selection};
    use crate::report::build;
    use crate::response::{Env, ResponseFilter, Status, StoredAnswer};
    use crate::simulate::{Plan, Simulation};
    use crate::survey::{Answer, IssueCoding};

    const LEVELS: [AreaLevel; 3] = [AreaLevel::Ward, AreaLevel::Paa, AreaLevel::Township];

    /// Every pack of `period` the store gives: each level, public and internal, as JSON,
    /// from the store folded as read.
    fn packs(store: &Store, registry: &Registry, period: Period) -> Vec<Vec<u8>> {
        packs_read(store, registry, period, |specs| {
            let geography = store.stored_geography().unwrap().or_builtin().unwrap();
            Sources::read_period(store, registry, geography, period, specs).unwrap()
        })
    }

    /// Every pack of `period`, as [`packs`], with the store read whole into memory (as the
    /// field app reads it) rather than folded as read.
    fn packs_in_memory(store: &Store, registry: &Registry, period: Period) -> Vec<Vec<u8>> {
        packs_read(store, registry, period, |_| {
            Sources::read(store, registry).unwrap()
        })
    }

    /// Every pack of `period` over the store's areas, each from the sources `read` gives
    /// for its areas.
    fn packs_read(
        store: &Store,
        registry: &Registry,
        period: Period,
        read: impl Fn(&[AreaSpec]) -> Sources,
    ) -> Vec<Vec<u8>> {
        let geography = store.stored_geography().unwrap().or_builtin().unwrap();
        let mut out = Vec::new();
        for level in LEVELS {
            for internal in [false, true] {
                let (level, specs) = areas(&geography, None, Some(level)).unwrap();
                let sources = read(&specs);
                let specs = sources.worked(period, specs);
                let input = sources.input(
                    registry,
                    period,
                    Some(period.previous()),
                    level,
                    specs,
                    internal,
                    None,
                );
                out.push(render(&build(&input), PackFormat::Json, &sources.geography).unwrap());
            }
        }
        out
    }

    /// The packs read through the index are the packs read from every record.
    fn assert_indexed_as_full(store: &Store, registry: &Registry, periods: &[Period]) {
        store.assert_periods_in_step();
        assert!(store.periods_indexed());
        let indexed: Vec<_> = periods.iter().map(|p| packs(store, registry, *p)).collect();
        store.forget_periods().unwrap();
        assert!(!store.periods_indexed());
        let full: Vec<_> = periods.iter().map(|p| packs(store, registry, *p)).collect();
        store.build_periods();
        // Other periods' counts reach the pack (read from the index's kept answers): the
        // ward pack of the last period compares with the one before and finds runs.
        let ward: serde_json::Value =
            serde_json::from_slice(&indexed[indexed.len() - 1][1]).unwrap();
        let changes = || {
            ward["areas"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| &a["changes"])
        };
        assert!(changes().any(|c| c["interviews_before"]["value"].as_u64() > Some(0)));
        assert!(changes().any(|c| {
            c["issues"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["consecutive_periods"].as_u64() >= Some(2))
        }));
        let same = |a: &[Vec<Vec<u8>>], b: &[Vec<Vec<u8>>], what: &str| {
            for (i, (a, b)) in a.iter().zip(b).enumerate() {
                for (x, y) in a.iter().zip(b) {
                    assert!(x == y, "{}: {what}", periods[i]);
                }
            }
        };
        same(
            &indexed,
            &full,
            "the indexed pack differs from the full scan's",
        );
        // The counts a merge keeps give the same packs. Every caller wrote to the store
        // since the last keep, so they are counted afresh, then current until a write.
        assert!(
            keep_counts(store, registry).unwrap(),
            "kept counts still current after a write"
        );
        assert!(
            !keep_counts(store, registry).unwrap(),
            "kept counts not current right after they were kept"
        );
        let kept: Vec<_> = periods.iter().map(|p| packs(store, registry, *p)).collect();
        same(
            &kept,
            &indexed,
            "the pack from kept counts differs from the index's",
        );
    }

    fn merge(store: &Store, device: u8, sequence: u64, records: Vec<Record>) {
        let key = DeviceKey::from_secret_bytes([device; 32]);
        let origin = Origin {
            batch: Uuid::from_u128(u128::from(device) << 64 | u128::from(sequence)),
            sequence,
            previous: None,
            device: format!("hand-{device}"),
            officer: None,
            created_at: Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
            selection: Selection::New,
        };
        let manifest = Manifest::describe(origin, &key.public(), &records);
        let bytes = batch::write(&manifest, &records, &key).unwrap();
        store
            .merge_batch(&batch::open(&bytes, None).unwrap(), &mut |_, _| {})
            .unwrap();
    }

    /// A finished revision of `original` filed in `period` under `id`, naming `issue`.
    fn revision(original: &Response, id: Uuid, period: Period, issue: &str) -> Response {
        let at = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap();
        let mut r = original.revision(id, at);
        r.period = period;
        r.set_answer(
            crate::report::issues::ISSUES_QUESTION,
            StoredAnswer::Plain(Answer::Issues(IssueCoding {
                issues: vec![issue.into()],
                other: None,
            })),
            at,
        );
        r.finalize(Status::Complete, at);
        r
    }

    /// Kept a period at a time, the counts take in a period whose only fieldwork is the
    /// door log (no response names it, so the index does not), and every pack from the
    /// kept counts is the pack counted afresh.
    #[test]
    fn counts_kept_a_period_at_a_time_take_in_a_period_of_knocks_alone() {
        let registry = Registry::builtin().unwrap();
        let (q4, q1) = (
            "2026-Q4".parse::<Period>().unwrap(),
            "2027-Q1".parse::<Period>().unwrap(),
        );
        let dir = tempfile::tempdir().unwrap();
        let env = Env::manual(Utc.with_ymd_and_hms(2027, 1, 20, 9, 0, 0).unwrap()).0;
        let store = Store::open_with(dir.path(), env).unwrap();
        let geography = store.stored_geography().unwrap().or_builtin().unwrap();
        let areas: Vec<String> = geography
            .wards
            .as_ref()
            .map(|l| l.areas.iter().map(|a| a.code.clone()).collect())
            .unwrap_or_default();
        let plan = Plan {
            devices: 1,
            first_device: 1,
            responses: 60,
            period: q4,
            periods: 1,
            seed: 3,
            areas: areas.clone(),
        };
        let mut sim = Simulation::new(plan, &registry).unwrap();
        while let Some(b) = sim.next_batch().unwrap() {
            let bytes = batch::write(&b.manifest, &b.records, &sim.device_key(b.device)).unwrap();
            store
                .merge_batch(&batch::open(&bytes, None).unwrap(), &mut |_, _| {})
                .unwrap();
        }
        let at = Utc.with_ymd_and_hms(2027, 1, 12, 10, 0, 0).unwrap();
        for n in 1..=3 {
            store
                .knock(
                    &areas[0],
                    crate::response::Door::new("Kay Street", &n.to_string()).unwrap(),
                    crate::response::Outcome::NoAnswer,
                    at,
                )
                .unwrap();
        }
        let afresh: Vec<_> = [q4, q1].map(|p| packs(&store, &registry, p)).into();
        assert!(keep_counts(&store, &registry).unwrap());
        let kept_q1 = store
            .kept_counts(&surveys_digest(&registry), q1)
            .unwrap()
            .expect("counts kept");
        assert!(kept_q1.contains_key(&q1), "{:?}", kept_q1.keys());
        assert!(kept_q1.contains_key(&q4), "{:?}", kept_q1.keys());
        let kept: Vec<_> = [q4, q1].map(|p| packs(&store, &registry, p)).into();
        for (period, (a, b)) in [q4, q1].iter().zip(afresh.iter().zip(&kept)) {
            for (x, y) in a.iter().zip(b) {
                assert!(x == y, "{period}: the pack from kept counts differs");
            }
        }
    }

    /// Simulated fieldwork over three periods (with its revisions, duplicates and one
    /// conflict), then revisions across periods made by hand: each way round, one whose id
    /// sorts before what it replaces, a second revision of the same response, and one of
    /// a response the store never held. Before and after resolving the conflict, every
    /// pack of every period reads the same through the index as from every record.
    #[test]
    fn packs_read_through_the_index_are_the_packs_of_a_full_scan() {
        let registry = Registry::builtin().unwrap();
        let (q2, q3, q4) = (
            "2026-Q2".parse::<Period>().unwrap(),
            "2026-Q3".parse::<Period>().unwrap(),
            "2026-Q4".parse::<Period>().unwrap(),
        );
        for (seed, responses) in [(1, 240), (7, 400)] {
            let dir = tempfile::tempdir().unwrap();
            let env = Env::manual(Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap()).0;
            let store = Store::open_with(dir.path(), env).unwrap();
            let geography = store.stored_geography().unwrap().or_builtin().unwrap();
            let layer = geography
                .paas
                .as_ref()
                .filter(|l| !l.areas.is_empty())
                .or(geography.wards.as_ref());
            let plan = Plan {
                devices: 2,
                first_device: 1,
                responses,
                period: q4,
                periods: 3,
                seed,
                areas: layer
                    .map(|l| l.areas.iter().map(|a| a.code.clone()).collect())
                    .unwrap_or_default(),
            };
            let mut sim = Simulation::new(plan, &registry).unwrap();
            while let Some(b) = sim.next_batch().unwrap() {
                let bytes =
                    batch::write(&b.manifest, &b.records, &sim.device_key(b.device)).unwrap();
                store
                    .merge_batch(&batch::open(&bytes, None).unwrap(), &mut |_, _| {})
                    .unwrap();
            }
            assert_indexed_as_full(&store, &registry, &[q3, q4]);
            // Folded as read, a few hundred responses at a time through the stages of
            // `read_period`, is folded as if all were in memory at once.
            for period in [q3, q4] {
                let folded = packs(&store, &registry, period);
                let whole = packs_in_memory(&store, &registry, period);
                assert!(folded == whole, "{period}: folded as read differs");
            }

            let complete = |period: Period| -> Vec<Response> {
                store
                    .list(&ResponseFilter {
                        period: Some(period),
                        status: Some(Status::Complete),
                        area: None,
                    })
                    .unwrap()
                    .responses
                    .into_iter()
                    .filter(|r| r.survey_id == "kin" && r.replaces.is_none())
                    .collect()
            };
            let (in_q3, in_q4) = (complete(q3), complete(q4));
            let new_id = |n: u128| Uuid::from_u128((0x0199 << 112) | n);
            let never_held = Response {
                id: Uuid::from_u128(3),
                ..in_q3[0].clone()
            };
            let records = vec![
                // Later ids than what they replace, in the other period.
                Record::Response(revision(&in_q3[0], new_id(1), q4, "youths")),
                Record::Response(revision(&in_q4[0], new_id(2), q3, "noisy_neighbours")),
                // Read before what it replaces.
                Record::Response(revision(&in_q3[1], Uuid::from_u128(1), q4, "drunk_rowdy")),
                Record::Response(revision(&in_q4[1], Uuid::from_u128(2), q2, "youths")),
                // A second revision of one already revised, and of one never held.
                Record::Response(revision(&in_q3[0], new_id(3), q3, "noisy_neighbours")),
                Record::Response(revision(&never_held, new_id(4), q4, "drunk_rowdy")),
            ];
            merge(&store, 40, 1, records);
            assert_indexed_as_full(&store, &registry, &[q2, q3, q4]);

            let conflicts = store.unresolved_conflicts().unwrap();
            assert!(!conflicts.is_empty(), "the simulation makes a conflict");
            for c in conflicts {
                store.resolve_conflict(c.id, 1).unwrap();
            }
            assert_indexed_as_full(&store, &registry, &[q2, q3, q4]);
        }
    }

    /// A store of simulated fieldwork in 2026-Q4, and a finished interview of it.
    pub(crate) fn simulated(dir: &std::path::Path, registry: &Registry) -> (Store, Response) {
        let env = Env::manual(Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap()).0;
        let store = Store::open_with(dir, env).unwrap();
        let geography = store.stored_geography().unwrap().or_builtin().unwrap();
        let plan = Plan {
            devices: 2,
            first_device: 1,
            responses: 600,
            period: "2026-Q4".parse().unwrap(),
            periods: 1,
            seed: 3,
            areas: geography
                .wards
                .as_ref()
                .map(|l| l.areas.iter().map(|a| a.code.clone()).collect())
                .unwrap_or_default(),
        };
        let mut sim = Simulation::new(plan, registry).unwrap();
        while let Some(b) = sim.next_batch().unwrap() {
            let bytes = batch::write(&b.manifest, &b.records, &sim.device_key(b.device)).unwrap();
            store
                .merge_batch(&batch::open(&bytes, None).unwrap(), &mut |_, _| {})
                .unwrap();
        }
        let listed = store.list(&ResponseFilter::default()).unwrap().responses;
        // Late in reading order: the stages have many responses in flight by then.
        let interview = listed
            .into_iter()
            .rev()
            .find(|r| r.survey_id == "kin" && r.status == Status::Complete)
            .unwrap();
        (store, interview)
    }

    /// A count asked to stop stops reading at once and gives no counts; one never asked
    /// gives the counts the report is built from.
    #[test]
    fn a_count_asked_to_stop_ends_without_counts() {
        let registry = Registry::builtin().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = simulated(dir.path(), &registry);
        let period: Period = "2026-Q4".parse().unwrap();
        let asked = std::cell::Cell::new(0);
        let stop = || {
            asked.set(asked.get() + 1);
            asked.get() > 10
        };
        assert!(
            period_counts(&store, &registry, period, &stop)
                .unwrap()
                .is_none()
        );
        assert_eq!(asked.get(), 11, "it read on after being asked to stop");
        let counts = period_counts(&store, &registry, period, &|| false)
            .unwrap()
            .expect("counted");
        assert!(counts.get(&period).is_some_and(|p| !p.codes.is_empty()));
    }

    fn report_error(store: &Store, registry: &Registry) -> String {
        let geography = store.stored_geography().unwrap().or_builtin().unwrap();
        let (_, specs) = areas(&geography, None, Some(AreaLevel::Ward)).unwrap();
        let period = "2026-Q4".parse().unwrap();
        match Sources::read_period(store, registry, geography, period, &specs) {
            Ok(_) => panic!("a damaged record was counted"),
            Err(e) => e.to_string(),
        }
    }

    /// A record that cannot be read, or one of whose answers the report reads does not
    /// decode, stops the report (naming the record) rather than leave it out of the counts.
    #[test]
    fn a_damaged_record_stops_the_report_and_says_which() {
        let registry = Registry::builtin().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (store, interview) = simulated(dir.path(), &registry);
        let id = interview.id.to_string();
        let good = store.raw_response(interview.id);

        store.overwrite_response(interview.id, &good[..good.len() / 2]);
        let message = report_error(&store, &registry);
        assert!(message.contains(&id), "{message}");
        // Nor are counts kept from it: the merge that tried says why, and reports go on
        // reading (and refusing) the records.
        let kept = keep_counts(&store, &registry).unwrap_err().to_string();
        assert!(kept.contains(&id), "{kept}");
        assert!(!store.counts_current(&surveys_digest(&registry)).unwrap());

        let mut record: serde_json::Value = serde_json::from_slice(&good).unwrap();
        let issues = &mut record["record"]["answers"][crate::report::issues::ISSUES_QUESTION];
        assert!(issues.is_object(), "the interview names issues: {record}");
        issues["value"] = serde_json::json!({"plain": {"type": "no such kind"}});
        store.overwrite_response(interview.id, &serde_json::to_vec(&record).unwrap());
        let message = report_error(&store, &registry);
        assert!(message.contains(&id), "{message}");

        store.overwrite_response(interview.id, &good);
        let geography = store.stored_geography().unwrap().or_builtin().unwrap();
        let (_, specs) = areas(&geography, None, Some(AreaLevel::Ward)).unwrap();
        let period = "2026-Q4".parse().unwrap();
        assert!(Sources::read_period(&store, &registry, geography, period, &specs).is_ok());
    }
}
