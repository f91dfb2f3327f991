//! keyhound finds leaked API keys in working trees, staged changes and git history.
//!
//! The data flows one way: **scan -> detect -> filter -> report**. [`run`] is the only place
//! that wires the modules together: it loads the config and rules ([`config`], [`rules`]),
//! builds the [`detect::Detector`], asks a source in [`scan`] for findings and hands them to
//! [`report`]. Each command returns an [`Outcome`] that `main.rs` maps to the exit code.

#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod baseline;
pub mod cli;
pub mod config;
pub mod detect;
pub mod diag;
pub mod finding;
pub mod hook;
pub mod redact;
pub mod report;
pub mod rules;
pub mod scan;
pub mod verify;

use std::fmt;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use config::Config;
use detect::Detector;
use finding::Finding;
use report::{Format, ReportOptions, Summary};
use rules::RuleSet;
use scan::Stats;

/// How a run ended; `main.rs` maps it to the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: nothing found.
    Clean,
    /// 1: findings.
    Findings,
    /// 2: an error, or a scan that could not read everything.
    Error,
}

impl From<Outcome> for std::process::ExitCode {
    fn from(o: Outcome) -> Self {
        std::process::ExitCode::from(match o {
            Outcome::Clean => 0,
            Outcome::Findings => 1,
            Outcome::Error => 2,
        })
    }
}

/// An error that ends the run (exit 2). Carries a one-line, content-free message.
#[derive(Debug)]
pub struct Error {
    message: String,
    broken_pipe: bool,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
            broken_pipe: false,
        }
    }

    /// Writing to a closed pipe (`keyhound scan | head`) ends the run quietly.
    pub fn is_broken_pipe(&self) -> bool {
        self.broken_pipe
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error {
            broken_pipe: e.kind() == std::io::ErrorKind::BrokenPipe,
            message: e.to_string(),
        }
    }
}

impl From<config::ConfigError> for Error {
    fn from(e: config::ConfigError) -> Error {
        Error::new(e.to_string())
    }
}

