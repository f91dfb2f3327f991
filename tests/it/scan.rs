//! `keyhound scan`: working trees, standard input, formats, exit codes, and the precision and
//! boundary cases of issue 2.
use crate::harness::{
    control_line, google_key, openai_key, FindingJson, Report, TestRepo, OPENAI_RULE,
};

/// The findings of a JSON report as (rule, path, line, column).
fn findings(run: &crate::harness::Run) -> Vec<(String, String, u64, u64)> {
    run.findings()
}

/// The one finding a positive control at line 1 of `path` gives.
fn control(path: &str) -> Vec<(String, String, u64, u64)> {
    vec![(OPENAI_RULE.into(), path.into(), 1, 16)]
}

#[test]
fn scan_reports_a_key_with_path_line_and_column() {
    let repo = TestRepo::dir();
    let key = openai_key(1);
    repo.write(
        "src/app.py",
        format!("import os\nclient = OpenAI(api_key=\"{key}\")\n"),
    );
    let run = repo.keyhound(&["scan", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        findings(&run),
        vec![("openai.project-key".into(), "src/app.py".into(), 2, 26)]
    );
    let report = run.report();
    let f = &report.findings[0];
    assert_eq!(f.provider, "openai");
    assert!(f.redacted.starts_with("sk-proj-"));
    assert!(f.secret.is_none());
    assert!(!run.stdout.contains(&key), "secret leaked into the report");
    assert!(!run.stderr.contains(&key), "secret leaked into stderr");
}

#[test]
fn clean_tree_exits_zero() {
    let repo = TestRepo::dir();
    repo.write(
        "README.md",
        "Set OPENAI_API_KEY=sk-your-key-here before running.\n",
    );
    let run = repo.keyhound(&["scan"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("0 findings"), "{}", run.stderr);
    // Positive control: the same tree with one real-shaped key gives exactly that finding.
    repo.write("control.env", control_line(19));
    let run = repo.keyhound(&["scan", "--format", "json"]);
    assert_eq!(findings(&run), control("control.env"), "{}", run.stderr);
}

#[test]
fn issue_2_key_boundaries_in_every_context() {
    let key = openai_key(2);
    let ending_dash = format!("{}-", &key[..key.len() - 1]);
    let ending_underscore = format!("{}_", &key[..key.len() - 1]);
    // (content, expected column of the key on line 1)
    let cases: Vec<(String, u64)> = vec![
        (key.clone(), 1),
        (format!("{key}\n"), 1),
        (format!("{key}\r\n"), 1),
        (format!("k = \"{key}\"\n"), 6),
        (format!("k = '{key}'\n"), 6),
        (format!("run `{key}` now\n"), 6),
        (format!("<key>{key}</key>\n"), 6),
        (
            format!("{{\"cfg\": \"{{\\\"key\\\": \\\"{key}\\\"}}\"}}\n"),
            22,
        ),
        (format!("\"a\\n{key}\"\n"), 5),
        (format!("Authorization: Bearer {key}\n"), 23),
        (format!("OPENAI_API_KEY={key}\n"), 16),
        (format!("export KEY={ending_dash}\n"), 12),
        (format!("KEY={ending_underscore} # trailing\n"), 5),
        (format!("url?key={key}&x=1\n"), 9),
    ];
    let repo = TestRepo::dir();
    for (i, (content, column)) in cases.iter().enumerate() {
        repo.write(&format!("case{i:02}.txt"), content);
        let run = repo.keyhound(&["scan", &format!("case{i:02}.txt"), "--format", "json"]);
        assert_eq!(run.code, 1, "case {i} {content:?}: {}", run.stderr);
        let got = findings(&run);
        assert_eq!(got.len(), 1, "case {i} {content:?}: {got:?}");
        assert_eq!(got[0].0, "openai.project-key", "case {i}");
        assert_eq!((got[0].2, got[0].3), (1, *column), "case {i} {content:?}");
    }
}

#[test]
fn issue_2_key_glued_to_more_token_characters_is_not_reported() {
    let key = openai_key(3);
    let repo = TestRepo::dir();
    // The last line is the positive control: the same key, on its own.
    repo.write("a.txt", format!("{key}Q\nx{key}\n{key}-more\n{key}\n"));
    let run = repo.keyhound(&["scan", "--format", "json"]);
    assert_eq!(
        findings(&run),
        vec![(OPENAI_RULE.into(), "a.txt".into(), 4, 1)],
        "{}",
        run.stdout
    );
}

#[test]
fn issue_2_placeholders_hashes_and_words_are_not_reported() {
    let repo = TestRepo::dir();
    repo.write(
        "docs.md",
        concat!(
            "OPENAI_API_KEY=sk-your-secret-key-here\n",
            "OPENAI_API_KEY=sk-...\n",
            "OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
            "OPENAI_API_KEY=<your-key>\n",
            "OPENAI_API_KEY=REPLACE_ME\n",
            "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
            "The task-force reviewed the risk-register and the disk-usage.\n",
            "id: 123e4567-e89b-12d3-a456-426614174000\n",
            "sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n",
            "<script integrity=\"sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC\"></script>\n",
            "commit 5d41402abc4b2a76b9719d911017c592ae1b2c3d\n",
        )
        .to_string()
            + &control_line(20),
    );
    // Only the positive control on the last line is found.
    let run = repo.keyhound(&["scan", "--format", "json"]);
    assert_eq!(
        findings(&run),
        vec![(OPENAI_RULE.into(), "docs.md".into(), 13, 16)],
        "{}",
        run.stdout
    );
}

#[test]
fn issue_2_inline_allow_marker_suppresses_its_line_only() {
    let repo = TestRepo::dir();
    let (a, b) = (openai_key(4), openai_key(5));
    repo.write(
        "conf.py",
        format!("A = \"{a}\"  # keyhound:allow test fixture\nB = \"{b}\"\n"),
    );
    let run = repo.keyhound(&["scan", "--format", "json"]);
    assert_eq!(
        findings(&run),
        vec![("openai.project-key".into(), "conf.py".into(), 2, 6)]
    );
}

#[test]
fn issue_2_keys_inside_base64_are_found_at_the_encoded_text() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let key = openai_key(6);
    let repo = TestRepo::dir();
    repo.write(
        "k8s/secret.yaml",
        format!(
            "apiVersion: v1\nkind: Secret\ndata:\n  OPENAI_API_KEY: {}\n",
            b64(&key)
        ),
    );
    repo.write(
        "curl.sh",
        format!(
            "curl -H 'Authorization: Basic {}' https://x\n",
            b64(&format!("user:{key}"))
        ),
    );
    repo.write(
        ".dockerconfigjson",
        format!(
            "{{\"auths\":{{\"r.io\":{{\"auth\":\"{}\"}}}}}}",
            b64(&format!("{{\"token\":\"{key}\"}}"))
        ),
    );
    let run = repo.keyhound(&["scan", "--format", "json"]);
    let mut got = findings(&run);
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "openai.project-key".into(),
                ".dockerconfigjson".into(),
                1,
                27
            ),
            ("openai.project-key".into(), "curl.sh".into(), 1, 31),
            ("openai.project-key".into(), "k8s/secret.yaml".into(), 4, 19),
        ],
        "{}",
        run.stdout
    );
    for f in run.report().findings {
        assert_eq!(f.encoding.as_deref(), Some("base64"), "{f:?}");
    }
    assert!(
        !run.stdout.contains(&b64(&key)[..40]),
        "encoded secret leaked"
    );
}

