//! Gitleaks (and Betterleaks) configuration files read as keyhound rules, so a team leaving
//! gitleaks keeps its custom rules (issue 11): `--rules-from FILE`, or `rules_from = [...]` in
//! `.keyhound.toml`. [`import`] reads one file (and the file its `[extend] path` names) and
//! returns [`Imported`]: compiled [`Rule`]s and the allow-lists that apply to every rule.
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
//!   `condition = "AND"`. A match they allow is dropped in the detector, as in gitleaks; the
//!   global ones apply to keyhound's built-in rules too.
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

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use regex::bytes::Regex;
use toml::{Table, Value};

use super::{LoadError, Rule, SecretGroup, Severity};

/// Prefix of every imported rule's id.
pub const ID_PREFIX: &str = "gitleaks.";
/// The provider named by imported rules (no live check: keyhound does not know their issuer).
pub const PROVIDER: &str = "gitleaks";
/// `[extend] path` chains followed at most this deep (gitleaks' limit).
const MAX_EXTEND_DEPTH: usize = 2;
/// Compiled-regex size limit for imported patterns (gitleaks' generic rules are large).
const REGEX_SIZE_LIMIT: usize = 16 << 20;
/// The window of an imported rule: the whole blob, as gitleaks runs a rule's regex over the
/// whole fragment once one of its keywords occurs.
pub const WHOLE_BLOB: usize = usize::MAX;

/// What an allow-list's `regexes` are matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Secret,
    Match,
    Line,
}

/// One gitleaks allow-list.
#[derive(Debug, Clone)]
pub struct Allowlist {
    /// `condition = "AND"`: every criterion given must hold (else any one).
    all: bool,
    /// Lower-case commit ids, sorted (a stable `Debug` for the history state's rule key).
    commits: Vec<String>,
    paths: Option<regex::Regex>,
    target: Target,
    regexes: Option<Regex>,
    /// Lower-case stop words, looked for inside the lower-cased secret.
    stopwords: Vec<String>,
}

/// Where a blob was seen, as far as allow-lists and `path` care.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    pub path: Option<&'a str>,
    pub commit: Option<&'a str>,
}

/// One match, as allow-lists see it.
pub struct Candidate<'a> {
    pub secret: &'a [u8],
    /// The whole regex match.
    pub whole: &'a [u8],
    /// The lines the match is on.
    pub line: &'a [u8],
}

impl Allowlist {
    fn commit_allowed(&self, ctx: &Context) -> bool {
        ctx.commit.is_some_and(|c| {
            !c.is_empty() && self.commits.binary_search(&c.to_ascii_lowercase()).is_ok()
        })
    }

    fn path_allowed(&self, ctx: &Context) -> bool {
        match (&self.paths, ctx.path) {
            (Some(re), Some(path)) if !path.is_empty() => re.is_match(path),
            _ => false,
        }
    }

    /// The whole blob is allowed by its path or commit alone (gitleaks then skips the file).
    pub fn allows_source(&self, ctx: &Context) -> bool {
        if ctx.path.is_none() && ctx.commit.is_none() {
            return false;
        }
        if self.all {
            if self.regexes.is_some() || !self.stopwords.is_empty() {
                return false;
            }
            (self.commits.is_empty() || self.commit_allowed(ctx))
                && (self.paths.is_none() || self.path_allowed(ctx))
        } else {
            self.commit_allowed(ctx) || self.path_allowed(ctx)
        }
    }

    /// This match is allowed (with OR, only the regexes and stop words are asked here; the path
    /// and commit were asked of the whole blob by [`Allowlist::allows_source`]).
    pub fn allows(&self, ctx: &Context, m: &Candidate) -> bool {
        let target = match self.target {
            Target::Secret => m.secret,
            Target::Match => m.whole,
            Target::Line => m.line,
        };
        let regex =
            || !target.is_empty() && self.regexes.as_ref().is_some_and(|re| re.is_match(target));
        let stopword = || {
            if m.secret.is_empty() || self.stopwords.is_empty() {
                return false;
            }
            let lower = m.secret.to_ascii_lowercase();
            self.stopwords
                .iter()
                .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
        };
        if self.all {
            (self.commits.is_empty() || self.commit_allowed(ctx))
                && (self.paths.is_none() || self.path_allowed(ctx))
                && (self.regexes.is_none() || regex())
                && (self.stopwords.is_empty() || stopword())
        } else {
            regex() || stopword()
        }
    }
}

