//! Mirrors of the list's git URLs, kept in a cache directory so the next audit only fetches
//! what is new. A mirror is what `git clone --mirror` makes (a bare repository whose
//! `origin` fetches `+refs/*:refs/*` and prunes), built as `git init --bare` plus `git fetch`
//! so that credentials in the URL are neither written to the mirror's config nor put on a
//! command line (other users of the machine can read both): git gets the URL through its
//! environment (`GIT_CONFIG_COUNT`), the mirror's config keeps only the redacted URL. A
//! clone goes to a temporary folder renamed into place, so a pod killed midway leaves no half
//! mirror; a later run refreshes a mirror with `git fetch --prune`.
//!
//! Every message from git is redacted ([`super::list::redact_in`]) before it goes anywhere.
//! Git never prompts (`GIT_TERMINAL_PROMPT=0`, ssh in batch mode): a batch job has nobody to
//! answer.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::list::{redact_in, redact_url};
use crate::error::Error;

/// A mirror ready to audit.
#[derive(Debug)]
pub struct Mirror {
    pub path: PathBuf,
    /// The refresh failed: the mirror holds what an earlier run fetched. Says why, and when
    /// that earlier fetch was.
    pub stale: Option<String>,
}

/// The mirror cache: `--cache-dir`, else `$XDG_CACHE_HOME/keyhound/mirrors`, else
/// `~/.cache/keyhound/mirrors`.
pub fn cache_dir(given: Option<&Path>) -> Result<PathBuf, Error> {
    let dir = match given {
        Some(dir) => dir.to_path_buf(),
        None => std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .ok_or_else(|| {
                Error::new("no cache directory for mirrors: set HOME or XDG_CACHE_HOME, or pass --cache-dir")
            })?
            .join("keyhound")
            .join("mirrors"),
    };
    std::fs::create_dir_all(&dir).map_err(|e| {
        Error::new(format!(
            "{}: cannot create the mirror cache: {e}",
            dir.display()
        ))
    })?;
    Ok(dir)
}

/// The folder of a URL's mirror: the redacted URL made file-name safe, and a short hash of it
/// (two URLs that differ only in their credentials share a mirror).
pub fn folder_name(url: &str) -> String {
    let clean = redact_url(url);
    let tail = clean.split_once("://").map_or(clean.as_str(), |(_, r)| r);
    let mut name: String = tail
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    name = name.trim_matches(['_', '.']).to_string();
    if name.len() > 80 {
        name = name[name.len() - 80..].to_string();
    }
    let hash: String = Sha256::digest(clean.as_bytes())[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{name}-{hash}.git")
}

/// Mirror `url` into `cache`, or refresh the mirror already there. `Err` when there is no
/// mirror to audit (the clone failed): a redacted one-line reason.
pub fn mirror(cache: &Path, url: &str) -> Result<Mirror, String> {
    let path = cache.join(folder_name(url));
    if path.join("HEAD").is_file() {
        return Ok(match fetch(&path, url) {
            Ok(()) => Mirror { path, stale: None },
            Err(why) => {
                let when = fetched_at(&path)
                    .map(|t| crate::scan::history::rfc3339(t, 0))
                    .unwrap_or_else(|| "an earlier run".into());
                Mirror {
                    stale: Some(format!(
                        "fetch failed ({why}); audited the mirror as fetched at {when}"
                    )),
                    path,
                }
            }
        });
    }
    let tmp = cache.join(format!(".{}.tmp-{}", folder_name(url), std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let made = init(&tmp, url).and_then(|()| fetch(&tmp, url));
    let made = made.and_then(|()| {
        std::fs::rename(&tmp, &path)
            .map_err(|e| format!("cannot move the new mirror into {}: {e}", path.display()))
    });
    match made {
        Ok(()) => Ok(Mirror { path, stale: None }),
        Err(why) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(format!("clone failed: {why}"))
        }
    }
}

/// An empty bare repository set up as `git clone --mirror` would, without the URL.
fn init(dir: &Path, url: &str) -> Result<(), String> {
    git(None, &["init", "-q", "--bare", &dir.to_string_lossy()], url)?;
    for (key, value) in [
        ("remote.origin.fetch", "+refs/*:refs/*"),
        ("remote.origin.mirror", "true"),
        ("keyhound.url", &redact_url(url)),
    ] {
        git(Some(dir), &["config", key, value], url)?;
    }
    Ok(())
}

/// `git fetch --prune origin` with the URL (credentials and all) given through the environment;
/// records when it succeeded.
fn fetch(dir: &Path, url: &str) -> Result<(), String> {
    git(
        Some(dir),
        &[
            "fetch",
            "--prune",
            "--quiet",
            "--no-write-fetch-head",
            "origin",
        ],
        url,
    )?;
    let now = crate::scan::history::now().to_string();
    let _ = git(Some(dir), &["config", "keyhound.fetched", &now], url);
    Ok(())
}

/// When the mirror was last fetched (seconds since the epoch).
fn fetched_at(dir: &Path) -> Option<i64> {
    let out = crate::git::command()
        .arg("-C")
        .arg(dir)
        .args(["config", "keyhound.fetched"])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// Run git (in `dir`) with `remote.origin.url` set to `url` through the environment, no
/// prompts; the error is git's last message line, redacted.
fn git(dir: Option<&Path>, args: &[&str], url: &str) -> Result<(), String> {
    let mut cmd = crate::git::command();
    if let Some(dir) = dir {
        cmd.arg("-C").arg(dir);
    }
    cmd.args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null());
    if std::env::var_os("GIT_SSH_COMMAND").is_none() && std::env::var_os("GIT_SSH").is_none() {
        cmd.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
    }
    // Config from the environment comes after the user's own GIT_CONFIG_COUNT entries.
    let n: usize = std::env::var("GIT_CONFIG_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    cmd.env(format!("GIT_CONFIG_KEY_{n}"), "remote.origin.url")
        .env(format!("GIT_CONFIG_VALUE_{n}"), url)
        .env("GIT_CONFIG_COUNT", (n + 1).to_string());
    let out = cmd.output().map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let said = stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("git failed")
        .to_string();
    Err(redact_in(&said, url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_are_safe_and_credential_free() {
        let a = folder_name("https://user:s3cret-pw@github.com/org/repo.git");
        let b = folder_name("https://other:t0ken-xyz@github.com/org/repo.git");
        assert_eq!(a, b);
        assert!(a.starts_with("github.com_org_repo.git-"), "{a}");
        assert!(!a.contains("s3cret"));
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')));
        assert_ne!(a, folder_name("https://github.com/org/repo2.git"));
    }
}
