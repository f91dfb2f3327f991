//! `keyhound history A B C` and `--repos-from FILE` (issue 12, item 3): each blob is read once
//! across the repositories of a run, a finding is attributed in every repository that reaches
//! its blob, and the JSON summary has a coverage record per repository (one for a single
//! repository too), which says what is missing and which repository could not be audited.
//! Also `--since` with the date forms git reads (item 4).
use std::process::Command;

use crate::harness::{openai_key, CoverageJson, LocationJson, Report, Run, TestRepo};

fn name(repo: &TestRepo) -> String {
    repo.path()
        .to_str()
        .expect("temp paths are UTF-8")
        .to_string()
}

/// `keyhound history` of these repositories (and `extra`), JSON with secrets shown.
fn history(repos: &[&TestRepo], extra: &[&str]) -> Run {
    let names: Vec<String> = repos.iter().map(|r| name(r)).collect();
    let mut args = vec!["history"];
    args.extend(names.iter().map(String::as_str));
    args.extend(["--format", "json", "--show-secrets"]);
    args.extend_from_slice(extra);
    repos[0].keyhound(&args)
}

/// (repository, path, secret, commit) of each finding.
fn found(report: &Report) -> Vec<(Option<String>, String, String, String)> {
    let mut all: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.repository.clone(),
                f.path.clone(),
                f.secret.clone().expect("audited with --show-secrets"),
                f.commit
                    .as_ref()
                    .expect("a history finding has its commit")
                    .id
                    .clone(),
            )
        })
        .collect();
    all.sort();
    all
}

fn coverage<'a>(report: &'a Report, repo: &TestRepo) -> &'a CoverageJson {
    let name = name(repo);
    report
        .summary
        .coverage
        .iter()
        .find(|c| c.repository == name)
        .unwrap_or_else(|| panic!("no coverage record for {name}: {:?}", report.summary))
}

/// The blobs in a repository's object database (what a full audit of it reads).
fn blob_count(repo: &TestRepo) -> u64 {
    let out = repo.git_ok(&[
        "cat-file",
        "--batch-all-objects",
        "--batch-check=%(objecttype)",
    ]);
    out.lines().filter(|l| *l == "blob").count() as u64
}

/// An upstream repository with a key and some other files in two commits, and a fork of it
/// (`git clone`) with one more commit that adds a key of its own.
fn upstream_and_fork(shared_key: &str, fork_key: &str) -> (TestRepo, TestRepo, String, String) {
    let up = TestRepo::git();
    up.write("config/a.env", format!("K={shared_key}\n"));
    for i in 0..5 {
        up.write(&format!("src/f{i}.txt"), format!("file {i}\n"));
    }
    let first = up.commit("first");
    up.write("src/f0.txt", "changed\n");
    up.commit("second");
    let fork = TestRepo::dir();
    fork.git_ok(&["clone", "-q", &name(&up), "."]);
    fork.write("b.env", format!("K={fork_key}\n"));
    let forked = fork.commit("fork's own key");
    (up, fork, first, forked)
}

