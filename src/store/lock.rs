//! One doorstep process per data directory.
//!
//! An OS advisory lock (flock) on `doorstep.lock`: the kernel drops it when the holder
//! dies, however it dies, so a lock left by a killed process never blocks the next start.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::StoreError;

pub const LOCK_FILE: &str = "doorstep.lock";

/// How long a start waits for a lock that is held before reporting the directory busy.
const BUSY_PATIENCE: std::time::Duration = std::time::Duration::from_millis(1500);
const BUSY_POLL: std::time::Duration = std::time::Duration::from_millis(25);

#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DirLock {
    /// A shared hold for a read-only command: opened for reading only, never created or
    /// written, so it works on a data directory the user may not write. `None` when there
    /// is no lock file (no doorstep has used the folder). Fails with
    /// [`StoreError::Busy`] while a doorstep process holds the directory.
    pub fn shared(data_dir: &Path) -> Result<Option<DirLock>, StoreError> {
        let path = data_dir.join(LOCK_FILE);
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io(&path, e)),
        };
        match patiently(|| file.try_lock_shared()) {
            Ok(()) => Ok(Some(DirLock { _file: file })),
            Err(TryLockError::WouldBlock) => Err(busy(data_dir, &mut file)),
            Err(TryLockError::Error(e)) => Err(StoreError::io(&path, e)),
        }
    }

    pub fn acquire(data_dir: &Path) -> Result<DirLock, StoreError> {
        let path = data_dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::io(&path, e))?;
        match patiently(|| file.try_lock()) {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(busy(data_dir, &mut file)),
            Err(TryLockError::Error(e)) => return Err(StoreError::io(&path, e)),
        }
        // Record our pid for the message another process will show.
        file.set_len(0).map_err(|e| StoreError::io(&path, e))?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| StoreError::io(&path, e))?;
        writeln!(file, "{}", std::process::id()).map_err(|e| StoreError::io(&path, e))?;
        file.sync_all().map_err(|e| StoreError::io(&path, e))?;
        Ok(DirLock { _file: file })
    }
}

/// Tries to take a lock, and while it is held tries again for a moment: a holder that is
/// just closing, or a process between fork and exec that briefly holds a copy of another
/// program's descriptor, lets go within moments, so only a lock still held after that
/// calls the directory busy.
fn patiently(mut try_lock: impl FnMut() -> Result<(), TryLockError>) -> Result<(), TryLockError> {
    let mut waited = std::time::Duration::ZERO;
    let mut lock = try_lock();
    while matches!(lock, Err(TryLockError::WouldBlock)) && waited < BUSY_PATIENCE {
        std::thread::sleep(BUSY_POLL);
        waited += BUSY_POLL;
        lock = try_lock();
    }
    lock
}

/// The busy error, naming the holder's pid as it wrote it in the lock file.
fn busy(data_dir: &Path, file: &mut File) -> StoreError {
    let mut pid = String::new();
    let _ = file.read_to_string(&mut pid);
    let pid = pid.trim();
    StoreError::Busy {
        dir: data_dir.to_path_buf(),
        pid: if pid.is_empty() {
            "unknown".into()
        } else {
            pid.to_owned()
        },
    }
}
