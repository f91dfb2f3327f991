//! The one way a scanning command runs: **source -> findings -> policy -> verify -> report ->
//! outcome**. [`run`] prepares the [`Policy`] and the detector for the [`Source`], asks the
//! source for findings (`crate::scan`), lets the policy decide what is reported, checks keys with
//! their providers when asked (`crate::verify`), writes the report (`crate::report`) and turns
//! what happened into an [`Outcome`]. Every command that scans goes through here, so "is this
//! finding reported?" and "what is the exit code?" have one answer each.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::detect::Detector;
use crate::diag;
use crate::error::{Error, Outcome};
use crate::finding::{Finding, Status, Suppression};
use crate::options::CommonOptions;
use crate::policy::Policy;
use crate::report::{self, ReportOptions, Summary, VerificationCounts};
use crate::scan::{self, history, Stats};
use crate::verify;

/// What a run scans.
#[derive(Debug, Clone)]
pub enum Source {
    /// Files and folders of a working tree.
    Tree {
        paths: Vec<PathBuf>,
        no_ignore: bool,
    },
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
    /// repository when there are several. Build it with [`history::RepoArg`]s and call [`run`].
    History {
        repos: Vec<history::RepoArg>,
        range: Option<String>,
        since: Option<String>,
        unreachable: bool,
        all_occurrences: bool,
        /// `--state FILE`: read only what the audits recorded there did not.
        state: Option<PathBuf>,
    },
    /// The findings of an earlier JSON report (made with `--show-secrets`), to verify again.
    Report(PathBuf),
}

