//! The keyhound wheel (issue 14), as a machine without Rust gets it: `pip install` of the wheel
//! `.ci/run` builds (`KEYHOUND_TEST_WHEEL`) into a fresh virtualenv, then keyhound and the
//! pre-commit framework's `language: python` hook run with a PATH that holds that virtualenv and
//! git, and no cargo or rustc. Without the wheel (or Python, or pre-commit) a test says SKIPPED;
//! under CI it fails.
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{find_on_path, openai_key, require_tool, skip, Run, TestRepo, OPENAI_RULE};

/// The wheel under test: `KEYHOUND_TEST_WHEEL` (`.ci/run` sets it to the wheel it built).
pub fn wheel() -> Option<PathBuf> {
    match std::env::var_os("KEYHOUND_TEST_WHEEL").map(PathBuf::from) {
        Some(p) if p.is_file() => Some(p),
        Some(p) => {
            skip(&format!(
                "KEYHOUND_TEST_WHEEL={} is not a file",
                p.display()
            ));
            None
        }
        None => {
            skip("KEYHOUND_TEST_WHEEL is not set (.ci/run builds the wheel and sets it)");
            None
        }
    }
}

/// The wheel under test when `KEYHOUND_TEST_WHEEL` names a file; `None` (and no SKIPPED line)
/// otherwise, for a test that has something to check without it.
pub fn wheel_if_given() -> Option<PathBuf> {
    std::env::var_os("KEYHOUND_TEST_WHEEL")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
}

/// A fresh virtualenv with the wheel installed by pip, offline (`--no-index`: the wheel needs
/// nothing else).
struct Venv {
    dir: tempfile::TempDir,
}

impl Venv {
    fn with_wheel(python: &Path, wheel: &Path) -> Venv {
        let dir = tempfile::tempdir().unwrap();
        let made = Command::new(python)
            .args(["-m", "venv"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(made.status.success(), "{}", text(&made));
        let pip = Command::new(dir.path().join("bin/pip"))
            .args([
                "install",
                "--quiet",
                "--no-index",
                "--disable-pip-version-check",
            ])
            .arg(wheel)
            .output()
            .unwrap();
        assert!(
            pip.status.success(),
            "pip install {wheel:?}:\n{}",
            text(&pip)
        );
        Venv { dir }
    }

    fn bin(&self) -> PathBuf {
        self.dir.path().join("bin")
    }
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Programs a machine without Rust (and without keyhound, but the one under test) lacks.
const ABSENT: &[&str] = &["cargo", "rustc", "rustup", "keyhound"];

/// This machine's PATH as a machine without Rust has it: `first` (if any), then each folder of
/// PATH, except that a folder holding one of [`ABSENT`] is replaced by a folder of symlinks to
/// everything else in it. So git and the tools its scripts call are all there, and no cargo,
/// rustc or keyhound but one in `first`. The returned folders must live as long as the PATH.
pub fn path_without_rust(first: Option<&Path>) -> (OsString, Vec<tempfile::TempDir>) {
    let mut dirs: Vec<PathBuf> = first.map(Path::to_path_buf).into_iter().collect();
    let mut keep = Vec::new();
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        if !ABSENT.iter().any(|name| dir.join(name).exists()) {
            dirs.push(dir);
            continue;
        }
        let copy = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name();
            if !ABSENT.iter().any(|a| name == *a) {
                #[cfg(unix)]
                let _ = std::os::unix::fs::symlink(entry.path(), copy.path().join(&name));
            }
        }
        dirs.push(copy.path().to_path_buf());
        keep.push(copy);
    }
    let path = std::env::join_paths(dirs).unwrap();
    for absent in ["cargo", "rustc", "rustup"] {
        assert!(
            find_on_path(absent, &path).is_none(),
            "{absent} is on {path:?}"
        );
    }
    (path, keep)
}

/// The names of an ELF file's sections (64-bit, little-endian: what the wheel's x86_64 and
/// aarch64 Linux binaries are), or None for another format.
fn elf_sections(bytes: &[u8]) -> Option<Vec<String>> {
    if bytes.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let u16_at = |at: usize| u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap()) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
    let (shoff, shentsize, shnum, shstrndx) =
        (u64_at(0x28), u16_at(0x3a), u16_at(0x3c), u16_at(0x3e));
    let header = |i: usize| shoff + i * shentsize;
    let names_at = u64_at(header(shstrndx) + 0x18);
    Some(
        (0..shnum)
            .map(|i| {
                let start = names_at + u32_at(header(i));
                let len = bytes[start..].iter().position(|&b| b == 0).unwrap();
                String::from_utf8_lossy(&bytes[start..start + len]).into_owned()
            })
            .collect(),
    )
}

