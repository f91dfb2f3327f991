//! The history source (`keyhound history`): every blob reachable from any ref (branches, tags,
//! remote-tracking refs, the stash), read and scanned once, in parallel, however many commits
//! and paths share it; optionally the unreachable ones too. It reads content that `git log -p`
//! never shows, such as a merge commit's conflict resolution.
//!
//! This module holds the options, [`discover`] (which repository a path is in) and one
//! repository's pass; [`run`] (in `many`) runs it on each repository of the run, each blob read
//! once across them all, with a coverage record per repository. For
//! a whole history, git lists the object database in pack order (`batch::Listing`) and the
//! scanning threads (`read`) read every listed blob, each thread one stretch of the pack
//! (`batch`), so each blob is inflated once with its delta base at hand, while attribution (`attribute`, with `seen`; it reads trees only) finds which commit
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
mod many;
mod read;
mod seen;
mod state;

pub use audit::{audit, group, SecretTable};
pub use base::{BaseFiles, Pinned};
pub use dates::{now, parse_since, rfc3339, since, SINCE_FORMS};
use error::git_err;
pub use error::HistoryError;
pub use many::{repos_from, run, RepoArg};
use state::State;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use git2::{Oid, Repository};

use super::{Limits, Stats};
use crate::diag;
use crate::finding::Finding;
use crate::report::Coverage;

/// What a history run is asked: the repositories and the flags of `keyhound history` (or of an
/// audit), built once from the command line and carried unchanged to the walk. A new flag is a
/// field here, its clap field (the binary's `cli.rs`) and its use.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The repositories, audited in this order; a blob an earlier one read is not read again.
    pub repos: Vec<RepoArg>,
    /// `--range A..B`: only blobs introduced by commits in B and not in A, and not in A's tree.
    pub range: Option<String>,
    /// `--since`, as given: only commits at or after this time (committer date, as `git log
    /// --since`); every blob, at every path, of an older commit is known, not new, even if a
    /// newer commit brings it back. Read by [`since`] when the run starts.
    pub since: Option<String>,
    /// `--unreachable`: also objects no ref reaches.
    pub unreachable: bool,
    /// `--all-occurrences`: attribute each (blob, path) pair, not each blob, so every path a
    /// secret had is listed.
    pub all_occurrences: bool,
    /// `--state FILE`: read only what earlier audits recorded there did not, and record this
    /// one (a whole history only: not with `range`, `since` or `all_occurrences`); one record
    /// per repository in the file, by `RepoArg::name`.
    pub state: Option<PathBuf>,
}

/// How a run goes, whatever it is asked: what every source shares (limits, threads, progress).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub limits: Limits,
    /// 0: one thread a core.
    pub threads: usize,
    pub progress: crate::diag::Progress,
}

/// One run of the history source: the request, its `--since` as seconds since the epoch, and
/// the settings.
struct Walk<'a> {
    request: &'a Request,
    since: Option<i64>,
    settings: Settings,
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

/// The two ends of `A..B`, refused when the range cannot be what was meant (issue 19 item
/// 16): an empty base (`..HEAD`: an unset `$BASE`; git would read it as `HEAD..HEAD` and scan
/// nothing), a base this repository does not have (in a shallow clone: how to fetch it), or a
/// reversed range (`v2..v1`: B is an ancestor of A, so the range holds no commit).
fn parse_range<'r>(
    repo: &'r Repository,
    range: &str,
) -> Result<(git2::Object<'r>, git2::Object<'r>), HistoryError> {
    let bad = |message: String| HistoryError::BadRange {
        range: range.to_string(),
        message,
    };
    let (base, head) = range.split_once("..").unwrap_or((range, ""));
    if base.is_empty() {
        return Err(bad(
            "the base revision is empty (an unset variable, as in \"$BASE..HEAD\"?), so the range would hold no commit".into(),
        ));
    }
    let spec = repo.revparse(range).map_err(|e| {
        let mut message = e.message().to_string();
        if repo.is_shallow() {
            let missing = if repo.revparse_single(base).is_err() || head.is_empty() {
                base
            } else {
                head
            };
            message.push_str(&format!(
                "; this is a shallow clone, without {missing}: fetch the whole history (GitHub Actions: `fetch-depth: 0` in actions/checkout; GitLab CI: `GIT_DEPTH: 0`; elsewhere: git fetch --unshallow)"
            ));
        }
        bad(message)
    })?;
    let (from, to) = match (spec.from(), spec.to()) {
        (Some(from), Some(to)) => (from.clone(), to.clone()),
        _ => return Err(bad("not a range".into())),
    };
    if let (Ok(a), Ok(b)) = (from.peel_to_commit(), to.peel_to_commit()) {
        if a.id() != b.id() && repo.graph_descendant_of(a.id(), b.id()).unwrap_or(false) {
            let head = if head.is_empty() { "HEAD" } else { head };
            return Err(bad(format!(
                "{head} is an ancestor of {base}, so the range holds no commit; the base comes first: --range {head}..{base}"
            )));
        }
    }
    Ok((from, to))
}

