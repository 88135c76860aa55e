//! Where doorstep keeps its data.

use std::path::PathBuf;

/// The platform data directory for doorstep (e.g. `~/.local/share/doorstep` on Linux),
/// used when neither `--data-dir` nor `DOORSTEP_DATA_DIR` is given.
pub fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("uk.org", "doorstep", "doorstep")
        .map(|dirs| dirs.data_dir().to_path_buf())
        // No home directory at all (a bare service account): fall back to the working dir.
        .unwrap_or_else(|| PathBuf::from("doorstep-data"))
}
