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
    pub fn acquire(data_dir: &Path) -> Result<DirLock, StoreError> {
        let path = data_dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::io(&path, e))?;
        // A holder that is just closing, or a process between fork and exec that briefly
        // holds a copy of another program's descriptor, lets go within moments: wait that
        // long before calling the directory busy.
        let mut waited = std::time::Duration::ZERO;
        let mut lock = file.try_lock();
        while matches!(lock, Err(TryLockError::WouldBlock)) && waited < BUSY_PATIENCE {
            std::thread::sleep(BUSY_POLL);
            waited += BUSY_POLL;
            lock = file.try_lock();
        }
        match lock {
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
