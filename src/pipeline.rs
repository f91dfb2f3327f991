//! The one way a scanning command runs: **source -> findings -> policy -> verify -> report ->
//! outcome**. [`run`] prepares the [`Policy`] and the detector for the [`Source`], asks the
//! source for findings (`crate::scan`), lets the policy decide what is reported, checks keys with
//! their providers when asked (`crate::verify`), writes the report (`crate::report`) and turns
//! what happened into an [`Outcome`]. Every command that scans goes through here, so "is this
//! finding reported?" and "what is the exit code?" have one answer each. `verify --from`
//! ([`verify_report`]) joins after the policy, with the findings of an earlier report.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::detect::Detector;
use crate::diag;
use crate::error::{Error, Outcome};
use crate::finding::{Finding, Status};
use crate::options::CommonOptions;
use crate::policy::Policy;
use crate::report::{self, Summary, VerificationCounts};
use crate::rules::RuleSet;
use crate::scan::{self, history, Stats};
use crate::verify;

/// What a run scans.
#[derive(Debug, Clone)]
pub enum Source {
    /// Files and folders of a working tree.
    Tree(scan::walk::Request),
    /// Standard input, as one blob named `-`.
    Stdin,
    /// What the index holds for the next commit (only the lines it adds).
    Staged,
    /// Git history: every blob reachable from any ref, or only what `range` adds, of each
    /// repository in turn, each blob read once across them all (issue 12). With one
    /// repository, the policy comes from its work tree (or the range's base); with several, from
    /// `--config` or the current directory, as for standard input (one rule set for the run,
    /// since a blob is scanned once for all). `range` goes with one repository only. The
    /// report's summary has a coverage record per repository; findings carry their
    /// repository when there are several. The request goes to `history::run` as it is.
    History(history::Request),
}

/// What the source found, before the policy.
struct Scanned {
    findings: Vec<Finding>,
    /// History: blobs at branch tips and the commits walked, for the audit summary.
    history: Option<history::HistoryResult>,
}

/// Findings after the policy, before the steps every run shares ([`conclude`]: verification,
/// `--only-live`, order, summary).
struct Decided {
    reported: Vec<Finding>,
    suppressed: Vec<Finding>,
    notices: Vec<crate::policy::Notice>,
    /// History: what the audit summary is made from.
    history: Option<history::HistoryResult>,
    /// `verify --from`: the report's summary, whose coverage, secrets and audit record the
    /// verified report keeps (issue 13: an organisation's merged report, verified).
    earlier: Option<Summary>,
}

/// The policy and detector of a run, and where it is rooted.
struct Prepared {
    policy: Policy,
    detector: Detector,
    /// The folder finding paths are relative to.
    base: PathBuf,
}

/// What a run found: the value between [`collect`] and [`finish`]. `audit` collects the history
/// of its repositories and renders the organisation's report through [`finish`]; nothing writes
/// a report to a file to read it back.
#[derive(Debug)]
pub struct Run {
    /// Reported findings, in report order (verified when asked; `--only-live` applied).
    pub findings: Vec<Finding>,
    /// Findings the policy silenced, in report order (listed with `--show-suppressed`).
    pub suppressed: Vec<Finding>,
    pub summary: Summary,
    /// The rules that made the findings.
    pub rules: RuleSet,
    /// With `--fail-on live`: whether the keys fail the run, judged before `--only-live` hid
    /// any (issue 19 item 4); `None`: [`finish`] judges the reported findings.
    pub judged: Option<bool>,
    /// The folder the policy's paths are relative to (where `baseline create` writes).
    pub root: PathBuf,
}

/// Run a scanning command from source to outcome.
pub fn run(source: Source, common: &CommonOptions) -> Result<Outcome, Error> {
    let run = collect(source, common)?;
    finish(run, common)
}

/// Scan a source and settle its findings: the policy, history's grouping, verification and
/// `--only-live`, in report order, with the run's summary. Writes no report.
pub fn collect(source: Source, common: &CommonOptions) -> Result<Run, Error> {
    let started = Instant::now();
    let prepared = prepare(&source, common)?;
    settle(source, prepared, common, started)
}