/// What an imported rule checks beyond its regex.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// The rule only applies to files whose path matches.
    pub path: Option<regex::Regex>,
    /// The secret's entropy must be above this (gitleaks skips `entropy <= threshold`).
    pub entropy: Option<f64>,
    pub allowlists: Vec<Allowlist>,
    pub tags: Vec<String>,
}

impl Filters {
    /// Whether the rule runs on this blob at all.
    pub fn applies(&self, ctx: &Context) -> bool {
        if let Some(re) = &self.path {
            if !re.is_match(ctx.path.unwrap_or("")) {
                return false;
            }
        }
        !self.allowlists.iter().any(|a| a.allows_source(ctx))
    }

    /// Whether a match of the rule survives its entropy bound and allow-lists.
    pub fn accepts(&self, ctx: &Context, m: &Candidate) -> bool {
        if let Some(min) = self.entropy {
            if rune_entropy(m.secret) <= min {
                return false;
            }
        }
        !self.allowlists.iter().any(|a| a.allows(ctx, m))
    }
}

/// Shannon entropy over characters (gitleaks counts runes, not bytes).
fn rune_entropy(secret: &[u8]) -> f64 {
    let text = String::from_utf8_lossy(secret);
    let mut counts: HashMap<char, usize> = HashMap::new();
    let mut n = 0usize;
    for c in text.chars() {
        *counts.entry(c).or_default() += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    // gitleaks divides by the length in bytes; the same for ASCII secrets.
    let len = secret.len() as f64;
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / len;
            -p * p.log2()
        })
        .sum()
}

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

/// A `[[rules]]` table as written (before `[extend]` merging and compiling).
#[derive(Debug, Clone)]
struct RawRule {
    id: String,
    origin: String,
    line: Option<usize>,
    description: Option<String>,
    regex: Option<String>,
    path: Option<String>,
    secret_group: Option<i64>,
    entropy: Option<f64>,
    keywords: Vec<String>,
    tags: Vec<String>,
    allowlists: Vec<Allowlist>,
    required: Option<(String, Option<usize>)>,
}

impl RawRule {
    fn at(&self) -> String {
        match self.line {
            Some(l) => format!("{}:{l}", self.origin),
            None => self.origin.clone(),
        }
    }

    fn error(&self, message: impl std::fmt::Display) -> LoadError {
        LoadError {
            origin: self.origin.clone(),
            line: self.line,
            message: format!("rule \"{}\": {message}", self.id),
        }
    }
}

/// A file's rules (merged with what it extends) and global allow-lists with their targets.
struct File {
    rules: Vec<RawRule>,
    allowlists: Vec<(Allowlist, Vec<String>)>,
}

const TOP_KEYS: &[&str] = &[
    "title",
    "description",
    "minversion",
    "extend",
    "rules",
    "allowlist",
    "allowlists",
];
const RULE_KEYS: &[&str] = &[
    "id",
    "description",
    "regex",
    "path",
    "secretgroup",
    "entropy",
    "keywords",
    "tags",
    "allowlist",
    "allowlists",
    "required",
    "skipreport",
];
const ALLOWLIST_KEYS: &[&str] = &[
    "description",
    "condition",
    "commits",
    "paths",
    "regextarget",
    "regexes",
    "stopwords",
    "targetrules",
    "resources",
];
const EXTEND_KEYS: &[&str] = &["usedefault", "path", "url", "disabledrules"];

/// A key of a table, case-insensitively (gitleaks reads its config through viper, which
/// ignores case: `secretGroup` and `secretgroup` are the same key).
fn get<'a>(t: &'a Table, key: &str) -> Option<&'a Value> {
    t.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// Positions of things in the file's text, for messages.
struct Lines<'a> {
    text: &'a str,
}

