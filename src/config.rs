//! `.keyhound.toml`: the user's rules and allow-lists, from `--config FILE`, else from the
//! scanned directory or, inside a git work tree, the nearest of its parents up to the top of the
//! work tree (never beyond it). Unknown keys are errors with file and line. What the allow-lists
//! mean for a finding is decided in `crate::policy`.
//!
//! ```toml
//! baseline = ".keyhound-baseline.json"  # optional; this is the default
//!
//! [allow]
//! paths = ["docs/**", "*.snap"]   # skip these paths (gitignore syntax, relative to this file)
//! rules = ["stripe.restricted-key"] # disable these rules (an id, or a prefix ending in '.')
//! fingerprints = ["3f9a..."]      # accept these secrets, wherever they occur
//!
//! rules_from = ["gitleaks.toml"]  # gitleaks-format rules files (relative to this file)
//!
//! [[rule]]                        # custom rules, same shape as rules/*.toml
//! id = "acme.internal-token"
//! ...
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::rules::{self, gitleaks, LoadError, Rule, RuleSet, RuleSpec};

/// The config file name looked for at the scanned root.
pub const FILE_NAME: &str = ".keyhound.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    baseline: Option<String>,
    #[serde(default)]
    allow: Allow,
    #[serde(default)]
    rule: Vec<RuleSpec>,
    #[serde(default)]
    rules_from: Vec<String>,
}

/// Allow-lists.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub rules: Vec<String>,
    #[serde(default)]
    pub fingerprints: Vec<String>,
}

/// A loaded config.
#[derive(Debug, Default)]
pub struct Config {
    pub path: Option<PathBuf>,
    /// `baseline = "..."`: the baseline file, relative to the config's folder.
    pub baseline: Option<String>,
    pub allow: Allow,
    pub rules: Vec<Rule>,
    /// `rules_from = [...]`: gitleaks-format files, relative to the config's folder.
    pub rules_from: Vec<String>,
    /// The global allow-lists of imported gitleaks files.
    pub allowlists: Vec<gitleaks::Allowlist>,
}

/// A config that could not be used.
#[derive(Debug)]
pub enum ConfigError {
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    Invalid(LoadError),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read { path, error } => {
                write!(f, "{}: cannot read config: {error}", path.display())
            }
            ConfigError::Invalid(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ConfigError {}

impl From<ConfigError> for crate::error::Error {
    fn from(e: ConfigError) -> crate::error::Error {
        crate::error::Error::new(e.to_string())
    }
}

impl Config {
    /// Load `explicit` if given (it must exist), else the config [`Config::find`] finds from
    /// `start`, else an empty config.
    pub fn load(explicit: Option<&Path>, start: &Path) -> Result<Config, ConfigError> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => match Config::find(start) {
                Some(p) => p,
                None => return Ok(Config::default()),
            },
        };
        let text = std::fs::read_to_string(&path).map_err(|error| ConfigError::Read {
            path: path.clone(),
            error,
        })?;
        let mut config = Config::parse(&text, &path.display().to_string())?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        config.path = Some(path);
        let names = config.rules_from.clone();
        for name in &names {
            let file = dir.join(name);
            let text = read_rules_file(&file, &format!("rules_from in {}", config.origin()))?;
            config.import(&file.display().to_string(), &text, &read_beside)?;
        }
        Ok(config)
    }

