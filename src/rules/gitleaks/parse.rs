//! Reading a gitleaks config's TOML tables (keys compared without case, as gitleaks' viper
//! does) into raw rules and allow-lists, following `[extend] path` and merging the rules it
//! redefines; unknown keys are warnings. Compiling them is [`super::import`]'s.

use std::collections::HashMap;

use toml::{Table, Value};

use super::allow::{Allowlist, Target};
use super::go::{bad_regex_in, content_regex, REGEX_SIZE_LIMIT};
use super::{LoadError, Reader, MAX_EXTEND_DEPTH};

/// A `[[rules]]` table as written (before `[extend]` merging and compiling).
#[derive(Debug, Clone)]
pub(super) struct RawRule {
    pub(super) id: String,
    pub(super) origin: String,
    pub(super) line: Option<usize>,
    pub(super) description: Option<String>,
    pub(super) regex: Option<String>,
    pub(super) path: Option<String>,
    pub(super) secret_group: Option<i64>,
    pub(super) entropy: Option<f64>,
    pub(super) keywords: Vec<String>,
    pub(super) tags: Vec<String>,
    pub(super) allowlists: Vec<Allowlist>,
    pub(super) required: Option<(String, Option<usize>)>,
}

impl RawRule {
    pub(super) fn at(&self) -> String {
        match self.line {
            Some(l) => format!("{}:{l}", self.origin),
            None => self.origin.clone(),
        }
    }

    pub(super) fn error(&self, message: impl std::fmt::Display) -> LoadError {
        LoadError {
            origin: self.origin.clone(),
            line: self.line,
            message: format!("rule \"{}\": {message}", self.id),
        }
    }
}

/// A file's rules (merged with what it extends) and global allow-lists with their targets.
pub(super) struct File {
    pub(super) rules: Vec<RawRule>,
    pub(super) allowlists: Vec<(Allowlist, Vec<String>)>,
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

pub(super) fn parse_file(
    text: &str,
    origin: &str,
    read: &Reader,
    depth: usize,
    warnings: &mut Vec<String>,
) -> Result<File, LoadError> {
    let table: Table =
        toml::from_str(text).map_err(|e| crate::rules::load::toml_error(&e, text, origin))?;
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

pub(super) fn parse_allowlist(t: &Table, global: bool) -> Result<Allowlist, String> {
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
