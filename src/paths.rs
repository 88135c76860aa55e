//! Where doorstep keeps its data, and which folders it may make a data directory of.

use std::path::{Path, PathBuf};

/// The platform data directory for doorstep (e.g. `~/.local/share/doorstep` on Linux),
/// used when neither `--data-dir` nor `DOORSTEP_DATA_DIR` is given.
pub fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("uk.org", "doorstep", "doorstep")
        .map(|dirs| dirs.data_dir().to_path_buf())
        // No home directory at all (a bare service account): fall back to the working dir.
        .unwrap_or_else(|| PathBuf::from("doorstep-data"))
}

/// The data directory asked for (`--data-dir` or `DOORSTEP_DATA_DIR`), or the default.
/// An empty value counts as not given; a leading `~` or `~/` is the home directory (a
/// shell would have expanded it had it not been quoted), never a folder named `~`.
pub fn resolve_data_dir(given: Option<&Path>) -> Result<PathBuf, String> {
    let Some(given) = given.filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(default_data_dir());
    };
    let text = given.to_string_lossy();
    let Some(rest) = text.strip_prefix('~') else {
        return Ok(given.to_path_buf());
    };
    if !(rest.is_empty() || rest.starts_with('/')) {
        return Err(format!(
            "data directory `{text}`: `~name` is not expanded here; give the full path"
        ));
    }
    let home = directories::BaseDirs::new()
        .map(|b| b.home_dir().to_path_buf())
        .ok_or_else(|| {
            format!("data directory `{text}`: there is no home directory to expand `~` to; give the full path")
        })?;
    Ok(home.join(rest.trim_start_matches('/')))
}

/// Names that mark a folder as a doorstep data directory (or one being set up: a
/// `surveys/` folder put there before the first start).
const DATA_DIR_NAMES: [&str; 7] = [
    "store",
    "journal",
    "doorstep.lock",
    "surveys",
    "logs",
    "recovering",
    "device.key",
];

/// Whether doorstep may keep its data in `dir`: a folder that does not exist yet, an
/// empty one, or one that already holds doorstep data. Anything else (`/`, a home folder,
/// a file) is refused with the reason, so a mistyped `--data-dir` never scatters a store
/// into someone's files.
pub fn check_data_dir(dir: &Path) -> Result<(), String> {
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        // Not there yet: it will be made. Other errors show when it is used.
        Err(_) => return Ok(()),
    };
    if !meta.is_dir() {
        return Err(
            "this is a file, not a folder: give --data-dir a folder (a new one is made if it does not exist)"
                .to_owned(),
        );
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let mut any = false;
    for entry in entries.flatten() {
        any = true;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if DATA_DIR_NAMES.contains(&name.as_ref()) || name.starts_with("store.damaged-") {
            return Ok(());
        }
    }
    if any {
        return Err(
            "this folder is not empty and holds no doorstep data (no store, journal or surveys): give --data-dir a new or empty folder"
                .to_owned(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_means_the_default_and_tilde_is_home() {
        assert_eq!(resolve_data_dir(None).unwrap(), default_data_dir());
        assert_eq!(
            resolve_data_dir(Some(Path::new(""))).unwrap(),
            default_data_dir()
        );
        assert_eq!(
            resolve_data_dir(Some(Path::new("/srv/d"))).unwrap(),
            PathBuf::from("/srv/d")
        );
        if let Some(home) = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf()) {
            assert_eq!(resolve_data_dir(Some(Path::new("~"))).unwrap(), home);
            assert_eq!(
                resolve_data_dir(Some(Path::new("~/field"))).unwrap(),
                home.join("field")
            );
        }
        let err = resolve_data_dir(Some(Path::new("~pc1234/field"))).unwrap_err();
        assert!(err.contains("`~name` is not expanded"), "{err}");
    }

    #[test]
    fn only_new_empty_or_doorstep_folders_are_data_dirs() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(check_data_dir(&dir.path().join("new")), Ok(()));
        assert_eq!(check_data_dir(dir.path()), Ok(()));
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        let err = check_data_dir(dir.path()).unwrap_err();
        assert!(
            err.contains("not empty and holds no doorstep data"),
            "{err}"
        );
        let err = check_data_dir(&dir.path().join("notes.txt")).unwrap_err();
        assert!(err.starts_with("this is a file, not a folder"), "{err}");
        std::fs::create_dir(dir.path().join("surveys")).unwrap();
        assert_eq!(check_data_dir(dir.path()), Ok(()));
    }
}
