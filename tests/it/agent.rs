//! `keyhound agent-hook` and `keyhound hook install|uninstall --agent` (issue 14): recorded hook
//! events of Claude Code, Codex and Cursor (`fixtures/agent-events/`, keys generated here)
//! replayed through the real binary, and the agents' hook files merged, reinstalled and removed.

use std::path::Path;

use serde::Deserialize;

use crate::harness::{openai_key, Run, TestRepo};

/// The fixture `agent/name.json` with the key and the folder filled in.
fn event(agent: &str, name: &str, key: &str, cwd: &Path) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/agent-events")
        .join(agent)
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).expect("fixture");
    // Both go inside JSON strings: escape them as JSON does.
    let esc = |s: &str| {
        let quoted = serde_json::to_string(s).expect("string");
        quoted[1..quoted.len() - 1].to_string()
    };
    text.replace("__KEY__", &esc(key))
        .replace("__CWD__", &esc(&cwd.display().to_string()))
}

fn hook(repo: &TestRepo, agent: &str, input: &str) -> Run {
    repo.keyhound_with_stdin(&["agent-hook", "--agent", agent], Some(input.as_bytes()))
}

/// Claude Code's and Codex's `PreToolUse` answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PreAnswer {
    hook_specific_output: PreSpecific,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PreSpecific {
    hook_event_name: String,
    permission_decision: String,
    permission_decision_reason: String,
}

/// Claude Code's and Codex's `PostToolUse` answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostAnswer {
    decision: String,
    reason: String,
    hook_specific_output: PostSpecific,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostSpecific {
    hook_event_name: String,
    updated_tool_output: serde_json::Value,
}

/// Cursor's answer to `beforeShellExecution` / `beforeReadFile`.
#[derive(Debug, Deserialize)]
struct CursorPermission {
    permission: String,
    user_message: String,
    agent_message: String,
}

/// Cursor's answer to `beforeSubmitPrompt`.
#[derive(Debug, Deserialize)]
struct CursorContinue {
    #[serde(rename = "continue")]
    go_on: bool,
    user_message: String,
}

fn parse<T: serde::de::DeserializeOwned>(run: &Run) -> T {
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not the answer ({e}):\n{}\n{}", run.stdout, run.stderr))
}

/// The message every refusal carries: the rule, the redacted key, the environment variable to
/// use instead, and never the key itself.
fn assert_clear_message(msg: &str, key: &str, run: &Run) {
    assert!(msg.contains("openai.project-key"), "{msg}");
    assert!(
        msg.contains(&keyhound::redact::redact_after(key, "sk-proj-".len())),
        "{msg}"
    );
    assert!(msg.contains("environment variable"), "{msg}");
    assert!(msg.contains("OPENAI_API_KEY"), "{msg}");
    assert!(msg.contains("keyhound:allow"), "{msg}");
    assert!(!run.stdout.contains(key), "the answer shows the key");
    assert!(!run.stderr.contains(key), "stderr shows the key");
}

fn assert_allowed(run: &Run, what: &str) {
    assert_eq!(run.code, 0, "{what}: {}", run.stderr);
    assert_eq!(run.stdout, "", "{what}: an allowed event gets no answer");
}

#[test]
fn claude_code_denies_writes_edits_and_commands_that_carry_a_key() {
    let repo = TestRepo::dir();
    let key = openai_key(1401);
    for name in [
        "pre-write-key",
        "pre-edit-key",
        "pre-multiedit-key",
        "pre-bash-key",
    ] {
        let run = hook(
            &repo,
            "claude-code",
            &event("claude-code", name, &key, repo.path()),
        );
        let a: PreAnswer = parse(&run);
        assert_eq!(
            a.hook_specific_output.hook_event_name, "PreToolUse",
            "{name}"
        );
        assert_eq!(a.hook_specific_output.permission_decision, "deny", "{name}");
        assert_clear_message(
            &a.hook_specific_output.permission_decision_reason,
            &key,
            &run,
        );
    }
}

