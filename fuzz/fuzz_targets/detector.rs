//! Arbitrary bytes through the detector and the finding builder: no panic, every match inside
//! the input, plain matches equal to the bytes they cover, and the windowed search in agreement
//! with the whole-input reference for OpenAI's rules (whose keyword lies inside every match).
#![no_main]

use std::sync::OnceLock;

use keyhound::detect::Detector;
use keyhound::finding::Provenance;
use keyhound::rules::RuleSet;
use libfuzzer_sys::fuzz_target;

fn detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(|| Detector::new(RuleSet::builtin().expect("built-in rules load")))
}

fuzz_target!(|data: &[u8]| {
    let d = detector();
    let found = d.find(data);
    for m in &found {
        assert!(m.start <= m.end && m.end <= data.len());
        if m.encoding.is_none() {
            assert_eq!(&data[m.start..m.end], m.secret.as_slice());
        }
    }
    let openai = |v: Vec<keyhound::detect::Match>| -> Vec<(usize, usize, usize)> {
        v.into_iter()
            .filter(|m| d.rule(m.rule).provider == "openai" && m.encoding.is_none())
            .map(|m| (m.rule, m.start, m.end))
            .collect()
    };
    assert_eq!(openai(found.clone()), openai(d.find_unwindowed(data)));
    let findings = keyhound::detect::locate::findings(d, data, &Provenance::Stdin);
    for f in &findings {
        assert!(f.location.line >= 1 && f.location.column >= 1);
        assert!(!f.snippet.contains(&f.secret) || f.secret.len() < 8);
    }
});
