//! Issue 10: one policy, one pipeline, and the defects a new user hits in the first hour. Each
//! test names the defect it guards (`issue_10_...`); each negative check has a positive control
//! in the same run, so a detector that finds nothing cannot pass it.
use std::path::Path;
use std::process::Command;

use serde::Deserialize;

use crate::harness::{bin, openai_key, Rng, Run, TestRepo};

#[derive(Debug, Deserialize)]
struct Report {
    version: u32,
    findings: Vec<JsonFinding>,
    summary: JsonSummary,
}

#[derive(Debug, Deserialize)]
struct JsonFinding {
    rule: String,
    path: String,
    #[serde(default)]
    suppressed: Option<String>,
    #[serde(default)]
    verification: Option<JsonVerdict>,
}

#[derive(Debug, Deserialize)]
struct JsonVerdict {
    status: String,
}

#[derive(Debug, Deserialize)]
struct JsonSummary {
    #[serde(default)]
    skipped: Vec<JsonSkipped>,
    suppressed: usize,
    incomplete: bool,
    #[serde(default)]
    verification: Option<JsonCounts>,
}

#[derive(Debug, Deserialize)]
struct JsonSkipped {
    path: String,
    reason: String,
}

#[derive(Debug, Deserialize)]
struct JsonCounts {
    live: usize,
    unknown: usize,
}

fn report(run: &Run) -> Report {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "not a JSON report ({e}):\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        )
    })
}

fn paths(r: &Report) -> Vec<&str> {
    let mut p: Vec<&str> = r.findings.iter().map(|f| f.path.as_str()).collect();
    p.sort();
    p
}

/// A fake PEM private key: 12 lines of random base64 between the markers.
fn fake_pem(seed: u64) -> String {
    let mut r = Rng::new(seed);
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let body: Vec<String> = (0..12).map(|_| r.string(alphabet, 64)).collect();
    format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----",
        body.join("\n")
    )
}

