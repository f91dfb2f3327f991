//! Issue 11, item 3: precision where real repositories showed noise. Each case scans files that
//! must give nothing next to a positive control that must be found, in the same run.
use std::collections::BTreeMap;

use base64::Engine;

use crate::harness::{Rng, TestRepo, ALNUM};

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Scan `files` and return each file's findings as (rule, encoding) pairs.
fn scan(files: &[(&str, String)]) -> BTreeMap<String, Vec<(String, Option<String>)>> {
    let repo = TestRepo::dir();
    for (path, text) in files {
        repo.write(path, format!("{text}\n"));
    }
    let run = repo.keyhound(&["scan", ".", "--format", "json"]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let mut by_path: BTreeMap<String, Vec<(String, Option<String>)>> = BTreeMap::new();
    for (path, _) in files {
        by_path.insert(path.to_string(), Vec::new());
    }
    for f in run.report().findings {
        by_path
            .entry(f.path.clone())
            .or_default()
            .push((f.rule, f.encoding));
    }
    by_path
}

fn rules_of(found: &BTreeMap<String, Vec<(String, Option<String>)>>, path: &str) -> Vec<String> {
    found[path].iter().map(|(r, _)| r.clone()).collect()
}

fn tavily_key(seed: u64) -> String {
    let mut r = Rng::new(seed);
    loop {
        let body = r.string(ALNUM, 32);
        let lower = body.to_ascii_lowercase();
        if !keyhound::detect::filter::PLACEHOLDER_WORDS
            .iter()
            .any(|w| lower.contains(w))
        {
            return format!("tvly-{body}");
        }
    }
}

fn pem(label: &str, body: &[String]) -> String {
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----",
        body.join("\n")
    )
}

#[test]
fn issue_11_private_key_blocks_of_prose_regex_or_filler_are_not_keys() {
    let mut r = Rng::new(1101);
    let real: Vec<String> = (0..12).map(|_| r.string(BASE64, 64)).collect();
    let files = [
        ("control.pem", pem("EC PRIVATE KEY", &real)),
        (
            "prose.md",
            pem(
                "RSA PRIVATE KEY",
                &[
                    "Paste the contents of your private key file here, including the".into(),
                    "header and footer lines, then save the settings page.".into(),
                ],
            ),
        ),
        (
            "regex.py",
            pem(
                "PRIVATE KEY",
                &[r"(?:[A-Za-z0-9+/]{64}\n)*[A-Za-z0-9+/]{1,64}={0,2}".into()],
            ),
        ),
        (
            "filler-a.pem",
            pem("OPENSSH PRIVATE KEY", &vec!["A".repeat(64); 8]),
        ),
        (
            "filler-x.pem",
            pem("ENCRYPTED PRIVATE KEY", &vec!["x".repeat(64); 8]),
        ),
        (
            "filler-0.pem",
            pem("DSA PRIVATE KEY", &vec!["0".repeat(64); 8]),
        ),
    ];
    let found = scan(&files);
    assert_eq!(rules_of(&found, "control.pem"), ["private-key.pem"]);
    for (path, _) in &files[1..] {
        assert!(found[*path].is_empty(), "{path}: {:?}", found[*path]);
    }
}

#[test]
fn issue_11_a_key_shaped_literal_inside_a_regex_is_not_a_key() {
    let key = tavily_key(1102);
    let files = [
        ("settings.env", format!("TAVILY_API_KEY={key}")),
        (
            "scanner.py",
            format!(r#"TOKEN_RE = re.compile(r"(tvly-[A-Za-z0-9]{{32}}|{key})")"#),
        ),
        ("allow.toml", format!(r#"regexes = ["^{key}$"]"#)),
    ];
    let found = scan(&files);
    assert_eq!(rules_of(&found, "settings.env"), ["tavily.api-key"]);
    assert!(found["scanner.py"].is_empty(), "{:?}", found["scanner.py"]);
    assert!(found["allow.toml"].is_empty(), "{:?}", found["allow.toml"]);
}

#[test]
fn issue_11_truncated_keys_and_filler_bodies_are_not_keys() {
    let key = tavily_key(1103);
    let files = [
        ("full.env", format!("TAVILY_API_KEY={key}")),
        ("truncated.env", format!("TAVILY_API_KEY={}", &key[..24])),
        ("ellipsis.md", format!("TAVILY_API_KEY={}...", &key[..29])),
        (
            "zeros.env",
            format!("TAVILY_API_KEY=tvly-{}", "0".repeat(32)),
        ),
        ("xs.env", format!("TAVILY_API_KEY=tvly-{}", "x".repeat(32))),
        (
            "repeated.env",
            format!("TAVILY_API_KEY=tvly-{}", "aB3".repeat(10) + "aB"),
        ),
    ];
    let found = scan(&files);
    assert_eq!(rules_of(&found, "full.env"), ["tavily.api-key"]);
    for (path, _) in &files[1..] {
        assert!(found[*path].is_empty(), "{path}: {:?}", found[*path]);
    }
}

#[test]
fn issue_11_aws_key_ids_outside_base32_are_not_keys() {
    let mut r = Rng::new(1104);
    let id = format!("AKIA{}", r.string(BASE32, 16));
    let mut files = vec![("good.env", format!("AWS_ACCESS_KEY_ID={id}"))];
    let bad: Vec<(String, String)> = ['0', '1', '8', '9']
        .iter()
        .map(|d| {
            let mut s = id.clone();
            s.replace_range(10..11, &d.to_string());
            (format!("bad-{d}.env"), format!("AWS_ACCESS_KEY_ID={s}"))
        })
        .collect();
    for (p, t) in &bad {
        files.push((p.as_str(), t.clone()));
    }
    let found = scan(&files);
    assert_eq!(rules_of(&found, "good.env"), ["aws.access-key-id"]);
    for (path, _) in &bad {
        assert!(found[path].is_empty(), "{path}: {:?}", found[path]);
    }
}

/// A Bedrock short-term key is base64 of a presigned URL naming an ASIA access key id: it is
/// reported once, as itself, not a second time as the id inside. The same URL encoded on its
/// own (no key prefix) still reports the id inside it, as base64.
#[test]
fn issue_11_a_plain_match_wins_over_the_base64_match_inside_it() {
    let mut r = Rng::new(1105);
    let url = format!(
        "bedrock.amazonaws.com/?Action=CallWithBearerToken&X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=ASIA{}%2F20260801%2Fus-east-1%2Fbedrock%2Faws4_request\
         &X-Amz-Date=20260801T120000Z&X-Amz-Expires=43200&X-Amz-Security-Token={}\
         &X-Amz-Signature={}&X-Amz-SignedHeaders=host&Version=1",
        r.string(BASE32, 16),
        r.string(ALNUM, 200),
        r.string(b"0123456789abcdef", 64)
    );
    let encoded = base64::engine::general_purpose::STANDARD.encode(url.as_bytes());
    let files = [
        (
            "bedrock.env",
            format!("AWS_BEARER_TOKEN_BEDROCK=bedrock-api-key-{encoded}"),
        ),
        ("wrapped.txt", format!("blob: {encoded}")),
    ];
    let found = scan(&files);
    assert_eq!(
        found["bedrock.env"],
        [("aws.bedrock-short-term-api-key".to_string(), None)]
    );
    assert_eq!(
        found["wrapped.txt"],
        [("aws.access-key-id".to_string(), Some("base64".to_string()))]
    );
}
