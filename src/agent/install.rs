//! `keyhound hook install|uninstall --agent A`: keyhound's entries in an agent's project-level
//! hook file, merged into whatever the file already holds. Install replaces keyhound's own
//! entries (so running it twice changes nothing) and keeps every other setting and hook;
//! uninstall removes only keyhound's entries. An entry is keyhound's when its command runs
//! `agent-hook --agent A`.
//!
//! - Claude Code: `.claude/settings.json`, `hooks.PreToolUse` (matcher
//!   `Write|Edit|MultiEdit|Bash`) and `hooks.PostToolUse` (`Bash|Read|Grep`), each
//!   `{"matcher", "hooks": [{"type": "command", "command"}]}`.
//! - Codex: `.codex/hooks.json`, the same shape: `PreToolUse` (`Bash|apply_patch`) and
//!   `PostToolUse` (`Bash`). Codex loads a project's hooks only once the project is trusted.
//! - Cursor: `.cursor/hooks.json`, `{"version": 1, "hooks": {EVENT: [{"command"}]}}` for
//!   `beforeShellExecution`, `beforeReadFile`, `beforeSubmitPrompt` and `afterFileEdit`.
//!
//! The file is rewritten as pretty-printed JSON; key order within objects is not kept.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::Agent;

/// The hook file of `agent` in the project at `dir`.
pub fn file(agent: Agent, dir: &Path) -> PathBuf {
    match agent {
        Agent::ClaudeCode => dir.join(".claude").join("settings.json"),
        Agent::Cursor => dir.join(".cursor").join("hooks.json"),
        Agent::Codex => dir.join(".codex").join("hooks.json"),
    }
}

/// The shell command the agent runs: the installing binary, quoted for `sh`.
pub fn command(agent: Agent, exe: &Path) -> String {
    let exe = exe.display().to_string().replace('\'', "'\\''");
    format!("'{exe}' agent-hook --agent {}", agent.name())
}

/// What marks an entry as keyhound's.
fn marker(agent: Agent) -> String {
    format!("agent-hook --agent {}", agent.name())
}

/// keyhound's entries: (event, entry).
fn entries(agent: Agent, command: &str) -> Vec<(&'static str, Value)> {
    let tool_hook = |matcher: &str| {
        json!({
            "matcher": matcher,
            "hooks": [{"type": "command", "command": command}],
        })
    };
    match agent {
        Agent::ClaudeCode => vec![
            ("PreToolUse", tool_hook("Write|Edit|MultiEdit|Bash")),
            ("PostToolUse", tool_hook("Bash|Read|Grep")),
        ],
        Agent::Codex => vec![
            ("PreToolUse", tool_hook("Bash|apply_patch")),
            ("PostToolUse", tool_hook("Bash")),
        ],
        Agent::Cursor => [
            "beforeShellExecution",
            "beforeReadFile",
            "beforeSubmitPrompt",
            "afterFileEdit",
        ]
        .into_iter()
        .map(|event| (event, json!({ "command": command })))
        .collect(),
    }
}

/// Whether an entry (Cursor's `{"command"}` or a `{"matcher", "hooks": [...]}` group) runs
/// keyhound's agent hook for `agent`.
fn is_ours(entry: &Value, marker: &str) -> bool {
    let runs = |v: &Value| {
        v.get("command")
            .and_then(Value::as_str)
            .is_some_and(|c| c.contains(marker))
    };
    runs(entry)
        || entry
            .get("hooks")
            .and_then(Value::as_array)
            .is_some_and(|hooks| hooks.iter().any(runs))
}

/// Read the hook file as a JSON object (`{}` when it does not exist).
fn load(path: &Path) -> Result<Map<String, Value>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
        Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
    };
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(format!(
            "{}: not a JSON object; left alone, fix or move it first",
            path.display()
        )),
        Err(e) => Err(format!(
            "{}: not valid JSON ({e}); left alone, fix or move it first",
            path.display()
        )),
    }
}

fn save(path: &Path, root: &Map<String, Value>) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut text = serde_json::to_string_pretty(root).expect("a JSON map always serializes");
    text.push('\n');
    crate::output::write(path, false, |w| w.write_all(text.as_bytes()))
}

/// Remove keyhound's entries from `root["hooks"]`; returns how many were removed. Events left
/// empty by the removal are removed, and so is a `hooks` object left empty.
fn remove_ours(root: &mut Map<String, Value>, agent: Agent) -> Result<usize, String> {
    let marker = marker(agent);
    let Some(hooks) = root.get_mut("hooks") else {
        return Ok(0);
    };
    let Some(hooks) = hooks.as_object_mut() else {
        return Err("\"hooks\" is not a JSON object".into());
    };
    let mut removed = 0;
    let mut emptied = Vec::new();
    for (event, list) in hooks.iter_mut() {
        let Some(list) = list.as_array_mut() else {
            continue;
        };
        let before = list.len();
        list.retain(|e| !is_ours(e, &marker));
        if list.len() < before {
            removed += before - list.len();
            if list.is_empty() {
                emptied.push(event.clone());
            }
        }
    }
    for event in emptied {
        hooks.remove(&event);
    }
    if hooks.is_empty() {
        root.remove("hooks");
    }
    Ok(removed)
}

/// Write keyhound's entries into `agent`'s hook file in the project at `dir`.
pub fn install(agent: Agent, dir: &Path, exe: &Path) -> Result<String, String> {
    let path = file(agent, dir);
    let mut root = load(&path)?;
    let existed = remove_ours(&mut root, agent).map_err(|e| format!("{}: {e}", path.display()))?;
    if agent == Agent::Cursor {
        root.entry("version").or_insert(json!(1));
    }
    let hooks = root
        .entry("hooks")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .expect("remove_ours refused a non-object \"hooks\"");
    let command = command(agent, exe);
    for (event, entry) in entries(agent, &command) {
        let list = hooks
            .entry(event)
            .or_insert_with(|| Value::Array(Vec::new()));
        match list.as_array_mut() {
            Some(list) => list.push(entry),
            None => {
                return Err(format!(
                    "{}: hooks.{event} is not a list; left alone, fix it first",
                    path.display()
                ))
            }
        }
    }
    save(&path, &root)?;
    Ok(format!(
        "{}: {} the {} hooks",
        path.display(),
        if existed > 0 { "updated" } else { "installed" },
        agent.name()
    ))
}

/// Remove keyhound's entries from `agent`'s hook file in the project at `dir`.
pub fn uninstall(agent: Agent, dir: &Path) -> Result<String, String> {
    let path = file(agent, dir);
    if !path.exists() {
        return Ok(format!(
            "{}: no hook file; nothing to remove",
            path.display()
        ));
    }
    let mut root = load(&path)?;
    let removed = remove_ours(&mut root, agent).map_err(|e| format!("{}: {e}", path.display()))?;
    if removed == 0 {
        return Ok(format!("{}: no keyhound hook; left alone", path.display()));
    }
    save(&path, &root)?;
    Ok(format!("{}: removed the keyhound hooks", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ours_is_recognised_in_both_shapes() {
        let m = marker(Agent::ClaudeCode);
        let group = json!({"matcher": "Bash", "hooks": [{"type": "command", "command": "'/x/keyhound' agent-hook --agent claude-code"}]});
        assert!(is_ours(&group, &m));
        let cursor = json!({"command": "'/x/keyhound' agent-hook --agent cursor"});
        assert!(is_ours(&cursor, &marker(Agent::Cursor)));
        assert!(!is_ours(&cursor, &m));
        assert!(!is_ours(&json!({"command": "prettier --write"}), &m));
    }
}
