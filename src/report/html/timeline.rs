//! The exposure timeline of a history audit: an inline SVG with one row per secret, from the day
//! of its first commit to the audit day, and the calendar arithmetic it needs (day numbers from
//! RFC 3339 dates, through `scan::history`'s date functions: no second calendar here).

use std::collections::HashMap;
use std::io::{self, Write};

use super::{esc, plural, Totals, Verdict};
use crate::dates::{parse_since, rfc3339};
use crate::finding::Finding;
use crate::report::{secret_label, ReportOptions};
use crate::summary::SecretSummary;

/// The timeline draws this many secrets (still present first, then longest exposed); the
/// findings list has them all.
const TIMELINE_ROWS: usize = 150;

/// The exposure timeline of a history audit, as an inline SVG: one row per secret from its
/// first commit to the audit day, solid while it is still at a branch tip, hatched when only
/// history has it (anyone with a clone can still read it there).
pub(super) fn timeline(
    out: &mut dyn Write,
    secrets: &[SecretSummary],
    totals: &Totals,
    findings: &[Finding],
    opts: &ReportOptions,
) -> io::Result<()> {
    let rows: Vec<(&SecretSummary, i64)> = secrets
        .iter()
        .filter_map(|s| day_number(&s.first_date).map(|d| (s, d)))
        .take(TIMELINE_ROWS)
        .collect();
    let Some(end) = as_of(secrets) else {
        return Ok(());
    };
    if rows.is_empty() {
        return Ok(());
    }
    let start = rows.iter().map(|r| r.1).min().unwrap_or(end).min(end);
    let span = (end - start).max(1) as f64;
    // Two lines of label a row: the secret, then where it is and its fingerprint, so secrets
    // whose redacted forms look alike (every private key's header) are told apart.
    let (width, label_w, right_w, row_h, top) = (1000.0, 250.0, 92.0, 36.0, 30.0);
    let plot = width - label_w - right_w;
    let x = |day: i64| label_w + (day - start) as f64 / span * plot;
    let height = top + rows.len() as f64 * row_h + 8.0;
    let full: HashMap<&str, &str> = findings
        .iter()
        .map(|f| (f.fingerprint.as_str(), f.secret.as_str()))
        .collect();
    writeln!(
        out,
        "<section class=\"panel\"><h2>Exposure timeline <span class=\"count\">({} secret{})</span></h2>",
        secrets.len(),
        plural(secrets.len())
    )?;
    writeln!(
        out,
        "<svg class=\"timeline\" viewBox=\"0 0 {width} {height}\" role=\"img\" \
         aria-label=\"Exposure of each secret from its first commit to {}\">\n\
         <defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
         patternTransform=\"rotate(45)\"><rect class=\"hatch-bg\" width=\"6\" height=\"6\"/>\
         <line class=\"hatch-line\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\"/></pattern></defs>",
        date_of(end)
    )?;
    for i in 0..=4 {
        let day = start + ((end - start) as f64 * i as f64 / 4.0).round() as i64;
        let anchor = match i {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        writeln!(
            out,
            "<line class=\"grid\" x1=\"{0:.1}\" y1=\"{1}\" x2=\"{0:.1}\" y2=\"{2:.1}\"/>\
             <text class=\"muted\" x=\"{0:.1}\" y=\"14\" text-anchor=\"{anchor}\">{3}</text>",
            x(day),
            top - 8.0,
            height - 4.0,
            date_of(day)
        )?;
    }
    for (i, (s, first)) in rows.iter().enumerate() {
        let y = top + i as f64 * row_h;
        let shown = match full.get(s.fingerprint.as_str()) {
            Some(secret) if opts.show_secrets => secret.to_string(),
            _ => s.redacted.clone(),
        };
        let live = totals
            .secrets
            .get(s.fingerprint.as_str())
            .is_some_and(|(_, v)| *v == Verdict::Live);
        let (x0, x1) = (x(*first), x(end));
        let state = if s.present_at_tip {
            "still at a branch tip"
        } else {
            "removed from every tip, still in history"
        };
        let label = secret_label(s);
        writeln!(
            out,
            "<g><title>{} · {} · {} · first committed {} in {} by {} · {state}</title>\
             <text class=\"mono\" x=\"0\" y=\"{:.1}\">{}</text>\
             <text class=\"muted\" x=\"0\" y=\"{:.1}\">{}</text>\
             <rect class=\"{}\" x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"12\" rx=\"3\"{}/>\
             <circle class=\"start\" cx=\"{x0:.1}\" cy=\"{:.1}\" r=\"3.5\"/>\
             <text class=\"muted\" x=\"{:.1}\" y=\"{:.1}\">{} d</text>{}</g>",
            esc(&s.rule),
            esc(&clip(&shown, 60)),
            esc(&label),
            esc(s.first_date.get(..10).unwrap_or(&s.first_date)),
            esc(&s.first_commit[..s.first_commit.len().min(12)]),
            esc(&s.first_author),
            y + 15.0,
            esc(&clip(&shown, 34)),
            y + 29.0,
            esc(&clip_start(&label, 40)),
            if s.present_at_tip { "tip" } else { "history" },
            y + 5.0,
            (x1 - x0).max(2.0),
            if s.present_at_tip {
                ""
            } else {
                " fill=\"url(#hatch)\""
            },
            y + 11.0,
            x1 + 8.0,
            y + 15.0,
            s.exposed_days,
            if live {
                format!(
                    "<text class=\"live\" x=\"{:.1}\" y=\"{:.1}\">LIVE</text>",
                    x1 + 50.0,
                    y + 15.0
                )
            } else {
                String::new()
            }
        )?;
    }
    writeln!(out, "</svg>")?;
    writeln!(
        out,
        "<div class=\"key\"><span><i class=\"swatch tip\"></i>still at a branch tip</span>\
         <span><i class=\"swatch history\"></i>removed from the tips, still in history</span></div>"
    )?;
    if secrets.len() > rows.len() {
        writeln!(
            out,
            "<p class=\"note\">The {} longest-exposed are drawn; the findings list has all {}.</p>",
            rows.len(),
            secrets.len()
        )?;
    }
    writeln!(
        out,
        "<p class=\"note\">A key stays exposed after it leaves the tips: every clone and fork still \
         has the commit. Revoking it ends the exposure; deleting the file does not.</p></section>"
    )
}

/// At most `n` characters, with an ellipsis when cut.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// At most `n` characters, the end kept (a label's fingerprint), with an ellipsis when cut.
fn clip_start(s: &str, n: usize) -> String {
    let count = s.chars().count();
    if count <= n {
        return s.to_string();
    }
    let mut t = String::from("…");
    t.extend(s.chars().skip(count - n.saturating_sub(1)));
    t
}

/// The audit's day: the latest first commit plus its exposure (the summaries count days up to
/// the run's clock), so the page needs no clock of its own.
pub(super) fn as_of(secrets: &[SecretSummary]) -> Option<i64> {
    secrets
        .iter()
        .filter_map(|s| day_number(&s.first_date).map(|d| d + s.exposed_days))
        .max()
}

/// Days since 1970-01-01 of an RFC 3339 date's `YYYY-MM-DD` (the author's own calendar day).
pub(super) fn day_number(date: &str) -> Option<i64> {
    let secs = parse_since(date.get(..10)?, 0).ok()?;
    Some(secs.div_euclid(86_400))
}

/// `YYYY-MM-DD` of a day number (the inverse of [`day_number`]).
pub(super) fn date_of(day: i64) -> String {
    let mut s = rfc3339(day * 86_400, 0);
    s.truncate(10);
    s
}