impl From<rules::LoadError> for Error {
    fn from(e: rules::LoadError) -> Error {
        Error::new(e.to_string())
    }
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Options every scanning command shares.
#[derive(Debug, Clone)]
pub struct CommonOptions {
    pub format: Format,
    pub output: Option<PathBuf>,
    pub show_secrets: bool,
    pub color: ColorChoice,
    pub quiet: bool,
    pub config: Option<PathBuf>,
    pub max_file_size: u64,
    pub binary: bool,
    pub threads: Option<usize>,
    pub baseline: Option<PathBuf>,
    /// `--verify`: check each key with its provider.
    pub verify: Option<verify::VerifyOptions>,
    /// The verification settings given, used by `keyhound verify` whether or not `--verify` was.
    pub verify_settings: verify::VerifyOptions,
    /// `--only-live`: report only keys confirmed live.
    pub only_live: bool,
    /// `--fail-on live`: exit 1 only when a key is confirmed live.
    pub fail_on_live: bool,
}

impl CommonOptions {
    /// The per-blob limits of the sources.
    pub fn limits(&self) -> scan::Limits {
        scan::Limits {
            max_file_size: self.max_file_size,
            binary: self.binary,
        }
    }
}

/// A command to run, parsed from the command line.
#[derive(Debug, Clone)]
pub enum Command {
    Scan {
        paths: Vec<PathBuf>,
        no_ignore: bool,
        common: CommonOptions,
    },
    Rules(RulesCommand),
    /// Scan what is staged; `hook` adds the blocking message for the pre-commit hook.
    Staged {
        common: CommonOptions,
        hook: bool,
    },
    Hook(HookCommand),
    Baseline(BaselineCommand),
    /// Check the keys of an earlier JSON report (made with --show-secrets).
    Verify {
        from: PathBuf,
        common: CommonOptions,
    },
    History {
        repo: PathBuf,
        range: Option<String>,
        since: Option<String>,
        unreachable: bool,
        all_occurrences: bool,
        common: CommonOptions,
    },
}

#[derive(Debug, Clone)]
pub enum HookCommand {
    Install,
    Uninstall,
}

#[derive(Debug, Clone)]
pub enum BaselineCommand {
    /// Scan `path` and write every finding to `output`.
    Create {
        path: PathBuf,
        output: PathBuf,
        common: CommonOptions,
    },
    /// Scan `path`, report the entries of `file` that no longer match, and remove them.
    Prune {
        path: PathBuf,
        file: PathBuf,
        dry_run: bool,
        common: CommonOptions,
    },
}

#[derive(Debug, Clone)]
pub enum RulesCommand {
    List { config: Option<PathBuf> },
    Check { files: Vec<PathBuf> },
}

/// Run a command.
pub fn run(command: Command) -> Result<Outcome, Error> {
    match command {
        Command::Scan {
            paths,
            no_ignore,
            common,
        } => run_scan(paths, no_ignore, &common),
        Command::Rules(cmd) => run_rules(cmd),
        Command::Staged { common, hook } => run_staged(&common, hook),
        Command::Hook(cmd) => run_hook(cmd),
        Command::Baseline(cmd) => run_baseline(cmd),
        Command::Verify { from, common } => run_verify(&from, &common),
        Command::History {
            repo,
            range,
            since,
            unreachable,
            all_occurrences,
            common,
        } => run_history(&repo, range, since, unreachable, all_occurrences, &common),
    }
}

fn run_verify(from: &Path, common: &CommonOptions) -> Result<Outcome, Error> {
    let started = Instant::now();
    let text = std::fs::read_to_string(from)
        .map_err(|e| Error::new(format!("{}: cannot read report: {e}", from.display())))?;
    let report: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::new(format!(
            "{}:{}: not a JSON report",
            from.display(),
            e.line()
        ))
    })?;
    let (detector, config) = prepare(common, Path::new("."))?;
    let rules = detector.rules();
    let mut findings = Vec::new();
    for (i, f) in report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let rule_id = f["rule"].as_str().unwrap_or_default();
        let Some(secret) = f["secret"].as_str() else {
            return Err(Error::new(format!(
                "{}: finding {} has no secret; make the report with --show-secrets",
                from.display(),
                i + 1
            )));
        };
        let Some(rule) = rules.index_of(rule_id) else {
            return Err(Error::new(format!(
                "{}: finding {} names rule \"{rule_id}\", which is no rule",
                from.display(),
                i + 1
            )));
        };
        let n = |k: &str| f[k].as_u64().unwrap_or(0) as usize;
        findings.push(Finding {
            rule,
            rule_id: rule_id.to_string(),
            provider: rules.rules[rule].provider.clone(),
            secret: secret.to_string(),
            fingerprint: detect::locate::fingerprint(rule_id, secret.as_bytes()),
            location: finding::Location {
                line: n("line"),
                column: n("column"),
                end_line: n("end_line"),
                end_column: n("end_column"),
                char_column: n("column"),
                char_end_column: n("end_column"),
            },
            snippet: f["snippet"].as_str().unwrap_or_default().to_string(),
            encoding: None,
            provenance: finding::Provenance::File {
                path: f["path"].as_str().unwrap_or("-").to_string(),
            },
            blob: None,
            verification: None,
            allowed: false,
        });
    }
    let mut common = common.clone();
    common.verify = Some(common.verify_settings.clone());
    finish(
        findings,
        &detector,
        &config,
        &Stats::default(),
        &common,
        started,
    )
}

