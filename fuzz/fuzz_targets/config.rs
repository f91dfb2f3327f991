//! Arbitrary text as `.keyhound.toml`, as a rule file and as a gitleaks config: an error or a
//! config, never a panic, and no error message that echoes a long run of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(config) = keyhound::config::Config::parse(text, "fuzz.toml") {
        let mut set = keyhound::rules::RuleSet::default();
        let _ = config.apply(&mut set);
    }
    let _ = keyhound::rules::parse_rules(text, "fuzz.toml");
    // `[extend] path` reads nothing here: the fuzzer's text is the only file.
    let no_file = |_: &str, name: &str| -> Result<(String, String), keyhound::rules::LoadError> {
        Err(keyhound::rules::LoadError {
            origin: name.to_string(),
            line: None,
            message: "not found".into(),
        })
    };
    let _ = keyhound::rules::gitleaks::import(text, "fuzz.toml", &no_file);
});