/// [`collect`] under a policy built by the caller (an organisation's, for `audit`), rooted at
/// the current directory.
pub fn collect_under(source: Source, policy: Policy, common: &CommonOptions) -> Result<Run, Error> {
    let started = Instant::now();
    let prepared = with_detector(policy, PathBuf::from("."), common)?;
    settle(source, prepared, common, started)
}

/// The part of [`collect`] after the policy is prepared.
fn settle(
    source: Source,
    prepared: Prepared,
    common: &CommonOptions,
    started: Instant,
) -> Result<Run, Error> {
    check(common)?;
    let stats = Stats::default();
    let scanned = scan_source(&source, &prepared, common, &stats)?;
    let (mut reported, suppressed) = prepared.policy.apply(scanned.findings, &prepared.base);
    let mut notices = prepared.policy.notices().to_vec();
    if let Source::History(request) = &source {
        if request.range.is_some() {
            crate::policy::note_inline_allows(&suppressed, &mut notices);
        }
        history::group(&mut reported, request.all_occurrences);
    }
    let decided = Decided {
        reported,
        suppressed,
        notices,
        history: scanned.history,
        earlier: None,
    };
    let root = prepared.policy.root().to_path_buf();
    let rules = prepared.detector.rules().clone();
    Ok(conclude(decided, &stats, rules, root, common, started))
}

/// `keyhound verify --from REPORT`: the findings of an earlier JSON report (made with
/// `--show-secrets`), checked with their providers and reported again under the current
/// directory's rules; the report's coverage, secrets and audit record are kept.
pub fn verify_report(path: &Path, common: &CommonOptions) -> Result<Outcome, Error> {
    let started = Instant::now();
    let here = PathBuf::from(".");
    let policy = Policy::from_work_tree(&here, common.config.as_deref(), &common.baseline)?
        .import_rules(&common.rules_from)?;
    let rules = policy.rules()?;
    check(common)?;
    let read = report::json::read(path, &rules)?;
    // Keys handed over from a report are checked as they are; what the report marks as
    // silenced (made with --show-suppressed) stays silenced (issue 19 item 26: it was checked
    // and failed the run, while `verify --show-suppressed` did nothing).
    let (reported, suppressed) = read
        .findings
        .into_iter()
        .partition(|f| f.suppressed.is_none());
    let decided = Decided {
        reported,
        suppressed,
        notices: policy.notices().to_vec(),
        history: None,
        earlier: Some(read.summary),
    };
    let root = policy.root().to_path_buf();
    let run = conclude(decided, &Stats::default(), rules, root, common, started);
    finish(run, common)
}

/// What every run checks of its options before it starts.
fn check(common: &CommonOptions) -> Result<(), Error> {
    diag::set_quiet(common.quiet);
    // Issue 19 item 26: alone, the flag did nothing, silently.
    if common.allow_unknown && !common.fail_on_live {
        return Err(Error::new(
            "--allow-unknown only changes what --fail-on live counts; add --fail-on live (without it, every finding fails the run)",
        ));
    }
    Ok(())
}

