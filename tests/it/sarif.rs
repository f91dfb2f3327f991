//! `--format sarif` (issue 5): typed checks of the fields GitHub code scanning reads, stable
//! output, a snapshot, and validation with Microsoft's SARIF Multitool (GitHub rules) when it is
//! installed (`KEYHOUND_SARIF_MULTITOOL`; CI installs it and the test then must run).
use serde::Deserialize;

use crate::harness::{openai_key, Run, TestRepo};

#[derive(Deserialize)]
struct Sarif {
    version: String,
    runs: Vec<SarifRun>,
}

#[derive(Deserialize)]
struct SarifRun {
    tool: Tool,
    results: Vec<SarifResult>,
    #[serde(default)]
    invocations: Vec<Invocation>,
}

/// SARIF 2.1.0 §3.20: where a range's notices go (issue 19 item 22).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    tool_execution_notifications: Vec<Notification>,
}

/// SARIF 2.1.0 §3.58.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    level: String,
    message: Text,
    locations: Vec<NotificationLocation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NotificationLocation {
    physical_location: NotificationPhysical,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NotificationPhysical {
    artifact_location: Artifact,
    region: Option<NotificationRegion>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NotificationRegion {
    start_line: u64,
}

#[derive(Deserialize)]
struct Tool {
    driver: Driver,
}

#[derive(Deserialize)]
struct Driver {
    name: String,
    rules: Vec<SarifRule>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifRule {
    id: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    properties: RuleProperties,
}

#[derive(Deserialize)]
struct Text {
    text: String,
}

#[derive(Deserialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Deserialize)]
struct RuleProperties {
    tags: Vec<String>,
    #[serde(rename = "security-severity")]
    security_severity: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    level: String,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: std::collections::BTreeMap<String, String>,
    properties: ResultProperties,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResultProperties {
    provider: String,
    /// History results only.
    commit: Option<CommitProperty>,
}

#[derive(Deserialize)]
struct CommitProperty {
    id: String,
}

/// The Multitool's own SARIF log of what it checked.
#[derive(Deserialize)]
struct ValidationLog {
    runs: Vec<ValidationRun>,
}

#[derive(Deserialize)]
struct ValidationRun {
    #[serde(default)]
    results: Vec<ValidationResult>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValidationResult {
    #[serde(default)]
    rule_id: String,
    #[serde(default)]
    level: String,
    message: ValidationMessage,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ValidationMessage {
    text: String,
    id: String,
    arguments: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: Physical,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Physical {
    artifact_location: Artifact,
    region: Region,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Artifact {
    uri: String,
    uri_base_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u64,
    start_column: u64,
    end_column: u64,
}

fn parse(run: &Run) -> Sarif {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not SARIF ({e}): {}", run.stdout))
}

fn fixture() -> (TestRepo, String, String) {
    let repo = TestRepo::git();
    let (a, b) = (openai_key(80), openai_key(81));
    repo.write(
        "src/é app.py",
        format!("x = \"é\"; k = \"{a}\"; j = \"{b}\"\n"),
    );
    repo.write("conf/.env", format!("OPENAI_API_KEY={a}\n"));
    (repo, a, b)
}

#[test]
fn issue_5_sarif_fields_for_code_scanning() {
    let (repo, a, b) = fixture();
    let run = repo.keyhound(&["scan", ".", "--format", "sarif", "--show-secrets"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        !run.stdout.contains(&a) && !run.stdout.contains(&b),
        "SARIF holds a secret"
    );
    let sarif = parse(&run);
    assert_eq!(sarif.version, "2.1.0");
    let r = &sarif.runs[0];
    assert_eq!(r.tool.driver.name, "keyhound");
    assert_eq!(
        r.tool.driver.rules.len(),
        1,
        "one entry per rule that fired"
    );
    let rule = &r.tool.driver.rules[0];
    assert_eq!(rule.id, "openai.project-key");
    assert!(!rule.short_description.text.is_empty() && !rule.full_description.text.is_empty());
    assert!(rule.help.markdown.contains("platform.openai.com"));
    assert!(rule.help.text.contains("Revoke"));
    assert!(rule.properties.tags.iter().any(|t| t == "security"));
    assert!(rule.properties.tags.iter().any(|t| t == "openai"));
    assert_eq!(rule.properties.security_severity, "9.0");
    assert_eq!(r.results.len(), 3);
    for res in &r.results {
        assert_eq!(res.rule_id, "openai.project-key");
        assert_eq!(res.level, "error");
        assert!(res.message.text.contains("sk-proj-"));
        assert_eq!(res.properties.provider, "openai");
        let loc = &res.locations[0].physical_location;
        assert_eq!(loc.artifact_location.uri_base_id, "%SRCROOT%");
        assert!(!loc.artifact_location.uri.starts_with('/'));
    }
    let on_line: Vec<&SarifResult> = r
        .results
        .iter()
        .filter(|r| r.locations[0].physical_location.artifact_location.uri == "src/%C3%A9%20app.py")
        .collect();
    assert_eq!(on_line.len(), 2, "two keys on one line are two alerts");
    assert_ne!(
        on_line[0].partial_fingerprints,
        on_line[1].partial_fingerprints
    );
    // Columns count code points: `x = "é"; k = "` is 14 characters.
    let region = &on_line[0].locations[0].physical_location.region;
    assert_eq!((region.start_line, region.start_column), (1, 15));
    assert_eq!(region.end_column, 15 + a.chars().count() as u64);
}

#[test]
fn issue_5_sarif_is_byte_identical_across_runs_and_fingerprints_survive_moves() {
    let (repo, _, _) = fixture();
    let one = repo.keyhound(&["scan", ".", "--format", "sarif"]);
    let two = repo.keyhound(&["scan", ".", "--format", "sarif"]);
    assert_eq!(one.stdout, two.stdout);
    let before = parse(&one);
    let content = std::fs::read_to_string(repo.path().join("conf/.env")).unwrap();
    repo.write("conf/.env", format!("\n\n# moved down\n{content}"));
    let after = parse(&repo.keyhound(&["scan", ".", "--format", "sarif"]));
    let fp = |s: &Sarif| {
        s.runs[0]
            .results
            .iter()
            .find(|r| r.locations[0].physical_location.artifact_location.uri == "conf/.env")
            .map(|r| r.partial_fingerprints.clone())
            .unwrap()
    };
    assert_eq!(fp(&before), fp(&after));
}

#[test]
fn issue_5_history_sarif_carries_the_commit() {
    let repo = TestRepo::git();
    repo.write("a.env", format!("K={}\n", openai_key(82)));
    let id = repo.commit("add");
    let run = repo.keyhound(&["history", ".", "--format", "sarif"]);
    let sarif = parse(&run);
    let commit = sarif.runs[0].results[0].properties.commit.as_ref();
    assert_eq!(commit.map(|c| c.id.as_str()), Some(id.as_str()));
}

#[test]
fn snapshot_sarif_small() {
    let repo = TestRepo::dir();
    repo.write(
        "app/settings.py",
        format!("OPENAI_API_KEY = \"{}\"\n", openai_key(83)),
    );
    let run = repo.keyhound(&["scan", ".", "--format", "sarif"]);
    insta::assert_snapshot!("sarif_small", run.stdout);
}

/// The Multitool: `KEYHOUND_SARIF_MULTITOOL` (the native `Sarif.Multitool` binary) or
/// `Sarif.Multitool` on PATH (SKIPPED without it, a failure under CI).
fn multitool() -> Option<std::path::PathBuf> {
    crate::harness::require_tool("Sarif.Multitool", "KEYHOUND_SARIF_MULTITOOL")
}

/// Validate with the GitHub and SARIF rule sets; returns the error and warning results.
fn validate(tool: &std::path::Path, sarif: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.sarif");
    let output = dir.path().join("out.sarif");
    std::fs::write(&input, sarif).unwrap();
    let out = std::process::Command::new(tool)
        .arg("validate")
        .args(["--rule-kind", "Gh;Sarif", "--output"])
        .arg(&output)
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let log: ValidationLog = serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();
    log.runs
        .into_iter()
        .flat_map(|r| r.results)
        .filter(|r| matches!(r.level.as_str(), "error" | "warning"))
        .map(|r| {
            let m = r.message;
            format!("{} {} {} {:?}", r.rule_id, m.id, m.text, m.arguments)
        })
        .collect()
}

// issue 19 item 22: a range's notices (a changed policy file, an inline allow the pull
// request adds) reached only stderr. In SARIF they are the run's tool execution
// notifications, at their file and line; the open key is still a result.
#[test]
fn sarif_notifications_carry_the_range_notices() {
    let (repo, range) = crate::formats::range_with_notices();
    let run = repo.keyhound(&["history", ".", "--range", &range, "--format", "sarif"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let sarif = parse(&run);
    let r = &sarif.runs[0];
    assert_eq!(r.results.len(), 1);
    assert_eq!(
        r.results[0].locations[0]
            .physical_location
            .artifact_location
            .uri,
        "app/settings.py"
    );
    assert_eq!(r.invocations.len(), 1, "{}", run.stdout);
    let inv = &r.invocations[0];
    assert!(inv.execution_successful);
    let notes: Vec<(&str, &str, Option<u64>, &str)> = inv
        .tool_execution_notifications
        .iter()
        .map(|n| {
            let p = &n.locations[0].physical_location;
            (
                n.level.as_str(),
                p.artifact_location.uri.as_str(),
                p.region.as_ref().map(|r| r.start_line),
                n.message.text.as_str(),
            )
        })
        .collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert_eq!(notes[0].0, "warning");
    assert_eq!((notes[0].1, notes[0].2), (".keyhound.toml", None));
    assert!(notes[0].3.starts_with("the range changes .keyhound.toml"));
    assert_eq!((notes[1].1, notes[1].2), ("tests/fixture.py", Some(1)));
    assert!(notes[1]
        .3
        .contains("keyhound:allow in the range silences tests/fixture.py:1"));
    assert!(
        !run.stdout.contains(&openai_key(195)),
        "no secret in a notice"
    );
    assert!(inv.tool_execution_notifications[0].locations[0]
        .physical_location
        .artifact_location
        .uri_base_id
        .starts_with("%SRCROOT%"));
}

#[test]
fn issue_5_multitool_accepts_scan_and_history_sarif() {
    let Some(tool) = multitool() else { return };
    // issue 19 item 22: a range's notices as tool execution notifications.
    let (notices, range) = crate::formats::range_with_notices();
    let ranged = notices.keyhound(&["history", ".", "--range", &range, "--format", "sarif"]);
    assert!(ranged.stdout.contains("toolExecutionNotifications"));
    assert_eq!(validate(&tool, &ranged.stdout), Vec::<String>::new());
    let (repo, _, _) = fixture();
    repo.commit("fixture");
    let scan = repo.keyhound(&["scan", ".", "--format", "sarif"]);
    assert_eq!(validate(&tool, &scan.stdout), Vec::<String>::new());
    let history = repo.keyhound(&["history", ".", "--format", "sarif"]);
    assert_eq!(validate(&tool, &history.stdout), Vec::<String>::new());
    let empty = TestRepo::dir().keyhound(&["scan", ".", "--format", "sarif"]);
    assert_eq!(validate(&tool, &empty.stdout), Vec::<String>::new());
}
