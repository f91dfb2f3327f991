//! From a detector [`Match`] to a [`Finding`]: line and column (bytes and code points), the
//! fingerprint, and a snippet of the line with every copy of a found secret redacted. Pure: bytes
//! and a [`Provenance`] in, findings out; no I/O.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

use super::{Detector, Match};
use crate::finding::{Finding, Location, Provenance};
use crate::redact::{redact, redact_after};
use crate::rules::{Rule, SecretGroup};

/// Characters of context kept on each side of a secret in a snippet.
const SNIPPET_CONTEXT: usize = 60;

/// Memory of one fingerprint computation, in KiB (Argon2id `m`): 2 MiB, one pass (`t` = 1,
/// `p` = 1). Lighter than a password store's setting (OWASP: 19 MiB, t = 2) on purpose: a
/// report can hold thousands of distinct secrets (a leaked dump, a hostile file), each costing
/// one computation (about 1 ms of a core: 5,000 distinct secrets cost 5 s of CPU), and a scan
/// must stay minutes, not hours. It is still memory-hard: a guess moves about 6 MiB of memory,
/// so a GPU tries some hundred thousand a second where it tries ten billion SHA-256
/// (docs/redaction.md, "What a report gives away").
const FINGERPRINT_MEMORY_KIB: u32 = 2 * 1024;
/// Passes over that memory (Argon2id `t`).
const FINGERPRINT_PASSES: u32 = 1;
/// Argon2's salt: fixed, so the fingerprint is the same on every machine and in every run (a
/// baseline, `--state`, shard merge and SARIF depend on that); it separates keyhound's
/// fingerprints from any other use of Argon2id, so no table built for another tool applies.
const FINGERPRINT_SALT: &[u8] = b"keyhound secret fingerprint v2";
/// What a fingerprint's definition is, for files that keep fingerprints across runs (the
/// `--state` file's rule key, SARIF's `partialFingerprints` key): change it with the definition.
pub const FINGERPRINT_VERSION: &str = "argon2id-m2048-t1-p1-v2";

/// Stable hash of rule id and secret, independent of position: the key of baselines,
/// `[allow] fingerprints`, SARIF and GitLab identities and audit summaries. 32 hex digits of
/// Argon2id over rule id and secret (issue 19 item 3): each guess at a secret costs an attacker
/// holding a report milliseconds of a CPU core and 2 MiB of memory, so a fingerprint cannot
/// confirm guesses cheaply the way a plain SHA-256 could. Computed once per distinct (rule,
/// secret) in a process (memoized): an audit has many findings of few secrets.
pub fn fingerprint(rule_id: &str, secret: &[u8]) -> String {
    static MEMO: OnceLock<Mutex<Memo>> = OnceLock::new();
    // The memo's key is a hash, so the table holds no secret.
    let key: [u8; 32] = {
        let mut h = Sha256::new();
        h.update(b"keyhound fingerprint memo\0");
        h.update(rule_id.as_bytes());
        h.update([0]);
        h.update(secret);
        h.finalize().into()
    };
    let cell = {
        let mut memo = MEMO
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        Arc::clone(memo.entry(key).or_default())
    };
    // Outside the table's lock: threads wait only for the secret they also want.
    cell.get_or_init(|| slow_fingerprint(rule_id, secret))
        .clone()
}

/// Each (rule, secret)'s fingerprint, by a hash of them, filled once by whoever asks first.
type Memo = HashMap<[u8; 32], Arc<OnceLock<String>>>;

fn slow_fingerprint(rule_id: &str, secret: &[u8]) -> String {
    let params = argon2::Params::new(FINGERPRINT_MEMORY_KIB, FINGERPRINT_PASSES, 1, Some(16))
        .expect("fixed Argon2 parameters are valid");
    let blocks_needed = params.block_count();
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut input = Vec::with_capacity(rule_id.len() + 1 + secret.len());
    input.extend_from_slice(rule_id.as_bytes());
    input.push(0);
    input.extend_from_slice(secret);
    // Each thread keeps its 2 MiB of Argon2 memory: a fresh allocation per secret costs page
    // faults and, with glibc, heap that is not given back (5,000 secrets: 128 MB resident).
    thread_local! {
        static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> = const {
            std::cell::RefCell::new(Vec::new())
        };
    }
    let mut out = [0u8; 16];
    BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        blocks.resize(blocks_needed, argon2::Block::default());
        argon
            .hash_password_into_with_memory(&input, FINGERPRINT_SALT, &mut out, &mut blocks[..])
            .expect("fixed Argon2 parameters and a 16-byte output are valid");
    });
    hex(&out)
}

