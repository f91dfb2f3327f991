//! Everything the user reads: the report on stdout (or `--output`), in human, JSON, JSON
//! Lines, SARIF, GitLab secret-detection or GitHub workflow-command form, and the one-line
//! summary on stderr. Formats never read files or scan; they get
//! findings, the rules that made them and a [`Summary`].

pub mod github;
pub mod gitlab;
pub mod html;
pub mod human;
pub mod json;
pub mod sarif;
pub mod style;

use std::io::{self, IsTerminal, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::finding::{Finding, Status};
use crate::rules::RuleSet;
use crate::scan::{SkipReason, Skipped};
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

/// What the run did, for the summary and the JSON `summary` object.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Summary {
    pub files: u64,
    pub bytes: u64,
    pub skipped_binary: u64,
    pub skipped_large: u64,
    /// Blobs not scanned, by name and reason.
    pub skipped: Vec<Skipped>,
    pub errors: u64,
    pub findings: usize,
    /// Findings the policy silenced (listed with `--show-suppressed`).
    pub suppressed: usize,
    pub elapsed_ms: u64,
    /// Something could not be read (the errors above): the run exits 2.
    pub incomplete: bool,
    /// With `--verify`: how many reported findings got each verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<VerificationCounts>,
    /// History audits: one entry per unique secret, still-present first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretSummary>,
    /// What a reviewer of a range should see beside the findings: a policy file the range
    /// changes, a `keyhound:allow` it adds (issue 19 item 22).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<crate::policy::Notice>,
    /// History audits: what was covered in each repository (one entry for a single one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub coverage: Vec<Coverage>,
    /// `keyhound audit` and `keyhound merge`: which list was audited, and by which shard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<crate::audit::AuditRecord>,
}

impl Summary {
    /// A report of an organisation's whole list (`keyhound audit` in one process, or `keyhound
    /// merge`), not of one shard.
    pub fn whole_list_audit(&self) -> bool {
        self.audit.as_ref().is_some_and(|a| a.shard.is_none())
    }

    /// This summary without what depends on how an audit was split: the times, and the counts
    /// of blobs and bytes read (two forks audited by different shards each read the objects
    /// they share, which one process reads once), written as 0; `files` counts the blobs each
    /// repository reaches, summed over the repositories (what was covered, not what was read).
    /// What was found and what was covered (findings, secrets, each repository's refs,
    /// commits, blobs, missing objects) stays.
    pub fn without_run_statistics(&self) -> Summary {
        let mut summary = self.clone();
        summary.files = summary.coverage.iter().map(|c| c.blobs).sum();
        summary.bytes = 0;
        summary.elapsed_ms = 0;
        for c in &mut summary.coverage {
            c.blobs_scanned = 0;
            c.blobs_shared = 0;
            c.elapsed_ms = 0;
        }
        summary
    }
}

/// What a history audit covered in one repository. Written for every history audit, read back
/// by `keyhound merge` to tell a complete organisation audit from one with gaps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// The repository as the user named it (path or URL).
    pub repository: String,
    /// Refs (branches, tags, other refs) whose history was walked.
    pub refs: u64,
    /// Commits walked.
    pub commits: u64,
    /// Distinct blobs this repository reaches (within `--range`/`--since` when given).
    pub blobs: u64,
    /// Of those, blobs read and scanned for this repository.
    pub blobs_scanned: u64,
    /// Of those, blobs already scanned for another repository of the same run (forks share
    /// objects) or recorded in `--state`: not read again.
    pub blobs_shared: u64,
    /// Objects the history names but the object database does not have (shallow or broken
    /// repositories, partial clones).
    pub objects_missing: u64,
    /// Commits that could not be parsed (a malformed header): skipped, their parents still
    /// walked (issue 19 item 9).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub commits_skipped: u64,
    /// Something in this repository could not be read: its findings may be incomplete.
    pub incomplete: bool,
    /// Why the repository could not be audited at all, or what went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub elapsed_ms: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// How many findings got each verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationCounts {
    pub live: usize,
    pub invalid: usize,
    pub unknown: usize,
    pub unsupported: usize,
}

impl VerificationCounts {
    pub fn of(findings: &[Finding]) -> VerificationCounts {
        let mut c = VerificationCounts::default();
        for f in findings {
            match f.verification.as_ref().map(|v| v.status) {
                Some(Status::Live) => c.live += 1,
                Some(Status::Invalid) => c.invalid += 1,
                Some(Status::Unsupported) => c.unsupported += 1,
                Some(Status::Unknown) | None => c.unknown += 1,
            }
        }
        c
    }
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

/// The audit's answer for one unique secret: since when, by whom, still there or not.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecretSummary {
    pub rule: String,
    pub provider: String,
    pub redacted: String,
    pub fingerprint: String,
    /// Still in the tree of some branch tip (not only in history).
    pub present_at_tip: bool,
    pub first_commit: String,
    pub first_author: String,
    pub first_date: String,
    /// Days between the first commit and now.
    pub exposed_days: i64,
    /// Paths it was found at.
    pub paths: Vec<String>,
    /// History audits of several repositories: every repository it was found in, in the order
    /// audited.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repositories: Vec<String>,
    /// History audits of several repositories: each (repository, path) it is at.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<SecretLocation>,
}

/// Where a secret is, in an audit of several repositories.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecretLocation {
    pub repository: String,
    pub path: String,
    /// The earliest commit of this repository that has it at this path.
    pub first_commit: String,
    /// Still in the tree of a branch tip of this repository.
    pub present_at_tip: bool,
}

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
