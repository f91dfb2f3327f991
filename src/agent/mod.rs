//! `keyhound agent-hook --agent claude-code|cursor|codex`: a guard for AI coding agents (issue
//! 14). The agent runs it on each hook event with the event as JSON on stdin; keyhound finds
//! the text the event carries (a file write or edit about to happen, a shell command, a file's
//! content about to be read, a tool's output), runs the detector over it and, when a key
//! survives the project's policy, answers in that agent's documented JSON form: the write or
//! command is denied, the output withheld (replaced by a redacted copy where the agent allows
//! it), each with a message telling the agent to load the key from an environment variable.
//!
//! It is a detector run, not a scan: no walk, no git. The policy of the event's folder
//! (`.keyhound.toml`, `.keyhoundignore`, the baseline; see `crate::policy`) applies, so
//! `keyhound:allow`, `[allow] paths`, fingerprints and the baseline silence a finding here as
//! they do in a scan. Reading those few files is the only I/O besides stdin and stdout.
//!
//! Event shapes and answers, per agent (the fixtures in `fixtures/agent-events/` record them):
//! - Claude Code (<https://code.claude.com/docs/en/hooks>): `PreToolUse` for `Write`, `Edit`,
//!   `MultiEdit`, `NotebookEdit` (`notebook_path`, `new_source`), `Bash` and every MCP tool
//!   (`mcp__<server>__<tool>`: each string of its input) is answered with
//!   `hookSpecificOutput.permissionDecision = "deny"`;
//!   `PostToolUse` (`Bash`, `Read`, `Grep`) with `decision = "block"` and
//!   `hookSpecificOutput.updatedToolOutput`, the tool's output with every key redacted.
//! - Codex (<https://developers.openai.com/codex/hooks>): the same wire format; its file edits
//!   arrive as `PreToolUse` of `apply_patch`, the patch in `tool_input.command`, of which only
//!   the added lines are checked; MCP tools as for Claude Code.
//! - Cursor (<https://cursor.com/docs/agent/hooks>): `beforeShellExecution`,
//!   `beforeMCPExecution` (each string of `tool_input`, which may be JSON text) and
//!   `beforeReadFile` are answered with `permission = "deny"`, `beforeSubmitPrompt` with
//!   `continue = false`. Cursor documents no hook before a file edit (`afterFileEdit` runs after
//!   it and cannot refuse), so a key written by an edit is reported on stderr only.
//!
//! Main types: [`Agent`], [`Event`] (what one hook event asks keyhound to check), [`Verdict`].

pub mod install;

use std::io::Read;
use std::path::PathBuf;

use serde_json::{json, Value};

use crate::detect::{locate, Detector};
use crate::error::{Error, Outcome};
use crate::finding::{Finding, Provenance};
use crate::policy::{BaselineChoice, Policy};
use crate::redact::redact;

/// Largest event read from stdin (a tool output can be long; a key past this is not seen).
const MAX_EVENT: u64 = 16 << 20;

/// A coding agent whose hooks keyhound speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agent {
    ClaudeCode,
    Cursor,
    Codex,
}

impl Agent {
    /// The name on the command line (`--agent NAME`).
    pub fn name(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "claude-code",
            Agent::Cursor => "cursor",
            Agent::Codex => "codex",
        }
    }
}

/// What kind of text an event carries, which decides the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A file write or edit about to happen: deny it.
    Write,
    /// A shell command about to run: deny it.
    Command,
    /// A file's content about to reach the model: deny the read.
    Read,
    /// A tool's output about to reach the model: withhold it.
    Output,
    /// A prompt about to be sent: stop it.
    Prompt,
    /// An MCP tool call about to be made (its input goes to the server): deny it.
    Tool,
    /// A file edit that already happened (Cursor `afterFileEdit`): report only.
    Edited,
}

/// One piece of text to check, with the file it belongs to, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub path: Option<String>,
    pub text: String,
}

/// What one hook event asks keyhound to check.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: Kind,
    /// The hook event's name as the agent spells it (`PreToolUse`, `beforeShellExecution`).
    pub name: String,
    /// The tool, for messages (`Write`, `Bash`, `apply_patch`).
    pub tool: Option<String>,
    pub texts: Vec<Text>,
    /// The folder the agent works in (`cwd`, or Cursor's first workspace root).
    pub cwd: Option<PathBuf>,
    /// The tool's output as the agent gave it (for a redacted replacement).
    pub output: Option<Value>,
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Every string inside `v`, depth first (keys are left out).
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// Read one hook event. `None`: an event keyhound has nothing to check in (it is allowed).
pub fn parse(agent: Agent, event: &Value) -> Option<Event> {
    let name = str_at(event, "hook_event_name")?.to_string();
    match agent {
        Agent::ClaudeCode | Agent::Codex => parse_tool_event(name, event),
        Agent::Cursor => parse_cursor(name, event),
    }
}

