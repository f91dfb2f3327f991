//! The one answer to "is this finding reported?". A [`Policy`] is built once per run, either
//! from the work tree ([`Policy::from_work_tree`]) or, for `history --range A..B` in CI, from the
//! base revision A ([`Policy::from_revision`]), so a pull request cannot allow-list its own key.
//! It holds everything that silences a finding: `[allow] paths` and `.keyhoundignore` (gitignore
//! syntax, relative to the config file's folder), `[allow] fingerprints`, the baseline, and the
//! inline `keyhound:allow` marker that the detector flags, and the `paths` and `commits` of
//! imported gitleaks allow-lists. [`Policy::decide`] gives, for each finding, `None` (reported)
//! or the [`Suppression`] that silences it, so reports can list what was silenced
//! (`--show-suppressed`). Fingerprints and baselines are keyed by rule and secret:
//! they silence that secret wherever it occurs, not one line.
//!
//! It does not load rules' patterns or scan anything; `[allow] rules` is applied when the rule set
//! is built ([`Policy::rules`]), since a disabled rule is never run.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use ignore::gitignore::GitignoreBuilder;

use crate::baseline::{self, Baseline};
use crate::config::{self, Config};
use crate::diag;
use crate::error::Error;
pub use crate::finding::Suppression;
use crate::finding::{Finding, Provenance};
use crate::paths::{PathFilter, Pinned};
use crate::rules::gitleaks::{self, ByPlace};
use crate::rules::{LoadError, RuleSet};
use crate::summary::Notice;

/// The ignore file read next to the config (or at the scanned root).
pub const IGNORE_FILE: &str = ".keyhoundignore";

/// The base revision of a range, as [`Policy::from_revision`] reads it: its name as given
/// (for messages) and where each file is read from (`scan::history::BaseFiles::pin` in a
/// repository: the base's text, or disk).
pub struct BaseRevision<'a> {
    /// The base revision as given (`A` of `A..B`).
    pub name: &'a str,
    /// Where to read one file (absolute, or relative to the current directory) from.
    pub pin: &'a dyn Fn(&Path) -> Result<Pinned, String>,
}

/// Which baseline applies.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum BaselineChoice {
    /// The file the config names (`baseline = "..."`), else `.keyhound-baseline.json` next to the
    /// config (or at the top of the work tree) when it exists.
    #[default]
    Default,
    /// `--baseline FILE`: this file, which must exist.
    File(PathBuf),
    /// `--no-baseline`, and `keyhound baseline create|prune`, which must see every finding.
    Off,
}

/// Everything that decides whether a finding is reported, for one run.
#[derive(Debug)]
pub struct Policy {
    config: Config,
    /// The folder `[allow] paths`, `.keyhoundignore` and the default baseline are relative to.
    root: PathBuf,
    paths: Option<PathFilter>,
    fingerprints: HashSet<String>,
    baseline: Option<Baseline>,
    /// What building the policy found a reviewer should know (a range's changed policy files).
    notices: Vec<Notice>,
}

