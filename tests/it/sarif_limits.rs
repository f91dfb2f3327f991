//! Issue 14: a large audit still uploads to GitHub code scanning. With 30,000 findings the SARIF
//! keeps within every limit GitHub documents (at most 5,000 results stored of 25,000 accepted per
//! run, 1,000 locations per result, 10 MB compressed, 20 runs), keeps the highest levels first,
//! and records what it left out in the run's properties and on stderr.
use serde::Deserialize;

use crate::harness::{openai_key, TestRepo};

#[derive(Deserialize)]
struct Sarif {
    runs: Vec<Run>,
}

#[derive(Deserialize)]
struct Run {
    results: Vec<SarifResult>,
    properties: Option<RunProperties>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    level: String,
    locations: Vec<serde_json::Value>,
    partial_fingerprints: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RunProperties {
    keyhound: Truncation,
}

#[derive(Deserialize)]
struct Truncation {
    truncated: bool,
    findings: usize,
    results: usize,
    left_out: usize,
    left_out_by_level: ByLevel,
}

#[derive(Deserialize)]
struct ByLevel {
    error: usize,
    warning: usize,
    note: usize,
}

const FINDINGS: usize = 30_000;

#[test]
fn issue_14_sarif_of_30000_findings_stays_within_github_limits() {
    let repo = TestRepo::dir();
    // Three files: one file lists at most 10,000 findings (issue 19 item 11).
    for part in 0..3 {
        let mut text = String::with_capacity(FINDINGS / 3 * 170);
        for i in part * FINDINGS / 3..(part + 1) * FINDINGS / 3 {
            text.push_str(&openai_key(10_000 + i as u64));
            text.push('\n');
        }
        repo.write(&format!("keys{part}.txt"), text);
    }
    let run = repo.keyhound(&["scan", ".", "--format", "sarif"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.len() <= 10_000_000,
        "{} bytes: over 10 MB even before gzip",
        run.stdout.len()
    );
    let sarif: Sarif = serde_json::from_str(&run.stdout).expect("valid JSON and SARIF shape");
    assert!(sarif.runs.len() <= 20);
    let r = &sarif.runs[0];
    assert!(r.results.len() <= 5_000, "GitHub stores at most 5,000");
    assert!(r.results.len() <= 25_000, "GitHub accepts at most 25,000");
    assert!(r.results.iter().all(|x| x.locations.len() <= 1_000));
    assert!(r.results.iter().all(|x| x.level == "error"));
    let mut fps: Vec<_> = r
        .results
        .iter()
        .map(|x| x.partial_fingerprints.clone())
        .collect();
    fps.sort();
    fps.dedup();
    assert_eq!(
        fps.len(),
        r.results.len(),
        "each kept result is a distinct alert"
    );
    let t = &r
        .properties
        .as_ref()
        .expect("run.properties records the cap")
        .keyhound;
    assert!(t.truncated);
    assert_eq!(t.findings, FINDINGS);
    assert_eq!(t.results, r.results.len());
    assert_eq!(t.left_out, FINDINGS - r.results.len());
    assert_eq!(
        (
            t.left_out_by_level.error,
            t.left_out_by_level.warning,
            t.left_out_by_level.note
        ),
        (t.left_out, 0, 0)
    );
    assert!(
        run.stderr.contains(&format!(
            "keyhound: warning: SARIF holds {} of {FINDINGS} findings",
            r.results.len()
        )),
        "{}",
        run.stderr
    );
    // Where gzip is installed, measure the compressed size GitHub limits, too.
    if let Ok(mut child) = std::process::Command::new("gzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        let input = run.stdout.clone().into_bytes();
        let writer = std::thread::spawn(move || stdin.write_all(&input));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(
            out.stdout.len() < 10_000_000,
            "{} bytes gzip",
            out.stdout.len()
        );
    }
}

#[test]
fn issue_14_sarif_under_the_limits_has_no_truncation_note() {
    let repo = TestRepo::dir();
    repo.write("a.env", format!("K={}\n", openai_key(9)));
    let run = repo.keyhound(&["scan", ".", "--format", "sarif"]);
    let sarif: Sarif = serde_json::from_str(&run.stdout).unwrap();
    assert!(sarif.runs[0].properties.is_none());
    assert!(!run.stderr.contains("SARIF holds"), "{}", run.stderr);
}
