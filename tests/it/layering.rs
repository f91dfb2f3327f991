//! The library's layers, read from its source (issue 24 item 6): every `crate::`, `super::` and
//! `self::` path in each module of `src/` (the `use` lines and the paths written out in code)
//! is an arrow from that module's room to another's. An arrow may go down the floors of
//! ARCHITECTURE.md ("Layers"), or sideways within a floor, never up; a few arrows are forbidden
//! although they go down; and the rooms form no circle. Test modules (`#[cfg(test)]`) are not
//! read: a test may build what it needs from any floor. The binary's own files (`main.rs`,
//! `cli.rs`) sit above the library and are not read either.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The floors, top first, and the rooms on each (a room is a module and everything under it,
/// except a deeper module named as a room of its own, as `scan::history` is). ARCHITECTURE.md
/// shows this list; keep the two alike.
const FLOORS: &[(&str, &[&str])] = &[
    ("crate root", &[""]),
    ("commands", &["commands", "audit", "agent", "hook"]),
    ("pipeline", &["pipeline"]),
    ("requests", &["options"]),
    ("report", &["report"]),
    ("policy", &["policy", "config", "baseline"]),
    ("scan", &["scan", "scan::history"]),
    ("verify and detect", &["verify", "detect"]),
    ("rules", &["rules"]),
    (
        "leaves",
        &[
            "finding",
            "fingerprint",
            "summary",
            "dates",
            "paths",
            "redact",
            "diag",
            "error",
            "output",
            "git",
        ],
    ),
];

/// Arrows that go down but are forbidden all the same: (from, to, why).
const FORBIDDEN: &[(&str, &str, &str)] = &[
    (
        "report",
        "scan::history",
        "formats get a Run's values (crate::summary, crate::dates), not the source",
    ),
    (
        "report",
        "scan",
        "formats get a Run's values (crate::summary), not the source",
    ),
    (
        "report",
        "detect",
        "formats get findings; a rule's prefixes are crate::rules::prefix",
    ),
    (
        "policy",
        "scan::history",
        "a range's policy files reach the policy as texts (crate::paths::Pinned)",
    ),
    (
        "policy",
        "scan",
        "the policy decides on findings; the walk shares crate::paths::PathFilter",
    ),
    (
        "verify",
        "detect",
        "verification gets findings, not the detector",
    ),
    (
        "detect",
        "verify",
        "the detector is pure: bytes in, matches out",
    ),
];

/// Arrows known to break the layers, each to be removed by named work; the test fails when
/// one is no longer there, so the list cannot outlive its reason.
const KNOWN: &[(&str, &str, &str)] = &[];

#[test]
fn imports_go_down_the_floors_and_form_no_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = modules(&src);
    assert!(
        modules.len() > 40,
        "read {} modules from {}",
        modules.len(),
        src.display()
    );
    let floor_of = |room: &str| -> usize {
        FLOORS
            .iter()
            .position(|(_, rooms)| rooms.contains(&room))
            .unwrap_or_else(|| {
                panic!("room `{room}` is on no floor: add it to FLOORS (and to ARCHITECTURE.md)")
            })
    };
    let mut wrong = Vec::new();
    let mut known_seen = BTreeSet::new();
    let mut rooms: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut arrows = 0;
    for (module, file) in &modules {
        let text = code(&std::fs::read_to_string(file).unwrap());
        let from = room(module);
        for path in paths(&text) {
            let Some(target) = resolve(module, &path, &modules) else {
                continue;
            };
            let to = room(&target);
            if to == from {
                continue;
            }
            arrows += 1;
            let known = KNOWN.iter().find(|(m, t, _)| {
                (module == m || module.starts_with(&format!("{m}::"))) && to == *t
            });
            if let Some(k) = known {
                known_seen.insert(*k);
                continue;
            }
            rooms.entry(from.clone()).or_default().insert(to.clone());
            let (ff, ft) = (floor_of(&from), floor_of(&to));
            if ft < ff {
                wrong.push(format!(
                    "{module} reaches {} (`{}`): up from floor {} to floor {}",
                    target,
                    path.join("::"),
                    FLOORS[ff].0,
                    FLOORS[ft].0
                ));
            }
            if let Some((_, _, why)) = FORBIDDEN.iter().find(|(f, t, _)| from == *f && to == *t) {
                wrong.push(format!(
                    "{module} reaches {target} (`{}`): forbidden, {why}",
                    path.join("::")
                ));
            }
        }
    }
    assert!(
        arrows > 50,
        "found only {arrows} arrows: the reader is broken"
    );
    // Positive control: the reader sees arrows it must see.
    for (from, to) in [
        ("pipeline", "policy"),
        ("scan", "detect"),
        ("report", "finding"),
    ] {
        assert!(
            rooms.get(from).is_some_and(|r| r.contains(to)),
            "the reader missed {from} -> {to}"
        );
    }
    for k in KNOWN {
        if !known_seen.contains(k) {
            wrong.push(format!(
                "{} no longer reaches {} ({}): remove it from KNOWN in tests/it/layering.rs",
                k.0, k.1, k.2
            ));
        }
    }
    for circle in circles(&rooms) {
        wrong.push(format!(
            "rooms import each other in a circle: {}",
            circle.join(", ")
        ));
    }
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "layering broken:\n  {}",
        wrong.join("\n  ")
    );
}

