//! Organisation audits (issue 13): `keyhound audit --repos-from LIST` over repositories served by
//! a real `git daemon` on 127.0.0.1 and local paths, mirrored into a cache and fetched again;
//! an Indexed Job simulated as N processes with `JOB_COMPLETION_INDEX`; `keyhound merge` giving
//! the same bytes as one process; a missing shard, then its rerun; `verify --from` on the merged
//! report checking each unique secret once.
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::harness::{bin, openai_key, skip, Rng, Run, TestRepo, ALNUM, OPENAI_RULE};

// The JSON report of an audit, typed (only the fields these tests check).

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AuditReport {
    findings: Vec<AuditFinding>,
    summary: AuditSummary,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AuditFinding {
    rule: String,
    path: String,
    repository: Option<String>,
    secret: Option<String>,
    commit: Option<CommitJson>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CommitJson {
    id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AuditSummary {
    files: u64,
    skipped_binary: u64,
    skipped_large: u64,
    skipped: Vec<SkippedJson>,
    incomplete: bool,
    elapsed_ms: u64,
    coverage: Vec<CoverageJson>,
    secrets: Vec<SecretJson>,
    audit: Option<AuditRecordJson>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SkippedJson {
    path: String,
    reason: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CoverageJson {
    repository: String,
    blobs: u64,
    commits: u64,
    incomplete: bool,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SecretJson {
    fingerprint: String,
    present_at_tip: bool,
    paths: Vec<String>,
    repositories: Vec<String>,
    locations: Vec<LocationJson>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LocationJson {
    repository: String,
    path: String,
    present_at_tip: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AuditRecordJson {
    list: String,
    repositories: Vec<String>,
    shard: Option<ShardJson>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ShardJson {
    index: usize,
    count: usize,
}

fn report_of(text: &str) -> AuditReport {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not a JSON report ({e}):\n{text}"))
}

fn read_report(path: &Path) -> AuditReport {
    report_of(&std::fs::read_to_string(path).expect("read report"))
}

/// A `git daemon` serving the bare repositories under `base` on a free loopback port; stopped
/// when dropped.
struct Daemon {
    child: Child,
    port: u16,
}

impl Daemon {
    /// None (and SKIPPED, or a failure under CI) when git has no daemon here.
    fn start(base: &Path) -> Option<Daemon> {
        let exec = Command::new("git").arg("--exec-path").output().ok()?;
        let exec = PathBuf::from(String::from_utf8_lossy(&exec.stdout).trim());
        // The daemon itself, not `git daemon`: git runs it as a child, which a kill of `git`
        // would leave listening.
        let daemon = exec.join("git-daemon");
        if !daemon.is_file() {
            skip("git has no `git daemon` here (Debian: part of the git package)");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(daemon)
            .args([
                "--export-all",
                "--reuseaddr",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                &format!("--base-path={}", base.display()),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start git daemon");
        let daemon = Daemon { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "git daemon did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(daemon)
    }

    fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An organisation: bare repositories served by the daemon (alpha, its fork gamma, beta,
/// delta with no key) and a local work tree (epsilon) holding beta's key at another path.
struct Org {
    daemon: Daemon,
    /// The folder the daemon serves.
    srv: tempfile::TempDir,
    alpha: TestRepo,
    epsilon: TestRepo,
    /// Where lists, caches and reports go.
    work: TestRepo,
    keys: Vec<String>,
}

impl Org {
    fn new() -> Option<Org> {
        let srv = tempfile::tempdir().expect("temp dir");
        let keys: Vec<String> = (1300..1305).map(openai_key).collect();
        let bare = |repo: &TestRepo, name: &str| {
            repo.git_ok(&[
                "clone",
                "-q",
                "--bare",
                ".",
                &srv.path().join(name).to_string_lossy(),
            ]);
        };
        // alpha: a key committed, then removed (history only).
        let alpha = TestRepo::git();
        alpha.write("README.md", "alpha\n");
        alpha.write("config.env", format!("OPENAI_API_KEY={}\n", keys[0]));
        alpha.commit("add config");
        alpha.remove("config.env");
        alpha.commit("remove config");
        bare(&alpha, "alpha.git");
        // gamma: a fork of alpha (its history, and the removed key) plus a key of its own.
        let gamma = TestRepo::dir();
        gamma.git_ok(&[
            "clone",
            "-q",
            &srv.path().join("alpha.git").to_string_lossy(),
            ".",
        ]);
        gamma.write("deploy.env", format!("KEY={}\n", keys[2]));
        gamma.commit("deploy settings");
        bare(&gamma, "gamma.git");
        // beta: a key still present.
        let beta = TestRepo::git();
        beta.write("app/settings.py", format!("API_KEY = \"{}\"\n", keys[1]));
        beta.commit("settings");
        bare(&beta, "beta.git");
        // delta: nothing to find.
        let delta = TestRepo::git();
        delta.write("main.c", "int main(void) { return 0; }\n");
        delta.commit("main");
        bare(&delta, "delta.git");
        // epsilon: a local work tree with beta's key at another path.
        let epsilon = TestRepo::git();
        epsilon.write("ci/secrets.txt", format!("{}\n", keys[1]));
        epsilon.commit("ci");
        let daemon = Daemon::start(srv.path())?;
        Some(Org {
            daemon,
            srv,
            alpha,
            epsilon,
            work: TestRepo::dir(),
            keys,
        })
    }

    /// The list file: the four served repositories and epsilon.
    fn list(&self) -> PathBuf {
        let text = format!(
            "# the organisation\n{}\n{}\n{}\n\n{}\n{}\n",
            self.daemon.url("alpha.git"),
            self.daemon.url("beta.git"),
            self.daemon.url("gamma.git"),
            self.daemon.url("delta.git"),
            self.epsilon.path().display(),
        );
        self.write_list("repos.txt", &text)
    }

    fn write_list(&self, name: &str, text: &str) -> PathBuf {
        let path = self.work.path().join(name);
        std::fs::write(&path, text).expect("write list");
        path
    }

    /// Run keyhound in the work folder with `env` on top of the tests' clean environment.
    fn keyhound(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let out = self.command(args, env).output().expect("run keyhound");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.args(args)
            .current_dir(self.work.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.work.home.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// `keyhound audit` of `list` with its own cache `cache`, as JSON with secrets (or `extra`
    /// when it names a format).
    fn audit(&self, list: &Path, cache: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
        let list = list.to_string_lossy();
        let mut args = vec!["audit", "--repos-from", &list, "--cache-dir", cache];
        if !extra.contains(&"--format") {
            args.extend(["--format", "json", "--show-secrets"]);
        }
        args.extend_from_slice(extra);
        self.keyhound(&args, env)
    }

    /// Commit a new key to alpha and push it to the served repository.
    fn push_to_alpha(&self, key: &str) {
        self.alpha
            .write("late.env", format!("OPENAI_API_KEY={key}\n"));
        self.alpha.commit("late key");
        let bare = self.srv.path().join("alpha.git");
        self.alpha
            .git_ok(&["push", "-q", &bare.to_string_lossy(), "main"]);
    }
}

fn found(report: &AuditReport) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.repository.clone().unwrap_or_default(),
                f.path.clone(),
                f.secret.clone().unwrap_or_default(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn issue_13_audit_mirrors_urls_and_sees_a_push_on_the_next_run() {
    let Some(org) = Org::new() else { return };
    let list = org.list();
    let run = org.audit(&list, "cache", &[], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = report_of(&run.stdout);
    let (alpha, beta, gamma) = (
        org.daemon.url("alpha.git"),
        org.daemon.url("beta.git"),
        org.daemon.url("gamma.git"),
    );
    let epsilon = org.epsilon.path().display().to_string();
    let k = &org.keys;
    let mut want = vec![
        (alpha.clone(), "config.env".to_string(), k[0].clone()),
        (beta.clone(), "app/settings.py".into(), k[1].clone()),
        (epsilon.clone(), "ci/secrets.txt".into(), k[1].clone()),
        (gamma.clone(), "config.env".into(), k[0].clone()),
        (gamma.clone(), "deploy.env".into(), k[2].clone()),
    ];
    want.sort();
    assert_eq!(found(&report), want);
    assert!(report.findings.iter().all(|f| f.rule == OPENAI_RULE));
    // The fork's copy of alpha's key is alpha's commit.
    let commits: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.path == "config.env")
        .map(|f| f.commit.as_ref().expect("history finding").id.as_str())
        .collect();
    assert_eq!(commits.len(), 2);
    assert_eq!(commits[0], commits[1]);
    // One summary per secret, with all its paths across repositories; beta's key is present.
    assert_eq!(report.summary.secrets.len(), 3);
    let shared = report
        .summary
        .secrets
        .iter()
        .find(|s| s.paths.len() == 2)
        .expect("beta's key at two paths");
    assert!(shared.present_at_tip);
    assert_eq!(shared.paths, ["app/settings.py", "ci/secrets.txt"]);
    assert_eq!(shared.repositories, [beta.clone(), epsilon.clone()]);
    let at: Vec<(&str, &str, bool)> = shared
        .locations
        .iter()
        .map(|l| (l.repository.as_str(), l.path.as_str(), l.present_at_tip))
        .collect();
    assert_eq!(
        at,
        [
            (beta.as_str(), "app/settings.py", true),
            (epsilon.as_str(), "ci/secrets.txt", true)
        ]
    );
    // Alpha's key was removed before gamma forked: in history only, in both.
    let removed = report
        .summary
        .secrets
        .iter()
        .find(|s| s.repositories.len() == 2 && s.paths == ["config.env"])
        .expect("alpha's key in alpha and gamma");
    assert!(!removed.present_at_tip);
    assert!(removed.locations.iter().all(|l| !l.present_at_tip));
    // A coverage record per repository, in list order; the clean one too.
    let names: Vec<&str> = report
        .summary
        .coverage
        .iter()
        .map(|c| c.repository.as_str())
        .collect();
    assert_eq!(
        names,
        [
            alpha.as_str(),
            beta.as_str(),
            gamma.as_str(),
            &org.daemon.url("delta.git"),
            &epsilon
        ]
    );
    assert!(report.summary.coverage.iter().all(|c| !c.incomplete));
    assert!(!report.summary.incomplete);
    let record = report.summary.audit.as_ref().expect("audit record");
    assert!(record.list.starts_with("sha256:"));
    assert_eq!(record.repositories.len(), 5);
    assert!(record.shard.is_none());
    // A whole-list report writes no times (they go to stderr).
    assert_eq!(report.summary.elapsed_ms, 0);

    // The mirrors are in the cache; a marker shows the next run fetches into them, not anew.
    let cache = org.work.path().join("cache");
    let mirrors: Vec<PathBuf> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(mirrors.len(), 4, "{mirrors:?}");
    let alpha_mirror = mirrors
        .iter()
        .find(|p| p.file_name().unwrap().to_string_lossy().contains("alpha"))
        .expect("alpha's mirror");
    std::fs::write(alpha_mirror.join("kept-by-test"), "").unwrap();

    org.push_to_alpha(&k[3]);
    let again = org.audit(&list, "cache", &[], &[]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    let report = report_of(&again.stdout);
    assert!(
        found(&report).contains(&(alpha.clone(), "late.env".into(), k[3].clone())),
        "the pushed key is found: {:?}",
        found(&report)
    );
    assert_eq!(report.findings.len(), 6);
    assert!(alpha_mirror.join("kept-by-test").exists());
}

#[test]
fn issue_13_a_failed_clone_is_recorded_and_credentials_never_shown() {
    let Some(org) = Org::new() else { return };
    let secret_url = format!(
        "git://someone:pw-hunter2-x@127.0.0.1:{}/gone.git",
        org.daemon.port
    );
    let list = org.write_list(
        "repos.txt",
        &format!(
            "{}\n{}\n{secret_url}\n",
            org.daemon.url("beta.git"),
            org.daemon.url("missing.git"),
        ),
    );
    let run = org.audit(&list, "cache", &[], &[]);
    assert_eq!(
        run.code, 2,
        "a repository could not be audited: {}",
        run.stderr
    );
    let report = report_of(&run.stdout);
    // The others go on: beta's key is reported.
    assert_eq!(report.findings.len(), 1);
    assert_eq!(
        report.findings[0].secret.as_deref(),
        Some(org.keys[1].as_str())
    );
    assert!(report.summary.incomplete);
    let cov = &report.summary.coverage;
    assert_eq!(cov.len(), 3);
    assert!(!cov[0].incomplete && cov[0].error.is_none(), "{:?}", cov[0]);
    for c in &cov[1..] {
        assert!(c.incomplete, "{c:?}");
        assert!(
            c.error.as_deref().unwrap_or("").contains("clone failed"),
            "{c:?}"
        );
    }
    assert_eq!(
        cov[2].repository,
        format!("git://***@127.0.0.1:{}/gone.git", org.daemon.port)
    );
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains("pw-hunter2-x"), "credentials shown:\n{text}");
    }
    assert!(run.stderr.contains("missing.git"), "{}", run.stderr);
}

#[test]
fn issue_13_a_failed_fetch_audits_the_cached_mirror_and_says_so() {
    let Some(mut org) = Org::new() else { return };
    let list = org.write_list("repos.txt", &format!("{}\n", org.daemon.url("beta.git")));
    let first = org.audit(&list, "cache", &[], &[]);
    assert_eq!(first.code, 1, "{}", first.stderr);
    // The server goes away: the mirror from the first run is audited, marked incomplete.
    let _ = org.daemon.child.kill();
    let _ = org.daemon.child.wait();
    let run = org.audit(&list, "cache", &[], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let report = report_of(&run.stdout);
    assert_eq!(found(&report), found(&report_of(&first.stdout)));
    let c = &report.summary.coverage[0];
    assert!(c.incomplete);
    let error = c.error.as_deref().unwrap_or("");
    assert!(error.contains("fetch failed"), "{error}");
    assert!(
        error.contains("audited the mirror as fetched at"),
        "{error}"
    );
}

/// The N shard reports of an Indexed Job, each pod a process with its own cache and
/// `JOB_COMPLETION_INDEX`, run at once; returns their report files.
fn indexed_job(org: &Org, list: &Path, n: usize, only: Option<usize>) -> Vec<PathBuf> {
    let count = n.to_string();
    let list = list.to_string_lossy().into_owned();
    let mut pods = Vec::new();
    for k in 0..n {
        if only.is_some_and(|o| o != k) {
            continue;
        }
        let out = format!("shard-{k}.json");
        let cache = format!("cache-pod-{k}");
        let index = k.to_string();
        let child = org
            .command(
                &[
                    "audit",
                    "--repos-from",
                    &list,
                    "--shards",
                    &count,
                    "--cache-dir",
                    &cache,
                    "--format",
                    "json",
                    "--show-secrets",
                    "-o",
                    &out,
                ],
                &[("JOB_COMPLETION_INDEX", &index)],
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start a shard");
        pods.push((k, child));
    }
    for (k, child) in pods {
        let out = child.wait_with_output().expect("shard ran");
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "shard {k}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    (0..n)
        .map(|k| org.work.path().join(format!("shard-{k}.json")))
        .collect()
}

fn merge(org: &Org, reports: &[PathBuf], format: &str) -> Run {
    let mut args = vec!["merge", "--format", format, "--show-secrets"];
    let names: Vec<String> = reports.iter().map(|p| p.to_string_lossy().into()).collect();
    args.extend(names.iter().map(String::as_str));
    org.keyhound(&args, &[])
}

#[test]
fn issue_13_indexed_job_shards_merge_to_the_one_process_report() {
    let Some(org) = Org::new() else { return };
    let list = org.list();
    let whole = org.audit(&list, "cache-one", &[], &[]);
    assert_eq!(whole.code, 1, "{}", whole.stderr);
    let sarif = org.audit(&list, "cache-one", &["--format", "sarif"], &[]);
    assert_eq!(sarif.code, 1, "{}", sarif.stderr);

    let shards = indexed_job(&org, &list, 3, None);
    let mut assigned: Vec<String> = Vec::new();
    for (k, path) in shards.iter().enumerate() {
        let report = read_report(path);
        let shard = report
            .summary
            .audit
            .as_ref()
            .unwrap()
            .shard
            .as_ref()
            .unwrap();
        assert_eq!((shard.index, shard.count), (k, 3));
        assert!(!report.summary.coverage.is_empty(), "every shard has work");
        assigned.extend(report.summary.coverage.iter().map(|c| c.repository.clone()));
    }
    assigned.sort();
    assert_eq!(
        assigned.len(),
        5,
        "each repository in exactly one shard: {assigned:?}"
    );
    assigned.dedup();
    assert_eq!(assigned.len(), 5);

    let merged = merge(&org, &shards, "json");
    assert_eq!(merged.code, 1, "{}", merged.stderr);
    assert_eq!(found(&report_of(&merged.stdout)).len(), 5);
    assert_eq!(
        merged.stdout, whole.stdout,
        "merged JSON differs from one process"
    );
    let merged_sarif = merge(&org, &shards, "sarif");
    assert_eq!(merged_sarif.code, 1, "{}", merged_sarif.stderr);
    assert_eq!(merged_sarif.stdout, sarif.stdout, "merged SARIF differs");
    // Merging is idempotent: a report given twice counts once.
    let mut twice = shards.clone();
    twice.push(shards[0].clone());
    let again = merge(&org, &twice, "json");
    assert_eq!(again.stdout, whole.stdout);
}

#[test]
fn issue_13_a_missing_shard_is_named_then_its_rerun_completes_the_merge() {
    let Some(org) = Org::new() else { return };
    let list = org.list();
    let whole = org.audit(&list, "cache-one", &[], &[]);
    assert_eq!(whole.code, 1, "{}", whole.stderr);
    let shards = indexed_job(&org, &list, 3, None);
    let lost = read_report(&shards[1]);
    let lost_repos: Vec<String> = lost
        .summary
        .coverage
        .iter()
        .map(|c| c.repository.clone())
        .collect();
    assert!(!lost_repos.is_empty());

    // Shard 1's pod is killed midway: started, then killed before it can finish.
    std::fs::remove_file(&shards[1]).unwrap();
    let list_arg = list.to_string_lossy().into_owned();
    let mut pod = org
        .command(
            &[
                "audit",
                "--repos-from",
                &list_arg,
                "--shards",
                "3",
                "--cache-dir",
                "cache-killed",
                "--format",
                "json",
                "--show-secrets",
                "-o",
                "shard-1.json",
            ],
            &[("JOB_COMPLETION_INDEX", "1")],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    pod.kill().unwrap();
    pod.wait().unwrap();
    assert!(
        !shards[1].exists(),
        "a killed shard leaves no report (written whole or not at all)"
    );

    let present = [shards[0].clone(), shards[2].clone()];
    let partial = merge(&org, &present, "json");
    assert_eq!(partial.code, 2, "incomplete coverage: {}", partial.stderr);
    let report = report_of(&partial.stdout);
    assert!(report.summary.incomplete);
    for repo in &lost_repos {
        let c = report
            .summary
            .coverage
            .iter()
            .find(|c| &c.repository == repo)
            .unwrap_or_else(|| panic!("{repo} has a coverage record"));
        assert!(c.incomplete);
        assert!(
            c.error
                .as_deref()
                .unwrap_or("")
                .contains("no report of shard 1/3"),
            "{c:?}"
        );
        assert!(partial.stderr.contains(repo.as_str()), "{}", partial.stderr);
        assert!(found(&report).iter().all(|(r, _, _)| r != repo));
    }
    // The others are complete and their findings are there.
    let complete = report
        .summary
        .coverage
        .iter()
        .filter(|c| !c.incomplete)
        .count();
    assert_eq!(complete, 5 - lost_repos.len());

    // The Job retries index 1; merging again completes the audit.
    indexed_job(&org, &list, 3, Some(1));
    let merged = merge(&org, &shards, "json");
    assert_eq!(merged.code, 1, "{}", merged.stderr);
    assert_eq!(merged.stdout, whole.stdout);
}

#[test]
fn issue_13_sharding_errors_are_clear() {
    let Some(org) = Org::new() else { return };
    let list = org.list();
    let list_arg = list.to_string_lossy().into_owned();
    let audit = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec![
            "audit",
            "--repos-from",
            list_arg.as_str(),
            "--cache-dir",
            "c",
        ];
        args.extend_from_slice(extra);
        org.keyhound(&args, env)
    };
    let unset = audit(&["--shards", "3"], &[]);
    assert_eq!(unset.code, 2);
    assert!(
        unset.stderr.contains("JOB_COMPLETION_INDEX is not set"),
        "{}",
        unset.stderr
    );
    let out_of_range = audit(&["--shards", "3"], &[("JOB_COMPLETION_INDEX", "3")]);
    assert_eq!(out_of_range.code, 2);
    assert!(
        out_of_range.stderr.contains("from 0 to 2"),
        "{}",
        out_of_range.stderr
    );
    let bad = audit(&["--shard", "3/3"], &[]);
    assert_eq!(bad.code, 2);
    let verify = audit(&["--verify"], &[]);
    assert_eq!(verify.code, 2);
    assert!(
        verify.stderr.contains("keyhound verify --from"),
        "{}",
        verify.stderr
    );
    // Positive control: the same list with a valid shard runs.
    let ok = audit(
        &["--shard", "0/3", "--format", "json", "--show-secrets"],
        &[],
    );
    assert!(matches!(ok.code, 0 | 1), "{}", ok.stderr);
    std::fs::write(org.work.path().join("s0.json"), &ok.stdout).unwrap();

    // Reports of another list, or another N, do not merge.
    let other = org.write_list("other.txt", &format!("{}\n", org.daemon.url("beta.git")));
    let other_arg = other.to_string_lossy().into_owned();
    let o = org.keyhound(
        &[
            "audit",
            "--repos-from",
            &other_arg,
            "--cache-dir",
            "c",
            "--shard",
            "1/3",
            "--format",
            "json",
            "--show-secrets",
        ],
        &[],
    );
    std::fs::write(org.work.path().join("o1.json"), &o.stdout).unwrap();
    let mixed = org.keyhound(&["merge", "s0.json", "o1.json"], &[]);
    assert_eq!(mixed.code, 2);
    assert!(
        mixed.stderr.contains("different repository lists"),
        "{}",
        mixed.stderr
    );
    let n2 = audit(
        &["--shard", "1/2", "--format", "json", "--show-secrets"],
        &[],
    );
    std::fs::write(org.work.path().join("n2.json"), &n2.stdout).unwrap();
    let mixed_n = org.keyhound(&["merge", "s0.json", "n2.json"], &[]);
    assert_eq!(mixed_n.code, 2);
    assert!(
        mixed_n.stderr.contains("a shard of 2"),
        "{}",
        mixed_n.stderr
    );
    // Nor do shards audited with other options.
    let since = audit(
        &[
            "--shard",
            "1/3",
            "--since",
            "2020-01-01",
            "--format",
            "json",
            "--show-secrets",
        ],
        &[],
    );
    std::fs::write(org.work.path().join("since1.json"), &since.stdout).unwrap();
    let mixed_since = org.keyhound(&["merge", "s0.json", "since1.json"], &[]);
    assert_eq!(mixed_since.code, 2);
    assert!(
        mixed_since.stderr.contains("--since"),
        "{}",
        mixed_since.stderr
    );
    // A report without secrets cannot be merged.
    let redacted = audit(&["--shard", "1/3", "--format", "json"], &[]);
    std::fs::write(org.work.path().join("r1.json"), &redacted.stdout).unwrap();
    let no_secrets = org.keyhound(&["merge", "s0.json", "r1.json"], &[]);
    assert_eq!(no_secrets.code, 2);
    assert!(
        no_secrets.stderr.contains("--show-secrets"),
        "{}",
        no_secrets.stderr
    );
}

/// A loopback server answering every key check 401 (invalid), counting requests per key.
fn counting_provider() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut key = String::new();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                if let Some(v) = h
                    .strip_prefix("authorization: ")
                    .or(h.strip_prefix("Authorization: "))
                {
                    key = v.trim().trim_start_matches("Bearer ").to_string();
                }
            }
            log.lock().unwrap().push(key);
            let body = r#"{"error":{"code":"invalid_api_key"}}"#;
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 401 X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (base, seen)
}

#[test]
fn issue_13_verify_from_the_merged_report_checks_each_secret_once() {
    let Some(org) = Org::new() else { return };
    let list = org.list();
    let shards = indexed_job(&org, &list, 2, None);
    let merged = merge(&org, &shards, "json");
    assert_eq!(merged.code, 1, "{}", merged.stderr);
    std::fs::write(org.work.path().join("merged.json"), &merged.stdout).unwrap();
    let report = report_of(&merged.stdout);
    // Five findings of three secrets, two of them in two repositories each.
    assert_eq!(report.findings.len(), 5);
    let (base, seen) = counting_provider();
    let endpoint = format!("openai={base}");
    let run = org.keyhound(
        &[
            "verify",
            "--from",
            "merged.json",
            "--verify-endpoint",
            &endpoint,
            "--no-cache",
            "--format",
            "json",
            "--show-secrets",
        ],
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let verified = run.json();
    let findings = verified["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 5);
    assert!(findings
        .iter()
        .all(|f| f["verification"]["status"] == "invalid"));
    // The repository and commit survive the round trip.
    assert!(findings.iter().all(|f| f["repository"].is_string()));
    assert!(findings.iter().all(|f| f["commit"]["id"].is_string()));
    // So do the coverage records, the secrets and the audit record.
    let summary = &verified["summary"];
    assert_eq!(summary["coverage"].as_array().unwrap().len(), 5);
    assert_eq!(summary["secrets"].as_array().unwrap().len(), 3);
    assert_eq!(
        summary["audit"]["list"].as_str(),
        report.summary.audit.as_ref().map(|a| a.list.as_str())
    );
    assert_eq!(summary["verification"]["invalid"], 5);
    let mut asked = seen.lock().unwrap().clone();
    asked.sort();
    let mut unique: Vec<String> = org.keys[..3].to_vec();
    unique.sort();
    assert_eq!(asked, unique, "each unique secret checked exactly once");
}

/// The "Audit an organisation" commands (docs/audit.md, once a README section), run as written
/// (but for `keyhound verify`, which would ask the real providers: tested above against a
/// loopback one) on the test organisation: the merged report is the one-process report, byte
/// for byte.
#[test]
fn issue_13_readme_organisation_commands_work_as_written() {
    let Some(org) = Org::new() else { return };
    let blocks = crate::ci::blocks_in("docs/audit.md", "# Audit an organisation");
    let block = blocks.first().expect("a command block");
    let verify_lines = block
        .iter()
        .filter(|l| l.starts_with("keyhound verify"))
        .count();
    assert_eq!(verify_lines, 1);
    let script: String = block
        .iter()
        .filter(|l| !l.starts_with("keyhound verify"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(org.list(), org.work.path().join("repos.txt"));
    // The keyhound under test first on PATH, as `keyhound`.
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(bin(), dir.path().join("keyhound")).unwrap();
    let path = std::env::join_paths(std::iter::once(dir.path().to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let mut sh = Command::new("bash");
    sh.arg("-c")
        .arg(&script)
        .current_dir(org.work.path())
        .env_clear()
        .env("PATH", path)
        .env("HOME", org.work.home.path())
        .env("GIT_CONFIG_NOSYSTEM", "1");
    let ran = sh.output().expect("run README's commands");
    let stderr = String::from_utf8_lossy(&ran.stderr);
    let read = |name: &str| {
        std::fs::read(org.work.path().join(name))
            .unwrap_or_else(|e| panic!("{name} not written ({e}):\n{stderr}"))
    };
    let whole = read("audit.json");
    assert_eq!(
        report_of(&String::from_utf8_lossy(&whole)).findings.len(),
        5
    );
    assert!(
        whole == read("merged.json"),
        "merged.json differs from audit.json"
    );
    for k in 0..4 {
        read(&format!("shard-{k}.json"));
    }
    let sarif: serde_json::Value = serde_json::from_slice(&read("merged.sarif")).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 5);
    // The default cache is under HOME.
    assert!(org
        .work
        .home
        .path()
        .join(".cache/keyhound/mirrors")
        .is_dir());
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WorkJson {
    repository: String,
    blobs: u64,
    blobs_scanned: u64,
    blobs_shared: u64,
}

fn work(report: &str) -> Vec<WorkJson> {
    let v: serde_json::Value = serde_json::from_str(report).unwrap();
    serde_json::from_value(v["summary"]["coverage"].clone()).unwrap()
}

/// A shard reads each blob once across its repositories (a fork's shared history is not read
/// again), and `size=` hints steer the plan: the heavy repository gets a shard to itself.
#[test]
fn issue_13_a_shard_reads_a_forks_shared_blobs_once_and_size_hints_plan() {
    let Some(org) = Org::new() else { return };
    let (alpha, gamma, delta) = (
        org.daemon.url("alpha.git"),
        org.daemon.url("gamma.git"),
        org.daemon.url("delta.git"),
    );
    let list = org.write_list(
        "repos.txt",
        &format!("{alpha}\n{gamma}\n{delta}  size=2G\n"),
    );
    let heavy = org.audit(&list, "c", &["--shard", "0/2"], &[]);
    assert_eq!(heavy.code, 0, "{}", heavy.stderr);
    let names: Vec<String> = work(&heavy.stdout)
        .into_iter()
        .map(|c| c.repository)
        .collect();
    assert_eq!(names, std::slice::from_ref(&delta));
    let pair = org.audit(&list, "c", &["--shard", "1/2"], &[]);
    assert_eq!(pair.code, 1, "{}", pair.stderr);
    let cov = work(&pair.stdout);
    assert_eq!(cov.len(), 2);
    let (a, g) = (&cov[0], &cov[1]);
    assert_eq!(
        (a.repository.as_str(), g.repository.as_str()),
        (alpha.as_str(), gamma.as_str())
    );
    assert!(
        a.blobs > 0 && a.blobs_scanned == a.blobs && a.blobs_shared == 0,
        "{a:?}"
    );
    // Gamma is alpha plus one file: everything else was read for alpha.
    assert_eq!(g.blobs, a.blobs + 1, "{g:?}");
    assert_eq!((g.blobs_scanned, g.blobs_shared), (1, a.blobs), "{g:?}");
    // Both still report alpha's key: the fork has it too.
    let report = report_of(&pair.stdout);
    let holders: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.secret.as_deref() == Some(org.keys[0].as_str()))
        .map(|f| f.repository.as_deref().unwrap())
        .collect();
    assert_eq!(holders, [alpha.as_str(), gamma.as_str()]);
    // The whole-list report leaves the split-dependent counters out.
    let whole = org.audit(&list, "c", &[], &[]);
    assert!(work(&whole.stdout)
        .iter()
        .all(|c| c.blobs > 0 || c.repository == delta));
    assert!(work(&whole.stdout)
        .iter()
        .all(|c| c.blobs_scanned == 0 && c.blobs_shared == 0));
    // Its `files` is what each repository reaches, summed: alpha's blobs count for gamma too.
    let files: serde_json::Value = serde_json::from_str(&whole.stdout).unwrap();
    let covered: u64 = work(&whole.stdout).iter().map(|c| c.blobs).sum();
    assert_eq!(files["summary"]["files"], covered);
    assert_eq!(covered, a.blobs + g.blobs + work(&heavy.stdout)[0].blobs);
}

/// A private key block of random base64 lines.
fn private_key(r: &mut Rng) -> String {
    const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let body: Vec<String> = (0..12).map(|_| r.string(BASE64, 64)).collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        body.join("\n")
    )
}

/// Secrets whose redacted forms are the same (two private keys) are told apart by their first
/// path and a short fingerprint, in the stderr table and the HTML timeline; the author column
/// is not cut inside an e-mail; a whole-list page says what was covered instead of zeroed
/// counters; `history` and `audit` of one repository count and name skipped blobs alike.
#[test]
fn audit_tables_tell_secrets_apart_and_count_like_history() {
    // issue 19 item 23
    let mut r = Rng::new(1923);
    let repo = TestRepo::git();
    repo.write("keys/a.pem", private_key(&mut r));
    repo.write("keys/b.pem", private_key(&mut r));
    // An archive over --max-file-size is still skipped by name (binaries are scanned).
    repo.write("bundle.gz", big_gzip(&mut r));
    repo.git_ok(&["add", "-A"]);
    let author = "Ada L <ada.lovelace@example.com>";
    repo.git_ok(&["commit", "-q", "--author", author, "-m", "keys"]);
    repo.write("bundle.gz", big_gzip(&mut r));
    repo.commit("new bundle");
    let work = TestRepo::dir();
    std::fs::write(
        work.path().join("repos.txt"),
        format!("{}\n", repo.path().display()),
    )
    .unwrap();
    let audit = |format: &str| {
        let mut args = vec![
            "audit",
            "--repos-from",
            "repos.txt",
            "--max-file-size",
            "262144",
            "--format",
            format,
        ];
        if format == "json" {
            args.push("--show-secrets");
        }
        work.keyhound(&args)
    };
    let json = audit("json");
    assert_eq!(json.code, 1, "{}", json.stderr);
    let report = report_of(&json.stdout);
    let secrets = &report.summary.secrets;
    assert_eq!(secrets.len(), 2, "{secrets:?}");
    let labels: Vec<String> = secrets
        .iter()
        .map(|s| format!("at {} · fingerprint {}", s.paths[0], &s.fingerprint[..8]))
        .collect();
    assert!(
        labels.iter().any(|l| l.starts_with("at keys/a.pem")),
        "{labels:?}"
    );
    assert!(
        labels.iter().any(|l| l.starts_with("at keys/b.pem")),
        "{labels:?}"
    );

    // The stderr table: each secret's label, and the author whole or without the e-mail.
    let human = audit("human");
    assert_eq!(human.code, 1, "{}", human.stderr);
    for label in &labels {
        assert!(
            human.stderr.contains(label.as_str()),
            "no {label:?}:\n{}",
            human.stderr
        );
    }
    for line in human.stderr.lines().filter(|l| l.contains("Ada L")) {
        assert!(
            !line.contains('<') || line.contains("<ada.lovelace@example.com>"),
            "the author is cut: {line}"
        );
    }
    assert!(human.stderr.contains("Ada L"), "{}", human.stderr);

    // The HTML timeline, and the whole-list page's counters.
    let html = audit("html");
    assert_eq!(html.code, 1, "{}", html.stderr);
    for label in &labels {
        assert!(
            html.stdout.contains(label.as_str()),
            "no {label:?} on the page"
        );
    }
    let blobs: u64 = report.summary.coverage.iter().map(|c| c.blobs).sum();
    assert!(blobs > 0 && report.summary.files == blobs);
    assert!(
        html.stdout
            .contains(&format!("{blobs} blobs in 1 repository audited")),
        "{}",
        html.stdout
            .lines()
            .find(|l| l.contains("class=\"meta\""))
            .unwrap_or("")
    );
    assert!(
        !html.stdout.contains("0.0 MB"),
        "zeroed counters on the page"
    );
    assert!(!html.stdout.contains("<th class=\"num\">Time</th>"));

    // `history` of the same repository counts and names the skipped blobs as the audit does:
    // the large archive once, though history meets two versions of it.
    let history = repo.keyhound(&[
        "history",
        ".",
        "--max-file-size",
        "262144",
        "--format",
        "json",
        "--show-secrets",
    ]);
    assert_eq!(history.code, 1, "{}", history.stderr);
    let history = report_of(&history.stdout);
    let named = |s: &AuditSummary| -> Vec<(String, String)> {
        s.skipped
            .iter()
            .map(|k| (k.path.clone(), k.reason.clone()))
            .collect()
    };
    assert_eq!(
        named(&report.summary),
        [("bundle.gz".into(), "too_large".into())]
    );
    assert_eq!(named(&history.summary), named(&report.summary));
    assert_eq!(history.summary.skipped_large, 1);
    assert_eq!(report.summary.skipped_large, 1);
}

/// A gzip file of 300 KB of random bytes: an archive over a 256 KiB `--max-file-size`.
fn big_gzip(r: &mut Rng) -> Vec<u8> {
    use std::io::Write;
    let data = r.string(ALNUM, 300_000);
    let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    w.write_all(data.as_bytes()).expect("gzip in memory");
    w.finish().expect("gzip in memory")
}
