//! The test suite and CI themselves (issue 10): a test whose outside tool is missing fails under
//! CI and says SKIPPED elsewhere; `.ci/run` runs README's install and test commands.

/// Run one test of this very test binary, with a PATH that holds no outside tool.
fn run_own_test(name: &str, ci: Option<&str>) -> crate::harness::Run {
    let empty = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args([name, "--exact", "--test-threads=1"])
        .env_clear()
        .env("PATH", empty.path());
    if let Some(ci) = ci {
        cmd.env("CI", ci);
    }
    let out = cmd.output().unwrap();
    crate::harness::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn issue_10_a_test_missing_its_tool_fails_under_ci_and_says_skipped_elsewhere() {
    let test = "staged::issue_4_pre_commit_framework_runs_this_repository_hook";
    let here = run_own_test(test, None);
    assert_eq!(here.code, 0, "{}{}", here.stdout, here.stderr);
    assert!(
        here.stderr.contains("SKIPPED: ")
            && here
                .stderr
                .contains("pre-commit is not on PATH and KEYHOUND_PRE_COMMIT is not set"),
        "a skipped test must say so: {}",
        here.stderr
    );
    assert!(here.stdout.contains("1 passed"), "{}", here.stdout);
    let ci = run_own_test(test, Some("true"));
    assert_ne!(ci.code, 0, "under CI a missing tool must fail the test");
    assert!(
        format!("{}{}", ci.stdout, ci.stderr).contains("CI=true, so this test must run"),
        "{}{}",
        ci.stdout,
        ci.stderr
    );
    assert!(ci.stdout.contains("1 failed"), "{}", ci.stdout);
}
