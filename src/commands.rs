//! The commands that are not a scan-to-report pipeline: `rules` (list, check, example), `hook`
//! (install, uninstall) and `baseline` (create, prune; they scan through the pipeline but write
//! a baseline instead of a report).

use std::path::Path;

use crate::baseline::{self, Baseline};
use crate::config::Config;
use crate::detect::{self, Detector};
use crate::diag;
use crate::error::{Error, Outcome};
use crate::hook;
use crate::options::{BaselineCommand, HookCommand, RulesCommand};
use crate::pipeline::{self, Source};
use crate::policy::BaselineChoice;
use crate::report;
use crate::rules::RuleSet;

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub(crate) fn rules(cmd: RulesCommand) -> Result<Outcome, Error> {
    match cmd {
        RulesCommand::List { config, markdown } => {
            let mut set = RuleSet::builtin()?;
            let config = Config::load(config.as_deref(), Path::new("."))?;
            config.apply(&mut set)?;
            let text = if markdown {
                provider_table(&set)
            } else {
                let mut text = String::new();
                for r in &set.rules {
                    let line = format!("{:<36} {:<12} {}", r.id, r.provider, r.name);
                    text.push_str(&format!("{}\n", diag::escape(&line)));
                }
                text
            };
            report::print(&text)?;
            Ok(Outcome::Clean)
        }
        RulesCommand::Example { rule, config } => {
            let mut set = RuleSet::builtin()?;
            let config = Config::load(config.as_deref(), Path::new("."))?;
            config.apply(&mut set)?;
            let detector = Detector::new(set);
            let text = detect::example::generate(&detector, &rule).map_err(Error::new)?;
            report::print(&format!("{text}\n"))?;
            diag::note(&format!(
                "a fake key for {rule}, generated now (no provider issued it): commit it to see the pre-commit hook block it"
            ));
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
                // A rule file is a config with only `[[rule]]` tables, so a whole
                // `.keyhound.toml` (allow-lists, baseline) is checked the same way.
                let mut loaded = Config::parse(&text, &file.display().to_string())?.rules;
                // A built-in rule file (`rules/openai.toml`, or an edited copy of it) is checked
                // in place of the built-in rules it defines (issue 19 item 20); any other file
                // that reuses a built-in id without `override = true` is refused, as scans
                // refuse it.
                for rule in &mut loaded {
                    let builtin_file = set.get(&rule.id).map(|b| {
                        Path::new(&b.origin).file_name() == file.file_name()
                            && b.origin.starts_with("rules/")
                    });
                    if builtin_file == Some(true) {
                        rule.replaces = true;
                    }
                }
                ids.extend(loaded.iter().map(|r| r.id.clone()));
                set.extend(loaded)?;
            }
            let detector = Detector::new(set);
            let problems = detect::check::check(&detector, &ids);
            let text: String = problems
                .iter()
                .map(|p| format!("{}\n", diag::escape(&format!("{}: {}", p.rule, p.message))))
                .collect();
            report::print(&text)?;
            diag::info(&format!(
                "keyhound: checked {}: {}",
                plural(ids.len(), "rule", "rules"),
                plural(problems.len(), "problem", "problems")
            ));
            Ok(if problems.is_empty() {
                Outcome::Clean
            } else {
                Outcome::Findings
            })
        }
    }
}

/// The provider list of docs/providers.md: one Markdown table row a provider, in name order,
/// with what its rules find and whether `--verify` has a live check for it. Generated, so it
/// cannot drift from the rules (`tests/it/readme.rs` compares that copy with this text).
pub(crate) fn provider_table(set: &RuleSet) -> String {
    let mut by_provider: std::collections::BTreeMap<&str, Vec<&crate::rules::Rule>> =
        std::collections::BTreeMap::new();
    for r in &set.rules {
        by_provider.entry(&r.provider).or_default().push(r);
    }
    let mut text = format!(
        "{} rules for {} providers.\n\n| provider | what its rules find | live check |\n|---|---|---|\n",
        set.rules.len(),
        by_provider.len()
    );
    for (provider, rules) in by_provider {
        let finds: Vec<String> = rules
            .iter()
            .map(|r| format!("{} (`{}`)", r.name.replace('|', "/"), r.id))
            .collect();
        let live = if crate::verify::providers::check_for(provider).is_some() {
            "yes"
        } else {
            "no"
        };
        text.push_str(&format!("| {provider} | {} | {live} |\n", finds.join("; ")));
    }
    text
}

