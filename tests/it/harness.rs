//! Test harness: temp directories and git repositories, the real `keyhound` binary run with a
//! clean environment, and deterministic fake keys generated at test time.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::Deserialize;

/// The binary under test: `KEYHOUND_TEST_BIN` or the one cargo built for this test run.
pub fn bin() -> PathBuf {
    std::env::var_os("KEYHOUND_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_keyhound")))
}

/// What a run of the binary did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The JSON report on stdout.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The JSON report on stdout, typed.
    pub fn report(&self) -> Report {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not a JSON report ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The findings of the JSON report on stdout as (rule, path, line, column).
    pub fn findings(&self) -> Vec<(String, String, u64, u64)> {
        self.report()
            .findings
            .into_iter()
            .map(|f| (f.rule, f.path, f.line, f.column))
            .collect()
    }
}

/// A temp directory that may be a git repository, with fixed identities and dates.
pub struct TestRepo {
    pub dir: tempfile::TempDir,
    pub home: tempfile::TempDir,
    tick: std::cell::Cell<u64>,
}

impl TestRepo {
    /// A plain temp directory (no git).
    pub fn dir() -> TestRepo {
        TestRepo {
            dir: tempfile::tempdir().expect("temp dir"),
            home: tempfile::tempdir().expect("temp home"),
            tick: std::cell::Cell::new(0),
        }
    }

    /// A temp directory with `git init -b main`.
    pub fn git() -> TestRepo {
        let r = TestRepo::dir();
        r.git_ok(&["init", "-q", "-b", "main"]);
        r
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Write a file (creating parent directories).
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> &Self {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("file has a parent")).expect("mkdir");
        std::fs::write(&p, content).expect("write");
        self
    }

    pub fn remove(&self, rel: &str) -> &Self {
        std::fs::remove_file(self.path().join(rel)).expect("remove");
        self
    }

    /// The environment every child process gets: nothing inherited but PATH.
    fn env(&self, cmd: &mut Command) {
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Ada Lovelace")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada Lovelace")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com")
            .env("NO_COLOR", "1");
        let t = 1_700_000_000 + self.tick.get() * 60;
        cmd.env("GIT_AUTHOR_DATE", format!("{t} +0000"))
            .env("GIT_COMMITTER_DATE", format!("{t} +0000"));
    }

    /// Run git in the repository; returns the run.
    pub fn git_run(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new("git");
        cmd.args(args).current_dir(self.path());
        self.env(&mut cmd);
        Run::from(cmd.output().expect("run git"))
    }

    /// Run git in the repository with `PATH` set to `path` instead of the tests' own.
    pub fn git_run_with_path(&self, args: &[&str], path: &OsStr) -> Run {
        let mut cmd = Command::new("git");
        cmd.args(args).current_dir(self.path());
        self.env(&mut cmd);
        cmd.env("PATH", path);
        Run::from(cmd.output().expect("run git"))
    }

    /// Run git and require success; returns trimmed stdout.
    pub fn git_ok(&self, args: &[&str]) -> String {
        let run = self.git_run(args);
        assert_eq!(run.code, 0, "git {args:?} failed:\n{}", run.stderr);
        run.stdout.trim().to_string()
    }

    /// Stage everything and commit; returns the commit id.
    pub fn commit(&self, message: &str) -> String {
        self.tick.set(self.tick.get() + 1);
        self.git_ok(&["add", "-A"]);
        self.git_ok(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git_ok(&["rev-parse", "HEAD"])
    }

    /// Run keyhound in the repository.
    pub fn keyhound(&self, args: &[&str]) -> Run {
        self.keyhound_with_stdin(args, None)
    }

    pub fn keyhound_with_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Run {
        self.keyhound_in(self.path(), args, stdin)
    }

    /// Run keyhound in another directory, with this repository's environment.
    pub fn keyhound_in(&self, dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
        self.keyhound_env(dir, args, stdin, &[])
    }

    /// [`TestRepo::keyhound_in`] with more environment variables.
    pub fn keyhound_env(
        &self,
        dir: &Path,
        args: &[&str],
        stdin: Option<&[u8]>,
        vars: &[(&str, &str)],
    ) -> Run {
        use std::io::Write;
        let mut cmd = Command::new(bin());
        cmd.args(args).current_dir(dir);
        self.env(&mut cmd);
        cmd.envs(vars.iter().copied());
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().expect("spawn keyhound");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .expect("stdin piped")
                .write_all(input)
                .expect("write stdin");
        } else {
            drop(child.stdin.take());
        }
        Run::from(child.wait_with_output().expect("wait keyhound"))
    }
}