impl Lines<'_> {
    /// Line of the `n`-th `[[rules]]` header (0-based).
    fn rule(&self, n: usize) -> Option<usize> {
        self.text
            .lines()
            .enumerate()
            .filter(|(_, l)| {
                let l: String = l.chars().filter(|c| !c.is_whitespace()).collect();
                l.eq_ignore_ascii_case("[[rules]]")
            })
            .nth(n)
            .map(|(i, _)| i + 1)
    }

    /// Line of the first `key =` at or after line `from` (1-based).
    fn key(&self, key: &str, from: Option<usize>) -> Option<usize> {
        let from = from.unwrap_or(1);
        self.text
            .lines()
            .enumerate()
            .skip(from.saturating_sub(1))
            .find(|(_, l)| {
                // Compared as bytes: the line may hold a multibyte character where the key
                // would end, and a `str` slice there panics (found by fuzzing, issue 19 item 18).
                let l = l.trim_start().as_bytes();
                l.len() > key.len()
                    && l[..key.len()].eq_ignore_ascii_case(key.as_bytes())
                    && l[key.len()..].trim_ascii_start().starts_with(b"=")
            })
            .map(|(i, _)| i + 1)
    }
}

fn parse_file(
    text: &str,
    origin: &str,
    read: &Reader,
    depth: usize,
    warnings: &mut Vec<String>,
) -> Result<File, LoadError> {
    let table: Table =
        toml::from_str(text).map_err(|e| super::load::toml_error(&e, text, origin))?;
    let lines = Lines { text };
    let err = |line: Option<usize>, message: String| LoadError {
        origin: origin.to_string(),
        line,
        message,
    };
    unknown_keys(&table, TOP_KEYS, "", origin, &lines, None, warnings);

    let mut rules: Vec<RawRule> = Vec::new();
    let rule_values = match get(&table, "rules") {
        None => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => {
            return Err(err(
                lines.key("rules", None),
                "`rules` must be an array of tables ([[rules]])".into(),
            ))
        }
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (n, value) in rule_values.iter().enumerate() {
        let line = lines.rule(n);
        let Value::Table(t) = value else {
            return Err(err(line, "each [[rules]] entry must be a table".into()));
        };
        let raw = parse_rule(t, origin, line, &lines, warnings)?;
        if let Some(&i) = seen.get(&raw.id) {
            warnings.push(format!(
                "{}: rule \"{}\" is defined twice; the later one is used, as in gitleaks",
                raw.at(),
                raw.id
            ));
            rules[i] = raw;
        } else {
            seen.insert(raw.id.clone(), rules.len());
            rules.push(raw);
        }
    }

    let mut allowlists = Vec::new();
    let old = get(&table, "allowlist");
    let new = get(&table, "allowlists");
    if old.is_some() && new.is_some() {
        return Err(err(
            lines.key("[allowlist]", None),
            "[allowlist] and [[allowlists]] cannot both be used (gitleaks refuses it too); move the [allowlist] into an [[allowlists]] entry".into(),
        ));
    }
    let globals: Vec<&Value> = match (old, new) {
        (Some(v @ Value::Table(_)), _) => vec![v],
        (_, Some(Value::Array(a))) => a.iter().collect(),
        (None, None) => Vec::new(),
        _ => {
            return Err(err(
                None,
                "[allowlist] must be a table and [[allowlists]] an array of tables".into(),
            ))
        }
    };
    for v in globals {
        let Value::Table(t) = v else {
            return Err(err(
                None,
                "each [[allowlists]] entry must be a table".into(),
            ));
        };
        let targets =
            strings(t, "targetrules").map_err(|m| err(None, format!("[[allowlists]] {m}")))?;
        let list =
            parse_allowlist(t, true).map_err(|m| err(None, format!("global allow-list: {m}")))?;
        unknown_keys(
            t,
            ALLOWLIST_KEYS,
            "allowlist.",
            origin,
            &lines,
            None,
            warnings,
        );
        allowlists.push((list, targets));
    }

    // [extend]
    if let Some(ext) = get(&table, "extend") {
        let Value::Table(ext) = ext else {
            return Err(err(
                lines.key("[extend]", None),
                "[extend] must be a table".into(),
            ));
        };
        unknown_keys(ext, EXTEND_KEYS, "extend.", origin, &lines, None, warnings);
        let use_default = match get(ext, "usedefault") {
            None => false,
            Some(Value::Boolean(b)) => *b,
            Some(_) => {
                return Err(err(
                    lines.key("useDefault", None),
                    "extend.useDefault must be true or false".into(),
                ))
            }
        };
        let path = match get(ext, "path") {
            None => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(err(
                    lines.key("path", None),
                    "extend.path must be a string".into(),
                ))
            }
        };
        if get(ext, "url").is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty())) {
            return Err(err(
                lines.key("url", None),
                "extend.url is not supported (gitleaks does not implement it either); download the file and name it in extend.path".into(),
            ));
        }
        let disabled =
            strings(ext, "disabledrules").map_err(|m| err(None, format!("extend.{m}")))?;
        if use_default && path.is_some() {
            return Err(err(
                lines.key("useDefault", None),
                "extend.useDefault and extend.path cannot both be set (gitleaks refuses it too)"
                    .into(),
            ));
        }
        if use_default && !disabled.is_empty() {
            warnings.push(format!(
                "{origin}: extend.disabledRules names gitleaks' default rules, which keyhound does not load (its own built-in rules stand in for them; disable those with `[allow] rules` in .keyhound.toml); ignored"
            ));
        }
        if let Some(path) = path {
            if depth >= MAX_EXTEND_DEPTH {
                warnings.push(format!(
                    "{origin}: extend.path \"{path}\" not followed: configs extend at most {MAX_EXTEND_DEPTH} deep, as in gitleaks"
                ));
            } else {
                let (base_origin, base_text) = read(origin, &path)?;
                let base = parse_file(&base_text, &base_origin, read, depth + 1, warnings)?;
                for id in &disabled {
                    if !base.rules.iter().any(|r| &r.id == id) {
                        warnings.push(format!(
                            "{origin}: extend.disabledRules names \"{id}\", which {base_origin} does not define"
                        ));
                    }
                }
                let mut merged: Vec<RawRule> = Vec::new();
                for mut b in base.rules.into_iter().filter(|r| !disabled.contains(&r.id)) {
                    if let Some(pos) = rules.iter().position(|r| r.id == b.id) {
                        let cur = rules.remove(pos);
                        merge(&mut b, cur);
                    }
                    merged.push(b);
                }
                merged.extend(rules);
                merged.sort_by(|a, b| a.id.cmp(&b.id));
                rules = merged;
                allowlists.extend(base.allowlists);
            }
        }
    }
    Ok(File { rules, allowlists })
}

