//! The history source (`keyhound history`): every blob reachable from any ref (branches, tags,
//! remote-tracking refs, the stash), read and scanned once, in parallel, however many commits
//! and paths share it; optionally the unreachable ones too. It reads content that `git log -p`
//! never shows, such as a merge commit's conflict resolution.
//!
//! This module holds the options, [`discover`] (which repository a path is in) and [`scan`]. For
//! a whole history, git lists the object database in pack order (`batch::Listing`) and the
//! scanning threads (`read`) read every listed blob, each thread one stretch of the pack with its
//! own `git cat-file --batch` (`batch`), so each blob is inflated once with its delta base at
//! hand, while attribution (`attribute`, with `seen`; it reads trees only) finds which commit
//! introduced each blob; outcomes then get their provenance, and blobs nobody wants are dropped
//! (issue 12). A range or `--since` reads only what attribution wants, after it. In a range
//! audit with findings, a second pass dates them in the base's history. `state` keeps what an
//! audit read for the next (`--state`). [`BaseFiles`] reads the policy files of a range's base;
//! `dates` formats and parses dates; `audit` groups findings and builds the per-secret summary;
//! `error` holds [`HistoryError`]. It does not format output and does not filter findings by
//! policy (config, ignore file, baseline: the caller's, see `crate::pipeline`).

mod attribute;
mod audit;
mod base;
mod batch;
mod dates;
mod error;
mod read;
mod seen;
mod state;

pub use audit::{audit, group};
pub use base::BaseFiles;
pub use dates::{now, parse_since, rfc3339, SINCE_FORMS};
use error::git_err;
pub use error::HistoryError;
use state::{KnownFinding, RuleKey, Stale, State};

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use git2::{Oid, Repository};

use super::{Limits, Stats};
use crate::detect::Detector;
use crate::diag;
use crate::finding::Finding;

/// What to scan.
#[derive(Debug, Clone)]
pub struct HistoryOptions {
    pub repo: PathBuf,
    /// `A..B`: only blobs introduced by commits in B and not in A, and not in A's tree.
    pub range: Option<String>,
    /// Only commits at or after this time (seconds since the epoch, committer date, as
    /// `git log --since`); every blob, at every path, of an older commit is known, not new, even
    /// if a newer commit brings it back. See [`parse_since`].
    pub since: Option<i64>,
    pub unreachable: bool,
    /// Attribute each (blob, path) pair, not each blob, so every path a secret had is listed.
    pub all_occurrences: bool,
    pub limits: Limits,
    pub threads: usize,
    /// Show a progress line on stderr (the caller decides: only on a terminal).
    pub progress: bool,
    /// `--state FILE`: read only what earlier audits recorded there did not, and record this
    /// one (a whole history only: not with `range`, `since` or `all_occurrences`).
    pub state: Option<PathBuf>,
}

/// Where a repository lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoPaths {
    /// The git directory (`.git`, or the repository itself when bare).
    pub git_dir: PathBuf,
    /// The top of the work tree, where `.keyhound.toml` lives; `None` for a bare repository.
    pub work_tree: Option<PathBuf>,
}

/// Find the repository `path` is in, as git does (issue 10): `path` may be the work tree, any
/// directory below it, a git directory or a bare repository. `GIT_DIR` (and `GIT_WORK_TREE`), when
/// set, name the repository instead, relative to `path` as with `git -C path`; the upward search
/// stops at `GIT_CEILING_DIRECTORIES` and at file-system boundaries.
pub fn discover(path: &Path) -> Result<RepoPaths, HistoryError> {
    let repo = open(path)?;
    let work_tree = match std::env::var_os("GIT_WORK_TREE").filter(|v| !v.is_empty()) {
        Some(dir) => Some(path.join(dir)),
        None => repo.workdir().map(Path::to_path_buf),
    };
    Ok(RepoPaths {
        git_dir: repo.path().to_path_buf(),
        work_tree,
    })
}

/// Open the repository `path` is in (see [`discover`]).
fn open(path: &Path) -> Result<Repository, HistoryError> {
    let not_a_repo = |e: git2::Error| HistoryError::NotARepository {
        path: path.to_path_buf(),
        message: e.message().to_string(),
    };
    if let Some(dir) = std::env::var_os("GIT_DIR").filter(|v| !v.is_empty()) {
        return Repository::open(path.join(dir)).map_err(not_a_repo);
    }
    let ceilings: Vec<PathBuf> = std::env::var_os("GIT_CEILING_DIRECTORIES")
        .map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default();
    Repository::open_ext(path, git2::RepositoryOpenFlags::empty(), &ceilings).map_err(not_a_repo)
}

