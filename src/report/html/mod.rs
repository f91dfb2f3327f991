//! `--format html`: one self-contained page for people (issue 13, item 6). Totals by
//! verification verdict (live first) and by provider, the exposure timeline of a history audit
//! (first commit to now, still at a branch tip or only in history), one row per repository with
//! its coverage gaps, then every finding with its rule, location, commit, verdict, fix and revoke
//! link.
//!
//! The page loads nothing: the style sheet (`style.css`) is inlined, charts are CSS bars and one
//! inline SVG, there is no script, and a Content-Security-Policy forbids any fetch, so a report
//! opened from a CI artifact or a mail attachment cannot call out. Every text from the scan (paths,
//! commit messages, author names, repository names, provider answers) is escaped by [`esc`].
//! Secrets are redacted by [`crate::redact::redact`] unless `--show-secrets`. The page reads no
//! clock: a history audit's "as of" day comes from its secrets' exposure, so one audit gives the
//! same bytes wherever it is rendered.

use std::collections::BTreeMap;
use std::io::{self, Write};

mod findings;
#[cfg(test)]
mod tests;
mod timeline;

use super::ReportOptions;
use crate::finding::{Finding, Status};
use crate::rules::RuleSet;
use crate::summary::Summary;
use findings::{findings_list, has_gap, repositories, skipped};
use timeline::{as_of, date_of, timeline};

/// The page's style sheet, inlined.
const CSS: &str = include_str!("style.css");

/// Nothing may be fetched: styles and images only from the page itself, no script at all.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// A finding's verdict as the page groups it: `Unverified` when the run did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Verdict {
    Live,
    Unknown,
    Invalid,
    Unsupported,
    Unverified,
}

impl Verdict {
    /// Display order: live first, then the ones that may be live.
    const ALL: [Verdict; 5] = [
        Verdict::Live,
        Verdict::Unknown,
        Verdict::Invalid,
        Verdict::Unsupported,
        Verdict::Unverified,
    ];

    fn of(f: &Finding, verified: bool) -> Verdict {
        match f.verification.as_ref().map(|v| v.status) {
            Some(Status::Live) => Verdict::Live,
            Some(Status::Invalid) => Verdict::Invalid,
            Some(Status::Unsupported) => Verdict::Unsupported,
            Some(Status::Unknown) => Verdict::Unknown,
            // A verified run that has no answer for a key counts it unknown, as the summary does.
            None if verified => Verdict::Unknown,
            None => Verdict::Unverified,
        }
    }

    fn class(self) -> &'static str {
        match self {
            Verdict::Live => "live",
            Verdict::Unknown => "unknown",
            Verdict::Invalid => "invalid",
            Verdict::Unsupported => "unsupported",
            Verdict::Unverified => "unverified",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Verdict::Live => "Live",
            Verdict::Unknown => "Unknown",
            Verdict::Invalid => "Invalid",
            Verdict::Unsupported => "Unsupported",
            Verdict::Unverified => "Not verified",
        }
    }

    fn meaning(self) -> &'static str {
        match self {
            Verdict::Live => "the provider accepted the key: revoke it now",
            Verdict::Unknown => "could not be checked: treat as live",
            Verdict::Invalid => "the provider rejected the key",
            Verdict::Unsupported => "no verifier for this provider",
            Verdict::Unverified => "run with --verify to check",
        }
    }
}

/// What the page counts: reported findings (not the suppressed ones `--show-suppressed` adds)
/// and their unique secrets, by verdict and provider.
pub(super) struct Totals<'a> {
    findings: usize,
    /// Fingerprint -> (provider, verdict); a secret's verdict is its most urgent one.
    secrets: BTreeMap<&'a str, (&'a str, Verdict)>,
    verified: bool,
}