/// gitleaks' merge of a rule that the extending file redefines: its non-empty fields win,
/// keywords, tags and allow-lists add up.
fn merge(base: &mut RawRule, cur: RawRule) {
    if cur.description.is_some() {
        base.description = cur.description;
    }
    if cur.entropy.is_some_and(|e| e != 0.0) {
        base.entropy = cur.entropy;
    }
    if cur.secret_group.is_some_and(|g| g != 0) {
        base.secret_group = cur.secret_group;
    }
    if cur.regex.is_some() {
        base.regex = cur.regex;
    }
    if cur.path.is_some() {
        base.path = cur.path;
    }
    base.tags.extend(cur.tags);
    base.keywords.extend(cur.keywords);
    base.allowlists.extend(cur.allowlists);
    if cur.required.is_some() {
        base.required = cur.required;
    }
    base.origin = cur.origin;
    base.line = cur.line;
}

fn unknown_keys(
    t: &Table,
    known: &[&str],
    prefix: &str,
    origin: &str,
    lines: &Lines,
    from: Option<usize>,
    warnings: &mut Vec<String>,
) {
    for key in t.keys() {
        if !known.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            let at = match lines.key(key, from) {
                Some(l) => format!("{origin}:{l}"),
                None => origin.to_string(),
            };
            warnings.push(format!(
                "{at}: unknown gitleaks key \"{prefix}{key}\" ignored (gitleaks ignores it too)"
            ));
        }
    }
}

/// A list of strings (a missing key is an empty list).
fn strings(t: &Table, key: &str) -> Result<Vec<String>, String> {
    match get(t, key) {
        None => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("`{key}` must be a list of strings"))
            })
            .collect(),
        Some(_) => Err(format!("`{key}` must be a list of strings")),
    }
}

