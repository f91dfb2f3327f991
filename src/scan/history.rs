//! The history source (`keyhound history`): every blob reachable from any ref (branches, tags,
//! remote-tracking refs, the stash), read and scanned once, in parallel, however many commits
//! and paths share it; optionally the unreachable ones too.
//!
//! Attribution walks commits oldest-first and visits each unique tree once (a tree already seen
//! holds nothing new), so each blob is attributed to the first commit that has it, at the path
//! it had there. It runs on its own thread and feeds blob ids through a bounded channel to the
//! scanning threads, so scanning starts at once and memory stays bounded. It reads content that
//! `git log -p` never shows, such as a merge commit's conflict resolution.
//!
//! It does not format output and does not group findings (see `crate::run_history`).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};

use git2::{ObjectType, Oid, Repository, Sort, TreeWalkMode, TreeWalkResult};

use super::{decode_utf16, scan_blob, Limits, Stats};
use crate::detect::Detector;
use crate::diag;
use crate::finding::{CommitInfo, Finding, Provenance};

/// Why history could not be scanned at all.
#[derive(Debug)]
pub enum HistoryError {
    NotARepository { path: PathBuf, message: String },
    BadRange { range: String, message: String },
    Git { what: String, message: String },
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistoryError::NotARepository { path, message } => write!(
                f,
                "{}: not a git repository ({message}); give the path of a repository",
                path.display()
            ),
            HistoryError::BadRange { range, message } => write!(
                f,
                "--range {range}: {message}; expected BASE..HEAD with revisions this repository has"
            ),
            HistoryError::Git { what, message } => write!(f, "{what}: {message}"),
        }
    }
}

impl std::error::Error for HistoryError {}

fn git_err(what: &str) -> impl Fn(git2::Error) -> HistoryError + '_ {
    move |e| HistoryError::Git {
        what: what.to_string(),
        message: e.message().to_string(),
    }
}

/// What to scan.
#[derive(Debug, Clone)]
pub struct HistoryOptions {
    pub repo: PathBuf,
    /// `A..B`: only blobs introduced by commits in B and not in A, and not in A's tree.
    pub range: Option<String>,
    /// Only commits at or after this time (seconds since the epoch).
    pub since: Option<i64>,
    pub unreachable: bool,
    /// Attribute each (blob, path) pair, not each blob, so every path a secret had is listed.
    pub all_occurrences: bool,
    pub limits: Limits,
    pub threads: usize,
    /// Show a progress line on stderr (the caller decides: only on a terminal).
    pub progress: bool,
}