impl Policy {
    /// The policy of a work tree scanned at `start`: the config given, or the one found from
    /// `start` (see [`Config::find`]); `.keyhoundignore` and the baseline next to it.
    pub fn from_work_tree(
        start: &Path,
        config: Option<&Path>,
        baseline: &BaselineChoice,
    ) -> Result<Policy, Error> {
        let config = Config::load(config, start)?;
        let start = absolute(start)?;
        let root = match config.dir() {
            Some(dir) => absolute(dir)?,
            None => config::work_tree_top(&start).unwrap_or(start),
        };
        let ignore_path = root.join(IGNORE_FILE);
        let ignore = match std::fs::read_to_string(&ignore_path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(Error::new(format!(
                    "{}: cannot read: {e}",
                    ignore_path.display()
                )))
            }
        };
        let baseline = match baseline {
            BaselineChoice::Off => None,
            BaselineChoice::File(path) => Some(Baseline::load(path).map_err(Error::new)?),
            BaselineChoice::Default => match &config.baseline {
                // Named in the config: it must be there.
                Some(name) => Some(Baseline::load(&root.join(name)).map_err(|e| {
                    Error::new(format!("{e} (named by `baseline` in {})", config.origin()))
                })?),
                None => {
                    let path = root.join(baseline::FILE_NAME);
                    if path.is_file() {
                        Some(Baseline::load(&path).map_err(Error::new)?)
                    } else {
                        None
                    }
                }
            },
        };
        Policy::new(config, root, ignore.as_deref(), baseline)
    }

    /// The policy as the base revision of a range has it (`history --range A..B`): its config,
    /// `.keyhoundignore` and baseline, whatever the range changes, and likewise the files named
    /// by `config` (`--config`), `rules_from` (`--rules-from`) and `baseline` when they are in
    /// the repository (issue 19 item 2: CI jobs name the repository's own files); a file
    /// outside it is the CI job's and is read from disk. Each file the range changes or adds is
    /// named in a notice; one the range adds is not used.
    pub fn from_revision(
        repo_root: &Path,
        base: &BaseRevision,
        config: Option<&Path>,
        rules_from: &[PathBuf],
        baseline: &BaselineChoice,
    ) -> Result<Policy, Error> {
        let repo_root = absolute(repo_root)?;
        let notices = std::cell::RefCell::new(Vec::new());
        let notices = &notices;
        let config_path = match config {
            Some(path) => absolute(path)?,
            None => repo_root.join(config::FILE_NAME),
        };
        let mut root = repo_root;
        let mut config = match read_pinned(base, notices, &config_path)? {
            Some((origin, text)) => {
                let mut c = Config::parse(&text, &origin)?;
                // Named as read (`BASE:path`) in errors.
                c.path = Some(PathBuf::from(origin));
                // The config's folder: its paths, `rules_from`, `.keyhoundignore` and the
                // baseline are relative to it.
                if let Some(dir) = config_path.parent() {
                    root = dir.to_path_buf();
                }
                c
            }
            None if config.is_some() && !config_path.exists() => {
                return Err(Error::new(format!(
                    "{}: cannot read config: no such file",
                    config_path.display()
                )))
            }
            None => Config::default(),
        };
        for name in config.rules_from.clone() {
            let path = root.join(&name);
            match read_pinned(base, notices, &path)? {
                Some((origin, text)) => {
                    import_pinned(&mut config, base, notices, &path, &origin, &text)?
                }
                None => {
                    return Err(Error::from(LoadError {
                        origin: config.origin(),
                        line: None,
                        message: format!(
                            "rules_from names {name}, which the base revision {} does not have",
                            base.name
                        ),
                    }))
                }
            }
        }
        for file in rules_from {
            let path = absolute(file)?;
            match read_pinned(base, notices, &path)? {
                Some((origin, text)) => {
                    import_pinned(&mut config, base, notices, &path, &origin, &text)?
                }
                // Added by the range: named in a notice, not used.
                None if !path.exists() => {
                    config::read_rules_file(file, "--rules-from")?;
                }
                None => {}
            }
        }
        let ignore = read_pinned(base, notices, &root.join(IGNORE_FILE))?.map(|(_, text)| text);
        // The baseline named on the command line or in the config must exist in the base;
        // the conventional one is used when it is there.
        let (name, required) = match baseline {
            BaselineChoice::Off => (None, false),
            BaselineChoice::File(path) => (Some(absolute(path)?), true),
            BaselineChoice::Default => match &config.baseline {
                Some(named) => (Some(root.join(named)), true),
                None => (Some(root.join(baseline::FILE_NAME)), false),
            },
        };
        let baseline = match name {
            None => None,
            Some(path) => match read_pinned(base, notices, &path)? {
                Some((origin, text)) => Some(Baseline::parse(&text, &origin).map_err(Error::new)?),
                None if required => {
                    diag::notice(&format!(
                        "the base revision has no {}; no baseline applied",
                        path.strip_prefix(&root).unwrap_or(&path).display()
                    ));
                    None
                }
                None => None,
            },
        };
        let mut policy = Policy::new(config, root, ignore.as_deref(), baseline)?;
        policy.notices = notices.take();
        Ok(policy)
    }

    /// The built-in rules alone, with no config, ignore file or default baseline (a baseline
    /// named by `--baseline` still applies): an organisation audit with no config of its own,
    /// so no audited repository's files can silence it (issue 24 item 1).
    pub fn builtin(root: &Path, baseline: &BaselineChoice) -> Result<Policy, Error> {
        let baseline = match baseline {
            BaselineChoice::File(path) => Some(Baseline::load(path).map_err(Error::new)?),
            BaselineChoice::Off | BaselineChoice::Default => None,
        };
        Policy::new(Config::default(), absolute(root)?, None, baseline)
    }

    fn new(
        config: Config,
        root: PathBuf,
        ignore: Option<&str>,
        baseline: Option<Baseline>,
    ) -> Result<Policy, Error> {
        let paths = path_filter(&config, &root, ignore)?;
        Ok(Policy {
            fingerprints: config.allow.fingerprints.iter().cloned().collect(),
            paths,
            baseline,
            root,
            config,
            notices: Vec::new(),
        })
    }

    /// Add the rules of gitleaks-format files named on the command line (`--rules-from`).
    pub fn import_rules(mut self, files: &[PathBuf]) -> Result<Policy, Error> {
        for file in files {
            let text = config::read_rules_file(file, "--rules-from")?;
            self.config
                .import(&file.display().to_string(), &text, &config::read_beside)?;
        }
        Ok(self)
    }

    /// This policy without path exclusions (`scan --no-ignore`: every path is scanned and
    /// reported; fingerprints, the baseline and `keyhound:allow` still apply).
    pub fn without_paths(mut self) -> Policy {
        self.paths = None;
        self
    }

    /// The rules in force: the built-in ones, the config's own, minus `[allow] rules`.
    pub fn rules(&self) -> Result<RuleSet, Error> {
        let mut set = RuleSet::builtin()?;
        self.config.apply(&mut set)?;
        Ok(set)
    }

    /// What building the policy found a reviewer should know (printed on stderr already).
    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }

    /// The folder the policy's paths are relative to.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path exclusions, for a walker to skip excluded folders without reading them.
    pub fn path_filter(&self) -> Option<&PathFilter> {
        self.paths.as_ref()
    }

    /// Whether `finding` is reported (`None`) or what silences it. `base` is the folder its
    /// path is relative to (the walk's root, or the repository's top).
    pub fn decide(&self, finding: &Finding, base: &Path) -> Option<Suppression> {
        if finding.allowed {
            return Some(Suppression::InlineAllow);
        }
        if let Some(paths) = &self.paths {
            let path = finding.provenance.path();
            if finding.provenance != Provenance::Stdin && paths.excludes(&base.join(path), false) {
                return Some(Suppression::Path);
            }
            // An archive member or notebook cell is excluded with its file (history and staged
            // scans read it before the policy sees its path).
            let container = crate::finding::container_path(path);
            if container.is_some_and(|c| paths.excludes(&base.join(c), false)) {
                return Some(Suppression::Path);
            }
        }
        if self.by_place(finding) == ByPlace::Allowed {
            return Some(Suppression::Imported);
        }
        // A fingerprint written before issue 19 (old form, worked out in memory only) still
        // accepts its secret.
        if self.fingerprints.contains(&finding.fingerprint)
            || (!self.fingerprints.is_empty()
                && self
                    .fingerprints
                    .contains(&crate::fingerprint::legacy_fingerprint(
                        &finding.rule_id,
                        finding.secret.as_bytes(),
                    )))
        {
            return Some(Suppression::Fingerprint);
        }
        if self.baseline.as_ref().is_some_and(|b| b.accepts(finding)) {
            return Some(Suppression::Baseline);
        }
        None
    }

    /// What imported gitleaks configs say of `finding` by its place: its rule's `path`, and
    /// the `paths` and `commits` of the rule's and the global allow-lists. Judged here, where
    /// every source's findings have their provenance (history scans a blob before it knows
    /// where it was seen); the detector asks the same when it knows the place, to skip early.
    fn by_place(&self, finding: &Finding) -> ByPlace {
        let rule = self
            .config
            .rules
            .iter()
            .find(|r| r.id == finding.rule_id)
            .and_then(|r| r.gitleaks.as_deref());
        if rule.is_none() && self.config.allowlists.is_empty() {
            return ByPlace::Open;
        }
        let ctx = gitleaks::Context {
            path: Some(match finding.provenance {
                Provenance::Stdin => "",
                _ => finding.provenance.path(),
            }),
            commit: finding.provenance.commit().map(|c| c.id.as_str()),
        };
        gitleaks::judge(&self.config.allowlists, rule, &ctx)
    }

    /// Split findings into those reported and those silenced (each marked with why).
    /// A finding outside its imported rule's `path` is no finding of that rule: dropped.
    pub fn apply(&self, findings: Vec<Finding>, base: &Path) -> (Vec<Finding>, Vec<Finding>) {
        let mut reported = Vec::with_capacity(findings.len());
        let mut suppressed = Vec::new();
        for mut f in findings {
            if self.by_place(&f) == ByPlace::OutOfScope {
                continue;
            }
            match self.decide(&f, base) {
                None => reported.push(f),
                Some(why) => {
                    f.suppressed = Some(why);
                    suppressed.push(f);
                }
            }
        }
        (reported, suppressed)
    }
}

