//! Arbitrary text as `.keyhound.toml` and as a rule file: an error or a config, never a panic,
//! and no error message that echoes a long run of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(config) = keyhound::config::Config::parse(text, "fuzz.toml") {
        let mut set = keyhound::rules::RuleSet::default();
        let _ = config.apply(&mut set);
        let _ = config.exclude(std::path::Path::new("/fuzz"));
    }
    let _ = keyhound::rules::parse_rules(text, "fuzz.toml");
});
