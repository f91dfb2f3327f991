//! Issue 11, item 5: gitleaks-format rules files (`--rules-from FILE`, `rules_from` in
//! `.keyhound.toml`). A config written here in gitleaks' format, with keywords, `secretGroup`,
//! `entropy`, `path`, a rule without keywords and allow-lists by stop word, regex (line target),
//! path and commit, runs against real git repositories: each rule finds its positive, and each
//! allow-listed or low-entropy negative is found again once that allow-list (or bound) is
//! removed from the file (its positive control).
use std::collections::BTreeSet;

use crate::harness::{control_line, Rng, TestRepo, ALNUM, OPENAI_RULE};
use crate::readme::found;

const LOWER_HEX: &[u8] = b"0123456789abcdef";
const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The team's gitleaks config. The `# control:` lines mark what the control variant removes.
const GITLEAKS: &str = r#"title = "team rules"

[extend]
useDefault = true

[[rules]]
id = "acme-api-token"
description = "Acme API token"
regex = '''\b(acme_[a-z0-9]{32})\b'''
keywords = ["acme_"]
tags = ["acme"]
[[rules.allowlists]] # control: drop
stopwords = ["sandbox"] # control: drop

[[rules]]
id = "widget-secret"
description = "Widget secret"
regex = '''(?i)(widget_secret)\s*[:=]\s*["']([A-Za-z0-9+/]{24,40})["']'''
secretGroup = 2
entropy = 3.5 # control: drop
keywords = ["widget_secret"]

[[rules]]
id = "zeta-key"
regex = '''zk-[0-9a-f]{40}'''
keywords = ["ZK-"]
path = '''(^|/)\.env$''' # control: drop
[rules.allowlist] # control: drop
regexTarget = "line" # control: drop
regexes = ['''#\s*fixture'''] # control: drop

[[rules]]
id = "gadget-token"
regex = '''gdg_[A-Za-z0-9]{30}'''

[allowlist] # control: drop
paths = ['''(^|/)testdata/'''] # control: drop
"#;

/// The config without the lines marked `# control: drop`.
fn control_variant(config: &str) -> String {
    config
        .lines()
        .filter(|l| !l.contains("# control: drop"))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn set(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(r, p)| (r.to_string(), p.to_string()))
        .collect()
}

/// (rule id, path) pairs.
type Expected = Vec<(&'static str, &'static str)>;

/// Writes the test files; returns (reported with the config, found only by the control).
fn write_tree(repo: &TestRepo) -> (Expected, Expected) {
    let mut r = Rng::new(11);
    let acme = format!("acme_{}", r.string(LOWER_ALNUM, 32));
    let acme_sandbox = format!("acme_sandbox{}", r.string(LOWER_ALNUM, 25));
    let widget = r.string(BASE64, 32);
    let zeta = format!("zk-{}", r.string(LOWER_HEX, 40));
    let zeta_fixture = format!("zk-{}", r.string(LOWER_HEX, 40));
    let gadget = format!("gdg_{}", r.string(ALNUM, 30));
    repo.write("src/acme.py", format!("TOKEN = \"{acme}\"\n"));
    repo.write(
        "src/acme_sandbox.py",
        format!("TOKEN = \"{acme_sandbox}\"\n"),
    );
    repo.write(
        "config/widget.yml",
        format!("widget_secret: \"{widget}\"\n"),
    );
    // Low entropy (1 bit per character), yet no placeholder: only `entropy` rejects it.
    repo.write(
        "config/low.yml",
        format!("WIDGET_SECRET = '{}'\n", "abc".repeat(9)),
    );
    repo.write(
        ".env",
        format!("ZETA={zeta}\nZETA_TEST={zeta_fixture} # fixture\n"),
    );
    repo.write("src/zeta.txt", format!("zeta: {zeta}\n"));
    repo.write("notes/gadget.md", format!("the token is {gadget}\n"));
    repo.write("testdata/acme.py", format!("TOKEN = \"{acme}\"\n"));
    // The global allow-list applies to keyhound's built-in rules too.
    repo.write("testdata/openai.env", control_line(7));
    repo.write("src/control.env", control_line(8));
    let reported = vec![
        ("gitleaks.acme-api-token", "src/acme.py"),
        ("gitleaks.widget-secret", "config/widget.yml"),
        ("gitleaks.zeta-key", ".env"),
        ("gitleaks.gadget-token", "notes/gadget.md"),
        (OPENAI_RULE, "src/control.env"),
    ];
    let control_only = vec![
        ("gitleaks.acme-api-token", "src/acme_sandbox.py"),
        ("gitleaks.widget-secret", "config/low.yml"),
        ("gitleaks.zeta-key", "src/zeta.txt"),
        ("gitleaks.acme-api-token", "testdata/acme.py"),
        (OPENAI_RULE, "testdata/openai.env"),
    ];
    (reported, control_only)
}

