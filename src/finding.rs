//! The shared nouns every stage passes along: [`Blob`] (bytes and where they came from),
//! [`Provenance`] (where a blob was seen), [`Location`] and [`Finding`] (a rule match that
//! survived every filter). Nothing here does I/O or formatting.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where a blob was seen. For history scans, the commit that introduced it at that path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Provenance {
    /// A file in a working tree, path relative to the scanned root with `/` separators.
    File { path: String },
    /// Standard input.
    Stdin,
    /// The staged (index) version of a file.
    Staged { path: String },
    /// A blob from git history, attributed to the commit that introduced it at `path`.
    Commit { path: String, commit: CommitInfo },
    /// A blob no ref reaches (left by a rebase or force-push); `path` names the blob.
    Unreachable { path: String },
}

impl Provenance {
    /// The path shown to users (`-` for standard input).
    pub fn path(&self) -> &str {
        match self {
            Provenance::File { path } | Provenance::Staged { path } => path,
            Provenance::Commit { path, .. } | Provenance::Unreachable { path } => path,
            Provenance::Stdin => "-",
        }
    }

    /// The same place with `suffix` added to its path: a member of an archive
    /// (`a.zip!inner/path`) or a cell of a notebook (`nb.ipynb#cell-3`). Standard input has no
    /// path to add to: its members are named `-!inner/path`, as files.
    pub fn inside(&self, suffix: &str) -> Provenance {
        if suffix.is_empty() {
            return self.clone();
        }
        let path = format!("{}{suffix}", self.path());
        match self {
            Provenance::File { .. } | Provenance::Stdin => Provenance::File { path },
            Provenance::Staged { .. } => Provenance::Staged { path },
            Provenance::Commit { commit, .. } => Provenance::Commit {
                path,
                commit: commit.clone(),
            },
            Provenance::Unreachable { .. } => Provenance::Unreachable { path },
        }
    }

    /// The commit, for history findings.
    pub fn commit(&self) -> Option<&CommitInfo> {
        match self {
            Provenance::Commit { commit, .. } => Some(commit),
            _ => None,
        }
    }
}

/// The file that holds an archive member or a notebook cell, from a path that
/// [`Provenance::inside`] made: `a.zip` for `a.zip!b.tar!c.env`, `nb.ipynb` for
/// `nb.ipynb#cell-3.output-1`; `None` for a path without such a suffix. (A file name with a `!`
/// of its own is cut there too: policy then also checks the shorter path.)
pub fn container_path(path: &str) -> Option<&str> {
    let mut outer = path;
    if let Some(at) = outer.rfind("#cell-") {
        let cell = &outer[at + "#cell-".len()..];
        let (n, output) = cell.split_once(".output-").unwrap_or((cell, "1"));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if digits(n) && digits(output) {
            outer = &outer[..at];
        }
    }
    if let Some(at) = outer.find('!') {
        outer = &outer[..at];
    }
    (outer.len() < path.len() && !outer.is_empty()).then_some(outer)
}

/// A commit as reported with a history finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitInfo {
    pub id: String,
    pub author: String,
    pub email: String,
    /// RFC 3339 date of the author.
    pub date: String,
    pub summary: String,
    /// Seconds since the epoch, for ordering (not serialized).
    #[serde(skip)]
    pub time: i64,
}

/// A position in a blob: 1-based line and column (columns count bytes), plus the byte range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// 1-based columns counted in Unicode code points (SARIF's `unicodeCodePoints`).
    #[serde(skip)]
    pub char_column: usize,
    #[serde(skip)]
    pub char_end_column: usize,
}

/// A rule match that survived every filter, with where it was seen.
#[derive(Clone, Debug)]
pub struct Finding {
    /// Index of the rule in the [`crate::rules::RuleSet`] that produced it.
    pub rule: usize,
    pub rule_id: String,
    pub provider: String,
    /// The raw secret. Only reports with `--show-secrets` print it.
    pub secret: String,
    /// Stable hash of rule id + secret, independent of position (`crate::fingerprint`).
    pub fingerprint: String,
    /// The secret as reports show it without `--show-secrets`: its rule's known prefix and a
    /// little of the rest (`crate::redact`).
    pub redacted: String,
    pub location: Location,
    /// The line holding the secret, already redacted and shortened around the secret.
    pub snippet: String,
    /// How the text holding the secret was encoded, when it was decoded to find it: `base64`,
    /// `json-escape` (`\u002d`, `\/`) or `percent-encoding` (`%2D`).
    pub encoding: Option<&'static str>,
    pub provenance: Provenance,
    /// The git object id of the blob it was found in (staged and history sources).
    pub blob: Option<String>,
    /// History audits of several repositories: the repository it was found in, as the user
    /// named it (path or URL). `None` for every other source.
    pub repository: Option<String>,
    /// Set by `--verify`.
    pub verification: Option<Verdict>,
    /// A `keyhound:allow` marker is on one of the lines the match spans.
    pub allowed: bool,
    /// Set when the policy silenced it (reported only with `--show-suppressed`).
    pub suppressed: Option<Suppression>,
}

/// Why a finding is not reported (see `crate::policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Suppression {
    /// A `keyhound:allow` comment on its line (or on any line of a multi-line key).
    InlineAllow,
    /// `[allow] paths` or `.keyhoundignore`.
    Path,
    /// The `paths` or `commits` of an allow-list in an imported gitleaks config (`--rules-from`,
    /// `rules_from`).
    Imported,
    /// `[allow] fingerprints`: this secret, wherever it occurs.
    Fingerprint,
    /// The baseline: this secret, wherever it occurs.
    Baseline,
}

impl Suppression {
    pub fn as_str(self) -> &'static str {
        match self {
            Suppression::InlineAllow => "keyhound:allow",
            Suppression::Path => "allow.paths/.keyhoundignore",
            Suppression::Imported => "gitleaks allow-list",
            Suppression::Fingerprint => "allow.fingerprints",
            Suppression::Baseline => "baseline",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::container_path;

    #[test]
    fn container_paths() {
        assert_eq!(container_path("a/b.zip!c/d.env"), Some("a/b.zip"));
        assert_eq!(container_path("a.zip!b.tar.gz!c.env"), Some("a.zip"));
        assert_eq!(container_path("nb.ipynb#cell-3"), Some("nb.ipynb"));
        assert_eq!(
            container_path("nb.ipynb#cell-3.output-12"),
            Some("nb.ipynb")
        );
        assert_eq!(container_path("a.zip!nb.ipynb#cell-1"), Some("a.zip"));
        assert_eq!(container_path("src/C#/x.cs"), None);
        assert_eq!(container_path("notes#cell-x.md"), None);
        assert_eq!(container_path("plain.env"), None);
    }
}

impl Finding {
    /// Sort key that makes report order stable: path, line, column, rule.
    pub fn sort_key(&self) -> (String, usize, usize, String, String) {
        (
            self.provenance.path().to_string(),
            self.location.line,
            self.location.column,
            self.rule_id.clone(),
            self.provenance
                .commit()
                .map(|c| c.id.clone())
                .unwrap_or_default(),
        )
    }
}

/// What a provider said about a key (`--verify`): see `crate::verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Live,
    Invalid,
    Unknown,
    Unsupported,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Live => "live",
            Status::Invalid => "invalid",
            Status::Unknown => "unknown",
            Status::Unsupported => "unsupported",
        }
    }
}

/// The answer about one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub status: Status,
    pub reason: String,
    pub metadata: BTreeMap<String, String>,
}
