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
pub(crate) struct Hits {
    /// Per rule, merged byte windows `[start, end)` to search.
    pub windows: Vec<Vec<(usize, usize)>>,
    /// Offsets where an encoded keyword starts.
    pub encoded: Vec<usize>,
}

/// The compiled prefilter for a rule list; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Prefilter {
    grams: std::sync::Arc<Grams>,
    keywords: std::sync::Arc<Vec<Keyword>>,
    windows: Vec<usize>,
    /// Rules without keywords (imported gitleaks rules may have none): searched everywhere.
    always: Vec<usize>,
    rule_count: usize,
    /// No pattern holds a line break, so none spans two chunks ([`Prefilter::hits_known`]).
    chunkable: bool,
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
    pub(crate) fn new(rules: &[Rule]) -> Prefilter {
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
        let chunkable = !patterns.iter().any(|p| p.contains(&b'\n'));
        Prefilter {
            chunkable,
            grams: std::sync::Arc::new(Grams::new(patterns)),
            keywords: std::sync::Arc::new(keywords),
            windows: rules.iter().map(|r| r.window).collect(),
            always,
            rule_count: rules.len(),
        }
    }

    /// One pass over `bytes`: per-rule windows around plain hits, offsets of encoded hits.
    pub(crate) fn hits(&self, bytes: &[u8], with_encoded: bool) -> Hits {
        let mut hits = self.no_hits(bytes);
        self.grams.each(bytes, |pid, at| {
            self.record(&mut hits, bytes, pid, at, with_encoded)
        });
        hits
    }

    /// [`Prefilter::hits`], passing over the chunks of `bytes` that `clean` already knows hold
    /// no keyword, and teaching it the new ones that hold none: the same hits, as no keyword
    /// spans a line break and chunks end at one (see [`CleanChunks`]).
    pub(crate) fn hits_known(
        &self,
        bytes: &[u8],
        with_encoded: bool,
        clean: &mut CleanChunks,
    ) -> Hits {
        if !self.chunkable {
            return self.hits(bytes, with_encoded);
        }
        let mut hits = self.no_hits(bytes);
        let mut here: Vec<(u32, u32)> = Vec::new();
        each_chunk(bytes, |start, end| {
            let chunk = &bytes[start..end];
            let key = xxhash_rust::xxh3::xxh3_64(chunk);
            if clean.contains(key) {
                clean.passed += chunk.len() as u64;
                return;
            }
            if let Some(known) = clean.dirty.get(&key) {
                // A chunk seen before with keywords in it: the same hits, not searched again.
                clean.replayed += chunk.len() as u64;
                for &(pid, at) in known.iter() {
                    self.record(
                        &mut hits,
                        bytes,
                        pid as usize,
                        start + at as usize,
                        with_encoded,
                    );
                }
                return;
            }
            here.clear();
            self.grams.each(chunk, |pid, at| {
                here.push((pid as u32, at as u32));
                self.record(&mut hits, bytes, pid, start + at, with_encoded)
            });
            if here.is_empty() {
                clean.learn(key);
            } else if here.len() <= MAX_REPLAYED && chunk.len() <= u32::MAX as usize {
                clean.learn_dirty(key, &here);
            }
        });
        hits
    }

    /// The hits before any keyword: rules without keywords search everything.
    fn no_hits(&self, bytes: &[u8]) -> Hits {
        let mut hits = Hits {
            windows: vec![Vec::new(); self.rule_count],
            encoded: Vec::new(),
        };
        for &ri in &self.always {
            hits.windows[ri].push((0, bytes.len()));
        }
        hits
    }

    /// Note pattern `pid` found at `start` of `bytes`.
    fn record(&self, hits: &mut Hits, bytes: &[u8], pid: usize, start: usize, with_encoded: bool) {
        match &self.keywords[pid] {
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
                if with_encoded && &bytes[start..start + fragment.len()] == fragment.as_slice() {
                    hits.encoded.push(start);
                }
            }
        }
    }
}