impl<'a> Totals<'a> {
    fn of(findings: &'a [Finding], summary: &Summary) -> Totals<'a> {
        let verified =
            summary.verification.is_some() || findings.iter().any(|f| f.verification.is_some());
        let mut t = Totals {
            findings: 0,
            secrets: BTreeMap::new(),
            verified,
        };
        for f in findings.iter().filter(|f| f.suppressed.is_none()) {
            t.findings += 1;
            let v = Verdict::of(f, verified);
            let e = t
                .secrets
                .entry(f.fingerprint.as_str())
                .or_insert((f.provider.as_str(), v));
            e.1 = e.1.min(v);
        }
        t
    }

    fn live(&self) -> usize {
        self.secrets
            .values()
            .filter(|(_, v)| *v == Verdict::Live)
            .count()
    }
}

/// Write the page.
pub(crate) fn write(
    out: &mut dyn Write,
    findings: &[Finding],
    rules: &RuleSet,
    summary: &Summary,
    opts: &ReportOptions,
) -> io::Result<()> {
    let totals = Totals::of(findings, summary);
    let audit = !summary.secrets.is_empty()
        || !summary.coverage.is_empty()
        || findings.iter().any(|f| f.provenance.commit().is_some());
    let title = if audit { "Secret audit" } else { "Secret scan" };
    let secrets = totals.secrets.len();
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"generator\" content=\"keyhound {}\">\n\
         <title>keyhound: {title}, {secrets} secret{}</title>\n<style>\n{CSS}</style>\n</head>\n\
         <body>\n<main>\n",
        env!("CARGO_PKG_VERSION"),
        plural(secrets),
    )?;
    header(out, title, summary)?;
    banners(out, &totals, summary, opts)?;
    cards(out, &totals, summary)?;
    writeln!(out, "<div class=\"split\">")?;
    verdicts(out, findings, &totals)?;
    providers(out, findings, &totals)?;
    writeln!(out, "</div>")?;
    timeline(out, &summary.secrets, &totals, findings, opts)?;
    repositories(out, summary, findings)?;
    findings_list(out, findings, rules, &totals, opts)?;
    skipped(out, summary)?;
    writeln!(
        out,
        "<footer>Made by keyhound {}. {}</footer>\n</main>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION"),
        if opts.show_secrets {
            "This page holds secrets in full (--show-secrets): keep it where the keys may be."
        } else {
            "Secrets are redacted: the page shows a prefix and the last characters of each key."
        }
    )
}

fn header(out: &mut dyn Write, title: &str, summary: &Summary) -> io::Result<()> {
    // A whole-list audit's report leaves out the times and bytes read (they depend on how the
    // audit was split): it says what was covered instead of zeros (issue 19 item 23).
    let mut meta = if summary.whole_list_audit() {
        let n = summary.coverage.len();
        format!(
            "{} blob{} in {n} repositor{} audited",
            summary.files,
            plural(summary.files as usize),
            if n == 1 { "y" } else { "ies" }
        )
    } else {
        format!(
            "{} file{} ({:.1} MB) scanned in {:.2} s",
            summary.files,
            plural(summary.files as usize),
            summary.bytes as f64 / 1_000_000.0,
            summary.elapsed_ms as f64 / 1000.0
        )
    };
    if let Some(day) = as_of(&summary.secrets) {
        meta.push_str(&format!(" · exposure as of {}", date_of(day)));
    }
    writeln!(
        out,
        "<header class=\"page\"><div class=\"brand\">keyhound</div><h1>{title}</h1>\
         <p class=\"meta\">{}</p></header>",
        esc(&meta)
    )
}

