//! The nouns of a run's result, read by the reports, the history audit, `keyhound audit` and
//! `keyhound merge` alike: the [`Summary`] (what was scanned and found), each repository's
//! [`Coverage`], the [`VerificationCounts`], the audit's [`SecretSummary`] per unique secret,
//! the [`AuditRecord`] of an organisation audit, the blobs [`Skipped`] and the [`Notice`]s a
//! range's reviewer should see. A leaf: plain data that imports nothing above it (only the
//! [`Finding`] it counts and `diag` to print a notice), so every floor can read it. It does
//! not format anything (`crate::report` does) nor compute it (the sources and the pipeline do).

use serde::{Deserialize, Serialize};

use crate::diag;
use crate::finding::{Finding, Status};

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
    pub notices: Vec<Notice>,
    /// History audits: what was covered in each repository (one entry for a single one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub coverage: Vec<Coverage>,
    /// `keyhound audit` and `keyhound merge`: which list was audited, and by which shard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditRecord>,
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

/// What an audit report says about the audit itself (`summary.audit` in JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// The list's identity: `sha256:` of the repository names in order.
    pub list: String,
    /// Every repository of the list, in order, as reports name them (credentials redacted).
    pub repositories: Vec<String>,
    /// `--since` as given, when given: shards of one audit must agree on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// `--unreachable`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unreachable: bool,
    /// Only in a shard's report: which part of the list it audited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRecord>,
}

/// A shard of an audit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardRecord {
    /// 0-based, as `JOB_COMPLETION_INDEX`.
    pub index: usize,
    pub count: usize,
    /// The shard of each repository of the list, as this shard planned it.
    pub plan: Vec<usize>,
    /// The keyhound that audited it.
    pub keyhound: String,
    pub elapsed_ms: u64,
}

/// Why a blob was not scanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum SkipReason {
    /// An archive (or an archive's member) over `--max-file-size`: archives are expanded in
    /// memory. Other blobs that large are scanned in windows (`crate::scan::large`).
    TooLarge { size: u64 },
    /// A NUL byte in the first 8 KiB: no longer given (binary blobs are scanned by their
    /// printable runs since issue 19 item 12), kept to read older reports.
    Binary,
    /// Excluded by `.keyhoundignore` or `[allow] paths`.
    Ignored,
    /// Part of an archive was not expanded: a limit against archive bombs was reached. `limit`
    /// names it: `depth`, `entries`, `inflated_size` or `ratio` (see `crate::scan::archive`).
    ArchiveLimit { limit: String },
    /// An archive, or a member of one, could not be read: damaged, encrypted, or compressed
    /// with a method keyhound does not read. A note, not an error: repositories keep broken
    /// archives as test fixtures.
    ArchiveUnreadable { why: String },
    /// Scanned, but `more` of its findings are not listed: past `detect::MAX_PER_SECRET` occurrences
    /// of one secret or `detect::MAX_PER_BLOB` in all (issue 19 item 11: the report stays bounded).
    NotListed { more: u64 },
}

/// One blob that was not scanned, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub path: String,
    #[serde(flatten)]
    pub reason: SkipReason,
}

/// Something a reviewer of a range should see beside the findings (issue 19 item 22): a
/// policy file the range changes, or a `keyhound:allow` it adds. Printed on stderr as it is
/// found, and carried to the reports (`github` annotations, SARIF notifications, GitLab
/// `scan.messages`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Notice {
    /// What happened, in one line (no secret: a redacted one at most).
    pub message: String,
    /// The file it is about, relative to the repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

impl Notice {
    /// Print the notice on stderr and keep it.
    pub fn say(self, into: &mut Vec<Notice>) {
        diag::notice(&self.message);
        into.push(self);
    }
}
