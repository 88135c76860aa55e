//! `doorstep recover`: rebuild the store from the journal.
//!
//! Recover never needs a readable store. It reads the journal first (and refuses, changing
//! nothing, when the journal has lines but none can be read), marks a recovery in
//! progress, then:
//! - if the store opens and every record in it reads, anything the journal has that the
//!   store lacks (or cannot decode, or holds an older state of) is written back in place;
//! - otherwise (missing, will not open, damage found reading it) a new store is built
//!   aside from the journal (plus drafts the journal lacks, and the trees it does not hold
//!   — areas, crime, batch export marks, and device pins from before pins were
//!   journaled — salvaged from the old store where they still read), and only then
//!   swapped in, the old one
//!   moved aside. A full disk or a refused write stops it with the old store untouched.
//!
//! The mark is removed when it is done; until then every other command refuses to open.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};

use super::actions::ACTIONS;
use super::journal::{Item, RecordsReader, each_journal_item};
use super::merge::{WRITE_SLICE, write_sliced};
use super::replay::Model;
use super::responses::RESPONSES;
use super::{
    CorruptLine, DirLock, JournalContents, JournalEntry, JournalMark, RECOVERING_FILE, STORE_DIR,
    Store, StoreError, decode, encode, journal_path, open_db, remove_snapshot_leftovers,
};
use uuid::Uuid;

use crate::response::{Env, Response, Status};

/// Where recover builds the new store before swapping it in.
const REBUILDING_DIR: &str = "store.rebuilding";
/// Trees rebuilt from the journal; every other tree (imported areas and crime, batch
/// export marks, and any added later) is not journaled and is copied from the old store
/// when it still reads, except recover's scratch trees and the report's kept counts.
/// Device pins are journaled (since this release) but also copied, for the devices the
/// journal does not name: pinned before pins were journaled.
const JOURNALED_TREES: [&str; 7] = [
    RESPONSES,
    "doors",
    "settings",
    "meta",
    "merge",
    ACTIONS,
    super::tallies::TALLIES,
];

/// What state the sled store was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreState {
    /// It opened and every record read; the journal was checked against it.
    Healthy,
    /// There was no store directory.
    Missing,
    /// It would not open or could not be read through; it was moved aside and a new one
    /// built.
    Damaged { error: String, moved_to: PathBuf },
}

/// What `recover` found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    pub store: StoreState,
    pub journal: PathBuf,
    /// Lines in the journal, good and bad.
    pub lines: usize,
    /// Lines read successfully.
    pub entries: usize,
    pub corrupt: Vec<CorruptLine>,
    /// Responses written back, by status (drafts included).
    pub restored: BTreeMap<Status, usize>,
    /// Responses the store already held as the journal has them (or newer).
    pub already_present: usize,
    pub doors_restored: usize,
    pub knocks_restored: usize,
    pub settings_restored: usize,
    /// Actions of the register written back (missing, unreadable or behind the journal).
    pub actions_restored: usize,
    /// Device pins written back from the journal (missing or unreadable in the store).
    pub pins_restored: usize,
    /// Drafts the journal does not have (started before drafts were journaled), read
    /// from the old store.
    pub drafts_salvaged: usize,
    /// Records of trees the journal does not hold (areas, crime, batch export marks,
    /// device pins from before pins were journaled) copied from the old store.
    pub imported_salvaged: usize,
    /// Why those records could not be copied from the old store, if they could not.
    pub imported_lost: Option<String>,
    /// An earlier recover had been interrupted; this one completed it.
    pub resumed: bool,
    /// Damaged stores kept in the data directory (this run's and earlier ones).
    pub kept_aside: Vec<PathBuf>,
    /// Anything else done, one sentence each (a journal rebuilt from the store).
    pub notes: Vec<String>,
}

impl RecoveryReport {
    pub fn responses_restored(&self) -> usize {
        self.restored.values().sum()
    }

    fn finalized_restored(&self) -> usize {
        self.restored
            .iter()
            .filter(|(s, _)| s.is_final())
            .map(|(_, n)| n)
            .sum()
    }
}

impl fmt::Display for RecoveryReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.resumed {
            writeln!(f, "an interrupted recover was found and completed")?;
        }
        match &self.store {
            StoreState::Healthy => writeln!(f, "store: opened fine; checked against the journal")?,
            StoreState::Missing => writeln!(f, "store: missing; rebuilt from the journal")?,
            StoreState::Damaged { error, moved_to } => writeln!(
                f,
                "store: damaged ({error}); moved aside to {} and rebuilt from the journal",
                moved_to.display()
            )?,
        }
        writeln!(
            f,
            "journal: {} line(s) read from {}, {} good, {} corrupt",
            self.lines,
            self.journal.display(),
            self.entries,
            self.corrupt.len()
        )?;
        let by_status: Vec<String> = self
            .restored
            .iter()
            .filter(|(s, _)| s.is_final())
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        write!(f, "restored: {} finalized", self.finalized_restored())?;
        if !by_status.is_empty() {
            write!(f, " ({})", by_status.join(", "))?;
        }
        writeln!(
            f,
            ", {} draft(s), {} door(s), {} knock(s), {} setting(s)",
            self.restored.get(&Status::Draft).copied().unwrap_or(0),
            self.doors_restored,
            self.knocks_restored,
            self.settings_restored
        )?;
        if self.actions_restored > 0 {
            writeln!(
                f,
                "restored: {} action(s) of the register",
                self.actions_restored
            )?;
        }
        if self.pins_restored > 0 {
            writeln!(
                f,
                "restored: {} device key(s) a coordinator pinned, trusted or revoked",
                self.pins_restored
            )?;
        }
        writeln!(
            f,
            "already in the store: {} response(s)",
            self.already_present
        )?;
        if self.drafts_salvaged > 0 || self.imported_salvaged > 0 {
            writeln!(
                f,
                "kept from the old store: {} draft(s) the journal did not have, {} record(s) the journal does not hold (areas, crime, batch export marks, device keys)",
                self.drafts_salvaged, self.imported_salvaged
            )?;
        }
        if let Some(why) = &self.imported_lost {
            writeln!(
                f,
                "warning: what the journal does not hold could not be read from the old store ({why}): import areas and crime again if you had any; without its batch export marks the next `doorstep batch export` carries everything again; device keys a coordinator's machine pinned before this release journaled them are pinned afresh by their next batch, so check `doorstep devices list` and revoke again any device you had revoked"
            )?;
        }
        for note in &self.notes {
            writeln!(f, "{note}")?;
        }
        for c in &self.corrupt {
            writeln!(f, "skipped corrupt journal line {}: {}", c.line, c.reason)?;
        }
        if !self.kept_aside.is_empty() {
            let names: Vec<String> = self
                .kept_aside
                .iter()
                .map(|p| {
                    p.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                })
                .collect();
            writeln!(
                f,
                "{} damaged store(s) kept in the data directory ({}): delete them once the restored work is checked",
                names.len(),
                names.join(", ")
            )?;
        }
        Ok(())
    }
}

/// Whether the journal's one bad line is its last and has no line end: an append cut
/// off by a crash, not a file of something else.
fn only_a_torn_last_line(path: &Path, contents: &super::journal::JournalContents) -> bool {
    let [bad] = contents.corrupt.as_slice() else {
        return false;
    };
    if bad.line != contents.lines {
        return false;
    }
    let torn = File::open(path).and_then(|mut f| {
        let len = f.metadata()?.len();
        Ok(len > 0 && !super::journal::ends_a_line(&mut f, len)?)
    });
    matches!(torn, Ok(true))
}

/// Rebuilds or repairs the store under `data_dir` from its journal. Takes the data
/// directory lock like any other command.
pub fn recover(data_dir: &Path, env: Env) -> Result<RecoveryReport, StoreError> {
    recover_in_slices(data_dir, env, REPLAY_SLICE)
}

/// How many records of a merged batch's journal line recover decodes at a time: a
/// batch of 10,000 responses is some 150 MB decoded, a slice of 1,024 a tenth of that.
const REPLAY_SLICE: usize = 1024;

