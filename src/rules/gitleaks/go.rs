//! Go's regex syntax (gitleaks' RE2) read by Rust's `regex`: ASCII classes, Go's literal
//! braces, one-line errors with a hint for Go-only syntax, and the speed probe for rules that
//! have no keywords.

use regex::bytes::Regex;

use super::Rule;

/// Compiled-regex size limit for imported patterns (gitleaks' generic rules are large).
pub(super) const REGEX_SIZE_LIMIT: usize = 16 << 20;

/// The message for a list of regexes one of which does not compile: which one, and why.
pub(super) fn bad_regex_in(key: &str, patterns: &[String], path: bool) -> String {
    for (i, p) in patterns.iter().enumerate() {
        let e = if path {
            regex::Regex::new(p).err()
        } else {
            content_regex(p).err()
        };
        if let Some(e) = e {
            return format!(
                "`{key}` entry {} does not compile: {}",
                i + 1,
                explain(p, &e)
            );
        }
    }
    format!("`{key}` together compile to too large a regex")
}

/// Compile a content pattern as Go would read it: `\w`, `\d`, `\s` and `\b` are ASCII in Go's
/// RE2, so the pattern is compiled without Unicode classes (which also keeps the lazy DFA
/// usable on non-ASCII text); a pattern that needs Unicode (`\pL`) is compiled with it.
pub(super) fn content_regex(pattern: &str) -> Result<Regex, regex::Error> {
    crate::rules::load::build_regex_within(&literal_braces(pattern), REGEX_SIZE_LIMIT)
}

/// Go reads a `{` that does not open a repetition (`{2}`, `{2,}`, `{2,5}`) as a literal, as in
/// `{{[^}]+}}`; Rust's regex refuses it. Escape those braces, outside character classes.
fn literal_braces(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut i = 0;
    let mut class = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                out.push(c);
                let n = chars.get(i + 1).copied();
                if let Some(n) = n {
                    out.push(n);
                }
                i += 2;
                // `\p{L}`, `\P{Greek}`, `\x{263a}`: the braces belong to the escape, copied as
                // written (escaping them would turn a Unicode class into an error).
                if matches!(n, Some('p' | 'P' | 'x')) && chars.get(i) == Some(&'{') {
                    let end = chars[i..].iter().position(|&c| c == '}');
                    let stop = end.map_or(chars.len(), |j| i + j + 1);
                    out.extend(&chars[i..stop]);
                    i = stop;
                }
                continue;
            }
            '[' if class && chars.get(i + 1) == Some(&':') => {
                // `[:alpha:]` inside a class: copy through its `:]`.
                let end = (i + 2..chars.len().saturating_sub(1))
                    .find(|&j| chars[j] == ':' && chars[j + 1] == ']');
                let stop = end.map_or(i + 1, |j| j + 2);
                out.extend(&chars[i..stop]);
                i = stop;
                continue;
            }
            '[' if !class => {
                class = true;
                out.push(c);
                i += 1;
                // A `]` first in the class (after an optional `^`) is a literal.
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i) == Some(&']') {
                    out.push(']');
                    i += 1;
                }
                continue;
            }
            ']' if class => class = false,
            '{' if !class && !is_repetition(&chars[i..]) => {
                out.push_str("\\{");
                i += 1;
                continue;
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    out
}

