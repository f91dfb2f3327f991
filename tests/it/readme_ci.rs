//! Issue 14: the README's GitLab job and GitHub step (section "Reports GitLab and GitHub read")
//! are tested verbatim. Each block is parsed with a YAML parser (PyYAML: in the pre-commit venv
//! CI builds, or the system `python3`) into typed structs, and the keyhound command each holds is
//! run as written, through `sh`, with the CI variables it names set to real commits.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

use crate::harness::{bin, openai_key, TestRepo};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GitlabJob {
    script: Vec<String>,
    rules: Vec<BTreeMap<String, String>>,
    artifacts: Artifacts,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Artifacts {
    when: String,
    reports: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GithubStep {
    name: String,
    #[serde(rename = "if")]
    condition: String,
    run: String,
    env: BTreeMap<String, String>,
}

/// The fenced YAML block that follows `<!-- tested: NAME -->` in README.md.
fn readme_block(name: &str) -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let marker = format!("<!-- tested: {name} -->\n```yaml\n");
    let start = readme
        .find(&marker)
        .unwrap_or_else(|| panic!("no {marker:?} in README"))
        + marker.len();
    let end = start + readme[start..].find("```").expect("closing fence");
    readme[start..end].to_string()
}

/// YAML to JSON with PyYAML; `None` (outside CI) when no Python here has it.
fn yaml(text: &str) -> Option<serde_json::Value> {
    let mut pythons: Vec<PathBuf> = Vec::new();
    if let Some(pc) = std::env::var_os("KEYHOUND_PRE_COMMIT") {
        pythons.push(PathBuf::from(pc).with_file_name("python"));
    }
    pythons.push("python3".into());
    for python in pythons {
        let Ok(mut child) = Command::new(&python)
            .args([
                "-c",
                "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
        else {
            continue;
        };
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        if out.status.success() {
            return Some(serde_json::from_slice(&out.stdout).expect("PyYAML wrote JSON"));
        }
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI needs PyYAML (the pre-commit venv has it) to check the README's YAML"
    );
    eprintln!("note: PyYAML not found; README YAML not parsed, its commands still run");
    None
}

/// A repository whose second commit adds a key; returns it with the two commit ids.
fn pull_request() -> (TestRepo, String, String) {
    let repo = TestRepo::git();
    repo.write("README.md", "base\n");
    let base = repo.commit("base");
    repo.write("app/.env", format!("OPENAI_API_KEY={}\n", openai_key(150)));
    let head = repo.commit("add settings");
    (repo, base, head)
}

/// Run `script` with `sh -c` in `repo`, `keyhound` on PATH, and `vars` set.
fn sh(repo: &TestRepo, script: &str, vars: &[(&str, &str)]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(bin(), dir.path().join("keyhound")).unwrap();
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .args(["-c", script])
        .current_dir(repo.path())
        .env_clear()
        .env("PATH", path)
        .env("HOME", repo.home.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn readme_gitlab_job_reports_secret_detection() {
    let text = readme_block("readme_gitlab_job");
    let script: Vec<String> = match yaml(&text) {
        Some(v) => {
            let jobs: BTreeMap<String, GitlabJob> =
                serde_json::from_value(v).expect("a GitLab job");
            let job = &jobs["secret_detection"];
            assert_eq!(
                job.artifacts.reports["secret_detection"],
                "gl-secret-detection-report.json"
            );
            assert_eq!(
                job.artifacts.when, "always",
                "the report uploads when keys fail the job"
            );
            assert_eq!(
                job.rules[0]["if"],
                "$CI_PIPELINE_SOURCE == \"merge_request_event\""
            );
            job.script.clone()
        }
        None => text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- keyhound "))
            .map(|l| format!("keyhound {l}"))
            .collect(),
    };
    assert_eq!(script.len(), 1);
    let (repo, base, head) = pull_request();
    let (code, _) = sh(
        &repo,
        &script[0],
        &[
            ("CI_MERGE_REQUEST_DIFF_BASE_SHA", &base),
            ("CI_COMMIT_SHA", &head),
        ],
    );
    assert_eq!(code, 1, "the key added in the merge request fails the job");
    let report: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo.path().join("gl-secret-detection-report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["scan"]["type"], "secret_detection");
    assert_eq!(
        report["vulnerabilities"][0]["location"]["commit"]["sha"],
        head.as_str()
    );
}

#[test]
fn readme_github_step_prints_annotations() {
    let text = readme_block("readme_github_step");
    let run = match yaml(&text) {
        Some(v) => {
            let steps: Vec<GithubStep> = serde_json::from_value(v).expect("a list of steps");
            assert_eq!(steps.len(), 1);
            let step = &steps[0];
            assert!(!step.name.is_empty());
            assert_eq!(step.condition, "github.event_name == 'pull_request'");
            assert_eq!(
                step.env.keys().collect::<Vec<_>>(),
                ["BASE", "HEAD"],
                "the variables the command uses"
            );
            step.run.clone()
        }
        None => text
            .lines()
            .find_map(|l| l.trim().strip_prefix("run: "))
            .expect("a run line")
            .to_string(),
    };
    assert!(run.contains("--format github"));
    let (repo, base, head) = pull_request();
    let (code, stdout) = sh(&repo, &run, &[("BASE", &base), ("HEAD", &head)]);
    assert_eq!(code, 1);
    assert!(
        stdout.starts_with("::error file=app/.env,line=1,"),
        "{stdout}"
    );
}