fn string(t: &Table, key: &str) -> Result<Option<String>, String> {
    match get(t, key) {
        None => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

fn parse_rule(
    t: &Table,
    origin: &str,
    line: Option<usize>,
    lines: &Lines,
    warnings: &mut Vec<String>,
) -> Result<RawRule, LoadError> {
    let err = |key: &str, message: String| LoadError {
        origin: origin.to_string(),
        line: lines.key(key, line).or(line),
        message,
    };
    let id = match get(t, "id") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        _ => {
            return Err(LoadError {
                origin: origin.to_string(),
                line,
                message: "[[rules]] entry without an `id`".into(),
            })
        }
    };
    if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(err(
            "id",
            format!("rule \"{id}\": an id cannot hold spaces or control characters"),
        ));
    }
    let named = |m: String| format!("rule \"{id}\": {m}");
    unknown_keys(
        t,
        RULE_KEYS,
        &format!("rules.{id}."),
        origin,
        lines,
        line,
        warnings,
    );
    if get(t, "skipreport").is_some_and(|v| v.as_bool() == Some(true)) {
        return Err(err(
            "skipReport",
            named("`skipReport = true` is not supported: keyhound reports every rule's findings; drop the rule or disable it with `[allow] rules`".into()),
        ));
    }
    let secret_group = match get(t, "secretgroup") {
        None => None,
        Some(Value::Integer(g)) if *g >= 0 => Some(*g),
        Some(_) => {
            return Err(err(
                "secretGroup",
                named("`secretGroup` must be a whole number, 0 or more".into()),
            ))
        }
    };
    let entropy = match get(t, "entropy") {
        None => None,
        Some(Value::Float(e)) => Some(*e),
        Some(Value::Integer(e)) => Some(*e as f64),
        Some(_) => return Err(err("entropy", named("`entropy` must be a number".into()))),
    };
    if entropy.is_some_and(|e| !(0.0..=8.0).contains(&e)) {
        return Err(err(
            "entropy",
            named("`entropy` must be between 0 and 8".into()),
        ));
    }
    let keywords = strings(t, "keywords").map_err(|m| err("keywords", named(m)))?;
    if keywords.iter().any(String::is_empty) {
        return Err(err("keywords", named("a keyword cannot be empty".into())));
    }
    let mut allowlists = Vec::new();
    let old = get(t, "allowlist");
    let new = get(t, "allowlists");
    if old.is_some() && new.is_some() {
        return Err(err(
            "[rules.allowlist]",
            named("[rules.allowlist] and [[rules.allowlists]] cannot both be used (gitleaks refuses it too)".into()),
        ));
    }
    let lists: Vec<&Value> = match (old, new) {
        (Some(v @ Value::Table(_)), _) => vec![v],
        (_, Some(Value::Array(a))) => a.iter().collect(),
        (None, None) => Vec::new(),
        _ => return Err(err("allowlist", named("allow-lists must be tables".into()))),
    };
    for v in lists {
        let Value::Table(a) = v else {
            return Err(err("allowlist", named("allow-lists must be tables".into())));
        };
        if get(a, "targetrules").is_some() {
            return Err(err(
                "targetRules",
                named("`targetRules` belongs in a global [[allowlists]], not a rule's".into()),
            ));
        }
        unknown_keys(
            a,
            ALLOWLIST_KEYS,
            &format!("rules.{id}.allowlist."),
            origin,
            lines,
            line,
            warnings,
        );
        allowlists.push(
            parse_allowlist(a, false)
                .map_err(|m| err("[[rules.allowlists]]", named(format!("allow-list: {m}"))))?,
        );
    }
    let required = match get(t, "required") {
        None => None,
        Some(Value::Array(a)) if a.is_empty() => None,
        Some(Value::Array(a)) if a.len() == 1 => {
            let Some(r) = a[0].as_table() else {
                return Err(err("required", named("[[rules.required]] must be a table".into())));
            };
            let other = string(r, "id").map_err(|m| err("required", named(m)))?.ok_or_else(|| {
                err("required", named("[[rules.required]] needs the `id` of the required rule".into()))
            })?;
            if get(r, "withincolumns").is_some() {
                return Err(err(
                    "withinColumns",
                    named("[[rules.required]] `withinColumns` is not supported; keyhound can require another rule within `withinLines` lines".into()),
                ));
            }
            let within = match get(r, "withinlines") {
                None => None,
                Some(Value::Integer(n)) if *n >= 0 => Some(*n as usize),
                Some(_) => return Err(err("withinLines", named("`withinLines` must be a whole number".into()))),
            };
            Some((other, within))
        }
        Some(Value::Array(_)) => {
            return Err(err(
                "[[rules.required]]",
                named("more than one [[rules.required]] is not supported; keyhound can require one other rule nearby".into()),
            ))
        }
        Some(_) => return Err(err("required", named("[[rules.required]] must be an array of tables".into()))),
    };
    Ok(RawRule {
        description: string(t, "description").map_err(|m| err("description", named(m)))?,
        regex: string(t, "regex").map_err(|m| err("regex", named(m)))?,
        path: string(t, "path").map_err(|m| err("path", named(m)))?,
        secret_group,
        entropy,
        keywords,
        tags: strings(t, "tags").map_err(|m| err("tags", named(m)))?,
        allowlists,
        required,
        origin: origin.to_string(),
        line,
        id,
    })
}