#[test]
fn the_layering_reader_expands_use_trees_and_skips_comments_and_strings() {
    let text = code(
        "use crate::{a as b, c::{d, self}};\n// crate::commented::out\nfn f() { let s = \"crate::in_a_string\"; let c = '\"'; super::e::f(); crate::g::H::new() }\n#[cfg(test)]\nmod tests { use crate::only_in_tests; }",
    );
    let found: Vec<String> = paths(&text).iter().map(|p| p.join("::")).collect();
    assert_eq!(
        found,
        [
            "crate::a",
            "crate::c::d",
            "crate::c::self",
            "super::e::f",
            "crate::g::H::new"
        ]
    );
}

/// Every module of the library under `src`, by path (`scan::history::batch`; the crate root is
/// ""), with its file. `main.rs` and `cli.rs` are the binary's.
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
                parts.pop();
            }
            if parts == ["main"] || parts == ["cli"] {
                continue;
            }
            if is_test_module(&path) {
                continue;
            }
            out.insert(parts.join("::"), path);
        }
    }
    out
}

/// A file its parent declares under `#[cfg(test)]` (`report/html/tests.rs`).
fn is_test_module(file: &Path) -> bool {
    let name = file.file_stem().unwrap().to_string_lossy();
    let dir = file.parent().unwrap();
    let parent = if dir.join("lib.rs").exists() {
        dir.join("lib.rs")
    } else {
        dir.join("mod.rs")
    };
    if name == "mod" || parent == file {
        return false;
    }
    let Ok(text) = std::fs::read_to_string(parent) else {
        return false;
    };
    let text = text.replace(char::is_whitespace, "");
    text.contains(&format!("#[cfg(test)]mod{name};"))
}

/// The room a module is in: the longest room name it is or is under.
fn room(module: &str) -> String {
    let mut best = "";
    for (_, rooms) in FLOORS {
        for r in *rooms {
            let under = r.is_empty() || module == *r || module.starts_with(&format!("{r}::"));
            if under && r.len() >= best.len() {
                best = r;
            }
        }
    }
    best.to_string()
}