fn open(path: &Path) -> Result<Repository, HistoryError> {
    Repository::open(path).map_err(|e| HistoryError::NotARepository {
        path: path.to_path_buf(),
        message: e.message().to_string(),
    })
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

/// The files that decide what is reported, as the base revision of a range has them.
#[derive(Debug, Default)]
pub struct BaseFiles {
    /// The base revision as given.
    pub base: String,
    pub config: Option<String>,
    pub ignore: Option<String>,
    /// Those of `.keyhound.toml`, `.keyhoundignore`, `.keyhound-baseline.json` the range changes.
    pub changed: Vec<String>,
    base_tree: Option<Oid>,
    repo_path: PathBuf,
}

impl BaseFiles {
    /// Read `.keyhound.toml` and `.keyhoundignore` from the base of `range` (`A..B`).
    pub fn read(repo_path: &Path, range: &str) -> Result<BaseFiles, HistoryError> {
        let repo = open(repo_path)?;
        let (from, to) = parse_range(&repo, range)?;
        let from_tree = from.peel_to_tree().map_err(git_err("base revision"))?;
        let to_tree = to.peel_to_tree().map_err(git_err("head revision"))?;
        let read = |tree: &git2::Tree, name: &str| -> Option<(Oid, String)> {
            let entry = tree.get_path(Path::new(name)).ok()?;
            let blob = repo.find_blob(entry.id()).ok()?;
            Some((
                entry.id(),
                String::from_utf8_lossy(blob.content()).into_owned(),
            ))
        };
        let mut changed = Vec::new();
        for name in [
            ".keyhound.toml",
            ".keyhoundignore",
            ".keyhound-baseline.json",
        ] {
            if read(&from_tree, name).map(|x| x.0) != read(&to_tree, name).map(|x| x.0) {
                changed.push(name.to_string());
            }
        }
        Ok(BaseFiles {
            base: range.split("..").next().unwrap_or(range).to_string(),
            config: read(&from_tree, ".keyhound.toml").map(|x| x.1),
            ignore: read(&from_tree, ".keyhoundignore").map(|x| x.1),
            changed,
            base_tree: Some(from_tree.id()),
            repo_path: repo_path.to_path_buf(),
        })
    }

    /// The baseline at `path` as the base revision has it, written to a temp file; `None` when
    /// the base has none.
    pub fn baseline_file(&self, repo_root: &Path, path: &Path) -> Result<Option<PathBuf>, String> {
        let repo = Repository::open(&self.repo_path).map_err(|e| e.message().to_string())?;
        let Some(tree) = self.base_tree.and_then(|t| repo.find_tree(t).ok()) else {
            return Ok(None);
        };
        let rel = path.strip_prefix(repo_root).unwrap_or(path);
        let Ok(entry) = tree.get_path(rel) else {
            crate::diag::warn(&format!(
                "notice: the base revision has no {}; no baseline applied",
                rel.display()
            ));
            return Ok(None);
        };
        let blob = repo
            .find_blob(entry.id())
            .map_err(|e| e.message().to_string())?;
        let out = std::env::temp_dir().join(format!("keyhound-base-baseline-{}.json", entry.id()));
        std::fs::write(&out, blob.content()).map_err(|e| e.to_string())?;
        Ok(Some(out))
    }
}

/// What the scan found beyond the findings: for the audit summary.
#[derive(Debug, Default)]
pub struct HistoryResult {
    /// Each finding carries the id of its blob.
    pub findings: Vec<Finding>,
    /// Blobs in the trees of branch tips (refs/heads): what is still present.
    pub at_tips: HashSet<Oid>,
    pub commits: usize,
}

/// A blob to scan and where it was first seen.
struct Job {
    blob: Oid,
    provenance: Provenance,
}

/// Depth of the bounded queue between attribution and scanning.
const QUEUE: usize = 1024;

/// Scan the repository's history.
pub fn scan(
    detector: &Detector,
    opts: &HistoryOptions,
    stats: &Stats,
) -> Result<HistoryResult, HistoryError> {
    let repo = open(&opts.repo)?;
    if repo.is_shallow() {
        diag::warn("shallow clone: commits before the shallow boundary are not scanned; fetch with --unshallow for a full audit");
    }
    let repo_path = repo.path().to_path_buf();
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        opts.threads
    };
    let queued = std::sync::atomic::AtomicU64::new(0);
    let done = std::sync::atomic::AtomicBool::new(false);
    let (tx, rx) = sync_channel::<Job>(QUEUE);
    let rx = Arc::new(Mutex::new(rx));
    let found: Mutex<Vec<Finding>> = Mutex::new(Vec::new());

    let outcome = std::thread::scope(|scope| {
        if opts.progress {
            scope.spawn(|| progress(stats, &queued, &done));
        }
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let rx = Arc::clone(&rx);
                let found = &found;
                let repo_path = &repo_path;
                scope.spawn(move || worker(detector, opts, stats, repo_path, &rx, found))
            })
            .collect();
        let result = attribute(&repo, opts, &tx, stats, &queued);
        drop(tx);
        for w in workers {
            let _ = w.join();
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        result
    });
    let outcome = outcome?;

    let findings = found
        .into_inner()
        .expect("no worker panics while holding the lock");
    Ok(HistoryResult {
        findings,
        at_tips: outcome.at_tips,
        commits: outcome.commits,
    })
}

/// The progress line on stderr (only on a terminal): blobs done of those found so far, MB/s.
fn progress(
    stats: &Stats,
    queued: &std::sync::atomic::AtomicU64,
    done: &std::sync::atomic::AtomicBool,
) {
    use std::io::Write;
    use std::sync::atomic::Ordering::Relaxed;
    let started = std::time::Instant::now();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(250));
        let scanned =
            stats.files.load(Relaxed) + stats.skipped_count() + stats.errors.load(Relaxed);
        let total = queued.load(Relaxed);
        let mb = stats.bytes.load(Relaxed) as f64 / 1e6;
        let rate = mb / started.elapsed().as_secs_f64().max(0.001);
        let mut err = std::io::stderr().lock();
        if done.load(Relaxed) {
            let _ = write!(err, "\r\x1b[2K");
            return;
        }
        let _ = write!(
            err,
            "\r\x1b[2Kkeyhound: history: {scanned}/{total} blobs, {mb:.0} MB, {rate:.0} MB/s"
        );
        let _ = err.flush();
    }
}

