//! `deploy/` (issue 13, item 4): the Kubernetes manifests must validate against the API schemas
//! (`kubernetes-validate --strict`, which ships the schemas and works offline: PyPI package
//! kubernetes-validate, `KEYHOUND_KUBERNETES_VALIDATE` or on PATH) and the GitHub workflow must
//! pass actionlint (`KEYHOUND_ACTIONLINT` or on PATH). Each check also runs on a broken copy, which
//! must fail, so a validator that accepts anything cannot pass the test.
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{require_tool, Run};

fn deploy_dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(sub)
}

/// The files in `deploy/<sub>` ending in `.<ext>`, sorted.
fn files(sub: &str, ext: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(deploy_dir(sub))
        .unwrap_or_else(|e| panic!("deploy/{sub}: {e}"))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    found.sort();
    assert!(!found.is_empty(), "no .{ext} file in deploy/{sub}");
    found
}

fn run(tool: &Path, args: &[&str], files: &[PathBuf]) -> Run {
    let out = Command::new(tool)
        .args(args)
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", tool.display()));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The number after `key` on the first line that starts with it (`completions: 8`,
/// `value: "8"`).
fn number_after(text: &str, key: &str) -> u32 {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(key))
        .and_then(|rest| rest.trim().trim_matches('"').parse().ok())
        .unwrap_or_else(|| panic!("no `{key}` number"))
}

/// Positive control: each `(name, broken)` copy of `original`, written to a temp dir, must fail
/// `tool args`, so a validator that accepts anything cannot pass the test.
fn broken_copies_fail<const N: usize>(
    tool: &Path,
    args: &[&str],
    original: &str,
    broken: [(&str, String); N],
) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in broken {
        assert_ne!(
            text, original,
            "{name}: the file changed shape; update the control"
        );
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let bad = run(tool, args, &[path]);
        assert_ne!(bad.code, 0, "{name} passed:\n{}{}", bad.stdout, bad.stderr);
    }
}

#[test]
fn issue_13_kubernetes_manifests_validate_against_the_api_schemas() {
    let Some(validate) = require_tool("kubernetes-validate", "KEYHOUND_KUBERNETES_VALIDATE") else {
        return;
    };
    let manifests = files("kubernetes", "yaml");
    let ok = run(&validate, &["--strict"], &manifests);
    assert_eq!(
        ok.code, 0,
        "kubernetes-validate:\n{}{}",
        ok.stdout, ok.stderr
    );
    let said = format!("{}{}", ok.stdout, ok.stderr);
    for resource in [
        "job/keyhound-audit",
        "job/keyhound-merge",
        "job/keyhound-verify",
        "configmap/keyhound-repos",
        "persistentvolumeclaim/keyhound-reports",
        "persistentvolumeclaim/keyhound-cache",
    ] {
        assert!(
            said.contains(&format!("passed for resource {resource}")),
            "{resource} not validated:\n{said}"
        );
    }

    // Positive control: a misspelt field (strict mode) and a wrong type must each fail.
    let audit = read(&deploy_dir("kubernetes").join("audit-job.yaml"));
    broken_copies_fail(
        &validate,
        &["--strict"],
        &audit,
        [
            (
                "misspelt.yaml",
                audit.replace("backoffLimitPerIndex:", "backofLimitPerIndex:"),
            ),
            (
                "wrong-type.yaml",
                audit.replace("completions: 8", "completions: eight"),
            ),
        ],
    );
}

