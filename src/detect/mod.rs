//! The detector: bytes in, matches out, no I/O. [`Detector::find`] runs the literal prefilter,
//! each rule's regex only inside the windows around its keyword hits, then the per-match checks
//! (boundary, entropy, checksum, placeholder, nearby-rule requirement), and
//! finally scans base64 runs that contain an encoded keyword (once: no base64 inside base64),
//! reporting the encoded text's place, and keyword windows that hold JSON `\u` or URL `%XX` escapes, decoded ([`unescape`]).
//! It knows nothing of paths, commits or formats (see `crate::scan` and `crate::report`).

pub mod check;
pub mod checksum;
pub(crate) mod entropy;
pub(crate) mod example;
pub mod filter;
pub mod locate;
pub(crate) mod prefilter;
pub(crate) mod unescape;

use std::collections::HashSet;

use base64::Engine;

pub use crate::rules::gitleaks::Context;
use crate::rules::gitleaks::{judge, ByPlace, Candidate};
use crate::rules::{Rule, RuleSet};
use prefilter::Prefilter;

/// One surviving match in a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Index of the rule in the rule set.
    pub rule: usize,
    /// The secret's bytes (decoded, when `encoding` is set).
    pub secret: Vec<u8>,
    /// Byte range in the scanned blob: the secret, or the encoded text that holds it.
    pub start: usize,
    pub end: usize,
    pub encoding: Option<&'static str>,
}

/// A compiled rule set ready to scan bytes; cheap to share between threads.
#[derive(Debug, Clone)]
pub struct Detector {
    rules: RuleSet,
    prefilter: Prefilter,
    /// For each rule, the index of the rule named by its `requires_nearby`.
    requires: Vec<Option<usize>>,
    /// For each rule, its known prefixes ([`crate::rules::prefix::known_prefixes`]), worked out on first use.
    prefixes: Vec<std::sync::OnceLock<Vec<String>>>,
    /// Keywords that begin a rule's secret, found on first need ([`Detector::unglue`]).
    secret_prefixes: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>>,
}

/// Matches kept per blob at most (issue 19 item 11): a file of generated keys or a zip of
/// repeated members would otherwise hold hundreds of thousands, and each becomes a finding with
/// its snippet. The rest are counted ([`cap`]).
pub const MAX_PER_BLOB: usize = 10_000;
/// Occurrences of one secret (rule and bytes) kept per blob at most; the rest are counted.
pub const MAX_PER_SECRET: usize = 100;

/// Which of `matches` (in blob order) to keep: the first [`MAX_PER_SECRET`] of each secret and
/// the first [`MAX_PER_BLOB`] in all; and how many are left out.
pub fn cap(matches: &[Match]) -> (Vec<bool>, u64) {
    if matches.len() <= MAX_PER_SECRET {
        return (vec![true; matches.len()], 0);
    }
    let mut seen: std::collections::HashMap<(usize, &[u8]), usize> = Default::default();
    let mut kept = 0;
    let keep: Vec<bool> = matches
        .iter()
        .map(|m| {
            let n = seen.entry((m.rule, &m.secret)).or_default();
            *n += 1;
            let keep = *n <= MAX_PER_SECRET && kept < MAX_PER_BLOB;
            kept += usize::from(keep);
            keep
        })
        .collect();
    let more = (matches.len() - kept) as u64;
    (keep, more)
}

/// Shortest base64 run that can hold a key worth decoding.
const MIN_BASE64_RUN: usize = 24;
/// Longest base64 run decoded; longer runs are data blobs, not wrapped credentials.
const MAX_BASE64_RUN: usize = 1 << 20;
/// Base64 is decoded this many levels deep: once (the decoded text's escapes are decoded too,
/// so a JSON key file inside a Docker config's `auth` is read as JSON).
const MAX_BASE64_DEPTH: usize = 1;

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'_' | b'-')
}

impl Detector {
    pub fn new(rules: RuleSet) -> Detector {
        let prefilter = Prefilter::new(&rules.rules);
        let requires = rules
            .rules
            .iter()
            .map(|r| {
                r.requires_nearby
                    .as_deref()
                    .and_then(|id| rules.index_of(id))
            })
            .collect();
        let prefixes = rules.rules.iter().map(|_| Default::default()).collect();
        Detector {
            rules,
            prefilter,
            requires,
            prefixes,
            secret_prefixes: Default::default(),
        }
    }

