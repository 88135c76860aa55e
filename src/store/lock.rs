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

/// How a read-only command holds the directory (see [`DirLock::for_reading`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    Exclusive,
    Shared,
}

#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DirLock {
    /// The hold of a read-only command: exclusive when nobody else holds the directory
    /// (this reader may open the store where it is: sled writes its own files while
    /// opening them, so no other reader may be copying them meanwhile), shared when other
    /// readers hold it (they read the store's files and write nothing, so a copy of them is
    /// whole). Waits a moment while a writer, or another reader opening the store, holds
    /// it exclusively. Opened for reading only, never created or written. `None` when there
    /// is no lock file (no doorstep has used the folder).
    pub fn for_reading(data_dir: &Path) -> Result<Option<(DirLock, Hold)>, StoreError> {
        let path = data_dir.join(LOCK_FILE);
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io(&path, e)),
        };
        let mut hold = Hold::Shared;
        let locked = patiently(|| match file.try_lock() {
            Ok(()) => {
                hold = Hold::Exclusive;
                Ok(())
            }
            Err(TryLockError::WouldBlock) => {
                hold = Hold::Shared;
                file.try_lock_shared()
            }
            Err(e) => Err(e),
        });
        match locked {
            Ok(()) => Ok(Some((DirLock { _file: file }, hold))),
            Err(TryLockError::WouldBlock) => Err(busy(data_dir, &mut file)),
            Err(TryLockError::Error(e)) => Err(StoreError::io(&path, e)),
        }
    }

    /// Turns an exclusive hold into a shared one once the store is open, so other readers
    /// can start. (The kernel drops the old hold before taking the new one: should a writer
    /// take the directory in between, this reader is told the directory is busy.)
    pub fn share(&self, data_dir: &Path) -> Result<(), StoreError> {
        match self._file.try_lock_shared() {
            Ok(()) => Ok(()),
            Err(TryLockError::WouldBlock) => Err(StoreError::Busy {
                dir: data_dir.to_path_buf(),
                pid: "unknown".into(),
            }),
            Err(TryLockError::Error(e)) => Err(StoreError::io(data_dir.join(LOCK_FILE), e)),
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

/// The OS lock sled takes on its `db` file while it has the store open, taken by a reader
/// that copies the files instead: a reader with the files open where they are writes to
/// them as it reads (sled tidies its tree: completes splits, merges small nodes), so the
/// copy waits for it to finish, and holding the lock keeps any other from opening them
/// meanwhile.
#[derive(Debug)]
pub struct FilesHold {
    _file: File,
}

impl FilesHold {
    /// Waits while another process has the files at `db_file` open, calling `waiting`
    /// once when that is more than a moment, then holds them. `None` when there is no
    /// such file (nothing to copy).
    pub fn wait(
        db_file: &Path,
        mut waiting: impl FnMut(),
    ) -> Result<Option<FilesHold>, StoreError> {
        let file = match File::open(db_file) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io(db_file, e)),
        };
        let mut waited = std::time::Duration::ZERO;
        let mut told = false;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(FilesHold { _file: file })),
                Err(TryLockError::WouldBlock) => {
                    if !told && waited >= BUSY_PATIENCE {
                        waiting();
                        told = true;
                    }
                    std::thread::sleep(BUSY_POLL);
                    waited += BUSY_POLL;
                }
                Err(TryLockError::Error(e)) => return Err(StoreError::io(db_file, e)),
            }
        }
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
