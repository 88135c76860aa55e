//! One doorstep process per data directory.
//!
//! An OS advisory lock (flock) on `doorstep.lock`: the kernel drops it when the holder
//! dies, however it dies, so a lock left by a killed process never blocks the next start.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::StoreError;

pub const LOCK_FILE: &str = "doorstep.lock";

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
        match file.try_lock_shared() {
            Ok(()) => Ok(Some(DirLock { _file: file })),
            Err(TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                Err(StoreError::Busy {
                    dir: data_dir.to_path_buf(),
                    pid: if pid.is_empty() {
                        "unknown".into()
                    } else {
                        pid.to_owned()
                    },
                })
            }
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
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                return Err(StoreError::Busy {
                    dir: data_dir.to_path_buf(),
                    pid: if pid.is_empty() {
                        "unknown".into()
                    } else {
                        pid.to_owned()
                    },
                });
            }
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
