//! `keyhound hook install|uninstall`: the git pre-commit hook. Installs into the hooks
//! directory git itself reports (`git rev-parse --git-path hooks`, which honours
//! `core.hooksPath` and worktrees). An existing hook is kept and chained: it is renamed
//! `pre-commit.keyhound-chained` and runs first. The hook fails closed: if keyhound cannot be
//! found or cannot scan, the commit is refused with the reason and the way out.

use std::path::{Path, PathBuf};

/// Marks the hook file as ours.
const MARKER: &str = "# keyhound pre-commit hook";
/// Where a previous hook is kept.
const CHAINED: &str = "pre-commit.keyhound-chained";

/// The hooks directory of the repository at `dir`.
pub(crate) fn hooks_dir(dir: &Path) -> Result<PathBuf, String> {
    let out = crate::git::command_with_hooks()
        .current_dir(dir)
        .args(["rev-parse", "--path-format=absolute", "--git-path", "hooks"])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{}: not a git repository (git rev-parse failed: {})",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// The hook script. `exe` is the keyhound binary that installed it, tried before PATH.
pub(crate) fn script(exe: &Path) -> String {
    let exe = exe.display().to_string().replace('\'', "'\\''");
    format!(
        r#"#!/bin/sh
{MARKER} (written by `keyhound hook install`; remove with `keyhound hook uninstall`).
# It scans what is staged and refuses the commit on a key, or when it cannot scan at all.
hooks=$(dirname "$0")
if [ -x "$hooks/{CHAINED}" ]; then
    "$hooks/{CHAINED}" "$@" || exit $?
fi
kh='{exe}'
[ -x "$kh" ] || kh=$(command -v keyhound 2>/dev/null)
if [ -z "$kh" ]; then
    echo "keyhound: commit refused: the pre-commit hook cannot find keyhound (not at '{exe}', not on PATH)." >&2
    echo "keyhound: install it (cargo install --locked --path <keyhound checkout>), or remove the hook with 'keyhound hook uninstall'." >&2
    echo "keyhound: to commit anyway, once: git commit --no-verify (nothing is scanned then)." >&2
    exit 1
fi
"$kh" staged --hook
status=$?
if [ "$status" -gt 1 ]; then
    echo "keyhound: commit refused: the staged changes could not be scanned (exit $status, see above)." >&2
    echo "keyhound: fix the cause, or commit once without the check: git commit --no-verify" >&2
fi
exit $status
"#
    )
}

/// Install the hook; returns what was done, for the user.
pub(crate) fn install(dir: &Path, exe: &Path) -> Result<String, String> {
    let hooks = hooks_dir(dir)?;
    std::fs::create_dir_all(&hooks).map_err(|e| format!("{}: {e}", hooks.display()))?;
    let hook = hooks.join("pre-commit");
    let mut note = String::new();
    if let Ok(existing) = std::fs::read_to_string(&hook) {
        if existing.contains(MARKER) {
            note = "updated the keyhound hook".into();
        } else {
            let chained = hooks.join(CHAINED);
            if chained.exists() {
                return Err(format!(
                    "{} exists and so does {}; move one of them away first",
                    hook.display(),
                    chained.display()
                ));
            }
            std::fs::rename(&hook, &chained).map_err(|e| format!("{}: {e}", hook.display()))?;
            note = format!(
                "kept the existing hook as {} and chained it (it runs first)",
                chained.display()
            );
        }
    } else if hook.exists() {
        return Err(format!("{}: exists but cannot be read", hook.display()));
    }
    std::fs::write(&hook, script(exe)).map_err(|e| format!("{}: {e}", hook.display()))?;
    make_executable(&hook)?;
    if note.is_empty() {
        note = "installed".into();
    }
    Ok(format!("{}: {note}", hook.display()))
}

/// Remove our hook and put back a chained one.
pub(crate) fn uninstall(dir: &Path) -> Result<String, String> {
    let hooks = hooks_dir(dir)?;
    let hook = hooks.join("pre-commit");
    match std::fs::read_to_string(&hook) {
        Ok(text) if text.contains(MARKER) => {}
        Ok(_) => {
            return Err(format!(
                "{}: not a keyhound hook; left alone",
                hook.display()
            ))
        }
        Err(_) => return Ok(format!("{}: no hook installed", hook.display())),
    }
    std::fs::remove_file(&hook).map_err(|e| format!("{}: {e}", hook.display()))?;
    let chained = hooks.join(CHAINED);
    if chained.exists() {
        std::fs::rename(&chained, &hook).map_err(|e| format!("{}: {e}", chained.display()))?;
        return Ok(format!(
            "{}: removed; the previous hook is back",
            hook.display()
        ));
    }
    Ok(format!("{}: removed", hook.display()))
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> Result<(), String> {
    Ok(())
}

/// What the hook prints under the findings when it blocks a commit: for the git hook, or for
/// the pre-commit framework when keyhound runs under it (it sets `PRE_COMMIT=1` in the hook's
/// environment), where keyhound is in the framework's own environment, not on PATH, and a hook
/// is skipped by its id (issue 19 item 21).
pub(crate) fn block_message() -> String {
    if std::env::var_os("PRE_COMMIT").is_some_and(|v| v == "1") {
        let exe = std::env::current_exe().ok();
        let venv = std::env::var_os("VIRTUAL_ENV").map(std::path::PathBuf::from);
        pre_commit_message(exe.as_deref(), venv.as_deref())
    } else {
        git_hook_message()
    }
}

/// The first lines of every block message: why a key in a commit matters, and the fix.
const WHY_AND_FIX: &str = "\
keyhound: commit refused: the staged changes add the key(s) above.
A key in a commit is a key in every clone, fork and backup of this repository: whoever finds it
can spend its owner's money or read their data, and deleting it later does not remove it from
history. Ways forward:
  1. Remove the key from the file and load it at run time instead: from an environment
     variable such as OPENAI_API_KEY, read at run time, or from your secret manager. Then
     `git add` the file again. If the key was ever pushed or shared, revoke it too (see
     `revoke` above).
  2. If it is not a real key (a test fixture, a documented example), add the comment
     `keyhound:allow` on its line, or accept it everywhere (a baseline entry applies to every
     scan, not to this commit only): ";

fn git_hook_message() -> String {
    format!(
        "{WHY_AND_FIX}`keyhound baseline create` writes
     .keyhound-baseline.json at the repository root, which every command applies, this hook
     included.
  3. Bypass the check for this one commit: git commit --no-verify
     (nothing is scanned then; the key, if real, lands in history and must be rotated)."
    )
}

/// The pre-commit framework's version: the baseline made with the keyhound this hook runs
/// (`exe`, inside the framework's environment), and `SKIP=<hook id>` to bypass keyhound alone.
/// The hook id follows from where the framework installed keyhound: its Python environment
/// (`keyhound`; `venv`, the hook's `VIRTUAL_ENV`, tells it too when that hook found keyhound on
/// PATH), its Rust one (`keyhound-src`), or the system (`keyhound-system`).
fn pre_commit_message(exe: Option<&std::path::Path>, venv: Option<&std::path::Path>) -> String {
    let shown = exe.map_or_else(|| "keyhound".to_string(), |p| p.display().to_string());
    // The names of the folders holding a path: pre-commit's environments are `py_env-VERSION`
    // and `rustenv-VERSION` folders.
    let inside = |p: Option<&std::path::Path>, env: &str| {
        p.into_iter()
            .flat_map(std::path::Path::ancestors)
            .filter_map(std::path::Path::file_name)
            .any(|n| n.to_string_lossy().starts_with(env))
    };
    let id = if inside(exe, "py_env-") || inside(venv, "py_env-") {
        "keyhound"
    } else if inside(exe, "rustenv-") {
        "keyhound-src"
    } else {
        "keyhound-system"
    };
    let place = if inside(exe, "py_env-") || inside(exe, "rustenv-") {
        " (it lives in pre-commit's environment, not on your PATH)"
    } else {
        ""
    };
    let quoted = if shown.contains([' ', '\'', '"']) {
        format!("'{}'", shown.replace('\'', "'\\''"))
    } else {
        shown
    };
    format!(
        "{WHY_AND_FIX}run the keyhound this pre-commit hook runs{place},
     from the repository root:
       {quoted} baseline create
     It writes .keyhound-baseline.json, which every command and this hook apply; commit it.
  3. Bypass keyhound for this one commit, the other hooks still running (use the id your
     .pre-commit-config.yaml gives the keyhound hook):
       SKIP={id} git commit
     (nothing is scanned then; the key, if real, lands in history and must be rotated)."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pre_commit_advice_names_the_hook_id_from_its_environment() {
        let cases = [
            (
                "/home/u/.cache/pre-commit/repoab12/py_env-python3/bin/keyhound",
                "SKIP=keyhound git",
            ),
            (
                "/home/u/.cache/pre-commit/repoab12/rustenv-system/bin/keyhound",
                "SKIP=keyhound-src git",
            ),
            ("/usr/local/bin/keyhound", "SKIP=keyhound-system git"),
        ];
        for (exe, skip) in cases {
            let text = pre_commit_message(Some(std::path::Path::new(exe)), None);
            assert!(text.contains(skip), "{exe}: {text}");
            assert!(text.contains(&format!("{exe} baseline create")), "{text}");
            assert!(text.contains("accept it everywhere"), "{text}");
            assert!(!text.contains("--no-verify"), "{text}");
        }
        let odd = pre_commit_message(Some(std::path::Path::new("/a b/it's/keyhound")), None);
        // The python hook that found keyhound on PATH: the id from its virtualenv.
        let venv = std::path::Path::new("/c/pre-commit/repoab12/py_env-python3");
        let on_path =
            pre_commit_message(Some(std::path::Path::new("/usr/bin/keyhound")), Some(venv));
        assert!(on_path.contains("SKIP=keyhound git"), "{on_path}");
        assert!(!on_path.contains("not on your PATH"), "{on_path}");
        assert!(
            odd.contains("'/a b/it'\\''s/keyhound' baseline create"),
            "{odd}"
        );
    }
}