/// The audit Job runs the agreed command, one shard per index, with its report on the volume the
/// merge Job reads; the shard count is the same in both places it is written.
#[test]
fn issue_13_kubernetes_audit_job_runs_one_shard_per_index() {
    let audit = read(&deploy_dir("kubernetes").join("audit-job.yaml"));
    let merge = read(&deploy_dir("kubernetes").join("merge-job.yaml"));
    assert!(audit.contains("completionMode: Indexed"));
    assert!(audit.contains("backoffLimitPerIndex:"));
    let completions = number_after(&audit, "completions:");
    let shards = audit
        .split("- name: SHARDS")
        .nth(1)
        .map(|rest| number_after(rest, "value:"))
        .expect("a SHARDS variable");
    assert_eq!(completions, shards, "completions and SHARDS differ");
    for part in [
        "keyhound audit --repos-from /config/repos.txt",
        "--shard \"$shard/$SHARDS\"",
        "${RERUN_SHARD:-$JOB_COMPLETION_INDEX}",
        "--cache-dir /cache",
        "--format json --show-secrets",
        "\"/reports/shard-$shard.json\"",
    ] {
        assert!(audit.contains(part), "audit-job.yaml lacks {part}");
    }
    assert!(merge.contains("keyhound merge /reports/shard-*.json"));
    assert!(merge.contains("--format json --show-secrets -o /reports/merged.json"));
    assert!(merge.contains("--format html") && merge.contains("--format sarif"));
}

#[test]
fn issue_13_github_audit_workflow_passes_actionlint() {
    let Some(actionlint) = require_tool("actionlint", "KEYHOUND_ACTIONLINT") else {
        return;
    };
    let workflows = files("github", "yml");
    let ok = run(&actionlint, &["-no-color"], &workflows);
    assert_eq!(ok.code, 0, "actionlint:\n{}{}", ok.stdout, ok.stderr);

    let workflow = read(&deploy_dir("github").join("audit.yml"));
    for part in [
        "workflow_dispatch:",
        "gh repo list",
        "shard: ${{ fromJSON(needs.enumerate.outputs.shards) }}",
        "--shard \"$SHARD/$SHARDS\"",
        "keyhound merge shards/*.json",
        "github/codeql-action/upload-sarif@",
    ] {
        assert!(workflow.contains(part), "audit.yml lacks {part}");
    }

    // Positive control: a job that needs a job which does not exist, and an unknown input of a
    // known action, must each fail.
    broken_copies_fail(
        &actionlint,
        &["-no-color"],
        &workflow,
        [
            (
                "needs.yml",
                workflow.replace(
                    "needs: [enumerate, build, audit]",
                    "needs: [enumerate, build, audits]",
                ),
            ),
            (
                "input.yml",
                workflow.replace("merge-multiple: true", "merge-multipel: true"),
            ),
        ],
    );
}

/// The literal `- |` blocks of a manifest (the Jobs' shell scripts), without their indentation.
fn scripts(manifest: &str) -> Vec<String> {
    let lines: Vec<&str> = manifest.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim() != "- |" {
            continue;
        }
        let Some(first) = lines.get(i + 1) else {
            continue;
        };
        let indent = first.len() - first.trim_start().len();
        let body: Vec<&str> = lines[i + 1..]
            .iter()
            .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() >= indent)
            .map(|l| l.get(indent..).unwrap_or(""))
            .collect();
        found.push(body.join("\n") + "\n");
    }
    found
}

/// `sh -n` (parse only) on a script; true when it parses.
fn shell_parses(script: &str) -> bool {
    Command::new("sh")
        .args(["-n", "-c", script])
        .status()
        .expect("run sh")
        .success()
}

#[test]
fn issue_13_kubernetes_job_scripts_are_valid_shell() {
    let mut checked = 0;
    for manifest in files("kubernetes", "yaml") {
        for script in scripts(&read(&manifest)) {
            assert!(
                shell_parses(&script),
                "{}: not valid sh:\n{script}",
                manifest.display()
            );
            // The whole block was read: each script ends by passing on its worst status.
            assert!(
                script.trim_end().ends_with("exit \"$status\"")
                    || script.trim_end().ends_with("exit \"$worst\""),
                "{}: script cut short:\n{script}",
                manifest.display()
            );
            checked += 1;
        }
    }
    assert_eq!(
        checked, 3,
        "the audit, merge and verify Jobs each run one script"
    );
    // Positive control: sh -n does refuse a broken script.
    assert!(!shell_parses("if [ 1 -le 2 ]; then exit 0\n"));
}
