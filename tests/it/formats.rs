//! Issue 14 (reports where teams look): `--format gitlab` checked field by field against GitLab's
//! secret-detection schema, `--format github` workflow commands and their escaping, a snapshot of
//! each.
//!
//! The GitLab schema is not vendored. The structs below mirror `secret-detection-report-format.json`
//! version 15.1.4 as GitLab vendors it for validation (gitlabhq
//! `lib/gitlab/ci/parsers/security/validators/schemas/15.1.4/`): required fields are plain
//! fields, optional ones `Option`, and `deny_unknown_fields` rejects anything the schema does not
//! declare (`category` is the one extra: dropped from the schema in 15.0, allowed by its
//! `additionalProperties`). The `REQUIRED_*` lists are the schema's `required` arrays, checked
//! key by key so that a rename in the structs cannot hide a missing field.
use serde::Deserialize;

use crate::harness::{openai_key, Rng, Run, TestRepo, ALNUM};

const REQUIRED_TOP: &[&str] = &["scan", "version", "vulnerabilities"];
const REQUIRED_SCAN: &[&str] = &[
    "analyzer",
    "end_time",
    "scanner",
    "start_time",
    "status",
    "type",
];
const REQUIRED_TOOL: &[&str] = &["id", "name", "version", "vendor"];
const REQUIRED_VENDOR: &[&str] = &["name"];
const REQUIRED_VULNERABILITY: &[&str] = &["id", "identifiers", "location"];
const REQUIRED_IDENTIFIER: &[&str] = &["type", "name", "value"];
const REQUIRED_LOCATION: &[&str] = &["commit"];
const REQUIRED_COMMIT: &[&str] = &["sha"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GlReport {
    version: String,
    schema: Option<String>,
    scan: GlScan,
    vulnerabilities: Vec<GlVulnerability>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GlScan {
    analyzer: GlTool,
    scanner: GlTool,
    #[serde(rename = "type")]
    kind: String,
    start_time: String,
    end_time: String,
    status: String,
    messages: Option<Vec<GlMessage>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GlTool {
    id: String,
    name: String,
    version: String,
    vendor: GlVendor,
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GlVendor {
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GlMessage {
    level: String,
    value: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GlVulnerability {
    id: String,
    category: Option<String>,
    name: Option<String>,
    description: Option<String>,
    severity: Option<String>,
    solution: Option<String>,
    identifiers: Vec<GlIdentifier>,
    location: GlLocation,
    raw_source_code_extract: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GlIdentifier {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    value: String,
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GlLocation {
    file: Option<String>,
    start_line: Option<u64>,
    end_line: Option<u64>,
    commit: GlCommit,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GlCommit {
    sha: String,
    author: Option<String>,
    date: Option<String>,
    message: Option<String>,
}

fn object<'a>(
    v: &'a serde_json::Value,
    at: &str,
) -> &'a serde_json::Map<String, serde_json::Value> {
    v.as_object()
        .unwrap_or_else(|| panic!("{at} is not an object"))
}

/// Every key of the schema's `required` list is present at `at`.
fn require(v: &serde_json::Value, keys: &[&str], at: &str) {
    let o = object(v, at);
    for k in keys {
        assert!(o.contains_key(*k), "{at} lacks required \"{k}\"");
    }
}

/// The schema's `required` lists, walked over the raw JSON.
fn check_required(raw: &serde_json::Value) {
    require(raw, REQUIRED_TOP, "root");
    let scan = &raw["scan"];
    require(scan, REQUIRED_SCAN, "scan");
    for tool in ["analyzer", "scanner"] {
        require(&scan[tool], REQUIRED_TOOL, tool);
        require(&scan[tool]["vendor"], REQUIRED_VENDOR, tool);
    }
    for (i, v) in raw["vulnerabilities"]
        .as_array()
        .expect("vulnerabilities is an array")
        .iter()
        .enumerate()
    {
        let at = format!("vulnerabilities[{i}]");
        require(v, REQUIRED_VULNERABILITY, &at);
        for ident in v["identifiers"].as_array().expect("identifiers array") {
            require(ident, REQUIRED_IDENTIFIER, &at);
        }
        require(&v["location"], REQUIRED_LOCATION, &at);
        require(&v["location"]["commit"], REQUIRED_COMMIT, &at);
    }
}

/// The schema's constraints on values: patterns, enums, lengths.
fn check_values(r: &GlReport) {
    let version = regex::Regex::new(r"^[0-9]+\.[0-9]+\.[0-9]+$").unwrap();
    let time = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$").unwrap();
    let url = regex::Regex::new(r"^(https?|ftp)://.+").unwrap();
    assert!(version.is_match(&r.version), "version {}", r.version);
    assert!(r.version.starts_with("15."), "a 15.x schema version");
    assert!(url.is_match(r.schema.as_deref().unwrap()));
    assert_eq!(r.scan.kind, "secret_detection");
    assert!(["success", "failure"].contains(&r.scan.status.as_str()));
    assert!(time.is_match(&r.scan.start_time), "{}", r.scan.start_time);
    assert!(time.is_match(&r.scan.end_time), "{}", r.scan.end_time);
    assert!(r.scan.start_time <= r.scan.end_time);
    for tool in [&r.scan.analyzer, &r.scan.scanner] {
        for s in [&tool.id, &tool.name, &tool.version, &tool.vendor.name] {
            assert!(!s.is_empty(), "minLength 1");
        }
        // Issue 19 item 19: keyhound has no project URL to give; the schema's `url` is optional.
        assert_eq!(tool.url, None, "a project URL no one can open");
    }
    for m in r.scan.messages.iter().flatten() {
        assert!(["info", "warn", "fatal"].contains(&m.level.as_str()));
        assert!(!m.value.is_empty());
    }
    for v in &r.vulnerabilities {
        assert!(!v.id.is_empty());
        assert_eq!(v.category.as_deref(), Some("secret_detection"));
        assert!(v.name.as_ref().unwrap().chars().count() <= 255);
        assert!(v.description.as_ref().unwrap().chars().count() <= 1_048_576);
        assert!(v.solution.as_ref().unwrap().chars().count() <= 7000);
        let severity = v.severity.as_deref().unwrap();
        assert!(["Info", "Unknown", "Low", "Medium", "High", "Critical"].contains(&severity));
        assert!(!v.identifiers.is_empty(), "minItems 1");
        for i in &v.identifiers {
            assert!(!i.kind.is_empty() && !i.name.is_empty() && !i.value.is_empty());
            if let Some(u) = &i.url {
                assert!(url.is_match(u), "{u}");
            }
        }
        assert!(!v.location.commit.sha.is_empty(), "minLength 1");
        assert!(v.location.file.as_deref().is_some_and(|f| !f.is_empty()));
        assert!(v.location.start_line.unwrap() >= 1);
        assert!(v.location.end_line.unwrap() >= v.location.start_line.unwrap());
    }
}

fn gitlab(run: &Run) -> GlReport {
    let raw: serde_json::Value = run.json();
    check_required(&raw);
    let report: GlReport = serde_json::from_value(raw)
        .unwrap_or_else(|e| panic!("not the GitLab schema ({e}):\n{}", run.stdout));
    check_values(&report);
    report
}

/// Replace the clock and the temp directory with fixed text.
fn stable(s: &str, repo: &TestRepo) -> String {
    let re = regex::Regex::new(r#""(start|end)_time": "[^"]*""#).unwrap();
    let s = re.replace_all(s, "\"${1}_time\": \"[TIME]\"");
    s.replace(&repo.path().display().to_string(), "[TMP]")
}

fn two_keys() -> (TestRepo, String, String) {
    let repo = TestRepo::git();
    let (a, b) = (openai_key(140), openai_key(141));
    repo.write("app/settings.py", format!("A = \"{a}\"; B = \"{b}\"\n"));
    repo.write("deploy/.env", format!("\nOPENAI_API_KEY={a}\n"));
    (repo, a, b)
}

#[test]
fn issue_14_gitlab_report_meets_the_schema_and_never_holds_a_secret() {
    let (repo, a, b) = two_keys();
    let run = repo.keyhound(&["scan", ".", "--format", "gitlab", "--show-secrets"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stdout.contains(&a) && !run.stdout.contains(&b));
    let report = gitlab(&run);
    assert_eq!(report.scan.status, "success");
    assert_eq!(report.vulnerabilities.len(), 3);
    for v in &report.vulnerabilities {
        assert_eq!(
            v.location.commit.sha, "0000000",
            "a work tree has no commit"
        );
        assert!(v.location.commit.author.is_none());
        assert_eq!(v.identifiers[0].kind, "keyhound_rule_id");
        assert_eq!(v.identifiers[0].value, "openai.project-key");
        assert_eq!(v.severity.as_deref(), Some("High"));
        let extract = v.raw_source_code_extract.as_deref().unwrap();
        assert!(extract.starts_with("sk-proj-") && extract.contains('…'));
    }
    let env = report
        .vulnerabilities
        .iter()
        .find(|v| v.location.file.as_deref() == Some("deploy/.env"))
        .unwrap();
    assert_eq!(
        (env.location.start_line, env.location.end_line),
        (Some(2), Some(2))
    );
}

#[test]
fn issue_14_gitlab_ids_are_stable_and_distinct() {
    let (repo, _, _) = two_keys();
    let one = gitlab(&repo.keyhound(&["scan", ".", "--format", "gitlab"]));
    let two = gitlab(&repo.keyhound(&["scan", ".", "--format", "gitlab"]));
    let ids = |r: &GlReport| {
        r.vulnerabilities
            .iter()
            .map(|v| v.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&one), ids(&two), "same finding, same id");
    let mut unique = ids(&one);
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        3,
        "two keys on one line and one key in two files"
    );
    let uuid =
        regex::Regex::new(r"^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
            .unwrap();
    assert!(ids(&one).iter().all(|id| uuid.is_match(id)));
}

#[test]
fn issue_14_gitlab_history_findings_carry_the_commit() {
    let repo = TestRepo::git();
    repo.write("a.env", format!("K={}\n", openai_key(142)));
    let id = repo.commit("add the settings");
    let run = repo.keyhound(&["history", ".", "--format", "gitlab"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = gitlab(&run);
    let c = &report.vulnerabilities[0].location.commit;
    assert_eq!(c.sha, id);
    assert_eq!(c.author.as_deref(), Some("Ada Lovelace"));
    assert_eq!(c.date.as_deref(), Some("2023-11-14T22:14:20+00:00"));
    assert_eq!(c.message.as_deref(), Some("add the settings"));
    assert!(!run.stdout.contains("ada@example.com"), "no e-mail address");
}

#[test]
fn issue_14_gitlab_clean_scan_is_a_valid_empty_report() {
    let repo = TestRepo::dir();
    repo.write("README.md", "nothing here\n");
    let run = repo.keyhound(&["scan", ".", "--format", "gitlab"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(gitlab(&run).vulnerabilities.is_empty());
}

// issue 19 item 19: the SARIF and GitLab reports named https://github.com/keyhound/keyhound, a
// project URL that was made up. No report names a home page for keyhound itself: the tool is
// identified by name and version only (both optional fields in the schemas, left out).
#[test]
fn reports_name_no_made_up_project_url() {
    let repo = TestRepo::git();
    repo.write(
        "app/settings.py",
        format!("OPENAI_API_KEY = \"{}\"\n", openai_key(144)),
    );
    repo.commit("settings");
    let gitlab_run = repo.keyhound(&["history", ".", "--format", "gitlab"]);
    assert_eq!(gitlab_run.code, 1, "{}", gitlab_run.stderr);
    let report = gitlab(&gitlab_run);
    assert_eq!(report.vulnerabilities.len(), 1, "the control: a finding");
    let sarif = repo.keyhound(&["history", ".", "--format", "sarif"]);
    assert_eq!(sarif.code, 1, "{}", sarif.stderr);
    let v: serde_json::Value = sarif.json();
    let driver = &v["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "keyhound");
    assert!(driver.get("informationUri").is_none(), "{driver}");
    let own = regex::Regex::new(r#"https?://[^\s"]*/keyhound(/keyhound)?\b"#).unwrap();
    for (what, text) in [("gitlab", &gitlab_run.stdout), ("sarif", &sarif.stdout)] {
        assert!(
            !own.is_match(text),
            "{what} names a keyhound project URL:\n{text}"
        );
    }
}

#[test]
fn snapshot_gitlab_scan_and_history() {
    let repo = TestRepo::git();
    repo.write(
        "app/settings.py",
        format!("OPENAI_API_KEY = \"{}\"\n", openai_key(143)),
    );
    let scan = repo.keyhound(&["scan", ".", "--format", "gitlab"]);
    insta::assert_snapshot!("gitlab_scan", stable(&scan.stdout, &repo));
    repo.commit("settings");
    let history = repo.keyhound(&["history", ".", "--format", "gitlab"]);
    insta::assert_snapshot!("gitlab_history", stable(&history.stdout, &repo));
}

/// One workflow command: `::name k=v,k=v::message`, properties and message unescaped.
#[derive(Debug)]
struct Command {
    name: String,
    props: std::collections::BTreeMap<String, String>,
    message: String,
}

fn unescape(s: &str) -> String {
    s.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

fn commands(run: &Run) -> Vec<Command> {
    run.stdout
        .lines()
        .map(|line| {
            let rest = line
                .strip_prefix("::")
                .unwrap_or_else(|| panic!("not a command: {line}"));
            let (head, message) = rest.split_once("::").expect("::message");
            let (name, props) = head.split_once(' ').unwrap_or((head, ""));
            let props = props
                .split(',')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').expect("key=value");
                    (k.to_string(), unescape(v))
                })
                .collect();
            Command {
                name: name.to_string(),
                props,
                message: unescape(message),
            }
        })
        .collect()
}

/// A config with a medium and a low rule of our own, and a key for each.
fn graded_repo() -> (TestRepo, String, String) {
    let repo = TestRepo::dir();
    repo.write(
        ".keyhound.toml",
        "[[rule]]\nid = \"acme.token\"\nprovider = \"acme\"\nname = \"Acme token\"\nseverity = \"medium\"\nkeywords = [\"acme_\"]\npattern = '(acme_[A-Za-z0-9]{24})'\n\n[[rule]]\nid = \"lowco.id\"\nprovider = \"lowco\"\nname = \"Lowco id\"\nseverity = \"low\"\nkeywords = [\"lowco_\"]\npattern = '(lowco_[A-Za-z0-9]{24})'\n",
    );
    let mut rng = Rng::new(144);
    let (acme, lowco) = (
        format!("acme_{}", rng.string(ALNUM, 24)),
        format!("lowco_{}", rng.string(ALNUM, 24)),
    );
    (repo, acme, lowco)
}

#[test]
fn issue_14_github_annotations_one_per_finding_by_severity() {
    let (repo, acme, lowco) = graded_repo();
    let key = openai_key(145);
    repo.write(
        "src/keys.py",
        format!("x = \"é\"; k = \"{key}\"\nA = \"{acme}\"\nL = \"{lowco}\"\n"),
    );
    let run = repo.keyhound(&["scan", ".", "--format", "github", "--show-secrets"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    for secret in [&key, &acme, &lowco] {
        assert!(
            !run.stdout.contains(secret.as_str()),
            "annotation holds a secret"
        );
    }
    let cmds = commands(&run);
    assert_eq!(cmds.len(), 3, "{}", run.stdout);
    let by_title = |t: &str| cmds.iter().find(|c| c.props["title"] == t).unwrap();
    let openai = by_title("openai.project-key");
    assert_eq!(openai.name, "error");
    assert_eq!(openai.props["file"], "src/keys.py");
    // Columns count code points: `x = "é"; k = "` is 14 characters.
    assert_eq!(openai.props["line"], "1");
    assert_eq!(openai.props["col"], "15");
    assert_eq!(openai.props["endLine"], "1");
    assert_eq!(
        openai.props["endColumn"],
        (15 + key.chars().count()).to_string()
    );
    assert!(openai.message.contains("sk-proj-") && openai.message.contains('…'));
    assert!(openai.message.contains("platform.openai.com"), "what to do");
    assert_eq!(by_title("acme.token").name, "warning");
    assert_eq!(by_title("acme.token").props["line"], "2");
    assert_eq!(by_title("lowco.id").name, "notice");
}

#[test]
fn issue_14_github_escapes_hostile_paths_and_commit_summaries() {
    let repo = TestRepo::git();
    let path = "we,ird:100%\n::error file=forged.py::fake.env";
    repo.write(path, format!("K={}\n", openai_key(146)));
    repo.commit("subject with 50% off\r\n::warning::forged, too");
    let run = repo.keyhound(&["history", ".", "--format", "github"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout.lines().count(),
        1,
        "one line, no forged command:\n{}",
        run.stdout
    );
    let cmds = commands(&run);
    assert_eq!(cmds[0].props["file"], path);
    assert_eq!(
        cmds[0].props.len(),
        6,
        "file, line, col, endLine, endColumn, title"
    );
    assert!(cmds[0].message.contains("subject with 50% off"));
}

#[test]
fn issue_14_github_says_when_annotations_overflow() {
    let repo = TestRepo::dir();
    let keys: String = (0..11)
        .map(|i| format!("K{i}={}\n", openai_key(200 + i)))
        .collect();
    repo.write("many.env", keys);
    let run = repo.keyhound(&["scan", ".", "--format", "github"]);
    let cmds = commands(&run);
    assert_eq!(cmds.len(), 12, "11 findings and the closing notice");
    let last = cmds.last().unwrap();
    assert_eq!(last.name, "notice");
    assert!(
        last.message.starts_with("1 more finding(s)"),
        "{}",
        last.message
    );
    let few = TestRepo::dir();
    few.write("one.env", format!("K={}\n", openai_key(211)));
    assert_eq!(
        commands(&few.keyhound(&["scan", ".", "--format", "github"])).len(),
        1
    );
}

#[test]
fn snapshot_github_scan() {
    let (repo, acme, _) = graded_repo();
    repo.write(
        "app/settings.py",
        format!(
            "OPENAI_API_KEY = \"{}\"\nACME = \"{acme}\"\n",
            openai_key(147)
        ),
    );
    let run = repo.keyhound(&["scan", ".", "--format", "github"]);
    insta::assert_snapshot!(
        "github_scan",
        run.stdout
            .replace(&repo.path().display().to_string(), "[TMP]")
    );
}

/// A pull request (the range `base..head`) that changes `.keyhound.toml`, silences one key with
/// an inline `keyhound:allow` and adds another key openly.
pub(crate) fn range_with_notices() -> (TestRepo, String) {
    let repo = TestRepo::git();
    repo.write(".keyhound.toml", "[allow]\npaths = [\"docs/**\"]\n");
    let base = repo.commit("base");
    repo.write(
        ".keyhound.toml",
        "[allow]\npaths = [\"docs/**\", \"app/**\"]\n",
    );
    repo.write(
        "tests/fixture.py",
        format!("KEY = \"{}\"  # keyhound:allow\n", openai_key(195)),
    );
    repo.write(
        "app/settings.py",
        format!("KEY = \"{}\"\n", openai_key(196)),
    );
    let head = repo.commit("pr");
    (repo, format!("{base}..{head}"))
}

// issue 19 item 22: a range's notices (a changed policy file, an inline allow the pull request
// adds) reached only stderr. `--format github` makes each a warning annotation on its file and
// line, after the findings.
#[test]
fn github_annotations_carry_the_range_notices() {
    let (repo, range) = range_with_notices();
    let run = repo.keyhound(&["history", ".", "--range", &range, "--format", "github"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let commands = commands(&run);
    let findings: Vec<&Command> = commands
        .iter()
        .filter(|c| c.props.get("title").map(String::as_str) == Some("openai.project-key"))
        .collect();
    assert_eq!(findings.len(), 1, "the open key is still reported");
    assert_eq!(findings[0].props["file"], "app/settings.py");
    let notices: Vec<&Command> = commands
        .iter()
        .filter(|c| c.props.get("title").map(String::as_str) == Some("keyhound notice"))
        .collect();
    assert_eq!(notices.len(), 2, "{}", run.stdout);
    assert!(notices.iter().all(|c| c.name == "warning"));
    assert_eq!(notices[0].props["file"], ".keyhound.toml");
    assert!(
        notices[0]
            .message
            .starts_with("the range changes .keyhound.toml"),
        "{}",
        notices[0].message
    );
    assert_eq!(
        (
            notices[1].props["file"].as_str(),
            notices[1].props["line"].as_str()
        ),
        ("tests/fixture.py", "1")
    );
    assert!(notices[1]
        .message
        .contains("keyhound:allow in the range silences tests/fixture.py:1 openai.project-key"));
    // A whole-history scan has no range, so no notices.
    let run = repo.keyhound(&["history", ".", "--format", "github"]);
    assert!(!run.stdout.contains("keyhound notice"), "{}", run.stdout);
}

// issue 19 item 22: the GitLab report carries the range's notices in `scan.messages` (level
// `warn`), still within the schema.
#[test]
fn gitlab_scan_messages_carry_the_range_notices() {
    let (repo, range) = range_with_notices();
    let run = repo.keyhound(&["history", ".", "--range", &range, "--format", "gitlab"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = gitlab(&run);
    assert_eq!(report.vulnerabilities.len(), 1);
    let messages: Vec<(String, String)> = report
        .scan
        .messages
        .unwrap_or_default()
        .into_iter()
        .map(|m| (m.level, m.value))
        .collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages.iter().all(|(level, _)| level == "warn"));
    assert!(messages[0]
        .1
        .starts_with("keyhound notice: the range changes .keyhound.toml"));
    assert!(messages[1]
        .1
        .contains("keyhound:allow in the range silences tests/fixture.py:1"));
    assert!(
        !run.stdout.contains(&openai_key(195)),
        "no secret in a notice"
    );
}

// issue 19 item 26: an annotation said "Revoke" twice: the remediation names where to revoke,
// then the revoke link came again.
#[test]
fn github_annotation_names_the_revoke_link_once() {
    let repo = TestRepo::dir();
    repo.write(
        ".keyhound.toml",
        "[[rule]]\nid = \"acme.token\"\nprovider = \"acme\"\nname = \"Acme token\"\nkeywords = [\"acme_\"]\npattern = '(acme_[A-Za-z0-9]{24})'\nremediation = \"Rotate it in the Acme console.\"\nrevoke_url = \"https://acme.invalid/tokens\"\n",
    );
    let acme = format!("acme_{}", Rng::new(148).string(ALNUM, 24));
    repo.write(
        "app.env",
        format!("OPENAI_API_KEY={}\nACME={acme}\n", openai_key(149)),
    );
    let run = repo.keyhound(&["scan", ".", "--format", "github"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let cmds = commands(&run);
    let by_title = |t: &str| cmds.iter().find(|c| c.props["title"] == t).unwrap();
    let openai = &by_title("openai.project-key").message;
    assert_eq!(openai.matches("Revoke").count(), 1, "{openai}");
    assert_eq!(openai.matches("platform.openai.com/api-keys").count(), 1);
    // Positive control: a remediation that does not name the link gets it.
    let acme = &by_title("acme.token").message;
    assert!(
        acme.contains("Revoke or rotate it: https://acme.invalid/tokens"),
        "{acme}"
    );
}