#[test]
fn walk_respects_ignore_files_and_scans_hidden_files() {
    let repo = TestRepo::git();
    repo.write(".gitignore", "build/\n");
    repo.write(".keyhoundignore", "vendor/\n");
    repo.write("build/out.txt", openai_key(7));
    repo.write("vendor/lib.txt", openai_key(8));
    repo.write(".env", format!("OPENAI_API_KEY={}\n", openai_key(9)));
    let run = repo.keyhound(&["scan", "--format", "json"]);
    let paths: Vec<String> = findings(&run).into_iter().map(|f| f.1).collect();
    assert_eq!(paths, vec![".env"]);
    let run = repo.keyhound(&["scan", "--no-ignore", "--format", "json"]);
    let mut paths: Vec<String> = findings(&run).into_iter().map(|f| f.1).collect();
    paths.sort();
    assert_eq!(paths, vec![".env", "build/out.txt", "vendor/lib.txt"]);
}

#[test]
fn walk_skips_binary_and_large_files_with_a_note() {
    let repo = TestRepo::dir();
    let key = openai_key(10);
    let mut bin = b"\x7fELF\0\0\0".to_vec();
    bin.extend_from_slice(key.as_bytes());
    repo.write("app.bin", &bin);
    repo.write("big.txt", format!("{}\n{key}\n", "a".repeat(2000)));
    repo.write("control.env", control_line(21));
    let run = repo.keyhound(&["scan", "--max-file-size", "1K", "--format", "json"]);
    assert_eq!(findings(&run), control("control.env"), "{}", run.stdout);
    assert!(run.stderr.contains("big.txt: skipped"), "{}", run.stderr);
    let run = repo.keyhound(&["scan", "--binary", "--format", "json"]);
    let mut paths: Vec<String> = findings(&run).into_iter().map(|f| f.1).collect();
    paths.sort();
    assert_eq!(paths, vec!["app.bin", "big.txt", "control.env"]);
}

