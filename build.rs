//! Embeds every `rules/*.toml` into the binary: writes a `[(file name, text)]` table that
//! `src/rules/load.rs` includes, so adding a provider is adding a file.
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
    let mut out = String::from("[\n");
    for n in &names {
        println!("cargo:rerun-if-changed=rules/{n}");
        out.push_str(&format!(
            "    ({n:?}, include_str!({:?})),\n",
            Path::new(&manifest).join("rules").join(n)
        ));
    }
    out.push(']');
    let dest =
        Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("builtin_rules.rs");
    fs::write(dest, out).expect("write builtin_rules.rs");
}