/// The two ends of `A..B`.
fn parse_range<'r>(
    repo: &'r Repository,
    range: &str,
) -> Result<(git2::Object<'r>, git2::Object<'r>), HistoryError> {
    let bad = |message: String| HistoryError::BadRange {
        range: range.to_string(),
        message,
    };
    let spec = repo
        .revparse(range)
        .map_err(|e| bad(e.message().to_string()))?;
    match (spec.from(), spec.to()) {
        (Some(from), Some(to)) => Ok((from.clone(), to.clone())),
        _ => Err(bad("not a range".into())),
    }
}

/// What the scan found beyond the findings: for the audit summary.
#[derive(Debug, Default)]
pub struct HistoryResult {
    /// Each finding carries the id of its blob.
    pub findings: Vec<Finding>,
    /// In a range audit, where the history of the base already had a secret the range reports:
    /// the first commit and path of each, which date the audit summary. Not reported themselves.
    pub before_base: Vec<Finding>,
    /// Blobs in the trees of branch tips (refs/heads): what is still present.
    pub at_tips: HashSet<Oid>,
    pub commits: usize,
}

/// Scan the repository's history.
pub fn scan(
    detector: &Detector,
    opts: &HistoryOptions,
    stats: &Stats,
) -> Result<HistoryResult, HistoryError> {
    tune_libgit2();
    let repo = open(&opts.repo)?;
    if repo.is_shallow() {
        diag::warn("shallow clone: commits before the shallow boundary are not scanned; fetch with --unshallow for a full audit");
    }
    let repo_path = repo.path().to_path_buf();
    let tips = match &opts.range {
        Some(range) => {
            let (from, to) = parse_range(&repo, range)?;
            let id =
                |o: git2::Object, what| o.peel_to_commit().map(|c| c.id()).map_err(git_err(what));
            attribute::Tips::Range {
                from: id(from, "--range base")?,
                to: id(to, "--range head")?,
            }
        }
        None => attribute::Tips::Refs,
    };
    let plan = attribute::Plan {
        tips,
        since: opts.since,
        all_occurrences: opts.all_occurrences,
        unreachable: opts.unreachable,
        keep_seen: opts.state.is_some(),
    };
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        opts.threads
    };
    let reader = read::Reader {
        detector,
        limits: opts.limits,
        stats,
        repo_path: &repo_path,
        mode: match opts.range {
            Some(_) => read::Mode::AddedLines,
            None => read::Mode::All,
        },
    };
    let key = RuleKey::new(detector.rules(), &opts.limits);
    let known = opts.state.as_deref().map(|path| load_state(path, &key));
    let (findings, outcome) = pass(&repo, &reader, &plan, threads, opts.progress, known)?;
    let before_base = match plan.tips {
        attribute::Tips::Range { from, .. } if !findings.is_empty() => {
            before_base(&repo, reader, from, &findings, threads)
        }
        _ => Vec::new(),
    };
    let at_tips = attribute::tip_blobs(&repo);
    if let (Some(path), Some(state)) = (&opts.state, outcome.state) {
        save_state(path, &key, state, &findings, &at_tips, stats);
    }
    Ok(HistoryResult {
        findings,
        before_base,
        at_tips,
        commits: outcome.walked,
    })
}

/// The state at `path`, or an empty one (a first audit, or a state of other rules: noted).
fn load_state(path: &Path, key: &RuleKey) -> State {
    match State::load(path, key) {
        Ok(state) => state,
        Err(Stale::Missing) => State::default(),
        Err(Stale::Other(why)) => {
            diag::note(&format!(
                "{}: {why}; reading the whole history again",
                path.display()
            ));
            State::default()
        }
        Err(Stale::Unreadable(why)) => {
            diag::warn(&format!(
                "{}: not a keyhound state file ({why}); reading the whole history, then replacing it",
                path.display()
            ));
            State::default()
        }
    }
}