/// splitmix64: a tiny deterministic generator for fake key material.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// `n` characters drawn from `alphabet`, never three identical or consecutive in a row.
    pub fn string(&mut self, alphabet: &[u8], n: usize) -> String {
        let mut out: Vec<u8> = Vec::with_capacity(n);
        while out.len() < n {
            let c = alphabet[(self.next() % alphabet.len() as u64) as usize];
            let k = out.len();
            if k >= 2 && (out[k - 1] == c || out[k - 1].wrapping_add(1) == c) {
                continue;
            }
            out.push(c);
        }
        String::from_utf8(out).expect("ascii alphabet")
    }
}

pub const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/// A fake current-format OpenAI project key (`sk-proj-` 74 + marker + 74, base64url).
pub fn openai_key(seed: u64) -> String {
    let mut r = Rng::new(seed);
    loop {
        let a = r.string(BASE64URL, 74);
        let b = r.string(BASE64URL, 74);
        let key = format!("sk-proj-{a}T3BlbkFJ{b}");
        if !looks_like_placeholder(&key) {
            return key;
        }
    }
}

/// A fake Google API key (`AIza` and 35 base64url characters).
pub fn google_key(seed: u64) -> String {
    let mut r = Rng::new(seed);
    loop {
        let key = format!("AIza{}", r.string(BASE64URL, 35));
        if !looks_like_placeholder(&key) {
            return key;
        }
    }
}

fn looks_like_placeholder(key: &str) -> bool {
    let l = key.to_ascii_lowercase();
    [
        "xxxx", "your", "example", "dummy", "sample", "replace", "insert", "redacted",
    ]
    .iter()
    .any(|w| l.contains(w))
}

/// `OPENAI_API_KEY=<key>`: a line holding a generated key that every scan must find, the positive
/// control of a test that asserts some other text gives no finding (so a detector that finds
/// nothing at all fails the test). The key starts at column 16.
pub fn control_line(seed: u64) -> String {
    format!("OPENAI_API_KEY={}\n", openai_key(seed))
}

/// The rule that finds [`openai_key`] and [`control_line`].
pub const OPENAI_RULE: &str = "openai.project-key";

// The JSON report (`--format json`), typed. Fields are added over time: unknown ones are ignored
// and missing ones default, so a test names only the fields it checks.

/// A `--format json` report.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Report {
    pub version: u64,
    pub findings: Vec<FindingJson>,
    pub summary: SummaryJson,
}

/// One finding of a JSON report (also one line of `--format jsonl`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FindingJson {
    pub rule: String,
    pub provider: String,
    pub name: String,
    pub severity: String,
    pub source: String,
    pub path: String,
    pub line: u64,
    pub column: u64,
    pub end_line: u64,
    pub end_column: u64,
    pub redacted: String,
    pub fingerprint: String,
    pub snippet: String,
    pub remediation: String,
    pub revoke_url: String,
    /// Only with `--show-secrets`.
    pub secret: Option<String>,
    /// `base64` for a key found inside encoded text.
    pub encoding: Option<String>,
    /// History audits of several repositories: which one.
    pub repository: Option<String>,
    /// History: the commit that introduced it.
    pub commit: Option<CommitJson>,
    /// With `--verify`: what the provider said.
    pub verification: Option<VerdictJson>,
    /// Only with `--show-suppressed`: what silenced it (`baseline`, `imported`, ...).
    pub suppressed: Option<String>,
}

/// A finding's `verification`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VerdictJson {
    pub status: String,
    pub reason: String,
    pub metadata: std::collections::BTreeMap<String, String>,
}

/// A finding's `commit` (history).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CommitJson {
    pub id: String,
}

/// The `summary` of a JSON report.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SummaryJson {
    pub files: u64,
    pub bytes: u64,
    pub skipped_binary: u64,
    pub skipped_large: u64,
    pub errors: u64,
    pub findings: u64,
    /// Findings the policy silenced.
    pub suppressed: u64,
    pub incomplete: bool,
    /// History: one record per repository.
    pub coverage: Vec<CoverageJson>,
    /// History: one entry per unique secret.
    pub secrets: Vec<SecretJson>,
}

/// A repository's coverage record (`summary.coverage`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CoverageJson {
    pub repository: String,
    pub refs: u64,
    pub commits: u64,
    pub blobs: u64,
    pub blobs_scanned: u64,
    pub blobs_shared: u64,
    pub objects_missing: u64,
    pub commits_skipped: u64,
    pub incomplete: bool,
    pub error: Option<String>,
}

