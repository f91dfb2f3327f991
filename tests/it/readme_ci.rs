//! Issue 14: the README's GitLab job and GitHub step (section "Check pull requests in CI")
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
    image: String,
    variables: BTreeMap<String, serde_json::Value>,
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

/// The fenced YAML block that follows `<!-- tested: NAME -->` in README.md (or a docs/ page).
fn readme_block(name: &str) -> String {
    let marker = format!("<!-- tested: {name} -->\n```yaml\n");
    let (_, text) = crate::readme::doc_files()
        .into_iter()
        .find(|(_, text)| text.contains(&marker))
        .unwrap_or_else(|| panic!("no {marker:?} in README or docs/"));
    let start = text.find(&marker).expect("the marker") + marker.len();
    let end = start + text[start..].find("```").expect("closing fence");
    text[start..end].to_string()
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

/// Run `script` with `sh -c` in `repo`, the tested keyhound on PATH, and `vars` set.
fn sh(repo: &TestRepo, script: &str, vars: &[(&str, &str)]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(bin(), dir.path().join("keyhound")).unwrap();
    sh_with(repo, script, vars, Some(dir.path()))
}

/// Run `script` with `sh -c` in `repo`, `first` (if any) first on PATH, and `vars` set.
fn sh_with(
    repo: &TestRepo,
    script: &str,
    vars: &[(&str, &str)],
    first: Option<&Path>,
) -> (i32, String) {
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let dirs = first
        .map(Path::to_path_buf)
        .into_iter()
        .chain(std::env::split_paths(&inherited));
    let path = std::env::join_paths(dirs).unwrap();
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
    assert!(
        !text.contains("cargo ") && !text.contains('<'),
        "the job installs the wheel, from a URL the team sets:\n{text}"
    );
    let script: Vec<String> = match yaml(&text) {
        Some(v) => {
            let jobs: BTreeMap<String, GitlabJob> =
                serde_json::from_value(v).expect("a GitLab job");
            let job = &jobs["secret_detection"];
            assert_eq!(
                job.variables["GIT_DEPTH"],
                serde_json::json!(0),
                "the range needs the history"
            );
            assert!(job.image.starts_with("python:"), "{}", job.image);
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
            .filter_map(|l| l.trim().strip_prefix("- "))
            .filter(|l| l.starts_with("keyhound ") || l.starts_with("pip "))
            .map(str::to_string)
            .collect(),
    };
    assert_eq!(script.len(), 2, "{script:?}");
    assert_eq!(
        script[0], "pip install --quiet \"$KEYHOUND_WHEEL_URL\"",
        "the job installs the wheel"
    );
    let (repo, base, head) = pull_request();
    let vars = [
        ("CI_MERGE_REQUEST_DIFF_BASE_SHA", base.as_str()),
        ("CI_COMMIT_SHA", head.as_str()),
    ];
    // GitLab runs a job's script lines in one shell, stopping at the first that fails.
    let (code, _) = match crate::wheel::wheel_if_given() {
        Some(wheel) => {
            let venv = tempfile::tempdir().unwrap();
            let python = std::env::var_os("KEYHOUND_PYTHON").unwrap_or("python3".into());
            let made = Command::new(python)
                .args(["-m", "venv"])
                .arg(venv.path())
                .status()
                .unwrap();
            assert!(made.success());
            let wheel = wheel.to_string_lossy().into_owned();
            let mut with_wheel = vars.to_vec();
            with_wheel.push(("KEYHOUND_WHEEL_URL", &wheel));
            with_wheel.push(("PIP_NO_INDEX", "1"));
            with_wheel.push(("PIP_DISABLE_PIP_VERSION_CHECK", "1"));
            let joined = format!("set -e\n{}\n", script.join("\n"));
            sh_with(&repo, &joined, &with_wheel, Some(&venv.path().join("bin")))
        }
        None => {
            let ran = sh(&repo, &script[1], &vars);
            crate::wheel::wheel(); // says SKIPPED: the pip line did not run
            ran
        }
    };
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
