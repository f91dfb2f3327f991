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

/// A text of `len` bytes of numbered lines, then `KEY=<key>` starting at byte `at` (`at + 4`
/// for the key itself), then more lines up to `total` bytes: (text, line, column of the key).
fn text_with_key_at(at: usize, key: &str, total: usize) -> (String, u64, u64) {
    let mut text = String::with_capacity(total + key.len());
    let mut i = 0;
    while text.len() < at {
        text.push_str(&format!("log line {i:08}\n"));
        i += 1;
    }
    text.truncate(at);
    let line = text.matches('\n').count() as u64 + 1;
    let column = (at - text.rfind('\n').map_or(0, |n| n + 1)) as u64 + 5;
    text.push_str(&format!("KEY={key}\n"));
    while text.len() < total {
        text.push_str(&format!("more line {i:08}\n"));
        i += 1;
    }
    (text, line, column)
}

#[test]
fn files_over_the_size_limit_are_scanned_in_windows() {
    // issue 19 item 12: a 27 MB log over --max-file-size passed the hook. Windows of 300K
    // (the limit) overlap by 64K: the first window owns bytes before 300K - 64K = 241664.
    let repo = TestRepo::dir();
    let (key_end, key_edge) = (openai_key(1920), openai_key(1921));
    let (near_end, end_line, end_col) = text_with_key_at(990_000, &key_end, 1_000_000);
    let (edge, edge_line, edge_col) = text_with_key_at(241_664 - 60, &key_edge, 700_000);
    repo.write("near_end.log", &near_end);
    repo.write("edge.log", &edge);
    let args = ["scan", ".", "--max-file-size", "300K", "--format", "json"];
    let run = repo.keyhound(&args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut found = findings(&run);
    found.sort();
    let want = vec![
        (OPENAI_RULE.into(), "edge.log".into(), edge_line, edge_col),
        (OPENAI_RULE.into(), "near_end.log".into(), end_line, end_col),
    ];
    assert_eq!(found, want, "{}", run.stderr);
    assert_eq!(
        run.json()["summary"]["skipped"],
        serde_json::json!([]),
        "{}",
        run.stdout
    );
    // Standard input the same way, found once.
    let args = ["scan", "-", "--max-file-size", "300K", "--format", "json"];
    let stdin = repo.keyhound_with_stdin(&args, Some(edge.as_bytes()));
    let want = vec![(OPENAI_RULE.into(), "-".into(), edge_line, edge_col)];
    assert_eq!(findings(&stdin), want, "{}", stdin.stderr);
}

#[test]
fn binary_files_are_scanned_by_their_printable_runs() {
    // issue 19 item 12: a binary file holding a key passed with exit 0.
    let repo = TestRepo::dir();
    let key = openai_key(1922);
    let mut bin = b"\x7fELF\x02\x01\x01\0\0\0".to_vec();
    bin.extend([0u8, 1, 2, 3, 0xff, 0xfe].repeat(50));
    bin.extend_from_slice(format!("api_key={key}").as_bytes());
    bin.extend([0u8, 0x90, 0x91].repeat(30));
    repo.write("app.bin", &bin);
    // Noise of the same kind holds nothing: short runs are not scanned as text.
    let mut noise = b"\0\0\0".to_vec();
    noise.extend(b"ab\0cd\x01sk-\0T3Bl\0".repeat(40));
    repo.write("noise.bin", &noise);
    let run = repo.keyhound(&["scan", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // Line 1 (the bytes hold no line break), column: the key's byte offset + 1.
    let at = bin.windows(8).position(|w| w == b"sk-proj-").unwrap() as u64;
    assert_eq!(
        findings(&run),
        vec![(OPENAI_RULE.into(), "app.bin".into(), 1, at + 1)]
    );
    assert!(!run.stdout.contains(&key), "the key leaked");
    // A real sqlite database, made by python3's sqlite3 module.
    let Some(python) = crate::harness::require_tool("python3", "KEYHOUND_PYTHON") else {
        return;
    };
    let db = TestRepo::dir();
    let script = "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\n\
        c.execute('create table creds(name text, value text)')\n\
        c.execute('insert into creds values (?, ?)', ('openai', sys.argv[2]))\n\
        c.commit()\n";
    let key = openai_key(1923);
    let made = std::process::Command::new(python)
        .args(["-c", script])
        .arg(db.path().join("app.db"))
        .arg(&key)
        .status()
        .unwrap();
    assert!(made.success());
    let run = db.keyhound(&["scan", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let found = findings(&run);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1.as_str()),
        (OPENAI_RULE, "app.db")
    );
}

#[test]
fn findings_are_capped_per_secret_and_per_file_and_the_rest_counted() {
    // issue 19 item 11: a 1.9 MB zip gave 565k findings and 894 MB of memory. At most 100
    // occurrences of one secret and 10000 findings of one file are listed; the rest counted.
    let repo = TestRepo::dir();
    let key = openai_key(1924);
    repo.write("same.env", format!("K={key}\n").repeat(130));
    let many: String = (0..10_020)
        .map(|i| format!("K={}\n", crate::harness::google_key(20_000 + i)))
        .collect();
    repo.write("many.env", &many);
    repo.write("control.env", control_line(1925));
    let run = repo.keyhound(&["scan", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let count = |path: &str| findings(&run).iter().filter(|f| f.1 == path).count();
    assert_eq!(
        (count("same.env"), count("many.env"), count("control.env")),
        (100, 10_000, 1)
    );
    let more: Vec<(String, u64)> = run.json()["summary"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["reason"] == "not_listed")
        .map(|s| {
            (
                s["path"].as_str().unwrap().to_string(),
                s["more"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        more,
        vec![("many.env".to_string(), 20), ("same.env".to_string(), 30)]
    );
    assert!(
        run.stderr.contains("same.env: 30 more findings not listed"),
        "{}",
        run.stderr
    );
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
    // issue 19 item 18: nor a link named on the command line (`keyhound scan $(git ls-files)`
    // with a committed link to ~/.aws/credentials), which is named in a note.
    let run = repo.keyhound(&[
        "scan",
        "link.txt",
        "linkdir",
        "control.env",
        "--format",
        "json",
    ]);
    assert_eq!(findings(&run), control("control.env"), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("link.txt: a symbolic link, not followed"),
        "{}",
        run.stderr
    );
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

#[test]
fn allow_paths_resolve_dot_dot_in_named_paths() {
    // issue 19 item 18: `[allow] paths` matched `docs/examples/../../secrets.env` as a path
    // under `docs/examples/`, hiding a key at the top; `src/../ok.env` dodged `/ok.env`.
    let repo = TestRepo::dir();
    repo.write(
        ".keyhound.toml",
        "[allow]\npaths = [\"docs/examples/**\", \"/ok.env\"]\n",
    );
    repo.write("docs/examples/sample.env", control_line(1926));
    repo.write("secrets.env", control_line(1927));
    repo.write("ok.env", control_line(1928));
    std::fs::create_dir_all(repo.path().join("src")).unwrap();
    let run = repo.keyhound(&[
        "scan",
        "docs/examples/../../secrets.env",
        "src/../ok.env",
        "docs/examples/sample.env",
        "--format",
        "json",
    ]);
    let paths: Vec<String> = findings(&run).into_iter().map(|f| f.1).collect();
    assert_eq!(
        paths,
        vec!["docs/examples/../../secrets.env"],
        "{}",
        run.stderr
    );
    assert_eq!(run.code, 1);
}

#[cfg(unix)]
#[test]
fn stdin_that_does_not_end_stops_at_the_limit() {
    // issue 19 item 18: `yes | keyhound scan -` read forever. Standard input is read to 16
    // windows of --max-file-size (256 KiB at least): 4 MiB here, then a warning and exit 2.
    let repo = TestRepo::dir();
    let args = ["scan", "-", "--max-file-size", "1K", "--format", "json"];
    let out = std::process::Command::new(crate::harness::bin())
        .args(args)
        .current_dir(repo.path())
        .env_clear()
        .env("HOME", repo.path())
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("standard input stopped after 4194304 bytes"),
        "{stderr}"
    );
    // Positive control: input under the limit, a key at its end, is read whole.
    let mut input = "y\n".repeat(1 << 20);
    input.push_str(&control_line(1932));
    let run = repo.keyhound_with_stdin(&args, Some(input.as_bytes()));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        findings(&run),
        vec![(OPENAI_RULE.into(), "-".into(), (1 << 20) + 1, 16)]
    );
}
