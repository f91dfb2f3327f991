//! The default, human report: one block per finding with `path:line:column`, rule, provider,
//! the redacted secret, the redacted line and what to do.

use std::io::{self, Write};

use super::style::Style;
use super::ReportOptions;
use crate::finding::Finding;
use crate::rules::RuleSet;

/// A path as one line: control characters (a newline in a file name) shown escaped, so a
/// hostile file name cannot forge report lines or drive the terminal.
fn escape_control(path: &str) -> String {
    path.chars()
        .flat_map(|c| match c {
            '\n' => vec!['\\', 'n'],
            '\r' => vec!['\\', 'r'],
            '\t' => vec!['\\', 't'],
            c if c.is_control() => vec!['?'],
            c => vec![c],
        })
        .collect()
}

pub fn write(
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
            style.path(&escape_control(f.provenance.path())),
            f.location.line,
            f.location.column,
            style.rule(&f.rule_id),
            style.dim(&format!("({}; provider: {})", rule.name, f.provider)),
        )?;
        let encoded = match f.encoding {
            Some(encoding) => format!(" (inside {encoding} text)"),
            None => String::new(),
        };
        writeln!(out, "  secret:  {}{encoded}", style.secret(&shown))?;
        if let Some(repository) = &f.repository {
            writeln!(out, "  repo:    {}", escape_control(repository))?;
        }
        if let Some(why) = f.suppressed {
            writeln!(
                out,
                "  {}",
                style.dim(&format!("suppressed by {} (not counted)", why.as_str()))
            )?;
        }
        if !f.snippet.is_empty() {
            writeln!(out, "  line:    {}", f.snippet)?;
        }
        if let Some(v) = &f.verification {
            let status = v.status.as_str().to_ascii_uppercase();
            let status = if v.status == crate::verify::Status::Live {
                style.rule(&status)
            } else {
                style.dim(&status)
            };
            writeln!(out, "  verify:  {status}: {}", v.reason)?;
            if !v.metadata.is_empty() {
                let reach: Vec<String> =
                    v.metadata.iter().map(|(k, x)| format!("{k}={x}")).collect();
                writeln!(out, "  reach:   {}", reach.join(", "))?;
            }
        }
        if let Some(c) = f.provenance.commit() {
            writeln!(
                out,
                "  commit:  {} {} <{}> {} {}",
                &c.id[..c.id.len().min(12)],
                c.author,
                c.email,
                c.date,
                c.summary
            )?;
        }
        if !rule.remediation.is_empty() {
            writeln!(out, "  fix:     {}", rule.remediation)?;
        }
        if let Some(url) = &rule.revoke_url {
            writeln!(out, "  revoke:  {url}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}
