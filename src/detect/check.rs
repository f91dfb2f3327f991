//! `keyhound rules check`: runs every rule's examples and counter-examples through the full
//! detector (prefilter, regex, boundary, entropy, checksum, placeholder filter). An example must
//! give exactly one finding, from its own rule; a counter-example must give none from any rule.
//! It lives with the detector because it runs it; the rules themselves are data (`crate::rules`).

use super::Detector;
use crate::rules::{self, Rule, RuleSet};

/// One failed example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub rule: String,
    pub message: String,
}

/// Check `under_test` (rule ids in `detector`'s set) and return every problem.
pub fn check(detector: &Detector, under_test: &[String]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for id in under_test {
        let Some(rule) = detector.rules().get(id) else {
            continue;
        };
        check_rule(detector, rule, &mut problems);
    }
    problems
}

fn check_rule(detector: &Detector, rule: &Rule, problems: &mut Vec<Problem>) {
    let mut problem = |message: String| {
        problems.push(Problem {
            rule: rule.id.clone(),
            message,
        })
    };
    match rules::load::build_regex(&rule.pattern) {
        Ok(re) if re.captures_len() == 2 => {}
        Ok(_) => problem("pattern must have exactly one capture group".into()),
        Err(e) => problem(format!("pattern does not compile: {e}")),
    }
    if rule.examples.is_empty() {
        problem("has no examples".into());
    }
    if rule.counter_examples.is_empty() {
        problem("has no counter_examples".into());
    }
    let set: &RuleSet = detector.rules();
    // A rule that needs a companion nearby (an AWS secret next to its key id) has that companion
    // in its examples; the companion's findings are expected and not counted.
    let ids_of = |text: &str| -> Vec<String> {
        detector
            .find(text.as_bytes())
            .iter()
            .map(|m| set.rules[m.rule].id.clone())
            .filter(|id| rule.requires_nearby.as_deref() != Some(id.as_str()))
            .collect()
    };
    for (i, ex) in rule.examples.iter().enumerate() {
        let ids = ids_of(ex);
        if ids != [rule.id.as_str()] {
            problem(format!(
                "example {} should give exactly one finding from this rule, got [{}]",
                i + 1,
                ids.join(", ")
            ));
        }
    }
    for (i, ex) in rule.counter_examples.iter().enumerate() {
        let ids = ids_of(ex);
        if !ids.is_empty() {
            problem(format!(
                "counter_example {} should give no finding, got [{}]",
                i + 1,
                ids.join(", ")
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_rule_passes_its_examples() {
        let set = RuleSet::builtin().expect("built-in rules load");
        assert!(set.rules.len() >= 30, "only {} rules", set.rules.len());
        let ids: Vec<String> = set.rules.iter().map(|r| r.id.clone()).collect();
        let detector = Detector::new(set);
        let problems = check(&detector, &ids);
        assert!(
            problems.is_empty(),
            "{}",
            problems
                .iter()
                .map(|p| format!("{}: {}", p.rule, p.message))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    #[test]
    fn builtin_rule_ids_are_unique() {
        let set = RuleSet::builtin().expect("built-in rules load");
        let mut ids: Vec<&str> = set.rules.iter().map(|r| r.id.as_str()).collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate rule ids");
    }
}
