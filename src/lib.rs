//! keyhound finds leaked API keys in working trees, staged changes and git history.
//!
//! The data flows one way: **source -> findings -> policy -> verify -> report -> outcome**
//! ([`pipeline`]). [`run`] only wires a [`Command`] to the pipeline or to one of the
//! [`commands`] that are not scans; [`Outcome`] maps to the exit code in `main.rs`. The command
//! line itself (clap) lives in the binary.

#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod agent;
pub mod audit;
pub mod baseline;
pub mod commands;
pub mod config;
pub mod detect;
pub mod diag;
pub mod error;
pub mod finding;
pub mod git;
pub mod hook;
pub mod options;
pub mod output;
pub mod pipeline;
pub mod policy;
pub mod redact;
pub mod report;
pub mod rules;
pub mod scan;
pub mod verify;

pub use error::{Error, Outcome};
pub use options::{BaselineCommand, Command, CommonOptions, HookCommand, RulesCommand};
use pipeline::Source;

/// Run a command.
pub fn run(command: Command) -> Result<Outcome, Error> {
    match command {
        Command::Scan { request, common } => {
            let source = tree_or_stdin(request)?;
            let outcome = pipeline::run(source, &common)?;
            Ok(outcome)
        }
        Command::Staged { common, hook } => {
            let outcome = pipeline::run(Source::Staged, &common)?;
            if hook && outcome == Outcome::Findings {
                diag::info(&hook::block_message());
            }
            Ok(outcome)
        }
        Command::History {
            mut request,
            repos_from,
            common,
        } => {
            let given = std::mem::take(&mut request.repos);
            request.repos = history_repos(given, repos_from.as_deref())?;
            pipeline::run(Source::History(request), &common)
        }
        Command::Verify { from, common } => pipeline::verify_report(&from, &common),
        Command::Audit(opts) => audit::run(opts),
        Command::Merge(opts) => audit::merge(opts),
        Command::Rules(cmd) => commands::rules(cmd),
        Command::Hook(cmd) => commands::hook(cmd),
        Command::AgentHook(agent) => agent::run(agent),
        Command::Baseline(cmd) => commands::baseline(cmd),
    }
}

/// The repositories of `keyhound history`: those given, then those `--repos-from` lists, each
/// once; the current directory when there are none.
fn history_repos(
    given: Vec<scan::history::RepoArg>,
    from: Option<&std::path::Path>,
) -> Result<Vec<scan::history::RepoArg>, Error> {
    use scan::history::{repos_from, RepoArg};
    let mut all = given;
    if let Some(file) = from {
        let listed = repos_from(file).map_err(|e| Error::new(e.to_string()))?;
        if listed.is_empty() {
            return Err(Error::new(format!(
                "--repos-from {}: lists no repository (one path a line; # starts a comment)",
                file.display()
            )));
        }
        all.extend(listed);
    }
    let mut seen = std::collections::HashSet::new();
    all.retain(|r| seen.insert(r.name.clone()));
    if all.is_empty() {
        all.push(RepoArg::from_path("."));
    }
    // One repository that cannot be opened is one error line (exit 2), not a coverage table
    // (issue 19 item 26); among several, it gets its coverage record and the others still run.
    if let [one] = all.as_slice() {
        scan::history::discover(&one.path).map_err(|e| Error::new(e.to_string()))?;
    }
    Ok(all)
}

/// `keyhound scan PATH...`: `-` alone is standard input; every other path must exist.
fn tree_or_stdin(request: scan::walk::Request) -> Result<Source, Error> {
    let paths = &request.paths;
    let stdin = paths.iter().any(|p| p.as_os_str() == "-");
    if stdin {
        if paths.len() > 1 {
            return Err(Error::new(
                "`-` (standard input) cannot be combined with other paths",
            ));
        }
        return Ok(Source::Stdin);
    }
    for p in paths {
        if std::fs::symlink_metadata(p).is_err() {
            return Err(Error::new(format!(
                "{}: no such file or directory",
                p.display()
            )));
        }
    }
    Ok(Source::Tree(request))
}