/// A history audit's summary of one secret (`summary.secrets`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SecretJson {
    pub repositories: Vec<String>,
    pub paths: Vec<String>,
    pub present_at_tip: bool,
    pub locations: Vec<LocationJson>,
}

/// One (repository, path) of a secret in an audit of several repositories.
#[derive(Debug, Default, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(default)]
pub struct LocationJson {
    pub repository: String,
    pub path: String,
    pub first_commit: String,
    pub present_at_tip: bool,
}

/// `.keyhound-baseline.json`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BaselineJson {
    pub entries: Vec<serde_json::Value>,
}

// Outside tools (issue 10): a test that needs a tool which is not installed must not pass
// silently. Under CI (`CI` set, as `.ci/run` runs) it fails, because CI installs every tool;
// elsewhere it says SKIPPED on stderr, past the test runner's output capture so that it shows in
// a plain `cargo test`.

/// Whether the tests run in CI (`CI` set to anything but empty, `0` or `false`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"))
}

/// A test cannot run here: under CI a panic, elsewhere a `SKIPPED: <reason>` line on stderr,
/// and the test joins the tally printed when the test binary exits. The caller returns after it.
pub fn skip(reason: &str) {
    assert!(
        !in_ci(),
        "CI=true, so this test must run, but: {reason} (.ci/run installs what the tests need)"
    );
    let mut err = std::io::stderr();
    // Written to the process's stderr, not through eprintln!, which a passing test's capture hides.
    let _ = writeln!(err, "SKIPPED: {} ({reason})", current_test());
    record_skip(current_test(), reason);
}

// The tally of skipped tests (issue 19 item 29). libtest counts a skipped test as passed, and its
// SKIPPED line scrolls away among hundreds of others, so the test binary ends, after libtest's
// own `test result:` line, with the list of the tests that did not run and why. `it` is the last
// test binary `cargo test` runs (the library has no doctests: `doctest = false`), so the tally is
// the last thing a developer sees.

static SKIPPED: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

fn record_skip(test: String, reason: &str) {
    static AT_EXIT: std::sync::Once = std::sync::Once::new();
    SKIPPED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((test, reason.to_string()));
    // libtest returns from main, or calls `exit` when a test failed: both run C `atexit`
    // handlers, after every test thread is done.
    AT_EXIT.call_once(|| {
        // SAFETY: registers a plain function; `atexit` has no other precondition.
        unsafe {
            libc::atexit(print_skipped);
        }
    });
}

/// The tally on stderr: how many tests were skipped (counted as passed above), each with its
/// reason, and how to make them run.
extern "C" fn print_skipped() {
    let mut skipped = SKIPPED.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if skipped.is_empty() {
        return;
    }
    skipped.sort();
    let n = skipped.len();
    let mut text = format!(
        "\nSKIPPED {n} {}: counted as passed above, but {} not run:\n",
        if n == 1 { "test" } else { "tests" },
        if n == 1 { "it did" } else { "they did" }
    );
    for (test, reason) in &skipped {
        text.push_str(&format!("  {test}: {reason}\n"));
    }
    text.push_str(
        "Install what they need (.ci/run shows how; CI=true makes a skipped test fail).\n",
    );
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// An outside tool: the path in `env_var` if that is set, else `name` on PATH. When it is missing
/// this calls [`skip`] and returns None.
pub fn require_tool(name: &str, env_var: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env_var) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Some(p);
        }
        skip(&format!("{env_var}={} is not a file", p.display()));
        return None;
    }
    let found = find_on_path(name, &std::env::var_os("PATH").unwrap_or_default());
    if found.is_none() {
        skip(&format!("{name} is not on PATH and {env_var} is not set"));
    }
    found
}

/// The first `name` in the directories of `path` (a PATH value).
pub fn find_on_path(name: &str, path: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A directory holding only symlinks to `tools`, each found in `search` (a PATH value): a PATH
/// for a child process that must not see anything else installed on this machine, such as a
/// `cargo install`ed keyhound (issue 10). Panics if a tool is not found.
pub fn path_with_only(tools: &[&str], search: &OsStr) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for tool in tools {
        let target = find_on_path(tool, search)
            .unwrap_or_else(|| panic!("{tool} is not on PATH; the tests need it"));
        #[cfg(unix)]
        std::os::unix::fs::symlink(&target, dir.path().join(tool)).expect("symlink");
        #[cfg(not(unix))]
        std::fs::copy(&target, dir.path().join(tool)).expect("copy");
    }
    dir
}

/// The running test's name, from its thread (libtest names each test's thread after it).
fn current_test() -> String {
    std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_string()
}