#[test]
fn claude_code_allows_clean_writes_and_an_edit_that_removes_a_key() {
    let repo = TestRepo::dir();
    let key = openai_key(1402);
    for name in ["pre-write-clean", "pre-edit-removes-key", "post-bash-clean"] {
        let run = hook(
            &repo,
            "claude-code",
            &event("claude-code", name, &key, repo.path()),
        );
        assert_allowed(&run, name);
    }
}

#[test]
fn claude_code_withholds_a_tool_output_with_a_key() {
    let repo = TestRepo::dir();
    let key = openai_key(1403);
    let run = hook(
        &repo,
        "claude-code",
        &event("claude-code", "post-bash-key", &key, repo.path()),
    );
    let a: PostAnswer = parse(&run);
    assert_eq!(a.decision, "block");
    assert_eq!(a.hook_specific_output.hook_event_name, "PostToolUse");
    assert_clear_message(&a.reason, &key, &run);
    // The replacement keeps the output's shape and text, with the key redacted.
    let stdout = a.hook_specific_output.updated_tool_output["stdout"]
        .as_str()
        .expect("stdout kept as a string")
        .to_string();
    assert!(stdout.starts_with("DEBUG=1\nOPENAI_API_KEY="), "{stdout}");
    assert!(stdout.contains(&keyhound::redact::redact(&key)), "{stdout}");
}

#[test]
fn codex_denies_a_patch_and_a_command_with_a_key_and_allows_a_patch_removing_it() {
    let repo = TestRepo::dir();
    let key = openai_key(1404);
    for name in ["pre-apply-patch-key", "pre-bash-key"] {
        let run = hook(&repo, "codex", &event("codex", name, &key, repo.path()));
        let a: PreAnswer = parse(&run);
        assert_eq!(a.hook_specific_output.permission_decision, "deny", "{name}");
        assert_clear_message(
            &a.hook_specific_output.permission_decision_reason,
            &key,
            &run,
        );
    }
    let patch = hook(
        &repo,
        "codex",
        &event("codex", "pre-apply-patch-key", &key, repo.path()),
    );
    let a: PreAnswer = parse(&patch);
    assert!(
        a.hook_specific_output
            .permission_decision_reason
            .contains("src/settings.py line 2"),
        "the patch's file and line: {}",
        a.hook_specific_output.permission_decision_reason
    );
    let run = hook(
        &repo,
        "codex",
        &event("codex", "pre-apply-patch-clean", &key, repo.path()),
    );
    assert_allowed(&run, "a patch whose only key is on a removed line");
}

#[test]
fn codex_withholds_a_command_output_with_a_key() {
    let repo = TestRepo::dir();
    let key = openai_key(1405);
    let run = hook(
        &repo,
        "codex",
        &event("codex", "post-bash-key", &key, repo.path()),
    );
    let a: PostAnswer = parse(&run);
    assert_eq!(a.decision, "block");
    assert_clear_message(&a.reason, &key, &run);
    // Codex accepts a replacement of the same JSON kind as the original (a string here).
    let out = a
        .hook_specific_output
        .updated_tool_output
        .as_str()
        .expect("a string, as the tool_response was");
    assert!(out.contains("PATH=/usr/bin"), "{out}");
    assert!(!out.contains(&key));
}

#[test]
fn cursor_denies_a_shell_write_and_a_read_and_stops_a_prompt() {
    let repo = TestRepo::dir();
    let key = openai_key(1406);
    for name in ["before-shell-key", "before-read-file-key"] {
        let run = hook(&repo, "cursor", &event("cursor", name, &key, repo.path()));
        let a: CursorPermission = parse(&run);
        assert_eq!(a.permission, "deny", "{name}");
        assert_clear_message(&a.agent_message, &key, &run);
        assert_eq!(a.user_message, a.agent_message);
    }
    let run = hook(
        &repo,
        "cursor",
        &event("cursor", "before-submit-prompt-key", &key, repo.path()),
    );
    let a: CursorContinue = parse(&run);
    assert!(!a.go_on, "the prompt must not be sent");
    assert_clear_message(&a.user_message, &key, &run);
    let run = hook(
        &repo,
        "cursor",
        &event("cursor", "before-shell-clean", &key, repo.path()),
    );
    assert_allowed(&run, "npm install");
}

