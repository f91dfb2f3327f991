//! The command line keeps its promises (issue 19): numeric flags are bounded with a clear
//! error, every listed flag acts, and messages say what is true, once.
use crate::harness::{control_line, TestRepo, OPENAI_RULE};
use crate::readme::found;

/// `--threads 100000` never finished starting its threads. Counts outside 1..=256 are refused
/// with one error naming the bound (exit 2); the largest accepted count scans as usual (issue 19
/// item 18).
#[test]
fn thread_count_is_bounded_with_a_clear_error() {
    let repo = TestRepo::dir();
    repo.write("app.env", control_line(1918));
    for bad in ["100000", "257", "0", "many"] {
        let run = repo.keyhound(&["scan", "--threads", bad, "."]);
        assert_eq!(run.code, 2, "--threads {bad}: {}", run.stderr);
        assert!(
            run.stderr.contains("thread count from 1 to 256"),
            "--threads {bad}: {}",
            run.stderr
        );
        assert_eq!(run.stdout, "", "--threads {bad}");
    }
    for good in ["256", "1"] {
        let run = repo.keyhound(&["scan", "--format", "json", "-j", good, "."]);
        let want = [(OPENAI_RULE.to_string(), "app.env".to_string())];
        assert_eq!(found(&run, "scan"), want.into_iter().collect(), "-j {good}");
    }
}

/// `baseline create` and `baseline prune` listed `--baseline` and `--no-baseline`, which did
/// nothing there (they always see every finding): they are not offered, and passing one is a
/// usage error (issue 19 item 26). The commands that apply a baseline keep both flags.
#[test]
fn baseline_create_and_prune_offer_no_baseline_flags() {
    let repo = TestRepo::git();
    repo.write("app.env", control_line(2601));
    for action in ["create", "prune"] {
        let help = repo.keyhound(&["baseline", action, "--help"]);
        assert_eq!(help.code, 0, "{}", help.stderr);
        assert!(help.stdout.contains("--file"), "{}", help.stdout);
        for flag in ["--baseline", "--no-baseline"] {
            assert!(!help.stdout.contains(flag), "{action} lists {flag}");
            let run = repo.keyhound(&["baseline", action, flag]);
            assert_eq!(run.code, 2, "baseline {action} {flag}: {}", run.stderr);
            assert!(run.stderr.contains("unexpected argument"), "{}", run.stderr);
        }
    }
    let help = repo.keyhound(&["scan", "--help"]);
    assert!(help.stdout.contains("--no-baseline"), "{}", help.stdout);
    let run = repo.keyhound(&["baseline", "create"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        repo.keyhound(&["scan", "."]).code,
        0,
        "the baseline applies"
    );
    assert_eq!(repo.keyhound(&["scan", "--no-baseline", "."]).code, 1);
}

/// `baseline create --file X` said every command applies X, but only the default file (the
/// config's `baseline`, else `.keyhound-baseline.json`) is applied unnamed. The message says
/// what is true, and what it says is checked by scanning (issue 19 item 26).
#[test]
fn baseline_create_says_which_file_commands_apply() {
    let repo = TestRepo::git();
    repo.write("app.env", control_line(2602));
    let run = repo.keyhound(&["baseline", "create", "--file", "other.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("every command"), "{}", run.stderr);
    assert!(
        run.stderr.contains("--baseline other.json"),
        "{}",
        run.stderr
    );
    assert_eq!(
        repo.keyhound(&["scan", "."]).code,
        1,
        "other.json is not applied unnamed"
    );
    let named = repo.keyhound(&["scan", "--baseline", "other.json", "."]);
    assert_eq!(named.code, 0, "{}", named.stderr);

    // The default file: every command applies it.
    let run = repo.keyhound(&["baseline", "create"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("every command"), "{}", run.stderr);
    assert_eq!(repo.keyhound(&["scan", "."]).code, 0, "{}", run.stderr);

    // A config naming its baseline: that file is the default, written and applied.
    let repo = TestRepo::git();
    repo.write("app.env", control_line(2603));
    repo.write(".keyhound.toml", "baseline = \"accepted.json\"\n");
    let run = repo.keyhound(&["baseline", "create"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        repo.path().join("accepted.json").is_file(),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("every command"), "{}", run.stderr);
    assert_eq!(repo.keyhound(&["scan", "."]).code, 0);
    // Naming that same file is the default too.
    let run = repo.keyhound(&["baseline", "create", "--file", "accepted.json"]);
    assert!(run.stderr.contains("every command"), "{}", run.stderr);
}

/// `history` outside a repository printed a warning, a summary and a coverage table; it is one
/// error line and exit 2. A repository with a key, the positive control, still reports it
/// (issue 19 item 26).
#[test]
fn history_outside_a_repository_is_one_error_line() {
    let dir = TestRepo::dir();
    dir.write("app.env", control_line(2604));
    for args in [
        &["history"][..],
        &["history", "."],
        &["history", "--format", "json"],
    ] {
        let run = dir.keyhound(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
        let lines: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert_eq!(lines.len(), 1, "{args:?}: {}", run.stderr);
        assert!(
            lines[0].starts_with("keyhound: error: ") && lines[0].contains("not a git repository"),
            "{}",
            lines[0]
        );
    }
    let repo = TestRepo::git();
    repo.write("app.env", control_line(2605));
    repo.commit("key");
    let run = repo.keyhound(&["history"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
}

/// A pull request's notices said `keyhound: warning: notice: ...`; each is one
/// `keyhound: notice: ...` line (issue 19 item 26).
#[test]
fn range_notices_have_one_prefix() {
    let repo = TestRepo::git();
    repo.write("README.md", "hi\n");
    let base = repo.commit("base");
    repo.write(".keyhound.toml", "[allow]\nrules = [\"openai.\"]\n");
    repo.write(
        "fixture.py",
        format!(
            "KEY = \"{}\"  # keyhound:allow\n",
            crate::harness::openai_key(2606)
        ),
    );
    let head = repo.commit("pr");
    let run = repo.keyhound(&["history", "--range", &format!("{base}..{head}")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let notices: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("notice"))
        .collect();
    assert_eq!(notices.len(), 2, "{}", run.stderr);
    for n in notices {
        assert!(n.starts_with("keyhound: notice: "), "{n}");
        assert!(
            !n.contains("notice: notice") && !n.contains("warning"),
            "{n}"
        );
    }
}
