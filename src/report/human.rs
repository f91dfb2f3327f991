//! The default, human report: one block per finding with `path:line:column`, rule, provider,
//! the redacted secret, the redacted line and what to do. Every value from outside (paths,
//! commit authors and subjects, rule names and texts of a repository's own rules, provider
//! answers) goes through [`escape`], so a hostile one cannot forge report lines or drive the
//! terminal (issue 19 item 14).

use std::io::{self, Write};

use super::style::Style;
use super::ReportOptions;
use crate::diag::escape;
use crate::finding::Finding;
use crate::rules::RuleSet;

pub(crate) fn write(
    out: &mut dyn Write,
    findings: &[Finding],
    rules: &RuleSet,
    opts: &ReportOptions,
) -> io::Result<()> {
    let style = Style { color: opts.color };
    for f in findings {
        let rule = &rules.rules[f.rule];
        let shown = if opts.show_secrets {
            f.secret.clone()
        } else {
            f.redacted.clone()
        };
        writeln!(
            out,
            "{}:{}:{}: {} {}",
            style.path(&escape(f.provenance.path())),
            f.location.line,
            f.location.column,
            style.rule(&escape(&f.rule_id)),
            style.dim(&escape(&format!(
                "({}; provider: {})",
                rule.name, f.provider
            ))),
        )?;
        let encoded = match f.encoding {
            Some(encoding) => format!(" (inside {encoding} text)"),
            None => String::new(),
        };
        writeln!(out, "  secret:  {}{encoded}", style.secret(&escape(&shown)))?;
        if let Some(repository) = &f.repository {
            writeln!(out, "  repo:    {}", escape(repository))?;
        }
        if let Some(why) = f.suppressed {
            writeln!(
                out,
                "  {}",
                style.dim(&format!("suppressed by {} (not counted)", why.as_str()))
            )?;
        }
        if !f.snippet.is_empty() {
            writeln!(out, "  line:    {}", escape(&f.snippet))?;
        }
        if let Some(v) = &f.verification {
            let status = v.status.as_str().to_ascii_uppercase();
            let status = if v.status == crate::verify::Status::Live {
                style.rule(&status)
            } else {
                style.dim(&status)
            };
            writeln!(out, "  verify:  {status}: {}", escape(&v.reason))?;
            if !v.metadata.is_empty() {
                let reach: Vec<String> =
                    v.metadata.iter().map(|(k, x)| format!("{k}={x}")).collect();
                writeln!(out, "  reach:   {}", escape(&reach.join(", ")))?;
            }
        }
        if let Some(c) = f.provenance.commit() {
            let line = format!(
                "{} {} <{}> {} {}",
                &c.id[..c.id.len().min(12)],
                c.author,
                c.email,
                c.date,
                c.summary
            );
            writeln!(out, "  commit:  {}", escape(&line))?;
        }
        if !rule.remediation.is_empty() {
            writeln!(out, "  fix:     {}", escape(&rule.remediation))?;
        }
        if let Some(url) = &rule.revoke_url {
            writeln!(out, "  revoke:  {}", escape(url))?;
        }
        writeln!(out)?;
    }
    Ok(())
}