/// Chunks of text the prefilter searched and found no keyword in, by a 64-bit hash of their
/// bytes, so the next version of a file in a history pays for its changed chunks only (issue
/// 12: on git/git 4.85 of 5.6 GB of blob versions are chunks an earlier version had); and
/// chunks with a few keywords in them, with where they are, so their hits are replayed (the
/// rules' regexes still run around them: their windows reach past the chunk). A chunk
/// is a run of whole lines, cut where a line's last bytes say so ([`each_chunk`]), so an edit
/// moves the cuts around it only. Holding at most `cap` chunks (16 bytes of table each at
/// most), it forgets them all when full, so memory stays bounded. Two different chunks share a
/// hash with odds of one in 2^64 per pair: a key in a chunk that collided with a clean one of
/// the same thread's run would be passed over; at a million chunks and fifty million lookups,
/// the odds of any collision at all are about three in a million per audit.
#[derive(Debug)]
pub struct CleanChunks {
    /// Open addressing, linear probing, at most half full; 0 is an empty slot (a key of 0 is
    /// stored as 1). One cache miss a lookup, where a general hash set takes two.
    slots: Vec<u64>,
    len: usize,
    cap: usize,
    /// Chunks seen with keywords in them (at most `MAX_REPLAYED`), and where: (pattern, offset
    /// in the chunk), in the order the search gave them; at most `cap / 4` chunks holding `cap`
    /// hits in all (about 18 MB at most for a cap of a million).
    dirty: std::collections::HashMap<u64, Box<[(u32, u32)]>, PrehashedBuild>,
    dirty_hits: usize,
    /// Bytes passed over because their chunk was known clean.
    pub passed: u64,
    /// Bytes whose hits were replayed because their chunk was known.
    pub replayed: u64,
}

/// Keyword hits a remembered chunk may hold: more is data dense with fragments, not code.
const MAX_REPLAYED: usize = 32;

/// A hasher for keys that are hashes already (chunk hashes here, object ids in history):
/// the first eight bytes of each write, which are uniformly distributed as they are.
#[derive(Debug, Default)]
pub(crate) struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut head = [0u8; 8];
        let n = bytes.len().min(8);
        head[..n].copy_from_slice(&bytes[..n]);
        self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(head);
    }
}

/// Build [`Prehashed`] hashers.
pub(crate) type PrehashedBuild = std::hash::BuildHasherDefault<Prehashed>;

impl CleanChunks {
    pub fn new(cap: usize) -> CleanChunks {
        CleanChunks {
            slots: Vec::new(),
            len: 0,
            cap,
            dirty: Default::default(),
            dirty_hits: 0,
            passed: 0,
            replayed: 0,
        }
    }

    fn learn_dirty(&mut self, key: u64, hits: &[(u32, u32)]) {
        if self.dirty.len() >= self.cap / 4 || self.dirty_hits + hits.len() > self.cap {
            self.dirty.clear();
            self.dirty_hits = 0;
        }
        self.dirty_hits += hits.len();
        self.dirty.insert(key, hits.into());
    }

    fn contains(&self, key: u64) -> bool {
        let key = key.max(1);
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = key as usize & mask;
        while let Some(&slot) = self.slots.get(i) {
            if slot == key {
                return true;
            }
            if slot == 0 {
                return false;
            }
            i = (i + 1) & mask;
        }
        false
    }

    fn learn(&mut self, key: u64) {
        if self.len >= self.cap {
            self.slots.fill(0);
            self.len = 0;
        }
        if 2 * (self.len + 1) > self.slots.len() {
            let size = (2 * self.slots.len()).max(1 << 12);
            let old = std::mem::replace(&mut self.slots, vec![0; size]);
            self.len = 0;
            for slot in old.into_iter().filter(|&s| s != 0) {
                self.put(slot);
            }
        }
        self.put(key.max(1));
    }

    fn put(&mut self, key: u64) {
        let mask = self.slots.len() - 1;
        let mut i = key as usize & mask;
        while self.slots[i] != 0 {
            if self.slots[i] == key {
                return;
            }
            i = (i + 1) & mask;
        }
        self.slots[i] = key;
        self.len += 1;
    }

