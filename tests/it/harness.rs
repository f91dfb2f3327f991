//! Test harness: temp directories and git repositories, the real `keyhound` binary run with a
//! clean environment, and deterministic fake keys generated at test time.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
        use std::io::Write;
        let mut cmd = Command::new(bin());
        cmd.args(args).current_dir(self.path());
        self.env(&mut cmd);
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

fn looks_like_placeholder(key: &str) -> bool {
    let l = key.to_ascii_lowercase();
    [
        "xxxx", "your", "example", "dummy", "sample", "replace", "insert", "redacted",
    ]
    .iter()
    .any(|w| l.contains(w))
}