fn banners(
    out: &mut dyn Write,
    totals: &Totals,
    summary: &Summary,
    opts: &ReportOptions,
) -> io::Result<()> {
    let live = totals.live();
    if live > 0 {
        writeln!(
            out,
            "<div class=\"banner live\">{live} live key{}: the provider accepted {}. Revoke {} first \
             (the findings below list them first, with their revoke links).</div>",
            plural(live),
            if live == 1 { "it" } else { "them" },
            if live == 1 { "it" } else { "them" },
        )?;
    }
    if totals.findings == 0 && !summary.incomplete {
        writeln!(
            out,
            "<div class=\"banner ok\">No secrets found in {} file{}.</div>",
            summary.files,
            plural(summary.files as usize)
        )?;
    }
    if summary.incomplete {
        writeln!(
            out,
            "<div class=\"banner warn\">Incomplete: {} item{} could not be read, so findings may be \
             missing (keyhound exits 2).</div>",
            summary.errors,
            plural(summary.errors as usize)
        )?;
    }
    let gaps = summary.coverage.iter().filter(|c| has_gap(c)).count();
    if gaps > 0 {
        writeln!(
            out,
            "<div class=\"banner warn\">Coverage gaps: {gaps} of {} repositor{} not fully audited \
             (see Repositories).</div>",
            summary.coverage.len(),
            if summary.coverage.len() == 1 {
                "y"
            } else {
                "ies"
            }
        )?;
    }
    if opts.show_secrets && totals.findings > 0 {
        writeln!(
            out,
            "<div class=\"banner secrets\">This page shows secrets in full (--show-secrets). Store \
             and share it like the keys themselves.</div>"
        )?;
    }
    Ok(())
}

fn cards(out: &mut dyn Write, totals: &Totals, summary: &Summary) -> io::Result<()> {
    let card = |out: &mut dyn Write, class: &str, n: usize, label: &str, sub: &str| {
        writeln!(
            out,
            "<div class=\"card {class}\"><div class=\"n\">{n}</div><div class=\"label\">{label}</div>\
             <div class=\"sub\">{}</div></div>",
            esc(sub)
        )
    };
    writeln!(out, "<section class=\"cards\">")?;
    let secrets = totals.secrets.len();
    card(
        out,
        "",
        secrets,
        if secrets == 1 {
            "Unique secret"
        } else {
            "Unique secrets"
        },
        &format!("in {} finding{}", totals.findings, plural(totals.findings)),
    )?;
    if totals.verified {
        let live = totals.live();
        card(
            out,
            if live > 0 { "live" } else { "" },
            live,
            "Live",
            "accepted by their provider",
        )?;
    }
    if !summary.secrets.is_empty() {
        let at_tip = summary.secrets.iter().filter(|s| s.present_at_tip).count();
        card(
            out,
            "tip",
            at_tip,
            "Still at a tip",
            &format!(
                "of {} secret{} in history",
                summary.secrets.len(),
                plural(summary.secrets.len())
            ),
        )?;
    }
    if !summary.coverage.is_empty() {
        let gaps = summary.coverage.iter().filter(|c| has_gap(c)).count();
        card(
            out,
            if gaps > 0 { "gap" } else { "" },
            summary.coverage.len() - gaps,
            "Repositories complete",
            &format!("of {} audited", summary.coverage.len()),
        )?;
    }
    if !summary.skipped.is_empty() || summary.errors > 0 {
        card(
            out,
            if summary.errors > 0 { "gap" } else { "" },
            summary.skipped.len() + summary.errors as usize,
            "Not scanned",
            &format!(
                "{} skipped, {} unreadable",
                summary.skipped.len(),
                summary.errors
            ),
        )?;
    }
    writeln!(out, "</section>")
}

