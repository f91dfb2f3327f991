//! JSON (`{"version": 1, "findings": [...], "summary": {...}}`) and JSON Lines (one finding a
//! line). Field names are the glossary's nouns in snake_case; `secret` appears only with
//! `--show-secrets`.

use std::io::{self, Write};

use serde::Serialize;

use super::{ReportOptions, Summary};
use crate::finding::{CommitInfo, Finding};
use crate::redact::redact;
use crate::rules::RuleSet;

/// Version of the JSON report shape.
pub const VERSION: u32 = 1;

/// One finding as written in JSON.
#[derive(Serialize)]
pub struct JsonFinding<'a> {
    pub rule: &'a str,
    pub provider: &'a str,
    pub name: &'a str,
    pub severity: &'static str,
    pub source: &'static str,
    pub path: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
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
    pub verification: Option<&'a crate::verify::Verdict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<&'a str>,
}

impl<'a> JsonFinding<'a> {
    pub fn new(f: &'a Finding, rules: &'a RuleSet, show_secrets: bool) -> JsonFinding<'a> {
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
            path: f.provenance.path(),
            line: f.location.line,
            column: f.location.column,
            end_line: f.location.end_line,
            end_column: f.location.end_column,
            redacted: redact(&f.secret),
            fingerprint: &f.fingerprint,
            snippet: &f.snippet,
            encoding: f.encoding,
            commit: f.provenance.commit(),
            remediation: &rule.remediation,
            revoke_url: rule.revoke_url.as_deref(),
            verification: f.verification.as_ref(),
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

pub fn write(
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

pub fn write_lines(
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
