//! `--format gitlab`: the secret-detection report GitLab's security dashboard and merge-request
//! widget read (`artifacts: reports: secret_detection: gl-secret-detection-report.json`), in the
//! shape of GitLab's report schema version [`SCHEMA_VERSION`].
//!
//! Fields follow `secret-detection-report-format.json` as GitLab vendors it for validation
//! (gitlabhq `lib/gitlab/ci/parsers/security/validators/schemas/15.1.4/`): top-level `version`,
//! `vulnerabilities` and `scan` are required; each vulnerability needs `id`, `identifiers` (at
//! least one `{type, name, value}`) and `location.commit.sha`; `scan` needs `analyzer` and
//! `scanner` (`id`, `name`, `version`, `vendor.name`), `type` = `secret_detection`, `status` and
//! `start_time`/`end_time` as `yyyy-mm-ddThh:mm:ss` (UTC, no zone). GitLab refuses a report that
//! fails the schema, so the integration test checks every one of them.
//!
//! What it deliberately does not do: carry the secret. `raw_source_code_extract` (described in the
//! schema as an unsanitized excerpt) holds the redacted secret, even with `--show-secrets`: the
//! artifact and the vulnerability report are readable by everyone on the project, as SARIF alerts
//! are. Suppressed findings (`--show-suppressed`) are left out: GitLab has no notion of an
//! accepted finding and would show them as open. `scan.messages` (`warn`) says when the scan is
//! incomplete, and carries a range's notices: a policy file the merge request changes, a
//! `keyhound:allow` it adds (issue 19 item 22), where a reviewer reads the report.
//!
//! Determinism: a vulnerability's `id` is a UUID derived from the finding's fingerprint, path,
//! position and commit, so the same finding has the same id in every run. Only `start_time` and
//! `end_time` come from the clock (the end is when the report is written, the start that minus
//! the run's elapsed time).

use std::io::{self, Write};

use serde::Serialize;

use super::{ReportOptions, Summary};
use crate::finding::{Finding, Status};
use crate::rules::{Rule, RuleSet, Severity};

/// The schema version the report declares. GitLab 17.0 and later validate 15.1.x; a report
/// declaring a MINOR it does not vendor is not ingested, so this moves only with GitLab.
pub const SCHEMA_VERSION: &str = "15.1.4";

/// Where that schema is published.
pub const SCHEMA_URL: &str = "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v15.1.4/dist/secret-detection-report-format.json";

/// `location.commit.sha` is required; a finding in a work tree, the index or stdin has no commit.
/// GitLab's own secret detection writes this placeholder in that case.
pub const NO_COMMIT: &str = "0000000";

/// Schema limits on free text (`maxLength`).
const NAME_MAX: usize = 255;
const SOLUTION_MAX: usize = 7000;

#[derive(Serialize)]
struct Report<'a> {
    version: &'static str,
    schema: &'static str,
    scan: Scan,
    vulnerabilities: Vec<Vulnerability<'a>>,
}

#[derive(Serialize)]
struct Scan {
    analyzer: Tool,
    scanner: Tool,
    #[serde(rename = "type")]
    kind: &'static str,
    start_time: String,
    end_time: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    messages: Vec<Message>,
}

#[derive(Serialize)]
struct Tool {
    id: &'static str,
    name: &'static str,
    version: &'static str,
    vendor: Vendor,
}

#[derive(Serialize)]
struct Vendor {
    name: &'static str,
}

#[derive(Serialize)]
struct Message {
    level: &'static str,
    value: String,
}

#[derive(Serialize)]
struct Vulnerability<'a> {
    id: String,
    /// Not in the 15.x schema (it dropped the field) but allowed there, and still read by
    /// importers of older reports.
    category: &'static str,
    name: String,
    description: String,
    severity: &'static str,
    solution: String,
    identifiers: Vec<Identifier<'a>>,
    location: Location<'a>,
    raw_source_code_extract: String,
}

#[derive(Serialize)]
struct Identifier<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
    value: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

#[derive(Serialize)]
struct Location<'a> {
    file: &'a str,
    start_line: usize,
    end_line: usize,
    commit: Commit<'a>,
}

#[derive(Serialize)]
struct Commit<'a> {
    sha: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

/// GitLab's severity: the rule's, raised to `Critical` when `--verify` found the key live.
fn severity(rule: &Rule, f: &Finding) -> &'static str {
    if f.verification.as_ref().map(|v| v.status) == Some(Status::Live) {
        return "Critical";
    }
    match rule.severity {
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
    }
}