/// `text` without comments, string and character literals, and the `#[cfg(test)]` module at
/// its end.
fn code(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let rest = &text[i..];
        if rest.starts_with("//") {
            i += rest.find('\n').unwrap_or(rest.len());
        } else if rest.starts_with("/*") {
            let mut depth = 0;
            while i < b.len() {
                if text[i..].starts_with("/*") {
                    depth += 1;
                    i += 2;
                } else if text[i..].starts_with("*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(rest) {
            let close = format!("\"{}", "#".repeat(hashes));
            let open = rest.find('"').unwrap() + 1;
            i += open
                + rest[open..]
                    .find(&close)
                    .map_or(rest.len() - open, |e| e + close.len());
            out.push_str("\"\"");
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && i + 2 < b.len() && (b[i + 1] == b'\\' || b[i + 2] == b'\'') {
            // A character literal ('"', '\''); a lifetime ('a) has no closing quote there.
            i += 1;
            if b[i] == b'\\' {
                i += 2;
            }
            while i < b.len() && b[i] != b'\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    let squeezed: String = out.split_whitespace().collect::<Vec<_>>().join(" ");
    // The test module: `#[cfg(test)] mod NAME {`, not a `#[cfg(test)] mod NAME;` declaration.
    let mut from = 0;
    while let Some(at) = squeezed[from..].find("#[cfg(test)] mod ") {
        let at = from + at;
        let after = &squeezed[at + "#[cfg(test)] mod ".len()..];
        let name_end = after
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if after[name_end..].trim_start().starts_with('{') {
            return squeezed[..at].to_string();
        }
        from = at + 1;
    }
    squeezed
}

/// `r"`, `r#"`, `br##"`...: how many `#`s, when `rest` starts a raw string.
fn raw_string_start(rest: &str) -> Option<usize> {
    let r = rest.strip_prefix('b').unwrap_or(rest).strip_prefix('r')?;
    let hashes = r.len() - r.trim_start_matches('#').len();
    r[hashes..].starts_with('"').then_some(hashes)
}

/// Every path that starts with `crate`, `super` or `self` in `code`, `use` trees expanded
/// (`use crate::{a, b::{c, d}}` gives `crate::a`, `crate::b::c`, `crate::b::d`).
fn paths(code: &str) -> Vec<Vec<String>> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !code.is_char_boundary(i) {
            i += 1;
            continue;
        }
        let word_start =
            i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b':');
        let rest = &code[i..];
        let head = ["crate", "super", "self"]
            .into_iter()
            .find(|h| rest.starts_with(h) && rest[h.len()..].trim_start().starts_with("::"));
        match head {
            Some(_) if word_start => {
                let (found, used) = tree(rest, Vec::new());
                out.extend(found);
                i += used.max(1);
            }
            _ => i += 1,
        }
    }
    out
}

/// Parse a path or use tree at the start of `s`, after `prefix`; the paths and the bytes read.
fn tree(s: &str, prefix: Vec<String>) -> (Vec<Vec<String>>, usize) {
    let mut path = prefix;
    let mut i = 0;
    let b = s.as_bytes();
    loop {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if i < b.len() && b[i] == b'{' {
            i += 1;
            let mut out = Vec::new();
            loop {
                while i < b.len() && (b[i] == b' ' || b[i] == b',') {
                    i += 1;
                }
                if i >= b.len() || b[i] == b'}' {
                    return (out, i + 1);
                }
                let (found, used) = tree(&s[i..], path.clone());
                out.extend(found);
                i += used.max(1);
            }
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'*') {
            i += 1;
        }
        if i > start {
            path.push(s[start..i].to_string());
        }
        let after = s[i..].trim_start();
        if after.starts_with("::") {
            i = s.len() - after.len() + 2;
            continue;
        }
        // `a as b`: the name it is imported under is no path.
        if let Some(alias) = after.strip_prefix("as ") {
            let alias = alias.trim_start();
            let end = alias
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(alias.len());
            i = s.len() - alias.len() + end;
        }
        return (vec![path], i);
    }
}

/// The module `path`, written in `module`, names (the longest module it starts with).
fn resolve(module: &str, path: &[String], modules: &BTreeMap<String, PathBuf>) -> Option<String> {
    let mut full: Vec<String> = if module.is_empty() {
        Vec::new()
    } else {
        module.split("::").map(str::to_string).collect()
    };
    let mut parts = path.iter().peekable();
    match parts.next().map(String::as_str) {
        Some("crate") => full.clear(),
        Some("self") => {}
        Some("super") => {
            full.pop();
            while parts.peek().is_some_and(|p| *p == "super") {
                parts.next();
                full.pop();
            }
        }
        _ => return None,
    }
    let rest: Vec<&String> = parts.filter(|p| *p != "self" && *p != "*").collect();
    // The crate root's re-exports name the module that defines them.
    if full.is_empty() {
        match rest.first().map(|s| s.as_str()) {
            Some("Error" | "Outcome") => return Some("error".into()),
            Some(
                "Command" | "CommonOptions" | "BaselineCommand" | "HookCommand" | "RulesCommand",
            ) => return Some("options".into()),
            _ => {}
        }
    }
    full.extend(rest.iter().map(|s| s.to_string()));
    (0..=full.len())
        .rev()
        .map(|n| full[..n].join("::"))
        .find(|m| modules.contains_key(m))
}

/// The circles among rooms (strongly connected components of more than one room).
fn circles(rooms: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&String> = rooms
        .iter()
        .flat_map(|(a, bs)| std::iter::once(a).chain(bs))
        .collect();
    let reach = |from: &String| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(n) = stack.pop() {
            for m in rooms.get(&n).into_iter().flatten() {
                if seen.insert(m.clone()) {
                    stack.push(m.clone());
                }
            }
        }
        seen
    };
    let reach: BTreeMap<&String, BTreeSet<String>> = nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    for n in &nodes {
        if out.iter().any(|c| c.contains(n)) {
            continue;
        }
        let circle: Vec<String> = nodes
            .iter()
            .filter(|m| reach[*n].contains(**m) && reach[**m].contains(*n))
            .map(|m| m.to_string())
            .collect();
        if circle.len() > 1 {
            out.push(circle);
        }
    }
    out
}
