//! SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps). One `tool.driver.rules` entry
//! per rule that fired, one result per finding with a relative `uri` under `%SRCROOT%`, the
//! region, and `partialFingerprints` from the secret fingerprint so an alert survives code
//! moving and two keys on one line are two alerts.
//!
//! SARIF never carries a secret, not even with `--show-secrets`: code-scanning alerts are shown
//! to everyone who can read the repository. Output is byte-stable for the same input: rules
//! sorted by id, results in report order, no timestamps.
//!
//! Levels: `error` for a high-severity rule (every key that spends money or grants access),
//! `warning` for medium, `note` for low.
//!
//! A large audit still uploads: past [`MAX_RESULTS`] results or [`MAX_BYTES`] bytes the report
//! keeps the highest levels first (then report order), records what it left out in the run's
//! `properties.keyhound` and says so on stderr. It is not split into several files: GitHub wants
//! each file of one tool under its own category, and the alerts past the cap are better read in
//! `--format json`.
//!
//! A range's notices (a policy file the pull request changes, a `keyhound:allow` it adds: issue
//! 19 item 22) are `toolExecutionNotifications` of the run's one invocation (SARIF 2.1.0
//! §3.20.21, §3.58): level `warning`, the message, and the file (and line) they are about. The
//! silenced findings themselves are results with `suppressions` (§3.35) under
//! `--show-suppressed`. Without notices the run has no `invocations`, as before.

use std::io::{self, Write};

use serde_json::{json, Value};

use super::{ReportOptions, Summary};
use crate::finding::{Finding, Provenance};
use crate::rules::{Rule, RuleSet, Severity};

/// Key of `partialFingerprints`; bump the suffix if the fingerprint's definition changes.
/// (v2: the fingerprint became Argon2id, issue 19 item 3.)
const FINGERPRINT_KEY: &str = "keyhound/secret/v2";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "9.0",
        Severity::Medium => "6.0",
        Severity::Low => "3.0",
    }
}

/// Percent-encode a relative path for a SARIF `uri` (RFC 3986: keep unreserved and `/`).
pub fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn rule_entry(rule: &Rule) -> Value {
    let mut markdown = format!("**{}**\n\n{}", rule.name, rule.remediation);
    let mut text = rule.remediation.clone();
    if let Some(url) = &rule.revoke_url {
        markdown.push_str(&format!("\n\nRevoke or rotate it here: [{url}]({url})"));
        text.push_str(&format!(" Revoke or rotate it: {url}"));
    }
    markdown.push_str("\n\nA key in a repository is a key in every clone and fork: rotate it even after removing it, since history keeps it. If it is not a real key, mark the line with `keyhound:allow`.");
    let mut entry = json!({
        "id": rule.id,
        "name": rule.id.replace(['.', '-'], "_"),
        "shortDescription": {"text": rule.name},
        "fullDescription": {"text": format!("{} ({} credential). {}", rule.name, rule.provider, rule.remediation)},
        "help": {"text": text, "markdown": markdown},
        "defaultConfiguration": {"level": level(rule.severity)},
        "properties": {
            "tags": ["security", "secret", "credential", rule.provider],
            "security-severity": security_severity(rule.severity),
            "precision": "high",
        },
    });
    if let Some(first) = rule.references.first() {
        entry["helpUri"] = json!(first);
    }
    entry
}