fn run_history(
    repo: &Path,
    range: Option<String>,
    since: Option<String>,
    unreachable: bool,
    all_occurrences: bool,
    common: &CommonOptions,
) -> Result<Outcome, Error> {
    let started = Instant::now();
    let since = match since {
        None => None,
        Some(s) => Some(
            scan::history::parse_since(&s, scan::history::now())
                .map_err(|e| Error::new(e.to_string()))?,
        ),
    };
    diag::set_quiet(common.quiet);
    // A pull request must not silence the scanner for itself: in --range mode the config, the
    // ignore file and the baseline come from the base revision unless --config is given.
    let mut base_ignore: Option<String> = None;
    let mut common = common.clone();
    let (detector, config) = match (&range, &common.config) {
        (Some(range), None) => {
            let base = scan::history::BaseFiles::read(repo, range)
                .map_err(|e| Error::new(e.to_string()))?;
            for changed in &base.changed {
                diag::warn(&format!(
                    "notice: the range changes {changed}; the version of the base revision is used, so a pull request cannot allow-list its own keys"
                ));
            }
            let config = match &base.config {
                Some(text) => Config::parse(text, &format!("{}:{}", base.base, config::FILE_NAME))?,
                None => Config::default(),
            };
            base_ignore = base.ignore.clone();
            if let Some(path) = &common.baseline {
                common.baseline = base.baseline_file(repo, path).map_err(Error::new)?;
            }
            let (detector, config) = with_config(config)?;
            (detector, config)
        }
        _ => prepare(&common, repo)?,
    };
    let common = &common;
    let ranged = range.is_some();
    let stats = Stats::default();
    let opts = scan::history::HistoryOptions {
        repo: repo.to_path_buf(),
        range,
        since,
        unreachable,
        all_occurrences,
        limits: common.limits(),
        threads: common.threads.unwrap_or(0),
        progress: !common.quiet && std::io::stderr().is_terminal(),
    };
    let mut result =
        scan::history::scan(&detector, &opts, &stats).map_err(|e| Error::new(e.to_string()))?;
    let exclude = match &base_ignore {
        Some(text) => config.exclude_with_text(repo, text)?,
        None if ranged && common.config.is_none() => config.exclude(repo)?,
        None => config.exclude_with_ignore_file(repo)?,
    };
    if let Some(exclude) = exclude {
        let keep: Vec<bool> = result
            .findings
            .iter()
            .map(|f| {
                !exclude
                    .matched_path_or_any_parents(repo.join(f.provenance.path()), false)
                    .is_ignore()
            })
            .collect();
        let mut k = keep.iter();
        result.findings.retain(|_| *k.next().unwrap_or(&true));
    }
    // Inline `keyhound:allow` added in the range still silences a finding, but the summary lists
    // each one, so a reviewer sees what the pull request chose to hide.
    let mut allowed = Vec::new();
    result.findings.retain(|f| {
        if f.allowed {
            allowed.push(format!(
                "{}:{} {} {} (commit {})",
                f.provenance.path(),
                f.location.line,
                f.rule_id,
                redact::redact(&f.secret),
                f.provenance
                    .commit()
                    .map_or("", |c| &c.id[..c.id.len().min(12)])
            ));
        }
        !f.allowed
    });
    allowed.sort();
    allowed.dedup();
    for a in &allowed {
        diag::warn(&format!("notice: keyhound:allow in the range silences {a}"));
    }
    scan::history::group(&mut result, all_occurrences);
    // History is scanned in full or in part: a corrupt object is a warning, and only a scan
    // that read nothing at all is an error.
    let read_something = result.commits > 0 || Stats::get(&stats.files) > 0;
    if read_something {
        stats
            .incomplete
            .store(false, std::sync::atomic::Ordering::Relaxed);
    }
    let secrets = scan::history::audit(&result, detector.rules(), scan::history::now());
    let outcome = finish_with(
        result.findings,
        &detector,
        &config,
        &stats,
        common,
        started,
        secrets,
    )?;
    Ok(outcome)
}

fn run_staged(common: &CommonOptions, hook: bool) -> Result<Outcome, Error> {
    let started = Instant::now();
    let root = git_toplevel(Path::new("."))?;
    let (detector, config) = prepare(common, &root)?;
    let stats = Stats::default();
    let opts = scan::staged::StagedOptions {
        dir: root.clone(),
        limits: common.limits(),
    };
    let mut findings = scan::staged::scan(&detector, &opts, &stats)
        .map_err(|e| Error::new(format!("cannot scan the staged changes: {e}")))?;
    if let Some(exclude) = config.exclude_with_ignore_file(&root)? {
        findings.retain(|f| {
            !exclude
                .matched_path_or_any_parents(root.join(f.provenance.path()), false)
                .is_ignore()
        });
    }
    let outcome = finish(findings, &detector, &config, &stats, common, started)?;
    if hook && outcome == Outcome::Findings {
        diag::info(hook::BLOCK_MESSAGE);
    }
    Ok(outcome)
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

fn run_hook(cmd: HookCommand) -> Result<Outcome, Error> {
    let message = match cmd {
        HookCommand::Install => {
            let exe = std::env::current_exe()
                .map_err(|e| Error::new(format!("cannot find keyhound's own path: {e}")))?;
            hook::install(Path::new("."), &exe)
        }
        HookCommand::Uninstall => hook::uninstall(Path::new(".")),
    }
    .map_err(Error::new)?;
    diag::info(&format!("keyhound: {message}"));
    Ok(Outcome::Clean)
}

/// Walk `path` with the options of `common` and return the findings, for baseline commands.
fn scan_tree(
    path: &Path,
    common: &CommonOptions,
) -> Result<(Vec<Finding>, Detector, Stats), Error> {
    let (detector, config) = prepare(common, path)?;
    let stats = Stats::default();
    let opts = scan::walk::WalkOptions {
        paths: vec![path.to_path_buf()],
        exclude: config.exclude(path)?,
        root: path.to_path_buf(),
        no_ignore: false,
        limits: common.limits(),
        threads: common.threads.unwrap_or(0),
    };
    let mut findings = scan::walk::scan(&detector, &opts, &stats);
    findings.retain(|f| !config.allow.fingerprints.contains(&f.fingerprint));
    findings.sort_by_cached_key(Finding::sort_key);
    Ok((findings, detector, stats))
}

fn run_baseline(cmd: BaselineCommand) -> Result<Outcome, Error> {
    match cmd {
        BaselineCommand::Create {
            path,
            output,
            common,
        } => {
            let (findings, _, stats) = scan_tree(&path, &common)?;
            let b = baseline::Baseline::from_findings(&findings);
            b.save(&output).map_err(Error::new)?;
            diag::info(&format!(
                "keyhound: wrote {} entr{} to {}",
                b.entries.len(),
                if b.entries.len() == 1 { "y" } else { "ies" },
                output.display()
            ));
            Ok(
                if stats.incomplete.load(std::sync::atomic::Ordering::Relaxed) {
                    Outcome::Error
                } else {
                    Outcome::Clean
                },
            )
        }
        BaselineCommand::Prune {
            path,
            file,
            dry_run,
            common,
        } => {
            let mut b = baseline::Baseline::load(&file).map_err(Error::new)?;
            let (findings, _, stats) = scan_tree(&path, &common)?;
            if stats.incomplete.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(Error::new(
                    "the scan was incomplete; not pruning, since a missing file would look stale",
                ));
            }
            let stale = b.stale(&findings);
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            for e in &stale {
                writeln!(
                    out,
                    "stale: {} {} ({}:{})",
                    e.rule, e.redacted, e.path, e.line
                )?;
            }
            if !dry_run && !stale.is_empty() {
                b.entries.retain(|e| !stale.contains(e));
                b.save(&file).map_err(Error::new)?;
            }
            diag::info(&format!(
                "keyhound: {} stale entr{}{}",
                stale.len(),
                if stale.len() == 1 { "y" } else { "ies" },
                if dry_run || stale.is_empty() {
                    String::new()
                } else {
                    format!(" removed from {}", file.display())
                }
            ));
            Ok(Outcome::Clean)
        }
    }
}