/// A scanning thread: its own repository handle, blobs from the queue.
fn worker(
    detector: &Detector,
    opts: &HistoryOptions,
    stats: &Stats,
    repo_path: &Path,
    rx: &Mutex<Receiver<Job>>,
    found: &Mutex<Vec<Finding>>,
) {
    let repo = match Repository::open(repo_path) {
        Ok(r) => r,
        Err(e) => {
            diag::warn(&format!(
                "cannot open the repository again: {}",
                e.message()
            ));
            stats.error();
            return;
        }
    };
    loop {
        let job = match rx.lock().expect("queue lock").recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        // Ask the size first: a 500 MB blob over the limit is never inflated into memory.
        let size = repo
            .odb()
            .and_then(|odb| odb.read_header(job.blob))
            .map(|(size, _)| size as u64);
        if let Ok(size) = size {
            let what = format!("{} (blob {})", job.provenance.path(), job.blob);
            if opts.limits.over(&what, size, stats) {
                continue;
            }
        }
        let blob = match repo.find_blob(job.blob) {
            Ok(b) => b,
            Err(e) => {
                diag::warn(&format!(
                    "{}: blob {} cannot be read: {}",
                    job.provenance.path(),
                    job.blob,
                    e.message()
                ));
                stats.error();
                continue;
            }
        };
        let id = job.blob.to_string();
        let mut findings = scan_blob(
            detector,
            blob.content(),
            &job.provenance,
            Some(&id),
            &opts.limits,
            stats,
        );
        if !findings.is_empty() && opts.range.is_some() {
            // In a range, only lines the commit adds count: a key the file already had (on the
            // base branch, or earlier in the range) is not this commit's doing.
            if let Some(parent) = parent_version(&repo, &job.provenance) {
                let content = blob.content();
                let text = decode_utf16(content);
                let added = super::staged::added_lines(&parent, text.as_deref().unwrap_or(content));
                findings.retain(|f| super::staged::adds(f, &added));
            }
        }
        if !findings.is_empty() {
            let mut found = found.lock().expect("findings lock");
            found.extend(findings);
        }
    }
}

/// The content the same path had in the first parent of the commit that introduced a blob.
fn parent_version(repo: &Repository, provenance: &Provenance) -> Option<Vec<u8>> {
    let Provenance::Commit { path, commit } = provenance else {
        return None;
    };
    let commit = repo.find_commit(Oid::from_str(&commit.id).ok()?).ok()?;
    let parent = commit.parent(0).ok()?;
    let entry = parent.tree().ok()?.get_path(Path::new(path)).ok()?;
    let blob = repo.find_blob(entry.id()).ok()?;
    let content = blob.content();
    Some(decode_utf16(content).unwrap_or_else(|| content.to_vec()))
}

struct Attribution {
    at_tips: HashSet<Oid>,
    commits: usize,
}

