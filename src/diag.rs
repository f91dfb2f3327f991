//! Diagnostics on stderr: one line each, `keyhound: warning: ...` or `keyhound: note: ...`.
//! They carry paths, offsets and rule ids only, never scanned content. `--quiet` silences notes.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Silence notes (warnings still print).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Something went wrong but the run goes on (an unreadable file, a corrupt object).
pub fn warn(message: &str) {
    line("warning", message);
}

/// Something a reviewer must know, such as a pull request changing the policy: printed even
/// with `--quiet`, as a warning is, with its own prefix (`keyhound: notice: ...`).
pub fn notice(message: &str) {
    line("notice", message);
}

/// Something was skipped by policy (binary, too large).
pub fn note(message: &str) {
    if !is_quiet() {
        line("note", message);
    }
}

/// A free-form line on stderr (summaries).
pub fn info(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{message}");
}

fn line(level: &str, message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "keyhound: {level}: {message}");
}
