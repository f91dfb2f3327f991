//! `keyhound staged`, the pre-commit hook and baselines (issue 4), with real repositories and a
//! real `git commit` running the installed hook.
use crate::harness::{
    bin, control_line, find_on_path, openai_key, path_with_only, BaselineJson, Run, TestRepo,
};

/// The findings of a JSON report as (path, line).
fn rules(run: &Run) -> Vec<(String, u64)> {
    run.report()
        .findings
        .into_iter()
        .map(|f| (f.path, f.line))
        .collect()
}

#[test]
fn issue_4_staged_key_blocks_and_working_tree_only_key_does_not() {
    let repo = TestRepo::git();
    repo.write("app.py", "print('hi')\n");
    repo.commit("initial");
    // Staged, then removed from the working file: the index still holds it.
    repo.write(
        "app.py",
        format!("print('hi')\nKEY = \"{}\"\n", openai_key(40)),
    );
    repo.git_ok(&["add", "app.py"]);
    repo.write("app.py", "print('hi')\n");
    // Only in the working tree, never staged.
    repo.write("local.env", format!("OPENAI_API_KEY={}\n", openai_key(41)));
    let run = repo.keyhound(&["staged", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(rules(&run), vec![("app.py".to_string(), 2)]);
}

#[test]
fn issue_4_key_already_in_head_does_not_block_an_unrelated_edit() {
    let repo = TestRepo::git();
    let key = openai_key(42);
    repo.write("conf.py", format!("A = 1\nKEY = \"{key}\"\nB = 2\n"));
    repo.commit("old key");
    repo.write("conf.py", format!("A = 1\nKEY = \"{key}\"\nB = 3\nC = 4\n"));
    // Positive control: a key in a new staged file is found, and only that.
    repo.write("control.env", control_line(53));
    repo.git_ok(&["add", "conf.py", "control.env"]);
    let run = repo.keyhound(&["staged", "--format", "json"]);
    assert_eq!(
        rules(&run),
        vec![("control.env".to_string(), 1)],
        "{}",
        run.stderr
    );
    repo.git_ok(&["rm", "-q", "--cached", "control.env"]);
    // A new key on an edited line is caught, with the staged file's line number.
    repo.write(
        "conf.py",
        format!(
            "A = 1\nKEY = \"{key}\"\nB = 3\nC = 4\nD = \"{}\"\n",
            openai_key(43)
        ),
    );
    repo.git_ok(&["add", "conf.py"]);
    let run = repo.keyhound(&["staged", "--format", "json"]);
    assert_eq!(rules(&run), vec![("conf.py".to_string(), 5)]);
}

#[test]
fn issue_4_staged_works_without_commits_and_in_subdirectories() {
    let repo = TestRepo::git();
    repo.write("src/deep/keys.txt", format!("k={}\n", openai_key(44)));
    repo.git_ok(&["add", "."]);
    let run = repo.keyhound(&["staged", "--format", "json"]);
    assert_eq!(rules(&run), vec![("src/deep/keys.txt".to_string(), 1)]);
}

#[test]
fn issue_4_staged_outside_a_repository_is_an_error() {
    let dir = TestRepo::dir();
    let run = dir.keyhound(&["staged"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not inside a git work tree"),
        "{}",
        run.stderr
    );
}

#[test]
fn issue_4_hook_refuses_a_commit_with_a_key_and_allows_it_after_the_fix() {
    let repo = TestRepo::git();
    repo.write("README.md", "hello\n");
    repo.commit("initial");
    let run = repo.keyhound(&["hook", "install"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let key = openai_key(45);
    repo.write("client.py", format!("client = OpenAI(api_key=\"{key}\")\n"));
    repo.git_ok(&["add", "client.py"]);
    let commit = repo.git_run(&["commit", "-m", "add client"]);
    assert_ne!(commit.code, 0, "the hook let a key through");
    let shown = format!("{}{}", commit.stdout, commit.stderr);
    assert!(shown.contains("client.py:1:26"), "{shown}");
    assert!(shown.contains("commit refused"), "{shown}");
    assert!(shown.contains("--no-verify"), "{shown}");
    assert!(shown.contains("keyhound:allow"), "{shown}");
    assert!(!shown.contains(&key), "the hook printed the key");
    repo.write(
        "client.py",
        "import os\nclient = OpenAI(api_key=os.environ[\"OPENAI_API_KEY\"])\n",
    );
    repo.git_ok(&["add", "client.py"]);
    let commit = repo.git_run(&["commit", "-m", "add client"]);
    assert_eq!(commit.code, 0, "{}{}", commit.stdout, commit.stderr);
}

#[test]
fn issue_4_hook_respects_core_hooks_path_and_chains_an_existing_hook() {
    let repo = TestRepo::git();
    repo.git_ok(&["config", "core.hooksPath", ".githooks"]);
    repo.write(
        ".githooks/pre-commit",
        "#!/bin/sh\necho existing-hook-ran >&2\nexit 0\n",
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            repo.path().join(".githooks/pre-commit"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
    }
    let run = repo.keyhound(&["hook", "install"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(repo
        .path()
        .join(".githooks/pre-commit.keyhound-chained")
        .exists());
    repo.write("a.env", format!("K={}\n", openai_key(46)));
    repo.git_ok(&["add", "a.env"]);
    let commit = repo.git_run(&["commit", "-m", "x"]);
    assert_ne!(commit.code, 0);
    assert!(
        commit.stderr.contains("existing-hook-ran"),
        "{}",
        commit.stderr
    );
    let run = repo.keyhound(&["hook", "uninstall"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let restored = std::fs::read_to_string(repo.path().join(".githooks/pre-commit")).unwrap();
    assert!(restored.contains("existing-hook-ran"));
}

/// Install the hook with a copy of the binary, delete the copy, and commit with git running
/// under a PATH that holds only git and what the hook script calls, taken from `search`.
#[cfg(unix)]
fn commit_after_keyhound_is_removed(search: &std::ffi::OsStr) -> Run {
    let repo = TestRepo::git();
    repo.write("README.md", "hello\n");
    repo.commit("initial");
    let tools = tempfile::tempdir().unwrap();
    let copy = tools.path().join("keyhound");
    std::fs::copy(bin(), &copy).unwrap();
    let out = std::process::Command::new(&copy)
        .args(["hook", "install"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::remove_file(&copy).unwrap();
    repo.write("notes.txt", "nothing secret\n");
    repo.git_ok(&["add", "notes.txt"]);
    let path = path_with_only(&["git", "sh", "dirname"], search);
    repo.git_run_with_path(&["commit", "-m", "x"], path.path().as_os_str())
}

#[cfg(unix)]
#[test]
fn issue_4_hook_fails_closed_when_keyhound_is_missing() {
    let commit = commit_after_keyhound_is_removed(&std::env::var_os("PATH").unwrap_or_default());
    assert_ne!(
        commit.code, 0,
        "the hook let a commit through without scanning"
    );
    assert!(
        commit.stderr.contains("cannot find keyhound"),
        "{}",
        commit.stderr
    );
}

/// Issue 10: after `cargo install --path .` a keyhound is on PATH, and the test above found it.
/// Here the search PATH holds a working keyhound, as on such a machine; the hook must still see
/// none, because the commit runs with a PATH of git and the script's tools only.
#[cfg(unix)]
#[test]
fn issue_10_missing_keyhound_test_ignores_a_keyhound_installed_on_path() {
    let installed = tempfile::tempdir().unwrap();
    std::fs::copy(bin(), installed.path().join("keyhound")).unwrap();
    let mut dirs = vec![installed.path().to_path_buf()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let search = std::env::join_paths(dirs).unwrap();
    assert!(find_on_path("keyhound", &search).is_some());
    let commit = commit_after_keyhound_is_removed(&search);
    assert_ne!(
        commit.code, 0,
        "the hook found the installed keyhound: {}",
        commit.stderr
    );
    assert!(
        commit.stderr.contains("cannot find keyhound"),
        "{}",
        commit.stderr
    );
}

#[test]
fn issue_4_hooks_pre_commit_script_blocks_a_key() {
    let repo = TestRepo::git();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks/pre-commit");
    let hook = repo.path().join(".git/hooks/pre-commit");
    std::fs::copy(&script, &hook).unwrap();
    repo.write("a.env", format!("K={}\n", openai_key(47)));
    repo.git_ok(&["add", "a.env"]);
    // The copied script finds keyhound on PATH: put the tested binary's directory first.
    let dir = bin().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("git")
        .args(["commit", "-m", "x"])
        .current_dir(repo.path())
        .env("PATH", path)
        .env("HOME", repo.home.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "A")
        .env("GIT_AUTHOR_EMAIL", "a@example.com")
        .env("GIT_COMMITTER_NAME", "A")
        .env("GIT_COMMITTER_EMAIL", "a@example.com")
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn issue_4_baseline_accepts_known_findings_by_fingerprint_not_line() {
    let repo = TestRepo::dir();
    let old = openai_key(48);
    repo.write("a.py", format!("K = \"{old}\"\n"));
    let run = repo.keyhound(&["baseline", "create"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(repo.path().join(".keyhound-baseline.json")).unwrap();
    assert!(!text.contains(&old), "the baseline holds the secret");
    // Moving the accepted key does not bring it back; a new key on its old line is reported.
    repo.write(
        "a.py",
        format!("K = \"{}\"\n\n\nOLD = \"{old}\"\n", openai_key(49)),
    );
    let run = repo.keyhound(&[
        "scan",
        "--baseline",
        ".keyhound-baseline.json",
        "--format",
        "json",
    ]);
    assert_eq!(rules(&run), vec![("a.py".to_string(), 1)]);
    // Once the accepted key is gone, prune reports and removes its entry.
    repo.write("a.py", "K = 1\n");
    let run = repo.keyhound(&["baseline", "prune"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("stale: openai.project-key"),
        "{}",
        run.stdout
    );
    let b: BaselineJson = serde_json::from_str(
        &std::fs::read_to_string(repo.path().join(".keyhound-baseline.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(b.entries.len(), 0);
}

/// The pre-commit framework: `KEYHOUND_PRE_COMMIT` or `pre-commit` on PATH (SKIPPED without it,
/// a failure under CI).
pub fn pre_commit_framework() -> Option<std::path::PathBuf> {
    crate::harness::require_tool("pre-commit", "KEYHOUND_PRE_COMMIT")
}

#[test]
fn issue_4_pre_commit_framework_runs_this_repository_hook() {
    let Some(pre_commit) = pre_commit_framework() else {
        return;
    };
    let repo = TestRepo::git();
    repo.write("a.env", format!("K={}\n", openai_key(50)));
    repo.git_ok(&["add", "a.env"]);
    // keyhound-system: the tested binary on PATH.
    let (ok, text) = try_repo(&pre_commit, &repo, "keyhound-system", &[]);
    assert!(!ok, "pre-commit passed a staged key:\n{text}");
    assert!(text.contains("a.env:1:3"), "{text}");
    // After the fix the same hook passes.
    repo.write("a.env", "K=${OPENAI_API_KEY}\n");
    repo.git_ok(&["add", "a.env"]);
    let (ok, text) = try_repo(&pre_commit, &repo, "keyhound-system", &[]);
    assert!(ok, "{text}");
}

#[test]
fn issue_4_staged_in_a_worktree_and_during_a_merge() {
    let repo = TestRepo::git();
    repo.write("conf.py", "VALUE = 1\n");
    repo.commit("initial");
    // A linked worktree: the hook and the staged scan work there too.
    repo.git_ok(&["worktree", "add", "-q", "-b", "wt", "wt-dir"]);
    std::fs::write(
        repo.path().join("wt-dir/k.env"),
        format!("K={}\n", openai_key(51)),
    )
    .unwrap();
    let in_wt = |args: &[&str]| {
        let mut cmd = std::process::Command::new(bin());
        cmd.args(args).current_dir(repo.path().join("wt-dir"));
        cmd.output().unwrap()
    };
    let add = std::process::Command::new("git")
        .args(["add", "k.env"])
        .current_dir(repo.path().join("wt-dir"))
        .status()
        .unwrap();
    assert!(add.success());
    let out = in_wt(&["staged", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // During a merge with a conflict resolved by adding a key: the merge commit is blocked.
    repo.git_ok(&["checkout", "-q", "-b", "other"]);
    repo.write("conf.py", "VALUE = 2\n");
    repo.commit("other");
    repo.git_ok(&["checkout", "-q", "main"]);
    repo.write("conf.py", "VALUE = 3\n");
    repo.commit("main");
    assert_ne!(repo.git_run(&["merge", "-q", "other"]).code, 0);
    // Unmerged paths are not scanned yet; the positive control, staged beside them, is.
    repo.write("control.env", control_line(54));
    repo.git_ok(&["add", "control.env"]);
    let run = repo.keyhound(&["staged", "--format", "json"]);
    assert_eq!(
        rules(&run),
        vec![("control.env".to_string(), 1)],
        "{}",
        run.stderr
    );
    repo.git_ok(&["rm", "-q", "--cached", "control.env"]);
    repo.write(
        "conf.py",
        format!("VALUE = 4\nKEY = \"{}\"\n", openai_key(52)),
    );
    repo.git_ok(&["add", "conf.py"]);
    let run = repo.keyhound(&["staged", "--format", "json"]);
    assert_eq!(rules(&run), vec![("conf.py".to_string(), 2)]);
}

/// Issue 10: keyhound is not on crates.io, so no message may suggest `cargo install keyhound`;
/// every `cargo install` in the hooks and the action builds from a checkout (`--path`) or a
/// repository (`--git`).
#[test]
fn issue_10_hook_scripts_never_suggest_cargo_install_keyhound() {
    let repo = TestRepo::git();
    let run = repo.keyhound(&["hook", "install"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let installed = std::fs::read_to_string(repo.path().join(".git/hooks/pre-commit")).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut texts = vec![("keyhound hook install".to_string(), installed.clone())];
    for file in ["hooks/pre-commit", "action.yml"] {
        texts.push((
            file.to_string(),
            std::fs::read_to_string(root.join(file)).unwrap(),
        ));
    }
    // README and the docs/ pages its reference passages moved to (issue 19 item 19).
    texts.extend(crate::readme::doc_files());
    for (what, text) in &texts {
        let installs: Vec<&str> = text
            .match_indices("cargo install")
            .map(|(i, _)| text[i..].lines().next().unwrap())
            .collect();
        for line in installs {
            assert!(
                line.contains(" --path ") || line.contains(" --git "),
                "{what} suggests an install that cannot work: {line}"
            );
        }
    }
    assert!(
        installed.contains("cargo install --locked --path <keyhound checkout>"),
        "{installed}"
    );
    assert!(texts[1]
        .1
        .contains("cargo install --locked --path <keyhound checkout>"));
}

/// Issue 10: the message under a blocked commit is not in one programming language, and it says
/// where `keyhound baseline create` writes its file.
#[test]
fn issue_10_block_message_is_language_neutral_and_names_the_baseline_file() {
    let repo = TestRepo::git();
    repo.write("README.md", "hello\n");
    repo.commit("initial");
    let run = repo.keyhound(&["hook", "install"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    repo.write(
        "main.go",
        format!("package main\n\nconst key = \"{}\"\n", openai_key(55)),
    );
    repo.git_ok(&["add", "main.go"]);
    let commit = repo.git_run(&["commit", "-m", "add main.go"]);
    assert_ne!(commit.code, 0, "the hook let a key through");
    let shown = format!("{}{}", commit.stdout, commit.stderr);
    assert!(shown.contains("main.go:3:14"), "{shown}");
    assert!(!shown.contains("os.environ"), "{shown}");
    // Compared with the line breaks folded into spaces.
    let words = shown.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("an environment variable such as OPENAI_API_KEY, read at run time"),
        "{shown}"
    );
    assert!(
        words.contains(
            "`keyhound baseline create` writes .keyhound-baseline.json at the repository root"
        ),
        "{shown}"
    );
}

/// Run `pre-commit try-repo <this checkout> <hook> --verbose <args>` in `repo` (try-repo takes the
/// checkout's working tree, uncommitted changes included), with the tested binary first on
/// PATH for the `-system` hooks. Returns success and the output.
fn try_repo(
    pre_commit: &std::path::Path,
    repo: &TestRepo,
    hook: &str,
    args: &[&str],
) -> (bool, String) {
    try_repo_env(pre_commit, repo, hook, args, &[])
}

/// [`try_repo`] with more environment variables (`SKIP`).
fn try_repo_env(
    pre_commit: &std::path::Path,
    repo: &TestRepo,
    hook: &str,
    args: &[&str],
    vars: &[(&str, &str)],
) -> (bool, String) {
    let this_repo = env!("CARGO_MANIFEST_DIR");
    let mut dirs = vec![bin().parent().unwrap().to_path_buf()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let out = std::process::Command::new(pre_commit)
        .args(["try-repo", this_repo, hook, "--verbose"])
        .args(args)
        .current_dir(repo.path())
        // The built environment is cached under target/ so a hook is built once per checkout.
        .env(
            "PRE_COMMIT_HOME",
            std::path::Path::new(this_repo).join("target/pre-commit-home"),
        )
        .env("PATH", std::env::join_paths(dirs).unwrap())
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Issue 10: `pre-commit run --all-files` passed on a repository holding a key, because the
/// hook reads only staged changes. The files mode scans the files the framework passes: a key
/// committed long ago fails `--all-files`, and the same repository without it passes.
#[test]
fn issue_10_pre_commit_files_hook_fails_all_files_on_a_committed_key() {
    let Some(pre_commit) = pre_commit_framework() else {
        return;
    };
    let repo = TestRepo::git();
    repo.write("notes.md", "nothing here\n");
    repo.write("conf/k.env", format!("K={}\n", openai_key(56)));
    repo.commit("a key, committed without any hook");
    // The staged-changes hook has nothing to look at here: that is the defect's setting.
    let (ok, text) = try_repo(&pre_commit, &repo, "keyhound-system", &["--all-files"]);
    assert!(ok, "{text}");
    let (ok, text) = try_repo(
        &pre_commit,
        &repo,
        "keyhound-files-system",
        &["--all-files"],
    );
    assert!(
        !ok,
        "pre-commit run --all-files passed a committed key:\n{text}"
    );
    assert!(text.contains("conf/k.env:1:3"), "{text}");
    repo.write("conf/k.env", "K=${OPENAI_API_KEY}\n");
    repo.commit("key removed");
    let (ok, text) = try_repo(
        &pre_commit,
        &repo,
        "keyhound-files-system",
        &["--all-files"],
    );
    assert!(ok, "{text}");
}

/// Issue 19 item 21: under the pre-commit framework the block message gives advice that can be
/// followed there: the baseline made with the keyhound the hook runs (its path: it is in the
/// framework's environment, not on PATH), and `SKIP=<hook id>` rather than `--no-verify`
/// (which skips every hook). Each piece of advice is then followed and lets the commit through;
/// the plain git hook keeps its own advice (the control).
#[test]
fn pre_commit_framework_block_message_gives_advice_that_works_there() {
    let Some(pre_commit) = pre_commit_framework() else {
        return;
    };
    let repo = TestRepo::git();
    repo.write("README.md", "hello\n");
    repo.commit("initial");
    repo.write("fixture.env", format!("K={}\n", openai_key(1921)));
    repo.git_ok(&["add", "fixture.env"]);
    let (ok, text) = try_repo(&pre_commit, &repo, "keyhound-system", &[]);
    assert!(!ok, "pre-commit passed a staged key:\n{text}");
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("SKIP=keyhound-system git commit"), "{text}");
    assert!(words.contains("accept it everywhere"), "{text}");
    assert!(!words.contains("--no-verify"), "{text}");
    let exe = bin().display().to_string();
    assert!(words.contains(&format!("{exe} baseline create")), "{text}");
    // SKIP as advised: keyhound is skipped, so the run passes.
    let (ok, text) = try_repo_env(
        &pre_commit,
        &repo,
        "keyhound-system",
        &[],
        &[("SKIP", "keyhound-system")],
    );
    assert!(ok, "{text}");
    // The baseline as advised, with the path given: the same staged key passes.
    let out = std::process::Command::new(bin())
        .args(["baseline", "create"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (ok, text) = try_repo(&pre_commit, &repo, "keyhound-system", &[]);
    assert!(ok, "the baseline made as advised did not apply:\n{text}");

    // The control: the git hook's message keeps `keyhound baseline create` and --no-verify.
    std::fs::remove_file(repo.path().join(".keyhound-baseline.json")).unwrap();
    let run = repo.keyhound(&["staged", "--hook"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let words = run.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("git commit --no-verify"), "{}", run.stderr);
    assert!(words.contains("accept it everywhere"), "{}", run.stderr);
    assert!(!words.contains("SKIP="), "{}", run.stderr);
}

#[test]
fn hook_blocks_a_key_in_a_binary_file_and_in_a_file_over_the_size_limit() {
    // issue 19 item 12: both passed the hook with exit 0 (a 27 MB log, a binary holding a key).
    let repo = TestRepo::git();
    repo.write("README.md", "hello\n");
    repo.commit("initial");
    let run = repo.keyhound(&["hook", "install"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut bin = b"\x00\x01\x02\x03\xff".repeat(100);
    bin.extend_from_slice(format!("key={}", openai_key(1930)).as_bytes());
    bin.extend(b"\x00\x90".repeat(100));
    repo.write("cache.bin", &bin);
    repo.git_ok(&["add", "cache.bin"]);
    let commit = repo.git_run(&["commit", "-m", "add cache"]);
    assert_ne!(commit.code, 0, "the hook let a binary's key through");
    assert!(
        commit.stderr.contains("cache.bin:1:505"),
        "{}",
        commit.stderr
    );
    repo.git_ok(&["rm", "--cached", "-q", "cache.bin"]);
    // Over the default --max-file-size (25M), the key in its last line.
    let mut log = "2024-01-01 INFO request served in 12 ms\n".repeat(700_000);
    log.push_str(&control_line(1931));
    assert!(log.len() > 26 << 20);
    repo.write("server.log", &log);
    repo.git_ok(&["add", "server.log"]);
    let commit = repo.git_run(&["commit", "-m", "add log"]);
    assert_ne!(commit.code, 0, "the hook let a large file's key through");
    assert!(
        commit.stderr.contains("server.log:700001:16"),
        "{}",
        commit.stderr
    );
    // Positive control: without the keys the commit goes through.
    repo.write("server.log", "2024-01-01 INFO request served in 12 ms\n");
    repo.git_ok(&["add", "server.log"]);
    let commit = repo.git_run(&["commit", "-m", "add log"]);
    assert_eq!(commit.code, 0, "{}", commit.stderr);
}