/// The fingerprint of keyhound before issue 19 (truncated, unsalted SHA-256 of rule id and
/// secret). Computed in memory only, to let baselines and `[allow] fingerprints` written then
/// keep suppressing their findings; never written to any output.
pub fn legacy_fingerprint(rule_id: &str, secret: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update([0]);
    h.update(secret);
    hex(&h.finalize()[..16])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The literal texts `rule`'s pattern requires every secret to start with (`sk-proj-`,
/// `AKIA`/`ASIA`/...): what redaction may show of a secret as public. Taken from the pattern's
/// secret group by regex-syntax's prefix extractor, with classes of more than one character
/// never expanded, so no character a key chooses counts as its prefix. Empty when any match
/// could start otherwise (an optional prefix, a case-insensitive one, a gitleaks rule whose
/// secret is the first of several groups that matched).
pub fn known_prefixes(rule: &Rule) -> Vec<String> {
    use regex_syntax::hir::literal::Extractor;
    let parse = |unicode: bool| {
        regex_syntax::ParserBuilder::new()
            .unicode(unicode)
            .utf8(false)
            .build()
            .parse(&rule.pattern)
            .ok()
    };
    let Some(hir) = parse(false).or_else(|| parse(true)) else {
        return Vec::new();
    };
    let groups = hir.properties().explicit_captures_len();
    let group = match rule.secret_group {
        SecretGroup::Index(i) => i,
        SecretGroup::FirstNonEmpty if groups == 0 => 0,
        SecretGroup::FirstNonEmpty if groups == 1 => 1,
        SecretGroup::FirstNonEmpty => return Vec::new(),
    };
    let Some(sub) = capture(&hir, group) else {
        return Vec::new();
    };
    let seq = Extractor::new().limit_class(1).extract(sub);
    let Some(literals) = seq.literals() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for l in literals {
        match std::str::from_utf8(l.as_bytes()) {
            Ok(text) if !text.is_empty() => out.push(text.to_string()),
            // One way to match that starts with nothing known: no prefix is known.
            _ => return Vec::new(),
        }
    }
    out
}

/// The sub-expression of capture group `index` (0: the whole pattern).
fn capture(hir: &regex_syntax::hir::Hir, index: usize) -> Option<&regex_syntax::hir::Hir> {
    use regex_syntax::hir::HirKind;
    if index == 0 {
        return Some(hir);
    }
    match hir.kind() {
        HirKind::Capture(c) if c.index as usize == index => Some(&c.sub),
        HirKind::Capture(c) => capture(&c.sub, index),
        HirKind::Repetition(r) => capture(&r.sub, index),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            subs.iter().find_map(|s| capture(s, index))
        }
        _ => None,
    }
}

/// Bytes of `secret` that are one of `prefixes` (the longest that fits), or 0.
pub fn known_prefix(prefixes: &[String], secret: &str) -> usize {
    prefixes
        .iter()
        .filter(|p| secret.starts_with(p.as_str()))
        .map(String::len)
        .max()
        .unwrap_or(0)
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
    warm_fingerprints(detector, &matches);
    // Every match is redacted in the snippets, listed or not.
    let (keep, more) = super::cap(&matches);
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
fn warm_fingerprints(detector: &Detector, matches: &[Match]) {
    use rayon::prelude::*;
    if matches.len() < 2 {
        return;
    }
    let mut distinct: Vec<(usize, &[u8])> = matches
        .iter()
        .map(|m| (m.rule, m.secret.as_slice()))
        .collect();
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

    // issue 19 item 3
    #[test]
    fn known_prefixes_come_from_the_rule_pattern_only() {
        let rules = crate::rules::RuleSet::builtin().expect("built-in rules load");
        let of = |id: &str| known_prefixes(rules.get(id).expect("a built-in rule"));
        assert_eq!(of("openai.project-key"), ["sk-proj-"]);
        assert_eq!(of("openai.legacy-key"), ["sk-"]);
        let mut aws = of("aws.access-key-id");
        aws.sort();
        assert_eq!(aws, ["A3T", "ABIA", "ACCA", "AKIA", "ASIA"]);
        let with = |pattern: &str, group: SecretGroup| {
            let mut rule = rules.get("openai.project-key").unwrap().clone();
            rule.pattern = pattern.to_string();
            rule.secret_group = group;
            known_prefixes(&rule)
        };
        let one = SecretGroup::Index(1);
        assert_eq!(with(r"tok_[a-z]{20}", SecretGroup::Index(0)), ["tok_"]);
        assert_eq!(with(r"key=(tok_[a-z]{20})", one), ["tok_"]);
        // Nothing a key chooses is a prefix: a class, even a small one, an optional or
        // case-insensitive literal, a value after a keyword.
        assert!(with(r"([0-9]{3}[a-z]{20})", one).is_empty());
        assert!(with(r"((?:tok_)?[a-z]{20})", one).is_empty());
        assert!(with(r"(?i)(tok_[a-z]{20})", one).is_empty());
        assert!(with(r#"password\s*=\s*"([^"]{8,})""#, one).is_empty());
        // gitleaks' first group that matched: known only with a single group.
        assert_eq!(
            with(r"(tok_[a-z]{20})", SecretGroup::FirstNonEmpty),
            ["tok_"]
        );
        assert!(with(r"(tok_[a-z]{20})|(xy_[a-z]{9})", SecretGroup::FirstNonEmpty).is_empty());
        assert_eq!(
            known_prefix(&["sk-".into(), "sk-proj-".into()], "sk-proj-x"),
            8
        );
        assert_eq!(known_prefix(&["tok_".into()], "other"), 0);
    }

    // issue 19 item 3
    #[test]
    fn fingerprint_is_argon2id_and_the_legacy_form_is_the_old_sha256() {
        let new = fingerprint("a.b", b"s1");
        assert_eq!(new, slow_fingerprint("a.b", b"s1"));
        assert_ne!(new, legacy_fingerprint("a.b", b"s1"));
        let mut h = Sha256::new();
        h.update(b"a.b\0s1");
        assert_eq!(legacy_fingerprint("a.b", b"s1"), hex(&h.finalize()[..16]));
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
