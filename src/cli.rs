//! Command-line parsing (clap derive) and its conversion into plain [`crate::Command`] values.
//! No logic beyond parsing and conversion lives here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::Format;
use crate::{BaselineCommand, ColorChoice, Command, CommonOptions, HookCommand, RulesCommand};

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
        /// Do not respect .gitignore, .ignore or .keyhoundignore files.
        #[arg(long, help_heading = "Input")]
        no_ignore: bool,
    },
    /// Scan git history: every blob reachable from any ref, each once, attributed to the commit
    /// that introduced it.
    History {
        /// The repository (default: the current directory).
        #[arg(default_value = ".")]
        repo: PathBuf,
        /// Only what commits in BASE..HEAD introduce (for CI on a pull request).
        #[arg(long, value_name = "BASE..HEAD")]
        range: Option<String>,
        /// Only commits from this date on (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Also scan objects no ref reaches (left by rebases and force-pushes).
        #[arg(long)]
        unreachable: bool,
        /// List every (commit, path) occurrence instead of one per secret and path.
        #[arg(long)]
        all_occurrences: bool,
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
        common: CommonArgs,
    },
    /// Install or remove the git pre-commit hook.
    Hook {
        #[command(subcommand)]
        action: HookAction,
    },
    /// Accept today's findings, or drop accepted findings that are gone.
    Baseline {
        #[command(subcommand)]
        action: BaselineAction,
    },
    /// List the rules, or check rule files' examples.
    Rules {
        #[command(subcommand)]
        action: Option<RulesAction>,
    },
}

#[derive(Debug, Subcommand)]
enum HookAction {
    /// Write the pre-commit hook (honours core.hooksPath; keeps and chains an existing hook).
    Install,
    /// Remove the hook (restoring a chained one).
    Uninstall,
}

#[derive(Debug, Subcommand)]
enum BaselineAction {
    /// Scan PATH and record every finding in the baseline file.
    Create {
        /// Directory to scan.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Baseline file to write.
        #[arg(long = "file", default_value = crate::baseline::FILE_NAME)]
        file: PathBuf,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Scan PATH and remove baseline entries that no longer match any finding.
    Prune {
        /// Directory to scan.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Baseline file to prune.
        #[arg(long = "file", default_value = crate::baseline::FILE_NAME)]
        file: PathBuf,
        /// Report stale entries without changing the file.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        common: CommonArgs,
    },
}

#[derive(Debug, Subcommand)]
enum RulesAction {
    /// List the rules in force: id, provider, what it finds (the default).
    List {
        /// Read `.keyhound.toml` custom rules from this file too.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Run each rule's examples and counter-examples through the full detector.
    Check {
        /// Rule files (`rules/*.toml` shape); none = the built-in rules.
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CliFormat {
    Human,
    Json,
    Jsonl,
    Sarif,
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
    /// Report format.
    #[arg(long, value_enum, default_value = "human", help_heading = "Output")]
    format: CliFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE", help_heading = "Output")]
    output: Option<PathBuf>,
    /// Print secrets in full (they are redacted by default).
    #[arg(long, help_heading = "Output")]
    show_secrets: bool,
    /// When to colour the human report.
    #[arg(long, value_enum, default_value = "auto", help_heading = "Output")]
    color: CliColor,
    /// No notes or summary on standard error (warnings still print).
    #[arg(long, short = 'q', help_heading = "Output")]
    quiet: bool,
    /// Config file (default: .keyhound.toml at the scanned root).
    #[arg(long, value_name = "FILE", help_heading = "Input")]
    config: Option<PathBuf>,
    /// Skip files larger than this many bytes (suffixes K, M, G allowed).
    #[arg(long, value_name = "SIZE", default_value = "25M", value_parser = parse_size, help_heading = "Input")]
    max_file_size: u64,
    /// Scan binary files too (files with a NUL byte in their first 8 KiB).
    #[arg(long, help_heading = "Input")]
    binary: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N", help_heading = "Input")]
    threads: Option<usize>,
    /// Report only findings not accepted in this baseline file.
    #[arg(long, value_name = "FILE", help_heading = "Input")]
    baseline: Option<PathBuf>,
    /// Check whether each key is live, with a read-only request to its own provider.
    #[arg(long, help_heading = "Verification (network, opt-in)")]
    verify: bool,
    /// Report only keys confirmed live (implies --verify).
    #[arg(long, help_heading = "Verification (network, opt-in)")]
    only_live: bool,
    /// Which findings make the exit status 1.
    #[arg(
        long,
        value_enum,
        default_value = "any",
        help_heading = "Verification (network, opt-in)"
    )]
    fail_on: CliFailOn,
    /// Parallel checks in all (each provider also gets at most 2 at once).
    #[arg(
        long,
        default_value_t = 4,
        value_name = "N",
        help_heading = "Verification (network, opt-in)"
    )]
    verify_concurrency: usize,
    /// Requests per second to each provider.
    #[arg(
        long,
        default_value_t = 5.0,
        value_name = "RPS",
        help_heading = "Verification (network, opt-in)"
    )]
    verify_rps: f64,
    /// Seconds before a check gives up (answer: unknown).
    #[arg(
        long,
        default_value_t = 10.0,
        value_name = "SECS",
        help_heading = "Verification (network, opt-in)"
    )]
    verify_timeout: f64,
    /// PROVIDER=BASE_URL: send that provider's checks to another scheme and host (tests,
    /// proxies); plain http only to loopback. Command line only, never from a config file.
    #[arg(long, value_name = "PROVIDER=URL", value_parser = crate::verify::parse_endpoint, help_heading = "Verification (network, opt-in)")]
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

