//! From a detector [`Match`] to a [`Finding`]: line and column (bytes and code points), the
//! fingerprint, and a snippet of the line with every copy of a found secret redacted. Pure: bytes
//! and a [`Provenance`] in, findings out; no I/O.

use super::{Detector, Match};
use crate::finding::{Finding, Location, Provenance};
use crate::fingerprint::fingerprint;
use crate::redact::{redact, redact_after};
use crate::rules::prefix::known_prefix;

/// Characters of context kept on each side of a secret in a snippet.
const SNIPPET_CONTEXT: usize = 60;

/// Run the detector over `bytes` and build findings that carry `provenance`.
pub fn findings(detector: &Detector, bytes: &[u8], provenance: &Provenance) -> Vec<Finding> {
    findings_counted(detector, bytes, provenance, None).0
}

/// [`findings`], the prefilter passing over chunks `clean` knows (see [`Detector::find_known`]).
pub fn findings_known(
    detector: &Detector,
    bytes: &[u8],
    provenance: &Provenance,
    clean: &mut super::prefilter::CleanChunks,
) -> Vec<Finding> {
    findings_counted(detector, bytes, provenance, Some(clean)).0
}

/// [`findings`], capped per blob and per secret ([`super::cap`], issue 19 item 11), with the
/// number of matches left out: the scan sources name it.
pub fn findings_counted(
    detector: &Detector,
    bytes: &[u8],
    provenance: &Provenance,
    clean: Option<&mut super::prefilter::CleanChunks>,
) -> (Vec<Finding>, u64) {
    // A blob read before its place is known (a history's, an archive member's) has an empty
    // path: the place is unknown then, and imported gitleaks rules are judged by place later,
    // by the policy (issue 24 item 4; judged by an empty path, a rule with a `path` found
    // nothing in a history).
    let ctx = super::Context {
        path: (*provenance != Provenance::Stdin)
            .then(|| provenance.path())
            .filter(|p| !p.is_empty()),
        commit: provenance.commit().map(|c| c.id.as_str()),
    };
    let matches = match clean {
        Some(clean) => detector.find_known(bytes, &ctx, clean),
        None => detector.find_in(bytes, &ctx),
    };
    if matches.is_empty() {
        return (Vec::new(), 0);
    }
    // Every match is redacted in the snippets, listed or not; only listed ones get a
    // fingerprint (a slow hash: not spent on the matches the cap leaves out).
    let (keep, more) = super::cap(&matches);
    warm_fingerprints(
        detector,
        matches
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(m, _)| m),
    );
    let mut out = Vec::with_capacity(matches.len() - more as usize);
    let mut lines = LineCounter::default();
    let shown = |m: &Match, secret: &[u8]| {
        let secret = String::from_utf8_lossy(secret);
        redact_after(
            &secret,
            known_prefix(detector.known_prefixes(m.rule), &secret),
        )
    };
    let copies = Copies::new(&matches, &shown);
    for (m, _) in matches.iter().zip(keep).filter(|(_, keep)| *keep) {
        let rule = detector.rule(m.rule);
        let (line, column) = lines.position(bytes, m.start);
        let (end_line, end_column) = lines.peek(bytes, m.end);
        out.push(Finding {
            rule: m.rule,
            rule_id: rule.id.clone(),
            provider: rule.provider.clone(),
            secret: String::from_utf8_lossy(&m.secret).into_owned(),
            fingerprint: fingerprint(&rule.id, &m.secret),
            redacted: shown(m, &m.secret),
            location: Location {
                line,
                column,
                end_line,
                end_column,
                char_column: char_column(bytes, m.start, column),
                char_end_column: char_column(bytes, m.end, end_column),
            },
            snippet: snippet(bytes, m, &matches, &copies, &shown),
            encoding: m.encoding,
            provenance: provenance.clone(),
            blob: None,
            repository: None,
            verification: None,
            allowed: super::filter::span_allows(bytes, m.start, m.end),
            suppressed: None,
        });
    }
    (out, more)
}

/// Work out the fingerprints of a blob's distinct secrets on every core at once (a file of
/// thousands of keys would otherwise take one core seconds); [`fingerprint`] then finds them
/// in its memo.
fn warm_fingerprints<'m>(detector: &Detector, matches: impl Iterator<Item = &'m Match>) {
    use rayon::prelude::*;
    let mut distinct: Vec<(usize, &[u8])> =
        matches.map(|m| (m.rule, m.secret.as_slice())).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 2 {
        return;
    }
    distinct.par_iter().for_each(|&(rule, secret)| {
        fingerprint(&detector.rule(rule).id, secret);
    });
}

/// The 1-based code-point column of `offset`, whose byte column is `column`.
fn char_column(bytes: &[u8], offset: usize, column: usize) -> usize {
    let line = &bytes[offset + 1 - column..offset];
    // Count the bytes that start a UTF-8 character; invalid bytes count one each.
    line.iter().filter(|&&b| (b as i8) >= -0x40).count() + 1
}

/// Counts lines incrementally for offsets that arrive in increasing order.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    line: usize,
    line_start: usize,
}