    /// In the printable runs of a binary blob, a key glued on its left to a byte of the binary
    /// format (the length byte a sqlite record or a `.pyc` keeps before a string) would fail
    /// its rule's boundary check: that byte becomes a line break when a keyword that begins a
    /// rule's secret (`sk-proj-`: the literal its pattern's capture group starts with) follows
    /// it (issue 19 item 12). Context keywords (`token` in `access_token`) are never split.
    pub fn unglue(&self, runs: &mut [u8]) {
        let prefixes = self.secret_prefixes.get_or_init(|| {
            let mut prefixes: Vec<Vec<u8>> = self
                .rules
                .rules
                .iter()
                .filter(|r| r.boundary)
                .filter_map(|r| secret_prefix(&r.pattern))
                .collect();
            prefixes.sort_unstable();
            prefixes.dedup();
            aho_corasick::AhoCorasick::new(&prefixes).ok()
        });
        let Some(prefixes) = prefixes else {
            return;
        };
        let glued: Vec<usize> = prefixes
            .find_overlapping_iter(&*runs)
            .map(|m| m.start())
            .filter(|&at| at > 0 && is_token_byte(runs[at - 1]) && is_token_byte(runs[at]))
            .collect();
        for at in glued {
            runs[at - 1] = b'\n';
        }
    }

