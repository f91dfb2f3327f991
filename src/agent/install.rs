//! `keyhound hook install|uninstall --agent A`: keyhound's entries in an agent's project-level
//! hook file, merged into whatever the file already holds. Install replaces keyhound's own
//! entries (so running it twice changes nothing) and keeps every other setting and hook;
//! uninstall removes only keyhound's entries. An entry is keyhound's when its command runs
//! `agent-hook --agent A`.
//!
//! - Claude Code: `.claude/settings.json`, `hooks.PreToolUse` (matcher
//!   `Write|Edit|MultiEdit|NotebookEdit|Bash|mcp__.*`) and `hooks.PostToolUse`
//!   (`Bash|Read|Grep`), each `{"matcher", "hooks": [{"type": "command", "command"}]}`.
//! - Codex: `.codex/hooks.json`, the same shape: `PreToolUse` (`Bash|apply_patch|mcp__.*`) and
//!   `PostToolUse` (`Bash`). Codex loads a project's hooks only once the project is trusted.
//! - Cursor: `.cursor/hooks.json`, `{"version": 1, "hooks": {EVENT: [{"command"}]}}` for
//!   `beforeShellExecution`, `beforeMCPExecution`, `beforeReadFile`, `beforeSubmitPrompt` and
//!   `afterFileEdit`.
//!
//! The file is shared (committed with the project), so the command names no path of this
//! machine: it finds `keyhound` on PATH, runs at the top of the repository, and fails closed
//! (exit 2, which the agents treat as a refusal, with the reason on stderr) when keyhound is
//! missing or fails; see [`command`] (issue 19 item 6). The file is rewritten as
//! pretty-printed JSON with every object's keys in the order the file had them ([`Json`]).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::Agent;

/// The hook file of `agent` in the project at `dir`.
pub(crate) fn file(agent: Agent, dir: &Path) -> PathBuf {
    match agent {
        Agent::ClaudeCode => dir.join(".claude").join("settings.json"),
        Agent::Cursor => dir.join(".cursor").join("hooks.json"),
        Agent::Codex => dir.join(".codex").join("hooks.json"),
    }
}

/// The shell command the agent runs, the same on every machine: go to the top of the
/// repository (where the project's `.keyhound.toml` and baseline are; the folder itself when it
/// is not a repository), refuse with exit 2 and a message when `keyhound` is not on PATH, and
/// turn any other failure of keyhound into exit 2. An exit of 127 (command not found) or 1
/// would let the action through: the agents block only on exit 2.
pub(crate) fn command(agent: Agent) -> String {
    let name = agent.name();
    format!(
        "cd \"$(git rev-parse --show-toplevel 2>/dev/null || pwd)\" || exit 2; \
         command -v keyhound >/dev/null 2>&1 || {{ echo \"keyhound: refused: the {name} hook \
         cannot run keyhound, it is not on PATH. Install keyhound, or remove the hook with: \
         keyhound hook uninstall --agent {name}\" >&2; exit 2; }}; \
         keyhound agent-hook --agent {name} || exit 2"
    )
}

/// What marks an entry as keyhound's.
fn marker(agent: Agent) -> String {
    format!("agent-hook --agent {}", agent.name())
}

/// A JSON value whose objects keep their keys in the order they were read or built, so a
/// rewritten settings file differs from the user's only by keyhound's entries. (serde_json's
/// `Value` sorts keys unless its `preserve_order` feature is on, which would change the key
/// order of every JSON report keyhound writes.)
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn object<const N: usize>(fields: [(&str, Json); N]) -> Json {
        Json::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }
}

