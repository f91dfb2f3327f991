//! Command-line parsing (clap derive) and its conversion into the library's plain
//! [`keyhound::Command`] values. Part of the binary, not the library; no logic beyond parsing
//! and conversion lives here. Each subcommand takes only the flags that do something there.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use keyhound::audit::{AuditOptions, MergeOptions, ShardChoice};
use keyhound::policy::BaselineChoice;
use keyhound::report::{ColorChoice, Format};
use keyhound::scan::history::{RepoArg, Request};
use keyhound::{BaselineCommand, Command, CommonOptions, HookCommand, RulesCommand};

/// Find leaked API keys (OpenAI first) in files, staged changes and git history.
///
/// Exit status: 0 nothing found, 1 findings, 2 error or incomplete scan.
#[derive(Debug, Parser)]
#[command(name = "keyhound", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: CliCommand,
}

#[derive(Debug, Subcommand)]
enum CliCommand {
    /// Scan files and directories (default: the current directory); `-` reads standard input.
    Scan {
        /// Files or directories to scan; `-` for standard input.
        paths: Vec<PathBuf>,
        #[command(flatten)]
        common: CommonArgs,
        /// Scan every path: ignore .gitignore, .ignore, .keyhoundignore and [allow] paths.
        #[arg(long, help_heading = "Input")]
        no_ignore: bool,
    },
    /// Scan git history: every blob reachable from any ref, each once, attributed to the commit
    /// that introduced it.
    History {
        #[command(flatten)]
        history: HistoryArgs,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Scan what is staged for commit (the index), reporting only the lines the change adds.
    Staged {
        #[command(flatten)]
        common: CommonArgs,
        /// Explain how to proceed when a commit is blocked (used by the pre-commit hook).
        #[arg(long)]
        hook: bool,
    },
    /// Check the keys of an earlier JSON report (made with --show-secrets) with their providers.
    Verify {
        /// The JSON report.
        #[arg(long, value_name = "REPORT")]
        from: PathBuf,
        #[command(flatten)]
        output: ReportArgs,
        /// Also report the findings the earlier report marks as silenced (it was made with
        /// --show-suppressed), marked; they are not checked and do not fail the run.
        #[arg(long, help_heading = "Output")]
        show_suppressed: bool,
        /// Config file (its custom rules name the keys' providers).
        #[arg(long, value_name = "FILE", help_heading = "Input")]
        config: Option<PathBuf>,
        #[command(flatten)]
        outcome: VerifyOutcomeArgs,
        #[command(flatten)]
        settings: VerifySettingsArgs,
    },
    /// Audit the history of an organisation's repositories (paths or git URLs, mirrored into a
    /// cache), in one run or as one shard of N whose reports `keyhound merge` joins.
    Audit {
        /// The repositories: one path or git URL a line, `#` comments, optional `size=12345K`
        /// after each to balance the shards (`-`: standard input).
        #[arg(long, value_name = "LIST")]
        repos_from: PathBuf,
        /// Audit only shard K of N (K counts from 0, as JOB_COMPLETION_INDEX does).
        #[arg(long, value_name = "K/N", value_parser = keyhound::audit::shard::parse_shard, conflicts_with = "shards", help_heading = "Sharding")]
        shard: Option<(usize, usize)>,
        /// Split the list into N shards and audit shard $JOB_COMPLETION_INDEX (a Kubernetes
        /// Indexed Job sets it in each pod).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Sharding")]
        shards: Option<u64>,
        /// Where URL mirrors are kept and refreshed (default: ~/.cache/keyhound/mirrors, or
        /// under $XDG_CACHE_HOME).
        #[arg(long, value_name = "DIR", help_heading = "Sharding")]
        cache_dir: Option<PathBuf>,
        /// Give up on a repository whose clone or fetch takes longer (it is recorded as not
        /// audited; the others go on).
        #[arg(long, value_name = "SECONDS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=86_400), help_heading = "Sharding")]
        fetch_timeout: u64,
        /// Only commits from this date on (the forms of `history --since`).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Also scan objects no ref reaches (left by rebases and force-pushes).
        #[arg(long)]
        unreachable: bool,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        input: InputArgs,
        #[command(flatten)]
        baseline: BaselineArgs,
        /// Refused: run `keyhound verify --from REPORT` on the (merged) report instead.
        #[arg(long, hide = true)]
        verify: bool,
    },
    /// Join the JSON reports of `audit --shard K/N` (made with --show-secrets) into the report
    /// of the whole list, naming any repository no shard audited.
    Merge {
        /// The shard reports.
        #[arg(required = true, value_name = "REPORT")]
        reports: Vec<PathBuf>,
        #[command(flatten)]
        output: OutputArgs,
        /// Config file (its custom rules name the findings' rules), as given to the shards.
        #[arg(long, value_name = "FILE", help_heading = "Input")]
        config: Option<PathBuf>,
    },
    /// Install or remove the git pre-commit hook, or a coding agent's hooks (--agent).
    Hook {
        #[command(subcommand)]
        action: HookAction,
    },
    /// Answer one coding-agent hook event (JSON on stdin); run by the agent, see `hook install
    /// --agent`.
    AgentHook {
        /// The agent whose event format is on stdin.
        #[arg(long, value_enum)]
        agent: CliAgent,
    },
    /// Accept today's findings, or drop accepted findings that are gone.
    Baseline {
        #[command(subcommand)]
        action: BaselineAction,
    },
    /// List the rules, check rule files' examples, or print a fake key a rule reports.
    Rules {
        /// `markdown`: one table row a provider (the list in docs/providers.md).
        #[arg(long, value_enum, default_value = "text")]
        format: RulesFormat,
        #[command(subcommand)]
        action: Option<RulesAction>,
    },
}

#[derive(Debug, Subcommand)]
enum HookAction {
    /// Write the pre-commit hook (honours core.hooksPath; keeps and chains an existing hook).
    Install {
        /// Instead, add keyhound to this coding agent's project hooks (.claude/settings.json,
        /// .cursor/hooks.json, .codex/hooks.json), keeping the file's other settings.
        #[arg(long, value_enum)]
        agent: Option<CliAgent>,
    },
    /// Remove the hook (restoring a chained one).
    Uninstall {
        /// Instead, remove keyhound's entries from this coding agent's project hooks.
        #[arg(long, value_enum)]
        agent: Option<CliAgent>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CliAgent {
    ClaudeCode,
    Cursor,
    Codex,
}

impl From<CliAgent> for keyhound::agent::Agent {
    fn from(a: CliAgent) -> Self {
        match a {
            CliAgent::ClaudeCode => keyhound::agent::Agent::ClaudeCode,
            CliAgent::Cursor => keyhound::agent::Agent::Cursor,
            CliAgent::Codex => keyhound::agent::Agent::Codex,
        }
    }
}

#[derive(Debug, Subcommand)]
enum BaselineAction {
    /// Scan PATH and record every finding in the baseline file.
    Create {
        /// Directory to scan.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Baseline file to write (default: the one every command applies: the config's
        /// `baseline`, else .keyhound-baseline.json next to the config or at the top of the
        /// work tree).
        #[arg(long = "file")]
        file: Option<PathBuf>,
        #[command(flatten)]
        input: InputArgs,
        /// No notes or summary on standard error (warnings still print).
        #[arg(long, short = 'q')]
        quiet: bool,
    },
    /// Scan PATH and remove baseline entries that no longer match any finding.
    Prune {
        /// Directory to scan.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Baseline file to prune (default: the one every command applies).
        #[arg(long = "file")]
        file: Option<PathBuf>,
        /// Report stale entries without changing the file.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        input: InputArgs,
        /// No notes or summary on standard error (warnings still print).
        #[arg(long, short = 'q')]
        quiet: bool,
    },
}

#[derive(Debug, Subcommand)]
enum RulesAction {
    /// List the rules in force: id, provider, what it finds (the default).
    List {
        /// Read `.keyhound.toml` custom rules from this file too.
        #[arg(long)]
        config: Option<PathBuf>,
        /// `markdown`: one table row a provider (the list in docs/providers.md).
        #[arg(long, value_enum, default_value = "text")]
        format: RulesFormat,
    },
    /// Run each rule's examples and counter-examples through the full detector.
    Check {
        /// Rule files (`rules/*.toml` shape); none = the built-in rules.
        files: Vec<PathBuf>,
    },
    /// Print a line holding a fake key, generated now, that RULE reports (to try the hook).
    Example {
        /// The rule's id, from `keyhound rules` (e.g. openai.project-key).
        rule: String,
        /// Read `.keyhound.toml` custom rules from this file too.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RulesFormat {
    Text,
    Markdown,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CliFormat {
    Human,
    Json,
    Jsonl,
    Sarif,
    Gitlab,
    Github,
    Html,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CliColor {
    Auto,
    Always,
    Never,
}

/// Flags shared by every scanning command.
#[derive(Debug, Args)]
pub struct CommonArgs {
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    baseline: BaselineArgs,
    /// Check whether each key is live, with a read-only request to its own provider
    /// (--only-live and --fail-on live turn this on too).
    #[arg(long, help_heading = "Verification (network, opt-in)")]
    verify: bool,
    #[command(flatten)]
    outcome: VerifyOutcomeArgs,
    #[command(flatten)]
    settings: VerifySettingsArgs,
}

/// How the report is written, and what it lists besides.
#[derive(Debug, Args)]
struct OutputArgs {
    #[command(flatten)]
    report: ReportArgs,
    /// Also report findings the policy silenced (keyhound:allow, allow-lists, baseline), marked.
    #[arg(long, help_heading = "Output")]
    show_suppressed: bool,
    /// Name every file or blob that was not scanned (binary, too large, ignored) on stderr.
    #[arg(long, help_heading = "Output")]
    list_skipped: bool,
}

/// How the report is written (`verify` has these and `--show-suppressed`: it scans nothing, so
/// it has nothing to skip; issue 19 item 26).
#[derive(Debug, Args)]
struct ReportArgs {
    /// Report format.
    #[arg(long, value_enum, default_value = "human", help_heading = "Output")]
    format: CliFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE", help_heading = "Output")]
    output: Option<PathBuf>,
    /// Print secrets in full (they are redacted by default).
    #[arg(long, help_heading = "Output")]
    show_secrets: bool,
    /// When to colour the human report (auto honours NO_COLOR, CLICOLOR_FORCE, TERM=dumb).
    #[arg(long, value_enum, default_value = "auto", help_heading = "Output")]
    color: CliColor,
    /// No notes or summary on standard error (warnings still print).
    #[arg(long, short = 'q', help_heading = "Output")]
    quiet: bool,
}

/// What is read and which policy applies.
#[derive(Debug, Args)]
struct InputArgs {
    /// Config file (default: .keyhound.toml in the scanned folder or, in a git work tree, the
    /// nearest parent up to its top).
    #[arg(long, value_name = "FILE", help_heading = "Input")]
    config: Option<PathBuf>,
    /// Also use the rules and allow-lists of this gitleaks-format config (repeatable).
    #[arg(long, value_name = "FILE", help_heading = "Input")]
    rules_from: Vec<PathBuf>,
    /// Scan larger files in windows of this many bytes; skip larger archives (K, M, G allowed).
    #[arg(long, value_name = "SIZE", default_value = "25M", value_parser = parse_size, help_heading = "Input")]
    max_file_size: u64,
    /// Scan binary files' raw bytes, not only their printable runs.
    #[arg(long, help_heading = "Input")]
    binary: bool,
    /// Scan the members of archives (zip, jar, gzip, tar) nested up to N deep (0: none).
    #[arg(long, value_name = "N", default_value_t = keyhound::options::DEFAULT_ARCHIVE_DEPTH, help_heading = "Input")]
    archive_depth: u32,
    /// Worker threads, 1 to 256 (default: one per core).
    #[arg(long, short = 'j', value_name = "N", value_parser = parse_threads, help_heading = "Input")]
    threads: Option<usize>,
}

/// Which baseline a scan applies (not offered by `baseline create|prune`, which see every
/// finding whatever the baseline holds).
#[derive(Debug, Args)]
struct BaselineArgs {
    /// Report only findings not accepted in this baseline file (default: the config's
    /// `baseline`, else .keyhound-baseline.json next to the config, when it exists).
    #[arg(
        long,
        value_name = "FILE",
        help_heading = "Input",
        conflicts_with = "no_baseline"
    )]
    baseline: Option<PathBuf>,
    /// Apply no baseline.
    #[arg(long, help_heading = "Input")]
    no_baseline: bool,
}

/// What verification means for the exit status.
#[derive(Debug, Args)]
struct VerifyOutcomeArgs {
    /// Report only keys confirmed live.
    #[arg(long, help_heading = "Verification (network, opt-in)")]
    only_live: bool,
    /// Which findings make the exit status 1. `live`: a live key, or one that could not be
    /// checked (unknown or unsupported) unless --allow-unknown.
    #[arg(
        long,
        value_enum,
        default_value = "any",
        help_heading = "Verification (network, opt-in)"
    )]
    fail_on: CliFailOn,
    /// With --fail-on live: keys that could not be checked (unknown or unsupported) do not fail
    /// the run.
    #[arg(long, help_heading = "Verification (network, opt-in)")]
    allow_unknown: bool,
}

/// How keys are checked.
#[derive(Debug, Args)]
struct VerifySettingsArgs {
    /// Parallel checks in all, 1 to 256 (each provider also gets at most 2 at once).
    #[arg(
        long,
        default_value_t = 4,
        value_name = "N",
        value_parser = clap::value_parser!(u16).range(1..=256),
        help_heading = "Verification (network, opt-in)"
    )]
    verify_concurrency: u16,
    /// Requests per second to each provider (at most 1000).
    #[arg(
        long,
        default_value = "5",
        value_name = "RPS",
        value_parser = parse_rps,
        help_heading = "Verification (network, opt-in)"
    )]
    verify_rps: f64,
    /// Seconds before a check gives up (answer: unknown), 0.1 to 600.
    #[arg(
        long,
        default_value = "10",
        value_name = "SECS",
        value_parser = |s: &str| parse_seconds(s, 0.1, 600.0),
        help_heading = "Verification (network, opt-in)"
    )]
    verify_timeout: std::time::Duration,
    /// Seconds the whole verification may take, 1 to 86400. Rate limits only delay a check;
    /// keys still unchecked when this is spent are reported unknown.
    #[arg(
        long,
        default_value = "120",
        value_name = "SECS",
        value_parser = |s: &str| parse_seconds(s, 1.0, 86400.0),
        help_heading = "Verification (network, opt-in)"
    )]
    verify_budget: std::time::Duration,
    /// PROVIDER=BASE_URL: send that provider's checks to another scheme and host (tests,
    /// proxies); plain http only to loopback. Command line only, never from a config file.
    #[arg(long, value_name = "PROVIDER=URL", value_parser = keyhound::verify::parse_endpoint, help_heading = "Verification (network, opt-in)")]
    verify_endpoint: Vec<(String, String)>,
    /// Do not read or write the verification cache.
    #[arg(long, help_heading = "Verification (network, opt-in)")]
    no_cache: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CliFailOn {
    Any,
    Live,
}

