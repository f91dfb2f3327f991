//! `keyhound scan`: working trees, stdin, formats, exit codes.
use crate::harness::{openai_key, TestRepo};

#[test]
fn scan_reports_a_key_with_path_line_and_column() {
    let repo = TestRepo::dir();
    let key = openai_key(1);
    repo.write("src/app.py", format!("import os\nclient = OpenAI(api_key=\"{key}\")\n"));
    let run = repo.keyhound(&["scan", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let f = &report["findings"][0];
    assert_eq!(f["rule"], "openai.project-key");
    assert_eq!(f["path"], "src/app.py");
    assert_eq!(f["line"], 2);
    assert_eq!(f["column"], 25);
    assert!(!run.stdout.contains(&key), "secret leaked into the report");
}

#[test]
fn clean_tree_exits_zero() {
    let repo = TestRepo::dir();
    repo.write("README.md", "Set OPENAI_API_KEY=sk-your-key-here before running.\n");
    let run = repo.keyhound(&["scan"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.is_empty());
}