/// `{n}`, `{n,}` or `{n,m}` at the start of `rest`.
fn is_repetition(rest: &[char]) -> bool {
    let mut i = 1;
    let digits = |i: &mut usize| {
        let start = *i;
        while rest.get(*i).is_some_and(char::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if !digits(&mut i) {
        return false;
    }
    if rest.get(i) == Some(&',') {
        i += 1;
        digits(&mut i);
    }
    rest.get(i) == Some(&'}')
}

/// Why a Go pattern does not compile here, on one line, with a hint for Go-only syntax.
pub(super) fn explain(pattern: &str, e: &regex::Error) -> String {
    let hint = if pattern.contains("\\Q") {
        " (Go's \\Q...\\E quoting is not supported: escape the characters instead)"
    } else if pattern.contains("\\C") {
        " (Go's \\C, any byte, is not supported)"
    } else if pattern.contains("(?=")
        || pattern.contains("(?!")
        || pattern.contains("(?<=")
        || pattern.contains("(?<!")
    {
        " (look-around is not supported, by gitleaks either)"
    } else {
        ""
    };
    let detail = match e {
        regex::Error::CompiledTooBig(limit) => {
            format!("it compiles to more than {limit} bytes; simplify it")
        }
        other => other
            .to_string()
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" | "),
    };
    format!("{detail}{hint}")
}

/// A keyword-less rule's regex is slow when it takes this many times as long over
/// [`probe_text`] as a plain pattern does (measured in the same process, so a debug build or a
/// busy machine moves both), and at least [`PROBE_FLOOR`]. A usual pattern takes a few times as
/// long; a pathological one (`([a-z0-9]*Q|[a-z])`, quadratic over a long run of letters, at
/// 25 KB/s) hundreds of times (issue 19 item 18). Such a rule is loaded all the same, with a
/// warning that names the fix: gitleaks would run it too, and what it finds is still wanted.
const PROBE_RATIO: u32 = 50;
const PROBE_FLOOR: std::time::Duration = std::time::Duration::from_millis(2);
/// A timed pass stops here, so a pathological rule costs the load ~0.1 s at most.
const PROBE_CAP: std::time::Duration = std::time::Duration::from_millis(30);

/// The speed in KB/s of a rule's regex over the probe text, when it is slow (see
/// [`PROBE_RATIO`]). The fastest of three passes counts, after a warm-up pass, so that one
/// descheduled moment does not make a pattern slow.
pub(super) fn slow_regex(rule: &Rule) -> Option<u64> {
    let text = probe_text();
    let pass = |regex: &Regex| {
        let started = std::time::Instant::now();
        let mut searched = text.len();
        for m in regex.find_iter(&text) {
            if started.elapsed() > PROBE_CAP {
                searched = m.end().max(1);
                break;
            }
        }
        (started.elapsed(), searched)
    };
    let fastest = |regex: &Regex| {
        pass(regex);
        (0..3).map(|_| pass(regex)).min().expect("three passes")
    };
    let plain = content_regex("[a-z0-9]{30}Q").expect("a plain pattern compiles");
    let limit = (fastest(&plain).0 * PROBE_RATIO).max(PROBE_FLOOR);
    let (elapsed, searched) = fastest(rule.regex());
    (elapsed > limit).then(|| (searched as f64 / 1000.0 / elapsed.as_secs_f64()).round() as u64)
}

/// 16 KiB of what files hold: a long run of lower-case letters and digits (a minified line, a
/// hex or base32 blob) and lines of code with assignments and quoted strings, the same on
/// every run.
fn probe_text() -> Vec<u8> {
    const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |alphabet: &[u8]| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        alphabet[(state % alphabet.len() as u64) as usize]
    };
    let mut text: Vec<u8> = (0..8192).map(|_| next(LOWER)).collect();
    text.push(b'\n');
    let mut i = 0;
    while text.len() < 16384 {
        let word: Vec<u8> = (0..12).map(|_| next(ALNUM)).collect();
        let word = String::from_utf8(word).expect("ASCII");
        text.extend_from_slice(
            format!("    let value_{i} = config.get(\"key_{i}\") + \"{word}\"; // note {i}\n")
                .as_bytes(),
        );
        i += 1;
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_literal_braces_are_escaped() {
        let cases = [
            ("a{2}b{1,}c{1,3}", "a{2}b{1,}c{1,3}"),
            ("\\$?{{[^}]+}}", "\\$?\\{\\{[^}]+}}"),
            ("[{]x{", "[{]x\\{"),
            ("[]{]{3}", "[]{]{3}"),
            ("[[:alpha:]{]{2}", "[[:alpha:]{]{2}"),
            ("\\{a{,2}", "\\{a\\{,2}"),
            (
                "\\p{L}{2}\\P{Greek}[\\p{Lu}]\\x{263a}{",
                "\\p{L}{2}\\P{Greek}[\\p{Lu}]\\x{263a}\\{",
            ),
        ];
        for (go, rust) in cases {
            assert_eq!(literal_braces(go), rust, "{go}");
            assert!(content_regex(go).is_ok(), "{go}");
        }
        assert!(content_regex("\\$?{{[^}]+}}")
            .unwrap()
            .is_match(b"${{ secrets.X }}"));
    }
}
