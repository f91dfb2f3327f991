//! Snapshots of what users see: the human and JSON reports, `keyhound rules` and `--help`.
//! A change to any of them shows in review as a snapshot diff.
use crate::harness::{openai_key, TestRepo};

fn fixture() -> TestRepo {
    let repo = TestRepo::dir();
    repo.write(
        "src/client.py",
        format!(
            "import openai\n\nclient = openai.OpenAI(api_key=\"{}\")\n",
            openai_key(100)
        ),
    );
    repo.write(
        ".env",
        format!("OPENAI_API_KEY={}\nDEBUG=1\n", openai_key(101)),
    );
    repo
}

/// Replace the parts that change between runs (timings) with fixed text.
fn stable(s: &str) -> String {
    let re = regex::Regex::new(r#""elapsed_ms": \d+"#).unwrap();
    re.replace_all(s, "\"elapsed_ms\": [ELAPSED]").into_owned()
}

#[test]
fn snapshot_scan_human() {
    let run = fixture().keyhound(&["scan", "--color", "never"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!("scan_human", run.stdout);
}

#[test]
fn snapshot_scan_human_color() {
    let run = fixture().keyhound(&["scan", "--color", "always"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!("scan_human_color", run.stdout);
}

#[test]
fn snapshot_scan_json() {
    let run = fixture().keyhound(&["scan", "--format", "json"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!("scan_json", stable(&run.stdout));
}

#[test]
fn snapshot_rules_list() {
    let run = TestRepo::dir().keyhound(&["rules"]);
    assert_eq!(run.code, 0);
    insta::assert_snapshot!("rules_list", run.stdout);
}

#[test]
fn snapshot_help() {
    let run = TestRepo::dir().keyhound(&["scan", "--help"]);
    assert_eq!(run.code, 0);
    insta::assert_snapshot!("scan_help", run.stdout);
}