/// Walk commits oldest-first, visit each new tree once, send each new blob to the workers.
fn attribute(
    repo: &Repository,
    opts: &HistoryOptions,
    tx: &std::sync::mpsc::SyncSender<Job>,
    stats: &Stats,
    queued: &std::sync::atomic::AtomicU64,
) -> Result<Attribution, HistoryError> {
    let mut walk = repo.revwalk().map_err(git_err("revwalk"))?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
        .map_err(git_err("revwalk"))?;
    let mut seen_trees: HashSet<(Oid, String)> = HashSet::new();
    let mut seen_blobs: HashSet<(Oid, String)> = HashSet::new();
    let mut submodules: HashSet<String> = HashSet::new();
    let path_key = |p: &str| {
        if opts.all_occurrences {
            p.to_string()
        } else {
            String::new()
        }
    };

    match &opts.range {
        Some(range) => {
            let (from, to) = parse_range(repo, range)?;
            walk.push(to.id()).map_err(git_err("--range"))?;
            walk.hide(from.id()).map_err(git_err("--range"))?;
            // What the base already has is not the range's doing.
            if let Ok(tree) = from.peel_to_tree() {
                mark_tree(&tree, &mut seen_trees, &mut seen_blobs, &path_key);
            }
        }
        None => {
            let refs = repo.references().map_err(git_err("reading refs"))?;
            for r in refs.flatten() {
                let name = r.name().unwrap_or("").to_string();
                match r.peel(ObjectType::Commit) {
                    Ok(obj) => {
                        let _ = walk.push(obj.id());
                    }
                    Err(_) => {
                        // A tag of a blob or tree: scan what it points at directly.
                        if let Ok(obj) = r.peel(ObjectType::Blob) {
                            let _ = tx.send(Job {
                                blob: obj.id(),
                                provenance: Provenance::Unreachable {
                                    path: format!("{name} (blob {})", obj.id()),
                                },
                            });
                        }
                    }
                }
            }
        }
    }

    let mut reachable: HashSet<Oid> = HashSet::new();
    let mut commits = 0;
    for oid in walk {
        let oid = match oid {
            Ok(o) => o,
            Err(e) => {
                diag::warn(&format!("history walk: {}", e.message()));
                stats.error();
                continue;
            }
        };
        let commit = match repo.find_commit(oid) {
            Ok(c) => c,
            Err(e) => {
                diag::warn(&format!("commit {oid} cannot be read: {}", e.message()));
                stats.error();
                continue;
            }
        };
        commits += 1;
        if let Some(since) = opts.since {
            if commit.time().seconds() < since {
                // Older than --since: its content is known, not new.
                if let Ok(tree) = commit.tree() {
                    mark_tree(&tree, &mut seen_trees, &mut seen_blobs, &path_key);
                }
                continue;
            }
        }
        let tree = match commit.tree() {
            Ok(t) => t,
            Err(e) => {
                diag::warn(&format!(
                    "commit {oid}: tree cannot be read: {}",
                    e.message()
                ));
                stats.error();
                continue;
            }
        };
        if !seen_trees.insert((tree.id(), path_key(""))) {
            continue;
        }
        let info = commit_info(&commit);
        let mut stack = vec![(tree, String::new())];
        while let Some((tree, prefix)) = stack.pop() {
            for entry in tree.iter() {
                let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
                let path = if prefix.is_empty() {
                    name
                } else {
                    format!("{prefix}/{name}")
                };
                match entry.kind() {
                    Some(ObjectType::Tree) if seen_trees.insert((entry.id(), path_key(&path))) => {
                        match repo.find_tree(entry.id()) {
                            Ok(sub) => stack.push((sub, path)),
                            Err(e) => {
                                diag::warn(&format!(
                                    "{path}: tree {} cannot be read: {}",
                                    entry.id(),
                                    e.message()
                                ));
                                stats.error();
                            }
                        }
                    }
                    Some(ObjectType::Blob) => {
                        reachable.insert(entry.id());
                        if seen_blobs.insert((entry.id(), path_key(&path))) {
                            queued.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let job = Job {
                                blob: entry.id(),
                                provenance: Provenance::Commit {
                                    path,
                                    commit: info.clone(),
                                },
                            };
                            if tx.send(job).is_err() {
                                return Err(HistoryError::Git {
                                    what: "scan".into(),
                                    message: "every scanning thread stopped".into(),
                                });
                            }
                        }
                    }
                    Some(ObjectType::Commit) if submodules.insert(path.clone()) => {
                        diag::note(&format!("{path}: submodule, not followed"));
                    }
                    _ => {}
                }
            }
        }
    }

    if opts.unreachable && opts.range.is_none() {
        scan_unreachable(repo, &reachable, &seen_blobs, tx)?;
    }
    let at_tips = tip_blobs(repo);
    Ok(Attribution { at_tips, commits })
}

/// Mark everything in `tree` as seen without scanning it.
fn mark_tree(
    tree: &git2::Tree,
    seen_trees: &mut HashSet<(Oid, String)>,
    seen_blobs: &mut HashSet<(Oid, String)>,
    path_key: &dyn Fn(&str) -> String,
) {
    seen_trees.insert((tree.id(), path_key("")));
    let _ = tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
        let path = format!("{dir}{}", String::from_utf8_lossy(entry.name_bytes()));
        match entry.kind() {
            Some(ObjectType::Blob) => {
                seen_blobs.insert((entry.id(), path_key(&path)));
            }
            Some(ObjectType::Tree) => {
                seen_trees.insert((entry.id(), path_key(&path)));
            }
            _ => {}
        }
        TreeWalkResult::Ok
    });
}

