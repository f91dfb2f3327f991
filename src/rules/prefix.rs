//! What every secret of a rule starts with, by the rule's pattern alone ([`known_prefixes`]),
//! and how much of one secret that is ([`known_prefix`]): the part redaction may show as
//! public. Read from the rule as data (its pattern and secret group); it runs no detector.

use super::{Rule, SecretGroup};

/// The literal texts `rule`'s pattern requires every secret to start with (`sk-proj-`,
/// `AKIA`/`ASIA`/...): what redaction may show of a secret as public. Taken from the pattern's
/// secret group by regex-syntax's prefix extractor, with classes of more than one character
/// never expanded, so no character a key chooses counts as its prefix. Empty when any match
/// could start otherwise (an optional prefix, a case-insensitive one, a gitleaks rule whose
/// secret is the first of several groups that matched).
pub fn known_prefixes(rule: &Rule) -> Vec<String> {
    use regex_syntax::hir::literal::Extractor;
    let parse = |unicode: bool| {
        regex_syntax::ParserBuilder::new()
            .unicode(unicode)
            .utf8(false)
            .build()
            .parse(&rule.pattern)
            .ok()
    };
    let Some(hir) = parse(false).or_else(|| parse(true)) else {
        return Vec::new();
    };
    let groups = hir.properties().explicit_captures_len();
    let group = match rule.secret_group {
        SecretGroup::Index(i) => i,
        SecretGroup::FirstNonEmpty if groups == 0 => 0,
        SecretGroup::FirstNonEmpty if groups == 1 => 1,
        SecretGroup::FirstNonEmpty => return Vec::new(),
    };
    let Some(sub) = capture(&hir, group) else {
        return Vec::new();
    };
    let seq = Extractor::new().limit_class(1).extract(sub);
    let Some(literals) = seq.literals() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for l in literals {
        match std::str::from_utf8(l.as_bytes()) {
            Ok(text) if !text.is_empty() => out.push(text.to_string()),
            // One way to match that starts with nothing known: no prefix is known.
            _ => return Vec::new(),
        }
    }
    out
}

/// The sub-expression of capture group `index` (0: the whole pattern).
fn capture(hir: &regex_syntax::hir::Hir, index: usize) -> Option<&regex_syntax::hir::Hir> {
    use regex_syntax::hir::HirKind;
    if index == 0 {
        return Some(hir);
    }
    match hir.kind() {
        HirKind::Capture(c) if c.index as usize == index => Some(&c.sub),
        HirKind::Capture(c) => capture(&c.sub, index),
        HirKind::Repetition(r) => capture(&r.sub, index),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            subs.iter().find_map(|s| capture(s, index))
        }
        _ => None,
    }
}

/// Bytes of `secret` that are one of `prefixes` (the longest that fits), or 0.
pub fn known_prefix(prefixes: &[String], secret: &str) -> usize {
    prefixes
        .iter()
        .filter(|p| secret.starts_with(p.as_str()))
        .map(String::len)
        .max()
        .unwrap_or(0)
}
#[cfg(test)]
mod tests {
    use super::*;

    // issue 19 item 3
    #[test]
    fn known_prefixes_come_from_the_rule_pattern_only() {
        let rules = crate::rules::RuleSet::builtin().expect("built-in rules load");
        let of = |id: &str| known_prefixes(rules.get(id).expect("a built-in rule"));
        assert_eq!(of("openai.project-key"), ["sk-proj-"]);
        assert_eq!(of("openai.legacy-key"), ["sk-"]);
        let mut aws = of("aws.access-key-id");
        aws.sort();
        assert_eq!(aws, ["A3T", "ABIA", "ACCA", "AKIA", "ASIA"]);
        let with = |pattern: &str, group: SecretGroup| {
            let mut rule = rules.get("openai.project-key").unwrap().clone();
            rule.pattern = pattern.to_string();
            rule.secret_group = group;
            known_prefixes(&rule)
        };
        let one = SecretGroup::Index(1);
        assert_eq!(with(r"tok_[a-z]{20}", SecretGroup::Index(0)), ["tok_"]);
        assert_eq!(with(r"key=(tok_[a-z]{20})", one), ["tok_"]);
        // Nothing a key chooses is a prefix: a class, even a small one, an optional or
        // case-insensitive literal, a value after a keyword.
        assert!(with(r"([0-9]{3}[a-z]{20})", one).is_empty());
        assert!(with(r"((?:tok_)?[a-z]{20})", one).is_empty());
        assert!(with(r"(?i)(tok_[a-z]{20})", one).is_empty());
        assert!(with(r#"password\s*=\s*"([^"]{8,})""#, one).is_empty());
        // gitleaks' first group that matched: known only with a single group.
        assert_eq!(
            with(r"(tok_[a-z]{20})", SecretGroup::FirstNonEmpty),
            ["tok_"]
        );
        assert!(with(r"(tok_[a-z]{20})|(xy_[a-z]{9})", SecretGroup::FirstNonEmpty).is_empty());
        assert_eq!(
            known_prefix(&["sk-".into(), "sk-proj-".into()], "sk-proj-x"),
            8
        );
        assert_eq!(known_prefix(&["tok_".into()], "other"), 0);
    }
}