/// Run `pre-commit args...` in `repo` with `path` as PATH and a pre-commit cache of its own in
/// `home` (a first run: pre-commit builds the hook's environment).
fn pre_commit(
    pre_commit: &Path,
    repo: &TestRepo,
    home: &Path,
    path: &OsString,
    args: &[&str],
) -> Run {
    let out = Command::new(pre_commit)
        .args(args)
        .current_dir(repo.path())
        .env_clear()
        .env("PATH", path)
        .env("HOME", repo.home.path())
        .env("PRE_COMMIT_HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Ada Lovelace")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada Lovelace")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Issue 14: `pip install` of the wheel puts a working keyhound on PATH, with no Rust anywhere:
/// found by name, it reports a key and exits 1. The binary in the wheel is stripped (no symbol
/// table, no debug info).
#[test]
fn issue_14_pip_install_of_the_wheel_puts_keyhound_on_path_without_rust() {
    let (Some(wheel), Some(python)) = (wheel(), require_tool("python3", "KEYHOUND_PYTHON")) else {
        return;
    };
    let venv = Venv::with_wheel(&python, &wheel);
    let (path, _tools) = path_without_rust(Some(&venv.bin()));
    assert_eq!(
        find_on_path("keyhound", &path),
        Some(venv.bin().join("keyhound"))
    );
    let repo = TestRepo::dir();
    repo.write("app.env", format!("OPENAI_API_KEY={}\n", openai_key(140)));
    let out = Command::new("sh")
        .args(["-c", "keyhound scan . --format json"])
        .current_dir(repo.path())
        .env_clear()
        .env("PATH", &path)
        .env("HOME", repo.home.path())
        .output()
        .unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.findings(),
        vec![(OPENAI_RULE.to_string(), "app.env".to_string(), 1, 16)]
    );
    // Stripped: no symbol table, no debug info (checked where the binary is ELF).
    let binary = std::fs::read(venv.bin().join("keyhound")).unwrap();
    if let Some(sections) = elf_sections(&binary) {
        assert!(sections.iter().any(|s| s == ".text"), "{sections:?}");
        let kept: Vec<&String> = sections
            .iter()
            .filter(|s| *s == ".symtab" || s.starts_with(".debug_"))
            .collect();
        assert!(
            kept.is_empty(),
            "the wheel's keyhound is not stripped: {kept:?}"
        );
    }
}