/// In a range, an inline `keyhound:allow` still silences a finding, but each one is listed (on
/// stderr and in the report's notices) so a reviewer sees what the pull request chose to hide.
pub fn note_inline_allows(suppressed: &[Finding], notices: &mut Vec<Notice>) {
    let mut allowed: Vec<Notice> = suppressed
        .iter()
        .filter(|f| f.suppressed == Some(Suppression::InlineAllow))
        .map(|f| Notice {
            message: format!(
                "keyhound:allow in the range silences {}:{} {} {} (commit {})",
                f.provenance.path(),
                f.location.line,
                f.rule_id,
                f.redacted,
                f.provenance
                    .commit()
                    .map_or("", |c| &c.id[..c.id.len().min(12)])
            ),
            path: Some(f.provenance.path().to_string()),
            line: Some(f.location.line),
        })
        .collect();
    allowed.sort_by(|a, b| a.message.cmp(&b.message));
    allowed.dedup();
    for a in allowed {
        a.say(notices);
    }
}

/// The text of a policy file of a range audit and the name errors give it: as the base
/// revision has it when it is in the repository, from disk when it is not (the CI job's own
/// file); `None` when there is no such file, or the range adds it (a notice says so). A file
/// the range changes is named in a notice.
fn read_pinned(
    base: &BaseRevision,
    notices: &std::cell::RefCell<Vec<Notice>>,
    path: &Path,
) -> Result<Option<(String, String)>, Error> {
    match (base.pin)(path).map_err(Error::new)? {
        Pinned::Base {
            path,
            origin,
            text,
            changed,
        } => {
            if changed {
                Notice {
                    message: format!("the range changes {path}; the version of the base revision is used, so a pull request cannot allow-list its own keys"),
                    path: Some(path),
                    line: None,
                }
                .say(&mut notices.borrow_mut());
            }
            Ok(Some((origin, text)))
        }
        Pinned::Added { path } => {
            Notice {
                message: format!("the range changes {path} (adds it); the base revision has none, so it is not used: a pull request cannot allow-list its own keys"),
                path: Some(path),
                line: None,
            }
            .say(&mut notices.borrow_mut());
            Ok(None)
        }
        Pinned::Absent { .. } => Ok(None),
        Pinned::Disk(path) => match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some((path.display().to_string(), text))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::new(format!("{}: cannot read: {e}", path.display()))),
        },
    }
}

