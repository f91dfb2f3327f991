//! Built-in validators that a rule names in `checksum`: structure a regex cannot express
//! (equal halves around OpenAI's marker) and real checksums (CRC32 in GitHub and npm tokens).
//! Pure functions, no I/O. The validators are named by [`Checksum`] (rule data, `crate::rules`).

use crate::rules::Checksum;

/// Whether `secret` passes the validator.
pub fn validate(checksum: Checksum, secret: &[u8]) -> bool {
    match checksum {
        Checksum::OpenaiMarker => openai_marker(secret).is_some(),
        Checksum::OpenaiMarkerOther => {
            openai_marker(secret).is_some_and(|prefix| !OPENAI_KNOWN_PREFIXES.contains(&prefix))
        }
        Checksum::GithubCrc32 => github_crc32(secret),
        Checksum::AwsSecret => aws_secret(secret),
    }
}

const OPENAI_MARKER: &[u8] = b"T3BlbkFJ";

/// Prefixes that have a rule of their own; `openai-marker-other` leaves them to those rules, so
/// disabling one of them is not undone by the catch-all rule.
const OPENAI_KNOWN_PREFIXES: &[&[u8]] = &[
    b"sk-",
    b"sk-proj-",
    b"sk-svcacct-",
    b"sk-admin-",
    b"sk-None-",
];

/// An OpenAI key: `sk-` or `sk-<word>-`, a body, the marker, a second body of the same length
/// (at least 20). 20-character bodies are alphanumeric (the legacy and early project keys);
/// a bare `sk-` prefix only comes with them. Returns the prefix.
fn openai_marker(secret: &[u8]) -> Option<&[u8]> {
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(&secret[from..], OPENAI_MARKER).map(|i| from + i) {
        from = i + 1;
        let second = &secret[i + OPENAI_MARKER.len()..];
        let n = second.len();
        if n < 20 || i < n {
            continue;
        }
        let first = &secret[i - n..i];
        let prefix = &secret[..i - n];
        let Some(rest) = prefix.strip_prefix(b"sk-") else {
            continue;
        };
        let prefix_ok = (rest.is_empty() && n == 20)
            || (rest.len() >= 2
                && rest.len() <= 41
                && rest.ends_with(b"-")
                && rest[0].is_ascii_alphanumeric()
                && rest.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-'));
        let alphabet_ok = if n == 20 {
            first.iter().chain(second).all(u8::is_ascii_alphanumeric)
        } else {
            first
                .iter()
                .chain(second)
                .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if prefix_ok && alphabet_ok {
            return Some(prefix);
        }
    }
    None
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Base62 encoding of `n`, zero-padded to six characters.
pub fn base62_6(mut n: u32) -> [u8; 6] {
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// GitHub and npm tokens: `<prefix>_` + 30 random characters + 6 characters that are the
/// CRC32 of those 30, in base62 (0-9A-Za-z), zero-padded.
fn github_crc32(secret: &[u8]) -> bool {
    let Some(us) = secret.iter().position(|&b| b == b'_') else {
        return false;
    };
    let body = &secret[us + 1..];
    if body.len() != 36 {
        return false;
    }
    let (random, check) = body.split_at(30);
    base62_6(crc32fast::hash(random)) == check
}

/// An AWS secret access key: 40 characters with upper case, lower case and a digit or symbol;
/// all-hex strings (git object ids, digests) are not.
fn aws_secret(secret: &[u8]) -> bool {
    secret.len() == 40
        && secret.iter().any(u8::is_ascii_uppercase)
        && secret.iter().any(u8::is_ascii_lowercase)
        && !secret.iter().all(u8::is_ascii_hexdigit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn github_token(prefix: &str, random: &str) -> String {
        let check = base62_6(crc32fast::hash(random.as_bytes()));
        format!("{prefix}_{random}{}", std::str::from_utf8(&check).unwrap())
    }

    #[test]
    fn openai_marker_cases() {
        let a20 = "Ab3De5Gh7Jk9Mn1Pq3St";
        let b20 = "Uv5Wx7Yz9Bc2Df4Gh6Jk";
        let a74: String = "Ab3-De5_Gh7".repeat(7)[..74].to_string();
        let cases: Vec<(String, bool)> = vec![
            (format!("sk-{a20}T3BlbkFJ{b20}"), true),
            (format!("sk-proj-{a74}T3BlbkFJ{a74}-more"), false),
            (format!("sk-proj-{a20}T3BlbkFJ{b20}"), true),
            (format!("sk-proj-{a74}T3BlbkFJ{a74}"), true),
            (format!("sk-svcacct-{a74}T3BlbkFJ{a74}"), true),
            (format!("sk-proj-{a74}T3BlbkFJ{}", &a74[1..]), false),
            (format!("sk-{a20}T3BlbkFJ{}", &b20[..19]), false),
            (
                format!("sk-{}T3BlbkFJ{}", "Ab3-De5_Gh7Jk9Mn1Pq3", b20),
                false,
            ),
            (format!("rk-{a20}T3BlbkFJ{b20}"), false),
            ("sk-T3BlbkFJ".to_string(), false),
        ];
        for (secret, want) in cases {
            assert_eq!(openai_marker(secret.as_bytes()).is_some(), want, "{secret}");
        }
    }

    #[test]
    fn github_checksum_round_trip_and_one_char_change_fails() {
        let token = github_token("ghp", "q8W7e6R5t4Y3u2I1o9P8a7S6d5F4g3");
        assert!(github_crc32(token.as_bytes()));
        let mut broken = token.clone().into_bytes();
        broken[10] = if broken[10] == b'x' { b'y' } else { b'x' };
        assert!(!github_crc32(&broken));
        assert!(!github_crc32(b"ghp_short"));
    }

    #[test]
    fn base62_is_zero_padded() {
        assert_eq!(&base62_6(0), b"000000");
        assert_eq!(&base62_6(61), b"00000z");
        assert_eq!(&base62_6(62), b"000010");
    }

    #[test]
    fn aws_secret_cases() {
        assert!(aws_secret(b"Zq3Xw8Yv1Ut5Sr9Qp2On6Ml4Kj7Ih0Gf3Ed8Cb1A"));
        assert!(!aws_secret(b"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"));
        assert!(!aws_secret(b"ZQ3XW8YV1UT5SR9QP2ON6ML4KJ7IH0GF3ED8CB1A"));
    }
}