/// [`recover`], reading a merged batch's records `slice` at a time (at least one): what
/// recover makes does not depend on it (tests replay a record or two at a time).
pub fn recover_in_slices(
    data_dir: &Path,
    env: Env,
    slice: usize,
) -> Result<RecoveryReport, StoreError> {
    crate::paths::check_data_dir(data_dir).map_err(|reason| StoreError::NotDataDir {
        path: data_dir.to_path_buf(),
        reason,
    })?;
    std::fs::create_dir_all(data_dir).map_err(|e| StoreError::io(data_dir, e))?;
    let lock = DirLock::acquire(data_dir)?;
    let jpath = journal_path(data_dir);
    let (once, contents, entries) = named_once(&jpath, slice)?;
    let corrupt: HashSet<usize> = contents.corrupt.iter().map(|c| c.line).collect();
    // A journal whose only line is torn is what a crash during the first append ever
    // leaves: nothing was acknowledged, so it is not refused like a file of other text.
    if entries == 0
        && let Some(first) = contents.corrupt.first()
        && !only_a_torn_last_line(&jpath, &contents)
    {
        return Err(StoreError::UnreadableJournal {
            path: jpath,
            lines: contents.lines,
            first_line: first.line,
            first_reason: first.reason.clone(),
        });
    }
    // The report's kept counts describe a store this may change under the same journal
    // mark: counted again by the next merge.
    super::kept_counts::forget_in(data_dir)?;
    let marker = data_dir.join(RECOVERING_FILE);
    let resumed = marker.exists();
    File::create(&marker)
        .and_then(|f| f.sync_all())
        .map_err(|e| StoreError::io(&marker, e))?;
    sync_dir(data_dir)?;

    let mut report = RecoveryReport {
        store: StoreState::Healthy,
        journal: jpath.clone(),
        lines: contents.lines,
        entries,
        corrupt: contents.corrupt,
        restored: BTreeMap::new(),
        already_present: 0,
        doors_restored: 0,
        knocks_restored: 0,
        settings_restored: 0,
        actions_restored: 0,
        pins_restored: 0,
        drafts_salvaged: 0,
        imported_salvaged: 0,
        imported_lost: None,
        resumed,
        kept_aside: Vec::new(),
        notes: Vec::new(),
    };
    let mark = JournalMark {
        lines: contents.lines as u64,
        bytes: contents.bytes,
    };
    let result = run(
        data_dir,
        &env,
        &jpath,
        (&once, &corrupt),
        slice,
        mark,
        &mut report,
    );
    let in_step = match result {
        Ok(mark) => mark,
        Err(e) => {
            // Nothing was swapped: the old store is as it was. A damaged one still says
            // so when opened; a healthy one must not be locked out by a stale mark.
            let _ = std::fs::remove_dir_all(data_dir.join(REBUILDING_DIR));
            let _ = std::fs::remove_file(&marker);
            return Err(e);
        }
    };
    // The store now reflects the journal up to `in_step`, its files flushed and closed:
    // recorded as a clean close records it, so the next open (a reading command's too)
    // reads the files where they are rather than taking them for damage, or copying a
    // store of many GB aside first.
    super::record_closed_at(&data_dir.join(STORE_DIR), in_step.bytes)
        .map_err(|e| StoreError::io(data_dir.join(STORE_DIR).join(super::CLOSED_FILE), e))?;
    std::fs::remove_file(&marker).map_err(|e| StoreError::io(&marker, e))?;
    sync_dir(data_dir)?;
    report.kept_aside = damaged_stores(data_dir);
    drop(lock);
    Ok(report)
}

/// What the journal makes of the records, read in two streaming passes so a journal of
/// a million responses is never in memory at once: the first builds the model of drafts,
/// doors and settings and notes the line where each response was finalized (a finalized
/// response never changes again; revisions are new records); the second
/// ([`Journaled::each_final`]) reads those responses back one at a time.
#[derive(Default)]
pub(super) struct Journaled {
    pub(super) model: Model,
    /// Each finalized response's id and the line of its first finalized state.
    finals: HashMap<Uuid, usize>,
    path: PathBuf,
    /// The doors and their knocks, kept out of the model (see [`DoorSpill`]).
    doors: Option<DoorSpill>,
    /// The finalized responses not set aside, kept out of the model (see
    /// [`ResponseSpill`]).
    kept: Option<ResponseSpill>,
    /// How many records of a merged batch's line are read back at a time.
    slice: usize,
}

/// The replay of the journal under way (see [`Journaled::read`]).
struct Replay<'a> {
    model: Model,
    finals: HashMap<Uuid, usize>,
    path: &'a Path,
    once: &'a HashSet<Uuid>,
    slice: usize,
    spill: &'a SourceSpill,
    doors: DoorSpill,
    kept: ResponseSpill,
}