/// The alert's identity: the secret, its path and its ordinal among the same secret's
/// occurrences in that path. Lines are left out so the alert survives code moving.
fn partial_fingerprint(f: &Finding, ordinal: usize) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(f.fingerprint.as_bytes());
    h.update([0]);
    h.update(f.provenance.path().as_bytes());
    h.update([0]);
    h.update(ordinal.to_le_bytes());
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn result_entry(f: &Finding, rule: &Rule, rule_index: usize, ordinal: usize) -> Value {
    let path = match &f.provenance {
        Provenance::Stdin => "stdin".to_string(),
        p => p.path().to_string(),
    };
    let mut message = format!("{} found: {}", rule.name, f.redacted);
    if let Some(encoding) = f.encoding {
        message.push_str(&format!(" (inside {encoding} text)"));
    }
    if let Some(c) = f.provenance.commit() {
        message.push_str(&format!(
            ", introduced in commit {}",
            &c.id[..c.id.len().min(12)]
        ));
    }
    // An archive member or notebook cell has no file of its own: the artifact is the archive or
    // notebook (a file code scanning can open), at its first line, and the message names the
    // member and the line in it.
    let member = crate::finding::container_path(&path).map(str::to_string);
    if member.is_some() {
        message.push_str(&format!(", at {path} line {}", f.location.line));
    }
    message.push_str(&format!(". {}", rule.remediation));
    let region = match &member {
        Some(_) => json!({"startLine": 1}),
        None => json!({
            "startLine": f.location.line,
            "startColumn": f.location.char_column,
            "endLine": f.location.end_line,
            "endColumn": f.location.char_end_column,
        }),
    };
    let artifact = member.unwrap_or(path);
    let live = f
        .verification
        .as_ref()
        .is_some_and(|v| v.status == crate::verify::Status::Live);
    if let Some(v) = &f.verification {
        message.push_str(&format!(
            " Verification: {} ({}).",
            v.status.as_str(),
            v.reason
        ));
    }
    let mut result = json!({
        "ruleId": rule.id,
        "ruleIndex": rule_index,
        "level": if live { "error" } else { level(rule.severity) },
        "message": {"text": message},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": uri(&artifact), "uriBaseId": "%SRCROOT%"},
                "region": region,
            },
        }],
        "partialFingerprints": {FINGERPRINT_KEY: partial_fingerprint(f, ordinal)},
        "properties": {"provider": f.provider, "redacted": f.redacted},
    });
    if let Some(repository) = &f.repository {
        // Several repositories in one run: the uri is relative to this one's root.
        result["properties"]["repository"] = json!(repository);
    }
    if let Some(c) = f.provenance.commit() {
        result["properties"]["commit"] = json!({
            "id": c.id,
            "author": c.author,
            "date": c.date,
            "summary": c.summary,
        });
    }
    if let Some(why) = f.suppressed {
        // SARIF 2.1.0 §3.35: an in-source suppression is a comment in the code; the others are
        // kept outside it (config, baseline).
        let kind = match why {
            crate::finding::Suppression::InlineAllow => "inSource",
            _ => "external",
        };
        result["suppressions"] = json!([{"kind": kind, "justification": why.as_str()}]);
    }
    result
}

/// A notice as a SARIF `notification` (§3.58): a warning, at its file (and line) when it has one.
fn notification(notice: &crate::policy::Notice) -> Value {
    let mut n = json!({
        "level": "warning",
        "message": {"text": notice.message},
    });
    if let Some(path) = &notice.path {
        let mut location = json!({
            "physicalLocation": {
                "artifactLocation": {"uri": uri(path), "uriBaseId": "%SRCROOT%"},
            },
        });
        if let Some(line) = notice.line {
            location["physicalLocation"]["region"] = json!({"startLine": line});
        }
        n["locations"] = json!([location]);
    }
    n
}

/// GitHub code scanning's limits on one upload (docs.github.com, "SARIF results exceed one or
/// more limits" and "SARIF file is too large"): at most 25,000 results per run, of which only the
/// top 5,000 are stored; at most 1,000 locations per result (we write one); 10 MB gzip-compressed.
/// We keep the 5,000 ourselves, so the note of what was left out is exact.
pub const MAX_RESULTS: usize = 5_000;

/// Bytes of the written file. Bounding the uncompressed size bounds the gzip one below 10 MB.
pub const MAX_BYTES: usize = 10_000_000;

/// What a capped report left out, by level.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LeftOut {
    pub error: usize,
    pub warning: usize,
    pub note: usize,
}

/// Rank of a result when the report must be capped: errors first, then warnings, then notes;
/// suppressed results after all of them.
fn rank(result: &Value, f: &Finding) -> u8 {
    let level = match result["level"].as_str() {
        Some("error") => 0,
        Some("warning") => 1,
        _ => 2,
    };
    level + if f.suppressed.is_some() { 3 } else { 0 }
}