/// What the source found, before the policy.
struct Scanned {
    findings: Vec<Finding>,
    /// History: blobs at branch tips and the commits walked, for the audit summary.
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

/// Run a scanning command from source to outcome.
pub fn run(source: Source, common: &CommonOptions) -> Result<Outcome, Error> {
    let started = Instant::now();
    diag::set_quiet(common.quiet);
    let stats = Stats::default();
    let prepared = prepare(&source, common)?;
    let scanned = scan_source(&source, &prepared, common, &stats)?;
    let ranged = matches!(source, Source::History { range: Some(_), .. });
    let coverage = match (&scanned.history, &scanned.earlier) {
        (Some(h), _) => h.coverage.clone(),
        (None, Some(earlier)) => earlier.coverage.clone(),
        (None, None) => Vec::new(),
    };
    let (mut reported, suppressed) = match &source {
        // Keys handed over from a report are checked as they are.
        Source::Report(_) => (scanned.findings, Vec::new()),
        _ => prepared.policy.apply(scanned.findings, &prepared.base),
    };
    if ranged {
        note_inline_allows(&suppressed);
    }
    if let Source::History {
        all_occurrences, ..
    } = &source
    {
        history::group(&mut reported, *all_occurrences);
    }
    if let Some(opts) = &common.verify {
        let verdicts = verify::verify(&reported, opts);
        for (f, v) in reported.iter_mut().zip(verdicts) {
            f.verification = Some(v);
        }
    }
    let verification = common
        .verify
        .as_ref()
        .map(|_| VerificationCounts::of(&reported));
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
    let secrets = match (&scanned.history, &scanned.earlier) {
        (Some(result), _) => {
            history::audit(&reported, result, prepared.detector.rules(), history::now())
        }
        (None, Some(earlier)) => earlier.secrets.clone(),
        (None, None) => Vec::new(),
    };
    let skipped = stats.skipped();
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
        audit: scanned.earlier.as_ref().and_then(|e| e.audit.clone()),
    };
    let failing = failing(&reported, common);
    let mut shown = reported;
    if common.show_suppressed {
        let mut silenced = suppressed;
        silenced.sort_by_cached_key(Finding::sort_key);
        shown.extend(silenced);
    }
    write_report(&shown, prepared.detector.rules(), &summary, common)?;
    if !common.quiet {
        diag::info(&report::summary_line(&summary));
        if let Some(line) = summary.verification.as_ref().map(report::verification_line) {
            diag::info(&line);
        }
        if !summary.secrets.is_empty() && common.format == report::Format::Human {
            diag::info(&report::secrets_table(&summary.secrets));
        }
        let gaps = summary.coverage.iter().any(|c| c.incomplete);
        if (summary.coverage.len() > 1 || gaps) && common.format == report::Format::Human {
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

/// The findings of a source after the policy (without verification or a report), for
/// `keyhound baseline create|prune`: sorted, with the run's stats and the policy's root folder
/// (where the baseline belongs).
pub fn findings(
    source: Source,
    common: &CommonOptions,
) -> Result<(Vec<Finding>, Stats, PathBuf), Error> {
    diag::set_quiet(common.quiet);
    let stats = Stats::default();
    let prepared = prepare(&source, common)?;
    let scanned = scan_source(&source, &prepared, common, &stats)?;
    let (mut reported, _) = prepared.policy.apply(scanned.findings, &prepared.base);
    reported.sort_by_cached_key(Finding::sort_key);
    Ok((reported, stats, prepared.policy.root().to_path_buf()))
}

/// Build the policy and detector for a source.
fn prepare(source: &Source, common: &CommonOptions) -> Result<Prepared, Error> {
    let (policy, base) = match source {
        Source::Tree { paths, no_ignore } => {
            let root = tree_root(paths);
            let policy = Policy::from_work_tree(&root, common.config.as_deref(), &common.baseline)?;
            let policy = if *no_ignore {
                policy.without_paths()
            } else {
                policy
            };
            (policy, root)
        }
        Source::Stdin | Source::Report(_) => {
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
        Source::History { repos, range, .. } if repos.len() != 1 => {
            if range.is_some() {
                return Err(Error::new(
                    "--range names revisions of one repository; give one repository with it",
                ));
            }
            if repos.is_empty() {
                return Err(Error::new("no repository to audit"));
            }
            let here = PathBuf::from(".");
            (
                Policy::from_work_tree(&here, common.config.as_deref(), &common.baseline)?,
                here,
            )
        }
        Source::History { repos, range, .. } => {
            let repo = &repos[0].path;
            // A repository that cannot be opened still gets its coverage record (with the
            // error) and exit 2, under the current directory's policy, unless a range needs
            // its base revision.
            let root = match repo_root(repo) {
                Ok(root) => root,
                Err(_) if range.is_none() => PathBuf::from("."),
                Err(e) => return Err(e),
            };
            // A pull request must not silence the scanner for itself: in --range mode the
            // config, the ignore file and the baseline come from the base revision, unless
            // --config is given.
            let policy = match (range, &common.config) {
                (Some(range), None) => {
                    let base = history::BaseFiles::read(repo, range)
                        .map_err(|e| Error::new(e.to_string()))?;
                    Policy::from_revision(&root, &base, &common.baseline)?
                }
                _ => Policy::from_work_tree(&root, common.config.as_deref(), &common.baseline)?,
            };
            (policy, root)
        }
    };
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
        Source::Tree { paths, no_ignore } => {
            let opts = scan::walk::WalkOptions {
                paths: if paths.is_empty() {
                    vec![PathBuf::from(".")]
                } else {
                    paths.clone()
                },
                root: base.clone(),
                no_ignore: *no_ignore,
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
        Source::History {
            repos,
            range,
            since,
            unreachable,
            all_occurrences,
            state,
        } => {
            let since = match since {
                None => None,
                Some(s) => {
                    Some(history::since(s, history::now()).map_err(|e| Error::new(e.to_string()))?)
                }
            };
            let opts = history::HistoryOptions {
                repos: repos.clone(),
                range: range.clone(),
                since,
                unreachable: *unreachable,
                all_occurrences: *all_occurrences,
                limits: common.limits(),
                threads: common.threads.unwrap_or(0),
                progress: !common.quiet && std::io::stderr().is_terminal(),
                state: state.clone(),
            };
            let mut result = history::scan(detector, &opts, stats);
            let findings = std::mem::take(&mut result.findings);
            return Ok(Scanned {
                findings,
                history: Some(result),
                earlier: None,
            });
        }
        Source::Report(path) => {
            let read = report::json::read(path, detector.rules())?;
            return Ok(Scanned {
                findings: read.findings,
                history: None,
                earlier: Some(read.summary),
            });
        }
    };
    Ok(Scanned {
        findings,
        history: None,
        earlier: None,
    })
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
    let out = std::process::Command::new("git")
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

/// In a range, an inline `keyhound:allow` still silences a finding, but each one is listed so
/// a reviewer sees what the pull request chose to hide.
fn note_inline_allows(suppressed: &[Finding]) {
    let mut allowed: Vec<String> = suppressed
        .iter()
        .filter(|f| f.suppressed == Some(Suppression::InlineAllow))
        .map(|f| {
            format!(
                "{}:{} {} {} (commit {})",
                f.provenance.path(),
                f.location.line,
                f.rule_id,
                crate::redact::redact(&f.secret),
                f.provenance
                    .commit()
                    .map_or("", |c| &c.id[..c.id.len().min(12)])
            )
        })
        .collect();
    allowed.sort();
    allowed.dedup();
    for a in &allowed {
        diag::notice(&format!("keyhound:allow in the range silences {a}"));
    }
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
/// fails, and so does a key that could not be checked (`unknown`: no answer, rate limited),
/// unless `--allow-unknown`: a CI job must not go green without having checked anything.
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
    let (live, unknown) = (status(Status::Live), status(Status::Unknown));
    if live == 0 && unknown > 0 {
        if common.allow_unknown {
            diag::warn(&format!(
                "{unknown} key{} could not be checked (unknown); --allow-unknown: not counted by --fail-on live",
                if unknown == 1 { "" } else { "s" }
            ));
        } else {
            diag::warn(&format!(
                "{unknown} key{} could not be checked (unknown), so --fail-on live fails; rerun when the providers answer, or pass --allow-unknown to count only keys confirmed live",
                if unknown == 1 { "" } else { "s" }
            ));
        }
    }
    live > 0 || (unknown > 0 && !common.allow_unknown)
}

/// Write the report to `--output` or stdout.
pub(crate) fn write_report(
    findings: &[Finding],
    rules: &crate::rules::RuleSet,
    summary: &Summary,
    common: &CommonOptions,
) -> Result<(), Error> {
    let to_terminal = common.output.is_none() && std::io::stdout().is_terminal();
    let opts = ReportOptions {
        format: common.format,
        show_secrets: common.show_secrets,
        color: report::style::use_color(common.color, to_terminal, |k| std::env::var_os(k)),
    };
    match &common.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| Error::new(format!("{}: cannot write report: {e}", path.display())))?;
            let mut out = std::io::BufWriter::new(file);
            report::write(&mut out, findings, rules, summary, &opts)?;
            out.flush()?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            report::write(&mut out, findings, rules, summary, &opts)?;
            out.flush()?;
        }
    }
    Ok(())
}