/// Most `--threads` a run may start. Each scanning thread keeps its own buffers (up to ~18 MB
/// in history), and 100000 threads never finished starting (issue 19 item 18); more threads
/// than cores gain nothing, and no machine keyhound runs on has more than this many.
const MAX_THREADS: usize = 256;

fn parse_threads(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n @ 1..=MAX_THREADS) => Ok(n),
        _ => Err(format!(
            "\"{s}\" is not a thread count from 1 to {MAX_THREADS} (leave --threads out for one per core)"
        )),
    }
}

fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (digits, mult) = match s.char_indices().last() {
        Some((i, 'K' | 'k')) => (&s[..i], 1u64 << 10),
        Some((i, 'M' | 'm')) => (&s[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("\"{s}\" is not a size (examples: 1000, 512K, 25M, 1G)"))
}

/// Seconds between `min` and `max` (issue 19 item 25: `--verify-timeout 1e30` panicked, and
/// values out of range were changed silently).
fn parse_seconds(s: &str, min: f64, max: f64) -> Result<std::time::Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(secs) if (min..=max).contains(&secs) => Ok(std::time::Duration::from_secs_f64(secs)),
        _ => Err(format!("expected seconds from {min} to {max}")),
    }
}

/// Requests per second: more than 0, at most 1000.
fn parse_rps(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(rps) if rps > 0.0 && rps <= 1000.0 => Ok(rps),
        _ => Err("expected requests per second above 0, at most 1000".into()),
    }
}