/// Claude Code and Codex: `PreToolUse` / `PostToolUse` with `tool_name`, `tool_input` and
/// (after) `tool_response`.
fn parse_tool_event(name: String, event: &Value) -> Option<Event> {
    let tool = str_at(event, "tool_name")?.to_string();
    let input = event.get("tool_input").unwrap_or(&Value::Null);
    let cwd = str_at(event, "cwd").map(PathBuf::from);
    let file = str_at(input, "file_path").map(str::to_string);
    let (kind, texts, output) = match name.as_str() {
        "PreToolUse" => match tool.as_str() {
            "Write" => (
                Kind::Write,
                vec![Text {
                    path: file,
                    text: str_at(input, "content")?.to_string(),
                }],
                None,
            ),
            // Only what the edit adds: removing a key must stay possible.
            "Edit" => (
                Kind::Write,
                vec![Text {
                    path: file,
                    text: str_at(input, "new_string")?.to_string(),
                }],
                None,
            ),
            "NotebookEdit" => (
                Kind::Write,
                vec![Text {
                    path: str_at(input, "notebook_path").map(str::to_string),
                    text: str_at(input, "new_source")?.to_string(),
                }],
                None,
            ),
            mcp if mcp.starts_with("mcp__") => {
                let mut all = Vec::new();
                strings(input, &mut all);
                let path = str_at(input, "path").map(str::to_string).or(file);
                (
                    Kind::Tool,
                    vec![Text {
                        path,
                        text: all.join("\n"),
                    }],
                    None,
                )
            }
            "MultiEdit" => {
                let edits = input.get("edits")?.as_array()?;
                let text = edits
                    .iter()
                    .filter_map(|e| str_at(e, "new_string"))
                    .collect::<Vec<_>>()
                    .join("\n");
                (Kind::Write, vec![Text { path: file, text }], None)
            }
            "apply_patch" => (
                Kind::Write,
                patch_additions(str_at(input, "command")?),
                None,
            ),
            "Bash" => (
                Kind::Command,
                vec![Text {
                    path: None,
                    text: str_at(input, "command")?.to_string(),
                }],
                None,
            ),
            _ => return None,
        },
        "PostToolUse" => {
            let response = event.get("tool_response")?;
            let mut all = Vec::new();
            strings(response, &mut all);
            (
                Kind::Output,
                vec![Text {
                    path: file,
                    text: all.join("\n"),
                }],
                Some(response.clone()),
            )
        }
        _ => return None,
    };
    Some(Event {
        kind,
        name,
        tool: Some(tool),
        texts,
        cwd,
        output,
    })
}

/// The lines a Codex patch adds, per file: `*** Add File: P` / `*** Update File: P` open a
/// file, `+` lines are added text (the format `apply_patch` takes in `tool_input.command`).
fn patch_additions(patch: &str) -> Vec<Text> {
    let mut out: Vec<Text> = Vec::new();
    for line in patch.lines() {
        let header = line
            .strip_prefix("*** Add File: ")
            .or_else(|| line.strip_prefix("*** Update File: "));
        if let Some(path) = header {
            out.push(Text {
                path: Some(path.trim().to_string()),
                text: String::new(),
            });
        } else if let Some(added) = line.strip_prefix('+') {
            if out.is_empty() {
                out.push(Text {
                    path: None,
                    text: String::new(),
                });
            }
            let t = &mut out.last_mut().expect("pushed above").text;
            t.push_str(added);
            t.push('\n');
        }
    }
    out.retain(|t| !t.text.is_empty());
    out
}