/// Send every blob in the object database that no ref reaches.
fn scan_unreachable(
    repo: &Repository,
    reachable: &HashSet<Oid>,
    seen: &HashSet<(Oid, String)>,
    tx: &std::sync::mpsc::SyncSender<Job>,
) -> Result<(), HistoryError> {
    let odb = repo.odb().map_err(git_err("object database"))?;
    let seen_ids: HashSet<Oid> = seen.iter().map(|(o, _)| *o).collect();
    let mut blobs = Vec::new();
    odb.foreach(|oid| {
        if !reachable.contains(oid) && !seen_ids.contains(oid) {
            if let Ok((_, kind)) = odb.read_header(*oid) {
                if kind == ObjectType::Blob {
                    blobs.push(*oid);
                }
            }
        }
        true
    })
    .map_err(git_err("object database"))?;
    for oid in blobs {
        let job = Job {
            blob: oid,
            provenance: Provenance::Unreachable {
                path: format!("unreachable blob {oid}"),
            },
        };
        if tx.send(job).is_err() {
            break;
        }
    }
    Ok(())
}

/// Blobs in the trees of local and remote branch tips: content still present today.
fn tip_blobs(repo: &Repository) -> HashSet<Oid> {
    let mut out = HashSet::new();
    let Ok(refs) = repo.references() else {
        return out;
    };
    for r in refs.flatten() {
        if !(r.is_branch() || r.is_remote()) {
            continue;
        }
        if let Ok(tree) = r.peel_to_tree() {
            let _ = tree.walk(TreeWalkMode::PreOrder, |_, entry| {
                if entry.kind() == Some(ObjectType::Blob) {
                    out.insert(entry.id());
                }
                TreeWalkResult::Ok
            });
        }
    }
    out
}

fn commit_info(commit: &git2::Commit) -> CommitInfo {
    let author = commit.author();
    let time = author.when();
    CommitInfo {
        id: commit.id().to_string(),
        author: String::from_utf8_lossy(author.name_bytes()).into_owned(),
        email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
        date: rfc3339(time.seconds(), time.offset_minutes()),
        summary: commit
            .summary_bytes()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .unwrap_or_default(),
        time: time.seconds(),
    }
}

/// RFC 3339 date-time of `secs` since the epoch at `offset` minutes east of UTC.
pub fn rfc3339(secs: i64, offset: i32) -> String {
    let local = secs + i64::from(offset) * 60;
    let days = local.div_euclid(86_400);
    let rem = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let sign = if offset < 0 { '-' } else { '+' };
    let off = offset.unsigned_abs();
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        off / 60,
        off % 60
    )
}

/// Seconds since the epoch of `YYYY-MM-DD` (UTC midnight).
pub fn parse_date(s: &str) -> Option<i64> {
    let mut parts = s.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400)
}

/// Howard Hinnant's days-from-civil algorithm (proleptic Gregorian calendar).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Group findings: one per (secret, path), the earliest commit kept, unless every occurrence
/// was asked for.
pub fn group(result: &mut HistoryResult, all: bool) {
    if all {
        return;
    }
    let mut best: HashMap<(String, String), usize> = HashMap::new();
    for (i, f) in result.findings.iter().enumerate() {
        let key = (f.fingerprint.clone(), f.provenance.path().to_string());
        let time = |j: usize| {
            result.findings[j]
                .provenance
                .commit()
                .map_or(i64::MAX, |c| c.time)
        };
        match best.get(&key) {
            Some(&j) if time(j) <= time(i) => {}
            _ => {
                best.insert(key, i);
            }
        }
    }
    let keep: HashSet<usize> = best.into_values().collect();
    let mut i = 0;
    result.findings.retain(|_| {
        i += 1;
        keep.contains(&(i - 1))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00+00:00");
        assert_eq!(rfc3339(1_700_000_000, 60), "2023-11-14T23:13:20+01:00");
        assert_eq!(rfc3339(1_700_000_000, -300), "2023-11-14T17:13:20-05:00");
        assert_eq!(parse_date("2024-01-01"), Some(1_704_067_200));
        assert_eq!(parse_date("2024-13-01"), None);
        assert_eq!(parse_date("soon"), None);
    }
}