/// Run keyhound in `dir` with exactly this environment (on top of PATH and HOME).
fn keyhound_env(repo: &TestRepo, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", repo.home.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run keyhound");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// #2: the hook's advice works: `keyhound baseline create` writes the baseline every command
/// applies, the pre-commit hook included; a config can name another file.
#[cfg(unix)]
#[test]
fn issue_10_baseline_create_unblocks_the_hook() {
    let repo = TestRepo::git();
    repo.write("README.md", "hello\n");
    repo.commit("initial");
    let run = repo.keyhound(&["hook", "install"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    repo.write("tests/fixture.env", format!("K={}\n", openai_key(1001)));
    repo.git_ok(&["add", "-A"]);
    let blocked = repo.git_run(&["commit", "-m", "fixture"]);
    assert_ne!(blocked.code, 0, "the hook let a key through");
    assert!(
        blocked.stderr.contains("keyhound baseline create"),
        "{}",
        blocked.stderr
    );
    let run = repo.keyhound(&["baseline", "create"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(repo.path().join(".keyhound-baseline.json").is_file());
    repo.git_ok(&["add", "-A"]);
    let commit = repo.git_run(&["commit", "-m", "fixture, accepted"]);
    assert_eq!(
        commit.code, 0,
        "the baseline did not reach the hook: {}",
        commit.stderr
    );
    // A new key is still blocked (positive control).
    repo.write("app.env", format!("K={}\n", openai_key(1002)));
    repo.git_ok(&["add", "-A"]);
    let blocked = repo.git_run(&["commit", "-m", "new key"]);
    assert_ne!(blocked.code, 0, "a key not in the baseline passed");
}

#[test]
fn issue_10_config_can_name_the_baseline_and_scan_applies_it() {
    let repo = TestRepo::git();
    repo.write("old.env", format!("K={}\n", openai_key(1003)));
    repo.write(".keyhound.toml", "baseline = \"security/accepted.json\"\n");
    std::fs::create_dir_all(repo.path().join("security")).unwrap();
    let run = repo.keyhound(&["baseline", "create", "--file", "security/accepted.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = repo.keyhound(&["scan", ".", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(report(&run).summary.suppressed, 1);
    repo.write("new.env", format!("K={}\n", openai_key(1004)));
    let run = repo.keyhound(&["scan", ".", "--format", "json", "--show-suppressed"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let r = report(&run);
    let shown: Vec<(&str, Option<&str>)> = r
        .findings
        .iter()
        .map(|f| (f.path.as_str(), f.suppressed.as_deref()))
        .collect();
    assert_eq!(
        shown,
        vec![("new.env", None), ("old.env", Some("baseline"))]
    );
    // A baseline the config names must exist.
    repo.write(".keyhound.toml", "baseline = \"missing.json\"\n");
    let run = repo.keyhound(&["scan", "."]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("missing.json"), "{}", run.stderr);
}

/// #4: `--fail-on live` must not pass a CI job that checked nothing.
#[test]
fn issue_10_fail_on_live_fails_when_no_key_could_be_checked() {
    let repo = TestRepo::dir();
    repo.write("app.env", format!("K={}\n", openai_key(1005)));
    // A loopback port nobody listens on: every check ends `unknown`.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("openai=http://127.0.0.1:{port}");
    let args = [
        "scan",
        ".",
        "--format",
        "json",
        "--no-cache",
        "--verify-timeout",
        "2",
        "--fail-on",
        "live",
        "--verify-endpoint",
        &endpoint,
    ];
    let run = repo.keyhound(&args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let r = report(&run);
    let counts = r
        .summary
        .verification
        .as_ref()
        .expect("verification counts");
    assert_eq!((counts.live, counts.unknown), (0, 1));
    assert_eq!(
        r.findings[0]
            .verification
            .as_ref()
            .map(|v| v.status.as_str()),
        Some("unknown")
    );
    assert!(
        run.stderr.contains("could not be checked"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("1 unknown"), "{}", run.stderr);
    let mut opted_out = args.to_vec();
    opted_out.push("--allow-unknown");
    let run = repo.keyhound(&opted_out);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// #5: a custom rule with a built-in id must not silently replace it.
#[test]
fn issue_10_custom_rule_reusing_a_builtin_id_is_refused_without_override() {
    let repo = TestRepo::dir();
    repo.write("app.env", format!("K={}\n", openai_key(1006)));
    let rule = "[[rule]]\nid = \"openai.project-key\"\nprovider = \"acme\"\nname = \"Acme\"\nkeywords = [\"acme_\"]\npattern = '(acme_[a-z0-9]{24})'\n";
    repo.write(".keyhound.toml", rule);
    let run = repo.keyhound(&["scan", "."]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains(".keyhound.toml"), "{}", run.stderr);
    assert!(run.stderr.contains("override = true"), "{}", run.stderr);
    // Without the clash the built-in rule finds the key (positive control).
    repo.write(
        ".keyhound.toml",
        rule.replace("openai.project-key", "acme.token"),
    );
    let run = repo.keyhound(&["scan", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // With override = true the user's choice is honoured: the OpenAI key is no longer found.
    repo.write(".keyhound.toml", format!("{rule}override = true\n"));
    let run = repo.keyhound(&["scan", ".", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// #11: `verify --from` reads only keyhound JSON reports.
#[test]
fn issue_10_verify_from_refuses_what_is_not_a_keyhound_report() {
    let repo = TestRepo::dir();
    let sarif = "{\"version\": \"2.1.0\", \"runs\": []}";
    for (name, text) in [
        ("sarif.json", sarif),
        ("empty.json", "{}"),
        ("list.json", "[]"),
    ] {
        repo.write(name, text);
        let run = repo.keyhound(&["verify", "--from", name]);
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains("not a keyhound JSON report"),
            "{name}: {}",
            run.stderr
        );
    }
    // A real report made with --show-secrets is read (positive control; no network needed
    // for a report without findings of a checkable provider: here, none at all).
    repo.write("clean.txt", "nothing\n");
    let run = repo.keyhound(&["scan", "clean.txt", "--format", "json", "--show-secrets"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    repo.write("report.json", &run.stdout);
    let run = repo.keyhound(&["verify", "--from", "report.json", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(report(&run).version, 1);
}

/// #12: files skipped as binary, too large or ignored are named.
#[test]
fn issue_10_skipped_files_are_named() {
    let repo = TestRepo::dir();
    repo.write(".keyhoundignore", "vendor/\n");
    repo.write("vendor/lib.js", format!("k='{}'\n", openai_key(1007)));
    // Archives over the size limit are skipped (a large text or binary file is scanned in
    // windows or by its printable runs since issue 19 item 12).
    for i in 0..4 {
        let mut zip = b"PK\x03\x04".to_vec();
        zip.extend([b'z'; 2000]);
        repo.write(&format!("big{i}.zip"), zip);
    }
    repo.write("bin/b0.bin", b"\0\x01\x02 binary");
    repo.write("app.env", format!("K={}\n", openai_key(1008)));
    let run = repo.keyhound(&["scan", ".", "--format", "json", "--max-file-size", "1K"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let r = report(&run);
    assert_eq!(paths(&r), vec!["app.env"]);
    let skipped: Vec<(&str, &str)> = r
        .summary
        .skipped
        .iter()
        .map(|s| (s.path.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(
        skipped,
        vec![
            ("big0.zip", "too_large"),
            ("big1.zip", "too_large"),
            ("big2.zip", "too_large"),
            ("big3.zip", "too_large"),
            ("vendor/", "ignored"),
        ]
    );
    // The human summary names the first few and says how to list all.
    let run = repo.keyhound(&["scan", ".", "--max-file-size", "1K"]);
    assert!(
        run.stderr.contains("big0.zip, big1.zip, big2.zip, …"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--list-skipped"), "{}", run.stderr);
    let run = repo.keyhound(&["scan", ".", "--max-file-size", "1K", "--list-skipped"]);
    assert!(
        run.stderr
            .contains("keyhound: skipped: vendor/ (.keyhoundignore or allow.paths)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("keyhound: skipped: big3.zip (2004 bytes, over --max-file-size)"),
        "{}",
        run.stderr
    );
}

/// #13: `keyhound:allow` on any line of a multi-line key silences it; suppression by
/// fingerprint silences the secret wherever it occurs (as documented).
#[test]
fn issue_10_inline_allow_covers_every_line_of_a_private_key() {
    let repo = TestRepo::dir();
    repo.write(
        "end.pem",
        format!("{} # keyhound:allow (test fixture)\n", fake_pem(1)),
    );
    repo.write("plain.pem", format!("{}\n", fake_pem(2)));
    let run = repo.keyhound(&["scan", ".", "--format", "json", "--show-suppressed"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let r = report(&run);
    let shown: Vec<(&str, Option<&str>)> = r
        .findings
        .iter()
        .map(|f| (f.path.as_str(), f.suppressed.as_deref()))
        .collect();
    assert_eq!(
        shown,
        vec![("plain.pem", None), ("end.pem", Some("inline_allow"))]
    );
}

#[test]
fn issue_10_fingerprint_allow_silences_the_secret_everywhere() {
    let repo = TestRepo::dir();
    let key = openai_key(1009);
    repo.write("a.env", format!("K={key}\n"));
    repo.write("b/c.py", format!("k = '{key}'\n"));
    repo.write("other.env", format!("K={}\n", openai_key(1010)));
    let run = repo.keyhound(&["scan", ".", "--format", "json"]);
    let r = report(&run);
    let fp = run.stdout.split("\"fingerprint\": \"").nth(1).unwrap()[..32].to_string();
    assert_eq!(paths(&r), vec!["a.env", "b/c.py", "other.env"]);
    repo.write(
        ".keyhound.toml",
        format!("[allow]\nfingerprints = [\"{fp}\"]\n"),
    );
    let run = repo.keyhound(&["scan", ".", "--format", "json"]);
    let r = report(&run);
    assert_eq!(paths(&r).len(), 1, "{:?}", paths(&r));
    assert_eq!(r.summary.suppressed, 2);
}

/// #14: `rules check` accepts a whole `.keyhound.toml`.
#[test]
fn issue_10_rules_check_accepts_a_whole_config() {
    let repo = TestRepo::dir();
    let key_like = format!(
        "acme_{}",
        Rng::new(5).string(b"abcdefghijkmnpqrstuvwxyz23456789", 24)
    );
    repo.write(
        ".keyhound.toml",
        format!(
            "baseline = \".keyhound-baseline.json\"\n[allow]\npaths = [\"docs/**\"]\nrules = [\"stripe.\"]\n\n[[rule]]\nid = \"acme.token\"\nprovider = \"acme\"\nname = \"Acme token\"\nkeywords = [\"acme_\"]\npattern = '(acme_[a-z0-9]{{24}})'\nexamples = [\"TOKEN={key_like}\"]\ncounter_examples = [\"acme_short\"]\n"
        ),
    );
    let run = repo.keyhound(&["rules", "check", ".keyhound.toml"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("checked 1 rule: 0 problems"),
        "{}",
        run.stderr
    );
    // A broken example is still caught (positive control).
    repo.write(
        ".keyhound.toml",
        "[allow]\npaths = []\n[[rule]]\nid = \"acme.token\"\nprovider = \"acme\"\nname = \"Acme token\"\nkeywords = [\"acme_\"]\npattern = '(acme_[a-z0-9]{24})'\nexamples = [\"TOKEN=acme_tooshort\"]\n",
    );
    let run = repo.keyhound(&["rules", "check", ".keyhound.toml"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
}

/// #15: each subcommand lists only the flags that do something there.
#[test]
fn issue_10_subcommand_help_lists_only_flags_that_act() {
    let repo = TestRepo::dir();
    let verify = repo.keyhound(&["verify", "--help"]);
    assert!(verify.stdout.contains("--from"), "{}", verify.stdout);
    assert!(verify.stdout.contains("--fail-on"), "{}", verify.stdout);
    assert!(!verify.stdout.contains("--verify "), "{}", verify.stdout);
    assert!(
        !verify.stdout.contains("--max-file-size"),
        "{}",
        verify.stdout
    );
    let create = repo.keyhound(&["baseline", "create", "--help"]);
    assert!(
        create.stdout.contains("--max-file-size"),
        "{}",
        create.stdout
    );
    for flag in [
        "--format",
        "--output",
        "--verify",
        "--show-secrets",
        "--fail-on",
    ] {
        assert!(!create.stdout.contains(flag), "{flag}: {}", create.stdout);
    }
}

/// #20: colour follows CLICOLOR_FORCE and TERM=dumb, after NO_COLOR.
#[test]
fn issue_10_color_honours_clicolor_force_and_term_dumb() {
    let repo = TestRepo::dir();
    repo.write("app.env", format!("K={}\n", openai_key(1011)));
    let esc = "\x1b[";
    let run = keyhound_env(
        &repo,
        repo.path(),
        &["scan", "."],
        &[("CLICOLOR_FORCE", "1")],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains(esc), "CLICOLOR_FORCE=1 gave no colour");
    let run = keyhound_env(
        &repo,
        repo.path(),
        &["scan", "."],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
    );
    assert!(!run.stdout.contains(esc), "NO_COLOR lost to CLICOLOR_FORCE");
    let run = keyhound_env(
        &repo,
        repo.path(),
        &["scan", ".", "--color", "always"],
        &[("TERM", "dumb")],
    );
    assert!(run.stdout.contains(esc), "--color always lost to TERM=dumb");
    let run = keyhound_env(&repo, repo.path(), &["scan", "."], &[("TERM", "dumb")]);
    assert!(
        !run.stdout.contains(esc),
        "TERM=dumb off a terminal coloured"
    );
}

/// #22: the same bytes behave the same from a file and from standard input.
#[test]
fn issue_10_stdin_follows_the_file_rules() {
    let repo = TestRepo::dir();
    let key = openai_key(1012);
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(
        format!("OPENAI_API_KEY={key}\n")
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes()),
    );
    repo.write("w.env", &utf16);
    let file = repo.keyhound(&["scan", "w.env", "--format", "json"]);
    let stdin = repo.keyhound_with_stdin(&["scan", "-", "--format", "json"], Some(&utf16));
    assert_eq!(
        (file.code, stdin.code),
        (1, 1),
        "{}{}",
        file.stderr,
        stdin.stderr
    );
    assert_eq!(
        report(&file).findings[0].rule,
        report(&stdin).findings[0].rule
    );
    // Over --max-file-size: scanned in windows by both (issue 19 item 12; it was skipped).
    let big = format!("{}\nK={key}\n", "x".repeat(4000));
    repo.write("big.env", &big);
    let file = repo.keyhound(&[
        "scan",
        "big.env",
        "--format",
        "json",
        "--max-file-size",
        "1K",
    ]);
    let stdin = repo.keyhound_with_stdin(
        &["scan", "-", "--format", "json", "--max-file-size", "1K"],
        Some(big.as_bytes()),
    );
    assert_eq!(
        (file.code, stdin.code),
        (1, 1),
        "{}{}",
        file.stderr,
        stdin.stderr
    );
    let lines = |r: &crate::harness::Run| -> Vec<u64> {
        r.report().findings.iter().map(|f| f.line).collect()
    };
    assert_eq!(lines(&file), vec![2]);
    assert_eq!(lines(&stdin), vec![2]);
    assert!(report(&stdin).summary.skipped.is_empty());
}

/// #23: a staged blob over the size limit was skipped by the size in its header; since issue
/// 19 item 12 it is read from git in windows, and its key found.
#[test]
fn staged_scans_an_oversized_blob_in_windows() {
    let repo = TestRepo::git();
    repo.write("README.md", "hello\n");
    repo.commit("initial");
    repo.write(
        "data/big.txt",
        format!("{}\nK={}\n", "y".repeat(3 << 20), openai_key(1013)),
    );
    repo.write("small.env", format!("K={}\n", openai_key(1014)));
    repo.git_ok(&["add", "-A"]);
    let run = repo.keyhound(&["staged", "--format", "json", "--max-file-size", "1M"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let r = report(&run);
    assert_eq!(paths(&r), vec!["data/big.txt", "small.env"]);
    assert!(r.summary.skipped.is_empty());
}

/// #24: a repository's own rule whose match ends at a final newline cannot make `staged`
/// index past the lines it counted.
#[test]
fn issue_10_staged_match_ending_at_the_final_newline_does_not_panic() {
    let repo = TestRepo::git();
    repo.write(
        ".keyhound.toml",
        "[[rule]]\nid = \"acme.token\"\nprovider = \"acme\"\nname = \"Acme\"\nkeywords = [\"acme_\"]\npattern = '(acme_[a-z0-9]{24}\\n)'\nboundary = false\n",
    );
    repo.commit("config");
    let token = format!(
        "acme_{}",
        Rng::new(9).string(b"abcdefghijkmnpqrstuvwxyz23456789", 24)
    );
    repo.write("t.txt", format!("{token}\n"));
    repo.git_ok(&["add", "-A"]);
    let run = repo.keyhound(&["staged", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(report(&run).findings[0].rule, "acme.token");
}

/// Paths in `[allow] paths` are relative to the config file's folder, whatever folder or file
/// is scanned, and from wherever keyhound runs inside the work tree.
#[test]
fn issue_10_allow_paths_are_relative_to_the_config_folder() {
    let repo = TestRepo::git();
    repo.write(
        ".keyhound.toml",
        "[allow]\npaths = [\"docs/examples/**\"]\n",
    );
    repo.write("docs/examples/a.md", format!("k={}\n", openai_key(1015)));
    repo.write("docs/guide.md", format!("k={}\n", openai_key(1016)));
    let top = repo.path();
    let docs = repo.path().join("docs");
    for (dir, args) in [
        (top.to_path_buf(), vec!["scan", "."]),
        (top.to_path_buf(), vec!["scan", "docs"]),
        (
            top.to_path_buf(),
            vec!["scan", "docs/examples/a.md", "docs/guide.md"],
        ),
        (docs.clone(), vec!["scan", "."]),
    ] {
        let mut args = args.clone();
        args.extend(["--format", "json"]);
        let run = keyhound_env(&repo, &dir, &args, &[("NO_COLOR", "1")]);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        let r = report(&run);
        assert_eq!(r.findings.len(), 1, "{args:?}: {:?}", paths(&r));
        assert!(
            r.findings[0].path.ends_with("guide.md"),
            "{args:?}: {:?}",
            paths(&r)
        );
        assert!(!r.summary.incomplete);
    }
    let run = keyhound_env(
        &repo,
        &docs,
        &["scan", "examples", "--format", "json"],
        &[("NO_COLOR", "1")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let r = report(&run);
    assert_eq!(r.summary.skipped.len(), 1, "{:?}", r.summary.skipped);
    assert_eq!(r.summary.skipped[0].reason, "ignored");
}

/// #7 and the policy: `keyhound history` from a subdirectory finds the repository and applies
/// the config at the top of its work tree.
#[test]
fn issue_10_history_from_a_subdirectory_uses_the_work_tree_policy() {
    let repo = TestRepo::git();
    repo.write(".keyhound.toml", "[allow]\npaths = [\"docs/**\"]\n");
    repo.write("docs/a.md", format!("k={}\n", openai_key(1020)));
    repo.write("src/app.env", format!("K={}\n", openai_key(1021)));
    repo.commit("one");
    let run = keyhound_env(
        &repo,
        &repo.path().join("src"),
        &["history", "--format", "json"],
        &[("NO_COLOR", "1")],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let r = report(&run);
    assert_eq!(paths(&r), vec!["src/app.env"]);
    assert_eq!(r.summary.suppressed, 1);
}

/// A pull request cannot add its own key to the baseline: in `--range` the baseline is the
/// base revision's, which still silences keys it accepted.
#[test]
fn issue_10_range_uses_the_base_revisions_baseline() {
    let repo = TestRepo::git();
    let accepted = openai_key(1022);
    repo.write("fixtures/old.env", format!("K={accepted}\n"));
    repo.commit("fixture");
    let run = repo.keyhound(&["baseline", "create"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let base = repo.commit("accept the fixture");
    repo.write(
        "tests/copy.env",
        format!("# a copy, in a new blob\nK={accepted}\n"),
    );
    repo.write("app.env", format!("K={}\n", openai_key(1023)));
    // The pull request also rewrites the baseline to accept its new key.
    let run = repo.keyhound(&["baseline", "create"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let head = repo.commit("pr");
    let range = format!("{base}..{head}");
    let run = repo.keyhound(&["history", "--range", &range, "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let r = report(&run);
    assert_eq!(paths(&r), vec!["app.env"], "{}", run.stderr);
    assert_eq!(
        r.summary.suppressed, 1,
        "the base's baseline accepts the old key"
    );
    assert!(
        run.stderr
            .contains("the range changes .keyhound-baseline.json"),
        "{}",
        run.stderr
    );
}
