//! The one place secrets are shortened for display. Every format calls [`redact_after`] (or
//! [`redact`] where no rule is known); nothing else decides how much of a secret to show.
//!
//! What shows (issue 19 item 3): the rule's known prefix, which is text the rule's own pattern
//! requires every secret of it to start with (`sk-proj-`, `ghp_`, `AKIA`), so it is public and
//! tells nothing about one key; then at most four characters from each end of the rest (the
//! body), never more than a quarter of the body; and nothing at all of a secret shorter than
//! [`MIN_SHOWN`] characters (passwords). A PEM block shows its header line only. No guessing of
//! a "prefix" from where `-` or `_` happen to fall: a body holding them showed most of itself.
//! Together with the slow fingerprint (`crate::fingerprint`) what a report shows never
//! narrows a key to a space that can be searched.

/// Secrets shorter than this (in characters) show nothing.
pub const MIN_SHOWN: usize = 12;

/// At most this many body characters show at each end.
const MAX_EACH_END: usize = 4;

/// A secret whose rule is not known: no prefix is public, so only the body rule applies.
pub fn redact(secret: &str) -> String {
    redact_after(secret, 0)
}

/// Show the first `prefix` bytes of `secret` (its rule's known prefix, see
/// `rules::prefix::known_prefix`), then at most four characters from each end of the body and
/// never more than a quarter of it: `sk-proj-AbCd…wxyz`. A secret under [`MIN_SHOWN`]
/// characters shows as `…` alone; a PEM block as its header and `…`.
pub fn redact_after(secret: &str, prefix: usize) -> String {
    if let Some(header) = pem_header(secret) {
        return format!("{header}…");
    }
    if secret.chars().count() < MIN_SHOWN {
        return "…".to_string();
    }
    let prefix = if prefix < secret.len() && secret.is_char_boundary(prefix) {
        prefix
    } else {
        0
    };
    let (known, body) = secret.split_at(prefix);
    let body: Vec<char> = body.chars().collect();
    let shown = (body.len() / 4).min(2 * MAX_EACH_END);
    let head: String = body[..shown.div_ceil(2)].iter().collect();
    let tail: String = body[body.len() - shown / 2..].iter().collect();
    format!("{known}{head}…{tail}")
}

/// `-----BEGIN RSA PRIVATE KEY-----` of a PEM block: the header names the kind of key only.
fn pem_header(secret: &str) -> Option<&str> {
    let rest = secret.strip_prefix("-----BEGIN ")?;
    let end = rest.find("-----")?;
    let label = &rest[..end];
    let plain = label.len() <= 40
        && label
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ');
    plain.then(|| &secret[.."-----BEGIN ".len() + end + "-----".len()])
}

#[cfg(test)]
mod tests {
    use super::{redact, redact_after};

    /// Characters of `body` that `shown` reveals: its visible start and end.
    fn body_shown(shown: &str, prefix: &str) -> usize {
        let rest = shown.strip_prefix(prefix).unwrap_or(shown);
        rest.chars().filter(|&c| c != '…').count()
    }

    // issue 19 item 3
    #[test]
    fn redaction_table() {
        // Built at run time so the repository holds no key-shaped literal.
        const ALPHABET: &[u8] = b"Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LzXcVbNm_-";
        let body = |n: usize| -> String {
            (0..n)
                .map(|i| ALPHABET[i * 7 % ALPHABET.len()] as char)
                .collect()
        };
        let openai = format!("sk-proj-{}", body(156));
        let github = format!("ghp_{}", body(36));
        let aws_id = format!("AKIA{}", "Z3MQ7VJ5KX2PLW4N");
        // An Azure client secret: 40 characters, its `~` and `_` in the middle, no prefix.
        let azure = format!("{}8Q~{}", body(3), body(34));
        let custom16 = body(16);
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----";
        let cases: Vec<(&str, usize, String)> = vec![
            // Prefixed keys: the prefix, then 4 + 4 of the body.
            (
                &openai,
                8,
                format!("sk-proj-{}…{}", &body(156)[..4], &body(156)[152..]),
            ),
            (
                &github,
                4,
                format!("ghp_{}…{}", &body(36)[..4], &body(36)[32..]),
            ),
            // A 16-character body: a quarter is 4, so 2 + 2.
            (&aws_id, 4, "AKIAZ3…4N".to_string()),
            // Azure-like, 40 characters, no known prefix: 4 + 4, not 18 characters.
            (&azure, 0, format!("{}…{}", &azure[..4], &azure[36..])),
            // A 16-character custom-rule secret: 2 + 2, not 12 of 16.
            (
                &custom16,
                0,
                format!("{}…{}", &custom16[..2], &custom16[14..]),
            ),
            // 12 characters: 3 shown; under 12: nothing.
            ("abcdefghijkl", 0, "ab…l".to_string()),
            ("hunter2hunt", 0, "…".to_string()),
            ("short", 0, "…".to_string()),
            // A known prefix does not make a short secret show more.
            ("ghp_abcdefg", 4, "…".to_string()),
            (pem, 0, "-----BEGIN RSA PRIVATE KEY-----…".to_string()),
        ];
        for (secret, prefix, want) in cases {
            assert_eq!(redact_after(secret, prefix), want, "{secret}");
        }
        // Without a rule, a prefixed key's prefix counts as body.
        assert_eq!(body_shown(&redact(&github), ""), 8);
    }

    // issue 19 item 3
    #[test]
    fn redaction_shows_at_most_a_quarter_and_eight_body_characters() {
        let alphabet: Vec<char> = ('a'..='z').chain('A'..='Z').chain('0'..='9').collect();
        for len in 0..200 {
            let secret: String = (0..len).map(|i| alphabet[(i * 11) % 62]).collect();
            let shown = redact(&secret);
            let n = body_shown(&shown, "");
            assert!(n <= 8 && n * 4 <= len, "{len}: {shown}");
            if len < super::MIN_SHOWN {
                assert_eq!(shown, "…");
            }
        }
    }

    #[test]
    fn pem_header_only_when_it_is_a_header() {
        assert_eq!(
            redact("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl"),
            "-----BEGIN OPENSSH PRIVATE KEY-----…"
        );
        // Not a header: the body rule applies.
        let odd = "-----BEGIN secret-material-that-is-long-----";
        assert!(body_shown(&redact(odd), "") <= 8);
    }
}