#[test]
fn gitleaks_rules_fire_on_positives_and_not_on_allowlisted_negatives() {
    let repo = TestRepo::git();
    let (reported, control_only) = write_tree(&repo);
    repo.write("ci/gitleaks.toml", GITLEAKS);
    repo.write("ci/control.toml", control_variant(GITLEAKS));
    let want = set(&reported);
    // The control finds everything the config finds, and each negative; one `.env` line more.
    let mut want_control = want.clone();
    want_control.extend(set(&control_only));

    let run = repo.keyhound(&[
        "scan",
        "--format",
        "json",
        "--rules-from",
        "ci/gitleaks.toml",
    ]);
    assert_eq!(found(&run, "scan --rules-from"), want, "{}", run.stderr);
    let run = repo.keyhound(&[
        "scan",
        "--format",
        "json",
        "--rules-from",
        "ci/control.toml",
    ]);
    assert_eq!(found(&run, "scan --rules-from control"), want_control);
    // Both `.env` lines are found by the control (the `# fixture` line is allowed by the config).
    let env_lines: Vec<u64> = run
        .report()
        .findings
        .iter()
        .filter(|f| f.path == ".env")
        .map(|f| f.line)
        .collect();
    assert_eq!(env_lines, vec![1, 2]);
    // The secret of `widget-secret` is its second group, not the key name.
    let run = repo.keyhound(&[
        "scan",
        "--format",
        "json",
        "--show-secrets",
        "--rules-from",
        "ci/gitleaks.toml",
    ]);
    let widget = run
        .report()
        .findings
        .into_iter()
        .find(|f| f.rule == "gitleaks.widget-secret")
        .expect("widget finding");
    assert_eq!(widget.secret.unwrap().len(), 32);

    // The same file named by `.keyhound.toml` (relative to it), for scan and staged.
    repo.write("ci/.keyhound.toml", "rules_from = [\"gitleaks.toml\"]\n");
    let run = repo.keyhound(&["scan", "--format", "json", "--config", "ci/.keyhound.toml"]);
    assert_eq!(found(&run, "scan with rules_from"), want);
    repo.write(".keyhound.toml", "rules_from = [\"ci/gitleaks.toml\"]\n");
    repo.git_ok(&["add", "-A"]);
    let run = repo.keyhound(&["staged", "--format", "json"]);
    assert_eq!(found(&run, "staged with rules_from"), want);
    repo.write(".keyhound.toml", "");
    let run = repo.keyhound(&[
        "staged",
        "--format",
        "json",
        "--rules-from",
        "ci/control.toml",
    ]);
    assert_eq!(found(&run, "staged --rules-from control"), want_control);
    // `[allow] rules` disables imported rules by their keyhound id.
    repo.write(
        ".keyhound.toml",
        "rules_from = [\"ci/gitleaks.toml\"]\n[allow]\nrules = [\"gitleaks.\"]\n",
    );
    let run = repo.keyhound(&["scan", "--format", "json"]);
    assert_eq!(
        found(&run, "scan with gitleaks rules disabled"),
        set(&[(OPENAI_RULE, "src/control.env")])
    );
}