/// A stable UUID for a finding (RFC 9562 version 8: 122 bits of a SHA-256 over the
/// fingerprint, path, position and commit).
pub fn vulnerability_id(f: &Finding) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [
        f.fingerprint.as_str(),
        f.provenance.path(),
        &f.location.line.to_string(),
        &f.location.column.to_string(),
        f.provenance.commit().map_or("", |c| c.id.as_str()),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let mut b: [u8; 16] = h.finalize()[..16].try_into().expect("16 of 32 bytes");
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// `yyyy-mm-ddThh:mm:ss` in UTC, the only form the schema's `start_time`/`end_time` accept.
pub fn schema_time(secs: i64) -> String {
    let full = crate::scan::history::rfc3339(secs, 0);
    full.trim_end_matches("+00:00").to_string()
}

/// At most `max` characters of `s`, ending in `…` when cut.
fn clip(s: String, max: usize) -> String {
    if s.chars().count() <= max {
        return s;
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

fn vulnerability<'a>(f: &'a Finding, rule: &'a Rule) -> Vulnerability<'a> {
    let shown = f.redacted.clone();
    let commit = f.provenance.commit();
    let mut description = format!(
        "{} ({} credential) found: `{shown}`",
        rule.name, rule.provider
    );
    if let Some(encoding) = f.encoding {
        description.push_str(&format!(" (inside {encoding} text)"));
    }
    if let Some(c) = commit {
        description.push_str(&format!(
            ", introduced in commit {} by {} on {}",
            &c.id[..c.id.len().min(12)],
            c.author,
            c.date
        ));
    }
    description.push('.');
    if let Some(v) = &f.verification {
        description.push_str(&format!(
            " Verification: {} ({}).",
            v.status.as_str(),
            v.reason
        ));
    }
    let mut solution = rule.remediation.clone();
    if let Some(url) = &rule.revoke_url {
        solution.push_str(&format!(" Revoke or rotate it: {url}"));
    }
    solution.push_str(
        " A key in a repository is a key in every clone and fork: rotate it even after removing it.",
    );
    let url = rule
        .references
        .first()
        .map(String::as_str)
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"));
    Vulnerability {
        id: vulnerability_id(f),
        category: "secret_detection",
        name: clip(rule.name.clone(), NAME_MAX),
        description,
        severity: severity(rule, f),
        solution: clip(solution, SOLUTION_MAX),
        identifiers: vec![Identifier {
            kind: "keyhound_rule_id",
            name: clip(format!("keyhound rule {}", rule.id), NAME_MAX),
            value: &rule.id,
            url,
        }],
        location: Location {
            file: f.provenance.path(),
            start_line: f.location.line,
            end_line: f.location.end_line,
            commit: match commit {
                Some(c) => Commit {
                    sha: &c.id,
                    // The name only: the e-mail address stays out of a project-wide dashboard.
                    author: Some(&c.author),
                    date: Some(&c.date),
                    message: Some(&c.summary),
                },
                None => Commit {
                    sha: NO_COMMIT,
                    author: None,
                    date: None,
                    message: None,
                },
            },
        },
        raw_source_code_extract: shown,
    }
}

/// Write the report; `end` is the time the scan finished (seconds since the epoch).
pub fn write_at(
    out: &mut dyn Write,
    findings: &[Finding],
    rules: &RuleSet,
    summary: &Summary,
    end: i64,
) -> io::Result<()> {
    let start = end - (summary.elapsed_ms / 1000) as i64;
    let tool = || Tool {
        id: "keyhound",
        name: "keyhound",
        version: env!("CARGO_PKG_VERSION"),
        vendor: Vendor { name: "keyhound" },
    };
    let mut messages = Vec::new();
    if summary.incomplete {
        messages.push(Message {
            level: "warn",
            value: format!(
                "{} blob(s) could not be read; the scan is incomplete (see the job log)",
                summary.errors
            ),
        });
    }
    // A range's notices (issue 19 item 22): what the merge request changed in the policy or
    // allow-listed inline, for the reviewer.
    for notice in &summary.notices {
        messages.push(Message {
            level: "warn",
            value: format!("keyhound notice: {}", notice.message),
        });
    }
    let report = Report {
        version: SCHEMA_VERSION,
        schema: SCHEMA_URL,
        scan: Scan {
            analyzer: tool(),
            scanner: tool(),
            kind: "secret_detection",
            start_time: schema_time(start),
            end_time: schema_time(end),
            status: if summary.incomplete {
                "failure"
            } else {
                "success"
            },
            messages,
        },
        vulnerabilities: findings
            .iter()
            .filter(|f| f.suppressed.is_none())
            .map(|f| vulnerability(f, &rules.rules[f.rule]))
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}

/// Write the report, ending the scan now.
pub fn write(
    out: &mut dyn Write,
    findings: &[Finding],
    rules: &RuleSet,
    summary: &Summary,
    _opts: &ReportOptions,
) -> io::Result<()> {
    write_at(out, findings, rules, summary, crate::scan::history::now())
}

#[cfg(test)]
mod tests {
    use super::{clip, schema_time};

    #[test]
    fn times_have_the_schema_shape() {
        assert_eq!(schema_time(0), "1970-01-01T00:00:00");
        assert_eq!(schema_time(1_700_000_000), "2023-11-14T22:13:20");
    }

    #[test]
    fn long_text_is_clipped_to_the_schema_limit() {
        assert_eq!(clip("abc".into(), 3), "abc");
        assert_eq!(clip("abcd".into(), 3), "ab…");
        assert_eq!(clip("é".repeat(300), 255).chars().count(), 255);
    }
}