#[cfg(unix)]
#[test]
fn walk_never_follows_symlinks_out_of_the_root() {
    let outside = TestRepo::dir();
    outside.write("secret.txt", openai_key(11));
    let repo = TestRepo::dir();
    repo.write("ok.txt", "nothing here\n");
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        repo.path().join("link.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), repo.path().join("linkdir")).unwrap();
    repo.write("control.env", control_line(22));
    let run = repo.keyhound(&["scan", "--format", "json"]);
    assert_eq!(findings(&run), control("control.env"), "{}", run.stdout);
}

#[test]
fn invalid_utf8_and_long_minified_lines_are_scanned() {
    let repo = TestRepo::dir();
    let key = openai_key(12);
    let mut bytes = vec![0xff, 0xfe, 0x80, b' '];
    bytes.extend_from_slice(key.as_bytes());
    bytes.extend_from_slice(b" \xc3\x28\n");
    repo.write("latin.txt", &bytes);
    let mut minified = "var a=1;".repeat(1_000_000);
    minified.push_str(&format!("var k=\"{}\";", openai_key(13)));
    minified.push_str(&"sk-a;".repeat(100_000));
    repo.write("app.min.js", minified);
    let run = repo.keyhound(&["scan", "--format", "json"]);
    let mut got = findings(&run);
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "openai.project-key".into(),
                "app.min.js".into(),
                1,
                8_000_008
            ),
            ("openai.project-key".into(), "latin.txt".into(), 1, 5),
        ]
    );
}