fn parse_allowlist(t: &Table, global: bool) -> Result<Allowlist, String> {
    let _ = global;
    if get(t, "resources").is_some() {
        return Err("`resources` (Betterleaks) is not supported; use `paths` or `commits`".into());
    }
    let all = match string(t, "condition")?
        .map(|c| c.to_ascii_uppercase())
        .as_deref()
    {
        None | Some("OR") | Some("||") => false,
        Some("AND") | Some("&&") => true,
        Some(other) => {
            return Err(format!(
                "unknown condition \"{other}\" (expected AND or OR)"
            ))
        }
    };
    let target = match string(t, "regextarget")?.as_deref() {
        None | Some("secret") => Target::Secret,
        Some("match") => Target::Match,
        Some("line") => Target::Line,
        Some(other) => {
            return Err(format!(
                "unknown regexTarget \"{other}\" (expected secret, match or line)"
            ))
        }
    };
    let mut commits: Vec<String> = strings(t, "commits")?
        .into_iter()
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty())
        .collect();
    commits.sort();
    commits.dedup();
    let paths = strings(t, "paths")?;
    let regexes = strings(t, "regexes")?;
    let stopwords: Vec<String> = strings(t, "stopwords")?
        .into_iter()
        .map(|w| w.to_ascii_lowercase())
        .filter(|w| !w.is_empty())
        .collect();
    if commits.is_empty() && paths.is_empty() && regexes.is_empty() && stopwords.is_empty() {
        return Err("needs at least one of commits, paths, regexes or stopwords".into());
    }
    let paths = if paths.is_empty() {
        None
    } else {
        let joined = paths
            .iter()
            .map(|p| format!("(?:{p})"))
            .collect::<Vec<_>>()
            .join("|");
        Some(
            regex::RegexBuilder::new(&joined)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|_| bad_regex_in("paths", &paths, true))?,
        )
    };
    let regexes = if regexes.is_empty() {
        None
    } else {
        let joined = regexes
            .iter()
            .map(|p| format!("(?:{p})"))
            .collect::<Vec<_>>()
            .join("|");
        Some(content_regex(&joined).map_err(|_| bad_regex_in("regexes", &regexes, false))?)
    };
    Ok(Allowlist {
        all,
        commits,
        paths,
        target,
        regexes,
        stopwords,
    })
}

/// The message for a list of regexes one of which does not compile: which one, and why.
fn bad_regex_in(key: &str, patterns: &[String], path: bool) -> String {
    for (i, p) in patterns.iter().enumerate() {
        let e = if path {
            regex::Regex::new(p).err()
        } else {
            content_regex(p).err()
        };
        if let Some(e) = e {
            return format!(
                "`{key}` entry {} does not compile: {}",
                i + 1,
                explain(p, &e)
            );
        }
    }
    format!("`{key}` together compile to too large a regex")
}

/// Compile a content pattern as Go would read it: `\w`, `\d`, `\s` and `\b` are ASCII in Go's
/// RE2, so the pattern is compiled without Unicode classes (which also keeps the lazy DFA
/// usable on non-ASCII text); a pattern that needs Unicode (`\pL`) is compiled with it.
fn content_regex(pattern: &str) -> Result<Regex, regex::Error> {
    super::load::build_regex_within(&literal_braces(pattern), REGEX_SIZE_LIMIT)
}

