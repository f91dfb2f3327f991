//! The literal prefilter: every rule's keywords, plus each keyword as it appears inside base64
//! text at the three possible alignments, found ASCII-case-insensitively in one pass over the
//! bytes. The pass yields, per rule, the windows its regex must search, and the positions of
//! encoded keywords for the base64 decoder. Clean code therefore costs one pass.
//!
//! The pass is a gram filter rather than an Aho-Corasick automaton: at each position the four
//! bytes there, case-folded and hashed, index a 128 Kibit table (16 KiB, in L1 cache) of the first
//! four bytes of every keyword (a three-byte keyword sets the bit of every byte that may follow
//! it; two-byte keywords are found with `memmem`). Only a position whose bit is set is checked,
//! against the few keywords of its bucket. With hundreds of keywords an automaton's states no
//! longer fit in L1 and every byte costs a dependent load; here a byte costs independent L1
//! loads, and the table builds in well under a millisecond, so a pre-commit hook pays nothing
//! to start. It finds exactly
//! the occurrences an overlapping Aho-Corasick search finds (the tests compare the two).

use crate::rules::Rule;
use base64::Engine;

/// What one keyword pattern stands for.
#[derive(Debug, Clone)]
enum Keyword {
    /// A plain keyword shared by these rules (indices into the rule list).
    Plain { rules: Vec<usize> },
    /// A keyword as it looks in base64 text; the exact (case-sensitive) fragment.
    Encoded { fragment: Vec<u8> },
}

/// Keyword hits of one blob.
#[derive(Debug, Default)]
pub struct Hits {
    /// Per rule, merged byte windows `[start, end)` to search.
    pub windows: Vec<Vec<(usize, usize)>>,
    /// Offsets where an encoded keyword starts.
    pub encoded: Vec<usize>,
}

/// The compiled prefilter for a rule list; cheap to clone.
#[derive(Debug, Clone)]
pub struct Prefilter {
    grams: std::sync::Arc<Grams>,
    keywords: std::sync::Arc<Vec<Keyword>>,
    windows: Vec<usize>,
    /// Rules without keywords (imported gitleaks rules may have none): searched everywhere.
    always: Vec<usize>,
    rule_count: usize,
}

/// Shortest base64 fragment worth looking for: shorter ones hit ordinary text too often.
const MIN_FRAGMENT: usize = 4;

/// Bits of the gram table's index: 128 Kibit, 16 KiB, in L1 cache.
const TABLE_BITS: u32 = 17;
const TABLE_WORDS: usize = (1 << TABLE_BITS) / 64;

/// Case folding for the table: `b | 0x20` maps both cases of a letter to one byte (and other
/// bytes to themselves or to a byte no letter maps to), so equal-ignoring-ASCII-case bytes fold
/// equal. It folds more than that, which costs only a needless check.
const FOLD4: u32 = 0x2020_2020;

fn hash4(folded: u32) -> usize {
    (folded.wrapping_mul(0x9E37_79B1) >> (32 - TABLE_BITS)) as usize
}