/// Issue 14, done when: on a machine without a Rust toolchain, `pip install` of the built wheel,
/// then `pre-commit try-repo` with the `language: python` hook (`keyhound`) refuses a staged key;
/// once the key is gone it passes. pre-commit builds the hook's environment from scratch (its own
/// cache, empty): `pip install .` of this repository must not need cargo.
#[test]
fn issue_14_python_hook_blocks_a_key_after_pip_install_of_the_wheel_without_rust() {
    let (Some(wheel), Some(python), Some(framework)) = (
        wheel(),
        require_tool("python3", "KEYHOUND_PYTHON"),
        require_tool("pre-commit", "KEYHOUND_PRE_COMMIT"),
    ) else {
        return;
    };
    let venv = Venv::with_wheel(&python, &wheel);
    let (path, _tools) = path_without_rust(Some(&venv.bin()));
    let home = tempfile::tempdir().unwrap();
    let repo = TestRepo::git();
    repo.write("a.env", format!("K={}\n", openai_key(141)));
    repo.git_ok(&["add", "a.env"]);
    let this_repo = env!("CARGO_MANIFEST_DIR");
    let args = ["try-repo", this_repo, "keyhound", "--verbose"];
    let run = pre_commit(&framework, &repo, home.path(), &path, &args);
    let shown = format!("{}{}", run.stdout, run.stderr);
    assert_ne!(run.code, 0, "the python hook passed a staged key:\n{shown}");
    assert!(shown.contains("a.env:1:3"), "{shown}");
    repo.write("a.env", "K=${OPENAI_API_KEY}\n");
    repo.git_ok(&["add", "a.env"]);
    let run = pre_commit(&framework, &repo, home.path(), &path, &args);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

/// Issue 14: the `language: python` hook with no wheel and no keyhound on PATH fails closed: the
/// commit is refused, and the output says keyhound was not found.
#[test]
fn issue_14_python_hook_without_a_wheel_refuses_the_commit() {
    let Some(framework) = require_tool("pre-commit", "KEYHOUND_PRE_COMMIT") else {
        return;
    };
    let (path, _tools) = path_without_rust(None);
    assert!(find_on_path("keyhound", &path).is_none());
    let home = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pre-commit-home");
    let repo = TestRepo::git();
    repo.write("notes.md", "nothing secret\n");
    repo.git_ok(&["add", "notes.md"]);
    let this_repo = env!("CARGO_MANIFEST_DIR");
    let run = pre_commit(
        &framework,
        &repo,
        &home,
        &path,
        &["try-repo", this_repo, "keyhound", "--verbose"],
    );
    let shown = format!("{}{}", run.stdout, run.stderr);
    assert_ne!(run.code, 0, "the hook passed without keyhound:\n{shown}");
    assert!(shown.contains("Executable `keyhound` not found"), "{shown}");
}

/// README's Quick start install block, run as written (issue 19 item 19) in a checkout-like
/// folder holding the wheel under `target/wheels/`, with a HOME of its own: `keyhound` is found
/// on PATH and is the one the block linked, `keyhound scan .` passes, and `python3` is still the
/// one it was before the block ran. It put `~/.keyhound/bin`, the virtualenv's folder with its
/// own `python3`, first on PATH before, which shadowed the system Python.
#[test]
fn quick_start_install_puts_only_keyhound_on_path() {
    let Some(wheel) = wheel() else {
        return;
    };
    let blocks = crate::ci::blocks_in("README.md", "## Quick start");
    let install = blocks[1].join("\n");
    let checkout = TestRepo::git();
    checkout.write(".gitignore", "target/\n");
    let wheels = checkout.path().join("target/wheels");
    std::fs::create_dir_all(&wheels).unwrap();
    std::fs::copy(&wheel, wheels.join(wheel.file_name().unwrap())).unwrap();
    let home = checkout.home.path();
    // The PATH of a machine without keyhound: folders holding one (`cargo install` put one in
    // ~/.cargo/bin before the tests in CI) are left out, so the block's own link is what runs.
    let path = std::env::join_paths(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .filter(|dir| !dir.join("keyhound").exists()),
    )
    .expect("PATH entries join");
    let run = |script: &str| {
        let out = Command::new("bash")
            .args(["-c", script])
            .current_dir(checkout.path())
            .env("HOME", home)
            .env("PATH", &path)
            .env("PIP_NO_INDEX", "1")
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "{script}\n{}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let before = run("command -v python3");
    let after = run(&format!(
        "set -e\n{install}\necho \"python3=$(command -v python3)\"\necho \"keyhound=$(command -v keyhound)\"\n"
    ));
    assert!(
        after.contains(&format!("python3={}", before.trim())),
        "the install changed which python3 runs: before {before}, after:\n{after}"
    );
    assert!(
        after.contains(&format!(
            "keyhound={}/.local/bin/keyhound\n",
            home.display()
        )),
        "{after}"
    );
    let linked = std::fs::read_link(home.join(".local/bin/keyhound")).unwrap();
    assert_eq!(linked, home.join(".keyhound/bin/keyhound"));
}
