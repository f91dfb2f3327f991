//! `keyhound history --state FILE` (issue 12): what an audit read, kept for the next one, so a
//! re-audit reads only new objects. [`State`] holds the ids of every tree attribution walked
//! and every blob it read (each tree's blobs were all read, so a known tree is skipped whole),
//! and the findings of earlier audits, briefly, so a re-audit can say which of them are still
//! present at a branch tip. A state belongs to one keyhound version and one [`RuleKey`] (the
//! rules and the per-blob limits): with another, it is ignored and the audit reads everything.
//! An incomplete audit keeps no trees (a tree whose blob could not be read is not known), only
//! the blobs it read. It does not report findings (the caller's). A record also keeps what the
//! last audit walked ([`Walked`]: its refs, counts and the blobs that were missing), so a
//! re-audit of a repository whose refs have not moved answers without a walk (issue 19 item 30).
//!
//! One file serves a run of several repositories ([`States`]): one record per repository, keyed
//! by the repository as the user named it (`RepoArg::name`), so name each the same way in every
//! run. A record is per repository, not shared, because attribution is: a blob a fork shares
//! with the repository it was forked from still gives the fork its own findings.
//!
//! The file is JSON: `version`, `keyhound`, `rules` (a SHA-256), and `repositories`, each with
//! `repository`, `trees` and `blobs` (ids as one string of concatenated hex, 40 characters each:
//! on git/git, 330,000 ids in 13 MB that parse in milliseconds), `findings`. It is written to a
//! temporary file and renamed.

use std::collections::BTreeMap;
use std::path::Path;

use git2::Oid;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::seen::Ids;
use crate::rules::{Checksum, RuleSet};
use crate::scan::Limits;

/// The format of the state file (2: one record per repository).
const VERSION: u32 = 2;

/// What decides which findings a blob gives: keyhound's version, the rules and the limits.
pub(super) struct RuleKey(String);

impl RuleKey {
    pub(super) fn new(rules: &RuleSet, limits: &Limits) -> RuleKey {
        let mut h = Sha256::new();
        for r in &rules.rules {
            let fields = format!(
                "{}\0{:?}\0{}\0{:?}\0{:?}\0{}\0{}\0{:?}\0{}\n",
                r.id,
                r.keywords,
                r.pattern,
                r.min_entropy,
                r.checksum.map(Checksum::name),
                r.window,
                r.boundary,
                r.requires_nearby,
                r.nearby_lines
            );
            h.update(fields.as_bytes());
            // Imported gitleaks rules: their secret group, path and allow-lists.
            if r.gitleaks.is_some() {
                h.update(format!("{:?}\0{:?}\n", r.secret_group, r.gitleaks).as_bytes());
            }
        }
        if !rules.allowlists.is_empty() {
            h.update(format!("{:?}\n", rules.allowlists).as_bytes());
        }
        h.update(format!("{}\0{}", limits.max_file_size, limits.binary).as_bytes());
        h.update(format!("\0{}", limits.archive_depth).as_bytes());
        // The findings kept are named by fingerprint: another definition, another state.
        h.update(crate::fingerprint::FINGERPRINT_VERSION.as_bytes());
        RuleKey(format!("{:x}", h.finalize()))
    }
}

/// A finding of an earlier audit, as much as a re-audit needs to name it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(super) struct KnownFinding {
    pub rule_id: String,
    pub fingerprint: String,
    pub blob: String,
    pub path: String,
    pub commit: Option<String>,
    /// Its blob was in a branch tip's tree at the last audit (older states: false).
    #[serde(default)]
    pub at_tip: bool,
}

impl KnownFinding {
    /// The same finding, whatever the last audit said of the tips.
    pub(super) fn same(&self, other: &KnownFinding) -> bool {
        (
            &self.rule_id,
            &self.fingerprint,
            &self.blob,
            &self.path,
            &self.commit,
        ) == (
            &other.rule_id,
            &other.fingerprint,
            &other.blob,
            &other.path,
            &other.commit,
        )
    }
}

/// What the last audit of a repository saw, so that a re-audit of a repository whose refs have
/// not moved answers from the record without walking the history (issue 19 item 30): the refs
/// and what they point at, the coverage counts, and the blobs that were missing (a re-audit
/// looks for them again: if one has arrived, the history is walked).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(super) struct Walked {
    /// Every ref and `HEAD`: name and target (an object id, or `-> name` when symbolic).
    pub refs: BTreeMap<String, String>,
    pub ref_count: u64,
    pub commits: u64,
    pub blobs: u64,
    pub objects_missing: u64,
    /// The blobs that could not be read because the object database lacks them.
    pub missing_blobs: Vec<MissingBlob>,
}

/// A blob the history names and the object database lacked, at its first path.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(super) struct MissingBlob {
    pub blob: String,
    pub path: String,
}

#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    keyhound: String,
    rules: String,
    repositories: Vec<Record>,
}

#[derive(Serialize, Deserialize)]
struct Record {
    repository: String,
    trees: String,
    blobs: String,
    findings: Vec<KnownFinding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    walked: Option<Walked>,
}

/// Every repository's [`State`], by name.
#[derive(Default)]
pub(super) struct States {
    pub repos: BTreeMap<String, State>,
}

/// What earlier audits of one repository read and found.
#[derive(Default, Clone)]
pub(super) struct State {
    pub trees: Ids,
    pub blobs: Ids,
    pub findings: Vec<KnownFinding>,
    /// The last audit's refs and counts, when it read everything its refs reach but blobs the
    /// object database lacks; `None` after an audit with other read errors.
    pub walked: Option<Walked>,
}