impl VerifySettingsArgs {
    fn options(self) -> keyhound::verify::VerifyOptions {
        keyhound::verify::VerifyOptions {
            endpoints: self.verify_endpoint.into_iter().collect(),
            concurrency: usize::from(self.verify_concurrency),
            requests_per_second: self.verify_rps,
            timeout: self.verify_timeout,
            budget: self.verify_budget,
            cache: !self.no_cache,
            ..Default::default()
        }
    }
}

impl OutputArgs {
    fn apply(self, o: &mut CommonOptions) {
        self.report.apply(o);
        o.show_suppressed = self.show_suppressed;
        o.list_skipped = self.list_skipped;
    }
}

impl ReportArgs {
    fn apply(self, o: &mut CommonOptions) {
        o.format = match self.format {
            CliFormat::Human => Format::Human,
            CliFormat::Json => Format::Json,
            CliFormat::Jsonl => Format::Jsonl,
            CliFormat::Sarif => Format::Sarif,
            CliFormat::Gitlab => Format::Gitlab,
            CliFormat::Github => Format::Github,
            CliFormat::Html => Format::Html,
        };
        o.output = self.output;
        o.show_secrets = self.show_secrets;
        o.color = match self.color {
            CliColor::Auto => ColorChoice::Auto,
            CliColor::Always => ColorChoice::Always,
            CliColor::Never => ColorChoice::Never,
        };
        o.quiet = self.quiet;
    }
}

