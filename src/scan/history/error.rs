//! [`HistoryError`]: why history could not be scanned at all (no repository, a bad range, git
//! failing before anything was read). One unreadable object is not one of these: it is a
//! warning and the scan goes on. A bad `--since` is a `crate::dates::BadDate`.

use std::fmt;
use std::path::PathBuf;

/// Why history could not be scanned at all.
#[derive(Debug)]
pub(crate) enum HistoryError {
    NotARepository {
        path: PathBuf,
        message: String,
    },
    BadRange {
        range: String,
        message: String,
    },
    Git {
        what: String,
        message: String,
    },
    /// `--since` names no date.
    BadDate(crate::dates::BadDate),
}

impl From<crate::dates::BadDate> for HistoryError {
    fn from(e: crate::dates::BadDate) -> HistoryError {
        HistoryError::BadDate(e)
    }
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistoryError::NotARepository { path, message } => write!(
                f,
                "{}: not a git repository, nor in one ({message}); give the path of a repository or a directory in it",
                path.display()
            ),
            HistoryError::BadRange { range, message } => write!(
                f,
                "--range {range}: {message}; expected BASE..HEAD with revisions this repository has"
            ),
            HistoryError::Git { what, message } => write!(f, "{what}: {message}"),
            HistoryError::BadDate(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for HistoryError {}

pub(super) fn git_err(what: &str) -> impl Fn(git2::Error) -> HistoryError + '_ {
    move |e| HistoryError::Git {
        what: what.to_string(),
        message: e.message().to_string(),
    }
}