/// The value of `key` among an object's fields, added at the end as `default` when missing.
fn entry<'a>(fields: &'a mut Vec<(String, Json)>, key: &str, default: Json) -> &'a mut Json {
    let at = match fields.iter().position(|(k, _)| k == key) {
        Some(i) => i,
        None => {
            fields.push((key.to_string(), default));
            fields.len() - 1
        }
    };
    &mut fields[at].1
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Number(n) => n.serialize(s),
            Json::String(t) => s.serialize_str(t),
            Json::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(fields) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Json, E> {
                Ok(Json::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Json, E> {
                Ok(Json::Number(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Json, E> {
                Ok(Json::Number(n.into()))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Json, E> {
                Ok(serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number))
            }
            fn visit_str<E>(self, t: &str) -> Result<Json, E> {
                Ok(Json::String(t.to_string()))
            }
            fn visit_string<E>(self, t: String) -> Result<Json, E> {
                Ok(Json::String(t))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Json::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut fields: Vec<(String, Json)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Json>()? {
                    // A repeated key: the last value wins, in the first one's place (as
                    // serde_json reads it).
                    *entry(&mut fields, &k, Json::Null) = v;
                }
                Ok(Json::Object(fields))
            }
        }
        d.deserialize_any(V)
    }
}

/// keyhound's entries: (event, entry).
fn entries(agent: Agent, command: &str) -> Vec<(&'static str, Json)> {
    let tool_hook = |matcher: &str| {
        Json::object([
            ("matcher", Json::String(matcher.into())),
            (
                "hooks",
                Json::Array(vec![Json::object([
                    ("type", Json::String("command".into())),
                    ("command", Json::String(command.into())),
                ])]),
            ),
        ])
    };
    match agent {
        // Every tool that writes a file (a notebook cell too), runs a command, or hands text to
        // an MCP server (`mcp__<server>__<tool>`: a key in its input leaves the machine, or
        // lands in a file the server writes).
        Agent::ClaudeCode => vec![
            (
                "PreToolUse",
                tool_hook("Write|Edit|MultiEdit|NotebookEdit|Bash|mcp__.*"),
            ),
            ("PostToolUse", tool_hook("Bash|Read|Grep")),
        ],
        Agent::Codex => vec![
            ("PreToolUse", tool_hook("Bash|apply_patch|mcp__.*")),
            ("PostToolUse", tool_hook("Bash")),
        ],
        Agent::Cursor => [
            "beforeShellExecution",
            "beforeMCPExecution",
            "beforeReadFile",
            "beforeSubmitPrompt",
            "afterFileEdit",
        ]
        .into_iter()
        .map(|event| {
            (
                event,
                Json::object([("command", Json::String(command.into()))]),
            )
        })
        .collect(),
    }
}

/// Whether an entry (Cursor's `{"command"}` or a `{"matcher", "hooks": [...]}` group) runs
/// keyhound's agent hook for `agent`.
fn is_ours(entry: &Json, marker: &str) -> bool {
    let runs = |v: &Json| {
        v.get("command")
            .and_then(Json::as_str)
            .is_some_and(|c| c.contains(marker))
    };
    runs(entry) || matches!(entry.get("hooks"), Some(Json::Array(hooks)) if hooks.iter().any(runs))
}

/// Read the hook file's top-level object (empty when the file does not exist).
fn load(path: &Path) -> Result<Vec<(String, Json)>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
    };
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    match serde_json::from_str::<Json>(&text) {
        Ok(Json::Object(fields)) => Ok(fields),
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

fn save(path: &Path, root: Vec<(String, Json)>) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut text =
        serde_json::to_string_pretty(&Json::Object(root)).expect("a JSON value always serializes");
    text.push('\n');
    crate::output::write(path, false, |w| w.write_all(text.as_bytes()))
}

/// Remove keyhound's entries from `root["hooks"]`; returns how many were removed. Events left
/// empty by the removal are removed, and so is a `hooks` object left empty.
fn remove_ours(root: &mut Vec<(String, Json)>, agent: Agent) -> Result<usize, String> {
    let marker = marker(agent);
    let Some(at) = root.iter().position(|(k, _)| k == "hooks") else {
        return Ok(0);
    };
    let Json::Object(hooks) = &mut root[at].1 else {
        return Err("\"hooks\" is not a JSON object".into());
    };
    let mut removed = 0;
    for (_, list) in hooks.iter_mut() {
        if let Json::Array(list) = list {
            let before = list.len();
            list.retain(|e| !is_ours(e, &marker));
            removed += before - list.len();
        }
    }
    if removed > 0 {
        hooks.retain(|(_, list)| !matches!(list, Json::Array(l) if l.is_empty()));
    }
    if hooks.is_empty() {
        root.remove(at);
    }
    Ok(removed)
}

/// Write keyhound's entries into `agent`'s hook file in the project at `dir`.
pub(crate) fn install(agent: Agent, dir: &Path) -> Result<String, String> {
    let path = file(agent, dir);
    let mut root = load(&path)?;
    let existed = remove_ours(&mut root, agent).map_err(|e| format!("{}: {e}", path.display()))?;
    if agent == Agent::Cursor {
        entry(&mut root, "version", Json::Number(1.into()));
    }
    let Json::Object(hooks) = entry(&mut root, "hooks", Json::Object(Vec::new())) else {
        unreachable!("remove_ours refused a non-object \"hooks\"");
    };
    let command = command(agent);
    for (event, hook) in entries(agent, &command) {
        match entry(hooks, event, Json::Array(Vec::new())) {
            Json::Array(list) => list.push(hook),
            _ => {
                return Err(format!(
                    "{}: hooks.{event} is not a list; left alone, fix it first",
                    path.display()
                ))
            }
        }
    }
    save(&path, root)?;
    Ok(format!(
        "{}: {} the {} hooks",
        path.display(),
        if existed > 0 { "updated" } else { "installed" },
        agent.name()
    ))
}

/// Remove keyhound's entries from `agent`'s hook file in the project at `dir`.
pub(crate) fn uninstall(agent: Agent, dir: &Path) -> Result<String, String> {
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
    save(&path, root)?;
    Ok(format!("{}: removed the keyhound hooks", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Json {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn ours_is_recognised_in_both_shapes() {
        let m = marker(Agent::ClaudeCode);
        let group = json(
            r#"{"matcher": "Bash", "hooks": [{"type": "command", "command": "'/x/keyhound' agent-hook --agent claude-code"}]}"#,
        );
        assert!(is_ours(&group, &m));
        let cursor = json(r#"{"command": "'/x/keyhound' agent-hook --agent cursor"}"#);
        assert!(is_ours(&cursor, &marker(Agent::Cursor)));
        assert!(!is_ours(&cursor, &m));
        assert!(!is_ours(&json(r#"{"command": "prettier --write"}"#), &m));
        // The portable command is recognised too (a reinstall replaces it).
        let now = Json::object([("command", Json::String(command(Agent::Cursor)))]);
        assert!(is_ours(&now, &marker(Agent::Cursor)));
    }

    #[test]
    fn keys_keep_their_order_through_a_round_trip() {
        let text = r#"{"zeta":1,"alpha":{"y":[true,null,2.5],"b":"x"},"mid":-3}"#;
        let back = serde_json::to_string(&json(text)).unwrap();
        assert_eq!(back, text);
    }
}
