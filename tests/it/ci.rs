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

/// The lines of the first fenced block after the heading `heading` in README.md.
pub fn readme_block_after(heading: &str) -> Vec<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README.md has no heading {heading:?}"));
    let rest = &readme[start..];
    let open = rest
        .find("\n```")
        .expect("a fenced block after the heading");
    let body = &rest[open + 4..];
    let body = &body[body.find('\n').unwrap() + 1..];
    let close = body.find("\n```").expect("a closed fenced block");
    body[..close].lines().map(str::to_string).collect()
}

/// Issue 10: `.ci/run` runs README's install commands and then README's test command, exactly as
/// README gives them (so a README command that does not work on a fresh machine fails CI), and
/// nothing after the test command replaces it.
#[test]
fn issue_10_ci_runs_readme_install_then_test_commands() {
    let install = readme_block_after("## Install and run");
    let test = readme_block_after("## Run the tests");
    assert!(install.iter().any(|l| l.starts_with("cargo install ")));
    assert_eq!(test, vec!["cargo test --locked"]);
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
    let lines: Vec<&str> = ci.lines().collect();
    let at = |block: &[String]| {
        (0..lines.len())
            .find(|&i| {
                block.len() <= lines.len() - i
                    && block.iter().zip(&lines[i..]).all(|(want, got)| want == got)
            })
            .unwrap_or_else(|| panic!(".ci/run does not run {block:?} as README gives it"))
    };
    let (i, t) = (at(&install), at(&test));
    assert!(
        i + install.len() <= t,
        ".ci/run must install (line {}) before it tests (line {})",
        i + 1,
        t + 1
    );
    // .ci/run stops at the first failing command.
    assert!(ci.contains("set -euo pipefail"), "{ci}");
}

/// Issue 10: the release binary was 54 MB, nearly all debug info. What `cargo install` builds
/// (the release profile) is stripped and has no debug info, keeping LTO and codegen-units; a
/// `profiling` profile keeps symbols for profilers.
#[test]
fn issue_10_release_profile_ships_stripped_without_debug_info() {
    let manifest: toml::Value = toml::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap(),
    )
    .unwrap();
    let release = &manifest["profile"]["release"];
    let debug_off = match release.get("debug") {
        None => true,
        Some(toml::Value::Boolean(b)) => !b,
        Some(toml::Value::Integer(n)) => *n == 0,
        Some(toml::Value::String(s)) => s == "none",
        Some(other) => panic!("profile.release.debug = {other}"),
    };
    assert!(debug_off, "profile.release carries debug info: {release}");
    let strip = release.get("strip");
    assert!(
        matches!(strip, Some(toml::Value::Boolean(true)))
            || strip.and_then(|s| s.as_str()) == Some("symbols"),
        "profile.release must strip symbols: {release}"
    );
    assert_eq!(release.get("lto").and_then(|v| v.as_str()), Some("thin"));
    assert!(release.get("codegen-units").is_some());
    let profiling = &manifest["profile"]["profiling"];
    assert_eq!(profiling["inherits"].as_str(), Some("release"));
    assert_eq!(profiling["strip"].as_bool(), Some(false));
}
