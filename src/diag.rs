//! Diagnostics on stderr: one line each, `keyhound: warning: ...` or `keyhound: note: ...`.
//! They carry paths, offsets and rule ids only, never scanned content. `--quiet` silences notes.
//!
//! [`escape`] is the one function that makes text from outside (paths, commit authors and
//! subjects, rule names from a repository's config, provider answers) safe for a terminal: every
//! human line, on stdout (`report::human`) or stderr (here), goes through it (issue 19 item 14).
//! JSON, SARIF and the other machine formats keep the real text, encoded by their own rules.

use std::borrow::Cow;
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

/// Free-form lines on stderr (summaries, tables). Their line breaks are kept, so whoever builds
/// them escapes each outside value in them with [`escape`] first.
pub fn info(message: &str) {
    let _ = writeln!(stderr(), "{}", escape_lines(message));
}

/// The one progress line on stderr, redrawn in place (`keyhound: history: 120/4000 blobs, ...`):
/// shown only on a terminal and without `--quiet`; off, it writes nothing. Sources report their
/// progress through it, never to stderr themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    on: bool,
}

impl Progress {
    /// Shown when stderr is a terminal and the run is not quiet.
    pub fn new(quiet: bool) -> Progress {
        use std::io::IsTerminal;
        Progress {
            on: !quiet && stderr().is_terminal(),
        }
    }

    /// A progress line that is never shown.
    pub fn off() -> Progress {
        Progress { on: false }
    }

    pub fn is_on(&self) -> bool {
        self.on
    }

    /// Replace the line with `keyhound: {text}`.
    pub fn show(&self, text: &str) {
        if self.on {
            let mut err = stderr();
            let _ = write!(err, "\r\x1b[2Kkeyhound: {}", escape(text));
            let _ = err.flush();
        }
    }

    /// Erase the line (the work is done).
    pub fn clear(&self) {
        if self.on {
            let mut err = stderr();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

/// Standard error: only this module writes to it (clippy.toml, issue 24 item 7).
#[allow(clippy::disallowed_methods)]
fn stderr() -> std::io::StderrLock<'static> {
    std::io::stderr().lock()
}

fn line(level: &str, message: &str) {
    let _ = writeln!(stderr(), "keyhound: {level}: {}", escape(message));
}

/// `text` as one line that cannot drive a terminal: line breaks, escape sequences (ESC, CSI,
/// OSC-8 links), other control characters and the invisible characters that reorder or break
/// text (bidi controls such as U+202E, the Unicode line and paragraph separators) are written
/// as escapes (`\n`, `\x1b`, `\u{202e}`); everything else is kept.
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_with(text, false)
}

/// [`escape`], keeping line breaks: for text made of several lines.
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    escape_with(text, true)
}

fn escape_with(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| (c.is_control() && !(keep_newlines && c == '\n')) || hidden(c);
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Characters that change how the text around them shows without showing themselves: the bidi
/// embeddings, overrides and isolates (Trojan Source, CVE-2021-42574), the marks, and the
/// Unicode line and paragraph separators.
fn hidden(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
            | '\u{2028}' | '\u{2029}'
    )
}

#[cfg(test)]
mod tests {
    use super::{escape, escape_lines};

    // issue 19 item 14
    #[test]
    fn escape_table() {
        let cases = [
            ("plain/path.env", "plain/path.env"),
            (
                "a\nkeyhound: scanned 0 files",
                "a\\nkeyhound: scanned 0 files",
            ),
            ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
            ("\x1b]8;;http://x\x1b\\link", "\\x1b]8;;http://x\\x1b\\link"),
            ("over\rwrite\tcol", "over\\rwrite\\tcol"),
            ("evil\u{202e}txt.exe", "evil\\u{202e}txt.exe"),
            ("c1\u{9b}31m", "c1\\u{9b}31m"),
            ("ünïcödé ✓", "ünïcödé ✓"),
        ];
        for (raw, want) in cases {
            assert_eq!(escape(raw), want, "{raw:?}");
        }
        assert_eq!(escape_lines("a\nb\x1b"), "a\nb\\x1b");
    }
}