#[test]
fn issue_12_a_fork_reads_shared_blobs_once_and_both_report_the_shared_key() {
    let (shared_key, fork_key) = (openai_key(1201), openai_key(1202));
    let (up, fork, first, forked) = upstream_and_fork(&shared_key, &fork_key);

    let run = history(&[&up, &fork], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let r = run.report();
    let (u, f) = (Some(name(&up)), Some(name(&fork)));
    let mut want = vec![
        (
            u.clone(),
            "config/a.env".into(),
            shared_key.clone(),
            first.clone(),
        ),
        (f.clone(), "config/a.env".into(), shared_key.clone(), first),
        (f.clone(), "b.env".into(), fork_key.clone(), forked),
    ];
    want.sort();
    assert_eq!(
        found(&r),
        want,
        "the shared key in both, the fork's own only in the fork"
    );

    // Each blob read once: upstream's blobs for upstream, the fork's one new blob for the fork.
    let (cu, cf) = (coverage(&r, &up), coverage(&r, &fork));
    let up_blobs = blob_count(&up);
    assert_eq!(up_blobs, 7, "a.env, five files, f0 changed");
    assert_eq!(
        (cu.blobs, cu.blobs_scanned, cu.blobs_shared),
        (up_blobs, up_blobs, 0)
    );
    assert_eq!(
        (cf.blobs, cf.blobs_scanned, cf.blobs_shared),
        (up_blobs + 1, 1, up_blobs),
        "{cf:?}"
    );
    assert_eq!(r.summary.files, up_blobs + 1, "no blob is read twice");
    assert_eq!((cu.commits, cf.commits), (2, 3));
    assert!(cu.refs >= 1 && cf.refs >= 2, "{cu:?} {cf:?}");
    for c in [cu, cf] {
        assert!(
            !c.incomplete && c.error.is_none() && c.objects_missing == 0,
            "{c:?}"
        );
    }
    // One summary entry per secret, naming every repository that has it.
    let mut repos: Vec<(Vec<String>, Vec<String>)> = r
        .summary
        .secrets
        .iter()
        .map(|s| (s.repositories.clone(), s.paths.clone()))
        .collect();
    repos.sort();
    let mut want = vec![
        (
            vec![name(&up), name(&fork)],
            vec!["config/a.env".to_string()],
        ),
        (vec![name(&fork)], vec!["b.env".to_string()]),
    ];
    want.sort();
    assert_eq!(repos, want, "{:?}", r.summary.secrets);

    // Control: the fork alone reads every blob it has, and one repository sets no repository
    // on its findings (the coverage record names it).
    let run = history(&[&fork], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let r = run.report();
    assert_eq!(r.summary.coverage.len(), 1);
    let cf = coverage(&r, &fork);
    assert_eq!((cf.blobs_scanned, cf.blobs_shared), (up_blobs + 1, 0));
    assert_eq!(r.findings.len(), 2);
    assert!(r.findings.iter().all(|f| f.repository.is_none()));
}

/// One summary entry per secret, with each repository's location of it: a fork that deleted
/// the file no longer has it at a tip, the repository it was forked from still has.
#[test]
fn issue_12_the_summary_lists_each_location_of_a_secret() {
    let (up, fork, first, _) = upstream_and_fork(&openai_key(1218), &openai_key(1219));
    fork.remove("config/a.env");
    fork.commit("the fork drops the key file");
    // As a fork on a server has it: no remote-tracking branch still pointing at upstream's tip
    // (those count as branch tips).
    fork.git_ok(&["remote", "remove", "origin"]);
    let run = history(&[&up, &fork], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let r = run.report();
    let shared = r
        .summary
        .secrets
        .iter()
        .find(|s| s.paths == ["config/a.env"])
        .expect("the shared secret has a summary");
    assert!(shared.present_at_tip, "still at upstream's tip");
    let mut want = [
        LocationJson {
            repository: name(&up),
            path: "config/a.env".into(),
            first_commit: first.clone(),
            present_at_tip: true,
        },
        LocationJson {
            repository: name(&fork),
            path: "config/a.env".into(),
            first_commit: first,
            present_at_tip: false,
        },
    ];
    want.sort();
    let mut got: Vec<&LocationJson> = shared.locations.iter().collect();
    got.sort();
    assert_eq!(got, want.iter().collect::<Vec<_>>());
    // Control: one repository writes no locations (its paths say it all).
    let run = history(&[&up], &[]);
    assert!(run
        .report()
        .summary
        .secrets
        .iter()
        .all(|s| s.locations.is_empty()));
}

#[test]
fn issue_12_the_repository_shows_in_every_format() {
    let (up, fork, _, _) = upstream_and_fork(&openai_key(1203), &openai_key(1204));
    let args = |format: &str| {
        let mut a = vec!["history".to_string(), name(&up), name(&fork)];
        a.extend(["--format".into(), format.into()]);
        a
    };
    let run_in = |format: &str| {
        let a = args(format);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        up.keyhound(&a)
    };
    let human = run_in("human");
    assert_eq!(human.code, 1, "{}", human.stderr);
    assert!(
        human
            .stdout
            .contains(&format!("  repo:    {}\n", name(&fork))),
        "{}",
        human.stdout
    );
    assert!(human.stderr.contains("coverage:"), "{}", human.stderr);
    let jsonl = run_in("jsonl");
    let repos: Vec<String> = jsonl
        .stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["repository"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    assert_eq!(
        repos,
        [name(&up), name(&fork), name(&fork)],
        "in the order given"
    );
    let sarif: serde_json::Value = serde_json::from_str(&run_in("sarif").stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["properties"]["repository"], name(&up));
    assert_eq!(results[2]["properties"]["repository"], name(&fork));
}

#[test]
fn issue_12_an_unreadable_repository_is_reported_and_the_others_still_run() {
    let (up, fork, _, _) = upstream_and_fork(&openai_key(1205), &openai_key(1206));
    let not_a_repo = TestRepo::dir();
    not_a_repo.write("readme.txt", "no git here\n");

    let run = history(&[&up, &not_a_repo, &fork], &[]);
    assert_eq!(run.code, 2, "an incomplete audit exits 2: {}", run.stderr);
    assert!(
        run.stderr.contains("not a git repository"),
        "{}",
        run.stderr
    );
    let r = run.report();
    assert!(r.summary.incomplete);
    assert_eq!(r.summary.coverage.len(), 3);
    let bad = coverage(&r, &not_a_repo);
    assert!(bad.incomplete, "{bad:?}");
    assert!(
        bad.error
            .as_deref()
            .is_some_and(|e| e.contains("not a git repository")),
        "{bad:?}"
    );
    assert_eq!(bad.commits, 0);
    for good in [&up, &fork] {
        let c = coverage(&r, good);
        assert!(c.error.is_none() && !c.incomplete, "{c:?}");
    }
    assert_eq!(r.findings.len(), 3, "the others' findings are reported");

    // Control: the good ones alone are complete.
    let run = history(&[&up, &fork], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.report().summary.incomplete);

    // Alone, it is one error line and no report (issue 19 item 26: not a coverage table).
    let run = history(&[&not_a_repo], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.starts_with("keyhound: error: ") && run.stderr.trim_end().lines().count() == 1,
        "{}",
        run.stderr
    );
}

#[test]
fn issue_12_a_missing_object_is_counted_and_makes_the_record_incomplete() {
    let repo = TestRepo::git();
    repo.write("a.env", format!("K={}\n", openai_key(1207)));
    repo.write("b.txt", "will go missing\n");
    repo.commit("one");

    // Control: nothing missing.
    let run = history(&[&repo], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let r = run.report();
    let c = coverage(&r, &repo);
    assert_eq!((c.objects_missing, c.incomplete), (0, false), "{c:?}");
    assert_eq!((c.blobs, c.blobs_scanned), (2, 2));

    let blob = repo.git_ok(&["rev-parse", "HEAD:b.txt"]);
    let obj = repo
        .path()
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    std::fs::remove_file(&obj).unwrap();
    let run = history(&[&repo], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("cannot be read"), "{}", run.stderr);
    let r = run.report();
    let c = coverage(&r, &repo);
    assert_eq!(c.objects_missing, 1, "{c:?}");
    assert!(c.incomplete && c.error.is_none(), "{c:?}");
    assert_eq!((c.blobs, c.blobs_scanned), (2, 1), "{c:?}");
    assert_eq!(
        r.findings.len(),
        1,
        "the rest is still scanned and reported"
    );

    // A shallow clone names parents it does not have: counted, the record is incomplete (the
    // warning says so; the exit status stays that of the findings, as before this record).
    let src = TestRepo::git();
    src.write("a.env", format!("K={}\n", openai_key(1208)));
    src.commit("one");
    src.write("b.txt", "b\n");
    src.commit("two");
    let shallow = TestRepo::dir();
    let url = format!("file://{}", name(&src));
    shallow.git_ok(&["clone", "-q", "--depth", "1", &url, "."]);
    let run = history(&[&shallow], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let r = run.report();
    let c = coverage(&r, &shallow);
    assert_eq!((c.objects_missing, c.incomplete), (1, true), "{c:?}");
    let full = coverage(&history(&[&src], &[]).report(), &src).objects_missing;
    assert_eq!(full, 0, "control: the full repository misses nothing");
}

/// The in-pack object count of a repository.
fn in_pack(repo: &TestRepo) -> String {
    let out = repo.git_ok(&["count-objects", "-v"]);
    out.lines()
        .find(|l| l.starts_with("in-pack:"))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn issue_12_a_partial_clone_is_not_fetched_from_during_an_audit() {
    let version = TestRepo::dir().git_ok(&["version"]);
    let version: Vec<u32> = version
        .trim_start_matches("git version ")
        .split('.')
        .take(2)
        .map(|n| n.parse().unwrap_or(0))
        .collect();
    let up = TestRepo::git();
    up.write("a.env", format!("K={}\n", openai_key(1217)));
    up.write("b.txt", "b\n");
    up.commit("one");
    up.git_ok(&["config", "uploadpack.allowFilter", "true"]);
    let partial = TestRepo::dir();
    let url = format!("file://{}", name(&up));
    partial.git_ok(&[
        "clone",
        "-q",
        "--filter=blob:none",
        "--no-checkout",
        &url,
        ".",
    ]);
    let before = in_pack(&partial);
    if version < vec![2, 44] {
        // Older git has no GIT_NO_LAZY_FETCH: it fetches what the audit reads, which is then
        // complete.
        let run = history(&[&partial], &[]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert_eq!(coverage(&run.report(), &partial).objects_missing, 0);
        return;
    }

    let run = history(&[&partial], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("partial clone: 2 blobs"),
        "{}",
        run.stderr
    );
    let r = run.report();
    let c = coverage(&r, &partial);
    assert_eq!(
        (c.objects_missing, c.incomplete, c.blobs_scanned),
        (2, true, 0),
        "{c:?}"
    );
    assert_eq!(in_pack(&partial), before, "nothing was fetched");
    // Control: once fetched, the same clone is complete and its key found.
    partial.git_ok(&[
        "fetch",
        "-q",
        "--refetch",
        "--filter=blob:limit=1g",
        "origin",
    ]);
    let run = history(&[&partial], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(coverage(&run.report(), &partial).objects_missing, 0);
}

#[test]
fn issue_12_repos_from_reads_a_list_with_comments() {
    let (up, fork, _, _) = upstream_and_fork(&openai_key(1209), &openai_key(1210));
    let other = TestRepo::git();
    other.write("c.env", format!("K={}\n", openai_key(1211)));
    other.commit("other");
    let lists = TestRepo::dir();
    let list = lists.path().join("repos.txt");
    std::fs::write(
        &list,
        format!(
            "# the organisation's repositories\n\n{}\n  # a fork\n  {}  \n\n",
            name(&up),
            name(&fork)
        ),
    )
    .unwrap();
    let list = list.to_str().unwrap();
    let run = other.keyhound(&[
        "history",
        &name(&other),
        "--repos-from",
        list,
        "--format",
        "json",
        "--show-secrets",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let r = run.report();
    let order: Vec<&str> = r
        .summary
        .coverage
        .iter()
        .map(|c| c.repository.as_str())
        .collect();
    assert_eq!(order, [name(&other), name(&up), name(&fork)]);
    assert_eq!(r.findings.len(), 4, "{:?}", found(&r));

    // A list that cannot be read, or lists nothing: a clear error, exit 2.
    let run = other.keyhound(&["history", "--repos-from", "no-such-list.txt"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no-such-list.txt"), "{}", run.stderr);
    let empty = lists.path().join("empty.txt");
    std::fs::write(&empty, "# nothing yet\n\n").unwrap();
    let run = other.keyhound(&["history", "--repos-from", empty.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("lists no repository"), "{}", run.stderr);
}

#[test]
fn issue_12_state_of_several_repositories_is_kept_per_repository() {
    let (up, fork, _, _) = upstream_and_fork(&openai_key(1212), &openai_key(1213));
    let dir = TestRepo::dir();
    let state = dir.path().join("state.json");
    let state = state.to_str().unwrap();
    let run = history(&[&up, &fork], &["--state", state]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.report().findings.len(), 3);

    // Nothing new: nothing reported, nothing read; what the state holds counts as shared.
    let run = history(&[&up, &fork], &["--state", state]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let r = run.report();
    assert_eq!(r.summary.files, 0);
    let cf = coverage(&r, &fork);
    assert_eq!((cf.blobs_scanned, cf.blobs_shared), (0, 8), "{cf:?}");

    // A new key in the fork only: reported there alone.
    let new_key = openai_key(1214);
    fork.write("c.env", format!("K={new_key}\n"));
    let commit = fork.commit("another key");
    let run = history(&[&up, &fork], &["--state", state]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        found(&run.report()),
        [(Some(name(&fork)), "c.env".into(), new_key, commit)]
    );

    // A repository the state has no record of yet is read whole, and its findings reported,
    // although the state knows its blobs from the other repository.
    let clone = TestRepo::dir();
    clone.git_ok(&["clone", "-q", &name(&up), "."]);
    let run = history(&[&up, &fork, &clone], &["--state", state]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let r = run.report();
    assert_eq!(
        found(&r)
            .iter()
            .map(|f| (f.0.clone(), f.1.clone()))
            .collect::<Vec<_>>(),
        [(Some(name(&clone)), "config/a.env".to_string())]
    );
    assert_eq!(coverage(&r, &clone).blobs_scanned, 7);
}

/// Commit everything in `repo` with author and committer date `time` (seconds since the epoch).
fn commit_at(repo: &TestRepo, message: &str, time: i64) {
    let date = format!("{time} +0000");
    for args in [&["add", "-A"][..], &["commit", "-q", "-m", message][..]] {
        let out = Command::new("git")
            .args(args)
            .current_dir(repo.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", repo.home.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Ada Lovelace")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada Lovelace")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn issue_12_since_reads_the_date_forms_git_reads() {
    let repo = TestRepo::git();
    let (old_key, new_key) = (openai_key(1215), openai_key(1216));
    let day = 86_400;
    repo.write("old.env", format!("K={old_key}\n"));
    commit_at(&repo, "three weeks ago", now() - 21 * day);
    repo.write("new.env", format!("K={new_key}\n"));
    commit_at(&repo, "two days ago", now() - 2 * day);
    let paths = |since: &str| -> Vec<String> {
        let run = history(&[&repo], &["--since", since]);
        assert!(run.code == 1, "--since {since}: {}", run.stderr);
        let mut p: Vec<String> = run.report().findings.into_iter().map(|f| f.path).collect();
        p.sort();
        p
    };
    // Forms only git reads, and one both read.
    for since in ["2.weeks.ago", "2 weeks ago", "1 week 3 days ago"] {
        assert_eq!(paths(since), ["new.env"], "--since {since}");
    }
    for since in ["last month", "4.weeks.ago"] {
        assert_eq!(paths(since), ["new.env", "old.env"], "--since {since}");
    }
    // A date git cannot read either: a clear error, exit 2.
    let run = history(&[&repo], &["--since", "soonish"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--since soonish: not a date"),
        "{}",
        run.stderr
    );
}