/// What the scan found beyond the findings: for the audit summary.
#[derive(Debug, Default)]
pub struct HistoryResult {
    /// Each finding carries the id of its blob.
    pub findings: Vec<Finding>,
    /// In a range audit, where the history of the base already had a secret the range reports:
    /// the first commit and path of each, which date the audit summary. Not reported themselves.
    pub before_base: Vec<Finding>,
    /// Blobs in the trees of branch tips (refs/heads) of any of the repositories: what is
    /// still present.
    pub at_tips: HashSet<Oid>,
    /// With several repositories: the blobs at branch tips of each, by name.
    pub tips_by_repository: HashMap<String, HashSet<Oid>>,
    /// Commits walked, over all the repositories.
    pub commits: usize,
    /// What was covered in each repository, in the order given.
    pub coverage: Vec<Coverage>,
}

/// libgit2 reads the history (trees, commits and, unless `KEYHOUND_HISTORY_READER=git`, the
/// blobs): hashing every object again only repeats what zlib's checksum guards (a corrupt
/// object still fails to inflate), its object cache keeps what is hardly ever asked for twice
/// (up to 256 MB of it), and the pack is mapped in windows under a limit, so memory does not
/// grow with the pack. Issue 12, on git/git: 538 MB peak RSS before these settings; with 4
/// windows of 16 MB, attribution and two readers evicted each other's windows (an eighth of
/// the CPU in munmap and page faults); 12 windows cost no more than that in memory than the
/// `git cat-file` children they replace. Large blobs are given back to the system when freed
/// (glibc keeps freed memory above its trim threshold otherwise: 50 MB more peak RSS).
fn tune_libgit2() {
    git2::opts::strict_hash_verification(false);
    git2::opts::enable_caching(false);
    // SAFETY: these set libgit2's and the allocator's global options; they are called before
    // this scan opens any repository, and no other thread uses libgit2 or allocates large
    // blocks at this point of a run.
    unsafe {
        let _ = git2::opts::set_mwindow_size(MWINDOW);
        let _ = git2::opts::set_mwindow_mapped_limit(MWINDOWS * MWINDOW);
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 20);
        }
    }
}

/// The size of one mapped window of a pack file, and how many may be mapped at once.
const MWINDOW: usize = 16 << 20;
const MWINDOWS: usize = 12;