#[test]
fn stdin_is_scanned_as_dash() {
    let repo = TestRepo::dir();
    let input = format!("key = \"{}\"\n", openai_key(14));
    let run = repo.keyhound_with_stdin(&["scan", "-", "--format", "jsonl"], Some(input.as_bytes()));
    assert_eq!(run.code, 1, "{}", run.stderr);
    let line: FindingJson = serde_json::from_str(run.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(line.path, "-");
    assert_eq!(line.source, "stdin");
}

#[test]
fn output_file_gets_the_report_and_show_secrets_prints_the_secret() {
    let repo = TestRepo::dir();
    let key = openai_key(15);
    repo.write("a.env", format!("K={key}\n"));
    let run = repo.keyhound(&["scan", "a.env", "--format", "json", "--output", "r.json"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    let report: Report =
        serde_json::from_slice(&std::fs::read(repo.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(report.version, 1);
    assert_eq!(report.summary.findings, 1);
    let run = repo.keyhound(&["scan", "a.env", "--format", "json", "--show-secrets"]);
    assert_eq!(
        run.report().findings[0].secret.as_deref(),
        Some(key.as_str())
    );
}

#[test]
fn fingerprint_is_stable_across_positions() {
    let repo = TestRepo::dir();
    let key = openai_key(16);
    repo.write("a.txt", format!("K={key}\n"));
    repo.write("b.txt", format!("\n\n   other = \"{key}\"\n"));
    let run = repo.keyhound(&["scan", "--format", "json"]);
    let fs = run.report().findings;
    assert_eq!(fs.len(), 2);
    assert!(!fs[0].fingerprint.is_empty());
    assert_eq!(fs[0].fingerprint, fs[1].fingerprint);
}

#[test]
fn errors_exit_two_with_a_clear_message() {
    let repo = TestRepo::dir();
    let run = repo.keyhound(&["scan", "no/such/dir"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no/such/dir"), "{}", run.stderr);
    let run = repo.keyhound(&["scan", "--format", "yaml"]);
    assert_eq!(run.code, 2);
    repo.write(
        ".keyhound.toml",
        "[allow]\npaths = [\"a\"]\nrulez = [\"b\"]\n",
    );
    let run = repo.keyhound(&["scan"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(".keyhound.toml:3:") && run.stderr.contains("rulez"),
        "{}",
        run.stderr
    );
}

#[test]
fn config_adds_rules_and_allow_lists() {
    let repo = TestRepo::dir();
    repo.write(
        ".keyhound.toml",
        concat!(
            "[allow]\n",
            "paths = [\"docs/**\"]\n",
            "\n",
            "[[rule]]\n",
            "id = \"acme.token\"\n",
            "provider = \"acme\"\n",
            "name = \"Acme internal token\"\n",
            "keywords = [\"acme_\"]\n",
            "pattern = '(acme_[a-z0-9]{24})'\n",
            "min_entropy = 3.0\n",
            "remediation = \"Rotate it in the Acme console.\"\n",
        ),
    );
    repo.write("src/a.txt", "token = acme_q8w7e6r5t4y3u2i1o9p8a7s6\n");
    repo.write("docs/b.txt", format!("K={}\n", openai_key(17)));
    let run = repo.keyhound(&["scan", "--format", "json"]);
    assert_eq!(
        findings(&run),
        vec![("acme.token".into(), "src/a.txt".into(), 1, 9)]
    );
    repo.write(
        ".keyhound.toml",
        "[allow]\nrules = [\"openai.project-key\"]\n",
    );
    // Positive control: a key of another rule is still found; only the allowed rule is off.
    repo.write("src/google.txt", format!("key = {}\n", google_key(23)));
    let run = repo.keyhound(&["scan", "--format", "json"]);
    assert_eq!(
        findings(&run),
        vec![("google.api-key".into(), "src/google.txt".into(), 1, 7)],
        "{}",
        run.stdout
    );
}

#[test]
fn utf16_file_with_a_bom_is_decoded_and_scanned() {
    let repo = TestRepo::dir();
    let text = format!("$env:OPENAI_API_KEY = \"{}\"\r\n", openai_key(18));
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
    repo.write("setup.ps1", &bytes);
    let run = repo.keyhound(&["scan", "--format", "json"]);
    assert_eq!(
        findings(&run),
        vec![("openai.project-key".into(), "setup.ps1".into(), 1, 24)]
    );
}

#[test]
fn keyhound_finds_nothing_in_its_own_repository() {
    let root = env!("CARGO_MANIFEST_DIR");
    // Positive control: the same scan also covers a file with a key, and finds only that. It
    // runs at the repository's top, as a user would: its .keyhoundignore is the policy there.
    let control_dir = TestRepo::dir();
    control_dir.write("control.env", control_line(24));
    let control_file = control_dir.path().join("control.env");
    let run = control_dir.keyhound_in(
        std::path::Path::new(root),
        &[
            "scan",
            ".",
            control_file.to_str().unwrap(),
            "--format",
            "json",
        ],
        None,
    );
    let found = run.report().findings;
    assert_eq!(
        found.len(),
        1,
        "dogfood scan found something:\n{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(found[0].path.ends_with("control.env"), "{:?}", found[0]);
}

/// Issue 19 item 5: `keyhound scan . | head -1` in bash with `set -o pipefail`, as GitHub
/// Actions runs a step: the reader closes the pipe after one line, and the pipeline must still
/// fail (findings: 1, or the status of SIGPIPE), never pass. The report (a few hundred KB) is
/// larger than a pipe holds, so keyhound is still writing when `head` exits.
#[test]
fn findings_fail_a_pipefail_pipeline_whose_reader_closes_early() {
    let repo = TestRepo::dir();
    let keys: String = (0..2000)
        .map(|i| crate::harness::control_line(19_500 + i))
        .collect();
    repo.write("keys.env", keys);
    let bin = crate::harness::bin();
    for format in ["human", "json"] {
        let script = format!(
            "set -o pipefail; '{}' scan . --format {format} | head -1 >/dev/null",
            bin.display()
        );
        let out = std::process::Command::new("bash")
            .args(["-c", &script])
            .current_dir(repo.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("bash");
        let code = out.status.code();
        assert!(
            code == Some(1) || code == Some(141),
            "{format}: findings piped into `head -1` gave {code:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A clean run through the same pipeline passes (the control: bash and pipefail work).
    repo.write("keys.env", "OPENAI_API_KEY=${OPENAI_API_KEY}\n");
    let script = format!(
        "set -o pipefail; '{}' scan . | head -1 >/dev/null",
        bin.display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .current_dir(repo.path())
        .output()
        .expect("bash");
    assert_eq!(out.status.code(), Some(0));
}

/// Issue 19 item 5: a command with no scan outcome (`keyhound rules`) whose reader closes
/// early ends as a closed pipe ends `cat`: status 141 in bash, not 0.
#[test]
fn a_closed_pipe_never_exits_zero() {
    let repo = TestRepo::dir();
    // The reader (`true`, a bash builtin) has exited before keyhound starts writing.
    let script = format!(
        "set -o pipefail; (sleep 1; exec '{}' rules) | true",
        crate::harness::bin().display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .current_dir(repo.path())
        .output()
        .expect("bash");
    assert_eq!(
        out.status.code(),
        Some(141),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
