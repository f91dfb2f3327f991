//! What to run, as plain values: [`Command`] and the [`CommonOptions`] every scanning command
//! shares. The binary's `cli.rs` builds them from the command line; nothing here knows clap.

use std::path::PathBuf;

use crate::policy::BaselineChoice;
use crate::report::{ColorChoice, Format};
use crate::scan::Limits;
use crate::verify::VerifyOptions;

/// Default `--max-file-size`: 25 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 25 << 20;

/// Default `--archive-depth`: an archive in an archive in an archive (a jar in a war in an
/// ear) is opened, one level more is a note.
pub const DEFAULT_ARCHIVE_DEPTH: u32 = 3;

/// Options every scanning command shares.
#[derive(Debug, Clone)]
pub struct CommonOptions {
    pub format: Format,
    pub output: Option<PathBuf>,
    pub show_secrets: bool,
    pub color: ColorChoice,
    pub quiet: bool,
    /// `--show-suppressed`: also report what the policy silenced, marked as such.
    pub show_suppressed: bool,
    /// `--list-skipped`: name every blob that was not scanned on stderr.
    pub list_skipped: bool,
    pub config: Option<PathBuf>,
    /// `--rules-from FILE`: gitleaks-format rules files to add.
    pub rules_from: Vec<PathBuf>,
    pub max_file_size: u64,
    pub binary: bool,
    /// `--archive-depth`: 0 scans no archive members.
    pub archive_depth: u32,
    pub threads: Option<usize>,
    pub baseline: BaselineChoice,
    /// `--verify`: check each key with its provider, with these settings.
    pub verify: Option<VerifyOptions>,
    /// `--only-live`: report only keys confirmed live.
    pub only_live: bool,
    /// `--fail-on live`: exit 1 only when a key is live (or could not be checked).
    pub fail_on_live: bool,
    /// `--allow-unknown`: with `--fail-on live`, a key that could not be checked does not fail.
    pub allow_unknown: bool,
}

impl Default for CommonOptions {
    fn default() -> Self {
        CommonOptions {
            format: Format::Human,
            output: None,
            show_secrets: false,
            color: ColorChoice::Auto,
            quiet: false,
            show_suppressed: false,
            list_skipped: false,
            config: None,
            rules_from: Vec::new(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            binary: false,
            archive_depth: DEFAULT_ARCHIVE_DEPTH,
            threads: None,
            baseline: BaselineChoice::Default,
            verify: None,
            only_live: false,
            fail_on_live: false,
            allow_unknown: false,
        }
    }
}

impl CommonOptions {
    /// The per-blob limits of the sources.
    pub fn limits(&self) -> Limits {
        Limits {
            max_file_size: self.max_file_size,
            binary: self.binary,
            archive_depth: self.archive_depth,
        }
    }
}

/// A command to run.
#[derive(Debug, Clone)]
pub enum Command {
    Scan {
        /// What the tree source is asked (a path `-` alone: standard input).
        request: crate::scan::walk::Request,
        common: CommonOptions,
    },
    /// Scan what is staged; `hook` adds the blocking message for the pre-commit hook.
    Staged {
        common: CommonOptions,
        hook: bool,
    },
    History {
        /// What the history source is asked. Its repositories are those given as arguments;
        /// with none and no `repos_from`, the current directory.
        request: crate::scan::history::Request,
        /// `--repos-from FILE`: more repositories, one path a line (added to the request's
        /// before the run).
        repos_from: Option<PathBuf>,
        common: CommonOptions,
    },
    /// Check the keys of an earlier JSON report (made with --show-secrets).
    Verify {
        from: PathBuf,
        common: CommonOptions,
    },
    /// `keyhound audit --repos-from LIST`: an organisation's repositories, or one shard of them.
    Audit(crate::audit::AuditOptions),
    /// `keyhound merge REPORT...`: shard reports joined into the whole audit's report.
    Merge(crate::audit::MergeOptions),
    Rules(RulesCommand),
    Hook(HookCommand),
    /// `keyhound agent-hook --agent A`: answer one coding-agent hook event (issue 14).
    AgentHook(crate::agent::Agent),
    Baseline(BaselineCommand),
}

#[derive(Debug, Clone)]
pub enum HookCommand {
    Install,
    Uninstall,
    /// `hook install --agent A`: the agent's project hook file (issue 14).
    InstallAgent(crate::agent::Agent),
    /// `hook uninstall --agent A`.
    UninstallAgent(crate::agent::Agent),
}

#[derive(Debug, Clone)]
pub enum BaselineCommand {
    /// Scan `path` and write every finding to `output`.
    Create {
        path: PathBuf,
        output: Option<PathBuf>,
        common: CommonOptions,
    },
    /// Scan `path`, report the entries of `file` that no longer match, and remove them.
    Prune {
        path: PathBuf,
        file: Option<PathBuf>,
        dry_run: bool,
        common: CommonOptions,
    },
}

#[derive(Debug, Clone)]
pub enum RulesCommand {
    /// `markdown`: the provider table of docs/providers.md instead of one line a rule.
    List {
        config: Option<PathBuf>,
        markdown: bool,
    },
    Check {
        files: Vec<PathBuf>,
    },
    /// `rules example RULE`: a freshly generated fake key the rule reports (issue 19 item 27).
    Example {
        rule: String,
        config: Option<PathBuf>,
    },
}
