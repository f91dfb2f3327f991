//! JSON (`{"version": 1, "findings": [...], "summary": {...}}`) and JSON Lines (one finding a
//! line). Field names are the glossary's nouns in snake_case; `secret` appears only with
//! `--show-secrets`.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use super::ReportOptions;
use crate::finding::{CommitInfo, Finding, Location, Provenance, Suppression};
use crate::rules::RuleSet;
use crate::summary::Summary;

/// Version of the JSON report shape.
pub(crate) const VERSION: u32 = 1;

/// One finding as written in JSON.
#[derive(Serialize)]
pub(crate) struct JsonFinding<'a> {
    pub rule: &'a str,
    pub provider: &'a str,
    pub name: &'a str,
    pub severity: &'static str,
    pub source: &'static str,
    /// History audits of several repositories: which one (as the user named it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<&'a str>,
    pub path: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// Columns counted in Unicode code points, written only where they differ from the byte
    /// columns (a line with non-ASCII text before the secret), so a report read back renders
    /// SARIF's `unicodeCodePoints` regions exactly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub char_column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub char_end_column: Option<usize>,
    pub redacted: String,
    pub fingerprint: &'a str,
    pub snippet: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<&'a CommitInfo>,
    pub remediation: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoke_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<&'a crate::finding::Verdict>,
    /// Only with `--show-suppressed`: what silenced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<&'a str>,
}

impl<'a> JsonFinding<'a> {
    pub(crate) fn new(f: &'a Finding, rules: &'a RuleSet, show_secrets: bool) -> JsonFinding<'a> {
        let rule = &rules.rules[f.rule];
        use crate::finding::Provenance::*;
        JsonFinding {
            rule: &f.rule_id,
            provider: &f.provider,
            name: &rule.name,
            severity: rule.severity.as_str(),
            source: match f.provenance {
                File { .. } => "file",
                Stdin => "stdin",
                Staged { .. } => "staged",
                Commit { .. } => "commit",
                Unreachable { .. } => "unreachable",
            },
            repository: f.repository.as_deref(),
            path: f.provenance.path(),
            line: f.location.line,
            column: f.location.column,
            end_line: f.location.end_line,
            end_column: f.location.end_column,
            char_column: (f.location.char_column != f.location.column)
                .then_some(f.location.char_column),
            char_end_column: (f.location.char_end_column != f.location.end_column)
                .then_some(f.location.char_end_column),
            redacted: f.redacted.clone(),
            fingerprint: &f.fingerprint,
            snippet: &f.snippet,
            encoding: f.encoding,
            commit: f.provenance.commit(),
            remediation: &rule.remediation,
            revoke_url: rule.revoke_url.as_deref(),
            verification: f.verification.as_ref(),
            suppressed: f.suppressed,
            secret: show_secrets.then_some(f.secret.as_str()),
        }
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
    summary: &'a Summary,
}

pub(crate) fn write(
    out: &mut dyn Write,
    findings: &[Finding],
    rules: &RuleSet,
    summary: &Summary,
    opts: &ReportOptions,
) -> io::Result<()> {
    let report = JsonReport {
        version: VERSION,
        findings: findings
            .iter()
            .map(|f| JsonFinding::new(f, rules, opts.show_secrets))
            .collect(),
        summary,
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}

pub(crate) fn write_lines(
    out: &mut dyn Write,
    findings: &[Finding],
    rules: &RuleSet,
    opts: &ReportOptions,
) -> io::Result<()> {
    for f in findings {
        serde_json::to_writer(&mut *out, &JsonFinding::new(f, rules, opts.show_secrets))?;
        writeln!(out)?;
    }
    Ok(())
}

/// A report as read back: by `keyhound verify --from` (to check its keys) and `keyhound merge`
/// (to join shard reports). `version` must be present and ours (checked by [`read`] first), so
/// SARIF, `{}` or `[]` are refused, not read as empty.
#[derive(Deserialize)]
struct ReadReport {
    findings: Vec<ReadFinding>,
    summary: Summary,
}

/// A finding as [`JsonFinding`] writes it; what the rule set gives again (name, severity,
/// remediation, provider) and what is computed from the secret (fingerprint, redacted form)
/// is not read.
#[derive(Deserialize)]
struct ReadFinding {
    rule: String,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    repository: Option<String>,
    #[serde(default)]
    path: String,
    #[serde(default)]
    line: usize,
    #[serde(default)]
    column: usize,
    #[serde(default)]
    end_line: usize,
    #[serde(default)]
    end_column: usize,
    #[serde(default)]
    char_column: Option<usize>,
    #[serde(default)]
    char_end_column: Option<usize>,
    #[serde(default)]
    snippet: String,
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default)]
    commit: Option<CommitInfo>,
    #[serde(default)]
    verification: Option<crate::finding::Verdict>,
    #[serde(default)]
    suppressed: Option<Suppression>,
}

/// A keyhound JSON report read back whole: its findings (with their commit, repository,
/// verdict and suppression) and its summary.
#[derive(Debug)]
pub(crate) struct ReadBack {
    pub findings: Vec<Finding>,
    pub summary: Summary,
}