/// Cursor documents no hook before a file edit: after one, keyhound can only say so.
#[test]
fn cursor_after_file_edit_is_reported_on_stderr() {
    let repo = TestRepo::dir();
    let key = openai_key(1407);
    let run = hook(
        &repo,
        "cursor",
        &event("cursor", "after-file-edit-key", &key, repo.path()),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("already made"), "{}", run.stderr);
    assert_clear_message(&run.stderr, &key, &run);
}

/// The project's policy applies as in a scan: `keyhound:allow` on the line, and `[allow] paths`
/// of `.keyhound.toml` in the event's folder.
#[test]
fn agent_hook_applies_inline_allow_and_the_project_config() {
    let repo = TestRepo::dir();
    let key = openai_key(1408);
    let allowed_inline = event("claude-code", "pre-write-key", &key, repo.path())
        .replace("\\\"\\n\"", "\\\"  # keyhound:allow\\n\"");
    assert!(allowed_inline.contains("keyhound:allow"), "fixture changed");
    assert_allowed(
        &hook(&repo, "claude-code", &allowed_inline),
        "keyhound:allow",
    );

    repo.write(".keyhound.toml", "[allow]\npaths = [\"src/**\"]\n");
    let run = hook(
        &repo,
        "claude-code",
        &event("claude-code", "pre-write-key", &key, repo.path()),
    );
    assert_allowed(&run, "[allow] paths");
    // A path the config does not allow is still refused.
    let run = hook(
        &repo,
        "claude-code",
        &event("claude-code", "pre-multiedit-key", &key, repo.path()),
    );
    let a: PreAnswer = parse(&run);
    assert_eq!(a.hook_specific_output.permission_decision, "deny");
}

/// An event that is not JSON fails closed (exit 2, a refusal for Claude Code and Codex) and
/// the message quotes nothing of the input.
#[test]
fn agent_hook_refuses_an_event_that_is_not_json() {
    let repo = TestRepo::dir();
    let key = openai_key(1409);
    let run = hook(&repo, "claude-code", &format!("{{\"oops {key}"));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("not JSON"), "{}", run.stderr);
    assert!(!run.stderr.contains(&key));
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("hook file")).expect("JSON")
}