/// Cursor: one event per action, each with its own fields.
fn parse_cursor(name: String, event: &Value) -> Option<Event> {
    let cwd = str_at(event, "cwd")
        .or_else(|| {
            event
                .get("workspace_roots")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(Value::as_str)
        })
        .map(PathBuf::from);
    let file = str_at(event, "file_path").map(str::to_string);
    let (kind, texts) = match name.as_str() {
        "beforeShellExecution" => (
            Kind::Command,
            vec![Text {
                path: None,
                text: str_at(event, "command")?.to_string(),
            }],
        ),
        "beforeMCPExecution" => {
            let mut all = Vec::new();
            for key in ["tool_input", "arguments"] {
                strings(event.get(key).unwrap_or(&Value::Null), &mut all);
            }
            (
                Kind::Tool,
                vec![Text {
                    path: None,
                    text: all.join("\n"),
                }],
            )
        }
        "beforeReadFile" => (
            Kind::Read,
            vec![Text {
                path: file,
                text: str_at(event, "content")?.to_string(),
            }],
        ),
        "beforeSubmitPrompt" => (
            Kind::Prompt,
            vec![Text {
                path: None,
                text: str_at(event, "prompt")?.to_string(),
            }],
        ),
        "afterFileEdit" => {
            let text = event
                .get("edits")?
                .as_array()?
                .iter()
                .filter_map(|e| str_at(e, "new_string"))
                .collect::<Vec<_>>()
                .join("\n");
            (Kind::Edited, vec![Text { path: file, text }])
        }
        _ => return None,
    };
    Some(Event {
        kind,
        name,
        tool: None,
        texts,
        cwd,
        output: None,
    })
}

/// The outcome of checking one event.
#[derive(Debug)]
pub struct Verdict {
    /// The findings the policy reports (empty: allowed).
    pub findings: Vec<Finding>,
}

/// Check every text of `event` with `detector`, then let `policy` (when there is one) silence
/// what it allows. Paths are taken relative to the policy's root, or to `cwd`.
pub fn check(event: &Event, detector: &Detector, policy: Option<&Policy>) -> Verdict {
    let mut findings = Vec::new();
    for t in &event.texts {
        let provenance = match &t.path {
            Some(p) => Provenance::File { path: p.clone() },
            None => Provenance::Stdin,
        };
        findings.extend(locate::findings(detector, t.text.as_bytes(), &provenance));
    }
    let findings = match policy {
        Some(policy) => {
            let base = event.cwd.clone().unwrap_or_else(|| policy.root().into());
            policy.apply(findings, &base).0
        }
        None => findings.into_iter().filter(|f| !f.allowed).collect(),
    };
    Verdict { findings }
}

/// The environment variable a key of `provider` is usually read from.
fn env_var(provider: &str) -> String {
    let p: String = provider
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{p}_API_KEY")
}

/// The message for the agent: what was found, where, and what to do instead.
pub fn message(event: &Event, findings: &[Finding]) -> String {
    let what = match event.kind {
        Kind::Write => "this file write was blocked",
        Kind::Command => "this shell command was blocked",
        Kind::Read => "this file read was blocked",
        Kind::Output => "this tool output was withheld (the keys in it are redacted)",
        Kind::Prompt => "this prompt was not sent",
        Kind::Tool => "this MCP tool call was blocked",
        Kind::Edited => "this edit (already made) added",
    };
    let mut keys: Vec<String> = findings
        .iter()
        .map(|f| {
            let at = match &f.provenance {
                Provenance::File { path } => format!(" in {path} line {}", f.location.line),
                _ => String::new(),
            };
            format!("{} {}{at}", f.rule_id, f.redacted)
        })
        .collect();
    keys.sort();
    keys.dedup();
    let mut vars: Vec<String> = findings.iter().map(|f| env_var(&f.provider)).collect();
    vars.sort();
    vars.dedup();
    let vars = vars.join(", ");
    format!(
        "keyhound: {what}: it carries {} ({}). Do not put keys in code, commands, prompts or \
         logs: read the key at run time from an environment variable ({vars}, e.g. \
         os.environ[\"{}\"] or process.env.{}) and keep its value out of the repository (an \
         untracked .env file or a secret manager). Do not print or echo the key's value. If it \
         is not a real key (a test fixture), put the comment keyhound:allow on its line.",
        if findings.len() == 1 { "a key" } else { "keys" },
        keys.join("; "),
        vars.split(", ").next().unwrap_or("API_KEY"),
        vars.split(", ").next().unwrap_or("API_KEY"),
    )
}