impl LineCounter {
    fn position(&mut self, bytes: &[u8], offset: usize) -> (usize, usize) {
        if offset < self.offset {
            *self = LineCounter::default();
        }
        for i in memchr::memchr_iter(b'\n', &bytes[self.offset..offset]) {
            self.line += 1;
            self.line_start = self.offset + i + 1;
        }
        self.offset = offset;
        (self.line + 1, offset - self.line_start + 1)
    }

    fn peek(&self, bytes: &[u8], offset: usize) -> (usize, usize) {
        let mut copy = LineCounter {
            offset: self.offset,
            line: self.line,
            line_start: self.line_start,
        };
        copy.position(bytes, offset)
    }
}

/// Every place in a blob where one of its findings' secrets occurs, matched or not: a snippet
/// hides them all. (A second copy of a secret glued to more characters is no match, yet must
/// not show; the detector fuzz target found that.)
struct Copies {
    automaton: Option<aho_corasick::AhoCorasick>,
    /// Each secret's redacted form, as its finding shows it.
    shown: Vec<String>,
}

impl Copies {
    fn new(matches: &[Match], shown: &dyn Fn(&Match, &[u8]) -> String) -> Copies {
        let mut secrets: Vec<(&[u8], &Match)> = matches
            .iter()
            .filter(|m| m.secret.len() >= 8)
            .map(|m| (m.secret.as_slice(), m))
            .collect();
        secrets.sort_unstable_by_key(|s| s.0);
        secrets.dedup_by_key(|s| s.0);
        let automaton = aho_corasick::AhoCorasick::new(secrets.iter().map(|s| s.0)).ok();
        Copies {
            automaton,
            shown: secrets.iter().map(|(s, m)| shown(m, s)).collect(),
        }
    }

    /// Byte ranges of copies inside `bytes[from..to]`, with how each shows.
    fn within(&self, bytes: &[u8], from: usize, to: usize) -> Vec<(usize, usize, String)> {
        let Some(ac) = &self.automaton else {
            return Vec::new();
        };
        ac.find_overlapping_iter(&bytes[from..to])
            .map(|c| {
                (
                    from + c.start(),
                    from + c.end(),
                    self.shown[c.pattern().as_usize()].clone(),
                )
            })
            .collect()
    }
}

/// Longest secret looked back for when gathering the matches that touch a snippet.
const LONGEST_SECRET: usize = 64 * 1024;

/// The line holding `m`, cut to some context around it, with every match and every copy of a
/// found secret on it redacted, and control characters replaced so a snippet cannot drive the
/// terminal. `all` is sorted by start.
fn snippet(
    bytes: &[u8],
    m: &Match,
    all: &[Match],
    copies: &Copies,
    shown: &dyn Fn(&Match, &[u8]) -> String,
) -> String {
    let line_start = memchr::memrchr(b'\n', &bytes[..m.start]).map_or(0, |i| i + 1);
    let line_end = memchr::memchr(b'\n', &bytes[m.end..]).map_or(bytes.len(), |i| m.end + i);
    let from = m.start.saturating_sub(SNIPPET_CONTEXT * 4).max(line_start);
    let to = (m.end + SNIPPET_CONTEXT * 4).min(line_end);
    // (start, end, replacement) of everything to hide, from matches and from copies.
    let lo = all.partition_point(|o| o.start + LONGEST_SECRET < from);
    let hi = all.partition_point(|o| o.start < to);
    let mut spans: Vec<(usize, usize, String)> = all[lo..hi]
        .iter()
        .filter(|o| o.end > from)
        .map(|o| {
            let shown = match o.encoding {
                Some(encoding) => format!(
                    "{}({encoding})",
                    redact(&String::from_utf8_lossy(&bytes[o.start..o.end]))
                ),
                None => shown(o, &o.secret),
            };
            (o.start, o.end, shown)
        })
        .collect();
    spans.extend(copies.within(bytes, from, to));
    spans.sort_by_key(|s| (s.0, std::cmp::Reverse(s.1)));
    let mut out = String::new();
    let mut pos = from;
    for (start, end, shown) in spans {
        if start < pos {
            continue;
        }
        push_clean(&mut out, &bytes[pos..start.max(pos)]);
        out.push_str(&shown);
        pos = end.min(to);
    }
    push_clean(&mut out, &bytes[pos.min(to)..to]);
    let text = trim_context(&out);
    let mut result = String::new();
    if from > line_start {
        result.push('…');
    }
    result.push_str(text.trim());
    if to < line_end {
        result.push('…');
    }
    result
}

fn push_clean(out: &mut String, bytes: &[u8]) {
    for c in String::from_utf8_lossy(bytes).chars() {
        out.push(if c.is_control() && c != '\t' { '?' } else { c });
    }
}

/// Keep at most a few hundred characters of a snippet.
fn trim_context(s: &str) -> &str {
    match s.char_indices().nth(SNIPPET_CONTEXT * 5) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_counter_positions() {
        let text = b"ab\ncde\nf";
        let mut lc = LineCounter::default();
        assert_eq!(lc.position(text, 1), (1, 2));
        assert_eq!(lc.position(text, 4), (2, 2));
        assert_eq!(lc.peek(text, 7), (3, 1));
        assert_eq!(lc.position(text, 7), (3, 1));
    }
}
