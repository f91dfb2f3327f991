//! `keyhound history --state FILE` (issue 12): a re-audit reads only the objects the recorded
//! audits did not, reports only new findings, and starts afresh when the rules change.
use crate::harness::{openai_key, Run, TestRepo};

/// `history --state` with the state file in its own directory, `--show-secrets` to tell keys
/// apart.
fn audit(repo: &TestRepo, state: &TestRepo, extra: &[&str]) -> Run {
    let file = state.path().join("state.json");
    let file = file.to_str().expect("temp paths are UTF-8");
    let mut args = vec![
        "history",
        ".",
        "--format",
        "json",
        "--show-secrets",
        "--state",
        file,
    ];
    args.extend_from_slice(extra);
    repo.keyhound(&args)
}

#[test]
fn issue_12_reaudit_finds_a_key_added_after_the_first_audit_and_nothing_else() {
    let repo = TestRepo::git();
    let state = TestRepo::dir();
    let (old, new) = (openai_key(120), openai_key(121));
    repo.write("app.env", format!("K={old}\n"));
    repo.write("README.md", "hello\n");
    repo.commit("first");
    let run = audit(&repo, &state, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let first = run.report();
    assert_eq!(first.findings.len(), 1);
    assert_eq!(first.findings[0].secret.as_deref(), Some(old.as_str()));
    assert_eq!(first.summary.files, 2);

    // Nothing new: nothing read, nothing reported; the earlier finding is still at the tip.
    let run = audit(&repo, &state, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let again = run.report();
    assert!(again.findings.is_empty(), "{:?}", again.findings);
    assert_eq!(again.summary.files, 0, "an unchanged history reads no blob");
    assert!(
        run.stderr
            .contains("1 finding of earlier audits not reported again, 1 still present"),
        "{}",
        run.stderr
    );

    // A new key on a side branch, an edit of a known file, the old key copied to a new path.
    repo.git_ok(&["checkout", "-q", "-b", "feature"]);
    repo.write("deploy/new.env", format!("K={new}\n"));
    repo.write("README.md", "hello again\n");
    repo.write("copy.env", format!("K={old}\n"));
    let added = repo.commit("second");
    let run = audit(&repo, &state, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let second = run.report();
    assert_eq!(
        second.summary.files, 2,
        "only the two new blobs are read (copy.env has the known blob of app.env)"
    );
    let found: Vec<(&str, &str, &str)> = second
        .findings
        .iter()
        .map(|f| {
            (
                f.path.as_str(),
                f.commit
                    .as_ref()
                    .expect("a history finding has its commit")
                    .id
                    .as_str(),
                f.secret.as_deref().expect("audited with --show-secrets"),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![("deploy/new.env", added.as_str(), new.as_str())]
    );
}

#[test]
fn issue_12_state_of_other_rules_or_limits_is_not_used() {
    let repo = TestRepo::git();
    let state = TestRepo::dir();
    repo.write("app.env", format!("K={}\n", openai_key(122)));
    repo.commit("first");
    assert_eq!(audit(&repo, &state, &[]).code, 1);
    // Other limits decide differently what is read: everything is read again.
    let run = audit(&repo, &state, &["--max-file-size", "1000000"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.report().findings.len(), 1);
    assert!(
        run.stderr.contains("other rules or limits"),
        "{}",
        run.stderr
    );
    // A file that is not a state: a warning, a full audit, then a valid state.
    std::fs::write(state.path().join("state.json"), "not json").unwrap();
    let run = audit(&repo, &state, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("not a keyhound state file"),
        "{}",
        run.stderr
    );
    assert_eq!(audit(&repo, &state, &[]).code, 0);
    // --state goes with a whole history only.
    let run = audit(&repo, &state, &["--since", "2000-01-01"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

/// `git mktree --missing` with one entry: a tree naming `blob` at `name`, whether or not the
/// object database has the blob.
fn tree_naming(repo: &TestRepo, name: &str, blob: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("git")
        .args(["mktree", "--missing"])
        .current_dir(repo.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run git mktree");
    child
        .stdin
        .take()
        .expect("stdin piped")
        .write_all(format!("100644 blob {blob}\t{name}\n").as_bytes())
        .expect("write to git mktree");
    let out = child.wait_with_output().expect("git mktree");
    assert!(out.status.success(), "git mktree failed");
    String::from_utf8(out.stdout)
        .expect("an id")
        .trim()
        .to_string()
}

// issue 19 item 30: a re-audit of a repository whose refs have not moved answers from the
// state's record of the last audit instead of walking every commit and tree again; any ref that
// moves, or a blob that was missing and has arrived, sends it back to the walk.
#[test]
fn reaudit_of_unmoved_refs_answers_from_the_record_until_something_moves() {
    let repo = TestRepo::git();
    let state = TestRepo::dir();
    let (old, late) = (openai_key(123), openai_key(124));
    repo.write("app.env", format!("K={old}\n"));
    repo.commit("first");
    // A commit on a side ref whose tree names a blob the object database does not have yet.
    let content = format!("LATE={late}\n");
    repo.write("late.env", &content);
    let blob = repo.git_ok(&["hash-object", "late.env"]);
    repo.remove("late.env");
    let tree = tree_naming(&repo, "late.env", &blob);
    let commit = repo.git_ok(&["commit-tree", &tree, "-m", "names a blob not here"]);
    repo.git_ok(&["update-ref", "refs/heads/lost", &commit]);

    let first = audit(&repo, &state, &[]);
    assert_eq!(first.code, 2, "a missing blob leaves the audit incomplete");
    assert_eq!(first.report().findings.len(), 1, "{}", first.stderr);
    let walked = &first.report().summary.coverage[0];

    // Nothing moved: no walk, the same coverage, the same status, the missing blob named again.
    let again = audit(&repo, &state, &[]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains("no ref has moved since the last audit"),
        "{}",
        again.stderr
    );
    assert!(again.stderr.contains(&blob), "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains("1 finding of earlier audits not reported again, 1 still present"),
        "{}",
        again.stderr
    );
    let report = again.report();
    assert!(report.findings.is_empty());
    let answered = &report.summary.coverage[0];
    assert_eq!(
        (answered.refs, answered.commits, answered.blobs),
        (walked.refs, walked.commits, walked.blobs)
    );
    assert_eq!((answered.blobs_scanned, answered.objects_missing), (0, 1));
    assert!(answered.incomplete);

    // The missing blob arrives: the record cannot answer; the walk reads it and finds its key.
    repo.write("late.env", &content);
    assert_eq!(repo.git_ok(&["hash-object", "-w", "late.env"]), blob);
    repo.remove("late.env");
    let arrived = audit(&repo, &state, &[]);
    assert_eq!(arrived.code, 1, "{}", arrived.stderr);
    assert!(
        !arrived.stderr.contains("no ref has moved"),
        "{}",
        arrived.stderr
    );
    let found: Vec<_> = arrived
        .report()
        .findings
        .iter()
        .map(|f| f.secret.clone().unwrap_or_default())
        .collect();
    assert_eq!(found, vec![late.clone()]);

    // A tag on an old commit moves no branch, but it is a new ref: walked, nothing new.
    let quiet = audit(&repo, &state, &[]);
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    assert!(
        quiet.stderr.contains("no ref has moved"),
        "{}",
        quiet.stderr
    );
    repo.git_ok(&["tag", "v1", "main"]);
    let tagged = audit(&repo, &state, &[]);
    assert_eq!(tagged.code, 0, "{}", tagged.stderr);
    assert!(
        !tagged.stderr.contains("no ref has moved"),
        "{}",
        tagged.stderr
    );
    assert!(audit(&repo, &state, &[])
        .stderr
        .contains("no ref has moved"));
}