impl InputArgs {
    fn apply(self, o: &mut CommonOptions) {
        o.config = self.config;
        o.rules_from = self.rules_from;
        o.max_file_size = self.max_file_size;
        o.binary = self.binary;
        o.archive_depth = self.archive_depth;
        o.threads = self.threads;
    }

    fn into_options(self, quiet: bool) -> CommonOptions {
        let mut o = CommonOptions {
            quiet,
            ..CommonOptions::default()
        };
        self.apply(&mut o);
        o
    }
}

impl BaselineArgs {
    fn apply(self, o: &mut CommonOptions) {
        o.baseline = match (self.baseline, self.no_baseline) {
            (_, true) => BaselineChoice::Off,
            (Some(file), false) => BaselineChoice::File(file),
            (None, false) => BaselineChoice::Default,
        };
    }
}

impl VerifyOutcomeArgs {
    /// Apply; true when these flags imply verification.
    fn apply(self, o: &mut CommonOptions) -> bool {
        o.only_live = self.only_live;
        o.fail_on_live = matches!(self.fail_on, CliFailOn::Live);
        o.allow_unknown = self.allow_unknown;
        o.only_live || o.fail_on_live
    }
}

impl CommonArgs {
    fn into_options(self) -> CommonOptions {
        let mut o = CommonOptions::default();
        self.output.apply(&mut o);
        self.input.apply(&mut o);
        self.baseline.apply(&mut o);
        let implied = self.outcome.apply(&mut o);
        if self.verify || implied {
            o.verify = Some(self.settings.options());
        }
        o
    }
}

