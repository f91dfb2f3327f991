//! `--format github`: GitHub Actions workflow commands, one line per finding, so findings show
//! inline on the pull request without code scanning:
//! `::error file=PATH,line=L,col=C,endLine=L2,endColumn=C2,title=RULE::MESSAGE`.
//!
//! `error` for a high-severity rule or a key `--verify` found live, `warning` for medium,
//! `notice` for low. Escaping is the one GitHub's own toolkit applies (`actions/toolkit`,
//! `packages/core/src/command.ts`): in the message `%`, `\r`, `\n` become `%25`, `%0D`, `%0A`;
//! in a property `:` and `,` also become `%3A` and `%2C`. So a hostile file name or commit
//! summary cannot end the line early and forge a second command.
//!
//! The secret is always redacted (the log of a public repository's workflow is public), and
//! suppressed findings are left out. GitHub shows at most 10 annotations of each level per step
//! (`actions/toolkit` `docs/problem-matchers.md`); the rest stay in the log, and a closing
//! `::notice::` says so when that happens.
//!
//! A range's notices (a policy file the pull request changes, a `keyhound:allow` it adds:
//! issue 19 item 22) follow the findings as `::warning` annotations titled `keyhound notice`,
//! on the file (and line) they are about, so a reviewer sees them on the pull request.

use std::io::{self, Write};

use super::ReportOptions;
use crate::finding::{Finding, Provenance, Status};
use crate::rules::{RuleSet, Severity};
use crate::summary::Summary;

/// Annotations of one level GitHub shows for a step.
pub(crate) const SHOWN_PER_LEVEL: usize = 10;

/// Escape workflow-command data (the message).
pub(crate) fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a workflow-command property value.
pub(crate) fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(f: &Finding, severity: Severity) -> &'static str {
    if f.verification.as_ref().map(|v| v.status) == Some(Status::Live) {
        return "error";
    }
    match severity {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "notice",
    }
}

pub(crate) fn write(
    out: &mut dyn Write,
    findings: &[Finding],
    rules: &RuleSet,
    summary: &Summary,
    _opts: &ReportOptions,
) -> io::Result<()> {
    let mut per_level = std::collections::BTreeMap::<&str, usize>::new();
    for f in findings.iter().filter(|f| f.suppressed.is_none()) {
        let rule = &rules.rules[f.rule];
        let level = command(f, rule.severity);
        *per_level.entry(level).or_default() += 1;
        let mut props = Vec::new();
        if !matches!(f.provenance, Provenance::Stdin) {
            let l = &f.location;
            props.push(format!("file={}", escape_property(f.provenance.path())));
            props.push(format!("line={}", l.line));
            props.push(format!("col={}", l.char_column));
            props.push(format!("endLine={}", l.end_line));
            props.push(format!("endColumn={}", l.char_end_column));
        }
        props.push(format!("title={}", escape_property(&f.rule_id)));
        let mut message = format!("{} found: {}", rule.name, f.redacted);
        if let Some(encoding) = f.encoding {
            message.push_str(&format!(" (inside {encoding} text)"));
        }
        if let Some(c) = f.provenance.commit() {
            message.push_str(&format!(
                ", introduced in commit {} by {} on {} ({})",
                &c.id[..c.id.len().min(12)],
                c.author,
                c.date,
                c.summary
            ));
        }
        message.push('.');
        if let Some(v) = &f.verification {
            message.push_str(&format!(
                " Verification: {} ({}).",
                v.status.as_str(),
                v.reason
            ));
        }
        if !rule.remediation.is_empty() {
            message.push_str(&format!("\n{}", rule.remediation));
        }
        // Most remediations already say where to revoke (issue 19 item 26: "Revoke" twice).
        if let Some(url) = rule
            .revoke_url
            .as_ref()
            .filter(|url| !rule.remediation.contains(url.as_str()))
        {
            message.push_str(&format!("\nRevoke or rotate it: {url}"));
        }
        writeln!(
            out,
            "::{level} {}::{}",
            props.join(","),
            escape_data(&message)
        )?;
    }
    for notice in &summary.notices {
        *per_level.entry("warning").or_default() += 1;
        let mut props = Vec::new();
        if let Some(path) = &notice.path {
            props.push(format!("file={}", escape_property(path)));
            if let Some(line) = notice.line {
                props.push(format!("line={line}"));
            }
        }
        props.push("title=keyhound notice".to_string());
        writeln!(
            out,
            "::warning {}::{}",
            props.join(","),
            escape_data(&notice.message)
        )?;
    }
    let hidden: usize = per_level
        .values()
        .map(|n| n.saturating_sub(SHOWN_PER_LEVEL))
        .sum();
    if hidden > 0 {
        writeln!(
            out,
            "::notice title=keyhound::{}",
            escape_data(&format!(
                "{hidden} more finding(s) than GitHub shows as annotations ({SHOWN_PER_LEVEL} per level and step): every finding is listed in this step's log."
            ))
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{escape_data, escape_property};

    #[test]
    fn escaping_follows_the_toolkit() {
        let cases = [
            ("plain", "plain", "plain"),
            ("100%", "100%25", "100%25"),
            ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
            ("a:b,c", "a:b,c", "a%3Ab%2Cc"),
            ("%0A", "%250A", "%250A"),
            (
                "x\n::error::forged",
                "x%0A::error::forged",
                "x%0A%3A%3Aerror%3A%3Aforged",
            ),
        ];
        for (input, data, property) in cases {
            assert_eq!(escape_data(input), data, "{input:?}");
            assert_eq!(escape_property(input), property, "{input:?}");
        }
    }
}
