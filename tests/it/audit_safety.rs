//! `keyhound audit` against hostile or broken servers and lists (issue 19 items 1, 7, 8): URL
//! credentials never reach a command line, a server that accepts and never answers costs one
//! repository and not the audit, transports that run commands are refused, and no secret is ever
//! written to a temporary file, even by a run that is killed.
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::harness::{bin, openai_key, Report, TestRepo};

/// The JSON report an audit wrote, read through the harness's typed `Report`.
fn report_of(text: &str, stderr: &str) -> Report {
    serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("not a JSON report ({e}):\n{text}\nstderr:\n{stderr}"))
}

/// keyhound in `work` with the tests' clean environment plus `env`.
fn keyhound(work: &TestRepo, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .current_dir(work.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", work.home.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Wait for `child` at most `limit`; a run that does not end is killed and fails the test.
fn wait_at_most(mut child: Child, limit: Duration) -> (i32, String, String) {
    let until = Instant::now() + limit;
    while child.try_wait().expect("poll keyhound").is_none() {
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("keyhound audit did not end within {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("keyhound output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A git server on 127.0.0.1 that accepts, records each request's head and never answers; the
/// connections stay open until the test process ends.
fn stalling_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("local address").port();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            log.lock().expect("request log").push(head);
            held.push(stream);
        }
    });
    (port, seen)
}

/// Every process's command line on this machine (`/proc/*/cmdline`), arguments joined by spaces.
fn command_lines() -> Vec<String> {
    let mut lines = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            continue;
        }
        if let Ok(raw) = std::fs::read(entry.path().join("cmdline")) {
            let text = String::from_utf8_lossy(&raw).replace('\0', " ");
            if !text.trim().is_empty() {
                lines.push(text);
            }
        }
    }
    lines
}

/// A repository holding one key at `ci/secrets.txt`.
fn repo_with_key(key: &str) -> TestRepo {
    let repo = TestRepo::git();
    repo.write("ci/secrets.txt", format!("{key}\n"));
    repo.commit("ci");
    repo
}

/// A value unique to this run that looks like no key (nothing in the repository matches it).
fn token() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("tok{}x{nanos}y", std::process::id())
}

