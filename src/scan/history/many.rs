//! Several repositories in one audit (issue 12, item 3): `keyhound history A B C` and
//! `--repos-from FILE`. Forks and mirrors share most objects, so each blob is read and scanned
//! once per run: [`AlreadyRead`] keeps the id of every blob already read for an earlier repository of
//! the run, and the findings (without provenance) of the few that had any. A later repository
//! that reaches such a blob does not read it again; it gives those findings its own commit,
//! path and author. [`RepoArg`] names a repository as the user gave it (what reports show) and
//! where it is on disk; [`repos_from`] reads a list of them. [`run`] audits the repositories
//! one after the other ([`scan_repository`], each with the parent module's `pass`), fills one [`Coverage`] record
//! per repository, and keeps one `--state` record per repository.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use git2::{Oid, Repository};

use super::read::{self, Outcome};
use super::seen::Ids;
use super::state::{self, KnownFinding, RuleKey, Stale, State, States};
use super::{
    attribute, before_base, git_err, open, parse_range, pass, tune_libgit2, HistoryError,
    HistoryResult, Request, Settings, Walk,
};
use crate::detect::Detector;
use crate::diag;
use crate::finding::Finding;
use crate::report::Coverage;
use crate::scan::Stats;

/// A repository to audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoArg {
    /// As the user named it (a path as typed, or the URL a clone was made from): what the
    /// reports show (`repository`), and the key of its record in a `--state` file.
    pub name: String,
    /// Where it is on disk: a work tree, a folder in one, a git directory or a bare repository.
    pub path: PathBuf,
}

impl RepoArg {
    /// A repository named `name` (e.g. a URL) that is on disk at `path` (e.g. its clone).
    pub fn new(name: impl Into<String>, path: impl Into<PathBuf>) -> RepoArg {
        RepoArg {
            name: name.into(),
            path: path.into(),
        }
    }

    /// A repository named by its path, as given.
    pub fn from_path(path: impl Into<PathBuf>) -> RepoArg {
        let path = path.into();
        RepoArg {
            name: path.display().to_string(),
            path,
        }
    }
}

/// The repositories listed in `file`: one path a line, relative to the current directory (as
/// on the command line); blank lines and lines starting with `#` are ignored, and so is
/// whitespace around a path.
pub fn repos_from(file: &Path) -> Result<Vec<RepoArg>, HistoryError> {
    let text = std::fs::read_to_string(file).map_err(|e| HistoryError::Git {
        what: format!("--repos-from {}", file.display()),
        message: format!("cannot read the list of repositories: {e}"),
    })?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(RepoArg::from_path)
        .collect())
}

/// Blobs already read in this run (for an earlier repository), and the findings of those that
/// had any: a value each repository's pass reads, and returns its own part of to be joined.
#[derive(Default)]
pub(super) struct AlreadyRead {
    pub ids: Ids,
    findings: HashMap<Oid, Vec<Finding>>,
}

impl AlreadyRead {
    /// Remember a blob read for this repository, unless it could not be read (another
    /// repository may have it intact).
    pub fn remember(&mut self, blob: Oid, outcome: &Outcome) {
        if outcome.failed() {
            return;
        }
        self.ids.insert(blob);
        if let Outcome::Text { findings, .. } = outcome {
            if !findings.is_empty() {
                self.findings.insert(blob, findings.clone());
            }
        }
    }

    /// What `other` read joins this.
    pub fn join(&mut self, other: AlreadyRead) {
        self.ids.extend(other.ids);
        self.findings.extend(other.findings);
    }

    /// The outcome of a blob read for an earlier repository: `None` when none read it.
    pub fn outcome(&self, blob: &Oid) -> Option<Outcome> {
        if !self.ids.contains(blob) {
            return None;
        }
        Some(Outcome::Shared(
            self.findings.get(blob).cloned().unwrap_or_default(),
        ))
    }
}

