//! `.keyhound.toml`: the user's rules and allow-lists, read from the scanned root or from
//! `--config FILE` (never from parent directories). Unknown keys are errors with file and line.
//!
//! ```toml
//! [allow]
//! paths = ["docs/**", "*.snap"]   # skip these paths (gitignore syntax, relative to the root)
//! rules = ["stripe.test-key"]     # disable these rules (an id, or a prefix ending in '.')
//! fingerprints = ["3f9a..."]      # accept these individual findings
//!
//! [[rule]]                        # custom rules, same shape as rules/*.toml
//! id = "acme.internal-token"
//! ...
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use serde::Deserialize;

use crate::rules::{self, LoadError, Rule, RuleSet, RuleSpec};

/// The config file name looked for at the scanned root.
pub const FILE_NAME: &str = ".keyhound.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    allow: Allow,
    #[serde(default)]
    rule: Vec<RuleSpec>,
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
    pub allow: Allow,
    pub rules: Vec<Rule>,
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

impl Config {
    /// Load `explicit` if given (it must exist), else `root/.keyhound.toml` if it exists.
    pub fn load(explicit: Option<&Path>, root: &Path) -> Result<Config, ConfigError> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let p = root.join(FILE_NAME);
                if !p.is_file() {
                    return Ok(Config::default());
                }
                p
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|error| ConfigError::Read {
            path: path.clone(),
            error,
        })?;
        let mut config = Config::parse(&text, &path.display().to_string())?;
        config.path = Some(path);
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
            allow: file.allow,
            rules,
        })
    }

    /// Apply the config to the built-in rules: add or replace custom rules, disable listed ones.
    pub fn apply(&self, set: &mut RuleSet) -> Result<(), ConfigError> {
        set.extend(self.rules.clone());
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

    /// The `allow.paths` matcher, anchored at `root`.
    pub fn exclude(&self, root: &Path) -> Result<Option<Gitignore>, ConfigError> {
        self.exclude_with(root, None)
    }

    /// The `allow.paths` matcher plus the patterns of `root/.keyhoundignore`, for sources that
    /// do not walk directories (staged changes, history).
    pub fn exclude_with_ignore_file(&self, root: &Path) -> Result<Option<Gitignore>, ConfigError> {
        self.exclude_with(root, Some(&root.join(".keyhoundignore")))
    }

    /// The `allow.paths` matcher plus ignore patterns given as text (a `.keyhoundignore` read
    /// from a git revision).
    pub fn exclude_with_text(
        &self,
        root: &Path,
        ignore: &str,
    ) -> Result<Option<Gitignore>, ConfigError> {
        let mut b = GitignoreBuilder::new(root);
        for line in ignore.lines() {
            let _ = b.add_line(None, line);
        }
        for p in &self.allow.paths {
            let _ = b.add_line(None, p);
        }
        b.build().map(Some).map_err(|e| {
            ConfigError::Invalid(LoadError {
                origin: ".keyhoundignore".into(),
                line: None,
                message: e.to_string(),
            })
        })
    }

    fn exclude_with(
        &self,
        root: &Path,
        ignore_file: Option<&Path>,
    ) -> Result<Option<Gitignore>, ConfigError> {
        let ignore_file = ignore_file.filter(|p| p.is_file());
        if self.allow.paths.is_empty() && ignore_file.is_none() {
            return Ok(None);
        }
        let mut b = GitignoreBuilder::new(root);
        if let Some(file) = ignore_file {
            if let Some(e) = b.add(file) {
                return Err(ConfigError::Invalid(LoadError {
                    origin: file.display().to_string(),
                    line: None,
                    message: e.to_string(),
                }));
            }
        }
        for p in &self.allow.paths {
            b.add_line(None, p).map_err(|e| {
                ConfigError::Invalid(LoadError {
                    origin: self.origin(),
                    line: None,
                    message: format!("allow.paths: bad pattern \"{p}\": {e}"),
                })
            })?;
        }
        b.build().map(Some).map_err(|e| {
            ConfigError::Invalid(LoadError {
                origin: self.origin(),
                line: None,
                message: format!("allow.paths: {e}"),
            })
        })
    }

    fn origin(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| FILE_NAME.to_string(), |p| p.display().to_string())
    }
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