    /// Parse config text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let file: ConfigFile = toml::from_str(text)
            .map_err(|e| ConfigError::Invalid(rules::load::toml_error(&e, text, origin)))?;
        let rules = file
            .rule
            .into_iter()
            .map(|spec| rules::load::compile(spec, text, origin))
            .collect::<Result<Vec<_>, _>>()
            .map_err(ConfigError::Invalid)?;
        Ok(Config {
            path: None,
            baseline: file.baseline,
            allow: file.allow,
            rules,
            rules_from: file.rules_from,
            allowlists: Vec::new(),
        })
    }

    /// Add the rules and allow-lists of a gitleaks-format file (`--rules-from`, `rules_from`):
    /// `text` is the file named `origin`; `read` fetches the files its `[extend] path` names.
    /// Its warnings (unknown keys, skipped path-only rules) are printed.
    pub fn import(
        &mut self,
        origin: &str,
        text: &str,
        read: &gitleaks::Reader,
    ) -> Result<(), ConfigError> {
        let imported = gitleaks::import(text, origin, read).map_err(ConfigError::Invalid)?;
        for w in &imported.warnings {
            crate::diag::warn(w);
        }
        for rule in &imported.rules {
            if let Some(other) = self.rules.iter().find(|r| r.id == rule.id) {
                return Err(ConfigError::Invalid(LoadError {
                    origin: origin.to_string(),
                    line: None,
                    message: format!(
                        "rule \"{}\" is also defined in {}; give one of them another id",
                        &rule.id[gitleaks::ID_PREFIX.len().min(rule.id.len())..],
                        other.origin
                    ),
                }));
            }
        }
        self.rules.extend(imported.rules);
        self.allowlists.extend(imported.allowlists);
        Ok(())
    }

    /// `.keyhound.toml` in `start` or, when `start` is inside a git work tree, in the nearest
    /// parent up to the work tree's top (a folder holding `.git`).
    pub fn find(start: &Path) -> Option<PathBuf> {
        let start = std::path::absolute(start).ok()?;
        let top = work_tree_top(&start);
        for dir in start.ancestors() {
            let candidate = dir.join(FILE_NAME);
            if candidate.is_file() {
                return Some(candidate);
            }
            if top.as_deref().is_none_or(|t| dir == t) {
                return None;
            }
        }
        None
    }

    /// The folder the config file is in (its paths are relative to it).
    pub fn dir(&self) -> Option<&Path> {
        self.path.as_deref().and_then(Path::parent).map(|d| {
            if d.as_os_str().is_empty() {
                Path::new(".")
            } else {
                d
            }
        })
    }

    /// Apply the config to the built-in rules: add custom rules (replacing a built-in one only
    /// with `override = true`), disable listed ones.
    pub fn apply(&self, set: &mut RuleSet) -> Result<(), ConfigError> {
        set.extend(self.rules.clone())
            .map_err(ConfigError::Invalid)?;
        set.allowlists.extend(self.allowlists.iter().cloned());
        let unknown = set.disable(&self.allow.rules);
        if let Some(id) = unknown.first() {
            return Err(ConfigError::Invalid(LoadError {
                origin: self.origin(),
                line: None,
                message: format!(
                    "allow.rules names \"{id}\", which is no rule; run `keyhound rules` to list them"
                ),
            }));
        }
        for rule in &set.rules {
            if let Some(other) = &rule.requires_nearby {
                if set.get(other).is_none() {
                    return Err(ConfigError::Invalid(LoadError {
                        origin: rule.origin.clone(),
                        line: None,
                        message: format!(
                            "rule \"{}\" requires_nearby \"{other}\", which is no rule (or is disabled)",
                            rule.id
                        ),
                    }));
                }
            }
        }
        Ok(())
    }

    pub fn origin(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| FILE_NAME.to_string(), |p| p.display().to_string())
    }
}

/// The text of a gitleaks rules file that `named_by` names; a missing file is an error.
pub fn read_rules_file(path: &Path, named_by: &str) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| {
        ConfigError::Invalid(LoadError {
            origin: named_by.to_string(),
            line: None,
            message: format!("cannot read the rules file {}: {e}", path.display()),
        })
    })
}

/// A gitleaks `[extend] path`, read from the file system relative to the file that names it.
pub fn read_beside(from: &str, name: &str) -> Result<(String, String), LoadError> {
    let path = Path::new(from).parent().unwrap_or(Path::new("")).join(name);
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|e| LoadError {
        origin: from.to_string(),
        line: None,
        message: format!("extend.path: cannot read {origin}: {e}"),
    })?;
    Ok((origin, text))
}

/// The top of the git work tree holding `dir` (the nearest ancestor with a `.git` entry).
pub fn work_tree_top(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_an_error_with_a_line() {
        let err = Config::parse("[allow]\npathz = [\"a\"]\n", ".keyhound.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with(".keyhound.toml:2:"), "{msg}");
        assert!(msg.contains("pathz"), "{msg}");
    }

    #[test]
    fn custom_rule_with_two_groups_is_rejected() {
        let text = "[[rule]]\nid = \"acme.token\"\nprovider = \"acme\"\nname = \"Acme\"\nkeywords = [\"acme_\"]\npattern = '(acme_)([a-z]{8})'\n";
        let msg = Config::parse(text, "c.toml").unwrap_err().to_string();
        assert!(msg.contains("c.toml:2:"), "{msg}");
        assert!(msg.contains("exactly one capture group"), "{msg}");
    }

    #[test]
    fn bad_regex_names_the_rule() {
        let text = "[[rule]]\nid = \"acme.token\"\nprovider = \"acme\"\nname = \"Acme\"\nkeywords = [\"acme_\"]\npattern = '(acme_[a-z'\n";
        let msg = Config::parse(text, "c.toml").unwrap_err().to_string();
        assert!(msg.contains("rule \"acme.token\""), "{msg}");
    }
}