impl CommonArgs {
    fn into_options(self) -> CommonOptions {
        let settings = crate::verify::VerifyOptions {
            endpoints: self.verify_endpoint.into_iter().collect(),
            concurrency: self.verify_concurrency.max(1),
            requests_per_second: self.verify_rps,
            timeout: std::time::Duration::from_secs_f64(self.verify_timeout.max(0.1)),
            cache: !self.no_cache,
            ..Default::default()
        };
        CommonOptions {
            format: match self.format {
                CliFormat::Human => Format::Human,
                CliFormat::Json => Format::Json,
                CliFormat::Jsonl => Format::Jsonl,
                CliFormat::Sarif => Format::Sarif,
            },
            output: self.output,
            show_secrets: self.show_secrets,
            color: match self.color {
                CliColor::Auto => ColorChoice::Auto,
                CliColor::Always => ColorChoice::Always,
                CliColor::Never => ColorChoice::Never,
            },
            quiet: self.quiet,
            config: self.config,
            max_file_size: self.max_file_size,
            binary: self.binary,
            threads: self.threads,
            baseline: self.baseline,
            verify: (self.verify || self.only_live || matches!(self.fail_on, CliFailOn::Live))
                .then(|| settings.clone()),
            verify_settings: settings,
            only_live: self.only_live,
            fail_on_live: matches!(self.fail_on, CliFailOn::Live),
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
                paths,
                no_ignore,
                common: common.into_options(),
            },
            CliCommand::History {
                repo,
                range,
                since,
                unreachable,
                all_occurrences,
                common,
            } => Command::History {
                repo,
                range,
                since,
                unreachable,
                all_occurrences,
                common: common.into_options(),
            },
            CliCommand::Verify { from, common } => Command::Verify {
                from,
                common: common.into_options(),
            },
            CliCommand::Staged { common, hook } => Command::Staged {
                common: common.into_options(),
                hook,
            },
            CliCommand::Hook { action } => Command::Hook(match action {
                HookAction::Install => HookCommand::Install,
                HookAction::Uninstall => HookCommand::Uninstall,
            }),
            CliCommand::Baseline { action } => Command::Baseline(match action {
                BaselineAction::Create { path, file, common } => BaselineCommand::Create {
                    path,
                    output: file,
                    common: common.into_options(),
                },
                BaselineAction::Prune {
                    path,
                    file,
                    dry_run,
                    common,
                } => BaselineCommand::Prune {
                    path,
                    file,
                    dry_run,
                    common: common.into_options(),
                },
            }),
            CliCommand::Rules { action } => Command::Rules(match action {
                None => RulesCommand::List { config: None },
                Some(RulesAction::List { config }) => RulesCommand::List { config },
                Some(RulesAction::Check { files }) => RulesCommand::Check { files },
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("512K"), Ok(512 * 1024));
        assert_eq!(parse_size("25M"), Ok(25 << 20));
        assert!(parse_size("lots").is_err());
    }
}
