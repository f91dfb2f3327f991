//! Rules are data: [`Rule`] is one compiled rule, [`RuleSet`] the built-in rules (embedded from
//! `rules/*.toml`) plus the user's, minus the ones the config disables. Loading and validation
//! live in [`load`]; matching, and checking rules against their examples, live in
//! `crate::detect` (which this module never imports: rules are data the detector reads).

pub mod gitleaks;
pub mod load;
pub mod prefix;

use regex::bytes::Regex;
use serde::Serialize;

pub use load::{builtin, parse_rules, LoadError, RuleSpec};

/// How bad a finding of this rule is, independent of verification.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    #[default]
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// A validator a rule names in `checksum`, for structure a regex cannot express. Written by
/// name in `rules/*.toml` and `.keyhound.toml` ([`Checksum::from_name`]); the check itself is
/// the detector's (`crate::detect::checksum`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Checksum {
    /// `openai-marker`: OpenAI's `T3BlbkFJ` marker between two bodies of the same length.
    OpenaiMarker,
    /// `openai-marker-other`: the same, for a prefix no other OpenAI rule claims.
    OpenaiMarkerOther,
    /// `github-crc32`: GitHub's (and npm's) CRC32 of the random part, in base62.
    GithubCrc32,
    /// `aws-secret`: 40 characters mixing cases, not all hex.
    AwsSecret,
}

impl Checksum {
    /// Every validator, in the order `--help` and errors list them.
    pub const ALL: [Checksum; 4] = [
        Checksum::OpenaiMarker,
        Checksum::OpenaiMarkerOther,
        Checksum::GithubCrc32,
        Checksum::AwsSecret,
    ];

    /// The name rule files use.
    pub fn name(self) -> &'static str {
        match self {
            Checksum::OpenaiMarker => "openai-marker",
            Checksum::OpenaiMarkerOther => "openai-marker-other",
            Checksum::GithubCrc32 => "github-crc32",
            Checksum::AwsSecret => "aws-secret",
        }
    }

    /// The validator a rule file names; `None` for a name that is none.
    pub fn from_name(name: &str) -> Option<Checksum> {
        Checksum::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// One compiled rule.
#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    pub provider: String,
    pub name: String,
    pub keywords: Vec<String>,
    pub pattern: String,
    /// Compiled on first use: most runs touch few rules, and compiling all of them is most of a
    /// small scan's start-up time. User rules are compiled when loaded, to report errors early.
    pub(crate) regex: std::sync::OnceLock<Regex>,
    pub min_entropy: Option<f64>,
    pub checksum: Option<Checksum>,
    pub severity: Severity,
    pub revoke_url: Option<String>,
    pub remediation: String,
    pub references: Vec<String>,
    /// Bytes searched before and after a keyword hit.
    pub window: usize,
    /// Reject a secret preceded or followed by `[A-Za-z0-9_-]`.
    pub boundary: bool,
    pub requires_nearby: Option<String>,
    pub nearby_lines: usize,
    /// `placeholder_scope = "match"`: a placeholder word or mark anywhere in the whole match
    /// (a URL's user or host: `db.example.com`, `your_user`) drops it, not only in the secret.
    pub placeholder_match: bool,
    pub examples: Vec<String>,
    pub counter_examples: Vec<String>,
    /// Where the rule came from: `rules/openai.toml` (built in) or a config path.
    pub origin: String,
    /// `override = true`: this (user) rule replaces the rule that has its id.
    pub replaces: bool,
    /// Which capture group holds the secret (group 1 for keyhound's own rules).
    pub secret_group: SecretGroup,
    /// A rule read from a gitleaks config: its path condition, allow-lists and strict entropy
    /// threshold (see [`gitleaks`]). `None` for keyhound's own rules.
    pub gitleaks: Option<std::sync::Arc<gitleaks::Filters>>,
}

/// Where a match's secret is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretGroup {
    /// This capture group (0: the whole match).
    Index(usize),
    /// The first capture group that matched something (gitleaks' rule without `secretGroup`).
    FirstNonEmpty,
}

impl Rule {
    /// The secret of a regex match, if the match has one.
    pub fn secret_of<'h>(
        &self,
        caps: &regex::bytes::Captures<'h>,
    ) -> Option<regex::bytes::Match<'h>> {
        match self.secret_group {
            SecretGroup::Index(i) => caps.get(i),
            SecretGroup::FirstNonEmpty => caps
                .iter()
                .skip(1)
                .flatten()
                .find(|m| !m.is_empty())
                .or_else(|| caps.get(0)),
        }
    }
}

impl Rule {
    /// The compiled pattern.
    pub fn regex(&self) -> &Regex {
        self.regex.get_or_init(|| {
            load::build_regex(&self.pattern)
                .expect("rule patterns are checked when loaded or tested")
        })
    }
}

/// The rules in force for a run.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    /// Allow-lists of imported gitleaks configs that apply to every rule (gitleaks' global
    /// `[allowlist]` / `[[allowlists]]` without `targetRules`).
    pub allowlists: Vec<gitleaks::Allowlist>,
}

impl RuleSet {
    /// The built-in rules, without any user configuration.
    pub fn builtin() -> Result<RuleSet, LoadError> {
        Ok(RuleSet {
            rules: builtin()?,
            allowlists: Vec::new(),
        })
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.rules.iter().position(|r| r.id == id)
    }

    /// Add user rules. A rule whose id is taken replaces the existing rule only when it says
    /// `override = true`; otherwise the rule is refused (a silent replacement could let a real
    /// key through). On error nothing is added.
    pub fn extend(&mut self, rules: Vec<Rule>) -> Result<(), LoadError> {
        for rule in &rules {
            if !rule.replaces && self.get(&rule.id).is_some() {
                return Err(LoadError {
                    origin: rule.origin.clone(),
                    line: None,
                    message: format!(
                        "rule \"{}\" has the id of a built-in rule; choose another id, or add `override = true` to replace the built-in rule",
                        rule.id
                    ),
                });
            }
        }
        for rule in rules {
            match self.index_of(&rule.id) {
                Some(i) => self.rules[i] = rule,
                None => self.rules.push(rule),
            }
        }
        Ok(())
    }

    /// Drop the rules with these ids (or id prefixes ending in `.`, e.g. `stripe.`); returns the
    /// names that matched nothing so the caller can report them.
    pub fn disable(&mut self, ids: &[String]) -> Vec<String> {
        let mut unknown = Vec::new();
        for id in ids {
            let before = self.rules.len();
            self.rules
                .retain(|r| !(r.id == *id || (id.ends_with('.') && r.id.starts_with(id.as_str()))));
            if self.rules.len() == before {
                unknown.push(id.clone());
            }
        }
        unknown
    }
}
