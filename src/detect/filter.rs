//! Filters that apply to every rule after its regex matched: the placeholder test (documentation
//! keys, `xxxx`, `your-key-here`, repeated and sequential runs, vendors' published example keys)
//! and the inline `keyhound:allow` marker. Rule-specific checks (entropy, checksums) live in the
//! detector and `checksum.rs`.

/// Words that mark a documentation placeholder when they appear inside a secret.
/// A random base62 key contains a given 4-letter word with odds of about 1 in a million per
/// position, so the cost in missed keys is negligible next to the false alarms it prevents.
const PLACEHOLDER_WORDS: &[&str] = &[
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
    "secret_here",
    "key_here",
    "key-here",
    "goes_here",
    "goes-here",
    "...",
    "***",
    "<",
    ">",
    "{{",
    "${",
];

/// Vendors' documented example credentials that are published and therefore never live.
const DOCUMENTED_EXAMPLES: &[&str] = &[
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AKIAI44QH8DHBEXAMPLE",
    "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
];

/// The marker that suppresses findings on its line.
pub const ALLOW_MARKER: &[u8] = b"keyhound:allow";

/// Longest run of one repeated byte, or of consecutive ascending/descending bytes, tolerated.
const MAX_RUN: usize = 6;

/// True when `secret` looks like a placeholder rather than key material.
pub fn is_placeholder(secret: &[u8]) -> bool {
    if DOCUMENTED_EXAMPLES.iter().any(|e| e.as_bytes() == secret) {
        return true;
    }
    let lower = secret.to_ascii_lowercase();
    if PLACEHOLDER_WORDS
        .iter()
        .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
    {
        return true;
    }
    has_long_run(secret)
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

/// True when the line holding `offset` carries the `keyhound:allow` marker.
pub fn line_allows(bytes: &[u8], offset: usize) -> bool {
    let start = memchr::memrchr(b'\n', &bytes[..offset]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &bytes[offset..]).map_or(bytes.len(), |i| offset + i);
    memchr::memmem::find(&bytes[start..end], ALLOW_MARKER).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(line_allows(text, x));
        assert!(!line_allows(text, y));
    }
}