/// Go reads a `{` that does not open a repetition (`{2}`, `{2,}`, `{2,5}`) as a literal, as in
/// `{{[^}]+}}`; Rust's regex refuses it. Escape those braces, outside character classes.
fn literal_braces(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut i = 0;
    let mut class = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                out.push(c);
                let n = chars.get(i + 1).copied();
                if let Some(n) = n {
                    out.push(n);
                }
                i += 2;
                // `\p{L}`, `\P{Greek}`, `\x{263a}`: the braces belong to the escape, copied as
                // written (escaping them would turn a Unicode class into an error).
                if matches!(n, Some('p' | 'P' | 'x')) && chars.get(i) == Some(&'{') {
                    let end = chars[i..].iter().position(|&c| c == '}');
                    let stop = end.map_or(chars.len(), |j| i + j + 1);
                    out.extend(&chars[i..stop]);
                    i = stop;
                }
                continue;
            }
            '[' if class && chars.get(i + 1) == Some(&':') => {
                // `[:alpha:]` inside a class: copy through its `:]`.
                let end = (i + 2..chars.len().saturating_sub(1))
                    .find(|&j| chars[j] == ':' && chars[j + 1] == ']');
                let stop = end.map_or(i + 1, |j| j + 2);
                out.extend(&chars[i..stop]);
                i = stop;
                continue;
            }
            '[' if !class => {
                class = true;
                out.push(c);
                i += 1;
                // A `]` first in the class (after an optional `^`) is a literal.
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i) == Some(&']') {
                    out.push(']');
                    i += 1;
                }
                continue;
            }
            ']' if class => class = false,
            '{' if !class && !is_repetition(&chars[i..]) => {
                out.push_str("\\{");
                i += 1;
                continue;
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    out
}

