//! The page's lists: one table row per audited repository with its coverage gaps, one card per
//! finding (rule, location, commit, verdict, fix, revoke link), and the blobs not scanned.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use super::{esc, plural, Totals, Verdict};
use crate::finding::Finding;
use crate::report::{skip_text, ReportOptions};
use crate::rules::RuleSet;
use crate::summary::{Coverage, Summary};

/// Skipped blobs named on the page; the JSON report has them all.
const SKIPPED_LISTED: usize = 500;

/// A history audit's coverage record is incomplete, failed or missed objects.
pub(super) fn has_gap(c: &Coverage) -> bool {
    c.incomplete || c.error.is_some() || c.objects_missing > 0
}

/// One row per audited repository, gaps highlighted, with its secrets and findings.
pub(super) fn repositories(
    out: &mut dyn Write,
    summary: &Summary,
    findings: &[Finding],
) -> io::Result<()> {
    let coverage = &summary.coverage;
    // A whole-list audit's report has no counts of work (blobs read, times): no zero columns.
    let work = !summary.whole_list_audit();
    if coverage.is_empty() {
        return Ok(());
    }
    // repository -> (fingerprints, findings)
    let mut found: HashMap<&str, (BTreeMap<&str, ()>, usize)> = HashMap::new();
    for f in findings.iter().filter(|f| f.suppressed.is_none()) {
        if let Some(r) = &f.repository {
            let e = found.entry(r.as_str()).or_default();
            e.0.insert(&f.fingerprint, ());
            e.1 += 1;
        }
    }
    let single = coverage.len() == 1;
    writeln!(
        out,
        "<section><h2>Repositories <span class=\"count\">({})</span></h2>\
         <div class=\"panel table-wrap\"><table>\n<thead><tr><th>Repository</th><th>Coverage</th>\
         <th class=\"num\">Secrets</th><th class=\"num\">Findings</th><th class=\"num\">Refs</th>\
         <th class=\"num\">Commits</th><th class=\"num\">Blobs</th>{}\
         <th class=\"num\">Missing objects</th>{}</tr></thead>\n<tbody>",
        coverage.len(),
        if work {
            "<th class=\"num\">Scanned</th><th class=\"num\">Shared</th>"
        } else {
            ""
        },
        if work {
            "<th class=\"num\">Time</th>"
        } else {
            ""
        },
    )?;
    for c in coverage {
        let (secrets, n) = match found.get(c.repository.as_str()) {
            Some((s, n)) => (s.len(), *n),
            // A single repository's findings carry no repository name: they are all its own.
            None if single => {
                let counted: Vec<&Finding> =
                    findings.iter().filter(|f| f.suppressed.is_none()).collect();
                let mut fps: Vec<&str> = counted.iter().map(|f| f.fingerprint.as_str()).collect();
                fps.sort_unstable();
                fps.dedup();
                (fps.len(), counted.len())
            }
            None => (0, 0),
        };
        let status = match (&c.error, c.incomplete || c.objects_missing > 0) {
            (Some(e), _) => format!("<span class=\"status failed\">failed</span> {}", esc(e)),
            (None, true) => format!(
                "<span class=\"status gap\">incomplete</span>{}",
                if c.objects_missing > 0 {
                    format!(" ({} objects missing)", c.objects_missing)
                } else {
                    " (something could not be read)".to_string()
                }
            ),
            (None, false) => "<span class=\"status ok\">complete</span>".to_string(),
        };
        let read = if work {
            format!(
                "<td class=\"num\">{}</td><td class=\"num\">{}</td>",
                c.blobs_scanned, c.blobs_shared
            )
        } else {
            String::new()
        };
        let time = if work {
            format!(
                "<td class=\"num\">{:.1} s</td>",
                c.elapsed_ms as f64 / 1000.0
            )
        } else {
            String::new()
        };
        writeln!(
            out,
            "<tr{}><td><code>{}</code></td><td>{status}</td><td class=\"num\">{secrets}</td>\
             <td class=\"num\">{n}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td>{read}<td class=\"num\">{}</td>{time}</tr>",
            if has_gap(c) { " class=\"gap\"" } else { "" },
            esc(&c.repository),
            c.refs,
            c.commits,
            c.blobs,
            c.objects_missing,
        )?;
    }
    writeln!(
        out,
        "</tbody></table></div><p class=\"note\">{}A repository with a gap may hold secrets \
         this page does not list: audit it again.</p></section>",
        if work {
            "Shared blobs were scanned once for another repository of the run (forks share \
             history). "
        } else {
            "Blobs: what each repository's history reaches (the blobs read and the times are in \
             each shard's report and on the audit's stderr). "
        }
    )
}

