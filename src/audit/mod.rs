//! `keyhound audit --repos-from LIST`: the git history of every repository an organisation has,
//! on one machine or split over N batch workers (a Kubernetes Indexed Job, a GitHub Actions
//! matrix) whose reports `keyhound merge` joins into the report one process would have written.
//!
//! A run reads the list ([`list`]), works out which shard audits which repository
//! ([`shard::plan`], the same in every pod), mirrors the URLs of its own part into the cache
//! ([`mirror`]), audits their history, and writes a report whose summary carries a coverage
//! record per repository and an [`AuditRecord`]: the list's identity and, for a shard, its
//! index, N and the whole plan, so the merge can name the repositories of a shard that never
//! reported. [`merge`] joins shard reports and gives every organisation report its canonical
//! form. No shard checks keys with their providers (N shards would spend N times a provider's
//! rate limit on the same key): `keyhound verify --from` checks each unique secret of the merged
//! report once.
//!
//! One policy holds for the whole organisation: `--config`, else the `.keyhound.toml` found from
//! the current directory, else the built-in rules. A repository's own `.keyhound.toml`,
//! `.keyhoundignore` and baseline do not apply: a repository must not silence the
//! organisation's audit of itself (and a mirror has no work tree to hold them). It does not
//! verify, and it formats nothing itself (`crate::report` does).

pub mod list;
pub mod merge;
pub mod mirror;
pub mod shard;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::diag;
use crate::error::{Error, Outcome};
use crate::finding::Finding;
use crate::options::CommonOptions;
use crate::pipeline::{self, Source};
use crate::policy::Policy;
use crate::report::{json, Coverage, Summary};
use crate::rules::RuleSet;
use crate::scan::history::{RepoArg, Request};
use list::{List, Location};
use merge::Part;

/// This keyhound's version: shards and their merge must agree on it (the rules are built in).
pub const KEYHOUND: &str = env!("CARGO_PKG_VERSION");

/// The environment variable a Kubernetes Indexed Job sets in each pod: its 0-based index.
pub const INDEX_VARIABLE: &str = "JOB_COMPLETION_INDEX";

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

/// Which part of the list to audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardChoice {
    /// The whole list, one report.
    Whole,
    /// `--shard K/N`.
    Fixed { index: usize, count: usize },
    /// `--shards N`: K from `JOB_COMPLETION_INDEX`.
    FromEnv { count: usize },
}

/// `keyhound audit`.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// `--repos-from LIST` (`-` for standard input).
    pub list: PathBuf,
    pub shard: ShardChoice,
    /// `--cache-dir`: where URL mirrors live.
    pub cache_dir: Option<PathBuf>,
    /// `--fetch-timeout`: how long one repository's clone or fetch may take.
    pub fetch_timeout: std::time::Duration,
    /// What the history source is asked (`--since`, `--unreachable`); its repositories are
    /// this shard's part of the list.
    pub history: Request,
    /// `--verify` was asked for: refused, with the way to do it.
    pub verify: bool,
    pub common: CommonOptions,
}

/// `keyhound merge REPORT...`.
#[derive(Debug, Clone)]
pub struct MergeOptions {
    pub reports: Vec<PathBuf>,
    pub common: CommonOptions,
}