/// Record this audit in the state: what it read (its trees only when complete) and its findings
/// beside the earlier ones; say what the earlier findings are now.
fn save_state(
    path: &Path,
    key: &RuleKey,
    mut state: State,
    findings: &[Finding],
    at_tips: &HashSet<Oid>,
    stats: &Stats,
) {
    let earlier = state.findings.len();
    let still = state
        .findings
        .iter()
        .filter(|f| Oid::from_str(&f.blob).is_ok_and(|b| at_tips.contains(&b)))
        .count();
    if earlier > 0 {
        diag::info(&format!(
            "keyhound: {}: {earlier} finding{} of earlier audits not reported again, {still} still present at a branch tip",
            path.display(),
            if earlier == 1 { "" } else { "s" }
        ));
    }
    if stats.is_incomplete() {
        state.trees.clear();
    }
    for f in findings {
        let known = KnownFinding {
            rule_id: f.rule_id.clone(),
            fingerprint: f.fingerprint.clone(),
            blob: f.blob.clone().unwrap_or_default(),
            path: f.provenance.path().to_string(),
            commit: f.provenance.commit().map(|c| c.id.clone()),
        };
        if !state.findings.contains(&known) {
            state.findings.push(known);
        }
    }
    if let Err(e) = state.save(path, key) {
        diag::warn(&format!(
            "{}: the state cannot be written ({e}); the next audit reads everything again",
            path.display()
        ));
        stats.error();
    }
}

/// libgit2 reads only trees and commits here (git reads the blobs), each tree once: hashing every
/// object again only repeats what zlib's checksum guards (a corrupt object still fails to
/// inflate), its object cache keeps what is hardly ever asked for twice (up to 256 MB of it),
/// and the pack is mapped in small windows under a limit, so memory does not grow with the
/// pack (issue 12: 538 MB peak RSS on git/git before these settings, 345 MB with the cache).
fn tune_libgit2() {
    git2::opts::strict_hash_verification(false);
    git2::opts::enable_caching(false);
    // SAFETY: these set libgit2's global options; they are called before this scan opens any
    // repository, and no other thread uses libgit2 at this point of a run.
    unsafe {
        let _ = git2::opts::set_mwindow_size(MWINDOW);
        let _ = git2::opts::set_mwindow_mapped_limit(4 * MWINDOW);
    }
}

/// The size of one mapped window of a pack file.
const MWINDOW: usize = 16 << 20;