/// `{n}`, `{n,}` or `{n,m}` at the start of `rest`.
fn is_repetition(rest: &[char]) -> bool {
    let mut i = 1;
    let digits = |i: &mut usize| {
        let start = *i;
        while rest.get(*i).is_some_and(char::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if !digits(&mut i) {
        return false;
    }
    if rest.get(i) == Some(&',') {
        i += 1;
        digits(&mut i);
    }
    rest.get(i) == Some(&'}')
}

/// Why a Go pattern does not compile here, on one line, with a hint for Go-only syntax.
fn explain(pattern: &str, e: &regex::Error) -> String {
    let hint = if pattern.contains("\\Q") {
        " (Go's \\Q...\\E quoting is not supported: escape the characters instead)"
    } else if pattern.contains("\\C") {
        " (Go's \\C, any byte, is not supported)"
    } else if pattern.contains("(?=")
        || pattern.contains("(?!")
        || pattern.contains("(?<=")
        || pattern.contains("(?<!")
    {
        " (look-around is not supported, by gitleaks either)"
    } else {
        ""
    };
    let detail = match e {
        regex::Error::CompiledTooBig(limit) => {
            format!("it compiles to more than {limit} bytes; simplify it")
        }
        other => other
            .to_string()
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" | "),
    };
    format!("{detail}{hint}")
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

/// A keyword-less rule's regex is slow when it takes this many times as long over
/// [`probe_text`] as a plain pattern does (measured in the same process, so a debug build or a
/// busy machine moves both), and at least [`PROBE_FLOOR`]. A usual pattern takes a few times as
/// long; a pathological one (`([a-z0-9]*Q|[a-z])`, quadratic over a long run of letters, at
/// 25 KB/s) hundreds of times (issue 19 item 18). Such a rule is loaded all the same, with a
/// warning that names the fix: gitleaks would run it too, and what it finds is still wanted.
const PROBE_RATIO: u32 = 50;
const PROBE_FLOOR: std::time::Duration = std::time::Duration::from_millis(2);
/// A timed pass stops here, so a pathological rule costs the load ~0.1 s at most.
const PROBE_CAP: std::time::Duration = std::time::Duration::from_millis(30);

/// The speed in KB/s of a rule's regex over the probe text, when it is slow (see
/// [`PROBE_RATIO`]). The fastest of three passes counts, after a warm-up pass, so that one
/// descheduled moment does not make a pattern slow.
fn slow_regex(rule: &Rule) -> Option<u64> {
    let text = probe_text();
    let pass = |regex: &Regex| {
        let started = std::time::Instant::now();
        let mut searched = text.len();
        for m in regex.find_iter(&text) {
            if started.elapsed() > PROBE_CAP {
                searched = m.end().max(1);
                break;
            }
        }
        (started.elapsed(), searched)
    };
    let fastest = |regex: &Regex| {
        pass(regex);
        (0..3).map(|_| pass(regex)).min().expect("three passes")
    };
    let plain = content_regex("[a-z0-9]{30}Q").expect("a plain pattern compiles");
    let limit = (fastest(&plain).0 * PROBE_RATIO).max(PROBE_FLOOR);
    let (elapsed, searched) = fastest(rule.regex());
    (elapsed > limit).then(|| (searched as f64 / 1000.0 / elapsed.as_secs_f64()).round() as u64)
}

/// 16 KiB of what files hold: a long run of lower-case letters and digits (a minified line, a
/// hex or base32 blob) and lines of code with assignments and quoted strings, the same on
/// every run.
fn probe_text() -> Vec<u8> {
    const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |alphabet: &[u8]| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        alphabet[(state % alphabet.len() as u64) as usize]
    };
    let mut text: Vec<u8> = (0..8192).map(|_| next(LOWER)).collect();
    text.push(b'\n');
    let mut i = 0;
    while text.len() < 16384 {
        let word: Vec<u8> = (0..12).map(|_| next(ALNUM)).collect();
        let word = String::from_utf8(word).expect("ASCII");
        text.extend_from_slice(
            format!("    let value_{i} = config.get(\"key_{i}\") + \"{word}\"; // note {i}\n")
                .as_bytes(),
        );
        i += 1;
    }
    text
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_literal_braces_are_escaped() {
        let cases = [
            ("a{2}b{1,}c{1,3}", "a{2}b{1,}c{1,3}"),
            ("\\$?{{[^}]+}}", "\\$?\\{\\{[^}]+}}"),
            ("[{]x{", "[{]x\\{"),
            ("[]{]{3}", "[]{]{3}"),
            ("[[:alpha:]{]{2}", "[[:alpha:]{]{2}"),
            ("\\{a{,2}", "\\{a\\{,2}"),
            (
                "\\p{L}{2}\\P{Greek}[\\p{Lu}]\\x{263a}{",
                "\\p{L}{2}\\P{Greek}[\\p{Lu}]\\x{263a}\\{",
            ),
        ];
        for (go, rust) in cases {
            assert_eq!(literal_braces(go), rust, "{go}");
            assert!(content_regex(go).is_ok(), "{go}");
        }
        assert!(content_regex("\\$?{{[^}]+}}")
            .unwrap()
            .is_match(b"${{ secrets.X }}"));
    }

    #[test]
    fn stopwords_regexes_and_conditions() {
        let t: Table = toml::from_str(
            "condition = \"AND\"\nregexTarget = \"line\"\nregexes = ['fixture']\npaths = ['^test/']\n",
        )
        .unwrap();
        let a = parse_allowlist(&t, false).unwrap();
        let m = Candidate {
            secret: b"abc",
            whole: b"k=abc",
            line: b"k=abc # fixture",
        };
        let in_test = Context {
            path: Some("test/a.py"),
            commit: None,
        };
        let in_src = Context {
            path: Some("src/a.py"),
            commit: None,
        };
        assert!(a.allows(&in_test, &m));
        assert!(!a.allows(&in_src, &m));
        assert!(
            !a.allows_source(&in_test),
            "AND with regexes needs the match"
        );
        let t: Table = toml::from_str("stopwords = ['Sandbox']\n").unwrap();
        let a = parse_allowlist(&t, false).unwrap();
        let sandbox = Candidate {
            secret: b"key_SANDBOX_1",
            whole: b"",
            line: b"",
        };
        assert!(a.allows(&Context::default(), &sandbox));
        assert!(!a.allows(&Context::default(), &m));
    }

    #[test]
    fn entropy_counts_characters() {
        assert_eq!(rune_entropy(b""), 0.0);
        assert!((rune_entropy(b"abab") - 1.0).abs() < 1e-9);
        assert!((rune_entropy(b"abcd") - 2.0).abs() < 1e-9);
    }
}