/// Every finding as a card: live first, then the ones that may be live (a stable sort, so the
/// report's own order stays within each verdict), suppressed ones last.
pub(super) fn findings_list(
    out: &mut dyn Write,
    findings: &[Finding],
    rules: &RuleSet,
    totals: &Totals,
    opts: &ReportOptions,
) -> io::Result<()> {
    let mut findings: Vec<&Finding> = findings.iter().collect();
    findings.sort_by_key(|f| (f.suppressed.is_some(), Verdict::of(f, totals.verified)));
    writeln!(
        out,
        "<section><h2>Findings <span class=\"count\">({})</span></h2>",
        findings.len()
    )?;
    if findings.is_empty() {
        writeln!(out, "<p class=\"note\">No findings.</p></section>")?;
        return Ok(());
    }
    for (i, f) in findings.iter().enumerate() {
        let rule = &rules.rules[f.rule];
        let v = Verdict::of(f, totals.verified);
        let shown = if opts.show_secrets {
            f.secret.clone()
        } else {
            f.redacted.clone()
        };
        let mut where_ = String::new();
        if let Some(r) = &f.repository {
            where_.push_str(&format!("<code>{}</code> · ", esc(r)));
        }
        where_.push_str(&format!(
            "<code>{}:{}:{}</code>",
            esc(f.provenance.path()),
            f.location.line,
            f.location.column
        ));
        writeln!(
            out,
            "<article class=\"finding {}{}\" id=\"finding-{}\"><header><span class=\"badge {}\">{}</span>\
             <h3>{}</h3><code>{}</code><span class=\"tag\">{} · severity {}</span>{}</header>\
             <p class=\"where\">{where_}</p><dl>",
            v.class(),
            if f.suppressed.is_some() {
                " suppressed"
            } else {
                ""
            },
            i + 1,
            v.class(),
            v.label(),
            esc(&rule.name),
            esc(&f.rule_id),
            esc(&f.provider),
            rule.severity.as_str(),
            match f.suppressed {
                Some(why) => format!(
                    "<span class=\"badge muted\">suppressed by {}</span>",
                    esc(why.as_str())
                ),
                None => String::new(),
            }
        )?;
        writeln!(
            out,
            "<dt>Secret</dt><dd><code class=\"secret\">{}</code>{}</dd>",
            esc(&shown),
            if f.encoding.is_some() {
                " <span class=\"tag\">inside base64 text</span>"
            } else {
                ""
            }
        )?;
        if !f.snippet.is_empty() {
            writeln!(
                out,
                "<dt>Line</dt><dd><code>{}</code></dd>",
                esc(&f.snippet)
            )?;
        }
        if let Some(c) = f.provenance.commit() {
            writeln!(
                out,
                "<dt>Commit</dt><dd><code>{}</code> {} · {} &lt;{}&gt; · {}</dd>",
                esc(&c.id[..c.id.len().min(12)]),
                esc(&c.summary),
                esc(&c.author),
                esc(&c.email),
                esc(&c.date)
            )?;
        }
        if let Some(verdict) = &f.verification {
            let reach: Vec<String> = verdict
                .metadata
                .iter()
                .map(|(k, x)| format!("{k}={x}"))
                .collect();
            writeln!(
                out,
                "<dt>Verdict</dt><dd>{}: {}{}</dd>",
                verdict.status.as_str(),
                esc(&verdict.reason),
                if reach.is_empty() {
                    String::new()
                } else {
                    format!(" <span class=\"tag\">({})</span>", esc(&reach.join(", ")))
                }
            )?;
        }
        if !rule.remediation.is_empty() {
            writeln!(out, "<dt>Fix</dt><dd>{}</dd>", esc(&rule.remediation))?;
        }
        if let Some(url) = &rule.revoke_url {
            // Only web addresses become links (a config rule's URL is user input).
            if url.starts_with("https://") || url.starts_with("http://") {
                writeln!(
                    out,
                    "<dt>Revoke</dt><dd><a class=\"revoke\" href=\"{0}\" rel=\"noopener noreferrer\">{0}</a></dd>",
                    esc(url)
                )?;
            } else {
                writeln!(out, "<dt>Revoke</dt><dd>{}</dd>", esc(url))?;
            }
        }
        writeln!(out, "</dl></article>")?;
    }
    writeln!(out, "</section>")
}

pub(super) fn skipped(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    if summary.skipped.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "<section class=\"panel\"><details><summary>{} item{} not scanned</summary><ul>",
        summary.skipped.len(),
        plural(summary.skipped.len())
    )?;
    for s in summary.skipped.iter().take(SKIPPED_LISTED) {
        writeln!(out, "<li><code>{}</code></li>", esc(&skip_text(s)))?;
    }
    if summary.skipped.len() > SKIPPED_LISTED {
        writeln!(
            out,
            "<li>… and {} more (the JSON report lists them all)</li>",
            summary.skipped.len() - SKIPPED_LISTED
        )?;
    }
    writeln!(out, "</ul></details></section>")
}