/// Install merges into an existing settings file, a second install changes nothing, the
/// installed command answers an event, and uninstall leaves the file as it was.
#[test]
fn hook_install_merges_is_idempotent_and_uninstall_removes_only_keyhound() {
    let cases = [
        (
            "claude-code",
            ".claude/settings.json",
            r#"{"permissions": {"allow": ["Bash(npm test)"]}, "model": "opus",
               "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./lint.sh"}]}],
                         "Stop": [{"hooks": [{"type": "command", "command": "say done"}]}]}}"#,
            "PreToolUse",
            "pre-bash-key",
        ),
        (
            "codex",
            ".codex/hooks.json",
            r#"{"hooks": {"SessionStart": [{"matcher": "startup", "hooks": [{"type": "command", "command": "./start.sh"}]}]}}"#,
            "PreToolUse",
            "pre-bash-key",
        ),
        (
            "cursor",
            ".cursor/hooks.json",
            r#"{"version": 1, "hooks": {"afterFileEdit": [{"command": "./format.sh"}]}}"#,
            "beforeShellExecution",
            "before-shell-key",
        ),
    ];
    for (agent, file, existing, event_name, fixture) in cases {
        let repo = TestRepo::dir();
        repo.write(file, existing);
        let path = repo.path().join(file);
        let before = read_json(&path);

        let run = repo.keyhound(&["hook", "install", "--agent", agent]);
        assert_eq!(run.code, 0, "{agent}: {}", run.stderr);
        let once = std::fs::read_to_string(&path).expect("installed");
        let run = repo.keyhound(&["hook", "install", "--agent", agent]);
        assert_eq!(run.code, 0, "{agent}: {}", run.stderr);
        assert_eq!(
            std::fs::read_to_string(&path).expect("installed"),
            once,
            "{agent}: a second install changed the file"
        );

        let installed = read_json(&path);
        for (k, v) in before.as_object().expect("object") {
            if k != "hooks" {
                assert_eq!(&installed[k], v, "{agent}: setting {k} lost");
            }
        }
        for (event_key, list) in before["hooks"].as_object().expect("hooks") {
            for entry in list.as_array().expect("list") {
                assert!(
                    installed["hooks"][event_key]
                        .as_array()
                        .is_some_and(|l| l.contains(entry)),
                    "{agent}: hook {event_key} {entry} lost"
                );
            }
        }

        // The installed command, run as the agent runs it, refuses a key.
        let entries = installed["hooks"][event_name].as_array().expect("event");
        let ours: Vec<&str> = entries
            .iter()
            .flat_map(|e| {
                let mut commands = vec![e.get("command")];
                if let Some(hooks) = e.get("hooks").and_then(|h| h.as_array()) {
                    commands.extend(hooks.iter().map(|h| h.get("command")));
                }
                commands
            })
            .flatten()
            .filter_map(|c| c.as_str())
            .filter(|c| c.contains("agent-hook"))
            .collect();
        assert_eq!(ours.len(), 1, "{agent}: {entries:?}");
        let key = openai_key(1410);
        let input = event(agent, fixture, &key, repo.path());
        let mut child = std::process::Command::new("sh")
            .args(["-c", ours[0]])
            .current_dir(repo.path())
            .env("PATH", path_with_keyhound())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("sh");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("wait");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("deny"), "{agent}: installed command: {text}");

        let run = repo.keyhound(&["hook", "uninstall", "--agent", agent]);
        assert_eq!(run.code, 0, "{agent}: {}", run.stderr);
        let after = read_json(&path);
        assert_eq!(
            after, before,
            "{agent}: uninstall left more than keyhound's entries"
        );
    }
}

