//! Everything the user reads: the report on stdout (or `--output`), in human, JSON, JSON
//! Lines, SARIF, GitLab secret-detection or GitHub workflow-command form, and the one-line
//! summary on stderr. Formats never read files or scan; they get
//! findings, the rules that made them and a [`Summary`].

pub(crate) mod github;
pub(crate) mod gitlab;
pub(crate) mod html;
pub(crate) mod human;
pub(crate) mod json;
pub(crate) mod sarif;
pub(crate) mod style;

use std::io::{self, IsTerminal, Write};
use std::path::Path;

use crate::finding::Finding;
use crate::rules::RuleSet;
use crate::summary::{Coverage, SecretSummary, SkipReason, Skipped, Summary, VerificationCounts};
pub use style::ColorChoice;

/// Report format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Jsonl,
    Sarif,
    /// GitLab's secret-detection report (`gl-secret-detection-report.json`).
    Gitlab,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// One self-contained HTML page (totals, exposure timeline, coverage, findings).
    Html,
}

/// The verification line on stderr: unknown verdicts are never silent.
pub fn verification_line(c: &VerificationCounts) -> String {
    let mut line = format!(
        "keyhound: verification: {} live, {} invalid, {} unknown, {} unsupported",
        c.live, c.invalid, c.unknown, c.unsupported
    );
    if c.unknown > 0 {
        line.push_str(
            " (unknown: the provider could not be asked or did not answer; the key may be live)",
        );
    }
    line
}

/// One skipped blob as text: `path (binary)`.
/// Outside text in it (the path, an archive's error) is escaped for a terminal (issue 19 item 14).
pub fn skip_text(s: &Skipped) -> String {
    let path = crate::diag::escape(&s.path);
    match &s.reason {
        SkipReason::TooLarge { size } => format!("{path} ({size} bytes, over --max-file-size)"),
        SkipReason::Binary => format!("{path} (binary)"),
        SkipReason::Ignored => format!("{path} (.keyhoundignore or allow.paths)"),
        SkipReason::ArchiveLimit { limit } => format!("{path} (archive {limit} limit)"),
        SkipReason::ArchiveUnreadable { why } => {
            format!("{path} (archive unreadable: {})", crate::diag::escape(why))
        }
        SkipReason::NotListed { more } => format!("{path} ({more} more findings not listed)"),
    }
}

/// How many skipped blobs the summary line names.
const SKIPPED_NAMED: usize = 3;

/// The audit table, for stderr; its outside text (authors, repositories) escaped.
pub fn secrets_table(secrets: &[SecretSummary]) -> String {
    use crate::diag::escape;
    let mut out = String::from(
        "\nsecrets (still present first):\n  status   exposed  first commit  author                date        rule / secret\n",
    );
    for s in secrets {
        out.push_str(&format!(
            "  {:<8} {:>5} d  {:<12}  {:<20}  {:<10}  {} {}\n",
            if s.present_at_tip {
                "PRESENT"
            } else {
                "history"
            },
            s.exposed_days,
            &s.first_commit[..s.first_commit.len().min(12)],
            escape(&author_column(&s.first_author, 20)),
            escape(s.first_date.get(..10).unwrap_or(&s.first_date)),
            escape(&s.rule),
            escape(&s.redacted)
        ));
        // Secrets whose redacted forms look alike (every private key's header) told apart
        // (issue 19 item 23).
        out.push_str(&format!("           {}\n", escape(&secret_label(s))));
        if !s.repositories.is_empty() {
            out.push_str(&format!(
                "           in {}\n",
                escape(&s.repositories.join(", "))
            ));
        }
    }
    out
}

/// Where a secret is and which it is, in a few characters: `at PATH (+N paths) · fingerprint
/// FP` with the fingerprint's first 8 characters.
pub fn secret_label(s: &SecretSummary) -> String {
    let mut label = String::new();
    if let Some(first) = s.paths.first() {
        label.push_str(&format!("at {first}"));
        match s.paths.len() {
            1 => {}
            2 => label.push_str(" (+1 path)"),
            n => label.push_str(&format!(" (+{} paths)", n - 1)),
        }
        label.push_str(" · ");
    }
    label.push_str(&format!(
        "fingerprint {}",
        s.fingerprint.get(..8).unwrap_or(&s.fingerprint)
    ));
    label
}

/// `Name <e-mail>` in at most `width` characters, never cut inside the e-mail address: the
/// whole when it fits, else the name alone (ending in `…` when even that is too long).
pub fn author_column(author: &str, width: usize) -> String {
    if author.chars().count() <= width {
        return author.to_string();
    }
    let name = match author.rsplit_once(" <") {
        Some((name, _)) if !name.trim().is_empty() => name.trim(),
        _ => author,
    };
    if name.chars().count() <= width {
        return name.to_string();
    }
    let mut cut: String = name.chars().take(width - 1).collect();
    cut.push('…');
    cut
}