/// Whether the repository is a partial clone (`git clone --filter`): a promisor remote
/// (`remote.<name>.promisor`), or `extensions.partialClone`.
fn partial_clone(repo: &Repository) -> bool {
    let Ok(config) = repo.config() else {
        return false;
    };
    if config.get_string("extensions.partialclone").is_ok() {
        return true;
    }
    let Ok(entries) = config.entries(Some(r"remote\..*\.promisor")) else {
        return false;
    };
    let mut promisor = false;
    let _ = entries.for_each(|e| {
        let value = e.value().unwrap_or("").to_ascii_lowercase();
        promisor |= matches!(value.as_str(), "true" | "yes" | "on" | "1");
    });
    promisor
}

/// Commits a shallow clone names as parents but does not have (`.git/shallow` lists the
/// commits whose parents were cut off). The commit objects are read raw: libgit2 hides the
/// parents of a shallow commit.
pub(super) fn shallow_missing(repo: &Repository) -> u64 {
    if !repo.is_shallow() {
        return 0;
    }
    let Ok(text) = std::fs::read_to_string(repo.path().join("shallow")) else {
        return 0;
    };
    let Ok(odb) = repo.odb() else {
        return 0;
    };
    let mut missing = 0;
    for line in text.lines() {
        let Ok(object) = Oid::from_str(line.trim()).and_then(|id| odb.read(id)) else {
            continue;
        };
        let data = object.data();
        // The header ends at the first empty line; each parent is a `parent <id>` line in it.
        let header = data.split(|&b| b == b'\n').take_while(|l| !l.is_empty());
        for l in header {
            let parent = l
                .strip_prefix(b"parent ")
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| Oid::from_str(hex).ok());
            if parent.is_some_and(|p| !odb.exists(p)) {
                missing += 1;
            }
        }
    }
    missing
}

