//! The run-time side of imported gitleaks configs: what a rule's `path`, its allow-lists and the
//! global allow-lists decide once [`super::import`] has read them. Two questions, asked in two
//! places:
//! - **By place** (the path and commit a finding was seen at), whatever the text:
//!   [`judge`]. The policy (`crate::policy`) alone answers it for a finding: outside a rule's
//!   `path` the rule does not apply and the finding is dropped; allowed by an allow-list's
//!   `paths` or `commits`, it is suppressed (`Suppression::Imported`, listed by
//!   `--show-suppressed`). The detector asks the same function with the same allow-lists when it
//!   knows the place (a tree, the index), only to pass over a blob or a rule early, as the walk
//!   passes over what `PathFilter` excludes. In a history a blob is read before its path and
//!   commit are known, so there the policy decides.
//! - **By the match's text** (`regexes`, `stopwords`, `entropy`): [`Filters::accepts`] and
//!   [`Allowlist::allows_match`], asked by the detector, which drops the match as gitleaks does.
//!
//! Main types: [`Allowlist`], [`Filters`] (one imported rule's checks), [`Context`] (a place),
//! [`Candidate`] (a match as allow-lists see it), [`ByPlace`] (the answer by place).

use std::collections::HashMap;

use regex::bytes::Regex;

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
    pub(super) all: bool,
    /// Lower-case commit ids, sorted (a stable `Debug` for the history state's rule key).
    pub(super) commits: Vec<String>,
    pub(super) paths: Option<regex::Regex>,
    pub(super) target: Target,
    pub(super) regexes: Option<Regex>,
    /// Lower-case stop words, looked for inside the lower-cased secret.
    pub(super) stopwords: Vec<String>,
}

/// Where a blob was seen, as far as allow-lists and `path` care. `None` where it is not known
/// (yet): standard input, or a history's blob before its path and commit are.
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

/// What the imported configs say of a finding by its place alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByPlace {
    /// Nothing against it.
    Open,
    /// Outside its rule's `path`: the rule does not apply there (not a finding at all).
    OutOfScope,
    /// An allow-list's `paths` or `commits` allow it (a suppressed finding).
    Allowed,
}

/// The answer by place for a finding of a rule at `ctx`: the rule's own `path` and allow-lists
/// (`rule`, `None` for a rule that was not imported), then the global allow-lists, which apply
/// to every rule.
pub fn judge(global: &[Allowlist], rule: Option<&Filters>, ctx: &Context) -> ByPlace {
    match rule.map(|f| f.judge(ctx)) {
        Some(ByPlace::Open) | None if global.iter().any(|a| a.allows_place(ctx)) => {
            ByPlace::Allowed
        }
        Some(answer) => answer,
        None => ByPlace::Open,
    }
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

    /// Everything at this place is allowed, by its path or commit alone (gitleaks then skips
    /// the file).
    pub fn allows_place(&self, ctx: &Context) -> bool {
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

    /// This match is allowed by its text (with OR, only the regexes and stop words are asked
    /// here; the path and commit are asked by [`Allowlist::allows_place`]; with AND, a path or
    /// commit the list names must be known and match too).
    pub fn allows_match(&self, ctx: &Context, m: &Candidate) -> bool {
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
    /// The rule's own answer by place: its `path`, then its allow-lists' `paths` and `commits`.
    fn judge(&self, ctx: &Context) -> ByPlace {
        if let Some(re) = &self.path {
            if !re.is_match(ctx.path.unwrap_or("")) {
                return ByPlace::OutOfScope;
            }
        }
        if self.allowlists.iter().any(|a| a.allows_place(ctx)) {
            ByPlace::Allowed
        } else {
            ByPlace::Open
        }
    }

    /// Whether a match of the rule survives its entropy bound and its allow-lists' texts.
    pub fn accepts(&self, ctx: &Context, m: &Candidate) -> bool {
        if let Some(min) = self.entropy {
            if rune_entropy(m.secret) <= min {
                return false;
            }
        }
        !self.allowlists.iter().any(|a| a.allows_match(ctx, m))
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

#[cfg(test)]
mod tests {
    use super::super::parse::parse_allowlist;
    use super::*;
    use toml::Table;

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
        assert!(a.allows_match(&in_test, &m));
        assert!(!a.allows_match(&in_src, &m));
        assert!(
            !a.allows_place(&in_test),
            "AND with regexes needs the match"
        );
        let t: Table = toml::from_str("stopwords = ['Sandbox']\n").unwrap();
        let a = parse_allowlist(&t, false).unwrap();
        let sandbox = Candidate {
            secret: b"key_SANDBOX_1",
            whole: b"",
            line: b"",
        };
        assert!(a.allows_match(&Context::default(), &sandbox));
        assert!(!a.allows_match(&Context::default(), &m));
    }

    /// A rule's `path` comes first (outside it there is no finding to suppress), then its own
    /// allow-lists, then the global ones; an unknown place is never allowed.
    #[test]
    fn judged_by_place() {
        let list = |text: &str| parse_allowlist(&toml::from_str(text).unwrap(), false).unwrap();
        let global = [list("paths = ['^vendor/']\n")];
        let rule = Filters {
            path: Some(regex::Regex::new(r"\.env$").unwrap()),
            allowlists: vec![list("commits = ['ABC123']\n")],
            ..Filters::default()
        };
        let at = |path: &'static str, commit: Option<&'static str>| Context {
            path: Some(path),
            commit,
        };
        let cases = [
            (Some(&rule), at("a.env", None), ByPlace::Open),
            (Some(&rule), at("a.txt", None), ByPlace::OutOfScope),
            (Some(&rule), at("vendor/a.txt", None), ByPlace::OutOfScope),
            (Some(&rule), at("vendor/a.env", None), ByPlace::Allowed),
            (Some(&rule), at("a.env", Some("abc123")), ByPlace::Allowed),
            (None, at("vendor/a.txt", None), ByPlace::Allowed),
            (None, at("src/a.txt", Some("abc123")), ByPlace::Open),
            (None, Context::default(), ByPlace::Open),
        ];
        for (rule, ctx, want) in cases {
            assert_eq!(judge(&global, rule, &ctx), want, "{ctx:?}");
        }
    }

    #[test]
    fn entropy_counts_characters() {
        assert_eq!(rune_entropy(b""), 0.0);
        assert!((rune_entropy(b"abab") - 1.0).abs() < 1e-9);
        assert!((rune_entropy(b"abcd") - 2.0).abs() < 1e-9);
    }
}
