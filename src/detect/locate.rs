//! From a detector [`Match`] to a [`Finding`]: line and column (bytes and code points), the
//! fingerprint, and a snippet of the line with every copy of a found secret redacted. Pure: bytes
//! and a [`Provenance`] in, findings out; no I/O.

use sha2::{Digest, Sha256};

use super::{Detector, Match};
use crate::finding::{Finding, Location, Provenance};
use crate::redact::redact;

/// Characters of context kept on each side of a secret in a snippet.
const SNIPPET_CONTEXT: usize = 60;

/// Stable hash of rule id and secret, independent of position: the key of baselines, SARIF
/// fingerprints and the verification cache.
pub fn fingerprint(rule_id: &str, secret: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update([0]);
    h.update(secret);
    let digest = h.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

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
    let ctx = super::Context {
        path: (*provenance != Provenance::Stdin).then(|| provenance.path()),
        commit: provenance.commit().map(|c| c.id.as_str()),
    };
    let matches = match clean {
        Some(clean) => detector.find_known(bytes, &ctx, clean),
        None => detector.find_in(bytes, &ctx),
    };
    if matches.is_empty() {
        return (Vec::new(), 0);
    }
    // Every match is redacted in the snippets, listed or not.
    let (keep, more) = super::cap(&matches);
    let mut out = Vec::with_capacity(matches.len() - more as usize);
    let mut lines = LineCounter::default();
    let copies = Copies::new(&matches);
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
            location: Location {
                line,
                column,
                end_line,
                end_column,
                char_column: char_column(bytes, m.start, column),
                char_end_column: char_column(bytes, m.end, end_column),
            },
            snippet: snippet(bytes, m, &matches, &copies),
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
    lens: Vec<usize>,
}

impl Copies {
    fn new(matches: &[Match]) -> Copies {
        let mut secrets: Vec<&[u8]> = matches
            .iter()
            .filter(|m| m.secret.len() >= 8)
            .map(|m| m.secret.as_slice())
            .collect();
        secrets.sort_unstable();
        secrets.dedup();
        let automaton = aho_corasick::AhoCorasick::new(&secrets).ok();
        Copies {
            automaton,
            lens: secrets.iter().map(|s| s.len()).collect(),
        }
    }

    /// Byte ranges of copies inside `bytes[from..to]`.
    fn within(&self, bytes: &[u8], from: usize, to: usize) -> Vec<(usize, usize, usize)> {
        let Some(ac) = &self.automaton else {
            return Vec::new();
        };
        ac.find_overlapping_iter(&bytes[from..to])
            .map(|c| {
                (
                    from + c.start(),
                    from + c.end(),
                    self.lens[c.pattern().as_usize()],
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
fn snippet(bytes: &[u8], m: &Match, all: &[Match], copies: &Copies) -> String {
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
                None => redact(&String::from_utf8_lossy(&o.secret)),
            };
            (o.start, o.end, shown)
        })
        .collect();
    for (start, end, _) in copies.within(bytes, from, to) {
        spans.push((
            start,
            end,
            redact(&String::from_utf8_lossy(&bytes[start..end])),
        ));
    }
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
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_depends_on_rule_and_secret_only() {
        assert_eq!(fingerprint("a.b", b"s1"), fingerprint("a.b", b"s1"));
        assert_ne!(fingerprint("a.b", b"s1"), fingerprint("a.c", b"s1"));
        assert_ne!(fingerprint("a.b", b"s1"), fingerprint("a.b", b"s2"));
        assert_eq!(fingerprint("a.b", b"s1").len(), 32);
    }

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