/// Scan the history of every repository of `request`, in order, each blob read once across them
/// all: the findings (each with its repository when there are several) and one coverage record
/// per repository. A repository that cannot be audited at all (not a repository, a bad range, a
/// walk that fails) is reported on stderr and in its record, the run is incomplete (exit 2),
/// and the others are still audited. An error only for a `--since` that is not a date.
pub fn run(
    detector: &Detector,
    request: &Request,
    settings: Settings,
    stats: &Stats,
) -> Result<HistoryResult, HistoryError> {
    let since = match &request.since {
        Some(text) => Some(super::since(text, super::now())?),
        None => None,
    };
    let opts = &Walk {
        request,
        since,
        settings,
    };
    tune_libgit2();
    let key = RuleKey::new(detector.rules(), &opts.settings.limits);
    let mut states = request.state.as_deref().map(|path| load_state(path, &key));
    let several = request.repos.len() > 1;
    let mut already = AlreadyRead::default();
    let mut result = HistoryResult::default();
    // Repositories answered from their record: when all are, the state is not written again.
    let mut answered = 0;
    for arg in &request.repos {
        let started = std::time::Instant::now();
        let errors = Stats::get(&stats.errors);
        let known = states.as_ref().map(|s| {
            if !s.repos.contains_key(&arg.name) && !s.repos.is_empty() {
                diag::note(&format!(
                    "{}: no record of {} yet; reading its whole history",
                    request.state.as_deref().unwrap_or(Path::new("")).display(),
                    arg.name
                ));
            }
            s.repos.get(&arg.name).cloned().unwrap_or_default()
        });
        let known_blobs = known.as_ref().map_or(0, |k| k.blobs.len() as u64);
        let mut coverage = Coverage {
            repository: arg.name.clone(),
            ..Coverage::default()
        };
        // The refs as they are before the walk: what the record will say this audit saw.
        let refs = known
            .as_ref()
            .and_then(|_| open(&arg.path).ok())
            .map(|repo| (state::ref_targets(&repo), repo));
        if let (Some(known), Some((refs, repo))) = (&known, &refs) {
            if let Some(walked) = unmoved(opts, known, refs, repo) {
                answer_from_record(opts, arg, repo, known, walked, stats, &mut coverage);
                answered += 1;
                coverage.elapsed_ms = started.elapsed().as_millis() as u64;
                result.coverage.push(coverage);
                continue;
            }
        }
        let refs = refs.map(|(refs, _)| refs);
        match scan_repository(detector, opts, arg, stats, &already, known) {
            Ok(mut one) => {
                let found = &one.attribution;
                coverage.refs = found.refs;
                coverage.commits = found.walked as u64;
                coverage.blobs_scanned = found.scanned;
                coverage.blobs_shared = found.shared + known_blobs;
                coverage.objects_missing = found.missing + one.shallow_missing;
                coverage.blobs = found.scanned + found.shared + known_blobs + found.unread;
                coverage.commits_skipped = found.skipped;
                coverage.incomplete = coverage.objects_missing > 0 || found.skipped > 0;
                if several {
                    for f in one.findings.iter_mut().chain(&mut one.before_base) {
                        f.repository = Some(arg.name.clone());
                    }
                }
                if let (Some(states), Some(mut state)) = (states.as_mut(), one.attribution.state) {
                    let path = request.state.as_deref().expect("states come from --state");
                    let incomplete = Stats::get(&stats.errors) > errors;
                    // The record answers a later audit only if the blobs the object database
                    // lacks were all that went wrong (not a damaged commit, not a read error).
                    let errors_now = Stats::get(&stats.errors) - errors;
                    let answerable = state.walked.as_ref().is_some_and(|w| {
                        errors_now == w.missing_blobs.len() as u64 && coverage.commits_skipped == 0
                    });
                    if let (Some(walked), Some(refs), true) =
                        (state.walked.as_mut(), refs, answerable)
                    {
                        walked.refs = refs;
                        walked.ref_count = coverage.refs;
                        walked.commits = coverage.commits;
                        walked.blobs = coverage.blobs;
                        walked.objects_missing = coverage.objects_missing;
                    } else {
                        state.walked = None;
                    }
                    let state =
                        record_state(path, arg, state, &one.findings, &one.at_tips, incomplete);
                    states.repos.insert(arg.name.clone(), state);
                }
                already.join(std::mem::take(&mut one.read));
                result.commits += one.attribution.walked;
                result.findings.append(&mut one.findings);
                result.before_base.append(&mut one.before_base);
                result.at_tips.extend(one.at_tips.iter().copied());
                if several {
                    result
                        .tips_by_repository
                        .insert(arg.name.clone(), one.at_tips);
                }
            }
            Err(e) => {
                match e {
                    HistoryError::NotARepository { .. } => diag::warn(&e.to_string()),
                    _ => diag::warn(&format!("{}: {e}", arg.name)),
                }
                stats.error();
                coverage.error = Some(e.to_string());
            }
        }
        coverage.incomplete |= Stats::get(&stats.errors) > errors;
        coverage.elapsed_ms = started.elapsed().as_millis() as u64;
        result.coverage.push(coverage);
    }
    let unchanged = answered == request.repos.len();
    if let (Some(path), Some(states), false) = (&request.state, &states, unchanged) {
        if let Err(e) = states.save(path, &key) {
            diag::warn(&format!(
                "{}: the state cannot be written ({e}); the next audit reads everything again",
                path.display()
            ));
            stats.error();
        }
    }
    Ok(result)
}

/// What one repository's audit gave.
struct RepoScan {
    findings: Vec<Finding>,
    before_base: Vec<Finding>,
    at_tips: HashSet<Oid>,
    attribution: attribute::Attribution,
    shallow_missing: u64,
    /// The blobs this repository's pass read.
    read: AlreadyRead,
}

