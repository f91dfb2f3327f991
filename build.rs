//! Embeds every `rules/*.toml` into the binary: writes a `[(file name, text, json)]` table that
//! `src/rules/load.rs` includes, so adding a provider is adding a file. Each file is also
//! converted to JSON here, once: parsing TOML at every start was half of a pre-commit hook's
//! start-up with 130 rules, and JSON parses several times faster. The TOML text stays for
//! error messages with line numbers.
use std::{env, fs, path::Path};

fn main() {
    println!("cargo:rerun-if-changed=rules");
    let mut names: Vec<String> = fs::read_dir("rules")
        .expect("rules/ directory")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    let manifest = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out_dir = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let mut out = String::from("[\n");
    for n in &names {
        println!("cargo:rerun-if-changed=rules/{n}");
        let path = Path::new(&manifest).join("rules").join(n);
        let text = fs::read_to_string(&path).expect("read a rule file");
        // A file that does not parse is embedded as `null`: the runtime parses its TOML and
        // reports the error with its line (the rules tests catch it before a release).
        let json = match toml::from_str::<toml::Value>(&text) {
            Ok(value) => serde_json::to_string(&value).expect("TOML values serialize as JSON"),
            Err(_) => "null".to_string(),
        };
        let json_path = Path::new(&out_dir).join(format!("{n}.json"));
        fs::write(&json_path, json).expect("write a rule file's JSON");
        out.push_str(&format!(
            "    ({n:?}, include_str!({path:?}), include_str!({json_path:?})),\n"
        ));
    }
    out.push(']');
    fs::write(Path::new(&out_dir).join("builtin_rules.rs"), out).expect("write builtin_rules.rs");
}
