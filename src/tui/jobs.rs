//! Background jobs: slow work (merging batches, building a report) runs on its own thread and
//! reports back through the app's one event stream, so the key loop never waits for it.
//!
//! A screen starts a job with [`Jobs::spawn`] and keeps the [`JobId`]; `update` records each
//! progress message and the outcome in [`Jobs`], where the screen reads the progress to draw
//! it and takes the output once the job is done.

use std::any::Any;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;

use super::event::Event;
use crate::Error;

/// Every job thread's name starts with this (the panic hook tells job threads by it).
pub const THREAD_PREFIX: &str = "job: ";

/// Names one job in the messages it sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobId(u64);

/// How far a job has got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub done: u64,
    /// Unknown until the job has counted its work.
    pub total: Option<u64>,
    /// What it is doing now, for the status line ("reading batch 3 of 12").
    pub what: String,
}

/// What a job produced, handed back to the screen that started it (which knows its type).
pub struct JobOutput(Box<dyn Any + Send>);

impl JobOutput {
    /// The output as the type the job returned; `Err` gives it back if the type is wrong.
    pub fn downcast<T: Any>(self) -> Result<T, JobOutput> {
        self.0.downcast::<T>().map(|b| *b).map_err(JobOutput)
    }
}

impl std::fmt::Debug for JobOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JobOutput")
    }
}

/// A message from a job to the event loop.
#[derive(Debug)]
pub enum JobMessage {
    Progress(Progress),
    Done(JobOutput),
    /// The job returned an error (or stopped unexpectedly); the sentence says which.
    Failed(String),
}

/// Given to the job's work: reports progress and tells it whether it has been cancelled.
pub struct Reporter {
    id: JobId,
    events: Sender<Event>,
    cancelled: Arc<AtomicBool>,
}

impl Reporter {
    pub fn progress(&self, done: u64, total: Option<u64>, what: impl Into<String>) {
        // If the app has gone, nobody is listening: the job just carries on to its end.
        let _ = self.events.send(Event::Job(
            self.id,
            JobMessage::Progress(Progress {
                done,
                total,
                what: what.into(),
            }),
        ));
    }

    /// Long work should check this between steps and stop early (the app is closing).
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}

/// Where a job stands, as the app last heard.
#[derive(Debug)]
pub enum JobState {
    Running(Option<Progress>),
    Done(JobOutput),
    Failed(String),
}

/// One job the app knows of.
#[derive(Debug)]
pub struct JobStatus {
    pub name: String,
    pub state: JobState,
    cancelled: Arc<AtomicBool>,
}

impl JobStatus {
    /// Whether the job was asked to stop.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}

/// Starts jobs and keeps their progress and outcomes until the screens take them.
pub struct Jobs {
    events: Sender<Event>,
    next: u64,
    jobs: BTreeMap<JobId, JobStatus>,
}

impl Jobs {
    /// Jobs that report into `events`, the app's event stream.
    pub fn new(events: Sender<Event>) -> Jobs {
        Jobs {
            events,
            next: 1,
            jobs: BTreeMap::new(),
        }
    }

    /// Another sender into the same event stream.
    pub fn sender(&self) -> Sender<Event> {
        self.events.clone()
    }

    /// Runs `work` on its own thread. It may call `progress` on its reporter as often as it
    /// likes; its result (or its error, or a panic) arrives as the job's last message.
    pub fn spawn<T, F>(&mut self, name: impl Into<String>, work: F) -> Result<JobId, Error>
    where
        T: Send + 'static,
        F: FnOnce(&Reporter) -> Result<T, Error> + Send + 'static,
    {
        let id = JobId(self.next);
        self.next += 1;
        let name = name.into();
        let cancelled = Arc::new(AtomicBool::new(false));
        let reporter = Reporter {
            id,
            events: self.events.clone(),
            cancelled: Arc::clone(&cancelled),
        };
        std::thread::Builder::new()
            .name(format!("{THREAD_PREFIX}{name}"))
            .spawn(move || {
                // A panic in a job must not leave it "running" for ever.
                let result = std::panic::catch_unwind(AssertUnwindSafe(|| work(&reporter)));
                let last = match result {
                    Ok(Ok(output)) => JobMessage::Done(JobOutput(Box::new(output))),
                    Ok(Err(e)) => JobMessage::Failed(e.to_string()),
                    Err(_) => JobMessage::Failed("it stopped unexpectedly (see the log)".into()),
                };
                let _ = reporter.events.send(Event::Job(reporter.id, last));
            })
            .map_err(|e| Error::Failure(format!("cannot start {name}: {e}")))?;
        self.jobs.insert(
            id,
            JobStatus {
                name,
                state: JobState::Running(None),
                cancelled,
            },
        );
        Ok(id)
    }

    /// Records a message from job `id`; returns its status (None for a job already taken).
    pub fn record(&mut self, id: JobId, message: JobMessage) -> Option<&JobStatus> {
        let status = self.jobs.get_mut(&id)?;
        status.state = match message {
            JobMessage::Progress(p) => JobState::Running(Some(p)),
            JobMessage::Done(output) => JobState::Done(output),
            JobMessage::Failed(e) => JobState::Failed(e),
        };
        Some(status)
    }

    pub fn status(&self, id: JobId) -> Option<&JobStatus> {
        self.jobs.get(&id)
    }

    /// Jobs still running, oldest first.
    pub fn running(&self) -> impl Iterator<Item = (JobId, &JobStatus)> {
        self.jobs
            .iter()
            .filter(|(_, s)| matches!(s.state, JobState::Running(_)))
            .map(|(id, s)| (*id, s))
    }

    /// Takes a finished job's outcome (and forgets the job); a running job stays.
    pub fn take_finished(&mut self, id: JobId) -> Option<Result<JobOutput, String>> {
        if matches!(self.jobs.get(&id)?.state, JobState::Running(_)) {
            return None;
        }
        match self.jobs.remove(&id)?.state {
            JobState::Done(output) => Some(Ok(output)),
            JobState::Failed(e) => Some(Err(e)),
            JobState::Running(_) => None,
        }
    }

    /// Asks job `id` to stop (its output is no longer wanted); it ends when it next
    /// looks ([`Reporter::is_cancelled`]).
    pub fn cancel(&self, id: JobId) {
        if let Some(status) = self.jobs.get(&id) {
            status.cancelled.store(true, Ordering::Relaxed);
        }
    }

    /// Asks every running job to stop (the app is closing).
    pub fn cancel_all(&self) {
        for status in self.jobs.values() {
            status.cancelled.store(true, Ordering::Relaxed);
        }
    }
}