/// `value` with every copy of each secret replaced by its redacted form.
fn redacted(value: &Value, secrets: &[&str]) -> Value {
    match value {
        Value::String(s) => {
            let mut s = s.clone();
            for secret in secrets {
                if !secret.is_empty() && s.contains(secret) {
                    s = s.replace(secret, &redact(secret));
                }
            }
            Value::String(s)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| redacted(x, secrets)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), redacted(x, secrets)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The agent's answer to an event whose check found `findings` (non-empty): JSON for stdout.
/// `None` when the agent has no way to refuse this event (the message goes to stderr).
pub fn answer(agent: Agent, event: &Event, findings: &[Finding]) -> Option<Value> {
    let msg = message(event, findings);
    match (agent, &event.kind) {
        (Agent::ClaudeCode | Agent::Codex, Kind::Output) => {
            let secrets: Vec<&str> = findings.iter().map(|f| f.secret.as_str()).collect();
            let replaced = event
                .output
                .as_ref()
                .map(|o| redacted(o, &secrets))
                .unwrap_or(Value::Null);
            Some(json!({
                "decision": "block",
                "reason": msg,
                "hookSpecificOutput": {
                    "hookEventName": "PostToolUse",
                    "updatedToolOutput": replaced,
                },
            }))
        }
        (Agent::ClaudeCode | Agent::Codex, _) => Some(json!({
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": msg,
            },
        })),
        (Agent::Cursor, Kind::Prompt) => Some(json!({
            "continue": false,
            "user_message": msg,
        })),
        (Agent::Cursor, Kind::Edited) => None,
        (Agent::Cursor, _) => Some(json!({
            "permission": "deny",
            "user_message": msg,
            "agent_message": msg,
        })),
    }
}

/// `keyhound agent-hook --agent A`: read the event from stdin, answer on stdout. Exit 0 with
/// no output allows; exit 0 with the answer refuses (every agent here reads JSON on exit 0).
/// An event that is not JSON, or a project config that cannot be read, is an error (exit 2,
/// which Claude Code and Codex treat as a refusal with the message on stderr): the guard fails
/// closed and says why.
pub fn run(agent: Agent) -> Result<Outcome, Error> {
    let mut input = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_EVENT)
        .read_to_end(&mut input)?;
    let value: Value = serde_json::from_slice(&input).map_err(|e| {
        // serde_json's message names a line and column, never the input text.
        Error::new(format!(
            "agent-hook: the {} hook event on stdin is not JSON ({e})",
            agent.name()
        ))
    })?;
    let Some(event) = parse(agent, &value) else {
        return Ok(Outcome::Clean);
    };
    let dir = event.cwd.clone().unwrap_or_else(|| PathBuf::from("."));
    let dir = if dir.is_dir() {
        dir
    } else {
        PathBuf::from(".")
    };
    let policy = Policy::from_work_tree(&dir, None, &BaselineChoice::Default)?;
    let detector = Detector::new(policy.rules()?);
    let verdict = check(&event, &detector, Some(&policy));
    if verdict.findings.is_empty() {
        return Ok(Outcome::Clean);
    }
    match answer(agent, &event, &verdict.findings) {
        Some(reply) => crate::report::print(&format!("{reply}\n"))?,
        None => crate::diag::warn(&message(&event, &verdict.findings)),
    }
    Ok(Outcome::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_additions_keep_only_added_lines_per_file() {
        let patch = "*** Begin Patch\n*** Update File: a.py\n@@\n-old = 1\n+new = 2\n*** Add File: b.env\n+X=1\n+Y=2\n*** End Patch\n";
        let got = patch_additions(patch);
        assert_eq!(
            got,
            vec![
                Text {
                    path: Some("a.py".into()),
                    text: "new = 2\n".into()
                },
                Text {
                    path: Some("b.env".into()),
                    text: "X=1\nY=2\n".into()
                },
            ]
        );
    }

    #[test]
    fn env_var_names() {
        assert_eq!(env_var("openai"), "OPENAI_API_KEY");
        assert_eq!(env_var("google-cloud"), "GOOGLE_CLOUD_API_KEY");
    }

    #[test]
    fn redacted_replaces_every_copy_in_strings_only() {
        let v = json!({"stdout": "k=SECRETSECRETSECRETSECRET1234 and SECRETSECRETSECRETSECRET1234", "n": 3});
        let r = redacted(&v, &["SECRETSECRETSECRETSECRET1234"]);
        let s = r["stdout"].as_str().unwrap();
        assert!(!s.contains("SECRETSECRETSECRETSECRET1234"), "{s}");
        assert_eq!(r["n"], 3);
    }

    #[test]
    fn unknown_events_and_tools_are_not_checked() {
        let e = json!({"hook_event_name": "Stop"});
        assert!(parse(Agent::ClaudeCode, &e).is_none());
        let e = json!({"hook_event_name": "PreToolUse", "tool_name": "Read", "tool_input": {}});
        assert!(parse(Agent::ClaudeCode, &e).is_none());
        let e = json!({"hook_event_name": "stop"});
        assert!(parse(Agent::Cursor, &e).is_none());
    }
}