/// Import the gitleaks file at `path` (its text read by [`read_pinned`]); the files its
/// `[extend] path` names are read the same way, relative to its folder.
fn import_pinned(
    config: &mut Config,
    base: &BaseRevision,
    notices: &std::cell::RefCell<Vec<Notice>>,
    path: &Path,
    origin: &str,
    text: &str,
) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let extend = |from: &str, name: &str| -> Result<(String, String), LoadError> {
        let fail = |message: String| LoadError {
            origin: from.to_string(),
            line: None,
            message,
        };
        match read_pinned(base, notices, &dir.join(name)) {
            Ok(Some(found)) => Ok(found),
            Ok(None) => Err(fail(format!(
                "extend.path: {name} is not in the base revision {}",
                base.name
            ))),
            Err(e) => Err(fail(format!("extend.path: {e}"))),
        }
    };
    config.import(origin, text, &extend)?;
    Ok(())
}

fn absolute(path: &Path) -> Result<PathBuf, Error> {
    std::path::absolute(path)
        .map_err(|e| Error::new(format!("{}: cannot resolve: {e}", path.display())))
}

/// The matcher of `[allow] paths` and the ignore file's lines, anchored at `root`.
fn path_filter(
    config: &Config,
    root: &Path,
    ignore: Option<&str>,
) -> Result<Option<PathFilter>, Error> {
    if config.allow.paths.is_empty() && ignore.is_none_or(|t| t.trim().is_empty()) {
        return Ok(None);
    }
    let mut b = GitignoreBuilder::new(root);
    if let Some(text) = ignore {
        for (i, line) in text.lines().enumerate() {
            b.add_line(None, line).map_err(|e| {
                Error::from(LoadError {
                    origin: root.join(IGNORE_FILE).display().to_string(),
                    line: Some(i + 1),
                    message: format!("bad pattern: {e}"),
                })
            })?;
        }
    }
    for p in &config.allow.paths {
        b.add_line(None, p).map_err(|e| {
            Error::from(LoadError {
                origin: config.origin(),
                line: None,
                message: format!("allow.paths: bad pattern \"{p}\": {e}"),
            })
        })?;
    }
    let matcher = b.build().map_err(|e| {
        Error::from(LoadError {
            origin: config.origin(),
            line: None,
            message: format!("allow.paths: {e}"),
        })
    })?;
    let cwd = std::env::current_dir()
        .map_err(|e| Error::new(format!("cannot read the current directory: {e}")))?;
    Ok(Some(PathFilter::new(root.to_path_buf(), cwd, matcher)))
}