/// Attribution, and `threads` scanning threads reading in pack order: the findings kept.
///
/// For a whole history (every ref, or a base's ancestors) git lists the pack and the threads
/// read every listed blob while attribution walks the trees; blobs attribution then does not
/// want are dropped. Otherwise (a range, `--since`), attribution comes first and only what it
/// wants is read, in the order it met them. Blobs wanted but not listed are read at the end.
/// Blobs `already` read (for an earlier repository of the run) are not read: their findings
/// are given this repository's provenance; what this pass reads comes back as the third value.
fn pass(
    repo: &Repository,
    reader: &read::Reader,
    plan: &attribute::Plan,
    threads: usize,
    progress: crate::diag::Progress,
    known: Option<State>,
    already: &many::AlreadyRead,
) -> Result<(Vec<Finding>, attribute::Attribution, many::AlreadyRead), HistoryError> {
    let mut read_here = many::AlreadyRead::default();
    let keep = known.is_some();
    let (seen, findings_before) = match known {
        Some(state) => (seen::Seen::known(state.trees, state.blobs), state.findings),
        None => (seen::Seen::new(plan.all_occurrences), Vec::new()),
    };
    // Blobs an earlier audit read are not read again, nor listed for reading; nor are those
    // read for an earlier repository of this run.
    let skip: Option<seen::Ids> = keep.then(|| seen.blob_ids());
    let fresh =
        |id: &Oid| skip.as_ref().is_none_or(|s| !s.contains(id)) && !already.ids.contains(id);
    let whole = matches!(
        plan.tips,
        attribute::Tips::Refs | attribute::Tips::Ancestors(_)
    ) && plan.since.is_none();
    let unreachable = plan.unreachable && matches!(plan.tips, attribute::Tips::Refs);
    // A re-audit (`--state` that knows blobs) reads only what is new, after attribution finds
    // it, so it does not list the pack (0.6 s on git/git) for the few blobs it will read.
    let whole = whole && (unreachable || skip.as_ref().is_none_or(|s| s.is_empty()));
    let total = AtomicU64::new(0);
    let done_count = AtomicU64::new(0);
    let done = AtomicBool::new(false);
    let (found, early) = std::thread::scope(|scope| {
        if progress.is_on() {
            let (total, done_count, done) = (&total, &done_count, &done);
            scope.spawn(move || read::progress(progress, reader.stats, total, done_count, done));
        }
        let early = whole.then(|| {
            let (total, done_count) = (&total, &done_count);
            scope.spawn(move || {
                let listing = batch::Listing::read(reader.repo_path)?;
                let wants: Vec<read::Want> = listing
                    .blobs
                    .iter()
                    .filter(|(id, _)| fresh(id))
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
        .filter(|b| !outcomes.contains_key(b) && !already.ids.contains(*b))
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
    let mut missing_blobs = Vec::new();
    for blob in std::mem::take(&mut found.order) {
        let origins = found.blobs.remove(&blob).unwrap_or_default();
        let outcome = match outcomes.remove(&blob) {
            Some(outcome) => {
                if outcome.failed() {
                    found.unread += 1;
                    found.missing += u64::from(matches!(outcome, read::Outcome::Missing));
                } else {
                    found.scanned += 1;
                }
                read_here.remember(blob, &outcome);
                Some(outcome)
            }
            None => {
                let before = already.outcome(&blob);
                found.shared += u64::from(before.is_some());
                before
            }
        };
        if let (Some(outcome), false) = (outcome, origins.is_empty()) {
            if outcome.failed() {
                failed.push(blob);
                if matches!(outcome, read::Outcome::Missing) {
                    missing_blobs.push(state::MissingBlob {
                        blob: blob.to_string(),
                        path: origins[0].path.to_string(),
                    });
                }
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
                found.unread += 1;
            } else {
                found.scanned += 1;
            }
            read_here.remember(blob, &outcome);
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
    // Read but wanted by no ref of this repository: a later one may want them.
    for (blob, outcome) in &outcomes {
        read_here.remember(*blob, outcome);
    }
    if let Some(state) = found.state.as_mut() {
        // What this audit read joins what earlier ones did; what it could not read does not.
        state.blobs.extend(stray);
        for blob in &failed {
            state.blobs.remove(blob);
        }
        state.findings = findings_before;
        // The walk can be answered from the record next time only if nothing but absent blobs
        // went unread (the caller fills in the counts).
        state.walked = (failed.len() == missing_blobs.len()).then(|| state::Walked {
            missing_blobs,
            ..state::Walked::default()
        });
    }
    Ok((out, found, read_here))
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
    match pass(
        repo,
        &reader,
        &plan,
        threads,
        crate::diag::Progress::off(),
        None,
        &many::AlreadyRead::default(),
    ) {
        Ok((mut found, _, _)) => {
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