    /// What every secret of rule `index` starts with, public (see [`crate::rules::prefix::known_prefixes`]).
    pub fn known_prefixes(&self, index: usize) -> &[String] {
        self.prefixes[index]
            .get_or_init(|| crate::rules::prefix::known_prefixes(&self.rules.rules[index]))
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    pub fn rule(&self, index: usize) -> &Rule {
        &self.rules.rules[index]
    }

    /// Every match in `bytes`, ordered by position, including keys inside base64 text.
    pub fn find(&self, bytes: &[u8]) -> Vec<Match> {
        self.find_in(bytes, &Context::default())
    }

    /// [`Detector::find`] for a blob seen at `ctx` (its path and commit), which imported
    /// gitleaks rules and allow-lists may depend on.
    pub fn find_in(&self, bytes: &[u8], ctx: &Context) -> Vec<Match> {
        // The policy decides by path and commit (`Policy::apply`); the detector asks the same
        // question early only when it knows the place (a tree, the index), not in a history.
        self.find_top(bytes, ctx, None)
    }

    /// [`Detector::find_in`] with the prefilter passing over chunks `clean` knows hold no
    /// keyword (the same matches: see [`prefilter::CleanChunks`]); for a history, where each
    /// version of a file repeats most of the last.
    pub fn find_known(
        &self,
        bytes: &[u8],
        ctx: &Context,
        clean: &mut prefilter::CleanChunks,
    ) -> Vec<Match> {
        self.find_top(bytes, ctx, Some(clean))
    }

    /// The blob itself, unless an imported allow-list allows everything at its place (the
    /// policy's answer, asked early: see `crate::rules::gitleaks::allow`).
    fn find_top(
        &self,
        bytes: &[u8],
        ctx: &Context,
        clean: Option<&mut prefilter::CleanChunks>,
    ) -> Vec<Match> {
        if ctx.path.is_some() && judge(&self.rules.allowlists, None, ctx) != ByPlace::Open {
            return Vec::new();
        }
        self.find_nested(bytes, 0, ctx, clean)
    }

    /// [`Detector::find_in`] at a depth of base64 decoding (0: the blob itself).
    fn find_nested(
        &self,
        bytes: &[u8],
        depth: usize,
        ctx: &Context,
        clean: Option<&mut prefilter::CleanChunks>,
    ) -> Vec<Match> {
        let with_encoded = depth < MAX_BASE64_DEPTH;
        let hits = match clean {
            Some(clean) => self.prefilter.hits_known(bytes, with_encoded, clean),
            None => self.prefilter.hits(bytes, with_encoded),
        };
        let escaped = unescape::regions(&hits.windows, bytes);
        let mut matches = self.find_plain(bytes, hits.windows, ctx);
        if !hits.encoded.is_empty() || !escaped.is_empty() {
            // A key whose own text is base64 (a Bedrock short-term key wraps a presigned URL
            // that names an access key id) is reported once, as itself: a decoded match that
            // overlaps a plain one is dropped.
            let plain = &matches;
            let encoded: Vec<Match> = self
                .find_encoded(bytes, &hits.encoded, depth, ctx)
                .into_iter()
                .filter(|e| !plain.iter().any(|p| p.start < e.end && e.start < p.end))
                .collect();
            matches.extend(encoded);
            matches.extend(self.find_unescaped(bytes, &escaped, ctx));
            matches.sort_by_key(|m| (m.start, m.end, m.rule));
            matches.dedup_by(|a, b| a.rule == b.rule && a.secret == b.secret && a.start == b.start);
        }
        matches
    }

    /// Decode the escapes in `regions` and scan them; a match counts only when its text held an
    /// escape (otherwise the plain search found it), and reports the escaped text's place.
    fn find_unescaped(
        &self,
        bytes: &[u8],
        regions: &[(usize, usize)],
        ctx: &Context,
    ) -> Vec<Match> {
        let mut out = Vec::new();
        for &(start, end) in regions {
            let (decoded, from) = unescape::decode(bytes, start, end);
            let hits = self.prefilter.hits(&decoded, false);
            for m in self.find_plain(&decoded, hits.windows, ctx) {
                let (s, e) = (from[m.start], from[m.end]);
                if e - s == m.end - m.start {
                    continue;
                }
                out.push(Match {
                    start: s,
                    end: e,
                    encoding: Some(unescape::encoding_of(&bytes[s..e])),
                    ..m
                });
            }
        }
        out
    }

    /// The slow reference matcher for tests and fuzzing: every rule whose keyword occurs
    /// anywhere runs its regex over the whole input (no windows, no base64 layer).
    #[doc(hidden)]
    pub fn find_unwindowed(&self, bytes: &[u8]) -> Vec<Match> {
        let lower = bytes.to_ascii_lowercase();
        let windows = self
            .rules
            .rules
            .iter()
            .map(|r| {
                let hit = r.keywords.iter().any(|k| {
                    memchr::memmem::find(&lower, k.to_ascii_lowercase().as_bytes()).is_some()
                });
                if hit {
                    vec![(0, bytes.len())]
                } else {
                    Vec::new()
                }
            })
            .collect();
        self.find_plain(bytes, windows, &Context::default())
    }

    fn find_plain(
        &self,
        bytes: &[u8],
        mut windows: Vec<Vec<(usize, usize)>>,
        ctx: &Context,
    ) -> Vec<Match> {
        let mut out = Vec::new();
        for (ri, rule_windows) in windows.iter_mut().enumerate() {
            if rule_windows.is_empty() {
                continue;
            }
            let rule = &self.rules.rules[ri];
            // Outside the rule's `path`, or allowed by its own allow-lists at this place: the
            // policy's answer, asked early when the place is known (the global allow-lists
            // were asked of the whole blob).
            if ctx.path.is_some()
                && rule.gitleaks.is_some()
                && judge(&[], rule.gitleaks.as_deref(), ctx) != ByPlace::Open
            {
                continue;
            }
            normalize(rule_windows);
            for &(start, end) in rule_windows.iter() {
                let hay = &bytes[..end];
                let mut pos = start;
                while pos <= end {
                    let Some(caps) = rule.regex().captures_at(hay, pos) else {
                        break;
                    };
                    let whole = caps.get(0).expect("group 0 always participates");
                    pos = if whole.end() > whole.start() {
                        whole.end()
                    } else {
                        whole.end() + 1
                    };
                    let Some(secret) = rule.secret_of(&caps) else {
                        continue;
                    };
                    if rule.placeholder_match && filter::names_a_placeholder(whole.as_bytes()) {
                        continue;
                    }
                    if self.accepts(rule, bytes, secret.start(), secret.end())
                        && self.survives_allowlists(rule, ctx, bytes, whole, secret)
                    {
                        out.push(Match {
                            rule: ri,
                            secret: secret.as_bytes().to_vec(),
                            start: secret.start(),
                            end: secret.end(),
                            encoding: None,
                        });
                    }
                }
            }
        }
        self.resolve(bytes, out)
    }

    /// The checks every match must pass, in order of cost.
    fn accepts(&self, rule: &Rule, bytes: &[u8], start: usize, end: usize) -> bool {
        let secret = &bytes[start..end];
        if secret.is_empty() {
            return false;
        }
        if rule.boundary && !has_boundaries(bytes, start, end) {
            return false;
        }
        if let Some(min) = rule.min_entropy {
            if entropy::shannon(secret) < min {
                return false;
            }
        }
        if let Some(checksum) = rule.checksum {
            if !checksum::validate(checksum, secret) {
                return false;
            }
        }
        !filter::is_placeholder(secret) && !filter::in_regex_literal(bytes, start, end)
    }

    /// The imported gitleaks checks of a match's text: the rule's entropy bound and allow-lists,
    /// and the global allow-lists (which apply to every rule). Free when no gitleaks config is
    /// in use.
    fn survives_allowlists(
        &self,
        rule: &Rule,
        ctx: &Context,
        bytes: &[u8],
        whole: regex::bytes::Match,
        secret: regex::bytes::Match,
    ) -> bool {
        if rule.gitleaks.is_none() && self.rules.allowlists.is_empty() {
            return true;
        }
        let line_start = memchr::memrchr(b'\n', &bytes[..whole.start()]).map_or(0, |i| i + 1);
        let line_end =
            memchr::memchr(b'\n', &bytes[whole.end()..]).map_or(bytes.len(), |i| whole.end() + i);
        let candidate = Candidate {
            secret: secret.as_bytes(),
            whole: trim_newlines(whole.as_bytes()),
            line: &bytes[line_start..line_end.max(line_start)],
        };
        if let Some(g) = &rule.gitleaks {
            if !g.accepts(ctx, &candidate) {
                return false;
            }
        }
        !self
            .rules
            .allowlists
            .iter()
            .any(|a| a.allows_match(ctx, &candidate))
    }

    /// Drop overlapping matches (the longer secret wins, then the earlier rule) and matches
    /// whose required companion rule did not match nearby.
    fn resolve(&self, bytes: &[u8], mut matches: Vec<Match>) -> Vec<Match> {
        matches.sort_by(|a, b| {
            a.start
                .cmp(&b.start)
                .then((b.end - b.start).cmp(&(a.end - a.start)))
                .then(a.rule.cmp(&b.rule))
        });
        let mut kept: Vec<Match> = Vec::with_capacity(matches.len());
        for m in matches {
            if let Some(last) = kept.last() {
                if m.start < last.end {
                    continue;
                }
            }
            kept.push(m);
        }
        if self.requires.iter().any(Option::is_some) {
            // `kept` is sorted by start: count newlines once, incrementally (a hostile file
            // with many matches must not cost a scan from the top for each).
            let mut lines = Vec::with_capacity(kept.len());
            let (mut at, mut line) = (0, 1);
            for m in &kept {
                line += memchr::memchr_iter(b'\n', &bytes[at..m.start]).count();
                at = m.start;
                lines.push(line);
            }
            let keep: Vec<bool> = kept
                .iter()
                .enumerate()
                .map(|(i, m)| match self.requires[m.rule] {
                    None if self.rules.rules[m.rule].requires_nearby.is_some() => false,
                    None => true,
                    Some(other) => {
                        let within = self.rules.rules[m.rule].nearby_lines;
                        kept.iter()
                            .enumerate()
                            .any(|(j, n)| n.rule == other && lines[i].abs_diff(lines[j]) <= within)
                    }
                })
                .collect();
            let mut flags = keep.into_iter();
            kept.retain(|_| flags.next().unwrap_or(true));
        }
        kept
    }

    /// Decode the base64 runs around encoded keyword hits and scan the decoded bytes (down to
    /// [`MAX_BASE64_DEPTH`]); a match reports the place of the encoded run.
    fn find_encoded(
        &self,
        bytes: &[u8],
        offsets: &[usize],
        depth: usize,
        ctx: &Context,
    ) -> Vec<Match> {
        let mut done = HashSet::new();
        let mut out = Vec::new();
        for &offset in offsets {
            let (start, end) = base64_run(bytes, offset);
            if end - start < MIN_BASE64_RUN || end - start > MAX_BASE64_RUN || !done.insert(start) {
                continue;
            }
            let Some(decoded) = decode_base64(&bytes[start..end]) else {
                continue;
            };
            for m in self.find_nested(&decoded, depth + 1, ctx, None) {
                out.push(Match {
                    rule: m.rule,
                    secret: m.secret,
                    start,
                    end,
                    encoding: Some("base64"),
                });
            }
        }
        out
    }
}

/// The literal a pattern's first capture group starts with (`sk-proj-` in
/// `(sk-proj-[A-Za-z0-9_-]{74}...)`), when it is one of token characters, 3 or more long, and
/// the pattern is case-sensitive. Read from the pattern's text, not by compiling it (a run
/// would pay for compiling every rule's regex).
fn secret_prefix(pattern: &str) -> Option<Vec<u8>> {
    if pattern.contains("(?i") {
        return None;
    }
    let verbose = pattern.contains("(?x");
    let p = pattern.as_bytes();
    let open = (0..p.len())
        .find(|&i| p[i] == b'(' && p.get(i + 1) != Some(&b'?') && (i == 0 || p[i - 1] != b'\\'))?;
    let mut out = Vec::new();
    let mut j = open + 1;
    while let Some(&c) = p.get(j) {
        if verbose && c.is_ascii_whitespace() {
        } else if is_token_byte(c) {
            out.push(c);
        } else {
            if matches!(c, b'?' | b'*' | b'{' | b'+') {
                // The last character is quantified: not part of the literal.
                out.pop();
            }
            break;
        }
        j += 1;
    }
    (out.len() >= 3).then_some(out)
}

/// A match without the newlines at its ends (gitleaks' `match`).
fn trim_newlines(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|&c| c != b'\n').unwrap_or(b.len());
    let end = b.iter().rposition(|&c| c != b'\n').map_or(start, |i| i + 1);
    &b[start..end]
}

