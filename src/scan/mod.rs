//! Sources of blobs and the step that turns a blob into findings. [`walk`] reads a working
//! tree in parallel, [`stdin`] reads standard input; each hands bytes plus a
//! [`Provenance`] to [`findings_in`], which runs the detector and builds [`Finding`]s (position,
//! fingerprint, redacted snippet). Nothing here formats output.

pub mod history;
pub mod staged;
pub mod stdin;
pub mod walk;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::detect::{Detector, Match};
use crate::finding::{Finding, Location, Provenance};
use crate::report::redact::redact;

/// Default for `--max-file-size`.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 25 * 1024 * 1024;
/// Bytes sniffed for a NUL to call a file binary.
pub const BINARY_SNIFF: usize = 8192;
/// Characters of context kept on each side of a secret in a snippet.
const SNIPPET_CONTEXT: usize = 60;

/// Counters shared by the threads of one scan.
#[derive(Debug, Default)]
pub struct Stats {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    pub skipped_binary: AtomicU64,
    pub skipped_large: AtomicU64,
    pub errors: AtomicU64,
    /// Set when something could not be scanned: the run then exits 2.
    pub incomplete: AtomicBool,
}

impl Stats {
    pub fn add_file(&self, bytes: usize) {
        self.files.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub fn error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.incomplete.store(true, Ordering::Relaxed);
    }

    /// A blob skipped by `--max-file-size`: counted, and a note that names it.
    pub fn skip_large(&self, what: &str, size: u64, max: u64) {
        crate::diag::note(&format!(
            "{what}: skipped, {size} bytes is over --max-file-size {max}"
        ));
        self.skipped_large.fetch_add(1, Ordering::Relaxed);
    }

    /// A binary blob skipped (no note: that is the policy, not news).
    pub fn skip_binary(&self) {
        self.skipped_binary.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Text in UTF-16 (a byte-order mark says so, as PowerShell and some Windows editors write it)
/// decoded to UTF-8, so its keys are found. A mark alone is not enough: `FF FE` also starts
/// Latin-1 text, so the first block must hold the NULs of ASCII in UTF-16 too.
pub fn decode_utf16(bytes: &[u8]) -> Option<Vec<u8>> {
    let little = match bytes {
        [0xFF, 0xFE, ..] => true,
        [0xFE, 0xFF, ..] => false,
        _ => return None,
    };
    if !is_binary(bytes) {
        return None;
    }
    let units = bytes[2..].chunks_exact(2).map(|c| {
        if little {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    let text: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    Some(text.into_bytes())
}

/// True when the first bytes hold a NUL: the file is binary.
pub fn is_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(BINARY_SNIFF)]).is_some()
}

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
pub fn findings_in(detector: &Detector, bytes: &[u8], provenance: &Provenance) -> Vec<Finding> {
    let matches = detector.find(bytes);
    if matches.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(matches.len());
    let mut lines = LineCounter::default();
    let copies = Copies::new(&matches);
    for m in &matches {
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
                offset: m.start,
                char_column: char_column(bytes, m.start, column),
                char_end_column: char_column(bytes, m.end, end_column),
            },
            snippet: snippet(bytes, m, &matches, &copies),
            encoding: m.encoding,
            provenance: provenance.clone(),
            verification: None,
            allowed: m.allowed,
        });
    }
    out
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
                Some(_) => format!(
                    "{}(base64)",
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
mod tests {
    use super::*;

    #[test]
    fn utf16_with_a_bom_is_decoded() {
        let mut le = vec![0xFF, 0xFE];
        le.extend("key=sk".encode_utf16().flat_map(|u| u.to_le_bytes()));
        assert_eq!(decode_utf16(&le).unwrap(), b"key=sk");
        let mut be = vec![0xFE, 0xFF];
        be.extend("ab".encode_utf16().flat_map(|u| u.to_be_bytes()));
        assert_eq!(decode_utf16(&be).unwrap(), b"ab");
        assert!(decode_utf16(b"plain").is_none());
        assert!(decode_utf16(b"\xff\xfe latin-1 text").is_none());
    }

    #[test]
    fn binary_sniff() {
        assert!(is_binary(b"abc\0def"));
        assert!(!is_binary(b"plain text\n"));
    }

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
