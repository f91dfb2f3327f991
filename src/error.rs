//! How a run ends: [`Outcome`] (exit 0, 1 or 2, mapped in one `From` impl) and [`Error`], the
//! one-line, content-free message of a run that could not be done.

use std::fmt;

/// How a run ended; `main.rs` maps it to the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: nothing found.
    Clean,
    /// 1: findings.
    Findings,
    /// 2: an error, or a scan that could not read everything.
    Error,
}

impl From<Outcome> for std::process::ExitCode {
    fn from(o: Outcome) -> Self {
        std::process::ExitCode::from(match o {
            Outcome::Clean => 0,
            Outcome::Findings => 1,
            Outcome::Error => 2,
        })
    }
}

/// An error that ends the run (exit 2). Carries a one-line, content-free message.
#[derive(Debug)]
pub struct Error {
    message: String,
    broken_pipe: bool,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
            broken_pipe: false,
        }
    }

    /// Writing to a closed pipe (`keyhound scan | head`) ends the run quietly.
    pub fn is_broken_pipe(&self) -> bool {
        self.broken_pipe
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error {
            broken_pipe: e.kind() == std::io::ErrorKind::BrokenPipe,
            message: e.to_string(),
        }
    }
}