/// Sort windows by start and merge overlaps.
fn normalize(windows: &mut Vec<(usize, usize)>) {
    windows.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(windows.len());
    for &(s, e) in windows.iter() {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    *windows = merged;
}

/// The secret is not glued to more token characters on either side. A letter right after a
/// backslash (`\n`, `\t` in an escaped string) does not count as glued on the left.
fn has_boundaries(bytes: &[u8], start: usize, end: usize) -> bool {
    let left_ok = start == 0
        || !is_token_byte(bytes[start - 1])
        || (start >= 2 && bytes[start - 2] == b'\\' && bytes[start - 1].is_ascii_alphabetic());
    let right_ok = end >= bytes.len() || !is_token_byte(bytes[end]);
    left_ok && right_ok
}

/// The run of base64 characters around `offset`, with trailing `=` padding.
fn base64_run(bytes: &[u8], offset: usize) -> (usize, usize) {
    let mut start = offset;
    while start > 0 && is_base64_byte(bytes[start - 1]) && offset - start < MAX_BASE64_RUN {
        start -= 1;
    }
    let mut end = offset;
    while end < bytes.len() && is_base64_byte(bytes[end]) && end - offset < MAX_BASE64_RUN {
        end += 1;
    }
    while end < bytes.len() && bytes[end] == b'=' && end - offset < MAX_BASE64_RUN {
        end += 1;
    }
    (start, end)
}

/// Decode standard or URL-safe base64, padded or not; `None` when it is not base64 after all.
fn decode_base64(run: &[u8]) -> Option<Vec<u8>> {
    let body: &[u8] = {
        let trimmed = run
            .iter()
            .rposition(|&b| b != b'=')
            .map_or(&run[..0], |i| &run[..=i]);
        // A length of 4n+1 cannot be base64; drop the stray last character.
        if trimmed.len() % 4 == 1 {
            &trimmed[..trimmed.len() - 1]
        } else {
            trimmed
        }
    };
    let url_safe = body.iter().any(|&b| b == b'-' || b == b'_');
    let config = base64::engine::GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone);
    let alphabet = if url_safe {
        &base64::alphabet::URL_SAFE
    } else {
        &base64::alphabet::STANDARD
    };
    base64::engine::GeneralPurpose::new(alphabet, config)
        .decode(body)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    /// The windowed search finds exactly what the whole-input reference finds for rules whose
    /// keyword lies inside the match (OpenAI's marker), on inputs with keys, near-keys and noise.
    #[test]
    fn windowed_search_agrees_with_the_reference() {
        let detector = Detector::new(RuleSet::builtin().unwrap());
        let openai: Vec<usize> = (0..detector.rules.rules.len())
            .filter(|&i| detector.rules.rules[i].provider == "openai")
            .collect();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
        for case in 0..300 {
            let mut text = Vec::new();
            for _ in 0..(next() % 6) {
                let half = [20usize, 46, 58, 74][(next() % 4) as usize];
                let prefix: &[u8] = [&b"sk-"[..], b"sk-proj-", b"sk-svcacct-", b"sk-admin-", b"x"]
                    [(next() % 5) as usize];
                let tail = if next() % 4 == 0 { half + 1 } else { half };
                text.extend_from_slice(b" k=\"");
                text.extend_from_slice(prefix);
                text.extend((0..half).map(|_| alphabet[(next() % 62) as usize]));
                text.extend_from_slice(b"T3BlbkFJ");
                text.extend((0..tail).map(|_| alphabet[(next() % 62) as usize]));
                text.extend_from_slice(if next() % 2 == 0 { b"\"\n" } else { b" " });
                for _ in 0..(next() % 300) {
                    let noise = b"ab T\n;-_3Bl";
                    text.push(noise[(next() % noise.len() as u64) as usize]);
                }
            }
            let pick = |v: Vec<Match>| -> Vec<(usize, usize, usize)> {
                v.into_iter()
                    .filter(|m| openai.contains(&m.rule) && m.encoding.is_none())
                    .map(|m| (m.rule, m.start, m.end))
                    .collect()
            };
            assert_eq!(
                pick(detector.find(&text)),
                pick(detector.find_unwindowed(&text)),
                "case {case}"
            );
        }
    }

    #[test]
    fn secret_prefixes_from_patterns() {
        let prefix = |p: &str| secret_prefix(p).map(|v| String::from_utf8(v).unwrap());
        assert_eq!(
            prefix("(sk-proj-[A-Za-z0-9]{20})").as_deref(),
            Some("sk-proj-")
        );
        assert_eq!(
            prefix("(?x) ( ghp_ [A-Za-z0-9]{36} )").as_deref(),
            Some("ghp_")
        );
        assert_eq!(prefix("key=(abcd?[0-9]+)").as_deref(), Some("abc"));
        assert_eq!(prefix("((?:AKIA|ASIA)[A-Z0-9]{16})"), None);
        assert_eq!(prefix("(?i)(token_[a-z]{9})"), None);
    }

    #[test]
    fn boundaries() {
        let cases: &[(&[u8], usize, usize, bool)] = &[
            (b"KEY", 0, 3, true),
            (b"xKEY", 1, 4, false),
            (b"KEYx", 0, 3, false),
            (b"\"KEY\"", 1, 4, true),
            (b"a\\nKEY", 3, 6, true),
            (b"KEY-", 0, 3, false),
            (b"_KEY", 1, 4, false),
            (b"=KEY;", 1, 4, true),
        ];
        for (bytes, s, e, want) in cases {
            assert_eq!(
                has_boundaries(bytes, *s, *e),
                *want,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn base64_decoding_accepts_both_alphabets() {
        let std = base64::engine::general_purpose::STANDARD.encode(b"hello>>>?world");
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b"hello>>>?world");
        assert_eq!(decode_base64(std.as_bytes()).unwrap(), b"hello>>>?world");
        assert_eq!(decode_base64(url.as_bytes()).unwrap(), b"hello>>>?world");
        assert!(decode_base64(b"!!!!").is_none());
    }

    #[test]
    fn base64_run_stops_at_delimiters() {
        let text = b"auth: \"QUJDREVGR0g=\" next";
        let (s, e) = base64_run(text, 10);
        assert_eq!(&text[s..e], b"QUJDREVGR0g=");
    }
}