pub(crate) fn hook(cmd: HookCommand) -> Result<Outcome, Error> {
    let message = match cmd {
        HookCommand::Install => {
            let exe = std::env::current_exe()
                .map_err(|e| Error::new(format!("cannot find keyhound's own path: {e}")))?;
            hook::install(Path::new("."), &exe)
        }
        HookCommand::Uninstall => hook::uninstall(Path::new(".")),
        HookCommand::InstallAgent(agent) => crate::agent::install::install(agent, Path::new(".")),
        HookCommand::UninstallAgent(agent) => {
            crate::agent::install::uninstall(agent, Path::new("."))
        }
    }
    .map_err(Error::new)?;
    diag::info(&format!("keyhound: {message}"));
    Ok(Outcome::Clean)
}

/// A run over the tree at `path` with no baseline applied (a baseline records, and prune
/// compares against, every finding); its root is the policy's folder.
fn every_finding(
    path: std::path::PathBuf,
    mut common: crate::options::CommonOptions,
) -> Result<pipeline::Run, Error> {
    common.baseline = BaselineChoice::Off;
    let source = Source::Tree(crate::scan::walk::Request {
        paths: vec![path],
        no_ignore: false,
    });
    pipeline::collect(source, &common)
}

/// The baseline a scan of `start` applies when none is named on its command line: the config's
/// `baseline` (relative to `root`, the config's folder), else the conventional file at `root`.
fn applied_baseline(config: Option<&Path>, start: &Path, root: &Path) -> std::path::PathBuf {
    let named = config
        .map(Path::to_path_buf)
        .or_else(|| Config::find(start))
        .and_then(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            Config::parse(&text, &p.display().to_string())
                .ok()?
                .baseline
        });
    root.join(named.as_deref().unwrap_or(baseline::FILE_NAME))
}

pub(crate) fn baseline(cmd: BaselineCommand) -> Result<Outcome, Error> {
    match cmd {
        BaselineCommand::Create {
            path,
            output,
            common,
        } => {
            let config = common.config.clone();
            let start = path.clone();
            let run = every_finding(path, common)?;
            let applied = applied_baseline(config.as_deref(), &start, &run.root);
            let output = output.unwrap_or_else(|| applied.clone());
            let b = Baseline::from_findings(&run.findings);
            b.save(&output).map_err(Error::new)?;
            let entries = plural(b.entries.len(), "entry", "entries");
            // Only the default file is applied without being named (issue 19 item 26).
            let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
                (Ok(a), Ok(b)) => a == b,
                _ => false,
            };
            diag::info(&diag::escape(&if same(&output, &applied) {
                format!(
                    "keyhound: wrote {entries} to {}; every command (scan, staged and the pre-commit hook, history) applies it",
                    output.display()
                )
            } else {
                format!(
                    "keyhound: wrote {entries} to {out}; it applies only where named: `--baseline {out}` on a command line, or `baseline = \"{out}\"` in .keyhound.toml (read by the pre-commit hook too); unnamed, commands apply {} when it exists",
                    applied.display(),
                    out = output.display(),
                )
            }));
            Ok(if run.summary.incomplete {
                Outcome::Error
            } else {
                Outcome::Clean
            })
        }
        BaselineCommand::Prune {
            path,
            file,
            dry_run,
            common,
        } => {
            let config = common.config.clone();
            let start = path.clone();
            let run = every_finding(path, common)?;
            let findings = run.findings;
            let file =
                file.unwrap_or_else(|| applied_baseline(config.as_deref(), &start, &run.root));
            let mut b = Baseline::load(&file).map_err(Error::new)?;
            if run.summary.incomplete {
                return Err(Error::new(
                    "the scan was incomplete; not pruning, since a missing file would look stale",
                ));
            }
            let stale = b.stale(&findings);
            let text: String = stale
                .iter()
                .map(|e| {
                    let line = format!("{} {} ({}:{})", e.rule, e.redacted, e.path, e.line);
                    format!("stale: {}\n", diag::escape(&line))
                })
                .collect();
            report::print(&text)?;
            // Entries in the fingerprint form before issue 19 are rewritten in the current one.
            let upgraded = if dry_run { 0 } else { b.upgrade(&findings) };
            if !dry_run && (!stale.is_empty() || upgraded > 0) {
                b.entries.retain(|e| !stale.contains(e));
                b.save(&file).map_err(Error::new)?;
            }
            diag::info(&diag::escape(&format!(
                "keyhound: {}{}{}",
                plural(stale.len(), "stale entry", "stale entries"),
                if dry_run || stale.is_empty() {
                    String::new()
                } else {
                    format!(" removed from {}", file.display())
                },
                if upgraded == 0 {
                    String::new()
                } else {
                    format!(
                        "; {} rewritten with the current fingerprint",
                        plural(upgraded, "entry", "entries")
                    )
                }
            )));
            Ok(Outcome::Clean)
        }
    }
}