/// Attribution, and `threads` scanning threads reading in pack order: the findings kept.
///
/// For a whole history (every ref, or a base's ancestors) git lists the pack and the threads
/// read every listed blob while attribution walks the trees; blobs attribution then does not
/// want are dropped. Otherwise (a range, `--since`), attribution comes first and only what it
/// wants is read, in the order it met them. Blobs wanted but not listed are read at the end.
fn pass(
    repo: &Repository,
    reader: &read::Reader,
    plan: &attribute::Plan,
    threads: usize,
    progress: bool,
    known: Option<State>,
) -> Result<(Vec<Finding>, attribute::Attribution), HistoryError> {
    let keep = known.is_some();
    let (seen, findings_before) = match known {
        Some(state) => (seen::Seen::known(state.trees, state.blobs), state.findings),
        None => (seen::Seen::new(plan.all_occurrences), Vec::new()),
    };
    // Blobs an earlier audit read are not read again, nor listed for reading.
    let skip: Option<seen::Ids> = keep.then(|| seen.blob_ids());
    let whole = matches!(
        plan.tips,
        attribute::Tips::Refs | attribute::Tips::Ancestors(_)
    ) && plan.since.is_none();
    let unreachable = plan.unreachable && matches!(plan.tips, attribute::Tips::Refs);
    let total = AtomicU64::new(0);
    let done_count = AtomicU64::new(0);
    let done = AtomicBool::new(false);
    let (found, early) = std::thread::scope(|scope| {
        if progress {
            let (total, done_count, done) = (&total, &done_count, &done);
            scope.spawn(move || read::progress(reader.stats, total, done_count, done));
        }
        let early = whole.then(|| {
            let (total, done_count) = (&total, &done_count);
            scope.spawn(move || {
                let listing = batch::Listing::read(reader.repo_path)?;
                let wants: Vec<read::Want> = listing
                    .blobs
                    .iter()
                    .filter(|(id, _)| skip.as_ref().is_none_or(|s| !s.contains(id)))
                    .map(|&(id, size)| (id, Some(size)))
                    .collect();
                drop(listing.blobs);
                total.fetch_add(wants.len() as u64, Ordering::Relaxed);
                let outcomes = read::read(reader, &wants, threads, done_count);
                Some((outcomes, listing.complete))
            })
        });
        let found = attribute::attribute(repo, plan, seen, reader.stats);
        let early = early.and_then(|h| h.join().ok().flatten());
        (found, early)
    });
    let mut found = found?;
    let (mut outcomes, complete) = early.unwrap_or_default();
    // Wanted blobs not read yet, in the order attribution met them; with --unreachable, the
    // blobs no ref reaches (listed, or from libgit2 when git listed nothing or not all).
    let mut late: Vec<read::Want> = found
        .order
        .iter()
        .filter(|b| !outcomes.contains_key(b))
        .map(|&b| (b, None))
        .collect();
    let mut stray = Vec::new();
    if unreachable {
        stray.extend(outcomes.keys().filter(|b| !found.met.contains(*b)).copied());
        if !complete {
            for b in read::odb_blobs(repo) {
                if !found.met.contains(&b) && !outcomes.contains_key(&b) {
                    late.push((b, None));
                    stray.push(b);
                }
            }
        }
        stray.sort();
        stray.dedup();
    }
    total.fetch_add(late.len() as u64, Ordering::Relaxed);
    let late_outcomes = read::read(reader, &late, threads, &done_count);
    done.store(true, Ordering::Relaxed);
    outcomes.extend(late_outcomes);

    let mut out = Vec::new();
    let mut parents = None;
    let mut failed = Vec::new();
    for blob in std::mem::take(&mut found.order) {
        let origins = found.blobs.remove(&blob).unwrap_or_default();
        if let (Some(outcome), false) = (outcomes.remove(&blob), origins.is_empty()) {
            if outcome.failed() {
                failed.push(blob);
            }
            out.extend(read::settle(
                reader,
                &found,
                blob,
                &origins,
                outcome,
                &mut parents,
            ));
        }
    }
    for &blob in &stray {
        if let Some(outcome) = outcomes.remove(&blob) {
            if outcome.failed() {
                failed.push(blob);
            }
            let origin = attribute::Origin {
                path: format!("unreachable blob {blob}").into(),
                commit: None,
            };
            out.extend(read::settle(
                reader,
                &found,
                blob,
                &[origin],
                outcome,
                &mut parents,
            ));
        }
    }
    if let Some(state) = found.state.as_mut() {
        // What this audit read joins what earlier ones did; what it could not read does not.
        state.blobs.extend(stray);
        for blob in &failed {
            state.blobs.remove(blob);
        }
        state.findings = findings_before;
    }
    Ok((out, found))
}

/// The secrets a range reports, found in the history of its base (issue 10, #18 there): each
/// blob of that history that holds one of them as it is, attributed to its first commit, so the
/// audit dates a secret from its first exposure, not from the range that copied it. Counted
/// apart (a corrupt object was reported by the main pass already); on failure, a warning and
/// nothing.
fn before_base(
    repo: &Repository,
    reader: read::Reader,
    base: Oid,
    findings: &[Finding],
    threads: usize,
) -> Vec<Finding> {
    let mut secrets: Vec<&str> = findings.iter().map(|f| f.secret.as_str()).collect();
    secrets.sort_unstable();
    secrets.dedup();
    let stats = Stats::default();
    let reader = read::Reader {
        stats: &stats,
        mode: read::Mode::Containing(
            secrets
                .iter()
                .map(|s| memchr::memmem::Finder::new(s.as_bytes()).into_owned())
                .collect(),
        ),
        ..reader
    };
    let plan = attribute::Plan {
        tips: attribute::Tips::Ancestors(base),
        since: None,
        all_occurrences: false,
        unreachable: false,
        keep_seen: false,
    };
    match pass(repo, &reader, &plan, threads, false, None) {
        Ok((mut found, _)) => {
            let wanted: HashSet<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
            found.retain(|f| wanted.contains(f.fingerprint.as_str()));
            audit::keep_earliest(&mut found);
            found
        }
        Err(e) => {
            diag::warn(&format!(
                "the base's history could not be searched for the range's secrets ({e}); the summary dates them from the range"
            ));
            Vec::new()
        }
    }
}