/// Read a keyhound JSON report (made with `--show-secrets`) whole. Any other JSON, a report
/// without secrets, or a rule this run does not know is an error.
pub(crate) fn read(
    path: &std::path::Path,
    rules: &RuleSet,
) -> Result<ReadBack, crate::error::Error> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| crate::error::Error::new(format!("{shown}: cannot read report: {e}")))?;
    // Each problem in words a user knows, never serde's (`invalid length 0, expected struct
    // ReadReport with 3 elements` for `[]`, issue 19 item 26) nor the file's content (a
    // parser's message can quote a value: a secret).
    let not_report = |why: String| {
        crate::error::Error::new(format!(
            "{shown}: not a keyhound JSON report: {why} (make one with `keyhound scan --format json --show-secrets`)"
        ))
    };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        not_report(format!(
            "not JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let kind = match &value {
        serde_json::Value::Object(_) => None,
        serde_json::Value::Array(_) => Some("a list"),
        serde_json::Value::String(_) => Some("a string"),
        serde_json::Value::Number(_) => Some("a number"),
        serde_json::Value::Bool(_) => Some("true or false"),
        serde_json::Value::Null => Some("null"),
    };
    if let Some(kind) = kind {
        return Err(not_report(format!(
            "it holds {kind}, where a report is an object with \"version\", \"findings\" and \"summary\""
        )));
    }
    match value.get("version").map(serde_json::Value::as_u64) {
        None => return Err(not_report("it has no \"version\"".into())),
        Some(Some(v)) if v == u64::from(VERSION) => {}
        Some(None) => {
            return Err(not_report(
                "its \"version\" is not a number (SARIF, or another tool's JSON?)".into(),
            ))
        }
        Some(Some(v)) => {
            return Err(crate::error::Error::new(format!(
                "{shown}: keyhound JSON report version {v} is not supported (this keyhound reads version {VERSION})"
            )))
        }
    }
    for field in ["findings", "summary"] {
        if value.get(field).is_none() {
            return Err(not_report(format!("it has no \"{field}\"")));
        }
    }
    let report: ReadReport = serde_json::from_value(value).map_err(|e| {
        // Keep the kind of problem only: the rest may quote the value.
        let e = e.to_string();
        let why = if e.starts_with("missing field") {
            e
        } else {
            "a field holds a value of the wrong type".to_string()
        };
        not_report(why)
    })?;
    let mut findings = Vec::with_capacity(report.findings.len());
    let mut prefixes: std::collections::HashMap<usize, Vec<String>> = Default::default();
    for (i, f) in report.findings.into_iter().enumerate() {
        let Some(secret) = f.secret else {
            return Err(crate::error::Error::new(format!(
                "{shown}: finding {} has no secret; make the report with --show-secrets",
                i + 1
            )));
        };
        let Some(rule) = rules.index_of(&f.rule) else {
            return Err(crate::error::Error::new(format!(
                "{shown}: finding {} names rule \"{}\", which is no rule",
                i + 1,
                f.rule
            )));
        };
        let path = if f.path.is_empty() {
            "-".into()
        } else {
            f.path
        };
        let provenance = match (f.source.as_deref(), f.commit) {
            (Some("stdin"), _) => Provenance::Stdin,
            (Some("staged"), _) => Provenance::Staged { path },
            (Some("unreachable"), _) => Provenance::Unreachable { path },
            (_, Some(mut commit)) => {
                // The time orders commits (the earliest introduction of a secret); the date
                // written is the author date, to the second.
                commit.time = crate::dates::parse_since(&commit.date, 0).unwrap_or(0);
                Provenance::Commit { path, commit }
            }
            _ => Provenance::File { path },
        };
        let prefixes = prefixes
            .entry(rule)
            .or_insert_with(|| crate::rules::prefix::known_prefixes(&rules.rules[rule]));
        let prefix = crate::rules::prefix::known_prefix(prefixes, &secret);
        findings.push(Finding {
            rule,
            provider: rules.rules[rule].provider.clone(),
            fingerprint: crate::fingerprint::fingerprint(&f.rule, secret.as_bytes()),
            redacted: crate::redact::redact_after(&secret, prefix),
            rule_id: f.rule,
            secret,
            location: Location {
                line: f.line,
                column: f.column,
                end_line: f.end_line,
                end_column: f.end_column,
                char_column: f.char_column.unwrap_or(f.column),
                char_end_column: f.char_end_column.unwrap_or(f.end_column),
            },
            snippet: f.snippet,
            // The encodings a finding can name (`detect`); an unknown one is dropped.
            encoding: match f.encoding.as_deref() {
                Some("base64") => Some("base64"),
                Some("json-escape") => Some("json-escape"),
                Some("percent-encoding") => Some("percent-encoding"),
                _ => None,
            },
            provenance,
            blob: None,
            repository: f.repository,
            verification: f.verification,
            allowed: false,
            suppressed: f.suppressed,
        });
    }
    Ok(ReadBack {
        findings,
        summary: report.summary,
    })
}