/// The rules and detector for a run rooted at `root`, plus the loaded config.
pub fn prepare(common: &CommonOptions, root: &Path) -> Result<(Detector, Config), Error> {
    diag::set_quiet(common.quiet);
    let config = Config::load(common.config.as_deref(), root)?;
    with_config(config)
}

/// The detector for an already loaded config.
fn with_config(config: Config) -> Result<(Detector, Config), Error> {
    let mut set = RuleSet::builtin()?;
    config.apply(&mut set)?;
    Ok((Detector::new(set), config))
}

fn run_scan(
    paths: Vec<PathBuf>,
    no_ignore: bool,
    common: &CommonOptions,
) -> Result<Outcome, Error> {
    let started = Instant::now();
    let paths = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths
    };
    let stdin = paths.iter().any(|p| p.as_os_str() == "-");
    if stdin && paths.len() > 1 {
        return Err(Error::new(
            "`-` (standard input) cannot be combined with other paths",
        ));
    }
    for p in &paths {
        if !stdin && std::fs::symlink_metadata(p).is_err() {
            return Err(Error::new(format!(
                "{}: no such file or directory",
                p.display()
            )));
        }
    }
    // The scanned root: the one directory given, else the current directory.
    let root = match paths.as_slice() {
        [p] if p.is_dir() => p.clone(),
        _ => PathBuf::from("."),
    };
    let (detector, config) = prepare(common, &root)?;
    let stats = Stats::default();
    let findings = if stdin {
        scan::stdin::scan(&detector, &common.limits(), &stats)?
    } else {
        let opts = scan::walk::WalkOptions {
            paths,
            exclude: config.exclude(&root)?,
            root,
            no_ignore,
            limits: common.limits(),
            threads: common.threads.unwrap_or(0),
        };
        scan::walk::scan(&detector, &opts, &stats)
    };
    finish(findings, &detector, &config, &stats, common, started)
}

/// The end every scanning command shares: drop allow-listed findings, sort, write the report
/// and the summary, and decide the outcome.
pub fn finish(
    findings: Vec<Finding>,
    detector: &Detector,
    config: &Config,
    stats: &Stats,
    common: &CommonOptions,
    started: Instant,
) -> Result<Outcome, Error> {
    finish_with(
        findings,
        detector,
        config,
        stats,
        common,
        started,
        Vec::new(),
    )
}