/// Unique secrets (and findings) per verdict: one stacked bar and its legend.
fn verdicts(out: &mut dyn Write, findings: &[Finding], totals: &Totals) -> io::Result<()> {
    let mut secrets = [0usize; 5];
    for (_, v) in totals.secrets.values() {
        secrets[*v as usize] += 1;
    }
    let mut counted = [0usize; 5];
    for f in findings.iter().filter(|f| f.suppressed.is_none()) {
        counted[Verdict::of(f, totals.verified) as usize] += 1;
    }
    let all = totals.secrets.len().max(1);
    writeln!(
        out,
        "<section class=\"panel\"><h2>By verdict</h2>\n<div class=\"stack\">"
    )?;
    for v in Verdict::ALL {
        let n = secrets[v as usize];
        if n > 0 {
            writeln!(
                out,
                "<span class=\"v-{}\" style=\"width:{:.2}%\" title=\"{}: {n}\"></span>",
                v.class(),
                n as f64 * 100.0 / all as f64,
                v.label()
            )?;
        }
    }
    writeln!(out, "</div>\n<ul class=\"legend\">")?;
    for v in Verdict::ALL {
        let n = secrets[v as usize];
        // Live, unknown and invalid always show (a zero there is news); the rest when present.
        let shown = if totals.verified {
            v != Verdict::Unverified || n > 0
        } else {
            v == Verdict::Unverified
        };
        if !shown {
            continue;
        }
        writeln!(
            out,
            "<li class=\"{}\"><span class=\"dot v-{}\"></span><span><strong>{}</strong> \
             <span class=\"tag\">{}</span></span><span class=\"num\">{n} secret{} · {} finding{}</span></li>",
            if v == Verdict::Live && n > 0 {
                "live"
            } else {
                ""
            },
            v.class(),
            v.label(),
            v.meaning(),
            plural(n),
            counted[v as usize],
            plural(counted[v as usize]),
        )?;
    }
    writeln!(out, "</ul>")?;
    if !totals.verified {
        writeln!(
            out,
            "<p class=\"note\">Keys were not verified: <code>--verify</code> asks each key's own \
             provider, once per key, whether it is live.</p>"
        )?;
    }
    writeln!(out, "</section>")
}

/// Unique secrets per provider as bars (the live part in red), with finding counts.
fn providers(out: &mut dyn Write, findings: &[Finding], totals: &Totals) -> io::Result<()> {
    // provider -> (secrets, live secrets, findings)
    let mut rows: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for (provider, v) in totals.secrets.values() {
        let r = rows.entry(provider).or_default();
        r.0 += 1;
        r.1 += usize::from(*v == Verdict::Live);
    }
    for f in findings.iter().filter(|f| f.suppressed.is_none()) {
        rows.entry(f.provider.as_str()).or_default().2 += 1;
    }
    let mut rows: Vec<_> = rows.into_iter().collect();
    rows.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
    let max = rows.first().map_or(1, |r| r.1 .0.max(1));
    writeln!(
        out,
        "<section class=\"panel\"><h2>By provider <span class=\"count\">({})</span></h2>",
        rows.len()
    )?;
    if rows.is_empty() {
        writeln!(out, "<p class=\"note\">No secrets found.</p></section>")?;
        return Ok(());
    }
    writeln!(out, "<div class=\"bars\">")?;
    for (provider, (n, live, found)) in rows {
        let width = |k: usize| k as f64 * 100.0 / max as f64;
        write!(
            out,
            "<div class=\"name\">{}</div><div class=\"bar\" title=\"{}: {n} secret{}, {live} live\">",
            esc(provider),
            esc(provider),
            plural(n)
        )?;
        if live > 0 {
            write!(
                out,
                "<span class=\"live\" style=\"width:{:.2}%\"></span>",
                width(live)
            )?;
        }
        writeln!(
            out,
            "<span class=\"rest\" style=\"width:{:.2}%\"></span></div>\
             <div class=\"num\">{n} secret{}{} · {found} finding{}</div>",
            width(n - live),
            plural(n),
            if live > 0 {
                format!(" ({live} live)")
            } else {
                String::new()
            },
            plural(found)
        )?;
    }
    writeln!(out, "</div></section>")
}

/// Text made safe for HTML text and double- or single-quoted attributes. Control characters
/// are shown escaped (as in the human report) and bidirectional overrides replaced, so a hostile
/// path or commit message can neither add markup nor reorder what the reader sees.
pub(super) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push(' '),
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => o.push('\u{FFFD}'),
            c if c.is_control() => o.push('?'),
            c => o.push(c),
        }
    }
    o
}

pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
