//! The literal prefilter: one Aho-Corasick automaton over every rule's keywords, plus each
//! keyword as it appears inside base64 text at the three possible alignments. One pass over the
//! bytes yields, per rule, the windows its regex must search, and the positions of encoded
//! keywords for the base64 decoder. Clean code therefore costs one automaton pass.
//!
//! The automaton starts as an NFA, which builds in a fraction of a millisecond, so a
//! pre-commit hook or an agent hook that scans a few kilobytes never pays for more. Once a run
//! has scanned [`DFA_AFTER`] bytes, the full DFA (several times faster per byte, but some
//! milliseconds to build with hundreds of keywords) is built once and used from then on. Both
//! find exactly the same matches.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use base64::Engine;

use crate::rules::Rule;

/// What one automaton pattern stands for.
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

/// The compiled prefilter for a rule list.
#[derive(Debug, Clone)]
pub struct Prefilter {
    /// Quick to build; used until the run has scanned `DFA_AFTER` bytes.
    nfa: AhoCorasick,
    /// Built on first need, shared by every clone (threads) of this prefilter.
    dfa: Arc<OnceLock<AhoCorasick>>,
    patterns: Arc<Vec<Vec<u8>>>,
    /// Bytes scanned so far by this prefilter and its clones.
    scanned: Arc<AtomicU64>,
    keywords: Vec<Keyword>,
    lengths: Vec<usize>,
    windows: Vec<usize>,
    /// Rules without keywords (imported gitleaks rules may have none): searched everywhere.
    always: Vec<usize>,
    rule_count: usize,
}

/// Shortest base64 fragment worth looking for: shorter ones hit ordinary text too often.
const MIN_FRAGMENT: usize = 4;

/// Bytes after which the DFA pays for its construction.
pub const DFA_AFTER: u64 = 4 << 20;

fn build(patterns: &[Vec<u8>], kind: AhoCorasickKind) -> AhoCorasick {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .kind(Some(kind))
        .start_kind(aho_corasick::StartKind::Unanchored)
        .build(patterns)
        .expect("keywords are short literals; the automaton always builds")
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
        let lengths = patterns.iter().map(Vec::len).collect();
        Prefilter {
            nfa: build(&patterns, AhoCorasickKind::NoncontiguousNFA),
            dfa: Arc::default(),
            patterns: Arc::new(patterns),
            scanned: Arc::default(),
            keywords,
            lengths,
            windows: rules.iter().map(|r| r.window).collect(),
            always: (0..rules.len())
                .filter(|&i| rules[i].keywords.is_empty())
                .collect(),
            rule_count: rules.len(),
        }
    }

    /// The automaton for the next `len` bytes: the NFA while the run is small, then the DFA.
    fn automaton(&self, len: usize) -> &AhoCorasick {
        if let Some(dfa) = self.dfa.get() {
            return dfa;
        }
        let before = self.scanned.fetch_add(len as u64, Ordering::Relaxed);
        if before + len as u64 >= DFA_AFTER {
            return self
                .dfa
                .get_or_init(|| build(&self.patterns, AhoCorasickKind::DFA));
        }
        &self.nfa
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
        for m in self.automaton(bytes.len()).find_overlapping_iter(bytes) {
            let pid = m.pattern().as_usize();
            match &self.keywords[pid] {
                Keyword::Plain { rules } => {
                    for &ri in rules {
                        let w = self.windows[ri];
                        let start = m.start().saturating_sub(w);
                        let end = (m.start() + self.lengths[pid])
                            .saturating_add(w)
                            .min(bytes.len());
                        push_window(&mut hits.windows[ri], start, end);
                    }
                }
                Keyword::Encoded { fragment } => {
                    if with_encoded && &bytes[m.start()..m.end()] == fragment.as_slice() {
                        hits.encoded.push(m.start());
                    }
                }
            }
        }
        hits
    }
}

/// Add a window, merging with the previous one when they overlap (hits arrive in order of
/// their end, so starts are nearly sorted; merging with the last is enough to stay linear).
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

    /// The NFA a small run uses and the DFA a large one switches to find the same hits.
    #[test]
    fn nfa_and_dfa_find_the_same_hits() {
        let rules = crate::rules::RuleSet::builtin().unwrap().rules;
        let pf = Prefilter::new(&rules);
        let mut text = Vec::new();
        for rule in &rules {
            for e in rule.examples.iter().chain(&rule.counter_examples) {
                text.extend_from_slice(e.as_bytes());
                text.push(b'\n');
                text.extend(base64::engine::general_purpose::STANDARD.encode(e).bytes());
                text.push(b'\n');
            }
        }
        let small = pf.hits(&text, true);
        assert!(pf.dfa.get().is_none(), "a small input used the DFA");
        let big = vec![b'x'; DFA_AFTER as usize];
        pf.hits(&big, true);
        assert!(pf.dfa.get().is_some(), "a large run kept the NFA");
        let large = pf.hits(&text, true);
        assert_eq!(small.windows, large.windows);
        assert_eq!(small.encoded, large.encoded);
        assert!(small.windows.iter().filter(|w| !w.is_empty()).count() > 50);
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