/// Audit one repository; blobs `already` read are not read again, and what this one reads comes
/// back in [`RepoScan::read`].
fn scan_repository(
    detector: &Detector,
    opts: &Walk,
    arg: &RepoArg,
    stats: &Stats,
    already: &AlreadyRead,
    known: Option<State>,
) -> Result<RepoScan, HistoryError> {
    let repo = open(&arg.path)?;
    let mut missing_parents = 0;
    if repo.is_shallow() {
        warn_shallow(arg);
        missing_parents = shallow_missing(&repo);
    }
    let repo_path = repo.path().to_path_buf();
    let partial = partial_clone(&repo);
    let tips = match &opts.request.range {
        Some(range) => {
            let (from, to) = parse_range(&repo, range)?;
            let id =
                |o: git2::Object, what| o.peel_to_commit().map(|c| c.id()).map_err(git_err(what));
            let (from, to) = (id(from, "--range base")?, id(to, "--range head")?);
            if from == to {
                // A push that adds no commit: nothing to scan, and that is not an error.
                diag::warn(&format!(
                    "--range {range} is empty: both ends are commit {from}; nothing to scan"
                ));
            }
            attribute::Tips::Range { from, to }
        }
        None => attribute::Tips::Refs,
    };
    let plan = attribute::Plan {
        tips,
        since: opts.since,
        all_occurrences: opts.request.all_occurrences,
        unreachable: opts.request.unreachable,
        keep_seen: opts.request.state.is_some(),
    };
    let threads = if opts.settings.threads == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        opts.settings.threads
    };
    let reader = read::Reader {
        detector,
        limits: opts.settings.limits,
        stats,
        repo_path: &repo_path,
        mode: match opts.request.range {
            Some(_) => read::Mode::AddedLines,
            None => read::Mode::All,
        },
        partial,
    };
    // What branch tips hold is walked beside the audit, not after it (a 50 ms tail on
    // trufflehog's repository), with a handle of its own (a `Repository` is not shared).
    let (passed, at_tips) = std::thread::scope(|scope| {
        let tips = scope.spawn(|| {
            Repository::open(&repo_path)
                .ok()
                .map(|r| attribute::tip_blobs(&r))
        });
        let passed = pass(
            &repo,
            &reader,
            &plan,
            threads,
            opts.settings.progress,
            known,
            already,
        );
        (passed, tips.join().ok().flatten())
    });
    let (findings, attribution, read_here) = passed?;
    let at_tips = at_tips.unwrap_or_else(|| attribute::tip_blobs(&repo));
    let before_base = match plan.tips {
        attribute::Tips::Range { from, .. } if !findings.is_empty() => {
            before_base(&repo, reader, from, &findings, threads)
        }
        _ => Vec::new(),
    };
    if partial && attribution.missing > 0 {
        diag::warn(&format!(
            "{}: partial clone: {} blob{} it left out were not scanned (an audit does not fetch); fetch them (git fetch --refetch --filter=blob:limit=1g origin) or audit a full clone",
            arg.name,
            attribution.missing,
            if attribution.missing == 1 { "" } else { "s" }
        ));
    }
    Ok(RepoScan {
        findings,
        before_base,
        at_tips,
        attribution,
        shallow_missing: missing_parents,
        read: read_here,
    })
}

/// The states at `path`, or none (a first audit, or a state of other rules: noted).
fn load_state(path: &Path, key: &RuleKey) -> States {
    match States::load(path, key) {
        Ok(states) => states,
        Err(Stale::Missing) => States::default(),
        Err(Stale::Other(why)) => {
            diag::note(&format!(
                "{}: {why}; reading the whole history again",
                path.display()
            ));
            States::default()
        }
        Err(Stale::Unreadable(why)) => {
            diag::warn(&format!(
                "{}: not a keyhound state file ({why}); reading the whole history, then replacing it",
                path.display()
            ));
            States::default()
        }
    }
}

/// One repository's record after this audit: what it read (its trees only when complete) and
/// its findings beside the earlier ones; say what the earlier findings are now.
fn record_state(
    path: &Path,
    arg: &RepoArg,
    mut state: State,
    findings: &[Finding],
    at_tips: &HashSet<Oid>,
    incomplete: bool,
) -> State {
    for f in &mut state.findings {
        f.at_tip = Oid::from_str(&f.blob).is_ok_and(|b| at_tips.contains(&b));
    }
    say_earlier(path, arg, &state.findings);
    if incomplete {
        state.trees.clear();
    }
    for f in findings {
        let known = KnownFinding {
            rule_id: f.rule_id.clone(),
            fingerprint: f.fingerprint.clone(),
            blob: f.blob.clone().unwrap_or_default(),
            path: f.provenance.path().to_string(),
            commit: f.provenance.commit().map(|c| c.id.clone()),
            at_tip: f
                .blob
                .as_deref()
                .is_some_and(|b| Oid::from_str(b).is_ok_and(|b| at_tips.contains(&b))),
        };
        if !state.findings.iter().any(|k| k.same(&known)) {
            state.findings.push(known);
        }
    }
    state
}

