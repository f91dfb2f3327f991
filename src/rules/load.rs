//! Turns rule TOML (the built-in `rules/*.toml`, embedded at build time, or a user's
//! `[[rule]]` tables) into compiled [`Rule`]s. Every error names the file, the line and what is
//! wrong; none echoes scanned content. Does not match anything (see `crate::detect`).

use std::fmt;

use regex::bytes::RegexBuilder;
use serde::Deserialize;

use super::{Checksum, Rule, Severity};

/// The built-in rule files, one per provider: file name, TOML text, and the same as JSON
/// (converted by `build.rs`; `null` when the TOML does not parse).
const BUILTIN: &[(&str, &str, &str)] = &include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Compiled-regex size limit: keeps every rule, built-in or user, small and linear-time.
const REGEX_SIZE_LIMIT: usize = 4 << 20;
const DEFAULT_WINDOW: usize = 256;
const DEFAULT_NEARBY_LINES: usize = 5;

/// A rule file or config could not be turned into rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub origin: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.origin, line, self.message),
            None => write!(f, "{}: {}", self.origin, self.message),
        }
    }
}

impl std::error::Error for LoadError {}

impl From<LoadError> for crate::error::Error {
    fn from(e: LoadError) -> crate::error::Error {
        crate::error::Error::new(e.to_string())
    }
}

/// One `[[rule]]` table as written in TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub provider: String,
    pub name: String,
    pub keywords: Vec<String>,
    pub pattern: String,
    pub min_entropy: Option<f64>,
    pub checksum: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    pub revoke_url: Option<String>,
    #[serde(default)]
    pub remediation: String,
    #[serde(default)]
    pub references: Vec<String>,
    pub window: Option<usize>,
    pub boundary: Option<bool>,
    pub requires_nearby: Option<String>,
    pub nearby_lines: Option<usize>,
    /// `"secret"` (default) or `"match"`: the placeholder filter also judges the whole match.
    #[serde(default)]
    pub placeholder_scope: Option<String>,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub counter_examples: Vec<String>,
    /// A user rule that replaces the built-in rule of the same id must say so.
    #[serde(default, rename = "override")]
    pub replaces: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

/// Compile every built-in rule.
pub fn builtin() -> Result<Vec<Rule>, LoadError> {
    let mut rules = Vec::new();
    for (name, text, json) in BUILTIN {
        rules.extend(parse_lazy(text, json, &format!("rules/{name}"))?);
    }
    Ok(rules)
}

/// Parse and compile a rule file's text. `origin` names it in errors.
pub fn parse_rules(text: &str, origin: &str) -> Result<Vec<Rule>, LoadError> {
    let file: RuleFile = toml::from_str(text).map_err(|e| toml_error(&e, text, origin))?;
    file.rule
        .into_iter()
        .map(|spec| compile(spec, text, origin))
        .collect()
}

/// Parse built-in rule text without compiling the patterns (done on first use; the test suite
/// compiles and checks every one).
fn parse_lazy(text: &str, json: &str, origin: &str) -> Result<Vec<Rule>, LoadError> {
    let file: RuleFile = match serde_json::from_str(json) {
        Ok(file) => file,
        // The TOML parser names the line of the problem.
        Err(_) => toml::from_str(text).map_err(|e| toml_error(&e, text, origin))?,
    };
    file.rule
        .into_iter()
        .map(|spec| build(spec, text, origin, false))
        .collect()
}

/// Compile a pattern with the size limits every rule gets. Classes are ASCII (`\w`, `\d`,
/// `\s`, `[^"]` and `.` match bytes; `(?i)` folds ASCII letters), as keys are ASCII and as in
/// gitleaks' Go patterns: Unicode classes compile to large UTF-8 automata whose lazy DFA caches
/// held half of a history audit's memory (issue 12: trufflehog's repository 270 MB peak RSS,
/// 137 MB with ASCII classes, the same findings) and took a tenth of its CPU to build. A
/// pattern that needs Unicode (`\p{L}` in a custom rule) is compiled with it.
pub fn build_regex(pattern: &str) -> Result<regex::bytes::Regex, regex::Error> {
    build_regex_within(pattern, REGEX_SIZE_LIMIT)
}

/// [`build_regex`] with another size limit (imported gitleaks patterns get a larger one).
pub fn build_regex_within(
    pattern: &str,
    limit: usize,
) -> Result<regex::bytes::Regex, regex::Error> {
    let build = |unicode: bool| {
        RegexBuilder::new(pattern)
            .unicode(unicode)
            .size_limit(limit)
            .dfa_size_limit(limit)
            .build()
    };
    build(false).or_else(|_| build(true))
}

/// Convert a TOML error into a [`LoadError`] with a line number and without echoing input.
pub fn toml_error(e: &toml::de::Error, text: &str, origin: &str) -> LoadError {
    let line = e.span().map(|s| line_of(text, s.start));
    LoadError {
        origin: origin.to_string(),
        line,
        message: e.message().trim().to_string(),
    }
}

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The line where a rule's `id = "..."` is written, for error messages.
fn line_of_rule(text: &str, id: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.starts_with("id") && l.contains(&format!("\"{id}\""))
        })
        .map(|i| i + 1)
}