    /// Chunks known now.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Shortest chunk (at least 8: the bytes a cut is decided by): cuts closer together cost more
/// lookups than they save.
const MIN_CHUNK: usize = 256;
/// A chunk is cut at a line end whose last eight bytes hash to one of this many values in 256
/// (so about one line in four, past `MIN_CHUNK`).
const CUT_ODDS: u64 = 64;

/// Call `each(start, end)` for the chunks of `bytes` in order: runs of whole lines, cut after a
/// line break when the eight bytes before it say so (so the same lines are cut the same way in
/// every version of a file), and the rest at the end. Line breaks closer than `MIN_CHUNK` to
/// the chunk's start are never looked at.
fn each_chunk(bytes: &[u8], mut each: impl FnMut(usize, usize)) {
    let mut start = 0;
    let mut from = MIN_CHUNK - 1;
    while from < bytes.len() {
        let Some(offset) = memchr::memchr(b'\n', &bytes[from..]) else {
            break;
        };
        let nl = from + offset;
        let tail = u64::from_le_bytes(bytes[nl - 8..nl].try_into().expect("eight bytes"));
        if tail.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56 < CUT_ODDS {
            each(start, nl + 1);
            start = nl + 1;
            from = start + MIN_CHUNK - 1;
        } else {
            from = nl + 1;
        }
    }
    if start < bytes.len() {
        each(start, bytes.len());
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
pub(crate) fn encoded_fragments(keyword: &[u8]) -> Vec<Vec<u8>> {
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

    /// Hits sorted and merged, to compare two passes.
    fn canonical(mut hits: Hits) -> (Vec<Vec<(usize, usize)>>, Vec<usize>) {
        for w in &mut hits.windows {
            crate::detect::normalize(w);
        }
        hits.encoded.sort_unstable();
        (hits.windows, hits.encoded)
    }

    /// Passing over chunks known to be clean, and replaying the hits of chunks known to hold
    /// keywords, gives exactly the hits of a full pass, version
    /// after version of a file edited at random (lines changed, inserted, deleted; keys, bare
    /// keywords, base64 of keys and CRLF lines put in and taken out), with a memory small
    /// enough to be forgotten and refilled on the way; and it does pass over most bytes.
    #[test]
    fn known_clean_chunks_give_the_hits_of_a_full_pass() {
        let rules = crate::rules::RuleSet::builtin().unwrap().rules;
        let pf = Prefilter::new(&rules);
        assert!(pf.chunkable);
        let examples: Vec<&str> = rules
            .iter()
            .flat_map(|r| r.examples.iter().map(String::as_str))
            .collect();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let line = |next: &mut dyn FnMut() -> u64| -> Vec<u8> {
            match next() % 60 {
                0 => format!("token = \"{}\"", examples[next() as usize % examples.len()])
                    .into_bytes(),
                1 => base64::engine::general_purpose::STANDARD
                    .encode(examples[next() as usize % examples.len()])
                    .into_bytes(),
                2 => b"apikey sk- ghp_ AKIA xoxb-\r".to_vec(),
                _ => {
                    let filler = b"abcdefgh ijk(){};=_-\t";
                    let n = next() % 70;
                    (0..n)
                        .map(|_| filler[next() as usize % filler.len()])
                        .collect()
                }
            }
        };
        let mut lines: Vec<Vec<u8>> = (0..300).map(|_| line(&mut next)).collect();
        let mut clean = CleanChunks::new(1 << 16);
        let mut forgetful = CleanChunks::new(40);
        let mut total = 0u64;
        for version in 0..400 {
            for _ in 0..=(next() % 3) {
                let at = next() as usize % (lines.len() + 1);
                match next() % 3 {
                    0 if at < lines.len() => lines[at] = line(&mut next),
                    1 if at < lines.len() && lines.len() > 1 => {
                        lines.remove(at);
                    }
                    _ => lines.insert(at, line(&mut next)),
                }
            }
            let mut text = lines.join(&b'\n');
            if version % 2 == 0 {
                text.push(b'\n');
            }
            total += text.len() as u64;
            let full = canonical(pf.hits(&text, true));
            let known = canonical(pf.hits_known(&text, true, &mut clean));
            assert_eq!(known, full, "version {version}");
            let known = canonical(pf.hits_known(&text, true, &mut forgetful));
            assert_eq!(known, full, "version {version}, forgetting");
        }
        assert!(
            clean.passed > total / 4,
            "passed over {} of {total} bytes",
            clean.passed
        );
        // Chunks with keywords that come back have their hits replayed, not searched again.
        assert!(clean.replayed > 0);
        // Forgetting works: the memory never holds more than asked.
        assert!(forgetful.len() <= 40 && forgetful.passed > 0);
    }

    #[test]
    fn chunks_are_whole_lines_and_cover_the_text() {
        let text: Vec<u8> = (0..2000u32)
            .flat_map(|i| format!("line {} {}\n", i, i * 7919 % 1000).into_bytes())
            .chain(*b"no newline at the end")
            .collect();
        let mut cuts = Vec::new();
        each_chunk(&text, |s, e| cuts.push((s, e)));
        assert!(cuts.len() > 10, "{}", cuts.len());
        assert_eq!(cuts[0].0, 0);
        assert_eq!(cuts.last().unwrap().1, text.len());
        for w in cuts.windows(2) {
            assert_eq!(w[0].1, w[1].0);
            assert_eq!(text[w[0].1 - 1], b'\n');
            assert!(w[0].1 - w[0].0 >= MIN_CHUNK);
        }
        // The same lines are cut the same way wherever they start.
        let shifted: Vec<u8> = b"a new first line\n".iter().chain(&text).copied().collect();
        let mut later = Vec::new();
        each_chunk(&shifted, |s, e| later.push(&shifted[s..e]));
        let before: Vec<&[u8]> = cuts.iter().map(|&(s, e)| &text[s..e]).collect();
        let shared = later.iter().filter(|c| before.contains(c)).count();
        assert!(shared + 2 >= before.len(), "{shared} of {}", before.len());
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
