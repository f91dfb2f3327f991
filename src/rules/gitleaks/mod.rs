//! Gitleaks (and Betterleaks) configuration files read as keyhound rules, so a team leaving
//! gitleaks keeps its custom rules (issue 11): `--rules-from FILE`, or `rules_from = [...]` in
//! `.keyhound.toml`. [`import`] reads one file (and the file its `[extend] path` names) and
//! returns [`Imported`]: compiled [`Rule`]s and the allow-lists that apply to every rule.
//! This is the importer (`parse.rs` reads the TOML tables, `go.rs` makes Go's regex syntax
//! Rust's); what the allow-lists decide at run time, and who asks them, is [`allow`].
//!
//! What is translated, and how (facts about the format from gitleaks' `config/*.go`):
//! - `[[rules]]`: `id` becomes `gitleaks.<id>` (never clashing with a built-in id; `[allow] rules
//!   = ["gitleaks."]` disables them all), `description` the name, `regex` the pattern (Go RE2
//!   syntax; compiled with ASCII `\w`, `\d`, `\s`, `\b` as in Go, or with Unicode when the pattern
//!   needs it), `keywords` the prefilter's keywords (the regex runs over the whole blob when one
//!   occurs, as in gitleaks; a rule without keywords runs on every blob, and one whose regex is
//!   slow on a test text is loaded with a warning), `secretGroup` the
//!   secret's group (else the first group that matched, else the whole match), `entropy` a strict
//!   lower bound on the secret's Shannon entropy, `path` a regex the file's path must match.
//! - allow-lists (per rule `[[rules.allowlists]]` or the older `[rules.allowlist]`; global
//!   `[[allowlists]]` or `[allowlist]`, with `targetRules`): `regexes` against the secret, the
//!   match or the line (`regexTarget`), `stopwords` inside the secret, `paths`, `commits`, and
//!   `condition = "AND"`. A match their `regexes` or `stopwords` allow is dropped in the
//!   detector, as in gitleaks; a finding their `paths` or `commits` allow is suppressed by the
//!   policy (see [`allow`]). The global ones apply to keyhound's built-in rules too.
//! - `[[rules.required]]`: one required rule, within `withinLines` (or anywhere in the file),
//!   becomes keyhound's `requires_nearby`.
//! - `[extend] path` loads that file (relative to this one) beneath this one, merging rules
//!   with the same id as gitleaks does; `useDefault` is accepted: keyhound's built-in rules
//!   stand in for gitleaks' defaults and stay on whatever the file says.
//!
//! What is refused, with the rule id and line: regexes Rust's `regex` cannot compile (Go-only
//! syntax such as `\Q...\E` or `\C`), several `[[rules.required]]`, `withinColumns`,
//! `skipReport`, `extend.url`, Betterleaks' `resources` allow-lists. Skipped with a warning: a
//! rule with `path` and no `regex` (keyhound reports secrets, not files). Unknown keys are
//! warnings, as gitleaks ignores them.

pub mod allow;
mod go;
mod parse;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

pub use allow::{judge, Allowlist, ByPlace, Candidate, Context, Filters};
use go::{content_regex, explain, slow_regex, REGEX_SIZE_LIMIT};
use parse::{parse_file, RawRule};

use super::{LoadError, Rule, SecretGroup, Severity};

/// Prefix of every imported rule's id.
pub const ID_PREFIX: &str = "gitleaks.";
/// The provider named by imported rules (no live check: keyhound does not know their issuer).
pub const PROVIDER: &str = "gitleaks";
/// `[extend] path` chains followed at most this deep (gitleaks' limit).
const MAX_EXTEND_DEPTH: usize = 2;
/// The window of an imported rule: the whole blob, as gitleaks runs a rule's regex over the
/// whole fragment once one of its keywords occurs.
pub const WHOLE_BLOB: usize = usize::MAX;

/// The rules and global allow-lists of one gitleaks file.
#[derive(Debug, Default)]
pub struct Imported {
    pub rules: Vec<Rule>,
    pub allowlists: Vec<Allowlist>,
    /// Things read but not used, for the caller to print (with file and line).
    pub warnings: Vec<String>,
}

/// Reads a file named in an `[extend] path`, relative to the file that names it: returns its
/// origin (for messages) and text.
pub type Reader<'a> = dyn Fn(&str, &str) -> Result<(String, String), LoadError> + 'a;