impl Replay<'_> {
    /// Applies one entry of line `line`: all of it, or (`records`) a slice of a merged
    /// batch's records, the first of them its record `first`, adding what they did to the
    /// batch's counts.
    fn entry(
        &mut self,
        line: usize,
        entry: JournalEntry,
        records: Option<(usize, &mut super::merge::MergeCounts)>,
    ) -> Result<(), StoreError> {
        let Replay {
            model,
            finals,
            path,
            once,
            slice,
            spill,
            doors,
            kept,
        } = self;
        kept.load(model, &entry)?;
        match entry {
            JournalEntry::Response(r) | JournalEntry::Draft(r) if finals.contains_key(&r.id) => {}
            // Revisions stay in the model: a revision is checked against the others
            // of the same response (a conflict of revisions) as it is replayed.
            JournalEntry::Response(r)
                if r.status.is_final()
                    && r.replaces.is_none()
                    && !model
                        .responses
                        .get(&r.id)
                        .is_some_and(|c| c.status.is_final()) =>
            {
                model.responses.remove(&r.id);
                finals.insert(r.id, line);
            }
            other => {
                // A merge or a resolution works on the responses it names: any of them
                // set aside as finalized come back into the model first (rare: only a
                // coordinator's own fieldwork can be named), as if never set aside.
                let named: Vec<Uuid> = match &other {
                    JournalEntry::Merged { records, .. } => records
                        .iter()
                        .filter_map(|r| match r {
                            crate::batch::Record::Response(r) => Some(r.id),
                            _ => None,
                        })
                        .filter(|id| finals.contains_key(id))
                        .collect(),
                    JournalEntry::Resolved { id, .. } if finals.contains_key(id) => {
                        vec![*id]
                    }
                    _ => Vec::new(),
                };
                if !named.is_empty() {
                    let wanted: HashMap<Uuid, usize> = named
                        .iter()
                        .filter_map(|id| finals.remove(id).map(|l| (*id, l)))
                        .collect();
                    finals_at(path, &wanted, *slice, |r| {
                        model.responses.insert(r.id, r);
                        Ok(())
                    })?;
                }
                // The responses a merge adds afresh are set aside like those finalized
                // here (a merged store's journal is mostly `Merged` lines, and holding
                // each of their responses would hold the whole store): a finalized
                // original that no other line names (so never needed in the model
                // again), new to the model and in no conflict, is exactly its record
                // on this line, read back from it when written.
                let fresh: Vec<Uuid> = match &other {
                    JournalEntry::Merged { records, .. } => records
                        .iter()
                        .filter_map(|r| match r {
                            crate::batch::Record::Response(r)
                                if r.status.is_final()
                                    && r.replaces.is_none()
                                    && once.contains(&r.id)
                                    && !model.responses.contains_key(&r.id) =>
                            {
                                Some(r.id)
                            }
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                spill.load(model, &other)?;
                doors.load(model, &other)?;
                match (other, records) {
                    (JournalEntry::Merged { batch, records }, Some((first, counts))) => {
                        model.apply_merged_records(&batch, records, first, counts);
                    }
                    (other, _) => model.apply(other),
                }
                // Before the sources: their write-out forgets which doors changed.
                doors.write_out(model)?;
                spill.write_out(model)?;
                for id in fresh {
                    let set_aside = !model.merge.conflicts.contains_key(&id)
                        && model
                            .responses
                            .get(&id)
                            .is_some_and(|r| r.status.is_final() && r.replaces.is_none());
                    if set_aside {
                        model.responses.remove(&id);
                        finals.insert(id, line);
                    }
                }
            }
        }
        kept.write_out(model)
    }

    /// Writes out what the model holds that the spills keep (after a merged batch is
    /// recorded, as after each entry).
    fn written_out(&mut self) -> Result<(), StoreError> {
        self.doors.write_out(&mut self.model)?;
        self.spill.write_out(&mut self.model)?;
        self.kept.write_out(&mut self.model)
    }
}

impl Journaled {
    /// Reads the journal (`once`: what [`named_once`] found in it; `corrupt`: the lines
    /// it found unreadable, skipped here too), a merged batch's records `slice` at a
    /// time. Where merged responses and knocks came from goes to `spill` as each slice is
    /// applied (see [`SourceSpill`]).
    fn read(
        path: &Path,
        (once, corrupt): (&HashSet<Uuid>, &HashSet<usize>),
        slice: usize,
        spill: &SourceSpill,
        doors: DoorSpill,
        kept: ResponseSpill,
    ) -> Result<Journaled, StoreError> {
        let mut replay = Replay {
            model: Model::default(),
            finals: HashMap::new(),
            path,
            once,
            slice,
            spill,
            doors,
            kept,
        };
        let mut reader = RecordsReader::new(path, slice);
        each_journal_item(path, |line, item| match item {
            Item::Entry(entry) => replay.entry(line, entry, None),
            Item::Merged(_) if corrupt.contains(&line) => Ok(()),
            Item::Merged(merged) => {
                // Each slice as a line of its own would be (what a slice reads of
                // earlier ones is read back as from earlier lines); the batch is
                // recorded after the last.
                let mut counts = super::merge::MergeCounts::default();
                reader.each_slice(&merged, |first, records| {
                    let entry = JournalEntry::Merged {
                        batch: merged.batch.clone(),
                        records,
                    };
                    replay.entry(line, entry, Some((first, &mut counts)))
                })?;
                replay.model.finish_merged(merged.batch, counts);
                replay.written_out()
            }
        })?;
        let Replay {
            model,
            finals,
            doors,
            kept,
            ..
        } = replay;
        Ok(Journaled {
            model,
            finals,
            path: path.to_path_buf(),
            slice,
            doors: Some(doors),
            kept: Some(kept),
        })
    }

    /// Calls `each` with every door the journal makes, in key order.
    fn each_door(
        &self,
        each: impl FnMut(&[u8], crate::response::DoorRecord) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        match &self.doors {
            Some(doors) => doors.each(each),
            None => Ok(()),
        }
    }

    /// Lets go of the model and drops the scratch trees of doors and responses from `db`.
    fn finish(mut self, db: &sled::Db) -> Result<(), StoreError> {
        if let Some(doors) = self.doors.take() {
            doors.finish(db)?;
        }
        if let Some(kept) = self.kept.take() {
            kept.finish(db)?;
        }
        Ok(())
    }

    /// Whether the journal has the response at all.
    fn knows(&self, id: Uuid) -> bool {
        self.finals.contains_key(&id)
            || self.model.responses.contains_key(&id)
            || self.kept.as_ref().is_some_and(|k| k.held.contains_key(&id))
    }

    /// Calls `each` with every response the journal makes: those of the model, those
    /// kept out of it, then those set aside as finalized (see [`Journaled::each_final`]).
    fn each_response(
        &self,
        mut each: impl FnMut(&Response) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for r in self.model.responses.values() {
            each(r)?;
        }
        if let Some(kept) = &self.kept {
            kept.each(&mut each)?;
        }
        self.each_final(|r| each(&r))
    }

    /// Calls `each` with every finalized response, one at a time, in journal order.
    fn each_final(
        &self,
        each: impl FnMut(Response) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        if self.finals.is_empty() {
            return Ok(());
        }
        finals_at(&self.path, &self.finals, self.slice, each)
    }
}

/// A scratch tree of a healthy store that recover puts the replay's sources in (dropped
/// when done; one left by an interrupted recover is emptied by the next, and never
/// salvaged).
const SPILL_TREE: &str = "recover-sources";

/// Where merged responses, knocks and doors came from (`from` records of the merge tree),
/// written out as each journal line is applied rather than held for the whole replay:
/// they are one per merged response, knock and door, and most are never read again.
/// Before a line is applied, the few it reads are read back, as a merge into a store
/// loads them: the response ids, knocks and doors it names, the revision its revisions
/// would conflict with, and for a door correction or removal those of every door of its
/// area (its knocks may be at any of them by now). Sources of door changes and actions
/// stay in memory: there are few of them. (Door sources stayed in memory too until a
/// simulation with a door log of some 500,000 doors, where they were about 250 MB of a
/// 1,000,000-response recover's peak.)
struct SourceSpill {
    tree: sled::Tree,
    /// The store's own `merge` tree: the spill is already where its records belong.
    in_place: bool,
}

impl SourceSpill {
    /// Into the `merge` tree of a new, empty store.
    fn into(store: &Store) -> Result<SourceSpill, StoreError> {
        Ok(SourceSpill {
            tree: store.tree(super::merge::MERGE)?,
            in_place: true,
        })
    }

    /// Into a scratch tree of a store that already has its own records of sources.
    fn aside(db: &sled::Db) -> Result<SourceSpill, StoreError> {
        let tree = db.open_tree(SPILL_TREE)?;
        tree.clear()?;
        Ok(SourceSpill {
            tree,
            in_place: false,
        })
    }

    fn spilled(key: &[u8]) -> bool {
        key.starts_with(b"response:") || key.starts_with(b"knock:") || key.starts_with(b"door:")
    }

    /// Reads back the sources applying `entry` to `model` reads or adds to.
    fn load(&self, model: &mut Model, entry: &JournalEntry) -> Result<(), StoreError> {
        use super::doors::{area_prefix, door_key};
        use super::merge::{door_record_key, knock_key, response_key};
        use crate::batch::Record;
        let revised = |model: &Model, r: &Response| {
            r.replaces
                .and_then(|original| model.merge.revised.get(&original))
                .map(|other| response_key(*other))
        };
        let mut keys = Vec::new();
        let mut areas = Vec::new();
        match entry {
            JournalEntry::Merged { records, .. } => {
                for record in records {
                    match record {
                        Record::Response(r) => {
                            keys.push(response_key(r.id));
                            keys.extend(revised(model, r));
                        }
                        Record::Knock(k) => {
                            keys.push(knock_key(k.knock.identity(&k.area, &k.door)));
                        }
                        Record::DoorEdit(e) => {
                            keys.extend(e.knocks.iter().map(|id| knock_key(*id)));
                            areas.push(e.area.as_str());
                        }
                        Record::DoorRemove(r) => {
                            keys.extend(r.knocks.iter().map(|id| knock_key(*id)));
                            areas.push(r.area.as_str());
                        }
                        Record::Door(d) => {
                            keys.extend(
                                door_key(&d.area, &d.door).ok().map(|k| door_record_key(&k)),
                            );
                        }
                        Record::Setting(_) | Record::Action(_) => {}
                    }
                }
            }
            // A revision finalized here may start a conflict of revisions.
            JournalEntry::Response(r) => keys.extend(revised(model, r)),
            _ => {}
        }
        // Unless the model holds them already (changed since they were written out).
        let take_in = |model: &mut Model, key: Vec<u8>, bytes: &[u8]| {
            if let std::collections::btree_map::Entry::Vacant(held) = model.merge.sources.entry(key)
            {
                let sources = decode(
                    || format!("merge record from:{}", String::from_utf8_lossy(held.key())),
                    bytes,
                )?;
                held.insert(sources);
            }
            Ok::<_, StoreError>(())
        };
        for key in keys {
            if model.merge.sources.contains_key(&key) {
                continue;
            }
            if let Some(bytes) = self.tree.get(from_key(&key))? {
                take_in(model, key, &bytes)?;
            }
        }
        for area in areas {
            let Ok(prefix) = area_prefix(area) else {
                continue;
            };
            for entry in self.tree.scan_prefix(from_key(&door_record_key(&prefix))) {
                let (stored, bytes) = entry?;
                take_in(
                    model,
                    stored[super::merge::FROM_PREFIX.len()..].to_vec(),
                    &bytes,
                )?;
            }
        }
        Ok(())
    }

    /// Writes out the sources of responses and knocks `model` holds (those the last line
    /// changed) and lets go of them, and of what the model notes as changed for a store
    /// being replayed onto (recover writes every record it holds).
    fn write_out(&self, model: &mut Model) -> Result<(), StoreError> {
        let changed = std::mem::take(&mut model.merge.changed);
        let sources = &model.merge.sources;
        write_sliced(
            &self.tree,
            changed.into_iter().filter_map(|key| match key {
                super::merge::MergeKey::From(key) if Self::spilled(&key) => sources
                    .get(&key)
                    .map(|s| encode(s).map(|value| (from_key(&key), Some(value)))),
                _ => None,
            }),
            WRITE_SLICE,
        )?;
        model.merge.sources.retain(|key, _| !Self::spilled(key));
        model.changed_responses.clear();
        model.changed_doors.clear();
        model.changed_actions.clear();
        Ok(())
    }

    /// Puts what was set aside in the store's `merge` tree, and drops the scratch tree.
    fn finish(self, store: &Store) -> Result<(), StoreError> {
        if self.in_place {
            return Ok(());
        }
        let merge = store.tree(super::merge::MERGE)?;
        let mut batch = sled::Batch::default();
        let mut held = 0usize;
        for entry in self.tree.iter() {
            let (key, value) = entry?;
            // Almost always what the store holds already: a read is cheaper than a write.
            if merge.get(&key)?.as_ref() == Some(&value) {
                continue;
            }
            batch.insert(key, value);
            held += 1;
            if held == 1024 {
                merge.apply_batch(std::mem::take(&mut batch))?;
                held = 0;
            }
        }
        merge.apply_batch(batch)?;
        drop(self.tree);
        drop_scratch(&store.db, SPILL_TREE)
    }
}

/// How many keys of a scratch tree [`drop_scratch`] removes at a time.
const SCRATCH_SLICE: usize = 256;

/// Drops a scratch tree, emptied a slice at a time first: sled's `drop_tree` frees every
/// page of the tree under one epoch guard, so it holds them all until it returns (a spike
/// of some 900 MB dropping the sources of a 1,000,000-response store).
pub(super) fn drop_scratch(db: &sled::Db, name: &str) -> Result<(), StoreError> {
    let tree = db.open_tree(name)?;
    // A few hundred removals at a time: the scratch trees hold whole responses and doors,
    // in leaves of up to some hundred KB, and sled keeps every leaf an `apply_batch`
    // reads or replaces until it returns (10,000 removals at a time made the peak of a
    // 1,000,000-response recover, 380 MB above the rest of it).
    super::tallies::remove_prefix_in(&tree, b"", SCRATCH_SLICE)?;
    drop(tree);
    db.drop_tree(name)?;
    Ok(())
}

/// The scratch tree recover keeps the doors in while it replays the journal (dropped when
/// done; one left by an interrupted recover is emptied by the next, and never salvaged).
const DOORS_TREE: &str = "recover-doors";

/// The doors and every knock at them as the journal makes them, written out after each
/// journal line rather than held for the whole replay: a door record holds every knock at
/// it, and these were most of what recover held that grew with the store. Before a line is
/// applied, the doors it reads or changes are read back, as a replay onto a store reads
/// them: the doors its doors and knocks name, and for a merged batch those
/// [`Model::doors_of_records`] names (as a merge into a store loads them).
struct DoorSpill {
    tree: sled::Tree,
}

impl DoorSpill {
    fn open(db: &sled::Db) -> Result<DoorSpill, StoreError> {
        let tree = db.open_tree(DOORS_TREE)?;
        tree.clear()?;
        Ok(DoorSpill { tree })
    }

    fn load(&self, model: &mut Model, entry: &JournalEntry) -> Result<(), StoreError> {
        use super::doors::{area_prefix, door_key};
        let mut keys = Vec::new();
        let mut areas = Vec::new();
        let mut name = |area: &str, door: &crate::response::Door| {
            keys.extend(door_key(area, door).ok());
        };
        match entry {
            JournalEntry::Door { area, door } | JournalEntry::Knock { area, door, .. } => {
                name(area, door)
            }
            JournalEntry::DoorEdited { area, from, to, .. } => {
                name(area, from);
                name(area, to);
            }
            JournalEntry::DoorRemoved { area, door, .. } => name(area, door),
            JournalEntry::Merged { records, .. } => {
                model.doors_of_records(records, &mut keys, &mut areas)
            }
            _ => {}
        }
        let held = |model: &Model, key: &[u8]| {
            model.doors.contains_key(key) || model.removed_doors.contains(key)
        };
        for area in areas {
            if area.trim().is_empty() || !model.areas_loaded.insert(area.trim().to_lowercase()) {
                continue;
            }
            let Ok(prefix) = area_prefix(&area) else {
                continue;
            };
            for entry in self.tree.scan_prefix(&prefix) {
                let (key, value) = entry?;
                if !held(model, &key) {
                    let record = decode(|| super::doors::door_key_name(&key), &value)?;
                    model.doors.insert(key.to_vec(), record);
                }
            }
        }
        for key in keys {
            if held(model, &key) {
                continue;
            }
            if let Some(value) = self.tree.get(&key)? {
                let record = decode(|| super::doors::door_key_name(&key), &value)?;
                model.doors.insert(key, record);
            }
        }
        Ok(())
    }

    /// Writes out the doors the last line changed or took out, and lets go of every door
    /// the model holds.
    fn write_out(&self, model: &mut Model) -> Result<(), StoreError> {
        // Kept for the whole replay (they are few): a healthy store still holding one has
        // it taken out at the end.
        let removed: Vec<Vec<u8>> = model
            .removed_doors
            .iter()
            .filter(|key| !model.doors.contains_key(*key))
            .cloned()
            .collect();
        write_sliced(
            &self.tree,
            removed.into_iter().map(|key| Ok((key, None))),
            WRITE_SLICE,
        )?;
        // Each door let go as it is encoded, so the line's doors are not held decoded and
        // encoded at once.
        let doors = &mut model.doors;
        let changed = model.changed_doors.iter().filter_map(|key| {
            doors
                .remove(key)
                .map(|door| encode(&door).map(|value| (key.clone(), Some(value))))
        });
        write_sliced(&self.tree, changed, WRITE_SLICE)?;
        model.doors.clear();
        model.areas_loaded.clear();
        // What a merge into a store tells its index of what is not yet exported: nothing
        // here reads it, and held for the whole replay it grew with every knock merged.
        model.knock_ids_added.clear();
        model.knocks_loaded.clear();
        Ok(())
    }

    fn each(
        &self,
        mut each: impl FnMut(&[u8], crate::response::DoorRecord) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for entry in self.tree.iter() {
            let (key, value) = entry?;
            each(&key, decode(|| super::doors::door_key_name(&key), &value)?)?;
        }
        Ok(())
    }

    fn finish(self, db: &sled::Db) -> Result<(), StoreError> {
        drop(self.tree);
        drop_scratch(db, DOORS_TREE)
    }
}

/// The scratch tree recover keeps finalized responses in while it replays the journal
/// (dropped when done; one left by an interrupted recover is emptied by the next, and
/// never salvaged).
const RESPONSES_TREE: &str = "recover-responses";

/// The finalized responses a later line may read again — revisions, the responses they
/// revise, those merged more than once, conflicts' active versions — which could not be
/// set aside to be read back from their journal line ([`named_once`]). Written out after
/// each journal line rather than held for the whole replay: at 1,000,000 responses some
/// 25,000 of them, the largest part of what recover held that grew with the store.
///
/// Before a line is applied, each response it names is read back with its whole family
/// of revisions (what it revises, up to the first response, and every revision of those,
/// at any depth): a superset of what applying the line reads (a revision is checked
/// against the other revisions of its response, a conflict of revisions takes sides out
/// of the responses). Drafts stay in the model (few, and changed by other entries).
struct ResponseSpill {
    tree: sled::Tree,
    /// Each response in the tree, and the response it revises.
    held: HashMap<Uuid, Option<Uuid>>,
    /// The revisions of each response, of those in the tree.
    revisions: HashMap<Uuid, Vec<Uuid>>,
    /// The responses set aside before the line being applied (an id there may be live
    /// again, so only those the line adds are taken out of the tree).
    removed_before: BTreeSet<Uuid>,
}

impl ResponseSpill {
    fn open(db: &sled::Db) -> Result<ResponseSpill, StoreError> {
        let tree = db.open_tree(RESPONSES_TREE)?;
        super::tallies::remove_prefix(&tree, b"")?;
        Ok(ResponseSpill {
            tree,
            held: HashMap::new(),
            revisions: HashMap::new(),
            removed_before: Default::default(),
        })
    }

    /// Reads back the responses `entry` names, with their families of revisions.
    fn load(&mut self, model: &mut Model, entry: &JournalEntry) -> Result<(), StoreError> {
        self.removed_before.clone_from(&model.removed_responses);
        if self.held.is_empty() {
            return Ok(());
        }
        let mut named: Vec<Uuid> = Vec::new();
        let mut name = |r: &Response| named.extend(std::iter::once(r.id).chain(r.replaces));
        match entry {
            JournalEntry::Merged { records, .. } => {
                for record in records {
                    if let crate::batch::Record::Response(r) = record {
                        name(r);
                    }
                }
            }
            JournalEntry::Response(r) | JournalEntry::Draft(r) => name(r),
            JournalEntry::Resolved { id, .. } => named.push(*id),
            _ => {}
        }
        let mut seen: HashSet<Uuid> = HashSet::new();
        while let Some(id) = named.pop() {
            if !seen.insert(id) {
                continue;
            }
            let up = match self.held.get(&id) {
                Some(up) => *up,
                None => model.responses.get(&id).and_then(|r| r.replaces),
            };
            named.extend(up);
            if let Some(down) = self.revisions.get(&id) {
                named.extend(down.iter().copied());
            }
        }
        for id in seen {
            if model.responses.contains_key(&id) || !self.held.contains_key(&id) {
                continue;
            }
            if let Some(bytes) = self.tree.get(id.as_bytes())? {
                let r: Response = decode(|| format!("kept response {id}"), &bytes)?;
                model.responses.insert(id, r);
            }
        }
        Ok(())
    }

    /// Writes out the finalized responses the model holds (read back or changed by the
    /// last line) and lets go of them; takes out of the tree those the line set aside (a
    /// conflict of revisions takes the losing side out of the responses). Called after
    /// [`ResponseSpill::load`] for the same line.
    fn write_out(&mut self, model: &mut Model) -> Result<(), StoreError> {
        let gone: Vec<Uuid> = model
            .removed_responses
            .difference(&self.removed_before)
            .filter(|id| self.held.contains_key(id) && !model.responses.contains_key(id))
            .copied()
            .collect();
        for id in &gone {
            self.tree.remove(id.as_bytes())?;
            if let Some(Some(up)) = self.held.remove(id)
                && let Some(down) = self.revisions.get_mut(&up)
            {
                down.retain(|d| d != id);
            }
        }
        let finals: Vec<Uuid> = model
            .responses
            .iter()
            .filter(|(_, r)| r.status.is_final())
            .map(|(id, _)| *id)
            .collect();
        if finals.is_empty() {
            return Ok(());
        }
        let (held, revisions, responses) =
            (&mut self.held, &mut self.revisions, &mut model.responses);
        // Each response let go as it is encoded.
        let out = finals.into_iter().filter_map(|id| {
            let r = responses.remove(&id)?;
            if held.insert(id, r.replaces).is_none()
                && let Some(up) = r.replaces
            {
                revisions.entry(up).or_default().push(id);
            }
            Some(encode(&r).map(|value| (id.as_bytes().to_vec(), Some(value))))
        });
        write_sliced(&self.tree, out, WRITE_SLICE)
    }

    fn each(
        &self,
        each: &mut impl FnMut(&Response) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for entry in self.tree.iter() {
            let (key, value) = entry?;
            let r: Response = decode(
                || format!("kept response {}", String::from_utf8_lossy(&key)),
                &value,
            )?;
            each(&r)?;
        }
        Ok(())
    }

    fn finish(self, db: &sled::Db) -> Result<(), StoreError> {
        drop(self.tree);
        drop_scratch(db, RESPONSES_TREE)
    }
}

/// The key of the `from` record of merge record `key`.
fn from_key(key: &[u8]) -> Vec<u8> {
    let mut k = super::merge::FROM_PREFIX.to_vec();
    k.extend_from_slice(key);
    k
}

/// The responses named on one line of the journal only, by one record: those a `Merged`
/// line carries that no other record (a response line, another batch's record, a
/// revision's `replaces`, a resolution) names. Only these can be set aside when merged:
/// bringing one back for a later line would read the journal again. Also returns how far
/// the journal goes (lines, bytes, corrupt lines) and how many entries were good. Every
/// record of a merged batch is decoded here, `slice` at a time: a line with one that
/// does not decode is corrupt, as if the line did not (the replay skips it).
fn named_once(
    path: &Path,
    slice: usize,
) -> Result<(HashSet<Uuid>, JournalContents, usize), StoreError> {
    let mut entries = 0usize;
    // 1 = named once, by a merged record; 2 = named more than once or otherwise.
    let mut names: HashMap<Uuid, u8> = HashMap::new();
    let mut name = |id: Uuid, merged: bool| {
        names
            .entry(id)
            .and_modify(|n| *n = 2)
            .or_insert(if merged { 1 } else { 2 });
    };
    let mut unreadable: Vec<CorruptLine> = Vec::new();
    let mut reader = RecordsReader::new(path, slice);
    let mut contents = each_journal_item(path, |line, item| {
        match item {
            Item::Merged(merged) => {
                let mut named = Vec::new();
                let read = reader.each_slice(&merged, |_, records| {
                    named.extend(records.into_iter().filter_map(|r| match r {
                        crate::batch::Record::Response(r) => Some((r.id, r.replaces)),
                        _ => None,
                    }));
                    Ok(())
                });
                match read {
                    Ok(()) => {}
                    Err(StoreError::Corrupt { key, message }) => {
                        unreadable.push(CorruptLine {
                            line,
                            reason: format!("{key} is not readable: {message}"),
                        });
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                }
                entries += 1;
                for (id, replaces) in named {
                    name(id, true);
                    if let Some(original) = replaces {
                        name(original, false);
                    }
                }
            }
            Item::Entry(entry) => {
                entries += 1;
                match entry {
                    JournalEntry::Response(r) | JournalEntry::Draft(r) => name(r.id, false),
                    JournalEntry::Resolved { id, .. } => name(id, false),
                    _ => {}
                }
            }
        }
        Ok(())
    })?;
    contents.corrupt.extend(unreadable);
    contents.corrupt.sort_by_key(|c| c.line);
    let once = names
        .into_iter()
        .filter(|(_, n)| *n == 1)
        .map(|(id, _)| id)
        .collect();
    Ok((once, contents, entries))
}

/// Calls `each` with every response `wanted` says was finalized (or merged afresh) on a
/// given line, in journal order: from a `Response` line, or from the records of a `Merged`
/// line (read back `slice` at a time; a line no wanted response is on is not read).
fn finals_at(
    path: &Path,
    wanted: &HashMap<Uuid, usize>,
    slice: usize,
    mut each: impl FnMut(Response) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let lines: HashSet<usize> = wanted.values().copied().collect();
    let mut reader = RecordsReader::new(path, slice);
    each_journal_item(path, |line, item| match item {
        Item::Entry(JournalEntry::Response(r)) if wanted.get(&r.id) == Some(&line) => each(r),
        Item::Merged(merged) if lines.contains(&line) => {
            reader.each_slice(&merged, |_, records| {
                for record in records {
                    if let crate::batch::Record::Response(r) = record
                        && wanted.get(&r.id) == Some(&line)
                    {
                        each(r)?;
                    }
                }
                Ok(())
            })
        }
        _ => Ok(()),
    })?;
    Ok(())
}

/// The recovery proper; the caller holds the lock and the in-progress mark.
fn run(
    data_dir: &Path,
    env: &Env,
    journal: &Path,
    named: (&HashSet<Uuid>, &HashSet<usize>),
    slice: usize,
    mark: JournalMark,
    report: &mut RecoveryReport,
) -> Result<JournalMark, StoreError> {
    let db_path = data_dir.join(STORE_DIR);
    let rebuilding = data_dir.join(REBUILDING_DIR);
    if rebuilding.exists() {
        // Left by an interrupted recover: it is rebuilt from scratch.
        std::fs::remove_dir_all(&rebuilding).map_err(|e| StoreError::io(&rebuilding, e))?;
    }
    let (old, damage) = if db_path.exists() {
        remove_snapshot_leftovers(&db_path)?;
        // The counts are rebuilt below: home must not show those of before.
        super::home_file::forget(&db_path)?;
        match open_db(&db_path, super::Access::ReadWrite) {
            Ok(db) => match read_through(&db) {
                Ok(()) => (Some(db), None),
                Err(e) if e.is_damage() => (Some(db), Some(open_message(e))),
                Err(e) => return Err(e),
            },
            Err(e) if e.is_damage() => (None, Some(open_message(e))),
            Err(e) => return Err(e),
        }
    } else {
        report.store = StoreState::Missing;
        (None, None)
    };

    if let (Some(db), None) = (&old, &damage) {
        let mut store = Store::assemble(db.clone(), data_dir, env.clone(), None)?;
        // The store's own records of sources hold every batch's: the replay's go aside.
        let spill = SourceSpill::aside(db)?;
        let model = Journaled::read(
            journal,
            named,
            slice,
            &spill,
            DoorSpill::open(db)?,
            ResponseSpill::open(db)?,
        )?;
        // What opening does: replay what the store missed, rebuild a missing or short
        // journal from the store.
        store.reconcile()?;
        report.notes.extend(store.notices().iter().cloned());
        merge_in_place(&store, &model, report)?;
        spill.finish(&store)?;
        // Held no longer than needed: the rebuilds below read the whole store.
        model.finish(db)?;
        // Derived counts are counted afresh: whatever the store went through, they match it.
        // The report's kept counts are dropped (the next merge counts them again): the
        // journal's mark is the same after this, the records it describes may not be.
        store.rebuild_tallies()?;
        drop_scratch(db, super::kept_counts::REPORT_COUNTS)?;
        store.record_revisions()?;
        let now = store.journal_guard().mark;
        store.put_mark(now)?;
        store.flush()?;
        return Ok(now);
    }

    // Build the new store aside; the old one stays where it is until this has worked.
    {
        let new_db = open_db(&rebuilding, super::Access::ReadWrite)?;
        let store = Store::assemble(new_db, data_dir, env.clone(), None)?;
        // A new store: the replay's records of sources are written where they belong.
        let spill = SourceSpill::into(&store)?;
        let model = Journaled::read(
            journal,
            named,
            slice,
            &spill,
            DoorSpill::open(&store.db)?,
            ResponseSpill::open(&store.db)?,
        )?;
        write_model(&store, &model, report)?;
        if let Some(old) = &old {
            salvage(old, &store, &model, report)?;
        } else if db_path.exists() {
            report.imported_lost = damage.clone();
        }
        model.finish(&store.db)?;
        store.rebuild_tallies()?;
        store.record_revisions()?;
        store.put_mark(mark)?;
        store.flush()?;
    }
    drop(old);
    if db_path.exists() {
        let moved_to = aside_path(data_dir, env);
        std::fs::rename(&db_path, &moved_to).map_err(|e| StoreError::io(&db_path, e))?;
        report.store = StoreState::Damaged {
            error: damage.unwrap_or_default(),
            moved_to,
        };
    }
    std::fs::rename(&rebuilding, &db_path).map_err(|e| StoreError::io(&rebuilding, e))?;
    sync_dir(data_dir)?;
    Ok(mark)
}

fn open_message(e: StoreError) -> String {
    match e {
        StoreError::Open { message, .. } | StoreError::Damaged { message } => message,
        other => other.to_string(),
    }
}

/// Reads every record of every tree, forwards and backwards, so damage sled notices only
/// on reading is found before the store is trusted. The two directions find a leaf by
/// different paths (forwards from its neighbour, backwards from the index above it): a
/// link lost to damage that sled cannot see drops records from one and not the other.
fn read_through(db: &sled::Db) -> Result<(), StoreError> {
    for name in db.tree_names() {
        let tree = db.open_tree(&name)?;
        let mut forward = 0usize;
        for entry in tree.iter() {
            entry?;
            forward += 1;
        }
        let mut backward = 0usize;
        for entry in tree.iter().rev() {
            entry?;
            backward += 1;
        }
        if forward != backward {
            return Err(StoreError::Damaged {
                message: format!(
                    "its tree {} reads {forward} records forwards and {backward} backwards",
                    String::from_utf8_lossy(&name)
                ),
            });
        }
    }
    Ok(())
}

/// Writes back what the journal has that a readable store lacks, cannot decode, or holds
/// an older state of.
fn merge_in_place(
    store: &Store,
    journaled: &Journaled,
    report: &mut RecoveryReport,
) -> Result<(), StoreError> {
    let tree = store.tree(RESPONSES)?;
    let merge = |journaled: &Response| -> Result<(), StoreError> {
        let id = journaled.id;
        let current = tree
            .get(id.as_bytes())?
            .and_then(|b| decode::<Response>(|| id.to_string(), &b).ok());
        let keep_current = current.is_some_and(|c| {
            &c == journaled || c.status.is_final() || c.changed_at > journaled.changed_at
        });
        if keep_current {
            report.already_present += 1;
        } else {
            *report.restored.entry(journaled.status).or_default() += 1;
            store.put_response(journaled)?;
        }
        Ok(())
    };
    journaled.each_response(merge)?;
    let model = &journaled.model;

    // A correction or removal journaled just before a crash may not have reached the store.
    for key in &model.removed_doors {
        if store.door_record(key).ok().flatten().is_some() {
            store.tree(super::doors::DOORS)?.remove(key)?;
        }
    }
    journaled.each_door(|key, door| {
        // An unreadable stored door is replaced by the journal's.
        let current = store.door_record(key).ok().flatten();
        let mut changed = current.is_none();
        let mut merged = match current {
            Some(c) => c,
            None => {
                report.doors_restored += 1;
                crate::response::DoorRecord::new(&door.area, door.door.clone())
            }
        };
        // A correction of spelling only keeps the key; the journal's spelling is the latest.
        if merged.door != door.door {
            merged.door = door.door.clone();
            changed = true;
        }
        // A set, not a scan of the stored knocks per journaled knock: a busy door has
        // hundreds.
        let mut stored: std::collections::HashSet<crate::response::Knock> =
            merged.knocks.iter().cloned().collect();
        for knock in door.knocks {
            if stored.insert(knock.clone()) {
                merged.add_knock(knock);
                report.knocks_restored += 1;
                changed = true;
            }
        }
        if changed {
            store.put_door(key, &merged)?;
        }
        Ok(())
    })?;

    let current = store.settings().unwrap_or_default();
    for (key, value) in &model.settings {
        if current.get(*key) != Some(value.as_str()) {
            store.put_setting(*key, value)?;
            report.settings_restored += 1;
        }
    }
    for (id, journaled) in &model.actions {
        // Changes only ever add to the history: a stored action with less is behind.
        let behind = store
            .action(*id)
            .map_or(true, |a| a.history.len() < journaled.history.len());
        if behind {
            store.put_action(journaled)?;
            report.actions_restored += 1;
        }
    }
    // The journal's own record of each door correction and removal, for the exports.
    for change in model.door_changes.values() {
        store.put_door_change(Some(change))?;
    }
    // A pin the store lacks or cannot read (one the store has was written after its
    // journal line, or since by a release that did not journal pins).
    for pin in model.pins.values() {
        if store.device_pin(&pin.device).ok().flatten().is_none() {
            store.write_device_pin(pin)?;
            report.pins_restored += 1;
        }
    }
    write_merge_records(store, model)
}

/// Writes everything the journal holds into a new, empty store.
fn write_model(
    store: &Store,
    journaled: &Journaled,
    report: &mut RecoveryReport,
) -> Result<(), StoreError> {
    let mut put = |r: &Response| -> Result<(), StoreError> {
        store.put_response(r)?;
        *report.restored.entry(r.status).or_default() += 1;
        Ok(())
    };
    journaled.each_response(&mut put)?;
    let model = &journaled.model;
    journaled.each_door(|key, door| {
        store.put_door(key, &door)?;
        report.doors_restored += 1;
        report.knocks_restored += door.knocks.len();
        Ok(())
    })?;
    for (key, value) in &model.settings {
        store.put_setting(*key, value)?;
        report.settings_restored += 1;
    }
    for a in model.actions.values() {
        store.put_action(a)?;
        report.actions_restored += 1;
    }
    for change in model.door_changes.values() {
        store.put_door_change(Some(change))?;
    }
    for pin in model.pins.values() {
        store.write_device_pin(pin)?;
        report.pins_restored += 1;
    }
    write_merge_records(store, model)
}

/// Writes every merge record (merged batches, conflicts and their resolutions, where
/// records came from) the journal holds; they are the journal's to say.
fn write_merge_records(store: &Store, model: &Model) -> Result<(), StoreError> {
    let tree = store.tree(super::merge::MERGE)?;
    for key in model.merge.all_keys() {
        // A healthy store holds most of them already: a read is cheaper than a write.
        if let Some((k, v)) = model.merge.write_for(&key)?
            && tree.get(&k)?.as_deref() != Some(&v[..])
        {
            tree.insert(k, v)?;
        }
    }
    Ok(())
}

/// Copies from the old store what the journal cannot give back: drafts it never saw
/// (started before drafts were journaled) and every tree that is not journaled. Reading
/// stops at the first damaged record of a tree; what was read is kept.
fn salvage(
    old: &sled::Db,
    store: &Store,
    journaled: &Journaled,
    report: &mut RecoveryReport,
) -> Result<(), StoreError> {
    if let Ok(tree) = old.open_tree(RESPONSES) {
        for entry in tree.iter() {
            let Ok((_, value)) = entry else { break };
            let Ok(r) = decode::<Response>(String::new, &value) else {
                continue;
            };
            if r.status == Status::Draft && !journaled.knows(r.id) {
                store.put_response(&r)?;
                report.drafts_salvaged += 1;
            }
        }
    }
    let mut lost = Vec::new();
    let names: Vec<String> = old
        .tree_names()
        .iter()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .filter(|n| {
            !JOURNALED_TREES.contains(&n.as_str())
                && n != SPILL_TREE
                // Derived, and right only for the store they were counted from.
                && n != super::kept_counts::REPORT_COUNTS
                && n != DOORS_TREE
                && n != RESPONSES_TREE
                && !n.starts_with("__sled__")
        })
        .collect();
    for name in &names {
        let name = name.as_str();
        let from = match old.open_tree(name) {
            Ok(t) => t,
            Err(e) => {
                lost.push(format!("{name}: {e}"));
                continue;
            }
        };
        let to = store.tree(name)?;
        for entry in from.iter() {
            match entry {
                // Derived: counted afresh by the rebuild of the tallies.
                Ok((k, _)) if k.as_ref() == super::batches::EXPORTED_RESPONSES => {}
                // The journal's pin is the one its line set (the old store's is kept for
                // a device pinned before pins were journaled).
                Ok((k, _))
                    if name == super::batches::DEVICE_PINS
                        && journaled
                            .model
                            .pins
                            .contains_key(String::from_utf8_lossy(&k).as_ref()) => {}
                Ok((k, v)) => {
                    to.insert(k, v)?;
                    report.imported_salvaged += 1;
                }
                Err(e) => {
                    lost.push(format!("{name}: {e}"));
                    break;
                }
            }
        }
    }
    if !lost.is_empty() {
        report.imported_lost = Some(lost.join("; "));
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(dir, e))
}

/// Every `store.damaged-*` folder in the data directory.
fn damaged_stores(data_dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(data_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("{STORE_DIR}.damaged-"))
        })
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// `store.damaged-20261005T101500Z`, with a counter if that exists already.
fn aside_path(data_dir: &Path, env: &Env) -> PathBuf {
    super::aside_name(&data_dir.join(STORE_DIR), "damaged", env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{Counts, DeviceKey};
    use crate::store::batches::{DevicePin, ExportedBatch, PinSource, RecordKey};

    fn empty_report() -> RecoveryReport {
        RecoveryReport {
            store: StoreState::Missing,
            journal: PathBuf::from("journal.jsonl"),
            lines: 0,
            entries: 0,
            corrupt: Vec::new(),
            restored: BTreeMap::new(),
            already_present: 0,
            doors_restored: 0,
            knocks_restored: 0,
            settings_restored: 0,
            actions_restored: 0,
            pins_restored: 0,
            drafts_salvaged: 0,
            imported_salvaged: 0,
            imported_lost: None,
            resumed: false,
            kept_aside: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A store in `dir` given a first-use pin, a trusted one and a revoked one, as `batch
    /// merge` and `devices trust|revoke` set them; and those pins.
    fn store_with_three_pins(dir: &Path, env: &Env) -> (Store, Vec<DevicePin>) {
        let pin = |device: &str, source, revoked_at| DevicePin {
            device: device.into(),
            key: DeviceKey::generate().unwrap().public(),
            since: env.now(),
            source,
            revoked_at,
        };
        let pins = vec![
            pin("laptop-1", PinSource::FirstUse, None),
            pin("laptop-2", PinSource::Trusted, None),
            pin("laptop-3", PinSource::FirstUse, Some(env.now())),
        ];
        let store = Store::open_with(dir, env.clone()).unwrap();
        for pin in &pins {
            store.put_device_pin(pin).unwrap();
        }
        (store, pins)
    }

    /// Device pins are journaled: a coordinator's store rebuilt from the journal alone
    /// still refuses a batch signed with another key for a device it knows, and a revoked
    /// key stays revoked; a pin whose store write was lost comes back at the next open;
    /// a journal rebuilt from the store carries them on.
    #[test]
    fn device_pins_survive_the_loss_of_the_store_or_of_the_journal() {
        let (env, _) = Env::manual(chrono::Utc::now());
        let dir = tempfile::tempdir().unwrap();
        let (store, pins) = store_with_three_pins(dir.path(), &env);
        // laptop-3 was first pinned, then revoked: the last line counts.
        let mut first = pins[2].clone();
        first.revoked_at = None;
        store.put_device_pin(&first).unwrap();
        store.put_device_pin(&pins[2]).unwrap();
        // The store loses a pin and its mark: the journal is ahead of it.
        store
            .tree(super::super::batches::DEVICE_PINS)
            .unwrap()
            .remove(b"laptop-2")
            .unwrap();
        store.tree(super::super::META).unwrap().clear().unwrap();
        store.flush().unwrap();
        drop(store);
        let store = Store::open_with(dir.path(), env.clone()).unwrap();
        assert_eq!(store.device_pins().unwrap(), pins, "replayed at open");
        drop(store);

        // The store gone: recover from the journal alone.
        std::fs::remove_dir_all(dir.path().join(STORE_DIR)).unwrap();
        let report = recover(dir.path(), env.clone()).unwrap();
        assert_eq!(report.pins_restored, 3);
        assert!(
            report
                .to_string()
                .contains("restored: 3 device key(s) a coordinator pinned, trusted or revoked"),
            "{report}"
        );
        let store = Store::open_with(dir.path(), env.clone()).unwrap();
        assert_eq!(store.device_pins().unwrap(), pins, "from the journal alone");
        drop(store);

        // The journal gone: rebuilt from the store at open, then the store gone too.
        std::fs::remove_file(journal_path(dir.path())).unwrap();
        drop(Store::open_with(dir.path(), env.clone()).unwrap());
        std::fs::remove_dir_all(dir.path().join(STORE_DIR)).unwrap();
        recover(dir.path(), env.clone()).unwrap();
        let store = Store::open_with(dir.path(), env).unwrap();
        assert_eq!(store.device_pins().unwrap(), pins, "from a rebuilt journal");
    }

    /// After a recover (of a healthy store, of a damaged one, from the journal alone) the
    /// store is recorded as closed in step with the journal: a reading command reads its
    /// files where they are, rather than copying them aside first (at 1,000,000 responses,
    /// 22 GB); and a writing open finds nothing amiss.
    #[test]
    fn after_a_recover_readers_read_the_store_where_it_is() {
        let (env, _) = Env::manual(chrono::Utc::now());
        let dir = tempfile::tempdir().unwrap();
        let (store, pins) = store_with_three_pins(dir.path(), &env);
        drop(store);
        let in_place = |dir: &Path| {
            let store = Store::open_read_only(dir).unwrap();
            let reads_in_place = matches!(
                store.read_only,
                Some(super::super::ReadOnly::InPlace { .. })
            );
            let pinned = store.device_pins().unwrap().len();
            (reads_in_place, pinned)
        };
        assert_eq!(in_place(dir.path()), (true, 3), "a clean close");
        recover(dir.path(), env.clone()).unwrap();
        assert_eq!(in_place(dir.path()), (true, 3), "after a healthy recover");
        std::fs::remove_dir_all(dir.path().join(STORE_DIR)).unwrap();
        recover(dir.path(), env.clone()).unwrap();
        assert_eq!(
            in_place(dir.path()),
            (true, 3),
            "after a rebuild from the journal"
        );
        // And the next writing open takes the record for what it is.
        let store = Store::open_with(dir.path(), env).unwrap();
        assert_eq!(store.device_pins().unwrap().len(), pins.len());
        assert!(store.notices().is_empty(), "{:?}", store.notices());
    }

    /// A healthy store's pin stands (a release that did not journal pins may have
    /// changed it since); one it lacks comes from the journal.
    #[test]
    fn a_healthy_recover_keeps_the_stores_pins_and_adds_the_journals() {
        let (env, _) = Env::manual(chrono::Utc::now());
        let dir = tempfile::tempdir().unwrap();
        let (store, pins) = store_with_three_pins(dir.path(), &env);
        let tree = store.tree(super::super::batches::DEVICE_PINS).unwrap();
        tree.remove(b"laptop-1").unwrap();
        // Trusted again by an older release, unjournaled.
        let mut trusted = pins[2].clone();
        trusted.revoked_at = None;
        trusted.source = PinSource::Trusted;
        store.write_device_pin(&trusted).unwrap();
        store.flush().unwrap();
        drop(tree);
        drop(store);
        let report = recover(dir.path(), env.clone()).unwrap();
        assert!(matches!(report.store, StoreState::Healthy));
        assert_eq!(report.pins_restored, 1);
        let store = Store::open_with(dir.path(), env).unwrap();
        assert_eq!(
            store.device_pins().unwrap(),
            vec![pins[0].clone(), pins[1].clone(), trusted]
        );
    }

    #[test]
    fn a_rebuild_keeps_batch_export_marks_and_device_pins_from_the_old_store() {
        let (env, _) = Env::manual(chrono::Utc::now());
        let old_dir = tempfile::tempdir().unwrap();
        let old = Store::open_with(old_dir.path(), env.clone()).unwrap();
        let pin = DevicePin {
            device: "laptop-7".into(),
            key: DeviceKey::generate().unwrap().public(),
            since: env.now(),
            source: PinSource::FirstUse,
            revoked_at: Some(env.now()),
        };
        old.put_device_pin(&pin).unwrap();
        let batch = ExportedBatch {
            batch: env.new_id(),
            sequence: 1,
            previous: None,
            created_at: env.now(),
            counts: Counts::default(),
        };
        let exported = env.new_id();
        old.record_export(&batch, &[RecordKey::Response(exported)])
            .unwrap();

        let new_dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(new_dir.path(), env).unwrap();
        let mut report = empty_report();
        salvage(&old.db, &store, &Journaled::default(), &mut report).unwrap();

        // A revoked device stays revoked, and exported work is not exported again.
        assert_eq!(store.device_pins().unwrap(), vec![pin]);
        assert_eq!(store.exported_batches().unwrap(), vec![batch.clone()]);
        assert_eq!(
            store
                .export_marks()
                .unwrap()
                .get(&RecordKey::Response(exported)),
            Some(&batch.batch)
        );
        // The pin, the batch and its one mark.
        assert_eq!(report.imported_salvaged, 3);
        assert_eq!(report.imported_lost, None);
    }

    /// Trees of many pages (more than sled's walk frees under one pin) dropped whole and
    /// emptied first: gone, the other trees as they were, also after the store reopens.
    #[test]
    fn trees_of_many_pages_are_dropped_and_the_rest_of_the_store_stands() {
        let (env, _) = Env::manual(chrono::Utc::now());
        let dir = tempfile::tempdir().unwrap();
        let value = vec![7u8; 100];
        {
            let store = Store::open_with(dir.path(), env.clone()).unwrap();
            let kept = store.db.open_tree("kept").unwrap();
            for name in ["whole", "emptied"] {
                let tree = store.db.open_tree(name).unwrap();
                for n in 0u32..40_000 {
                    tree.insert(n.to_be_bytes(), value.clone()).unwrap();
                    if n % 10 == 0 {
                        kept.insert(n.to_be_bytes(), value.clone()).unwrap();
                    }
                }
            }
            assert!(store.db.drop_tree("whole").unwrap());
            drop_scratch(&store.db, "emptied").unwrap();
            store.flush().unwrap();
        }
        let store = Store::open_with(dir.path(), env).unwrap();
        let names = store.db.tree_names();
        for gone in ["whole", "emptied"] {
            assert!(
                !names.iter().any(|n| n.as_ref() == gone.as_bytes()),
                "{gone}"
            );
            assert!(store.db.open_tree(gone).unwrap().is_empty(), "{gone}");
        }
        let kept = store.db.open_tree("kept").unwrap();
        assert_eq!(kept.len(), 4_000);
        assert!(
            kept.iter()
                .values()
                .all(|v| v.unwrap().as_ref() == value.as_slice())
        );
    }

    #[test]
    fn scratch_trees_left_by_an_interrupted_recover_are_emptied_and_dropped() {
        let (env, _) = Env::manual(chrono::Utc::now());
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open_with(dir.path(), env.clone()).unwrap();
            let left = store.db.open_tree(SPILL_TREE).unwrap();
            left.insert(from_key(b"response:stale"), b"[]".to_vec())
                .unwrap();
            let doors = store.db.open_tree(DOORS_TREE).unwrap();
            doors.insert(b"stale door", b"{}".to_vec()).unwrap();
            let kept = store.db.open_tree(RESPONSES_TREE).unwrap();
            kept.insert(Uuid::from_u128(7).as_bytes(), b"{}".to_vec())
                .unwrap();
            store.flush().unwrap();
        }
        recover(dir.path(), env.clone()).unwrap();
        let store = Store::open_with(dir.path(), env).unwrap();
        for tree in [SPILL_TREE, DOORS_TREE, RESPONSES_TREE] {
            assert!(
                !store
                    .db
                    .tree_names()
                    .iter()
                    .any(|n| n.as_ref() == tree.as_bytes()),
                "{tree}"
            );
        }
        let doors = store.tree(super::super::doors::DOORS).unwrap();
        assert_eq!(doors.get(b"stale door").unwrap(), None);
        // Nor did a stale kept response reach the responses.
        assert!(store.get(Uuid::from_u128(7)).is_err());
        // What it held was not the journal's: it did not reach the merge records.
        let merge = store.tree(super::super::merge::MERGE).unwrap();
        assert_eq!(merge.get(from_key(b"response:stale")).unwrap(), None);
    }

    #[test]
    fn an_unreadable_old_store_says_what_else_was_lost() {
        let mut report = empty_report();
        report.imported_lost = Some("bad block".into());
        let text = report.to_string();
        assert!(text.contains("(bad block)"), "{text}");
        assert!(text.contains("import areas and crime again"), "{text}");
        assert!(text.contains("doorstep devices list"), "{text}");
        assert!(text.contains("carries everything again"), "{text}");
    }
}