/// The keyword patterns by their first four bytes.
#[derive(Debug)]
struct Grams {
    /// Lower-case patterns.
    patterns: Vec<Vec<u8>>,
    /// Bit per [`hash4`] of the first four folded bytes of a pattern; a three-byte pattern
    /// sets the bit of each fourth byte that may follow it.
    bits: Box<[u64; TABLE_WORDS]>,
    /// Bucket `h` holds the patterns `ids[start[h]..start[h + 1]]`.
    start: Vec<u32>,
    ids: Vec<u32>,
    /// Three-byte patterns, also checked where no fourth byte follows (the end of the bytes).
    threes: Vec<u32>,
    /// Two-byte patterns: each case form, found with `memmem`.
    twos: Vec<(memchr::memmem::Finder<'static>, u32)>,
}

impl Grams {
    fn new(patterns: Vec<Vec<u8>>) -> Grams {
        let size = 1usize << TABLE_BITS;
        let mut bits = Box::new([0u64; TABLE_WORDS]);
        // (bucket, pattern) pairs, sorted into buckets below: no allocation per bucket, so the
        // table builds in well under a millisecond (the pre-commit hook's start-up).
        let mut entries: Vec<(u32, u32)> = Vec::new();
        let mut add = |key: [u8; 4], id: u32| {
            let h = hash4(u32::from_le_bytes(key) | FOLD4);
            bits[h >> 6] |= 1 << (h & 63);
            entries.push((h as u32, id));
        };
        let mut threes = Vec::new();
        let mut twos = Vec::new();
        for (id, p) in patterns.iter().enumerate() {
            let id = id as u32;
            match p.len() {
                0 | 1 => {}
                2 => {
                    let (a, b) = (p[0], p[1]);
                    let mut forms = vec![
                        [a.to_ascii_lowercase(), b.to_ascii_lowercase()],
                        [a.to_ascii_uppercase(), b.to_ascii_lowercase()],
                        [a.to_ascii_lowercase(), b.to_ascii_uppercase()],
                        [a.to_ascii_uppercase(), b.to_ascii_uppercase()],
                    ];
                    forms.sort_unstable();
                    forms.dedup();
                    for f in forms {
                        twos.push((memchr::memmem::Finder::new(&f).into_owned(), id));
                    }
                }
                3 => {
                    threes.push(id);
                    for x in 0..=255u8 {
                        add([p[0], p[1], p[2], x], id);
                    }
                }
                _ => add([p[0], p[1], p[2], p[3]], id),
            }
        }
        entries.sort_unstable();
        entries.dedup();
        let mut start = vec![0u32; size + 1];
        for &(h, _) in &entries {
            start[h as usize + 1] += 1;
        }
        for i in 0..size {
            start[i + 1] += start[i];
        }
        let ids = entries.into_iter().map(|(_, id)| id).collect();
        Grams {
            patterns,
            bits,
            start,
            ids,
            threes,
            twos,
        }
    }