/// The steps every run shares after the policy: verification, `--fail-on live`'s judgement,
/// `--only-live`, report order and the summary.
fn conclude(
    decided: Decided,
    stats: &Stats,
    rules: RuleSet,
    root: PathBuf,
    common: &CommonOptions,
    started: Instant,
) -> Run {
    let Decided {
        mut reported,
        mut suppressed,
        notices,
        history,
        earlier,
    } = decided;
    let coverage = match (&history, &earlier) {
        (Some(h), _) => h.coverage.clone(),
        (None, Some(earlier)) => earlier.coverage.clone(),
        (None, None) => Vec::new(),
    };
    if let Some(opts) = &common.verify {
        let verdicts = verify::verify(&reported, &rules, opts);
        for (f, v) in reported.iter_mut().zip(verdicts) {
            f.verification = Some(v);
        }
    }
    let verification = common
        .verify
        .as_ref()
        .map(|_| VerificationCounts::of(&reported));
    // `--fail-on live` judges every key, also those `--only-live` leaves out of the report: a
    // key that could not be checked must fail it either way (issue 19 item 4).
    let judged = common.fail_on_live.then(|| failing(&reported, common));
    if common.only_live {
        hide_all_but_live(&mut reported);
    }
    // One repository after the other, in the order given (`repository` is None but with
    // several).
    let order = |f: &Finding| {
        let name = f.repository.as_deref();
        coverage
            .iter()
            .position(|c| Some(c.repository.as_str()) == name)
    };
    reported.sort_by_cached_key(|f| (order(f), f.sort_key()));
    if common.verify.is_some() {
        // Live keys first: they are what to rotate now.
        reported.sort_by_key(|f| {
            f.verification
                .as_ref()
                .map_or(Status::Unknown, |v| v.status)
        });
    }
    let secrets = match (&history, &earlier) {
        (Some(result), _) => history::audit(&reported, result, &rules, history::now()),
        (None, Some(earlier)) => earlier.secrets.clone(),
        (None, None) => Vec::new(),
    };
    let mut skipped = stats.skipped();
    one_per_path(&mut skipped);
    let summary = Summary {
        files: Stats::get(&stats.files),
        bytes: Stats::get(&stats.bytes),
        skipped_binary: skipped
            .iter()
            .filter(|s| s.reason == scan::SkipReason::Binary)
            .count() as u64,
        skipped_large: skipped
            .iter()
            .filter(|s| matches!(s.reason, scan::SkipReason::TooLarge { .. }))
            .count() as u64,
        skipped,
        errors: Stats::get(&stats.errors),
        findings: reported.len(),
        suppressed: suppressed.len(),
        elapsed_ms: started.elapsed().as_millis() as u64,
        incomplete: stats.is_incomplete(),
        verification,
        secrets,
        coverage,
        notices,
        audit: earlier.as_ref().and_then(|e| e.audit.clone()),
    };
    suppressed.sort_by_cached_key(Finding::sort_key);
    Run {
        findings: reported,
        suppressed,
        summary,
        rules,
        judged,
        root,
    }
}

