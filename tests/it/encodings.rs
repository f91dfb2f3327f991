//! Keys written in other encodings (issue 11, item 4): JSON `\u` escapes, URL percent-encoding,
//! Jupyter notebooks (cells and saved outputs), a service-account key inside a Docker config's
//! base64 `auth`. Each negative case sits beside a positive control.
use base64::Engine;

use crate::harness::{control_line, openai_key, Rng, TestRepo, OPENAI_RULE};

/// (path, line, encoding) of each finding of `rule`, sorted.
fn places(run: &crate::harness::Run, rule: &str) -> Vec<(String, u64, Option<String>)> {
    let mut v: Vec<_> = run
        .report()
        .findings
        .into_iter()
        .filter(|f| f.rule == rule)
        .map(|f| (f.path, f.line, f.encoding))
        .collect();
    v.sort();
    v
}

#[test]
fn issue_11_json_unicode_escapes_and_percent_encoding_are_decoded() {
    let repo = TestRepo::dir();
    let key = openai_key(1201);
    let escaped = key.replace('-', "\\u002d");
    let percent = key.replace('-', "%2D");
    repo.write(
        "settings.json",
        format!("{{\n  \"openai\": \"{escaped}\"\n}}\n"),
    );
    repo.write("url.txt", format!("GET /v1?key={percent}&x=1\n"));
    // Negative: an escaped placeholder is still a placeholder; the control line is found.
    let fake = format!(
        "sk\\u002dproj\\u002dyour\\u002dkey\\u002dhere{}T3BlbkFJ",
        "A".repeat(3)
    );
    repo.write(
        "neg.json",
        format!("{{\"k\": \"{fake}\"}}\n{}", control_line(1202)),
    );
    let run = repo.keyhound(&["scan", ".", "--format", "json", "--show-secrets"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        places(&run, OPENAI_RULE),
        vec![
            ("neg.json".to_string(), 2, None),
            (
                "settings.json".to_string(),
                2,
                Some("json-escape".to_string())
            ),
            (
                "url.txt".to_string(),
                1,
                Some("percent-encoding".to_string())
            ),
        ]
    );
    let report = run.report();
    let decoded: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.encoding.is_some())
        .map(|f| f.secret.clone().unwrap())
        .collect();
    assert_eq!(
        decoded,
        vec![key.clone(), key.clone()],
        "the secret is the decoded key"
    );
    let json = report
        .findings
        .iter()
        .find(|f| f.path == "settings.json")
        .unwrap();
    assert_eq!(json.column, 14, "the finding points at the escaped text");
    assert!(!json.snippet.contains(&escaped[12..40]), "{}", json.snippet);
}

#[test]
fn issue_11_notebook_keys_in_cells_and_saved_outputs() {
    let repo = TestRepo::dir();
    let (a, b) = (openai_key(1210), openai_key(1211));
    let (head, tail) = b.split_at(60);
    let nb = serde_json::json!({
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Setup\n", "Nothing here\n"]},
            {"cell_type": "code", "metadata": {}, "execution_count": 1,
             "source": ["import os\n", format!("os.environ['OPENAI_API_KEY'] = '{a}'\n")],
             "outputs": [
                {"output_type": "stream", "name": "stdout",
                 "text": ["loaded\n", format!("key={head}"), format!("{tail}\n")]},
                {"output_type": "error", "ename": "AuthenticationError",
                 "evalue": "invalid key", "traceback": ["Traceback", format!("  key: {b}")]}
             ]}
        ],
        "metadata": {"kernelspec": {"name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5
    });
    repo.write("analysis.ipynb", serde_json::to_string_pretty(&nb).unwrap());
    // The same output as plain JSON that is not a notebook: the split key is not found there.
    let not_nb =
        serde_json::json!({"text": ["loaded\n", format!("key={head}"), format!("{tail}\n")]});
    repo.write("log.json", format!("{not_nb}\n{}", control_line(1212)));
    let run = repo.keyhound(&["scan", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        places(&run, OPENAI_RULE),
        vec![
            ("analysis.ipynb#cell-2".to_string(), 2, None),
            ("analysis.ipynb#cell-2.output-1".to_string(), 2, None),
            ("analysis.ipynb#cell-2.output-2".to_string(), 3, None),
            ("log.json".to_string(), 2, None),
        ]
    );
}

#[test]
fn issue_11_service_account_key_inside_a_docker_config_auth() {
    let repo = TestRepo::dir();
    let mut rng = Rng::new(1220);
    let b64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let body: Vec<String> = (0..20).map(|_| rng.string(b64, 64)).collect();
    let sa = serde_json::json!({
        "type": "service_account",
        "project_id": "registry-4821",
        "private_key_id": rng.string(b"0123456789abcdef", 40),
        "private_key": format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", body.join("\n")),
        "client_email": "puller@registry-4821.iam.gserviceaccount.com",
    });
    let auth = base64::engine::general_purpose::STANDARD.encode(format!(
        "_json_key:{}",
        serde_json::to_string_pretty(&sa).unwrap()
    ));
    let config = serde_json::json!({"auths": {"gcr.io": {"auth": auth}}});
    repo.write(".dockerconfigjson", config.to_string());
    // Negative: a Docker config whose auth is a user name and password; the control is found.
    let plain = base64::engine::general_purpose::STANDARD.encode("deployer:not-a-service-account");
    let other = serde_json::json!({"auths": {"ghcr.io": {"auth": plain}}});
    repo.write("other/.dockerconfigjson", other.to_string());
    repo.write("other/.env", control_line(1221));
    let run = repo.keyhound(&["scan", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.report();
    let rules: Vec<(&str, &str, Option<&str>)> = report
        .findings
        .iter()
        .map(|f| (f.rule.as_str(), f.path.as_str(), f.encoding.as_deref()))
        .collect();
    assert_eq!(
        rules,
        vec![
            (
                "gcp.service-account-key",
                ".dockerconfigjson",
                Some("base64")
            ),
            (OPENAI_RULE, "other/.env", None),
        ]
    );
}