/// A commit allow-list (targeted at one rule) in history: the allowed commit's key is not
/// reported, the next commit's is; without the allow-list both are.
#[test]
fn gitleaks_commit_allowlist_applies_in_history() {
    let repo = TestRepo::git();
    let mut r = Rng::new(12);
    repo.write(
        "a.py",
        format!("T = \"acme_{}\"\n", r.string(LOWER_ALNUM, 32)),
    );
    let first = repo.commit("first");
    repo.write(
        "b.py",
        format!("T = \"acme_{}\"\n", r.string(LOWER_ALNUM, 32)),
    );
    repo.commit("second");
    let rule = "[[rules]]\nid = \"acme-api-token\"\nregex = '''\\b(acme_[a-z0-9]{32})\\b'''\nkeywords = [\"acme_\"]\n";
    let dir = TestRepo::dir();
    dir.write("plain.toml", rule);
    dir.write(
        "allowed.toml",
        format!(
            "{rule}\n[[allowlists]]\ntargetRules = [\"acme-api-token\"]\ncommits = [\"{}\"]\n",
            first.to_uppercase()
        ),
    );
    let run = |file: &str| {
        let path = dir.path().join(file);
        repo.keyhound(&[
            "history",
            "--format",
            "json",
            "--rules-from",
            path.to_str().unwrap(),
        ])
    };
    assert_eq!(
        found(&run("plain.toml"), "history plain"),
        set(&[
            ("gitleaks.acme-api-token", "a.py"),
            ("gitleaks.acme-api-token", "b.py")
        ])
    );
    assert_eq!(
        found(&run("allowed.toml"), "history allowed"),
        set(&[("gitleaks.acme-api-token", "b.py")])
    );
}