/// Write the report of a run and say on stderr what it found; the outcome: 2 when something
/// could not be read, else 1 when a reported finding fails the run, else 0.
pub fn finish(run: Run, common: &CommonOptions) -> Result<Outcome, Error> {
    let Run {
        findings: reported,
        suppressed,
        summary,
        rules,
        judged,
        root: _,
    } = run;
    let failing = judged.unwrap_or_else(|| failing(&reported, common));
    let mut shown = reported;
    if common.show_suppressed {
        shown.extend(suppressed);
    }
    // A whole-list audit report leaves out what depends on how the audit was split (times,
    // blobs and bytes read), so one audit gives the same bytes however it was split; the summary
    // line below still tells the work done.
    let emit = |summary: &Summary| {
        report::emit(
            common.output.as_deref(),
            &shown,
            &rules,
            summary,
            common.format,
            common.show_secrets,
            common.color,
        )
    };
    let written = match summary.whole_list_audit() {
        true => emit(&summary.without_run_statistics()),
        false => emit(&summary),
    };
    match written {
        // The reader went away (`keyhound scan . | head -1`): the run's outcome still stands,
        // so findings exit 1, never 0 (issue 19 item 5). A clean run ends as a closed pipe
        // ends any program (main.rs).
        Err(e) if e.is_broken_pipe() && (failing || summary.incomplete) => {}
        written => written?,
    }
    if !common.quiet {
        diag::info(&report::summary_line(&summary));
        if let Some(line) = summary.verification.as_ref().map(report::verification_line) {
            diag::info(&line);
        }
        if !summary.secrets.is_empty() && common.format == report::Format::Human {
            diag::info(&report::secrets_table(&summary.secrets));
        }
        let gaps = summary.coverage.iter().any(|c| c.incomplete);
        let many = summary.coverage.len() > 1 || summary.audit.is_some();
        if (many || gaps) && common.format == report::Format::Human {
            diag::info(&report::coverage_table(&summary.coverage));
        }
    }
    if common.list_skipped {
        for s in &summary.skipped {
            diag::info(&format!("keyhound: skipped: {}", report::skip_text(s)));
        }
    }
    Ok(if summary.incomplete {
        Outcome::Error
    } else if failing {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// Build the policy and detector for a source.
fn prepare(source: &Source, common: &CommonOptions) -> Result<Prepared, Error> {
    let (policy, base) = match source {
        Source::Tree(request) => {
            let root = tree_root(&request.paths);
            let policy = Policy::from_work_tree(&root, common.config.as_deref(), &common.baseline)?;
            let policy = if request.no_ignore {
                policy.without_paths()
            } else {
                policy
            };
            (policy, root)
        }
        Source::Stdin => {
            let here = PathBuf::from(".");
            (
                Policy::from_work_tree(&here, common.config.as_deref(), &common.baseline)?,
                here,
            )
        }
        Source::Staged => {
            let root = git_toplevel(Path::new("."))?;
            (
                Policy::from_work_tree(&root, common.config.as_deref(), &common.baseline)?,
                root,
            )
        }
        Source::History(request) if request.repos.len() != 1 => {
            if request.range.is_some() {
                return Err(Error::new(
                    "--range names revisions of one repository; give one repository with it",
                ));
            }
            if request.repos.is_empty() {
                return Err(Error::new("no repository to audit"));
            }
            let here = PathBuf::from(".");
            (
                Policy::from_work_tree(&here, common.config.as_deref(), &common.baseline)?,
                here,
            )
        }
        Source::History(request) => {
            let (repo, range) = (&request.repos[0].path, &request.range);
            // A repository that cannot be opened still gets its coverage record (with the
            // error) and exit 2, under the current directory's policy, unless a range needs
            // its base revision.
            let root = match repo_root(repo) {
                Ok(root) => root,
                Err(_) if range.is_none() => PathBuf::from("."),
                Err(e) => return Err(e),
            };
            // A pull request must not silence the scanner for itself: in --range mode the
            // config, the ignore file, the baseline and the files --config, --rules-from and
            // --baseline name in the repository come from the base revision.
            let policy = match range {
                Some(range) => {
                    let base = history::BaseFiles::read(repo, range)
                        .map_err(|e| Error::new(e.to_string()))?;
                    let config = common.config.as_deref();
                    let policy = Policy::from_revision(
                        &root,
                        &base,
                        config,
                        &common.rules_from,
                        &common.baseline,
                    )?;
                    return Ok(Prepared {
                        detector: Detector::new(policy.rules()?),
                        policy,
                        base: root,
                    });
                }
                None => Policy::from_work_tree(&root, common.config.as_deref(), &common.baseline)?,
            };
            (policy, root)
        }
    };
    with_detector(policy, base, common)
}

/// The policy with `--rules-from` imported, and its detector.
fn with_detector(policy: Policy, base: PathBuf, common: &CommonOptions) -> Result<Prepared, Error> {
    let policy = policy.import_rules(&common.rules_from)?;
    let detector = Detector::new(policy.rules()?);
    Ok(Prepared {
        policy,
        detector,
        base,
    })
}

/// Ask the source for its findings.
fn scan_source(
    source: &Source,
    prepared: &Prepared,
    common: &CommonOptions,
    stats: &Stats,
) -> Result<Scanned, Error> {
    let detector = &prepared.detector;
    let base = &prepared.base;
    let findings = match source {
        Source::Tree(request) => {
            let opts = scan::walk::WalkOptions {
                request,
                root: base.clone(),
                limits: common.limits(),
                threads: common.threads.unwrap_or(0),
                exclude: prepared.policy.path_filter().cloned(),
            };
            scan::walk::scan(detector, &opts, stats)
        }
        Source::Stdin => scan::stdin::scan(detector, &common.limits(), stats)?,
        Source::Staged => {
            let opts = scan::staged::StagedOptions {
                dir: base.clone(),
                limits: common.limits(),
            };
            scan::staged::scan(detector, &opts, stats)
                .map_err(|e| Error::new(format!("cannot scan the staged changes: {e}")))?
        }
        Source::History(request) => {
            let settings = history::Settings {
                limits: common.limits(),
                threads: common.threads.unwrap_or(0),
                progress: diag::Progress::new(common.quiet),
            };
            let mut result = history::run(detector, request, settings, stats)
                .map_err(|e| Error::new(e.to_string()))?;
            let findings = std::mem::take(&mut result.findings);
            return Ok(Scanned {
                findings,
                history: Some(result),
            });
        }
    };
    Ok(Scanned {
        findings,
        history: None,
    })
}

/// Skipped blobs one per path and kind of reason, sorted by path (a history meets every version
/// of a file: the list names it once, and the one over the size limit keeps its largest size),
/// so `history` and `audit` of one repository count alike (issue 19 item 23).
pub(crate) fn one_per_path(skipped: &mut Vec<scan::Skipped>) {
    // The variant's name (any variant, so a new reason needs no change here).
    let kind = |s: &scan::Skipped| {
        let text = format!("{:?}", s.reason);
        let end = text.find([' ', '{', '(']).unwrap_or(text.len());
        text[..end].to_string()
    };
    let size = |s: &scan::Skipped| match s.reason {
        scan::SkipReason::TooLarge { size } => size,
        _ => 0,
    };
    // History names a version by its blob (`a.gz (blob 1f2e…)`): one entry per path, as an
    // audit of the same repository lists it.
    for s in skipped.iter_mut() {
        if let Some(i) = s.path.rfind(" (blob ").filter(|_| s.path.ends_with(')')) {
            s.path.truncate(i);
        }
    }
    skipped.sort_by_cached_key(|s| (s.path.clone(), kind(s), std::cmp::Reverse(size(s))));
    skipped.dedup_by(|b, a| a.path == b.path && kind(a) == kind(b));
}

/// The scanned root of a tree scan: the one directory given, else the current directory.
fn tree_root(paths: &[PathBuf]) -> PathBuf {
    match paths {
        [p] if p.is_dir() => p.clone(),
        _ => PathBuf::from("."),
    }
}

/// The top of the work tree of the repository holding `repo` (found as git does, from any
/// folder inside it), or its git folder when it is bare.
fn repo_root(repo: &Path) -> Result<PathBuf, Error> {
    let found = history::discover(repo).map_err(|e| Error::new(e.to_string()))?;
    Ok(found.work_tree.unwrap_or(found.git_dir))
}

/// The top directory of the git work tree holding `dir`.
fn git_toplevel(dir: &Path) -> Result<PathBuf, Error> {
    let out = crate::git::command()
        .current_dir(dir)
        .args(["rev-parse", "--show-toplevel"])
        .output()
        .map_err(|e| Error::new(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        return Err(Error::new(format!(
            "{}: not inside a git work tree ({})",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// `--only-live`: keep keys confirmed live, and say how many were hidden and why.
fn hide_all_but_live(findings: &mut Vec<Finding>) {
    let before = findings.len();
    let unchecked = findings
        .iter()
        .filter(|f| {
            f.verification
                .as_ref()
                .is_none_or(|v| matches!(v.status, Status::Unsupported | Status::Unknown))
        })
        .count();
    findings.retain(|f| {
        f.verification
            .as_ref()
            .is_some_and(|v| v.status == Status::Live)
    });
    let hidden = before - findings.len();
    diag::info(&format!(
        "keyhound: --only-live hid {hidden} finding{} ({unchecked} of them could not be checked: no check for the provider, or no answer)",
        if hidden == 1 { "" } else { "s" },
    ));
}

/// Whether the reported findings make the run fail (exit 1). With `--fail-on live`, a live key
/// fails, and so does a key that was not checked: `unknown` (no answer, rate limited) and
/// `unsupported` (no live check for its provider: AWS, private keys, ...), unless
/// `--allow-unknown`: a CI job must not go green without having checked anything (issue 19
/// item 4: 147 of 222 rules have no check, and their keys passed silently).
fn failing(reported: &[Finding], common: &CommonOptions) -> bool {
    if !common.fail_on_live {
        return !reported.is_empty();
    }
    let status = |s: Status| {
        reported
            .iter()
            .filter(|f| f.verification.as_ref().is_some_and(|v| v.status == s))
            .count()
    };
    let live = status(Status::Live);
    let (unknown, unsupported) = (status(Status::Unknown), status(Status::Unsupported));
    let unchecked = unknown + unsupported;
    if live == 0 && unchecked > 0 {
        let what = format!(
            "{unchecked} key{} could not be checked ({unsupported} unsupported: no live check for the provider; {unknown} unknown: no answer)",
            if unchecked == 1 { "" } else { "s" }
        );
        if common.allow_unknown {
            diag::warn(&format!(
                "{what}; --allow-unknown: not counted by --fail-on live"
            ));
        } else {
            diag::warn(&format!(
                "{what}, so --fail-on live fails; rotate unsupported keys to be safe, rerun when the providers answer, or pass --allow-unknown to count only keys confirmed live"
            ));
        }
    }
    live > 0 || (unchecked > 0 && !common.allow_unknown)
}