/// Why a state file was not used (the audit then reads everything).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Stale {
    /// No file yet: the first audit.
    Missing,
    /// Another keyhound version, other rules or limits, or another format.
    Other(String),
    /// Not a state file, or unreadable.
    Unreadable(String),
}

impl States {
    /// Read `path`, if it belongs to `key` and this keyhound.
    pub(super) fn load(path: &Path, key: &RuleKey) -> Result<States, Stale> {
        // `/dev/null`, a FIFO or another device holds no state (`/dev/zero` would never end);
        // the state is written there in place (issue 19 item 17).
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            return Err(Stale::Missing);
        }
        let text = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Stale::Missing),
            Err(e) => return Err(Stale::Unreadable(e.to_string())),
        };
        let file: File =
            serde_json::from_slice(&text).map_err(|e| Stale::Unreadable(e.to_string()))?;
        if file.version != VERSION {
            return Err(Stale::Other(format!("state format {}", file.version)));
        }
        if file.keyhound != env!("CARGO_PKG_VERSION") {
            return Err(Stale::Other(format!(
                "written by keyhound {}",
                file.keyhound
            )));
        }
        if file.rules != key.0 {
            return Err(Stale::Other("written with other rules or limits".into()));
        }
        let ids = |hex: &str| -> Result<Ids, Stale> {
            let bad = || Stale::Unreadable("an object id is not 40 hex digits".into());
            if hex.len() % 40 != 0 || !hex.is_ascii() {
                return Err(bad());
            }
            (0..hex.len() / 40)
                .map(|i| Oid::from_str(&hex[i * 40..i * 40 + 40]).map_err(|_| bad()))
                .collect()
        };
        let mut repos = BTreeMap::new();
        for r in file.repositories {
            let state = State {
                trees: ids(&r.trees)?,
                blobs: ids(&r.blobs)?,
                findings: r.findings,
                walked: r.walked,
            };
            repos.insert(r.repository, state);
        }
        Ok(States { repos })
    }

    /// Write the states to `path` (a temporary file beside it, then renamed).
    pub(super) fn save(&self, path: &Path, key: &RuleKey) -> std::io::Result<()> {
        // Sorted by bytes and written digit by digit: `Oid`'s order and `to_string` are calls
        // into libgit2 and an allocation each, 0.3 s for git/git's 600,000 ids.
        let hex = |ids: &Ids| {
            let mut sorted: Vec<&[u8]> = ids.iter().map(Oid::as_bytes).collect();
            sorted.sort_unstable();
            let mut s = String::with_capacity(sorted.len() * 40);
            for id in sorted {
                for &b in id {
                    s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
                    s.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
                }
            }
            s
        };
        let file = File {
            version: VERSION,
            keyhound: env!("CARGO_PKG_VERSION").to_string(),
            rules: key.0.clone(),
            repositories: self
                .repos
                .iter()
                .map(|(name, state)| Record {
                    repository: name.clone(),
                    trees: hex(&state.trees),
                    blobs: hex(&state.blobs),
                    findings: state.findings.clone(),
                    walked: state.walked.clone(),
                })
                .collect(),
        };
        let json = serde_json::to_vec(&file).map_err(std::io::Error::other)?;
        // Through a temporary file no concurrent run shares; `/dev/null` in place (issue 19
        // item 17).
        crate::output::write(path, false, |w| w.write_all(&json)).map_err(std::io::Error::other)
    }
}

/// Every ref of `repo` and `HEAD`, with what each points at: equal maps mean the same history.
pub(super) fn ref_targets(repo: &git2::Repository) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut add = |r: &git2::Reference| {
        let target = match (r.target(), r.symbolic_target()) {
            (Some(id), _) => id.to_string(),
            (None, Some(name)) => format!("-> {name}"),
            (None, None) => return,
        };
        out.insert(String::from_utf8_lossy(r.name_bytes()).into_owned(), target);
    };
    if let Ok(refs) = repo.references() {
        for r in refs.flatten() {
            add(&r);
        }
    }
    if let Ok(head) = repo.find_reference("HEAD") {
        add(&head);
    }
    out
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_round_trips_and_belongs_to_its_rules() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let rules = RuleSet::builtin().unwrap();
        let limits = Limits {
            max_file_size: 1000,
            binary: false,
            archive_depth: 3,
        };
        let key = RuleKey::new(&rules, &limits);
        assert_eq!(States::load(&path, &key).err(), Some(Stale::Missing));
        let mut state = State::default();
        state.trees.insert(Oid::from_str(&"ab".repeat(20)).unwrap());
        state.blobs.insert(Oid::from_str(&"cd".repeat(20)).unwrap());
        state.blobs.insert(Oid::from_str(&"ef".repeat(20)).unwrap());
        let mut states = States::default();
        states.repos.insert("a".into(), state);
        states.repos.insert("../b".into(), State::default());
        states.save(&path, &key).unwrap();
        let back = States::load(&path, &key).unwrap();
        let a = &back.repos["a"];
        assert_eq!((a.trees.len(), a.blobs.len()), (1, 2));
        assert!(back.repos["../b"].blobs.is_empty());

        let other = RuleKey::new(
            &rules,
            &Limits {
                max_file_size: 2000,
                ..limits
            },
        );
        assert!(matches!(States::load(&path, &other), Err(Stale::Other(_))));
        std::fs::write(&path, b"{}").unwrap();
        assert!(matches!(
            States::load(&path, &key),
            Err(Stale::Unreadable(_))
        ));
    }
}
