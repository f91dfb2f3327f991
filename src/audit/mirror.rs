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
use std::process::Stdio;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::list::{redact_in, redact_url};
use crate::error::Error;

/// A mirror ready to audit.
#[derive(Debug)]
pub(crate) struct Mirror {
    pub path: PathBuf,
    /// The refresh failed: the mirror holds what an earlier run fetched. Says why, and when
    /// that earlier fetch was.
    pub stale: Option<String>,
}

/// The mirror cache: `--cache-dir`, else `$XDG_CACHE_HOME/keyhound/mirrors`, else
/// `~/.cache/keyhound/mirrors`.
pub(crate) fn cache_dir(given: Option<&Path>) -> Result<PathBuf, Error> {
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
    sweep(&dir);
    Ok(dir)
}

/// The folder of a URL's mirror: the redacted URL made file-name safe, and a short hash of it
/// (two URLs that differ only in their credentials share a mirror).
pub(crate) fn folder_name(url: &str) -> String {
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

/// Mirror `url` into `cache`, or refresh the mirror already there, each git run ending by
/// `deadline` at the latest (`--fetch-timeout`: git is killed, the repository recorded as not
/// audited or audited as last fetched). `Err` when there is no mirror to audit (the transport is
/// refused, or the clone failed): a redacted one-line reason.
pub(crate) fn mirror(cache: &Path, url: &str, timeout: Duration) -> Result<Mirror, String> {
    let remote = Remote::new(url)?;
    let deadline = Deadline {
        at: Instant::now() + timeout,
        timeout,
    };
    let path = cache.join(folder_name(url));
    if path.join("HEAD").is_file() {
        return Ok(match fetch(&path, &remote, &deadline) {
            Ok(()) => Mirror { path, stale: None },
            Err(why) => {
                let when = fetched_at(&path, &remote)
                    .map(|t| crate::dates::rfc3339(t, 0))
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
    let tmp = cache.join(format!(
        ".{}{TEMP_MARK}{}",
        folder_name(url),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    let made = init(&tmp, &remote, &deadline).and_then(|()| fetch(&tmp, &remote, &deadline));
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

/// What names a clone in progress: `.NAME.tmp-PID` in the cache.
const TEMP_MARK: &str = ".tmp-";

/// Remove the half-made mirrors of runs that died (`.NAME.tmp-PID` whose process is gone:
/// killed, or the pod evicted); a clone under way in another live process is left alone.
fn sweep(cache: &Path) {
    let Ok(entries) = std::fs::read_dir(cache) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((_, pid)) = name.rsplit_once(TEMP_MARK) else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if name.starts_with('.') && pid != std::process::id() && !alive(pid) {
            crate::diag::note(&format!(
                "{}: removing a partial mirror left by process {pid}, which is gone",
                entry.path().display()
            ));
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Whether process `pid` exists on this machine.
#[cfg(unix)]
fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // Signal 0 checks only; EPERM means it exists under another user.
    // SAFETY: kill with signal 0 sends nothing and touches no memory.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Elsewhere a partial mirror is never taken for a dead run's.
#[cfg(not(unix))]
fn alive(_pid: u32) -> bool {
    true
}

/// The transports an audit fetches over (`GIT_ALLOW_PROTOCOL`; an scp-like `host:path` is ssh).
/// Never `ext::` (it runs a command), `fd::` or another remote helper.
const TRANSPORTS: &str = "https:ssh:git:file";

/// Below this many bytes a second for [`LOW_SPEED_SECONDS`], git gives up on an HTTP transfer.
const LOW_SPEED_BYTES: u64 = 1000;
const LOW_SPEED_SECONDS: u64 = 60;

/// A URL as git gets it: without credentials, which go in an `Authorization` header through
/// git's environment (issue 19 item 1), never on a command line.
struct Remote {
    /// The URL as listed, credentials included: only to redact git's messages.
    listed: String,
    /// The URL git is given.
    clean: String,
    /// `Authorization: Basic ...` for an http(s) URL that carries credentials.
    header: Option<String>,
    /// `GIT_ALLOW_PROTOCOL`.
    allow: String,
}

impl Remote {
    /// Check the transport and take the credentials out of `url`.
    fn new(url: &str) -> Result<Remote, String> {
        let refused = |what: &str| {
            Err(format!(
                "{what} is not allowed: an audit fetches over https, ssh, git and file only"
            ))
        };
        let Some((scheme, rest)) = url.split_once("://") else {
            // `transport::address` runs a remote helper (`ext::` runs any command).
            let head = &url[..url.find('/').unwrap_or(url.len())];
            if let Some((helper, _)) = head.split_once("::") {
                return refused(&format!("the transport {helper}::"));
            }
            // scp-like `[user@]host:path` is ssh; its user names an account, not a secret.
            return Ok(Remote {
                listed: url.into(),
                clean: url.into(),
                header: None,
                allow: TRANSPORTS.into(),
            });
        };
        let scheme = scheme.to_ascii_lowercase();
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (userinfo, host) = match rest[..end].rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, &rest[..end]),
        };
        let tail = &rest[end..];
        let mut allow = TRANSPORTS.to_string();
        match scheme.as_str() {
            "https" | "git" | "file" | "ssh" | "git+ssh" | "ssh+git" => {}
            // Plain http only to this machine (a local mirror, a test server): elsewhere the
            // credentials and the code would cross the network unencrypted.
            "http" if loopback(host) => allow.push_str(":http"),
            "http" => return refused("plain http to another machine (use https)"),
            other => return refused(&format!("the transport {other}://")),
        }
        let web = matches!(scheme.as_str(), "https" | "http");
        let (user, password) = match userinfo {
            Some(u) => match u.split_once(':') {
                Some((user, pw)) => (Some(user), Some(pw)),
                None => (Some(u), None),
            },
            None => (None, None),
        };
        let (clean, header) = match (web, user) {
            (true, Some(user)) => {
                use base64::Engine;
                let pair = format!(
                    "{}:{}",
                    percent_decode(user),
                    password.map(percent_decode).unwrap_or_default()
                );
                let basic = base64::engine::general_purpose::STANDARD.encode(pair);
                (
                    format!("{scheme}://{host}{tail}"),
                    Some(format!("Authorization: Basic {basic}")),
                )
            }
            // ssh keeps its user (an account) and drops a password (ssh takes none from a
            // URL); git:// and file:// have no use for credentials.
            (false, Some(user)) if scheme.contains("ssh") => {
                (format!("{scheme}://{user}@{host}{tail}"), None)
            }
            (false, Some(_)) => (format!("{scheme}://{host}{tail}"), None),
            (_, None) => (url.to_string(), None),
        };
        Ok(Remote {
            listed: url.into(),
            clean,
            header,
            allow,
        })
    }
}

/// `localhost`, `127.x.x.x` or `[::1]`, with or without a port.
fn loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `%XX` escapes of URL user information decoded (a token or password with `@` or `:` in it
/// is written escaped).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied(),
            bytes.get(i + 2).copied(),
        ) {
            (b'%', Some(a), Some(b)) if hex(a).is_some() && hex(b).is_some() => {
                out.push((hex(a).unwrap_or(0) * 16 + hex(b).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// When every git run of one repository must have ended.
struct Deadline {
    at: Instant,
    /// `--fetch-timeout`, for the message.
    timeout: Duration,
}

/// An empty bare repository set up as `git clone --mirror` would, without the URL.
fn init(dir: &Path, remote: &Remote, deadline: &Deadline) -> Result<(), String> {
    let dir_arg = dir.to_string_lossy();
    git(None, &["init", "-q", "--bare", &dir_arg], remote, deadline)?;
    for (key, value) in [
        ("remote.origin.fetch", "+refs/*:refs/*"),
        ("remote.origin.mirror", "true"),
        ("keyhound.url", &redact_url(&remote.listed)),
    ] {
        git(Some(dir), &["config", key, value], remote, deadline)?;
    }
    Ok(())
}

/// `git fetch --prune origin` with the URL given through the environment; records when it
/// succeeded.
fn fetch(dir: &Path, remote: &Remote, deadline: &Deadline) -> Result<(), String> {
    git(
        Some(dir),
        &[
            "fetch",
            "--prune",
            "--quiet",
            "--no-write-fetch-head",
            "origin",
        ],
        remote,
        deadline,
    )?;
    let now = crate::dates::now().to_string();
    let _ = git(
        Some(dir),
        &["config", "keyhound.fetched", &now],
        remote,
        deadline,
    );
    Ok(())
}

/// When the mirror was last fetched (seconds since the epoch).
fn fetched_at(dir: &Path, remote: &Remote) -> Option<i64> {
    let deadline = Deadline {
        at: Instant::now() + Duration::from_secs(30),
        timeout: Duration::from_secs(30),
    };
    git(
        Some(dir),
        &["config", "keyhound.fetched"],
        remote,
        &deadline,
    )
    .ok()?
    .trim()
    .parse()
    .ok()
}

/// Run git (in `dir`): the one place an audit starts git. `remote.origin.url` (credential-free),
/// the credentials' header, git's low-speed limits and the allowed transports go through the
/// environment, after the user's own `GIT_CONFIG_COUNT` entries; no prompts; killed (with the
/// helpers it started: its own process group) at the deadline. Its standard output, or the
/// error: git's last message line, redacted.
fn git(
    dir: Option<&Path>,
    args: &[&str],
    remote: &Remote,
    deadline: &Deadline,
) -> Result<String, String> {
    let mut cmd = crate::git::command();
    if let Some(dir) = dir {
        cmd.arg("-C").arg(dir);
    }
    cmd.args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ALLOW_PROTOCOL", &remote.allow)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if std::env::var_os("GIT_SSH_COMMAND").is_none() && std::env::var_os("GIT_SSH").is_none() {
        cmd.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
    }
    let mut config: Vec<(String, String)> = vec![
        ("remote.origin.url".into(), remote.clean.clone()),
        ("http.lowSpeedLimit".into(), LOW_SPEED_BYTES.to_string()),
        ("http.lowSpeedTime".into(), LOW_SPEED_SECONDS.to_string()),
    ];
    if let Some(header) = &remote.header {
        // Scoped to the repository's URL: git sends it there and nowhere else.
        config.push((format!("http.{}.extraHeader", remote.clean), header.clone()));
    }
    let n: usize = std::env::var("GIT_CONFIG_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    for (i, (key, value)) in config.iter().enumerate() {
        cmd.env(format!("GIT_CONFIG_KEY_{}", n + i), key)
            .env(format!("GIT_CONFIG_VALUE_{}", n + i), value);
    }
    cmd.env("GIT_CONFIG_COUNT", (n + config.len()).to_string());
    // Its own process group, so the deadline stops git's helpers with it; and on Linux git dies
    // with keyhound (Ctrl-C reaches keyhound's group only).
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches no memory of the parent.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| format!("cannot run git: {e}"))?;
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut text);
            }
            text
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline.at => {
                std::thread::sleep(Duration::from_millis(20));
            }
            _ => {
                kill(&mut child);
                break None;
            }
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let Some(status) = status else {
        return Err(format!(
            "no answer within {} s (--fetch-timeout): git was stopped",
            deadline.timeout.as_secs()
        ));
    };
    if status.success() {
        return Ok(String::from_utf8_lossy(&stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&stderr);
    let said = stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("git failed")
        .to_string();
    Err(redact_in(&said, &remote.listed))
}

/// Kill git and what it started (`git-remote-https`, ssh): its whole process group.
fn kill(child: &mut std::process::Child) {
    #[cfg(unix)]
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: a plain signal to the process group git leads (`process_group(0)`).
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
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

    #[test]
    fn credentials_leave_the_url_for_a_header() {
        // issue 19 item 1: built at run time, nothing key-shaped in the repository.
        let pw = ["p%40ss", "word"].concat();
        let r = Remote::new(&format!("https://me:{pw}@git.example.com:8443/org/r.git")).unwrap();
        assert_eq!(r.clean, "https://git.example.com:8443/org/r.git");
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode("me:p@ssword");
        assert_eq!(
            r.header.as_deref(),
            Some(&*format!("Authorization: Basic {basic}"))
        );
        assert_eq!(r.allow, TRANSPORTS);
        // A token given as the user name alone.
        let r = Remote::new("https://tok123@github.com/o/r").unwrap();
        assert_eq!(r.clean, "https://github.com/o/r");
        assert!(r.header.is_some());
        // ssh keeps its account and drops a password; git:// drops both; none: unchanged.
        let r = Remote::new("ssh://git:pw99@host/o/r").unwrap();
        assert_eq!(
            (r.clean.as_str(), r.header.is_none()),
            ("ssh://git@host/o/r", true)
        );
        let r = Remote::new("git://u:pw99@127.0.0.1:9418/r").unwrap();
        assert_eq!(r.clean, "git://127.0.0.1:9418/r");
        for url in [
            "git@github.com:o/r.git",
            "file:///srv/r.git",
            "https://h/o/r",
        ] {
            let r = Remote::new(url).unwrap();
            assert_eq!((r.clean.as_str(), r.header.is_none()), (url, true));
        }
    }

    #[test]
    fn only_https_ssh_git_and_file_transports() {
        // issue 19 item 8
        for url in [
            "ext::sh -c touch% /tmp/x",
            "fd::7",
            "foo::bar/baz",
            "http://192.0.2.1/o/r",
            "ftp://host/o/r",
            "custom://host/o/r",
        ] {
            let e = Remote::new(url).err().unwrap_or_default();
            assert!(e.contains("not allowed"), "{url}: {e:?}");
        }
        for url in [
            "http://127.0.0.1:8080/r",
            "http://localhost/r",
            "http://[::1]:9/r",
        ] {
            let r = Remote::new(url).unwrap();
            assert_eq!(r.allow, format!("{TRANSPORTS}:http"), "{url}");
        }
    }
}
