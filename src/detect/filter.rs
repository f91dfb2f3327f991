//! Filters that apply to every rule after its regex matched: the placeholder test (documentation
//! keys, `xxxx`, `your-key-here`, repeated and sequential runs, vendors' published example keys)
//! and the inline `keyhound:allow` marker. Rule-specific checks (entropy, checksums) live in the
//! detector and `checksum.rs`.

/// Words that mark a documentation placeholder when they appear inside a secret in lower,
/// upper or title case, next to a delimiter (`sk-your-key`, `YOUR_API_KEY`, `<token>`). The
/// delimiter and case requirements keep the odds that random key material contains one far below
/// one in a million, so the filter does not cost real keys.
pub const PLACEHOLDER_WORDS: &[&str] = &[
    "xxxx",
    "your",
    "example",
    "placeholder",
    "replace",
    "redacted",
    "dummy",
    "sample",
    "changeme",
    "insert",
    "here",
    "todo",
    "fake",
];

/// Markers that never occur in key material.
const PLACEHOLDER_MARKS: &[&str] = &["...", "***", "<", ">", "{{", "${", "%s", "…"];

/// Vendors' documented example credentials that are published and therefore never live.
const DOCUMENTED_EXAMPLES: &[&str] = &[
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AKIAI44QH8DHBEXAMPLE",
    "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    // Azurite / the Azure Storage Emulator's well-known development account key.
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
];

/// The marker that suppresses findings on its line.
pub const ALLOW_MARKER: &[u8] = b"keyhound:allow";

/// Longest run of one repeated byte, or of consecutive ascending/descending bytes, tolerated.
const MAX_RUN: usize = 6;
/// Runs are only judged in secrets up to this length: long blobs (PEM keys) have real runs.
const MAX_RUN_CHECKED_LEN: usize = 200;

/// True when `secret` looks like a placeholder rather than key material.
pub fn is_placeholder(secret: &[u8]) -> bool {
    if DOCUMENTED_EXAMPLES.iter().any(|e| e.as_bytes() == secret) {
        return true;
    }
    if PLACEHOLDER_MARKS
        .iter()
        .any(|m| memchr::memmem::find(secret, m.as_bytes()).is_some())
    {
        return true;
    }
    if PLACEHOLDER_WORDS.iter().any(|w| has_word(secret, w)) {
        return true;
    }
    secret.len() <= MAX_RUN_CHECKED_LEN && has_long_run(secret)
}

/// True when `text` (a whole match, wider than its secret) holds a placeholder word or mark.
/// Runs are not judged here: host names and paths have real ones.
pub fn names_a_placeholder(text: &[u8]) -> bool {
    PLACEHOLDER_MARKS
        .iter()
        .any(|m| memchr::memmem::find(text, m.as_bytes()).is_some())
        || PLACEHOLDER_WORDS.iter().any(|w| has_word(text, w))
}

/// `word` (lower case) occurs in lower, upper or title case with a non-alphanumeric byte, or
/// the end of the secret, on at least one side.
fn has_word(secret: &[u8], word: &str) -> bool {
    let lower = word.as_bytes().to_vec();
    let upper = word.to_ascii_uppercase().into_bytes();
    let mut title = lower.clone();
    title[0] = title[0].to_ascii_uppercase();
    let delimited = |at: usize, len: usize| {
        let before = at == 0 || !secret[at - 1].is_ascii_alphanumeric();
        let after = at + len >= secret.len() || !secret[at + len].is_ascii_alphanumeric();
        // Long words are distinctive on their own.
        before || after || len >= 6
    };
    [lower, upper, title]
        .iter()
        .any(|form| memchr::memmem::find_iter(secret, form).any(|at| delimited(at, form.len())))
}

/// A run of more than [`MAX_RUN`] identical bytes, or of alphanumerics that climb or fall by one
/// (`abcdefgh`, `12345678`, `98765432`).
fn has_long_run(s: &[u8]) -> bool {
    let (mut same, mut up, mut down) = (1, 1, 1);
    for w in s.windows(2) {
        let (a, b) = (w[0], w[1]);
        same = if a == b { same + 1 } else { 1 };
        let alnum = a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric();
        up = if alnum && b == a.wrapping_add(1) {
            up + 1
        } else {
            1
        };
        down = if alnum && a == b.wrapping_add(1) {
            down + 1
        } else {
            1
        };
        if same > MAX_RUN || up > MAX_RUN || down > MAX_RUN {
            return true;
        }
    }
    false
}

/// Regex syntax that, on the secret's line, marks the line as a pattern rather than data.
const REGEX_SYNTAX: &[&str] = &[
    "]{", "]+", "]*", "[^", "(?:", "(?i", "(?P<", "\\d", "\\w", "\\s", "\\b", "[A-Z", "[a-z",
    "[0-9",
];