/// The arguments of `keyhound history` that make its [`Request`]: a new history flag is a field
/// here, its line in [`HistoryArgs::request`], the request's field and its use.
#[derive(Debug, Args)]
struct HistoryArgs {
    /// The repositories (default: the current directory). With several, each blob is read
    /// once across them all and each finding names its repository.
    #[arg(value_name = "REPO")]
    repos: Vec<PathBuf>,
    /// Also audit the repositories listed in FILE: one path a line; blank lines and lines
    /// starting with # are ignored.
    #[arg(long, value_name = "FILE")]
    repos_from: Option<PathBuf>,
    /// Only what commits in BASE..HEAD introduce (for CI on a pull request).
    #[arg(long, value_name = "BASE..HEAD")]
    range: Option<String>,
    /// Only commits from this date on: YYYY-MM-DD, an RFC 3339 date-time, an age (90d, 2w,
    /// 6m, 1y, "3 days ago"), or any date `git log --since` reads ("last tuesday").
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Also scan objects no ref reaches (left by rebases and force-pushes).
    #[arg(long)]
    unreachable: bool,
    /// List every (commit, path) occurrence instead of one per secret and path.
    #[arg(long)]
    all_occurrences: bool,
    /// Record what this audit read in FILE, and read only what is new since the audit that
    /// wrote it (reports only new findings).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["range", "since", "all_occurrences"])]
    state: Option<PathBuf>,
}

impl HistoryArgs {
    fn request(self) -> Request {
        Request {
            repos: self.repos.into_iter().map(RepoArg::from_path).collect(),
            range: self.range,
            since: self.since,
            unreachable: self.unreachable,
            all_occurrences: self.all_occurrences,
            state: self.state,
        }
    }
}