/// The coverage table, for stderr: one line per repository, what was walked and read, and
/// what is missing.
pub fn coverage_table(coverage: &[Coverage]) -> String {
    let mut out = String::from(
        "\ncoverage:\n  status      refs  commits    blobs  scanned   shared  missing  repository\n",
    );
    for c in coverage {
        let status = if c.error.is_some() {
            "ERROR"
        } else if c.incomplete {
            "INCOMPLETE"
        } else {
            "complete"
        };
        out.push_str(&format!(
            "  {status:<10} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8}  {}\n",
            c.refs,
            c.commits,
            c.blobs,
            c.blobs_scanned,
            c.blobs_shared,
            c.objects_missing,
            crate::diag::escape(&c.repository)
        ));
        if let Some(error) = &c.error {
            out.push_str(&format!("             {}\n", crate::diag::escape(error)));
        }
    }
    out
}

/// How to render.
#[derive(Debug, Clone, Copy)]
pub struct ReportOptions {
    pub format: Format,
    pub show_secrets: bool,
    pub color: bool,
}

/// Write the report for `findings` (already sorted) to `out`.
pub fn write(
    out: &mut dyn Write,
    findings: &[Finding],
    rules: &RuleSet,
    summary: &Summary,
    opts: &ReportOptions,
) -> io::Result<()> {
    match opts.format {
        Format::Human => human::write(out, findings, rules, opts),
        Format::Json => json::write(out, findings, rules, summary, opts),
        Format::Jsonl => json::write_lines(out, findings, rules, opts),
        Format::Sarif => sarif::write(out, findings, rules, summary, opts),
        Format::Gitlab => gitlab::write(out, findings, rules, summary, opts),
        Format::Github => github::write(out, findings, rules, summary, opts),
        Format::Html => html::write(out, findings, rules, summary, opts),
    }
}

/// Write the report to `to` (`--output`: whole or not at all, a device or FIFO in place, 0600
/// with secrets in full, issue 19 item 17) or to standard output. With `color` (`--color`),
/// colour is used when the report goes to a terminal and `NO_COLOR` is unset.
pub fn emit(
    to: Option<&Path>,
    findings: &[Finding],
    rules: &RuleSet,
    summary: &Summary,
    format: Format,
    show_secrets: bool,
    color: ColorChoice,
) -> Result<(), crate::error::Error> {
    let to_terminal = to.is_none() && stdout().is_terminal();
    let opts = ReportOptions {
        format,
        show_secrets,
        color: style::use_color(color, to_terminal, |k| std::env::var_os(k)),
    };
    match to {
        Some(path) => crate::output::write(path, show_secrets, |out| {
            write(out, findings, rules, summary, &opts)
        })
        .map_err(crate::error::Error::new)?,
        None => {
            let mut out = io::BufWriter::new(stdout());
            write(&mut out, findings, rules, summary, &opts)?;
            out.flush()?;
        }
    }
    Ok(())
}

/// A command's output on standard output when it is not a findings report: a rule list, a
/// generated key, the stale entries of a baseline, an agent's answer. Written whole, as given:
/// whoever builds `text` escapes outside values in it ([`crate::diag::escape`]).
pub fn print(text: &str) -> io::Result<()> {
    let mut out = stdout();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Standard output: only this module writes to it (clippy.toml, issue 24 item 7).
#[allow(clippy::disallowed_methods)]
fn stdout() -> io::StdoutLock<'static> {
    io::stdout().lock()
}

/// The one-line summary on stderr.
pub fn summary_line(summary: &Summary) -> String {
    let mb = summary.bytes as f64 / 1_000_000.0;
    let secs = summary.elapsed_ms as f64 / 1000.0;
    let mut line = format!(
        "keyhound: scanned {} file{} ({mb:.1} MB) in {secs:.2} s: {} finding{}",
        summary.files,
        if summary.files == 1 { "" } else { "s" },
        summary.findings,
        if summary.findings == 1 { "" } else { "s" },
    );
    if !summary.skipped.is_empty() {
        let count = |f: fn(&SkipReason) -> bool| {
            summary.skipped.iter().filter(|s| f(&s.reason)).count() as u64
        };
        let ignored = count(|r| matches!(r, SkipReason::Ignored));
        let archive = count(|r| {
            matches!(
                r,
                SkipReason::ArchiveLimit { .. } | SkipReason::ArchiveUnreadable { .. }
            )
        });
        let not_listed = count(|r| matches!(r, SkipReason::NotListed { .. }));
        let kinds: Vec<String> = [
            (summary.skipped_binary, "binary"),
            (summary.skipped_large, "over the size limit"),
            (ignored, "ignored"),
            (archive, "in archives (limits, damage)"),
            (not_listed, "with more findings than listed"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        let names: Vec<std::borrow::Cow<str>> = summary
            .skipped
            .iter()
            .take(SKIPPED_NAMED)
            .map(|s| crate::diag::escape(&s.path))
            .collect();
        line.push_str(&format!(
            "; skipped {}: {}{}",
            kinds.join(", "),
            names.join(", "),
            if summary.skipped.len() > SKIPPED_NAMED {
                ", … (--list-skipped names them all)"
            } else {
                ""
            }
        ));
    }
    if summary.suppressed > 0 {
        line.push_str(&format!(
            "; {} suppressed (--show-suppressed lists them)",
            summary.suppressed
        ));
    }
    if summary.errors > 0 {
        line.push_str(&format!(
            "; {} could not be read (incomplete scan, exit 2)",
            summary.errors
        ));
    }
    line
}