/// True when the key-shaped text at `bytes[start..end]` is a literal inside a regular
/// expression (a scanner's own rules, an allow-list pattern, a test's expected match): it is
/// an alternative (`|` or `(` before, `|` or `)` after) on a line with regex syntax, or it is
/// anchored on both sides (`^...$`). Keys in code, configs and prose have quotes, `=` or spaces
/// around them, so they are not touched.
pub fn in_regex_literal(bytes: &[u8], start: usize, end: usize) -> bool {
    let before = start.checked_sub(1).map(|i| bytes[i]);
    let after = bytes.get(end).copied();
    if before == Some(b'^') && after == Some(b'$') {
        return true;
    }
    let alternative = matches!(before, Some(b'|' | b'(')) || matches!(after, Some(b'|' | b')'));
    if !alternative {
        return false;
    }
    let from = memchr::memrchr(b'\n', &bytes[..start]).map_or(0, |i| i + 1);
    let to = memchr::memchr(b'\n', &bytes[end..]).map_or(bytes.len(), |i| end + i);
    let line = &bytes[from..to];
    REGEX_SYNTAX
        .iter()
        .any(|m| memchr::memmem::find(line, m.as_bytes()).is_some())
}

/// True when one of the lines that `bytes[start..end]` spans carries the `keyhound:allow`
/// marker: a multi-line match (a PEM private key) is allowed from its BEGIN line, its END line
/// or any line between.
pub fn span_allows(bytes: &[u8], start: usize, end: usize) -> bool {
    let end = end.max(start + 1).min(bytes.len());
    let from = memchr::memrchr(b'\n', &bytes[..start]).map_or(0, |i| i + 1);
    let to = memchr::memchr(b'\n', &bytes[end - 1..]).map_or(bytes.len(), |i| end - 1 + i);
    memchr::memmem::find(&bytes[from..to], ALLOW_MARKER).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_11_key_shapes_inside_regex_literals() {
        // Built at run time: no key-shaped literal in the source (keyhound scans itself).
        let key = ["tvly", "q8W2e7R4t6Y1u3I5o9P0a2S4d6F8g1H3"].join("-");
        let key = key.as_str();
        let at = |line: &str| {
            let start = line.find(key).expect("key in line");
            in_regex_literal(line.as_bytes(), start, start + key.len())
        };
        for line in [
            format!(r#"re.compile(r"(tvly-[A-Za-z0-9]{{32}}|{key})")"#),
            format!(r#"allow = ["^{key}$"]"#),
            format!(r#"pattern: '(?:{key}|tvly-dev-\w+)'"#),
        ] {
            assert!(at(&line), "{line}");
        }
        for line in [
            format!("TAVILY_API_KEY={key}"),
            format!(r#"client = TavilyClient(api_key="{key}")"#),
            format!("keys = ({key}|other)"),
            format!("| {key} | a table cell [a-z] |"),
        ] {
            assert!(!at(&line), "{line}");
        }
    }

    #[test]
    fn allow_marker_on_any_line_of_the_span() {
        let text = b"a\n-----BEGIN X-----\nbody\n-----END X----- # keyhound:allow\nb\n";
        let start = 2;
        let end = text.len() - 3;
        assert!(span_allows(text, start, end));
        assert!(span_allows(b"k=SECRET # keyhound:allow", 2, 8));
        assert!(!span_allows(b"k=SECRET\n# keyhound:allow", 2, 8));
        assert!(!span_allows(b"# keyhound:allow\nk=SECRET", 19, 25));
    }

    #[test]
    fn placeholders_are_rejected() {
        let cases: &[&str] = &[
            "sk-your-secret-key-here",
            "sk-xxxxxxxxxxxxxxxxxxxxxxxx",
            "sk-XXXXXXXXXXXXXXXXXXXX",
            "sk-...",
            "<your-key>",
            "REPLACE_ME_WITH_A_KEY",
            "AKIAIOSFODNN7EXAMPLE",
            "ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "sk-abcdefghijklmnopqrstuvwxyz",
            "sk-1234567890123456",
            "sk-zyxwvutsrqpo",
            "${OPENAI_API_KEY}",
            "{{ secrets.KEY }}",
        ];
        for c in cases {
            assert!(is_placeholder(c.as_bytes()), "{c} should be a placeholder");
        }
    }

    #[test]
    fn random_material_is_not_a_placeholder() {
        let cases: &[&str] = &[
            "Q7hZ2mK9pL4vX8nR3tY6wB1cF5jD0sGa",
            "sk-proj-Ab3yourQ9Zk2LmXxxXp",
            "Hq2hereWz8",
            "sk-proj-Jk8Lm2Nq4Rs6Tu8Vw0Xy",
            "a1b2c3d4e5f6",
            "abcdef12",
        ];
        for c in cases {
            assert!(
                !is_placeholder(c.as_bytes()),
                "{c} should not be a placeholder"
            );
        }
    }

    #[test]
    fn allow_marker_applies_to_its_line_only() {
        let text = b"a = 1\nkey = X # keyhound:allow\nother = Y\n";
        let x = text.iter().position(|&b| b == b'X').unwrap();
        let y = text.iter().position(|&b| b == b'Y').unwrap();
        assert!(span_allows(text, x, x + 1));
        assert!(!span_allows(text, y, y + 1));
    }
}