/// Install into a project without the file creates it; uninstall then leaves no hook.
#[test]
fn hook_install_creates_the_file_and_uninstall_empties_it() {
    let repo = TestRepo::dir();
    let run = repo.keyhound(&["hook", "install", "--agent", "claude-code"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let path = repo.path().join(".claude/settings.json");
    let v = read_json(&path);
    assert_eq!(
        v["hooks"]["PreToolUse"][0]["matcher"],
        "Write|Edit|MultiEdit|NotebookEdit|Bash|mcp__.*"
    );
    let run = repo.keyhound(&["hook", "uninstall", "--agent", "claude-code"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(read_json(&path), serde_json::json!({}));
    // A file that is not JSON is left alone, with the reason.
    repo.write(".cursor/hooks.json", "{ not json");
    let run = repo.keyhound(&["hook", "install", "--agent", "cursor"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not valid JSON"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(repo.path().join(".cursor/hooks.json")).unwrap(),
        "{ not json"
    );
}

/// PATH with the tested binary's folder first (the installed hooks find `keyhound` on PATH).
fn path_with_keyhound() -> std::ffi::OsString {
    let mut dirs = vec![crate::harness::bin()
        .parent()
        .expect("the binary is in a folder")
        .to_path_buf()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).expect("PATH")
}

/// Run an installed hook command as the agents do (`sh -c`), in `dir`, with `path` as PATH and
/// `input` on stdin.
fn run_installed(command: &str, dir: &Path, path: &std::ffi::OsStr, input: &str) -> Run {
    use std::io::Write;
    let mut child = std::process::Command::new("/bin/sh")
        .args(["-c", command])
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("sh");
    // A command that exits before reading (keyhound missing) closes the pipe: not an error.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes());
    let out = child.wait_with_output().expect("wait");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The commands of keyhound's entries in an installed hook file.
fn installed_commands(file: &Path) -> Vec<String> {
    let v = read_json(file);
    let mut commands = Vec::new();
    for list in v["hooks"].as_object().expect("hooks").values() {
        for e in list.as_array().expect("list") {
            let mut all = vec![e.get("command")];
            if let Some(hooks) = e.get("hooks").and_then(|h| h.as_array()) {
                all.extend(hooks.iter().map(|h| h.get("command")));
            }
            commands.extend(
                all.into_iter()
                    .flatten()
                    .filter_map(|c| c.as_str())
                    .filter(|c| c.contains("agent-hook"))
                    .map(str::to_string),
            );
        }
    }
    commands
}

/// Issue 19 item 6: the hook file is shared with the project, so the command names no path of
/// the installing machine; where keyhound is not on PATH it refuses (exit 2, which the agents
/// treat as blocking; 127 was not) and says why; where it is, it works from a subdirectory of
/// the repository as from its top.
#[test]
fn installed_agent_hook_is_portable_and_fails_closed_without_keyhound() {
    let repo = TestRepo::git();
    repo.write("sub/dir/.keep", "");
    let key = openai_key(1911);
    let bin = crate::harness::bin();
    let bin_dir = bin.parent().expect("folder").display().to_string();
    let only_git =
        crate::harness::path_with_only(&["git"], &std::env::var_os("PATH").unwrap_or_default());
    for (agent, file, fixture) in [
        ("claude-code", ".claude/settings.json", "pre-bash-key"),
        ("codex", ".codex/hooks.json", "pre-bash-key"),
        ("cursor", ".cursor/hooks.json", "before-shell-key"),
    ] {
        let run = repo.keyhound(&["hook", "install", "--agent", agent]);
        assert_eq!(run.code, 0, "{agent}: {}", run.stderr);
        let commands = installed_commands(&repo.path().join(file));
        assert!(!commands.is_empty(), "{agent}");
        let sub = repo.path().join("sub/dir");
        let input = event(agent, fixture, &key, &sub);
        for command in &commands {
            assert!(
                !command.contains(&bin_dir),
                "{agent}: the command names this machine's binary: {command}"
            );
            let run = run_installed(command, &sub, only_git.path().as_os_str(), &input);
            assert_eq!(
                run.code, 2,
                "{agent}: without keyhound on PATH: {}{}",
                run.stdout, run.stderr
            );
            assert!(
                run.stderr.contains("not on PATH"),
                "{agent}: {}",
                run.stderr
            );
            let run = run_installed(command, &sub, &path_with_keyhound(), &input);
            assert_eq!(run.code, 0, "{agent}: {}", run.stderr);
            assert!(run.stdout.contains("deny"), "{agent}: {}", run.stdout);
            assert!(!run.stdout.contains(&key));
        }
    }
}

/// Issue 19 item 6: the installed command runs at the top of the repository, whatever folder
/// the agent runs it in: run from a subdirectory, `pwd` inside keyhound's place is the top.
#[test]
fn installed_agent_hook_runs_at_the_repository_top() {
    let repo = TestRepo::git();
    repo.write("sub/dir/.keep", "");
    let run = repo.keyhound(&["hook", "install", "--agent", "claude-code"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let commands = installed_commands(&repo.path().join(".claude/settings.json"));
    // A stand-in `keyhound` that prints where it was started.
    let tools =
        crate::harness::path_with_only(&["git"], &std::env::var_os("PATH").unwrap_or_default());
    let fake = tools.path().join("keyhound");
    std::fs::write(&fake, "#!/bin/sh\npwd\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let top = std::fs::canonicalize(repo.path()).unwrap();
    for command in &commands {
        let run = run_installed(
            command,
            &repo.path().join("sub/dir"),
            tools.path().as_os_str(),
            "{}",
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(
            std::fs::canonicalize(run.stdout.trim()).unwrap(),
            top,
            "{command}"
        );
    }
}

/// Issue 19 item 6: Claude Code's `NotebookEdit` and MCP tools, and Cursor's
/// `beforeMCPExecution`, are checked like a file write (the MCP input as a whole: a key in it
/// leaves the machine).
#[test]
fn notebook_edits_and_mcp_tool_calls_with_a_key_are_denied() {
    let repo = TestRepo::dir();
    let key = openai_key(1912);
    for name in ["pre-notebook-edit-key", "pre-mcp-write-key"] {
        let run = hook(
            &repo,
            "claude-code",
            &event("claude-code", name, &key, repo.path()),
        );
        let a: PreAnswer = parse(&run);
        assert_eq!(a.hook_specific_output.permission_decision, "deny", "{name}");
        assert_clear_message(
            &a.hook_specific_output.permission_decision_reason,
            &key,
            &run,
        );
    }
    let run = hook(
        &repo,
        "cursor",
        &event("cursor", "before-mcp-key", &key, repo.path()),
    );
    let a: CursorPermission = parse(&run);
    assert_eq!(a.permission, "deny");
    assert_clear_message(&a.agent_message, &key, &run);
    // The control: the same MCP call without the key is allowed.
    let clean = event(
        "claude-code",
        "pre-mcp-write-key",
        "${OPENAI_API_KEY}",
        repo.path(),
    );
    assert_allowed(
        &hook(&repo, "claude-code", &clean),
        "mcp write without a key",
    );
    // The installed matchers name them.
    let run = repo.keyhound(&["hook", "install", "--agent", "claude-code"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = read_json(&repo.path().join(".claude/settings.json"));
    let matcher = v["hooks"]["PreToolUse"][0]["matcher"].as_str().unwrap();
    assert!(
        matcher.contains("NotebookEdit") && matcher.contains("mcp__"),
        "{matcher}"
    );
    let run = repo.keyhound(&["hook", "install", "--agent", "cursor"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = read_json(&repo.path().join(".cursor/hooks.json"));
    assert!(v["hooks"]["beforeMCPExecution"].is_array(), "{v}");
}

/// Issue 19 item 6: install and uninstall keep the user's key order (a settings file is read
/// and reviewed by people): install only adds keyhound's entries, uninstall gives back the
/// file byte for byte.
#[test]
fn hook_install_keeps_the_key_order_of_the_settings_file() {
    let repo = TestRepo::dir();
    let original = r#"{
  "permissions": {
    "deny": [
      "Read(./.env)"
    ],
    "allow": [
      "Bash(npm test)"
    ]
  },
  "model": "opus",
  "hooks": {
    "Stop": [
      {
        "hooks": [
          {
            "type": "command",
            "command": "say done"
          }
        ]
      }
    ]
  },
  "env": {
    "Z_LAST": "1",
    "A_FIRST": "2"
  }
}
"#;
    repo.write(".claude/settings.json", original);
    let path = repo.path().join(".claude/settings.json");
    let run = repo.keyhound(&["hook", "install", "--agent", "claude-code"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let installed = std::fs::read_to_string(&path).unwrap();
    let at = |s: &str| {
        installed
            .find(s)
            .unwrap_or_else(|| panic!("{s} missing:\n{installed}"))
    };
    assert!(at("\"permissions\"") < at("\"model\""), "{installed}");
    assert!(at("\"model\"") < at("\"hooks\"") && at("\"hooks\"") < at("\"env\""));
    assert!(at("\"deny\"") < at("\"allow\"") && at("\"Z_LAST\"") < at("\"A_FIRST\""));
    assert!(at("\"Stop\"") < at("\"PreToolUse\""), "{installed}");
    let run = repo.keyhound(&["hook", "uninstall", "--agent", "claude-code"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);
}