/// What keyhound cannot do the way gitleaks does is an error (exit 2) naming the file, the line
/// and the rule, or, where it only drops something gitleaks would not report as a secret, a
/// warning; the valid file beside them loads (the positive control).
#[test]
fn gitleaks_unsupported_constructs_are_clear_errors() {
    let repo = TestRepo::git();
    repo.write("src/control.env", control_line(9));
    let ok = "[[rules]]\nid = \"ok\"\nregex = '''ok_[a-z]{20}'''\nkeywords = [\"ok_\"]\n";
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "quote",
            "[[rules]]\nid = \"quoted\"\nregex = '''\\Qa.b\\E[0-9]{8}'''\n",
            &["quote.toml:1:", "rule \"quoted\"", "\\Q"],
        ),
        (
            "columns",
            "[[rules]]\nid = \"a\"\nregex = 'a_[0-9]{9}'\n\n[[rules]]\nid = \"b\"\nregex = 'b_[0-9]{9}'\n[[rules.required]]\nid = \"a\"\nwithinColumns = 3\n",
            &["columns.toml:", "rule \"b\"", "withinColumns"],
        ),
        (
            "skip",
            "[[rules]]\nid = \"aux\"\nregex = 'aux_[0-9]{9}'\nskipReport = true\n",
            &["skip.toml:4:", "rule \"aux\"", "skipReport"],
        ),
        (
            "group",
            "[[rules]]\nid = \"grp\"\nregex = '(a)_[0-9]{9}'\nsecretGroup = 2\n",
            &["group.toml:1:", "rule \"grp\"", "secretGroup 2"],
        ),
        (
            "url",
            "[extend]\nurl = \"https://example.com/gitleaks.toml\"\n",
            &["url.toml:2:", "extend.url"],
        ),
        (
            "noid",
            "[[rules]]\nregex = 'x_[0-9]{9}'\n",
            &["noid.toml:1:", "without an `id`"],
        ),
        (
            "cond",
            "[[rules]]\nid = \"c\"\nregex = 'c_[0-9]{9}'\n[[rules.allowlists]]\ncondition = \"XOR\"\nstopwords = [\"x\"]\n",
            &["cond.toml:", "rule \"c\"", "XOR"],
        ),
        (
            "toml",
            "[[rules]\nid = \"broken\"\n",
            &["toml.toml:1:"],
        ),
    ];
    for (name, text, wants) in cases {
        let file = format!("{name}.toml");
        repo.write(&file, text);
        let run = repo.keyhound(&["scan", "src", "--rules-from", &file]);
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        for want in *wants {
            assert!(
                run.stderr.contains(want),
                "{name}: no {want:?} in:\n{}",
                run.stderr
            );
        }
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    // Warnings, not errors: a path-only rule is skipped, an unknown key ignored.
    repo.write(
        "warn.toml",
        format!("{ok}\n[[rules]]\nid = \"p12\"\npath = '''\\.p12$'''\n\n[[rules]]\nid = \"typo\"\nregex = 'ty_[0-9]{{9}}'\nkeywordz = [\"ty_\"]\n"),
    );
    let run = repo.keyhound(&[
        "scan",
        "src",
        "--format",
        "json",
        "--rules-from",
        "warn.toml",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("warn.toml:6: rule \"p12\" matches file paths only"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("warn.toml:13: unknown gitleaks key \"rules.typo.keywordz\""),
        "{}",
        run.stderr
    );
    // The file loads: its rule is listed.
    repo.write("list.toml", "rules_from = [\"warn.toml\"]\n");
    let run = repo.keyhound(&["rules", "list", "--config", "list.toml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("gitleaks.ok "), "{}", run.stdout);
    assert!(run.stdout.contains("gitleaks.typo "), "{}", run.stdout);
    assert!(!run.stdout.contains("gitleaks.p12"), "{}", run.stdout);
    // A missing file is an error naming it.
    let run = repo.keyhound(&["scan", "src", "--rules-from", "missing.toml"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("missing.toml"), "{}", run.stderr);
}

/// `[extend] path`: the extended file's rules load beneath this one's; a rule redefined here
/// keeps the base's regex and gains this file's allow-list; `disabledRules` drops base rules.
#[test]
fn gitleaks_extend_path_merges_rules() {
    let repo = TestRepo::git();
    let mut r = Rng::new(13);
    let keep = format!("acme_{}", r.string(LOWER_ALNUM, 32));
    let allowed = format!("acme_sandbox{}", r.string(LOWER_ALNUM, 25));
    let gone = format!("old_{}", r.string(LOWER_ALNUM, 20));
    repo.write(
        "src/a.py",
        format!("A = \"{keep}\"\nB = \"{allowed}\"\nC = \"{gone}\"\n"),
    );
    repo.write(
        "ci/base.toml",
        "[[rules]]\nid = \"acme\"\nregex = '''acme_[a-z0-9]{32}'''\nkeywords = [\"acme_\"]\n\n[[rules]]\nid = \"old\"\nregex = '''old_[a-z0-9]{20}'''\nkeywords = [\"old_\"]\n",
    );
    repo.write(
        "ci/team.toml",
        "[extend]\npath = \"base.toml\"\ndisabledRules = [\"old\"]\n\n[[rules]]\nid = \"acme\"\n[[rules.allowlists]]\nstopwords = [\"sandbox\"]\n",
    );
    let run = repo.keyhound(&[
        "scan",
        "--format",
        "json",
        "--show-secrets",
        "--rules-from",
        "ci/team.toml",
    ]);
    let secrets: Vec<(String, String)> = run
        .report()
        .findings
        .into_iter()
        .map(|f| (f.rule, f.secret.unwrap()))
        .collect();
    assert_eq!(
        secrets,
        vec![("gitleaks.acme".to_string(), keep)],
        "{}",
        run.stderr
    );
    // Positive control: the base alone finds all three.
    let run = repo.keyhound(&["scan", "--format", "json", "--rules-from", "ci/base.toml"]);
    assert_eq!(run.report().findings.len(), 3, "{}", run.stderr);
}

/// gitleaks' own default config, when one is at hand (`KEYHOUND_GITLEAKS_TOML`, not vendored):
/// it loads with warnings only for its path-only rule, and finds a key of one of its rules.
/// Not vendored and not on the CI machine (it needs gitleaks' repository), so it is opt-in:
/// `KEYHOUND_GITLEAKS_TOML=.../config/gitleaks.toml cargo test gitleaks_default -- --ignored`.
#[test]
#[ignore = "needs gitleaks' config/gitleaks.toml in KEYHOUND_GITLEAKS_TOML"]
fn gitleaks_default_config_loads() {
    let path = std::env::var_os("KEYHOUND_GITLEAKS_TOML")
        .expect("set KEYHOUND_GITLEAKS_TOML to gitleaks' config/gitleaks.toml");
    let repo = TestRepo::git();
    std::fs::copy(&path, repo.path().join("gitleaks.toml")).unwrap();
    repo.write(".keyhound.toml", "rules_from = [\"gitleaks.toml\"]\n");
    let run = repo.keyhound(&["rules", "list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let loaded = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("gitleaks."))
        .count();
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!(
            "gitleaks default config: {loaded} rules loaded\n{}",
            run.stderr
        )
        .as_bytes(),
    );
    assert!(loaded > 150, "{}", run.stderr);
    let mut r = Rng::new(14);
    // A provider keyhound has no rule of its own for.
    repo.write(
        "src/k.txt",
        format!("FRESHBOOKS_TOKEN = \"{}\"\n", r.string(LOWER_ALNUM, 64)),
    );
    let run = repo.keyhound(&["scan", "src", "--format", "json"]);
    assert_eq!(
        found(&run, "scan with the default config"),
        set(&[("gitleaks.freshbooks-access-token", "k.txt")]),
        "{}",
        run.stderr
    );
    // Without the file, keyhound's own rules do not find it (the rule did the work).
    repo.write(".keyhound.toml", "");
    let run = repo.keyhound(&["scan", "src", "--format", "json"]);
    assert_eq!(found(&run, "scan without"), BTreeSet::new());
}

/// The "Coming from gitleaks" page (docs/gitleaks.md, once a README section) as written: its `.gitleaks.toml` finds an Acme token
/// through `--rules-from` and through the `.keyhound.toml` shown, and not the token its stop
/// word allows nor the one under the allowed path (each found once the file's allow-lists are
/// gone: the positive control).
#[test]
fn readme_gitleaks_section_works_as_written() {
    let gitleaks = crate::readme::readme_blocks("toml gitleaks");
    assert_eq!(
        gitleaks.len(),
        1,
        "the docs need one ```toml gitleaks block"
    );
    let gitleaks = &gitleaks[0].1;
    let keyhound_toml = crate::readme::readme_blocks("toml")
        .into_iter()
        .map(|(_, b)| b)
        .find(|b| b.contains("rules_from"))
        .expect("the docs show rules_from in a ```toml block");
    let repo = TestRepo::git();
    let mut r = Rng::new(15);
    let key = format!("acme_{}", r.string(LOWER_ALNUM, 32));
    repo.write("src/a.py", format!("K = \"{key}\"\n"));
    repo.write(
        "src/b.py",
        format!("K = \"acme_sandbox{}\"\n", r.string(LOWER_ALNUM, 25)),
    );
    repo.write("testdata/c.py", format!("K = \"{key}\"\n"));
    repo.write(".gitleaks.toml", gitleaks);
    let without_allowlists: String = gitleaks
        .split("[[rules.allowlists]]")
        .next()
        .unwrap()
        .to_string();
    repo.write("control.toml", &without_allowlists);
    let want = set(&[("gitleaks.acme-api-token", "src/a.py")]);
    let run = repo.keyhound(&["scan", "--format", "json", "--rules-from", ".gitleaks.toml"]);
    assert_eq!(found(&run, "--rules-from"), want);
    let run = repo.keyhound(&["scan", "--format", "json", "--rules-from", "control.toml"]);
    assert_eq!(
        found(&run, "control"),
        set(&[
            ("gitleaks.acme-api-token", "src/a.py"),
            ("gitleaks.acme-api-token", "src/b.py"),
            ("gitleaks.acme-api-token", "testdata/c.py"),
        ])
    );
    repo.write(".keyhound.toml", &keyhound_toml);
    let run = repo.keyhound(&["scan", "--format", "json"]);
    assert_eq!(found(&run, "rules_from"), want);
}

/// A gitleaks file whose lines start with multibyte characters (where a key name would end)
/// loads or is refused with a message, never a panic; a rule in it still works (issue 19
/// item 18: the fuzzer found a string slice at a non-character boundary).
#[test]
fn gitleaks_multibyte_keys_do_not_panic() {
    let repo = TestRepo::git();
    let mut r = Rng::new(1918);
    let token = format!("uni_{}", r.string(LOWER_ALNUM, 24));
    repo.write("app.env", format!("TOKEN={token}\n"));
    // Quoted keys may hold any character; the comment line has a multibyte character where
    // the unknown keys' names end, as the key search compares them.
    let config = "\"r\u{20ac}gle\" = 2\n# \u{20ac}\u{20ac}\u{20ac} comment\n[[rules]]\nid = \"uni\"\n\"\u{e9}x\" = \"y\"\nregex = '''uni_[a-z0-9]{24}'''\nkeywords = [\"uni_\"]\n";
    repo.write("gl.toml", config);
    let run = repo.keyhound(&[
        "scan",
        "--format",
        "json",
        "--rules-from",
        "gl.toml",
        "app.env",
    ]);
    assert!(!run.stderr.contains("internal error"), "{}", run.stderr);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(found(&run, "scan"), set(&[("gitleaks.uni", "app.env")]));
    assert!(
        run.stderr.contains("unknown gitleaks key"),
        "{}",
        run.stderr
    );
}

/// Unicode classes in a gitleaks pattern keep their meaning: `\p{L}` matches letters (also
/// non-ASCII ones) and `\P{L}` what is not one (issue 19 item 18: the braces were escaped,
/// which refused or changed the pattern).
#[test]
fn gitleaks_unicode_classes_keep_their_meaning() {
    let repo = TestRepo::git();
    let mut r = Rng::new(1919);
    let body = r.string(LOWER_ALNUM, 20);
    // A letter class: "pass_" + letters (one of them non-ASCII) + a digit run.
    let letters = format!("pass_caf\u{e9}\u{e9}x{body}");
    repo.write("a.env", format!("P={letters}\n"));
    // Positive control for `\P{L}`: the separator between two parts is no letter.
    let pair = format!("pair_{body}#{}", r.string(LOWER_ALNUM, 12));
    repo.write("b.env", format!("Q={pair}\n"));
    let config = "[[rules]]\nid = \"letters\"\nregex = '''pass_(\\p{L}{4,}[a-z0-9]{20})'''\nkeywords = [\"pass_\"]\n\n[[rules]]\nid = \"pair\"\nregex = '''pair_([a-z0-9]{20}\\P{L}[a-z0-9]{12})'''\nkeywords = [\"pair_\"]\n";
    repo.write("gl.toml", config);
    let run = repo.keyhound(&[
        "scan",
        "--format",
        "json",
        "--show-secrets",
        "--rules-from",
        "gl.toml",
        "a.env",
        "b.env",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut secrets: Vec<(String, String)> = run
        .report()
        .findings
        .into_iter()
        .map(|f| (f.rule, f.secret.unwrap_or_default()))
        .collect();
    secrets.sort();
    assert_eq!(
        secrets,
        vec![
            (
                "gitleaks.letters".to_string(),
                letters["pass_".len()..].to_string()
            ),
            (
                "gitleaks.pair".to_string(),
                pair["pair_".len()..].to_string()
            ),
        ]
    );
}

/// A rule without keywords runs over every whole file; one whose regex is pathological
/// (quadratic over a run of letters: a few KB/s) is loaded with a warning naming it and the fix
/// (`keywords`), while an ordinary keyword-less rule in the same file gets none; both still find
/// what they match (issue 19 item 18).
#[test]
fn gitleaks_slow_keywordless_rule_is_warned_at_load() {
    let repo = TestRepo::git();
    let mut r = Rng::new(1920);
    let token = format!("gdg_{}", r.string(ALNUM, 30));
    repo.write("app.env", format!("T={token}\nQ=ab12Q\n"));
    let config = "[[rules]]\nid = \"quadratic\"\nregex = '''([a-z0-9]*Q|[a-z])'''\n\n[[rules]]\nid = \"gadget-token\"\nregex = '''gdg_[A-Za-z0-9]{30}'''\n";
    repo.write("gl.toml", config);
    let run = repo.keyhound(&[
        "scan",
        "--format",
        "json",
        "--rules-from",
        "gl.toml",
        "app.env",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let warned: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("has no keywords"))
        .collect();
    assert_eq!(warned.len(), 1, "{}", run.stderr);
    assert!(
        warned[0].starts_with("keyhound: warning: gl.toml:1: rule \"quadratic\"")
            && warned[0].contains("KB/s")
            && warned[0].contains("add `keywords`"),
        "{}",
        warned[0]
    );
    assert_eq!(
        found(&run, "scan"),
        set(&[
            ("gitleaks.gadget-token", "app.env"),
            ("gitleaks.quadratic", "app.env")
        ])
    );
}

/// Issue 24 item 4: the policy alone decides the `paths` and `commits` of imported allow-lists,
/// for a history too: what they allow is suppressed, not reported, and `--show-suppressed` lists
/// it as `imported`. A global path allow-list and a commit allow-list targeted at the rule each
/// silence one commit's key; the third key is reported (the control), and without the
/// allow-lists all three are.
#[test]
fn gitleaks_path_and_commit_allowlists_show_as_imported_suppressions() {
    let repo = TestRepo::git();
    let mut r = Rng::new(24);
    let mut key = || format!("T = \"acme_{}\"\n", r.string(LOWER_ALNUM, 32));
    repo.write("a.py", key());
    let first = repo.commit("first");
    repo.write("vendor/b.py", key());
    repo.commit("vendored");
    repo.write("c.py", key());
    repo.commit("third");
    let rule = "[[rules]]\nid = \"acme-api-token\"\nregex = '''\\b(acme_[a-z0-9]{32})\\b'''\nkeywords = [\"acme_\"]\n";
    let dir = TestRepo::dir();
    dir.write("plain.toml", rule);
    dir.write(
        "allowed.toml",
        format!(
            "{rule}\n[[allowlists]]\npaths = ['''^vendor/''']\n\n[[allowlists]]\ntargetRules = [\"acme-api-token\"]\ncommits = [\"{first}\"]\n"
        ),
    );
    let run = |file: &str, extra: &[&str]| {
        let path = dir.path().join(file);
        let mut args = vec![
            "history",
            "--format",
            "json",
            "--rules-from",
            path.to_str().unwrap(),
        ];
        args.extend(extra);
        repo.keyhound(&args)
    };
    let shown = |run: &crate::harness::Run| -> BTreeSet<(String, Option<String>)> {
        run.report()
            .findings
            .into_iter()
            .map(|f| (f.path, f.suppressed))
            .collect()
    };
    let rule_id = "gitleaks.acme-api-token";
    assert_eq!(
        found(&run("plain.toml", &[]), "history plain"),
        set(&[
            (rule_id, "a.py"),
            (rule_id, "vendor/b.py"),
            (rule_id, "c.py")
        ])
    );
    let allowed = run("allowed.toml", &[]);
    assert_eq!(allowed.code, 1, "{}", allowed.stderr);
    assert_eq!(shown(&allowed), [("c.py".into(), None)].into());
    assert_eq!(allowed.report().summary.suppressed, 2, "{}", allowed.stderr);
    let listed = run("allowed.toml", &["--show-suppressed"]);
    assert_eq!(listed.code, 1, "{}", listed.stderr);
    assert_eq!(
        shown(&listed),
        [
            ("a.py".into(), Some("imported".into())),
            ("vendor/b.py".into(), Some("imported".into())),
            ("c.py".into(), None),
        ]
        .into()
    );
}

/// Issue 24 item 4: a rule's `path` is judged by the finding's real path in a history too (the
/// detector judged a history's blob by an empty path, so such a rule found nothing there); the
/// same key outside the path is not reported by it.
#[test]
fn gitleaks_rule_path_applies_in_history() {
    let repo = TestRepo::git();
    let mut r = Rng::new(25);
    repo.write(".env", format!("ZETA=zk-{}\n", r.string(LOWER_HEX, 40)));
    repo.write(
        "notes.txt",
        format!("zeta: zk-{}\n", r.string(LOWER_HEX, 40)),
    );
    repo.commit("keys");
    let dir = TestRepo::dir();
    dir.write(
        "zeta.toml",
        "[[rules]]\nid = \"zeta-key\"\nregex = '''zk-[0-9a-f]{40}'''\nkeywords = [\"zk-\"]\npath = '''(^|/)\\.env$'''\n",
    );
    let path = dir.path().join("zeta.toml");
    for source in ["history", "scan"] {
        let run = repo.keyhound(&[
            source,
            "--format",
            "json",
            "--rules-from",
            path.to_str().unwrap(),
        ]);
        assert_eq!(
            found(&run, source),
            set(&[("gitleaks.zeta-key", ".env")]),
            "{}",
            run.stderr
        );
    }
}