pub fn write(
    out: &mut dyn Write,
    findings: &[Finding],
    rules: &RuleSet,
    summary: &Summary,
    _opts: &ReportOptions,
) -> io::Result<()> {
    let mut fired: Vec<usize> = findings.iter().map(|f| f.rule).collect();
    fired.sort_by(|a, b| rules.rules[*a].id.cmp(&rules.rules[*b].id));
    fired.dedup();
    let index_of = |rule: usize| fired.iter().position(|&r| r == rule).unwrap_or(0);
    let mut seen: std::collections::HashMap<(&str, &str), usize> = Default::default();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let n = seen
                .entry((f.fingerprint.as_str(), f.provenance.path()))
                .or_default();
            *n += 1;
            result_entry(f, &rules.rules[f.rule], index_of(f.rule), *n)
        })
        .collect();
    // Which results to keep if the report is too large: the highest level first, then report
    // order. The kept ones are written in report order.
    let mut priority: Vec<usize> = (0..results.len()).collect();
    priority.sort_by_key(|&i| (rank(&results[i], &findings[i]), i));
    let mut keep = results.len().min(MAX_RESULTS);
    loop {
        let mut kept: Vec<usize> = priority[..keep].to_vec();
        kept.sort_unstable();
        let mut run = json!({
            "tool": {"driver": {
                "name": "keyhound",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": fired.iter().map(|&r| rule_entry(&rules.rules[r])).collect::<Vec<_>>(),
            }},
            "columnKind": "unicodeCodePoints",
            "results": kept.iter().map(|&i| results[i].clone()).collect::<Vec<_>>(),
        });
        if !summary.notices.is_empty() {
            run["invocations"] = json!([{
                "executionSuccessful": !summary.incomplete,
                "toolExecutionNotifications": summary.notices.iter().map(notification).collect::<Vec<_>>(),
            }]);
        }
        let mut left = LeftOut::default();
        for &i in &priority[keep..] {
            match results[i]["level"].as_str() {
                Some("error") => left.error += 1,
                Some("warning") => left.warning += 1,
                _ => left.note += 1,
            }
        }
        if keep < results.len() {
            // SARIF 2.1.0 §3.8: a property bag holds what the format has no field for.
            run["properties"] = json!({"keyhound": {
                "truncated": true,
                "findings": results.len(),
                "results": keep,
                "left_out": results.len() - keep,
                "left_out_by_level": {"error": left.error, "warning": left.warning, "note": left.note},
                "kept": "highest level first, then report order",
                "reason": format!(
                    "GitHub code scanning stores at most {MAX_RESULTS} results per upload and accepts at most 10 MB; run keyhound with --format json for every finding"
                ),
            }});
        }
        let sarif = json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [run],
        });
        let mut bytes = serde_json::to_vec_pretty(&sarif)?;
        bytes.push(b'\n');
        if bytes.len() > MAX_BYTES && keep > 0 {
            // Shrink in proportion, with a margin; strictly fewer each time, so this ends.
            let fit = (keep as u128 * MAX_BYTES as u128 * 9 / 10 / bytes.len() as u128) as usize;
            keep = fit.min(keep - 1);
            continue;
        }
        if keep < results.len() {
            crate::diag::warn(&left_out_note(results.len(), keep, left));
        }
        return out.write_all(&bytes);
    }
}

/// The stderr note of a capped SARIF report.
pub fn left_out_note(findings: usize, kept: usize, left: LeftOut) -> String {
    format!(
        "SARIF holds {kept} of {findings} findings (GitHub code scanning stores at most {MAX_RESULTS} per upload and accepts at most 10 MB); left out: {} error, {} warning, {} note (highest level kept first; run.properties.keyhound lists the counts; --format json writes every finding)",
        left.error, left.warning, left.note
    )
}

#[cfg(test)]
mod tests {
    use super::uri;

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(uri("src/app.py"), "src/app.py");
        assert_eq!(uri("my dir/a#b.txt"), "my%20dir/a%23b.txt");
        assert_eq!(uri("é"), "%C3%A9");
    }
}