impl Cli {
    /// Convert parsed arguments into the command to run.
    pub fn into_command(self) -> Command {
        match self.command {
            CliCommand::Scan {
                paths,
                common,
                no_ignore,
            } => Command::Scan {
                request: keyhound::scan::walk::Request { paths, no_ignore },
                common: common.into_options(),
            },
            CliCommand::History { history, common } => Command::History {
                repos_from: history.repos_from.clone(),
                request: history.request(),
                common: common.into_options(),
            },
            CliCommand::Verify {
                from,
                output,
                show_suppressed,
                config,
                outcome,
                settings,
            } => {
                let mut common = CommonOptions {
                    config,
                    show_suppressed,
                    ..CommonOptions::default()
                };
                output.apply(&mut common);
                outcome.apply(&mut common);
                common.verify = Some(settings.options());
                Command::Verify { from, common }
            }
            CliCommand::Audit {
                repos_from,
                shard,
                shards,
                cache_dir,
                fetch_timeout,
                since,
                unreachable,
                output,
                input,
                baseline,
                verify,
            } => {
                let mut common = CommonOptions::default();
                output.apply(&mut common);
                input.apply(&mut common);
                baseline.apply(&mut common);
                let shard = match (shard, shards) {
                    (Some((index, count)), _) => ShardChoice::Fixed { index, count },
                    (None, Some(count)) => ShardChoice::FromEnv {
                        count: count as usize,
                    },
                    (None, None) => ShardChoice::Whole,
                };
                Command::Audit(AuditOptions {
                    list: repos_from,
                    shard,
                    cache_dir,
                    fetch_timeout: std::time::Duration::from_secs(fetch_timeout),
                    history: Request {
                        since,
                        unreachable,
                        ..Request::default()
                    },
                    verify,
                    common,
                })
            }
            CliCommand::Merge {
                reports,
                output,
                config,
            } => {
                let mut common = CommonOptions {
                    config,
                    ..CommonOptions::default()
                };
                output.apply(&mut common);
                Command::Merge(MergeOptions { reports, common })
            }
            CliCommand::Staged { common, hook } => Command::Staged {
                common: common.into_options(),
                hook,
            },
            CliCommand::Hook { action } => Command::Hook(match action {
                HookAction::Install { agent: None } => HookCommand::Install,
                HookAction::Install { agent: Some(a) } => HookCommand::InstallAgent(a.into()),
                HookAction::Uninstall { agent: None } => HookCommand::Uninstall,
                HookAction::Uninstall { agent: Some(a) } => HookCommand::UninstallAgent(a.into()),
            }),
            CliCommand::AgentHook { agent } => Command::AgentHook(agent.into()),
            CliCommand::Baseline { action } => Command::Baseline(match action {
                BaselineAction::Create {
                    path,
                    file,
                    input,
                    quiet,
                } => BaselineCommand::Create {
                    path,
                    output: file,
                    common: input.into_options(quiet),
                },
                BaselineAction::Prune {
                    path,
                    file,
                    dry_run,
                    input,
                    quiet,
                } => BaselineCommand::Prune {
                    path,
                    file,
                    dry_run,
                    common: input.into_options(quiet),
                },
            }),
            CliCommand::Rules { format, action } => Command::Rules(match action {
                None => RulesCommand::List {
                    config: None,
                    markdown: format == RulesFormat::Markdown,
                },
                Some(RulesAction::List { config, format: f }) => RulesCommand::List {
                    config,
                    markdown: format == RulesFormat::Markdown || f == RulesFormat::Markdown,
                },
                Some(RulesAction::Check { files }) => RulesCommand::Check { files },
                Some(RulesAction::Example { rule, config }) => {
                    RulesCommand::Example { rule, config }
                }
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_size, Cli, Command};
    use clap::Parser;

    /// The history request: each flag of `keyhound history` lands in its field, converted once
    /// (issue 24 item 3).
    #[test]
    fn history_flags_make_the_request() {
        let parse = |args: &[&str]| {
            let cli = Cli::try_parse_from(["keyhound", "history"].iter().chain(args)).unwrap();
            match cli.into_command() {
                Command::History {
                    request,
                    repos_from,
                    ..
                } => (request, repos_from),
                other => panic!("not a history command: {other:?}"),
            }
        };
        let (r, from) = parse(&[
            "a",
            "b",
            "--repos-from",
            "list.txt",
            "--since",
            "90d",
            "--unreachable",
            "--all-occurrences",
        ]);
        let names: Vec<&str> = r.repos.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(from.as_deref(), Some(std::path::Path::new("list.txt")));
        assert_eq!(r.since.as_deref(), Some("90d"));
        assert!(r.unreachable && r.all_occurrences);
        assert_eq!((r.range, r.state), (None, None));
        let (r, _) = parse(&["--state", "s.json"]);
        assert!(r.repos.is_empty() && !r.unreachable && !r.all_occurrences);
        assert_eq!(r.state.as_deref(), Some(std::path::Path::new("s.json")));
        let (r, _) = parse(&["--range", "main..HEAD"]);
        assert_eq!(r.range.as_deref(), Some("main..HEAD"));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("512K"), Ok(512 * 1024));
        assert_eq!(parse_size("25M"), Ok(25 << 20));
        assert!(parse_size("lots").is_err());
    }
}