/// How many findings earlier audits recorded, and how many of them are still at a branch tip.
fn say_earlier(path: &Path, arg: &RepoArg, earlier: &[KnownFinding]) {
    if earlier.is_empty() {
        return;
    }
    let still = earlier.iter().filter(|f| f.at_tip).count();
    diag::info(&diag::escape(&format!(
        "keyhound: {}: {}: {} finding{} of earlier audits not reported again, {still} still present at a branch tip",
        path.display(),
        arg.name,
        earlier.len(),
        if earlier.len() == 1 { "" } else { "s" }
    )));
}

/// The record of the last audit, if it can answer this one without a walk (issue 19 item 30):
/// a whole-history audit, refs and `HEAD` where they were, and every blob the last audit found
/// missing still missing. A re-audit of an unchanged repository then costs reading the state
/// and the refs, not a walk of every commit and tree.
fn unmoved<'k>(
    opts: &Walk,
    known: &'k State,
    refs: &std::collections::BTreeMap<String, String>,
    repo: &Repository,
) -> Option<&'k state::Walked> {
    let r = opts.request;
    let whole = r.range.is_none() && r.since.is_none() && !r.unreachable && !r.all_occurrences;
    let walked = known.walked.as_ref()?;
    if !whole || walked.refs.is_empty() || &walked.refs != refs {
        return None;
    }
    let odb = repo.odb().ok()?;
    let still_missing = walked
        .missing_blobs
        .iter()
        .all(|m| Oid::from_str(&m.blob).is_ok_and(|id| !odb.exists(id)));
    still_missing.then_some(walked)
}

/// A re-audit answered from the record: nothing read, nothing new; the missing blobs and a
/// shallow clone warned about as the walk would, so the run's status is the walk's.
fn answer_from_record(
    opts: &Walk,
    arg: &RepoArg,
    repo: &Repository,
    known: &State,
    walked: &state::Walked,
    stats: &Stats,
    coverage: &mut Coverage,
) {
    let path = opts.request.state.as_deref().unwrap_or(Path::new(""));
    diag::note(&format!(
        "{}: {}: no ref has moved since the last audit: nothing new to read",
        path.display(),
        arg.name
    ));
    if repo.is_shallow() {
        warn_shallow(arg);
    }
    for m in &walked.missing_blobs {
        diag::warn(&format!(
            "{}: blob {} cannot be read: not in the object database",
            m.path, m.blob
        ));
        stats.error();
    }
    say_earlier(path, arg, &known.findings);
    coverage.refs = walked.ref_count;
    coverage.commits = walked.commits;
    coverage.blobs = walked.blobs;
    coverage.blobs_shared = walked
        .blobs
        .saturating_sub(walked.missing_blobs.len() as u64);
    coverage.objects_missing = walked.objects_missing;
    coverage.incomplete = walked.objects_missing > 0 || !walked.missing_blobs.is_empty();
}

fn warn_shallow(arg: &RepoArg) {
    diag::warn(&format!("{}: shallow clone: commits before the shallow boundary are not scanned; fetch with --unshallow for a full audit", arg.name));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_repositories_skips_blank_lines_and_comments() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("repos.txt");
        std::fs::write(&file, "# forks\n\n  a \nsub/b\n   # indented comment\nc\n").unwrap();
        let names: Vec<String> = repos_from(&file)
            .unwrap()
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(names, ["a", "sub/b", "c"]);
        let err = repos_from(&dir.path().join("none.txt")).unwrap_err();
        assert!(err.to_string().contains("cannot read the list"), "{err}");
    }
}
