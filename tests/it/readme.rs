//! README.md's snippets, tested as written (issue 10): a user copies them, so each must work.
//! Every ```toml block is a `.keyhound.toml` that `keyhound scan` and `keyhound staged` must
//! accept and apply.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::harness::{control_line, Run, TestRepo, OPENAI_RULE};

/// The fenced blocks of README.md whose info string is `lang`, with their first line number.
pub fn readme_blocks(lang: &str) -> Vec<(usize, String)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let mut blocks = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (i, line) in readme.lines().enumerate() {
        match &mut open {
            None if line.trim_end() == format!("```{lang}") => open = Some((i + 2, String::new())),
            Some(_) if line.trim_end() == "```" => blocks.push(open.take().expect("open block")),
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
            None => {}
        }
    }
    assert!(open.is_none(), "README.md: an unclosed ```{lang} block");
    blocks
}

/// The `examples` of every built-in rule, by rule id (from `rules/*.toml`).
fn builtin_examples() -> BTreeMap<String, Vec<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.path().extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let file: toml::Value =
            toml::from_str(&std::fs::read_to_string(entry.path()).unwrap()).unwrap();
        for rule in file["rule"].as_array().into_iter().flatten() {
            out.insert(rule_id(rule), strings(rule.get("examples")));
        }
    }
    out
}

fn rule_id(rule: &toml::Value) -> String {
    rule.get("id")
        .and_then(|v| v.as_str())
        .expect("a rule has an id")
        .to_string()
}

fn strings(v: Option<&toml::Value>) -> Vec<String> {
    v.and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .map(|s| s.as_str().expect("a list of strings").to_string())
        .collect()
}

/// A path that the gitignore-style pattern `glob` matches: `**` and `*` become names, a
/// trailing `/` gets a file name.
fn path_matching(glob: &str) -> String {
    assert!(
        !glob.contains(['[', '?', '!']),
        "teach path_matching this pattern: {glob}"
    );
    let mut p = glob
        .trim_start_matches('/')
        .replace("**", "deep")
        .replace('*', "any");
    if p.ends_with('/') {
        p.push_str("file.env");
    }
    p
}

/// (rule, path) of each finding, asserting the run neither failed nor was incomplete.
fn found(run: &Run, what: &str) -> BTreeSet<(String, String)> {
    assert!(
        run.code == 0 || run.code == 1,
        "{what} exited {}: {}",
        run.code,
        run.stderr
    );
    run.report()
        .findings
        .into_iter()
        .map(|f| (f.rule, f.path))
        .collect()
}

/// Issue 10: README's sample `.keyhound.toml` named a rule that does not exist, so every scan
/// with it exited 2. Each ```toml block is written verbatim as `.keyhound.toml` in a git
/// repository with generated keys; `scan` and `staged` must exit 0 or 1 and apply it: allowed
/// paths and disabled rules give no finding (each checked against a positive control), and each
/// user rule finds its `examples`.
#[test]
fn issue_10_readme_config_snippets_work_as_written() {
    let blocks = readme_blocks("toml");
    assert!(!blocks.is_empty(), "README.md has no ```toml block");
    let builtin = builtin_examples();
    for (line, block) in blocks {
        let what = format!("README.md:{line}");
        let config: toml::Value =
            toml::from_str(&block).unwrap_or_else(|e| panic!("{what}: not TOML: {e}"));
        let allow = config.get("allow");
        let allowed_paths = strings(allow.and_then(|a| a.get("paths")));
        let allowed_rules = strings(allow.and_then(|a| a.get("rules")));
        let disabled = |id: &str| {
            allowed_rules
                .iter()
                .any(|r| r == id || (r.ends_with('.') && id.starts_with(r.as_str())))
        };
        assert!(
            !disabled(OPENAI_RULE),
            "{what}: the test's positive control needs {OPENAI_RULE}"
        );

        let repo = TestRepo::git();
        repo.write(".keyhound.toml", &block);
        let mut expected = BTreeSet::new();
        repo.write("src/control.env", control_line(200));
        expected.insert((OPENAI_RULE.to_string(), "src/control.env".to_string()));
        // Allowed paths: the same kind of key, not reported there.
        for (i, glob) in allowed_paths.iter().enumerate() {
            repo.write(&path_matching(glob), control_line(201 + i as u64));
        }
        // Disabled rules: each matching built-in rule's first example, not reported...
        let without_config = TestRepo::dir();
        let mut disabled_count = 0;
        for (id, examples) in builtin.iter().filter(|(id, _)| disabled(id)) {
            let example = examples
                .first()
                .expect("every built-in rule has an example");
            let file = format!("disabled/{id}.txt");
            repo.write(&file, format!("{example}\n"));
            without_config.write(&file, format!("{example}\n"));
            disabled_count += 1;
        }
        assert_eq!(
            disabled_count > 0,
            !allowed_rules.is_empty(),
            "{what}: allow.rules {allowed_rules:?} names no built-in rule"
        );
        // ...though found without the config (the positive control for the disabled rules).
        let control = without_config.keyhound(&["scan", "--format", "json"]);
        let want: BTreeSet<(String, String)> = builtin
            .keys()
            .filter(|id| disabled(id))
            .map(|id| (id.clone(), format!("disabled/{id}.txt")))
            .collect();
        assert_eq!(found(&control, "scan without the config"), want);
        // User rules: each example is found by its rule.
        for rule in config
            .get("rule")
            .and_then(|r| r.as_array())
            .into_iter()
            .flatten()
        {
            let id = rule_id(rule);
            let examples = strings(rule.get("examples"));
            assert!(
                !examples.is_empty(),
                "{what}: rule {id} needs `examples`, so this test can show it works"
            );
            for (j, example) in examples.iter().enumerate() {
                let file = format!("src/{id}-{j}.txt");
                repo.write(&file, format!("{example}\n"));
                expected.insert((id.clone(), file));
            }
        }
        repo.git_ok(&["add", "-A"]);
        for command in ["scan", "staged"] {
            let run = repo.keyhound(&[command, "--format", "json"]);
            assert_eq!(
                found(&run, &format!("{what}: keyhound {command}")),
                expected,
                "{what}: keyhound {command} with this config"
            );
        }
    }
}