/// Run `keyhound audit`.
pub fn run(opts: AuditOptions) -> Result<Outcome, Error> {
    let started = Instant::now();
    diag::set_quiet(opts.common.quiet);
    if opts.verify {
        return Err(Error::new(
            "audit does not check keys (N shards would check the same key N times): write the report with --format json --show-secrets, then run `keyhound verify --from REPORT`, which checks each unique secret once",
        ));
    }
    let (index, count) = resolve(opts.shard, std::env::var(INDEX_VARIABLE).ok())?;
    let list = List::read(&opts.list)?;
    let plan = if count == 1 {
        vec![0; list.entries.len()]
    } else {
        shard::plan(&list.entries, count)
    };
    let mine: Vec<&list::Entry> = list
        .entries
        .iter()
        .zip(&plan)
        .filter(|(_, &s)| s == index)
        .map(|(e, _)| e)
        .collect();
    if count > 1 {
        diag::info(&format!(
            "keyhound: shard {index}/{count}: {} of {} repositories",
            mine.len(),
            list.entries.len()
        ));
    }
    let common = opts.common.clone();
    let rules = org_policy(&common)?
        .import_rules(&common.rules_from)?
        .rules()?;

    // Local paths as they are; URLs mirrored (or refreshed) first, several at once.
    let mut targets: Vec<(String, PathBuf)> = Vec::new();
    let mut failed: Vec<Coverage> = Vec::new();
    let mut stale: Vec<(String, String)> = Vec::new();
    let cache = match mine.iter().any(|e| matches!(e.location, Location::Url(_))) {
        true => Some(mirror::cache_dir(opts.cache_dir.as_deref())?),
        false => None,
    };
    let mut mirrored = mirror_all(&mine, cache.as_deref(), opts.fetch_timeout).into_iter();
    for entry in &mine {
        let (result, elapsed_ms) = match &entry.location {
            Location::Path(path) => {
                targets.push((entry.name.clone(), path.clone()));
                continue;
            }
            Location::Url(_) => mirrored.next().expect("one result per URL"),
        };
        match result {
            Ok(m) => {
                if let Some(why) = m.stale {
                    diag::warn(&format!("{}: {why}", entry.name));
                    stale.push((entry.name.clone(), why));
                }
                targets.push((entry.name.clone(), m.path));
            }
            Err(why) => {
                diag::warn(&format!(
                    "{}: {why}; the other repositories go on",
                    entry.name
                ));
                failed.push(Coverage {
                    repository: entry.name.clone(),
                    incomplete: true,
                    error: Some(why),
                    elapsed_ms,
                    ..Coverage::default()
                });
            }
        }
    }

    let mut part = audit_history(&targets, &opts, &common)?;
    // Each repository's pipeline run was quiet; this run's notes follow --quiet again.
    diag::set_quiet(opts.common.quiet);
    part.summary.coverage.extend(failed);
    for c in &mut part.summary.coverage {
        if let Some((_, why)) = stale.iter().find(|(name, _)| *name == c.repository) {
            c.incomplete = true;
            c.error = Some(why.clone());
        }
    }
    part.summary.audit = Some(AuditRecord {
        list: list.identity(),
        repositories: list.names(),
        since: opts.history.since.clone(),
        unreachable: opts.history.unreachable,
        shard: (count > 1).then(|| ShardRecord {
            index,
            count,
            plan: plan.clone(),
            keyhound: KEYHOUND.into(),
            elapsed_ms: started.elapsed().as_millis() as u64,
        }),
    });
    part.summary.elapsed_ms = started.elapsed().as_millis() as u64;
    let part = if count > 1 {
        part
    } else {
        merge::combine(vec![part])?
    };
    render(part, rules, &opts.common)
}

/// How many mirrors are cloned or fetched at once: fetching waits on the network and the
/// remote's packing more than on this machine.
const FETCHES_AT_ONCE: usize = 4;

/// Mirror (or refresh) the URLs of `entries`, [`FETCHES_AT_ONCE`] at a time: one result and its
/// time in ms per URL, in list order.
fn mirror_all(
    entries: &[&list::Entry],
    cache: Option<&Path>,
    timeout: std::time::Duration,
) -> Vec<(Result<mirror::Mirror, String>, u64)> {
    let urls: Vec<&str> = entries
        .iter()
        .filter_map(|e| match &e.location {
            Location::Url(url) => Some(url.as_str()),
            Location::Path(_) => None,
        })
        .collect();
    let Some(cache) = cache else {
        return Vec::new();
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::with_capacity(urls.len()));
    std::thread::scope(|scope| {
        for _ in 0..FETCHES_AT_ONCE.min(urls.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(url) = urls.get(i) else { break };
                let began = Instant::now();
                let result = mirror::mirror(cache, url, timeout);
                let ms = began.elapsed().as_millis() as u64;
                results
                    .lock()
                    .expect("no mirroring thread panics holding the lock")
                    .push((i, result, ms));
            });
        }
    });
    let mut results = results
        .into_inner()
        .expect("no mirroring thread panics holding the lock");
    results.sort_by_key(|(i, _, _)| *i);
    results.into_iter().map(|(_, r, ms)| (r, ms)).collect()
}

/// Run `keyhound merge`.
pub fn merge(opts: MergeOptions) -> Result<Outcome, Error> {
    diag::set_quiet(opts.common.quiet);
    let rules = Policy::from_work_tree(
        Path::new("."),
        opts.common.config.as_deref(),
        &opts.common.baseline,
    )?
    .rules()?;
    let mut parts = Vec::new();
    for path in &opts.reports {
        let read = json::read(path, &rules)?;
        parts.push(Part {
            origin: path.display().to_string(),
            findings: read.findings,
            summary: read.summary,
        });
    }
    let part = merge::combine(parts)?;
    render(part, rules, &opts.common)
}

/// The shard index and count: `--shard K/N`, or `--shards N` with K from the environment.
fn resolve(choice: ShardChoice, env: Option<String>) -> Result<(usize, usize), Error> {
    match choice {
        ShardChoice::Whole => Ok((0, 1)),
        ShardChoice::Fixed { index, count } => Ok((index, count)),
        ShardChoice::FromEnv { count } => {
            let Some(value) = env else {
                return Err(Error::new(format!(
                    "--shards {count}: {INDEX_VARIABLE} is not set (a Kubernetes Indexed Job sets it in each pod); elsewhere pass --shard K/{count}"
                )));
            };
            match value.trim().parse::<usize>() {
                Ok(k) if k < count => Ok((k, count)),
                _ => Err(Error::new(format!(
                    "--shards {count}: {INDEX_VARIABLE}={value:?} is not a shard index from 0 to {}",
                    count - 1
                ))),
            }
        }
    }
}

