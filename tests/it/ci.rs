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

/// The fenced blocks of `file`'s section `heading` (up to the next heading of its level or
/// above, outside a fence), each as its lines.
pub fn blocks_in(file: &str, heading: &str) -> Vec<Vec<String>> {
    let text = crate::readme::doc_file(file);
    let level = heading.split(' ').next().unwrap_or("##").len();
    let mut in_section = false;
    let mut found = false;
    let mut blocks = Vec::new();
    let mut open: Option<Vec<String>> = None;
    for line in text.lines() {
        if open.is_none() && line.starts_with('#') {
            let hashes = line.len() - line.trim_start_matches('#').len();
            if line == heading {
                (in_section, found) = (true, true);
                continue;
            }
            if hashes <= level && line[hashes..].starts_with(' ') {
                in_section = false;
            }
        }
        if !in_section {
            continue;
        }
        match (&mut open, line.starts_with("```")) {
            (None, true) => open = Some(Vec::new()),
            (Some(_), true) => blocks.push(open.take().unwrap()),
            (Some(block), false) => block.push(line.to_string()),
            (None, false) => {}
        }
    }
    assert!(found, "{file} has no heading {heading:?}");
    assert!(open.is_none(), "{file} {heading}: an unclosed block");
    blocks
}

/// Issue 10: `.ci/run` runs README's install commands and then README's test command, exactly as
/// README gives them (so a README command that does not work on a fresh machine fails CI), and
/// nothing after the test command replaces it. Issue 14: the install is the wheel's: README's
/// build block, then its `pip install` block, then the tests, in that order; and the tests run
/// the keyhound that `pip install` put on PATH (`KEYHOUND_TEST_BIN`) and the wheel itself
/// (`KEYHOUND_TEST_WHEEL`), both set before the test command. Issue 19 item 19: these are the
/// Quick start's blocks, on README's first screen: build, install (ending with `keyhound scan
/// .`), `keyhound hook install`, `cargo test --locked`, ten command lines at most.
#[test]
fn issue_10_ci_runs_readme_install_then_test_commands() {
    let blocks = blocks_in("README.md", "## Quick start");
    assert_eq!(
        blocks.len(),
        4,
        "Quick start: build, install, hook and test blocks"
    );
    let (build, install, hook, test) = (&blocks[0], &blocks[1], &blocks[2], &blocks[3]);
    assert!(build.iter().any(|l| l.contains("maturin build --release")));
    assert!(install.iter().any(|l| l.contains("/pip install ")));
    assert_eq!(install.last().map(String::as_str), Some("keyhound scan ."));
    assert_eq!(hook, &vec!["keyhound hook install".to_string()]);
    assert_eq!(test, &vec!["cargo test --locked".to_string()]);
    assert!(blocks.iter().map(Vec::len).sum::<usize>() <= 10);
    let readme = crate::readme::doc_file("README.md");
    let first_screen: String = readme.lines().take(50).collect::<Vec<_>>().join("\n");
    assert!(
        first_screen.contains("cargo test --locked"),
        "the Quick start ends within README's first 50 lines"
    );
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
    let (b, i, t) = (at(build), at(install), at(test));
    assert!(
        b + build.len() <= i && i + install.len() <= t,
        ".ci/run must build (line {}), install (line {}), then test (line {})",
        b + 1,
        i + 1,
        t + 1
    );
    for var in ["KEYHOUND_TEST_BIN", "KEYHOUND_TEST_WHEEL"] {
        let set = (0..t)
            .find(|&k| lines[k].starts_with(&format!("export {var}=")))
            .unwrap_or_else(|| panic!(".ci/run does not export {var} before the tests"));
        assert!(set > b, ".ci/run sets {var} before building the wheel");
    }
    // .ci/run stops at the first failing command.
    assert!(ci.contains("set -euo pipefail"), "{ci}");
}

/// Issue 19 item 18: the `config` fuzz target stopped compiling and nothing noticed, since the
/// fuzz crate is outside the main build. `.ci/run` checks every fuzz target on stable Rust (with
/// the fuzz crate's own lock file) before the tests, and every target fuzz/Cargo.toml declares
/// is a file there.
#[test]
fn ci_checks_that_the_fuzz_targets_compile() {
    let root = env!("CARGO_MANIFEST_DIR");
    let ci = std::fs::read_to_string(format!("{root}/.ci/run")).unwrap();
    let check = ci
        .lines()
        .position(|l| {
            !l.trim_start().starts_with('#')
                && l.contains("cargo check --locked --manifest-path fuzz/Cargo.toml --bins")
        })
        .expect(".ci/run checks the fuzz crate");
    let test = ci
        .lines()
        .position(|l| l == "cargo test --locked")
        .expect(".ci/run runs the tests");
    assert!(check < test, "the fuzz check runs before the tests");
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(format!("{root}/fuzz/Cargo.toml")).unwrap())
            .unwrap();
    let bins = manifest["bin"]
        .as_array()
        .expect("fuzz/Cargo.toml has [[bin]]s");
    let names: Vec<&str> = bins.iter().filter_map(|b| b["name"].as_str()).collect();
    assert!(
        names.contains(&"config") && names.contains(&"detector"),
        "{names:?}"
    );
    for b in bins {
        let path = b["path"].as_str().expect("a fuzz target's path");
        assert!(
            std::path::Path::new(&format!("{root}/fuzz/{path}")).is_file(),
            "{path}"
        );
    }
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

/// A skipped test passes (libtest has no "skipped"), and its SKIPPED line scrolls away among
/// hundreds: the test binary ends with a tally naming each skipped test and why, after libtest's
/// result line; a run that skipped nothing prints no tally; CI=true still fails the test
/// (issue 19 item 29).
#[test]
fn skipped_tests_are_tallied_at_the_end_of_the_run() {
    let test = "staged::issue_4_pre_commit_framework_runs_this_repository_hook";
    let here = run_own_test(test, None);
    assert_eq!(here.code, 0, "{}{}", here.stdout, here.stderr);
    assert!(here.stdout.contains("1 passed"), "{}", here.stdout);
    let tally: Vec<&str> = here
        .stderr
        .lines()
        .skip_while(|l| !l.starts_with("SKIPPED 1 test: counted as passed above"))
        .collect();
    assert_eq!(tally.len(), 3, "the tally ends stderr: {}", here.stderr);
    assert!(
        tally[1].contains(test) && tally[1].contains("pre-commit is not on PATH"),
        "{}",
        tally[1]
    );
    // The control: a test that runs prints no tally.
    let ran = run_own_test("ci::ci_checks_that_the_fuzz_targets_compile", None);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(!ran.stderr.contains("SKIPPED"), "{}", ran.stderr);
    let ci = run_own_test(test, Some("true"));
    assert_ne!(ci.code, 0, "under CI a skip is a failure");
    // The manifest keeps the integration tests last in `cargo test`.
    let manifest: toml::Value = toml::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["lib"]["doctest"].as_bool(), Some(false));
}