/// Compile one rule, checking every field the detector relies on.
pub fn compile(spec: RuleSpec, text: &str, origin: &str) -> Result<Rule, LoadError> {
    build(spec, text, origin, true)
}

fn build(spec: RuleSpec, text: &str, origin: &str, eager: bool) -> Result<Rule, LoadError> {
    let err = |message: String| LoadError {
        origin: origin.to_string(),
        line: line_of_rule(text, &spec.id),
        message: format!("rule \"{}\": {message}", spec.id),
    };
    if spec.id.is_empty()
        || !spec.id.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'_'
        })
    {
        return Err(err(
            "id must be non-empty lower-case `provider.kind` (a-z, 0-9, '.', '-', '_')".into(),
        ));
    }
    if spec.keywords.is_empty() || spec.keywords.iter().any(|k| k.len() < 2) {
        return Err(err(
            "needs at least one keyword, each at least 2 characters long".into(),
        ));
    }
    let regex = std::sync::OnceLock::new();
    if eager {
        let compiled = build_regex(&spec.pattern).map_err(|e| {
            let detail = match e {
                regex::Error::CompiledTooBig(limit) => {
                    format!("pattern compiles to more than {limit} bytes; simplify it")
                }
                other => format!(
                    "pattern does not compile: {}",
                    first_line(&other.to_string())
                ),
            };
            err(detail)
        })?;
        if compiled.captures_len() != 2 {
            return Err(err(format!(
                "pattern must have exactly one capture group (the secret), it has {}; use (?:...) for the others",
                compiled.captures_len() - 1
            )));
        }
        let _ = regex.set(compiled);
    }
    let checksum = match spec.checksum.as_deref() {
        None => None,
        Some(name) => Some(Checksum::from_name(name).ok_or_else(|| {
            err(format!(
                "unknown checksum \"{name}\"; built-in validators: {}",
                Checksum::ALL.map(Checksum::name).join(", ")
            ))
        })?),
    };
    let severity = match spec.severity.as_deref() {
        None | Some("high") => Severity::High,
        Some("medium") => Severity::Medium,
        Some("low") => Severity::Low,
        Some(other) => {
            return Err(err(format!(
                "severity \"{other}\" is not one of high, medium, low"
            )))
        }
    };
    let placeholder_match = match spec.placeholder_scope.as_deref() {
        None | Some("secret") => false,
        Some("match") => true,
        Some(other) => {
            return Err(err(format!(
                "placeholder_scope \"{other}\" is not one of secret, match"
            )))
        }
    };
    if let Some(e) = spec.min_entropy {
        if !(0.0..=8.0).contains(&e) {
            return Err(err(
                "min_entropy must be between 0 and 8 bits per byte".into()
            ));
        }
    }
    Ok(Rule {
        regex,
        severity,
        window: spec.window.unwrap_or(DEFAULT_WINDOW).clamp(16, 1 << 20),
        boundary: spec.boundary.unwrap_or(true),
        nearby_lines: spec.nearby_lines.unwrap_or(DEFAULT_NEARBY_LINES),
        placeholder_match,
        origin: origin.to_string(),
        id: spec.id,
        provider: spec.provider,
        name: spec.name,
        keywords: spec.keywords,
        pattern: spec.pattern,
        min_entropy: spec.min_entropy,
        checksum,
        revoke_url: spec.revoke_url,
        remediation: spec.remediation,
        references: spec.references,
        requires_nearby: spec.requires_nearby,
        examples: spec.examples,
        counter_examples: spec.counter_examples,
        replaces: spec.replaces,
        secret_group: super::SecretGroup::Index(1),
        gitleaks: None,
    })
}

fn first_line(s: &str) -> String {
    // regex errors print the pattern over several lines; keep them but on one line.
    s.lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rule patterns get ASCII classes (as gitleaks' Go patterns); a pattern that needs Unicode
    /// still compiles, with it.
    #[test]
    fn patterns_are_ascii_unless_they_need_unicode() {
        let word = build_regex(r"^\w+$").unwrap();
        assert!(word.is_match(b"abc_123"));
        assert!(!word.is_match("caf\u{e9}".as_bytes()));
        let any = build_regex(r#"key="([^"]+)""#).unwrap();
        assert!(
            any.is_match(b"key=\"\xff\xfe\""),
            "a negated class takes any byte"
        );
        let folded = build_regex(r"(?i)token").unwrap();
        assert!(folded.is_match(b"TOKEN"));
        let letters = build_regex(r"^\p{L}+$").unwrap();
        assert!(letters.is_match("caf\u{e9}".as_bytes()));
        assert!(build_regex(r"(unclosed").is_err());
    }
}