    /// Call `found(pattern id, start)` for every occurrence of every pattern in `bytes`,
    /// ignoring ASCII case (patterns of two bytes last, the others in order of start).
    fn each(&self, bytes: &[u8], mut found: impl FnMut(usize, usize)) {
        let patterns = &self.patterns;
        let matches = |id: u32, at: usize| {
            let p = &patterns[id as usize];
            bytes.len() - at >= p.len() && bytes[at..at + p.len()].eq_ignore_ascii_case(p)
        };
        let bits: &[u64; TABLE_WORDS] = &self.bits;
        for (at, w) in bytes.windows(4).enumerate() {
            let h = hash4(u32::from_le_bytes([w[0], w[1], w[2], w[3]]) | FOLD4);
            if bits[h >> 6] & (1 << (h & 63)) != 0 {
                let (a, b) = (self.start[h] as usize, self.start[h + 1] as usize);
                for &id in &self.ids[a..b] {
                    if matches(id, at) {
                        found(id as usize, at);
                    }
                }
            }
        }
        // A three-byte pattern at the very end has no fourth byte to be found by.
        if bytes.len() >= 3 {
            let at = bytes.len() - 3;
            for &id in &self.threes {
                if matches(id, at) {
                    found(id as usize, at);
                }
            }
        }
        for (finder, id) in &self.twos {
            for at in finder.find_iter(bytes) {
                found(*id as usize, at);
            }
        }
    }
}

impl Prefilter {
    pub fn new(rules: &[Rule]) -> Prefilter {
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut keywords: Vec<Keyword> = Vec::new();
        let mut plain_index: std::collections::HashMap<Vec<u8>, usize> = Default::default();
        for (ri, rule) in rules.iter().enumerate() {
            for kw in &rule.keywords {
                let lower = kw.to_ascii_lowercase().into_bytes();
                match plain_index.get(&lower) {
                    Some(&i) => {
                        if let Keyword::Plain { rules } = &mut keywords[i] {
                            if !rules.contains(&ri) {
                                rules.push(ri);
                            }
                        }
                    }
                    None => {
                        plain_index.insert(lower.clone(), patterns.len());
                        patterns.push(lower);
                        keywords.push(Keyword::Plain { rules: vec![ri] });
                    }
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        for rule in rules {
            for kw in &rule.keywords {
                for fragment in encoded_fragments(kw.as_bytes()) {
                    if seen.insert(fragment.clone()) {
                        patterns.push(fragment.to_ascii_lowercase());
                        keywords.push(Keyword::Encoded { fragment });
                    }
                }
            }
        }
        // A one-byte keyword (possible in imported gitleaks rules) would hit everywhere: its
        // rules are searched everywhere instead.
        let mut always: Vec<usize> = (0..rules.len())
            .filter(|&i| rules[i].keywords.is_empty())
            .collect();
        for (i, p) in patterns.iter_mut().enumerate() {
            if p.len() < 2 {
                if let Keyword::Plain { rules } = &mut keywords[i] {
                    always.append(rules);
                }
                // Left out of the table (never matches).
                p.clear();
            }
        }
        always.sort_unstable();
        always.dedup();
        Prefilter {
            grams: std::sync::Arc::new(Grams::new(patterns)),
            keywords: std::sync::Arc::new(keywords),
            windows: rules.iter().map(|r| r.window).collect(),
            always,
            rule_count: rules.len(),
        }
    }

    /// One pass over `bytes`: per-rule windows around plain hits, offsets of encoded hits.
    pub fn hits(&self, bytes: &[u8], with_encoded: bool) -> Hits {
        let mut hits = Hits {
            windows: vec![Vec::new(); self.rule_count],
            encoded: Vec::new(),
        };
        for &ri in &self.always {
            hits.windows[ri].push((0, bytes.len()));
        }
        self.grams
            .each(bytes, |pid, start| match &self.keywords[pid] {
                Keyword::Plain { rules } => {
                    let len = self.grams.patterns[pid].len();
                    for &ri in rules {
                        let w = self.windows[ri];
                        let from = start.saturating_sub(w);
                        let to = (start + len).saturating_add(w).min(bytes.len());
                        push_window(&mut hits.windows[ri], from, to);
                    }
                }
                Keyword::Encoded { fragment } => {
                    if with_encoded && &bytes[start..start + fragment.len()] == fragment.as_slice()
                    {
                        hits.encoded.push(start);
                    }
                }
            });
        hits
    }
}

/// Add a window, merging with the previous one when they overlap (hits arrive in order of
/// their start; merging with the last is enough to stay linear).
fn push_window(windows: &mut Vec<(usize, usize)>, start: usize, end: usize) {
    if let Some(last) = windows.last_mut() {
        if start <= last.1 && end >= last.0 {
            last.0 = last.0.min(start);
            last.1 = last.1.max(end);
            return;
        }
    }
    windows.push((start, end));
}

/// The parts of base64 text that are fully determined by `keyword`, at each of the three
/// alignments it can have inside the encoded data, in both the standard and URL-safe alphabets.
pub fn encoded_fragments(keyword: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for offset in 0..3usize {
        let mut data = vec![0u8; offset];
        data.extend_from_slice(keyword);
        for engine in [
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            let encoded = engine.encode(&data).into_bytes();
            // Character i covers bits [6i, 6i+6); keep those inside the keyword's bits.
            let first = (8 * offset).div_ceil(6);
            let last = (8 * (offset + keyword.len())) / 6;
            if last > first && last - first >= MIN_FRAGMENT {
                let fragment = encoded[first..last].to_vec();
                if !out.contains(&fragment) {
                    out.push(fragment);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_appear_in_encoded_text_at_every_alignment() {
        let keyword = b"T3BlbkFJ";
        let fragments = encoded_fragments(keyword);
        for prefix in ["", "a", "ab", "abc"] {
            let text = format!("{prefix}{}tail", std::str::from_utf8(keyword).unwrap());
            let enc = base64::engine::general_purpose::STANDARD.encode(text);
            assert!(
                fragments
                    .iter()
                    .any(|f| enc.as_bytes().windows(f.len()).any(|w| w == f.as_slice())),
                "no fragment of the keyword found in {enc} (prefix {prefix:?})"
            );
        }
    }

    /// Every (pattern, start) an overlapping ASCII-case-insensitive Aho-Corasick search
    /// finds, sorted.
    fn reference(grams: &Grams, bytes: &[u8]) -> Vec<(usize, usize)> {
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&grams.patterns)
            .unwrap();
        let mut v: Vec<(usize, usize)> = ac
            .find_overlapping_iter(bytes)
            .map(|m| (m.pattern().as_usize(), m.start()))
            .collect();
        v.sort_unstable();
        v
    }

    fn grams_found(grams: &Grams, bytes: &[u8]) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        grams.each(bytes, |id, at| v.push((id, at)));
        v.sort_unstable();
        v
    }

    /// The gram filter finds exactly what Aho-Corasick finds: on every rule's examples and
    /// counter-examples, plain and base64-encoded, in mixed case, and on random text made of
    /// keyword pieces (overlaps, keywords at the very end, short keywords).
    #[test]
    fn grams_find_what_aho_corasick_finds() {
        let rules = crate::rules::RuleSet::builtin().unwrap().rules;
        let pf = Prefilter::new(&rules);
        let grams = &pf.grams;
        let mut text = Vec::new();
        for rule in &rules {
            for e in rule.examples.iter().chain(&rule.counter_examples) {
                text.extend_from_slice(e.as_bytes());
                text.push(b'\n');
                text.extend(e.to_ascii_uppercase().bytes());
                text.push(b'\n');
                text.extend(base64::engine::general_purpose::STANDARD.encode(e).bytes());
                text.push(b'\n');
            }
        }
        let want = reference(grams, &text);
        assert!(want.len() > 200, "{}", want.len());
        assert_eq!(grams_found(grams, &text), want);
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for case in 0..500 {
            let mut t: Vec<u8> = Vec::new();
            for _ in 0..(next() % 12) {
                let p = &grams.patterns[(next() % grams.patterns.len() as u64) as usize];
                let cut = (next() as usize) % (p.len() + 1);
                let piece: Vec<u8> = if next() % 3 == 0 {
                    p[..cut].to_vec()
                } else {
                    p.clone()
                };
                t.extend(piece.iter().map(|&b| {
                    if next() % 2 == 0 {
                        b.to_ascii_uppercase()
                    } else {
                        b
                    }
                }));
                if next() % 2 == 0 {
                    t.push(b"_-. ~Ab"[(next() % 7) as usize]);
                }
            }
            assert_eq!(
                grams_found(grams, &t),
                reference(grams, &t),
                "case {case}: {:?}",
                String::from_utf8_lossy(&t)
            );
        }
        // Bytes that fold together under `| 0x20` but are not the same letter are no match.
        let g = Grams::new(vec![b"a_b_".to_vec(), b"q~".to_vec()]);
        assert_eq!(
            grams_found(&g, b"A_B_ a\x7fb\x7f Q~ q^"),
            vec![(0, 0), (1, 10)]
        );
    }

    #[test]
    fn windows_merge_when_they_overlap() {
        let mut w = Vec::new();
        push_window(&mut w, 0, 10);
        push_window(&mut w, 5, 20);
        push_window(&mut w, 30, 40);
        assert_eq!(w, vec![(0, 20), (30, 40)]);
    }
}
