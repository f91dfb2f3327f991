//! `keyhound history` (issue 3): real repositories built with the git CLI, one per case; each
//! test asserts the finding, its path and the id of the commit that introduced it.
use crate::harness::{openai_key, Run, TestRepo};

/// (path, commit id) of each finding.
fn found(run: &Run) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = run.json()["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings array: {}", run.stdout))
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["commit"]["id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn history(repo: &TestRepo, extra: &[&str]) -> Run {
    let mut args = vec!["history", ".", "--format", "json"];
    args.extend_from_slice(extra);
    repo.keyhound(&args)
}

#[test]
fn issue_3_key_added_then_removed_is_reported_with_its_commit() {
    let repo = TestRepo::git();
    repo.write("app.py", format!("KEY = \"{}\"\n", openai_key(60)));
    let added = repo.commit("add key");
    repo.write("app.py", "KEY = os.environ['KEY']\n");
    repo.commit("remove key");
    let run = history(&repo, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(found(&run), vec![("app.py".into(), added)]);
    let f = &run.json()["findings"][0];
    assert_eq!(f["commit"]["author"], "Ada Lovelace");
    assert_eq!(f["commit"]["email"], "ada@example.com");
    assert_eq!(f["commit"]["summary"], "add key");
    let secrets = &run.json()["summary"]["secrets"];
    assert_eq!(secrets[0]["present_at_tip"], false);
}

#[test]
fn issue_3_key_in_a_deleted_file_and_in_a_renamed_file() {
    let repo = TestRepo::git();
    repo.write("old/config.env", format!("K={}\n", openai_key(61)));
    repo.write("keep.env", format!("K={}\n", openai_key(62)));
    let added = repo.commit("add both");
    repo.remove("old/config.env");
    repo.git_ok(&["mv", "keep.env", "renamed.env"]);
    repo.commit("delete one, rename the other");
    let run = history(&repo, &[]);
    // The renamed file's key is attributed to the commit and path that introduced it.
    assert_eq!(
        found(&run),
        vec![
            ("keep.env".into(), added.clone()),
            ("old/config.env".into(), added)
        ]
    );
    let secrets = run.json()["summary"]["secrets"].as_array().unwrap().clone();
    assert_eq!(secrets.len(), 2);
    assert_eq!(
        secrets[0]["present_at_tip"], true,
        "still-present secrets come first"
    );
    assert_eq!(secrets[1]["present_at_tip"], false);
}

#[test]
fn issue_3_side_branch_and_tag_only_keys() {
    let repo = TestRepo::git();
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    repo.git_ok(&["checkout", "-q", "-b", "feature"]);
    repo.write("feature.py", format!("K = '{}'\n", openai_key(63)));
    let on_branch = repo.commit("feature work");
    repo.git_ok(&["checkout", "-q", "main"]);
    repo.git_ok(&["checkout", "-q", "--detach"]);
    repo.write("release.txt", format!("{}\n", openai_key(64)));
    let tagged = repo.commit("release build");
    repo.git_ok(&["tag", "v1.0"]);
    repo.git_ok(&["checkout", "-q", "main"]);
    let run = history(&repo, &[]);
    assert_eq!(
        found(&run),
        vec![
            ("feature.py".into(), on_branch),
            ("release.txt".into(), tagged)
        ]
    );
}

#[test]
fn issue_3_key_only_in_a_merge_resolution() {
    let repo = TestRepo::git();
    repo.write("conf.py", "VALUE = 1\n");
    repo.commit("initial");
    repo.git_ok(&["checkout", "-q", "-b", "other"]);
    repo.write("conf.py", "VALUE = 2\n");
    repo.commit("other side");
    repo.git_ok(&["checkout", "-q", "main"]);
    repo.write("conf.py", "VALUE = 3\n");
    repo.commit("main side");
    let conflict = repo.git_run(&["merge", "-q", "other"]);
    assert_ne!(conflict.code, 0, "the merge should conflict");
    repo.write(
        "conf.py",
        format!("VALUE = 4\nKEY = \"{}\"\n", openai_key(65)),
    );
    let merge = repo.commit("merge other");
    let parents = repo.git_ok(&["rev-list", "--parents", "-n", "1", "HEAD"]);
    assert_eq!(parents.split_whitespace().count(), 3, "HEAD is a merge");
    let run = history(&repo, &[]);
    assert_eq!(found(&run), vec![("conf.py".into(), merge)]);
}

#[test]
fn issue_3_range_reports_only_what_the_range_adds() {
    let repo = TestRepo::git();
    repo.write("base.env", format!("K={}\n", openai_key(66)));
    let base = repo.commit("base has a key");
    repo.git_ok(&["checkout", "-q", "-b", "pr"]);
    repo.write("base.env", format!("K={}\nX=1\n", openai_key(66)));
    repo.write("new.env", format!("K={}\n", openai_key(67)));
    let pr = repo.commit("pr adds a key");
    let range = format!("{base}..{pr}");
    let run = history(&repo, &["--range", &range]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(found(&run), vec![("new.env".into(), pr)]);
    let run = history(&repo, &["--range", "main..nonexistent"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--range"), "{}", run.stderr);
}

#[test]
fn issue_3_same_secret_in_many_commits_is_grouped() {
    let repo = TestRepo::git();
    let key = openai_key(68);
    repo.write("a.env", format!("K={key}\n"));
    let first = repo.commit("one");
    repo.write("a.env", format!("K={key}\nX=1\n"));
    repo.commit("two");
    repo.write("a.env", format!("K={key}\nX=2\n"));
    repo.commit("three");
    let run = history(&repo, &[]);
    assert_eq!(found(&run), vec![("a.env".into(), first)]);
    let run = history(&repo, &["--all-occurrences"]);
    assert_eq!(found(&run).len(), 3);
}

#[test]
fn issue_3_unreachable_blobs_are_scanned_on_request() {
    let repo = TestRepo::git();
    repo.write("README.md", "hi\n");
    repo.commit("initial");
    repo.write("leak.env", format!("K={}\n", openai_key(69)));
    repo.commit("oops");
    repo.git_ok(&["reset", "-q", "--hard", "HEAD~1"]);
    repo.git_ok(&["reflog", "expire", "--expire=now", "--all"]);
    let run = history(&repo, &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let run = history(&repo, &["--unreachable"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.json()["findings"][0]["source"], "unreachable");
}

#[test]
fn issue_3_since_skips_older_commits() {
    let repo = TestRepo::git();
    repo.write("a.env", format!("K={}\n", openai_key(70)));
    repo.commit("old");
    let run = history(&repo, &["--since", "2100-01-01"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    // Issue 12 item 4: what git reads, keyhound reads ("last tuesday" is after this commit);
    // what neither reads is an error.
    let run = history(&repo, &["--since", "last tuesday"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = history(&repo, &["--since", "soonish"]);
    assert_eq!(run.code, 2);
}

#[test]
fn issue_3_not_a_repository_and_shallow_clone() {
    let dir = TestRepo::dir();
    let run = dir.keyhound(&["history", "."]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not a git repository"),
        "{}",
        run.stderr
    );

    let repo = TestRepo::git();
    repo.write("a.env", format!("K={}\n", openai_key(71)));
    repo.commit("one");
    repo.write("b.txt", "b\n");
    repo.commit("two");
    let clone = TestRepo::dir();
    let url = format!("file://{}", repo.path().display());
    let out = clone.git_run(&["clone", "-q", "--depth", "1", &url, "shallow"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let run = clone.keyhound(&["history", "shallow", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("shallow clone"), "{}", run.stderr);
}

/// Issue 10 #6: a corrupt object is a warning, the rest is scanned and reported, and the scan is
/// incomplete: the JSON says so and the exit status is 2, as for every source.
#[test]
fn issue_3_corrupt_object_is_a_warning_not_a_crash() {
    let repo = TestRepo::git();
    repo.write("a.env", format!("K={}\n", openai_key(72)));
    repo.write("b.txt", "fine\n");
    repo.commit("one");
    let blob = repo.git_ok(&["rev-parse", "HEAD:b.txt"]);
    let obj = repo
        .path()
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    let mut perms = std::fs::metadata(&obj).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&obj, perms).unwrap();
    std::fs::write(&obj, b"not a zlib stream").unwrap();
    let run = history(&repo, &[]);
    assert_eq!(run.code, 2, "an incomplete scan exits 2: {}", run.stderr);
    assert!(run.stderr.contains("cannot be read"), "{}", run.stderr);
    assert!(run.stderr.contains("incomplete scan"), "{}", run.stderr);
    assert_eq!(run.json()["summary"]["incomplete"], true);
    assert_eq!(
        found(&run).len(),
        1,
        "the rest is still scanned and reported"
    );
}

#[test]
fn issue_7_a_pull_request_cannot_allow_list_its_own_key() {
    let repo = TestRepo::git();
    repo.write("README.md", "hi\n");
    let base = repo.commit("base");
    repo.git_ok(&["checkout", "-q", "-b", "pr"]);
    repo.write(
        ".keyhound.toml",
        "[allow]\npaths = [\"secrets/**\"]\nrules = [\"openai.\"]\n",
    );
    repo.write(".keyhoundignore", "secrets/\n");
    repo.write("secrets/prod.env", format!("K={}\n", openai_key(73)));
    let pr = repo.commit("pr sneaks a key past the scanner");
    let range = format!("{base}..{pr}");
    let run = history(&repo, &["--range", &range]);
    assert_eq!(
        run.code, 1,
        "the PR's own config silenced the scan: {}",
        run.stderr
    );
    assert_eq!(found(&run), vec![("secrets/prod.env".into(), pr)]);
    assert!(
        run.stderr
            .contains("notice: the range changes .keyhound.toml"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("notice: the range changes .keyhoundignore"),
        "{}",
        run.stderr
    );
    // An explicit --config is the operator's choice and is honoured.
    repo.write("tmp-config.toml", "[allow]\nrules = [\"openai.\"]\n");
    let run = history(&repo, &["--range", &range, "--config", "tmp-config.toml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn a_huge_blob_in_history_is_scanned_in_windows() {
    let repo = TestRepo::git();
    // Zeros compress to almost nothing in git, yet inflate 8 times past the limit: the blob is
    // scanned in windows of --max-file-size (issue 19 item 12; it was skipped), and the key at
    // its end is found, in memory bounded by one window.
    let mut big = vec![0u8; 8 << 20];
    big.extend_from_slice(format!("\nK={}\n", openai_key(75)).as_bytes());
    repo.write("big.bin", &big);
    repo.write("a.env", format!("K={}\n", openai_key(74)));
    repo.commit("big blob and a key");
    let run = history(&repo, &["--max-file-size", "1M"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stderr.contains("big.bin (blob"), "{}", run.stderr);
    assert_eq!(found(&run).len(), 2, "{}", run.stdout);
}

#[test]
fn issue_7_inline_allow_added_in_a_range_is_listed() {
    let repo = TestRepo::git();
    repo.write("README.md", "hi\n");
    let base = repo.commit("base");
    repo.write(
        "fixture.py",
        format!("KEY = \"{}\"  # keyhound:allow\n", openai_key(75)),
    );
    let head = repo.commit("allow-listed key");
    let run = history(&repo, &["--range", &format!("{base}..{head}")]);
    assert_eq!(run.code, 0, "inline allow still works: {}", run.stdout);
    assert!(
        run.stderr.contains(
            "notice: keyhound:allow in the range silences fixture.py:1 openai.project-key"
        ),
        "{}",
        run.stderr
    );
}

/// Run the binary in `dir` with the harness's clean environment plus `env`.
fn keyhound_in(
    repo: &TestRepo,
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &std::path::Path)],
) -> Run {
    let mut cmd = std::process::Command::new(crate::harness::bin());
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", repo.home.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1");
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

// https://github.com/keyhound/keyhound/issues/10 (#7 there): `keyhound history` in a
// subdirectory said "not a git repository".
#[test]
fn issue_10_history_from_a_subdirectory_finds_the_repository() {
    let repo = TestRepo::git();
    repo.write("src/deep/app.py", format!("KEY = \"{}\"\n", openai_key(80)));
    let added = repo.commit("add key");
    let deep = repo.path().join("src/deep");
    let expected = vec![("src/deep/app.py".to_string(), added.clone())];

    // The default path `.` from the subdirectory, and the subdirectory given as the path.
    let run = keyhound_in(&repo, &deep, &["history", "--format", "json"], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(found(&run), expected);
    let run = history(&repo, &[]);
    assert_eq!(found(&run), expected);
    let run = repo.keyhound(&["history", "src/deep", "--format", "json"]);
    assert_eq!(found(&run), expected);

    // A bare repository, and GIT_DIR naming the repository from an unrelated directory.
    let elsewhere = TestRepo::dir();
    let out = elsewhere.git_run(&[
        "clone",
        "-q",
        "--bare",
        &repo.path().display().to_string(),
        "bare.git",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let run = keyhound_in(
        &repo,
        elsewhere.path(),
        &["history", "bare.git", "--format", "json"],
        &[],
    );
    assert_eq!(found(&run), expected, "{}", run.stderr);
    let git_dir = repo.path().join(".git");
    let run = keyhound_in(
        &repo,
        elsewhere.path(),
        &["history", "--format", "json"],
        &[("GIT_DIR", &git_dir)],
    );
    assert_eq!(found(&run), expected, "{}", run.stderr);

    // Outside any repository it is still an error that says what to give.
    let run = keyhound_in(&repo, elsewhere.path(), &["history"], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not a git repository"),
        "{}",
        run.stderr
    );
}

// https://github.com/keyhound/keyhound/issues/10 (#17 there): `--since` reads dates, date-times
// with a zone and ages, and still attributes each key to the commit that introduced it. Commits
// here are one minute apart from 2023-11-14T22:14:20Z; the date below falls between the second
// and the third.
#[test]
fn issue_10_since_accepts_dates_times_and_ages_and_attributes_exactly() {
    let repo = TestRepo::git();
    repo.write("old.env", format!("K={}\n", openai_key(81)));
    repo.write("shared.env", format!("K={}\n", openai_key(83)));
    repo.write("deep/dir/inner.env", format!("K={}\n", openai_key(84)));
    let first = repo.commit("old keys");
    repo.remove("shared.env");
    repo.commit("remove one");
    // After the date: a new key, and an old file back with the same content. That blob was in a
    // commit before the date, though not in the last one: it is known, not new.
    repo.write("new.env", format!("K={}\n", openai_key(82)));
    repo.write("shared.env", format!("K={}\n", openai_key(83)));
    // A known blob at a new path is new only when every occurrence is asked for.
    repo.write("deep/copy/inner.env", format!("K={}\n", openai_key(84)));
    let third = repo.commit("new key, old file back, old blob copied");

    let after = vec![("new.env".to_string(), third.clone())];
    for since in [
        "2023-11-14T22:15:50Z",
        "2023-11-14T23:15:50+01:00",
        "2023-11-14T17:15:50-05:00",
    ] {
        let run = history(&repo, &["--since", since]);
        assert_eq!(run.code, 1, "{since}: {}", run.stderr);
        assert_eq!(found(&run), after, "--since {since}");
    }
    let run = history(
        &repo,
        &["--since", "2023-11-14T22:15:50Z", "--all-occurrences"],
    );
    let mut copied = after.clone();
    copied.insert(0, ("deep/copy/inner.env".to_string(), third.clone()));
    assert_eq!(found(&run), copied, "--all-occurrences");
    let everything = vec![
        ("deep/dir/inner.env".to_string(), first.clone()),
        ("new.env".to_string(), third),
        ("old.env".to_string(), first.clone()),
        ("shared.env".to_string(), first),
    ];
    for since in ["2023-11-14", "100y", "1000 years ago"] {
        assert_eq!(
            found(&history(&repo, &["--since", since])),
            everything,
            "--since {since}"
        );
    }
    // These commits are more than 90 days older than any clock this test runs under.
    for since in ["90d", "2w", "6m", "6 months", "1y", "3 days ago"] {
        let run = history(&repo, &["--since", since]);
        assert_eq!(run.code, 0, "--since {since}: {}", run.stdout);
    }
    // Without a zone, git reads local time (UTC here: the tests set no TZ) (issue 12 item 4).
    let run = history(&repo, &["--since", "2023-11-14T22:15:50"]);
    assert_eq!(found(&run), after, "{}", run.stderr);
    // A day that does not exist is refused, although git would read it as something else.
    let run = history(&repo, &["--since", "2023-02-29T10:00:00"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not a date; use YYYY-MM-DD"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("\"3 days ago\""), "{}", run.stderr);
}

/// One row of the audit summary in the JSON report.
#[derive(serde::Deserialize, Debug)]
struct SecretRow {
    redacted: String,
    first_commit: String,
    first_date: String,
    exposed_days: i64,
    present_at_tip: bool,
    paths: Vec<String>,
}

fn secrets(run: &Run) -> Vec<SecretRow> {
    serde_json::from_value(run.json()["summary"]["secrets"].clone())
        .unwrap_or_else(|e| panic!("summary.secrets: {e}: {}", run.stdout))
}

// https://github.com/keyhound/keyhound/issues/10 (#18 there): a range audit dated a key from the
// range commit that copied it, though the base's history had it long before.
#[test]
fn issue_10_range_audit_does_not_misdate_keys_older_than_the_base() {
    let repo = TestRepo::git();
    let (removed, kept, new) = (openai_key(90), openai_key(91), openai_key(92));
    repo.write("old/removed.env", format!("K={removed}\n"));
    let first = repo.commit("a key, later removed");
    repo.remove("old/removed.env");
    repo.write("kept.env", format!("K={kept}\n"));
    let second = repo.commit("remove it, add another that stays");
    repo.git_ok(&["checkout", "-q", "-b", "pr"]);
    // The pull request copies both old keys to new files and adds one of its own.
    repo.write("copy/a.env", format!("A={removed}\n"));
    repo.write("copy/b.env", format!("B={kept}\n"));
    repo.write("new.env", format!("N={new}\n"));
    let pr = repo.commit("copy old keys, add a new one");
    let run = history(&repo, &["--range", &format!("{second}..{pr}")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // The findings are still what the range adds, each attributed to the range commit.
    assert_eq!(
        found(&run),
        vec![
            ("copy/a.env".into(), pr.clone()),
            ("copy/b.env".into(), pr.clone()),
            ("new.env".into(), pr.clone())
        ]
    );
    let rows = secrets(&run);
    assert_eq!(rows.len(), 3, "{rows:?}");
    let row = |key: &str| {
        let head = &key[..8];
        rows.iter()
            .find(|r| {
                r.redacted.starts_with(head) && key.ends_with(&r.redacted[r.redacted.len() - 4..])
            })
            .unwrap_or_else(|| panic!("no row for a key: {rows:?}"))
    };
    let old = row(&removed);
    assert_eq!(
        old.first_commit, first,
        "dated from its first commit, before the base"
    );
    // The harness dates commits a minute apart from 1_700_000_000.
    assert_eq!(old.first_date, "2023-11-14T22:14:20+00:00");
    assert_eq!(old.paths, vec!["copy/a.env", "old/removed.env"]);
    let still = row(&kept);
    assert_eq!(still.first_commit, second);
    assert_eq!(still.paths, vec!["copy/b.env", "kept.env"]);
    assert!(still.present_at_tip);
    let fresh = row(&new);
    assert_eq!(
        fresh.first_commit, pr,
        "a key new in the range is dated from it"
    );
    assert_eq!(fresh.paths, vec!["new.env"]);
    assert!(old.exposed_days >= fresh.exposed_days);
}

/// Issue 12: a history audit passes over the chunks of text earlier versions of a file already
/// had (`CleanChunks`). A key put into the middle of a long file, on a line of its own or into
/// a line the file had for many versions, is still found, each with the commit that put it
/// there, and so is a key put back into a version identical to an older clean one but for it.
#[test]
fn issue_12_keys_edited_into_long_files_with_many_versions() {
    let repo = TestRepo::git();
    let body: Vec<String> = (0..400)
        .map(|i| {
            format!(
                "    value_{i} = compute({i}, {})  # line {i}",
                i * 7919 % 1000
            )
        })
        .collect();
    let text = |lines: &[String]| lines.join("\n") + "\n";
    let mut lines = body.clone();
    repo.write("big.py", text(&lines));
    repo.commit("start");
    for v in 0..6 {
        lines[50 + 40 * v] = format!("    changed_{v} = 1");
        repo.write("big.py", text(&lines));
        repo.commit(&format!("edit {v}"));
    }
    // A key on a new line in the middle, then removed.
    let key_a = openai_key(1201);
    let mut with_a = lines.clone();
    with_a.insert(200, format!("    OPENAI_API_KEY = \"{key_a}\""));
    repo.write("big.py", text(&with_a));
    let added_a = repo.commit("key a");
    repo.write("big.py", text(&lines));
    repo.commit("remove a");
    // A key edited into a line every version had.
    let key_b = openai_key(1202);
    let mut with_b = lines.clone();
    with_b[301] = format!("{}  # token = \"{key_b}\"", lines[301]);
    repo.write("big.py", text(&with_b));
    let added_b = repo.commit("key b");
    let run = history(&repo, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut got: Vec<(String, String, u64)> = run
        .report()
        .findings
        .iter()
        .map(|f| {
            (
                f.path.clone(),
                f.commit.as_ref().unwrap().id.clone(),
                f.line,
            )
        })
        .collect();
    got.sort();
    let mut want = vec![
        ("big.py".to_string(), added_a, 201),
        ("big.py".to_string(), added_b, 302),
    ];
    want.sort();
    assert_eq!(got, want);
}

/// Issue 12: blobs are read through libgit2; `KEYHOUND_HISTORY_READER=git` reads them with
/// `git cat-file` instead (for benchmarks). Both give the same report, a file over the size
/// limit and a deleted key included.
#[test]
fn issue_12_both_blob_readers_give_the_same_report() {
    let repo = TestRepo::git();
    repo.write("a.env", format!("OPENAI_API_KEY={}\n", openai_key(1210)));
    repo.write("big.txt", "x".repeat(3000));
    repo.commit("one");
    repo.write("a.env", "OPENAI_API_KEY=\n");
    repo.write("b.py", format!("key = \"{}\"\n", openai_key(1211)));
    repo.commit("two");
    let args = ["history", ".", "--format", "json", "--max-file-size", "2K"];
    let libgit2 = repo.keyhound(&args);
    let git = repo.keyhound_env(
        repo.path(),
        &args,
        None,
        &[("KEYHOUND_HISTORY_READER", "git")],
    );
    assert_eq!(libgit2.code, 1, "{}", libgit2.stderr);
    assert_eq!(git.code, 1, "{}", git.stderr);
    assert_eq!(found(&libgit2).len(), 2);
    assert_eq!(found(&git), found(&libgit2));
    let skipped = |run: &Run| run.json()["summary"]["skipped"].to_string();
    // A blob over the size limit is scanned in windows, not skipped (issue 19 item 12).
    assert!(
        !skipped(&libgit2).contains("big.txt"),
        "{}",
        skipped(&libgit2)
    );
    assert_eq!(skipped(&git), skipped(&libgit2));
}

/// Write a commit object by hand (`git hash-object --literally`: git itself refuses a damaged
/// one) and return its id.
fn raw_commit(repo: &TestRepo, text: &str) -> String {
    let file = repo.home.path().join("commit.raw");
    std::fs::write(&file, text).unwrap();
    let file = file.to_str().unwrap();
    repo.git_ok(&["hash-object", "-t", "commit", "--literally", "-w", file])
}

// issue 19 item 9: one commit with a malformed header (an author date that is no number) made
// the whole walk fail: 0 findings while the tip held a key. The damaged commit is skipped and
// counted, its parents and children are still scanned, and the run is incomplete (exit 2).
#[test]
fn a_damaged_commit_is_skipped_and_the_rest_of_the_history_is_scanned() {
    let repo = TestRepo::git();
    repo.write("old.env", format!("K={}\n", openai_key(190)));
    let first = repo.commit("first, with a key");
    let tree = repo.git_ok(&["rev-parse", "HEAD^{tree}"]);
    let damaged = raw_commit(
        &repo,
        &format!(
            "tree {tree}\nparent {first}\nauthor A <a@example.com> notatime +0000\ncommitter A <a@example.com> 1700000000 +0000\n\ndamaged\n"
        ),
    );
    repo.write("tip.env", format!("K={}\n", openai_key(191)));
    repo.git_ok(&["add", "-A"]);
    let tip_tree = repo.git_ok(&["write-tree"]);
    let tip = raw_commit(
        &repo,
        &format!(
            "tree {tip_tree}\nparent {damaged}\nauthor A <a@example.com> 1700000100 +0000\ncommitter A <a@example.com> 1700000100 +0000\n\ntip\n"
        ),
    );
    // A second damaged commit named by a ref of its own. git refuses to point a ref at either,
    // so the refs are written as files.
    let lone = raw_commit(
        &repo,
        &format!("tree {tree}\nauthor A <a@example.com> 1700000000 +0000\ncommitter bad\n\nlone\n"),
    );
    // A third one behind an annotated tag.
    let tagged = raw_commit(
        &repo,
        &format!("tree {tree}\nauthor A <a@example.com> 1700000000 +0000\ncommitter\n\ntagged\n"),
    );
    let file = repo.home.path().join("tag.raw");
    std::fs::write(
        &file,
        format!(
            "object {tagged}\ntype commit\ntag t\ntagger A <a@example.com> 1700000000 +0000\n\nt\n"
        ),
    )
    .unwrap();
    let tag = repo.git_ok(&[
        "hash-object",
        "-t",
        "tag",
        "--literally",
        "-w",
        file.to_str().unwrap(),
    ]);
    repo.write(".git/refs/heads/main", format!("{tip}\n"));
    repo.write(".git/refs/heads/broken", format!("{lone}\n"));
    repo.write(".git/refs/tags/t", format!("{tag}\n"));
    let run = history(&repo, &[]);
    assert_eq!(run.code, 2, "the scan is incomplete: {}", run.stderr);
    assert_eq!(
        found(&run),
        vec![("old.env".into(), first.clone()), ("tip.env".into(), tip)],
        "{}",
        run.stderr
    );
    for id in [&damaged, &lone, &tagged] {
        assert!(
            run.stderr
                .contains(&format!("commit {id} is damaged and was skipped")),
            "{}",
            run.stderr
        );
    }
    let report = run.report();
    let c = &report.summary.coverage[0];
    assert_eq!((c.commits_skipped, c.incomplete), (3, true), "{c:?}");
    assert!(report.summary.incomplete);
    // Positive control: the same history without the damaged commits is complete.
    repo.write(".git/refs/heads/main", format!("{first}\n"));
    std::fs::remove_file(repo.path().join(".git/refs/heads/broken")).unwrap();
    std::fs::remove_file(repo.path().join(".git/refs/tags/t")).unwrap();
    let run = history(&repo, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.report().summary.coverage[0].commits_skipped, 0);
}

// issue 19 item 16: `--range ..HEAD` (an unset `$BASE`) and a reversed `v2..v1` scanned
// nothing and exited 0, so a misconfigured CI job stayed green. Both are refused (exit 2) with
// what to give instead; a range whose ends are one commit (a push that adds nothing) is a
// warning and exit 0; the right order of the same range reports the key.
#[test]
fn an_empty_or_reversed_range_is_refused() {
    let repo = TestRepo::git();
    repo.write("README.md", "hi\n");
    repo.commit("one");
    repo.git_ok(&["tag", "v1"]);
    repo.write("app.env", format!("K={}\n", openai_key(192)));
    repo.commit("two adds a key");
    repo.git_ok(&["tag", "v2"]);

    let run = history(&repo, &["--range", "..HEAD"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--range ..HEAD: the base revision is empty"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "no report for a refused run");

    let run = history(&repo, &["--range", "v2..v1"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("v1 is an ancestor of v2, so the range holds no commit")
            && run.stderr.contains("--range v1..v2"),
        "{}",
        run.stderr
    );

    let run = history(&repo, &["--range", "v2..v2"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("--range v2..v2 is empty"),
        "{}",
        run.stderr
    );

    // Positive control: the range in the right order reports the key.
    let run = history(&repo, &["--range", "v1..v2"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(found(&run).len(), 1);
}

// issue 19 item 16: a shallow clone (GitHub Actions' default `fetch-depth: 1`) lacks the base
// of the range; the error says so and how to fetch it, for GitHub Actions and GitLab CI.
#[test]
fn a_shallow_clone_without_the_base_says_how_to_fetch_it() {
    let repo = TestRepo::git();
    repo.write("README.md", "hi\n");
    let base = repo.commit("base");
    repo.write("app.env", format!("K={}\n", openai_key(193)));
    repo.commit("head adds a key");
    let clone = TestRepo::dir();
    let url = format!("file://{}", repo.path().display());
    let out = clone.git_run(&["clone", "-q", "--depth", "1", &url, "shallow"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let shallow = clone.path().join("shallow");
    let range = format!("{base}..HEAD");
    let args = ["history", ".", "--format", "json", "--range", &range];
    let run = clone.keyhound_in(&shallow, &args, None);
    assert_eq!(run.code, 2, "{}", run.stderr);
    for expected in [
        &format!("this is a shallow clone, without {base}"),
        "`fetch-depth: 0`",
        "`GIT_DEPTH: 0`",
    ] {
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }
    // Positive control: once the history is fetched, the same command reports the key.
    let out = clone.git_run(&["-C", "shallow", "fetch", "-q", "--unshallow"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let run = clone.keyhound_in(&shallow, &args, None);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(found(&run).len(), 1);
}

// issue 19 item 2: CI jobs name the repository's own files (`--config .keyhound.toml`, as
// action.yml's `args` example; `--rules-from .gitleaks.toml`, as README advises gitleaks
// users). In `--range` mode those were read from the pull request's work tree, so the pull
// request could allow-list its own key by editing them. They are read as the base revision has
// them; a file the range adds is not used; each is named in a notice. A file outside the
// repository is the CI job's own and is honoured (the positive control).
#[test]
fn a_pull_request_cannot_silence_its_key_through_files_named_on_the_command_line() {
    let repo = TestRepo::git();
    repo.write("ci/keyhound.toml", "[allow]\npaths = [\"docs/**\"]\n");
    repo.write(
        "ci/gitleaks.toml",
        "[[rules]]\nid = \"acme-api-token\"\nregex = '''\\b(acme_[a-z0-9]{32})\\b'''\nkeywords = [\"acme_\"]\n",
    );
    let base = repo.commit("base: the CI job's config and rules");
    repo.git_ok(&["checkout", "-q", "-b", "pr"]);
    repo.write(
        "ci/keyhound.toml",
        "[allow]\npaths = [\"docs/**\", \"secrets.env\"]\nrules = [\"openai.\"]\n",
    );
    repo.write(
        "ci/gitleaks.toml",
        "[[rules]]\nid = \"acme-api-token\"\nregex = '''\\b(acme_[a-z0-9]{32})\\b'''\nkeywords = [\"acme_\"]\n\n[[allowlists]]\npaths = ['''secrets\\.env''']\n",
    );
    repo.write("ci/new.toml", "[allow]\nrules = [\"openai.\"]\n");
    repo.write("secrets.env", format!("K={}\n", openai_key(194)));
    let pr = repo.commit("pr adds a key and allow-lists it");
    let range = format!("{base}..{pr}");
    let reported = vec![("secrets.env".to_string(), pr.clone())];
    for (flags, notice) in [
        (
            vec!["--config", "ci/keyhound.toml"],
            "notice: the range changes ci/keyhound.toml; the version of the base revision is used",
        ),
        (
            vec!["--rules-from", "ci/gitleaks.toml"],
            "notice: the range changes ci/gitleaks.toml; the version of the base revision is used",
        ),
        (
            vec!["--config", "ci/new.toml"],
            "notice: the range changes ci/new.toml (adds it); the base revision has none, so it is not used",
        ),
    ] {
        let mut args = vec!["--range", &range];
        args.extend(&flags);
        let run = history(&repo, &args);
        assert_eq!(run.code, 1, "{flags:?} silenced the key: {}", run.stderr);
        assert_eq!(found(&run), reported, "{flags:?}");
        assert!(run.stderr.contains(notice), "{flags:?}: {}", run.stderr);
    }
    // Both at once, named by absolute paths from another directory.
    let config = repo.path().join("ci/keyhound.toml");
    let rules = repo.path().join("ci/gitleaks.toml");
    let run = repo.keyhound_in(
        repo.home.path(),
        &[
            "history",
            repo.path().to_str().unwrap(),
            "--format",
            "json",
            "--range",
            &range,
            "--config",
            config.to_str().unwrap(),
            "--rules-from",
            rules.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(found(&run), reported);
    // Positive control: the same allow-listing in files outside the repository (the CI job's
    // own) is honoured.
    let outside = TestRepo::dir();
    outside.write("keyhound.toml", "[allow]\nrules = [\"openai.\"]\n");
    outside.write(
        "gitleaks.toml",
        "[[allowlists]]\npaths = ['''secrets\\.env''']\n",
    );
    for flag in ["--config", "--rules-from"] {
        let file = outside.path().join(if flag == "--config" {
            "keyhound.toml"
        } else {
            "gitleaks.toml"
        });
        let run = history(&repo, &["--range", &range, flag, file.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{flag}: {}", run.stderr);
    }
    // A pull request that turns the named file into a symbolic link to an allow-all file
    // outside the repository: the path as named is read at the base all the same.
    repo.git_ok(&["checkout", "-q", "-b", "pr2", &base]);
    repo.remove("ci/keyhound.toml");
    std::os::unix::fs::symlink(
        outside.path().join("keyhound.toml"),
        repo.path().join("ci/keyhound.toml"),
    )
    .unwrap();
    repo.write("secrets.env", format!("K={}\n", openai_key(194)));
    let pr2 = repo.commit("pr2 links the config away");
    let range = format!("{base}..{pr2}");
    let run = history(&repo, &["--range", &range, "--config", "ci/keyhound.toml"]);
    assert_eq!(run.code, 1, "the link silenced the key: {}", run.stderr);
    assert_eq!(found(&run), vec![("secrets.env".to_string(), pr2)]);
}