/// The organisation's policy (see the module documentation): `--config`, else the config found
/// from the current directory, else the built-in rules alone, so no repository's own applies.
fn org_policy(common: &CommonOptions) -> Result<Policy, Error> {
    let here = Path::new(".");
    if common.config.is_some() || crate::config::Config::find(here).is_some() {
        Policy::from_work_tree(here, common.config.as_deref(), &common.baseline)
    } else {
        Policy::builtin(here, &common.baseline)
    }
}

/// Audit the history of the `(name, path)` repositories in one run of the history pipeline
/// (each blob read once across them all: forks share most objects); the findings and coverage
/// records carry the names.
fn audit_history(
    targets: &[(String, PathBuf)],
    opts: &AuditOptions,
    common: &CommonOptions,
) -> Result<Part, Error> {
    let mut part = Part {
        origin: "audit".into(),
        findings: Vec::new(),
        summary: Summary::default(),
    };
    if targets.is_empty() {
        return Ok(part);
    }
    // The findings come back in memory (issue 19 item 7): no file ever holds them.
    let inner = CommonOptions {
        quiet: true,
        show_suppressed: false,
        list_skipped: false,
        verify: None,
        only_live: false,
        fail_on_live: false,
        ..common.clone()
    };
    let source = Source::History(Request {
        repos: targets
            .iter()
            .map(|(name, path)| RepoArg::new(name.clone(), path.clone()))
            .collect(),
        ..opts.history.clone()
    });
    let began = Instant::now();
    let run = match org_policy(common).and_then(|p| pipeline::collect_under(source, p, &inner)) {
        Ok(run) => run,
        // One repository that cannot be opened at all fails the run (with several, the
        // history source records it and goes on).
        Err(e) if targets.len() == 1 => {
            diag::warn(&format!("{}: {e}", targets[0].0));
            part.summary.coverage.push(Coverage {
                repository: targets[0].0.clone(),
                incomplete: true,
                error: Some(e.to_string()),
                elapsed_ms: began.elapsed().as_millis() as u64,
                ..Coverage::default()
            });
            part.summary.incomplete = true;
            return Ok(part);
        }
        Err(e) => return Err(e),
    };
    // With one repository the history source leaves findings unnamed.
    let only = (targets.len() == 1).then(|| targets[0].0.clone());
    part.findings = run
        .findings
        .into_iter()
        .map(|f| Finding {
            repository: f.repository.or_else(|| only.clone()),
            ..f
        })
        .collect();
    part.summary = run.summary;
    if let Some(name) = &only {
        for c in &mut part.summary.coverage {
            c.repository = name.clone();
        }
    }
    Ok(part)
}

/// Write an audit report in its canonical form through [`pipeline::finish`]; the outcome: 2
/// when a repository was not fully audited, else 1 with findings, else 0.
fn render(part: Part, rules: RuleSet, common: &CommonOptions) -> Result<Outcome, Error> {
    let mut part = part;
    merge::canonical(&mut part, &rules, crate::scan::history::now());
    let summary = &part.summary;
    for c in summary.coverage.iter().filter(|c| c.incomplete) {
        diag::warn(&format!(
            "{}: {}",
            c.repository,
            c.error
                .as_deref()
                .unwrap_or("incomplete: something could not be read")
        ));
    }
    if !common.quiet {
        let gaps = summary.coverage.iter().filter(|c| c.incomplete).count();
        diag::info(&format!(
            "keyhound: audit: {} repositories, {} fully audited, {gaps} with gaps",
            summary.coverage.len(),
            summary.coverage.len() - gaps
        ));
    }
    let run = pipeline::Run {
        findings: part.findings,
        suppressed: Vec::new(),
        summary: part.summary,
        rules,
        judged: None,
        root: PathBuf::from("."),
    };
    // An audit does not verify: any finding fails it, whatever --fail-on says. `--output` is
    // written whole or not at all (`crate::output`), so a pod killed midway leaves no report
    // rather than half of one (which the merge would refuse as a whole).
    let common = CommonOptions {
        fail_on_live: false,
        ..common.clone()
    };
    pipeline::finish(run, &common)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_from_the_environment() {
        let env = |v: &str| Some(v.to_string());
        assert_eq!(resolve(ShardChoice::Whole, None).unwrap(), (0, 1));
        assert_eq!(
            resolve(ShardChoice::FromEnv { count: 4 }, env("3")).unwrap(),
            (3, 4)
        );
        assert!(resolve(ShardChoice::FromEnv { count: 4 }, env("4")).is_err());
        assert!(resolve(ShardChoice::FromEnv { count: 4 }, env("x")).is_err());
        let unset = resolve(ShardChoice::FromEnv { count: 4 }, None).unwrap_err();
        assert!(unset.to_string().contains(INDEX_VARIABLE));
    }
}