/// [`finish`] with the audit's per-secret summary (history).
fn finish_with(
    mut findings: Vec<Finding>,
    detector: &Detector,
    config: &Config,
    stats: &Stats,
    common: &CommonOptions,
    started: Instant,
    mut secrets: Vec<report::SecretSummary>,
) -> Result<Outcome, Error> {
    findings.retain(|f| !f.allowed && !config.allow.fingerprints.contains(&f.fingerprint));
    if let Some(path) = &common.baseline {
        let b = baseline::Baseline::load(path).map_err(Error::new)?;
        findings.retain(|f| !b.accepts(f));
    }
    if let Some(opts) = &common.verify {
        let verdicts = verify::verify(&findings, opts);
        for (f, v) in findings.iter_mut().zip(verdicts) {
            f.verification = Some(v);
        }
    }
    if common.only_live {
        let before = findings.len();
        let unchecked = findings
            .iter()
            .filter(|f| {
                f.verification.as_ref().is_none_or(|v| {
                    matches!(
                        v.status,
                        verify::Status::Unsupported | verify::Status::Unknown
                    )
                })
            })
            .count();
        findings.retain(|f| {
            f.verification
                .as_ref()
                .is_some_and(|v| v.status == verify::Status::Live)
        });
        diag::info(&format!(
            "keyhound: --only-live hid {} finding{} ({} of them could not be checked: no check for the provider, or no answer)",
            before - findings.len(),
            if before - findings.len() == 1 { "" } else { "s" },
            unchecked
        ));
    }
    let kept: std::collections::HashSet<&str> =
        findings.iter().map(|f| f.fingerprint.as_str()).collect();
    secrets.retain(|s| kept.contains(s.fingerprint.as_str()));
    findings.sort_by_cached_key(Finding::sort_key);
    if common.verify.is_some() {
        // Live keys first: they are what to rotate now.
        findings.sort_by_key(|f| {
            f.verification
                .as_ref()
                .map_or(verify::Status::Unknown, |v| v.status)
        });
    }
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
        findings: findings.len(),
        elapsed_ms: started.elapsed().as_millis() as u64,
        incomplete: stats.incomplete.load(std::sync::atomic::Ordering::Relaxed),
        secrets,
    };
    write_report(&findings, detector.rules(), &summary, common)?;
    if !common.quiet {
        diag::info(&report::summary_line(&summary));
        if !summary.secrets.is_empty() && common.format == Format::Human {
            diag::info(&report::secrets_table(&summary.secrets));
        }
    }
    let failing = if common.fail_on_live {
        findings.iter().any(|f| {
            f.verification
                .as_ref()
                .is_some_and(|v| v.status == verify::Status::Live)
        })
    } else {
        !findings.is_empty()
    };
    Ok(if summary.incomplete {
        Outcome::Error
    } else if failing {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// Write the report to `--output` or stdout.
pub fn write_report(
    findings: &[Finding],
    rules: &RuleSet,
    summary: &Summary,
    common: &CommonOptions,
) -> Result<(), Error> {
    let to_terminal = common.output.is_none() && std::io::stdout().is_terminal();
    let color = match common.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let opts = ReportOptions {
        format: common.format,
        show_secrets: common.show_secrets,
        color,
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

fn run_rules(cmd: RulesCommand) -> Result<Outcome, Error> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match cmd {
        RulesCommand::List { config } => {
            let mut set = RuleSet::builtin()?;
            let config = Config::load(config.as_deref(), Path::new("."))?;
            config.apply(&mut set)?;
            for r in &set.rules {
                writeln!(out, "{:<36} {:<12} {}", r.id, r.provider, r.name)?;
            }
            out.flush()?;
            Ok(Outcome::Clean)
        }
        RulesCommand::Check { files } => {
            let mut set = RuleSet::builtin()?;
            let mut ids: Vec<String> = Vec::new();
            if files.is_empty() {
                ids = set.rules.iter().map(|r| r.id.clone()).collect();
            }
            for file in &files {
                let text = std::fs::read_to_string(file)
                    .map_err(|e| Error::new(format!("{}: cannot read: {e}", file.display())))?;
                let loaded = rules::parse_rules(&text, &file.display().to_string())?;
                ids.extend(loaded.iter().map(|r| r.id.clone()));
                set.extend(loaded);
            }
            let detector = Detector::new(set);
            let problems = rules::check::check(&detector, &ids);
            for p in &problems {
                writeln!(out, "{}: {}", p.rule, p.message)?;
            }
            out.flush()?;
            diag::info(&format!(
                "keyhound: checked {} rule{}: {} problem{}",
                ids.len(),
                if ids.len() == 1 { "" } else { "s" },
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            ));
            Ok(if problems.is_empty() {
                Outcome::Clean
            } else {
                Outcome::Findings
            })
        }
    }
}