/// Read a gitleaks config: `text` is the file named `origin`; `read` fetches `[extend] path`.
pub fn import(text: &str, origin: &str, read: &Reader) -> Result<Imported, LoadError> {
    let mut warnings = Vec::new();
    let file = parse_file(text, origin, read, 0, &mut warnings)?;
    let mut rules = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for raw in &file.rules {
        if raw.regex.is_none() {
            warnings.push(format!(
                "{}: rule \"{}\" matches file paths only (`path` without `regex`); keyhound reports secrets, not files, so it is skipped",
                raw.at(),
                raw.id
            ));
            continue;
        }
        index.insert(raw.id.clone(), rules.len());
        let rule = compile(raw)?;
        if rule.keywords.is_empty() {
            if let Some(rate) = slow_regex(&rule) {
                warnings.push(format!(
                    "{}: rule \"{}\" has no keywords, so its regex runs over the whole of every file, and it is slow: about {rate} KB/s on a test text; add `keywords` (it then runs only on files holding one) or simplify the regex",
                    raw.at(),
                    raw.id
                ));
            }
        }
        rules.push(rule);
    }
    // Targeted global allow-lists join their rules' own.
    let mut global = Vec::new();
    for (list, targets) in file.allowlists {
        if targets.is_empty() {
            global.push(list);
            continue;
        }
        for target in targets {
            let Some(&i) = index.get(&target) else {
                return Err(LoadError {
                    origin: origin.to_string(),
                    line: None,
                    message: format!(
                        "[[allowlists]] targetRules names \"{target}\", which is no rule of this file"
                    ),
                });
            };
            let rule: &mut Rule = &mut rules[i];
            let mut filters = rule.gitleaks.as_deref().cloned().unwrap_or_default();
            filters.allowlists.push(list.clone());
            rule.gitleaks = Some(Arc::new(filters));
        }
    }
    // A required rule that was skipped (path-only) or is unknown.
    for rule in &rules {
        if let Some(other) = &rule.requires_nearby {
            if !rules.iter().any(|r| &r.id == other) {
                return Err(LoadError {
                    origin: rule.origin.clone(),
                    line: line_of_rule(text, &rule.id[ID_PREFIX.len()..]),
                    message: format!(
                        "rule \"{}\": [[rules.required]] names \"{}\", which is no rule of this file with a regex",
                        &rule.id[ID_PREFIX.len()..],
                        &other[ID_PREFIX.len()..]
                    ),
                });
            }
        }
    }
    Ok(Imported {
        rules,
        allowlists: global,
        warnings,
    })
}

fn compile(raw: &RawRule) -> Result<Rule, LoadError> {
    let pattern = raw
        .regex
        .as_deref()
        .expect("path-only rules are skipped before");
    let regex = content_regex(pattern)
        .map_err(|e| raw.error(format!("regex does not compile: {}", explain(pattern, &e))))?;
    let groups = regex.captures_len() - 1;
    let secret_group = match raw.secret_group {
        Some(g) if g as usize > groups => {
            return Err(raw.error(format!(
                "secretGroup {g} but the regex has {groups} capture group(s)"
            )))
        }
        Some(g) if g > 0 => SecretGroup::Index(g as usize),
        _ if groups > 0 => SecretGroup::FirstNonEmpty,
        _ => SecretGroup::Index(0),
    };
    let path = match &raw.path {
        None => None,
        Some(p) => Some(
            regex::RegexBuilder::new(p)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| raw.error(format!("path does not compile: {}", explain(p, &e))))?,
        ),
    };
    let mut keywords: Vec<String> = Vec::new();
    for k in &raw.keywords {
        let k = k.to_ascii_lowercase();
        if !keywords.contains(&k) {
            keywords.push(k);
        }
    }
    let (requires_nearby, nearby_lines) = match &raw.required {
        Some((other, within)) => (
            Some(format!("{ID_PREFIX}{other}")),
            within.unwrap_or(usize::MAX),
        ),
        None => (None, 0),
    };
    let cell = OnceLock::new();
    let _ = cell.set(regex);
    Ok(Rule {
        id: format!("{ID_PREFIX}{}", raw.id),
        provider: PROVIDER.to_string(),
        name: raw
            .description
            .clone()
            .unwrap_or_else(|| format!("gitleaks rule {}", raw.id)),
        keywords,
        pattern: pattern.to_string(),
        regex: cell,
        min_entropy: None,
        checksum: None,
        severity: Severity::High,
        revoke_url: None,
        remediation: "Revoke the secret with its issuer, then remove it from the code.".into(),
        references: Vec::new(),
        window: WHOLE_BLOB,
        boundary: false,
        requires_nearby,
        nearby_lines,
        examples: Vec::new(),
        counter_examples: Vec::new(),
        origin: raw.origin.clone(),
        replaces: false,
        placeholder_match: false,
        secret_group,
        gitleaks: Some(Arc::new(Filters {
            path,
            entropy: raw.entropy.filter(|&e| e > 0.0),
            allowlists: raw.allowlists.clone(),
            tags: raw.tags.clone(),
        })),
    })
}

/// The line where a rule's `id = "..."` is written.
fn line_of_rule(text: &str, id: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.as_bytes()
                .get(..2)
                .is_some_and(|k| k.eq_ignore_ascii_case(b"id"))
                && l.contains(&format!("\"{id}\""))
        })
        .map(|i| i + 1)
}