#[test]
fn audit_credentials_never_reach_a_command_line_and_a_stalled_server_costs_one_repository() {
    // issue 19 items 1 and 8
    if !Path::new("/proc/self/cmdline").is_file() {
        crate::harness::skip("no /proc here to read command lines from");
        return;
    }
    let (port, seen) = stalling_server();
    let token = token();
    let key = openai_key(1901);
    let local = repo_with_key(&key);
    let work = TestRepo::dir();
    let listed = format!("http://auditor:{token}@127.0.0.1:{port}/org/stalled.git");
    std::fs::write(
        work.path().join("repos.txt"),
        format!("{listed}\n{}\n", local.path().display()),
    )
    .unwrap();
    let child = keyhound(
        &work,
        &[
            "audit",
            "--repos-from",
            "repos.txt",
            "--cache-dir",
            "cache",
            "--fetch-timeout",
            "4",
            "--format",
            "json",
            "--show-secrets",
        ],
        &[],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("start keyhound");
    // While git waits on the server, no command line on the machine holds the token.
    let until = Instant::now() + Duration::from_secs(30);
    while seen.lock().unwrap().is_empty() {
        assert!(Instant::now() < until, "git never reached the server");
        std::thread::sleep(Duration::from_millis(20));
    }
    let lines = command_lines();
    let leaking: Vec<&String> = lines.iter().filter(|l| l.contains(&token)).collect();
    assert!(
        leaking.is_empty(),
        "the token is on a command line: {leaking:?}"
    );
    // Control: git's HTTP helper is running, with the credential-free URL.
    let clean = format!("http://127.0.0.1:{port}/org/stalled.git");
    assert!(
        lines.iter().any(|l| l.contains(&clean)),
        "no git process holds {clean}: the command lines were read too late"
    );
    // The credentials still reach the server, as a Basic Authorization header.
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("auditor:{token}"));
    let head = seen.lock().unwrap()[0].to_ascii_lowercase();
    assert!(
        head.contains(&format!(
            "authorization: basic {}",
            basic.to_ascii_lowercase()
        )),
        "no credentials in the request:\n{head}"
    );

    // The stalled repository is given up at the deadline; the other is audited.
    let (code, stdout, stderr) = wait_at_most(child, Duration::from_secs(90));
    assert_eq!(code, 2, "one repository was not audited:\n{stderr}");
    let report = report_of(&stdout, &stderr);
    assert_eq!(report.findings.len(), 1, "{stderr}");
    assert_eq!(report.findings[0].secret.as_deref(), Some(key.as_str()));
    assert_eq!(report.findings[0].path, "ci/secrets.txt");
    let stalled = &report.summary.coverage[0];
    assert!(stalled.incomplete, "{stalled:?}");
    assert!(
        stalled.repository.starts_with("http://***@127.0.0.1"),
        "{stalled:?}"
    );
    let error = stalled.error.as_deref().unwrap_or_default();
    assert!(error.contains("--fetch-timeout"), "{error}");
    for text in [&stdout, &stderr] {
        assert!(!text.contains(&token), "the token is shown:\n{text}");
    }
    // git and its helper were stopped with it, and no half mirror is left.
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !command_lines().iter().any(|l| l.contains(&clean)),
        "a git process still waits on the server"
    );
    let cache: Vec<String> = std::fs::read_dir(work.path().join("cache"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(cache.is_empty(), "left in the cache: {cache:?}");
}

#[test]
fn audit_refuses_transports_that_run_commands_or_cross_the_network_in_clear() {
    // issue 19 item 8
    let key = openai_key(1902);
    let local = repo_with_key(&key);
    let work = TestRepo::dir();
    let marker = work.path().join("ran");
    let list = format!(
        "ext::touch {}\nfd::7\nhttp://192.0.2.1/org/r.git\n{}\n",
        marker.display(),
        local.path().display()
    );
    std::fs::write(work.path().join("repos.txt"), list).unwrap();
    // A machine whose git config allows every transport: the audit still refuses.
    let out = keyhound(
        &work,
        &[
            "audit",
            "--repos-from",
            "repos.txt",
            "--cache-dir",
            "cache",
            "--fetch-timeout",
            "20",
            "--format",
            "json",
            "--show-secrets",
        ],
        &[
            ("GIT_CONFIG_COUNT", "1"),
            ("GIT_CONFIG_KEY_0", "protocol.allow"),
            ("GIT_CONFIG_VALUE_0", "always"),
        ],
    )
    .output()
    .expect("run keyhound");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(!marker.exists(), "ext:: ran a command");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let report = report_of(&stdout, &stderr);
    // The local repository is audited.
    assert_eq!(report.findings.len(), 1, "{stderr}");
    let cov = &report.summary.coverage;
    assert_eq!(cov.len(), 4, "{cov:?}");
    for (c, what) in cov[..3].iter().zip(["ext::", "fd::", "plain http"]) {
        assert!(c.incomplete, "{c:?}");
        let error = c.error.as_deref().unwrap_or_default();
        assert!(
            error.contains(what) && error.contains("not allowed"),
            "{c:?}"
        );
    }
    assert!(!cov[3].incomplete, "{:?}", cov[3]);
}

/// The contents of every file under `dir` that holds one of `keys`.
fn files_holding(dir: &Path, keys: &[String]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                let text = String::from_utf8_lossy(&bytes);
                if keys.iter().any(|k| text.contains(k.as_str())) {
                    found.push(path);
                }
            }
        }
    }
    found
}

