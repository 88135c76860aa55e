//! Reading input files with a size cap, so an endless file (`/dev/zero`, a pipe that never
//! ends) is refused with a sentence instead of hanging and filling memory.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Why a capped read failed.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {}", path.display(), self.reason())]
    TooLarge {
        path: PathBuf,
        limit: Size,
        what: &'static str,
    },
}

impl InputError {
    /// What went wrong, without the file name (for messages that name the file themselves).
    pub fn reason(&self) -> String {
        match self {
            InputError::Io { source, .. } => source.to_string(),
            InputError::TooLarge { limit, what, .. } => {
                format!("larger than the {limit} a {what} may be; is it the right file?")
            }
        }
    }
}

/// A size in bytes, shown in MB or KB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size(pub u64);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MB: u64 = 1024 * 1024;
        if self.0 >= MB {
            write!(f, "{} MB", self.0 / MB)
        } else {
            write!(f, "{} KB", self.0 / 1024)
        }
    }
}

/// Reads at most `limit` bytes of `path`; a file with more is refused. `what` names the kind
/// of file in the message ("survey file", "boundary file").
pub fn read_capped(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, InputError> {
    let io = |source| InputError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    // One byte past the limit tells "exactly at the limit" from "more".
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(InputError::TooLarge {
            path: path.to_path_buf(),
            limit: Size(limit),
            what,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_limit_is_refused_by_name_and_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.txt");
        std::fs::write(&path, vec![b'x'; 2049]).unwrap();
        let e = read_capped(&path, 2048, "test file").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: larger than the 2 KB a test file may be; is it the right file?",
                path.display()
            )
        );
        assert_eq!(read_capped(&path, 2049, "test file").unwrap().len(), 2049);
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_file_stops_at_the_limit() {
        let e = read_capped(Path::new("/dev/zero"), 1024 * 1024, "test file").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/dev/zero: larger than the 1 MB a test file may be"),
            "{e}"
        );
    }
}