#[test]
fn an_audit_writes_no_secret_to_a_temporary_file_even_when_killed() {
    // issue 19 item 7
    let keys: Vec<String> = (0..300).map(|i| openai_key(19_700 + i)).collect();
    let repo = TestRepo::git();
    repo.write("keys.env", keys.join("\n") + "\n");
    repo.commit("keys");
    let work = TestRepo::dir();
    let tmp = work.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    std::fs::write(
        work.path().join("repos.txt"),
        format!("{}\n", repo.path().display()),
    )
    .unwrap();
    let tmp_text = tmp.to_string_lossy().into_owned();
    let mut child = keyhound(
        &work,
        &[
            "audit",
            "--repos-from",
            "repos.txt",
            "--format",
            "json",
            "--show-secrets",
        ],
        &[("TMPDIR", &tmp_text)],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .expect("start keyhound");
    // The report has begun, and nobody reads the pipe: the run is held mid-report, with the
    // history pass done.
    let mut stdout = child.stdout.take().expect("stdout piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut first = [0u8; 1];
        let n = stdout.read(&mut first).unwrap_or(0);
        let _ = tx.send((n, stdout));
    });
    let (n, mut stdout) = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the audit writes its report");
    assert_eq!(n, 1);
    // Wait until the run has filled the pipe (on a loaded machine the first byte comes well
    // before the rest): it is then held there, past the history pass.
    let filled = || {
        let mut queued: libc::c_int = 0;
        // SAFETY: FIONREAD writes one int for the pipe's read end, which `stdout` owns.
        let rc = unsafe {
            libc::ioctl(
                std::os::fd::AsRawFd::as_raw_fd(&stdout),
                libc::FIONREAD,
                &mut queued,
            )
        };
        rc == 0 && queued >= 32 << 10
    };
    let waited = std::time::Instant::now();
    while !filled() && waited.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let held = files_holding(&tmp, &keys);
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended before it could be looked at"
    );
    assert!(held.is_empty(), "secrets in temporary files: {held:?}");
    // Killed there, it leaves nothing either.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(files_holding(&tmp, &keys).is_empty());
    // Control: the run had filled the pipe (the report is larger than a pipe holds), so it was
    // waiting there, past the history pass.
    let mut rest = Vec::new();
    let _ = stdout.read_to_end(&mut rest);
    assert!(rest.len() >= 32 << 10, "only {} bytes written", rest.len());
}

#[test]
fn audit_sweeps_partial_mirrors_of_dead_runs_and_keeps_live_ones() {
    // issue 19 item 7
    let key = openai_key(1903);
    let repo = repo_with_key(&key);
    let srv = TestRepo::dir();
    let bare = srv.path().join("alpha.git");
    repo.git_ok(&["clone", "-q", "--bare", ".", &bare.to_string_lossy()]);
    let work = TestRepo::dir();
    let cache = work.path().join("cache");
    // A process that has ended: its id names a dead run.
    let mut gone = Command::new("true").spawn().expect("run true");
    let dead = gone.id();
    gone.wait().unwrap();
    let stale = cache.join(format!(".old.git-0a1b2c.tmp-{dead}"));
    let live = cache.join(format!(".busy.git-3d4e5f.tmp-{}", std::process::id()));
    for dir in [&stale, &live] {
        std::fs::create_dir_all(dir.join("objects")).unwrap();
        std::fs::write(dir.join("objects/partial"), format!("{key}\n")).unwrap();
    }
    std::fs::write(
        work.path().join("repos.txt"),
        format!("file://{}\n", bare.display()),
    )
    .unwrap();
    let out = keyhound(
        &work,
        &[
            "audit",
            "--repos-from",
            "repos.txt",
            "--cache-dir",
            "cache",
            "--format",
            "json",
            "--show-secrets",
        ],
        &[],
    )
    .output()
    .expect("run keyhound");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(report_of(&stdout, &stderr).findings.len(), 1);
    assert!(!stale.exists(), "the dead run's partial mirror is kept");
    assert!(live.exists(), "a live run's clone was removed");
    assert!(stderr.contains("partial mirror"), "{stderr}");
}
