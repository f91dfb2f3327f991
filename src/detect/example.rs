//! `keyhound rules example RULE`: a fake key for trying the pre-commit hook (issue 19 item 27).
//! A made-up key such as `sk-proj-1234abcd` is rejected by the detector (too short, too little
//! entropy, a placeholder, a failed checksum), so a user testing the hook saw nothing. This
//! takes one of the rule's own `examples`, keeps its fixed parts (the rule's keywords, the
//! prefix up to its last `-` or `_`, punctuation) and draws every other character afresh at run
//! time from the same class (a digit for a digit, a hex digit in a hex secret), recomputes the
//! checksum the rule checks, and returns the example only once the full detector reports exactly
//! this rule for exactly the new secret. Nothing here is a real key: it never came from a
//! provider, and a live check of it fails.

use std::hash::{BuildHasher, Hasher};

use super::{checksum, Detector};
use crate::rules::{Checksum, Rule};

/// Attempts per example before giving up (a placeholder word drawn by chance, an entropy bound
/// missed: each attempt fails rarely, so a rule that fails them all cannot be generated).
const ATTEMPTS: usize = 64;

/// A line (or lines, for a PEM key) of text holding a freshly generated fake key that the
/// detector reports as `rule_id`, or why there is none.
pub(crate) fn generate(detector: &Detector, rule_id: &str) -> Result<String, String> {
    let set = detector.rules();
    let Some(index) = set.index_of(rule_id) else {
        return Err(format!(
            "no rule \"{rule_id}\"; run `keyhound rules` to list them"
        ));
    };
    let rule = &set.rules[index];
    if rule.examples.is_empty() {
        return Err(format!("rule \"{rule_id}\" has no examples to start from"));
    }
    let mut rng = Rng::seeded();
    for example in &rule.examples {
        let found = detector.find(example.as_bytes());
        let Some(m) = found
            .iter()
            .find(|m| m.rule == index && m.encoding.is_none())
        else {
            continue;
        };
        let (start, end) = (m.start, m.end);
        let Some(secret) = example.get(start..end) else {
            continue;
        };
        let fixed = fixed_positions(rule, secret);
        for _ in 0..ATTEMPTS {
            let text = redraw(rule, example, start..end, &fixed, &mut rng);
            let fresh = match rule.checksum {
                Some(checksum) => fix_checksum(checksum, text[start..end].to_string()),
                None => text[start..end].to_string(),
            };
            if fresh == secret {
                continue;
            }
            let text = format!("{}{fresh}{}", &example[..start], &example[end..]);
            if reports_only(detector, rule, index, &text, &fresh) {
                return Ok(text);
            }
        }
    }
    Err(format!(
        "rule \"{rule_id}\": no generated key passed its checks; use one of its `examples` (`keyhound rules check` runs them)"
    ))
}

/// The detector reports `text` as this rule (and its required companion, which an example
/// carries), with `secret` as the secret, and nothing else.
fn reports_only(detector: &Detector, rule: &Rule, index: usize, text: &str, secret: &str) -> bool {
    let set = detector.rules();
    let mut own = 0;
    for m in detector.find(text.as_bytes()) {
        if m.rule == index && m.secret == secret.as_bytes() {
            own += 1;
        } else if rule.requires_nearby.as_deref() != Some(set.rules[m.rule].id.as_str()) {
            return false;
        }
    }
    own == 1
}

/// Which characters of `secret` stay as written: the rule's keywords wherever they occur (case
/// folded), the prefix through its last `-` or `_` among the first 16 characters (`sk-proj-`,
/// `xoxb-`, `glpat-`), the first and last line of a key over several lines, and everything that
/// is not an ASCII letter or digit.
fn fixed_positions(rule: &Rule, secret: &str) -> Vec<bool> {
    let bytes = secret.as_bytes();
    let mut fixed: Vec<bool> = bytes.iter().map(|b| !b.is_ascii_alphanumeric()).collect();
    let lower = secret.to_ascii_lowercase();
    for k in &rule.keywords {
        let k = k.to_ascii_lowercase();
        if k.is_empty() {
            continue;
        }
        let mut from = 0;
        while let Some(i) = lower[from..].find(&k).map(|i| from + i) {
            fixed[i..i + k.len()].iter_mut().for_each(|f| *f = true);
            from = i + 1;
        }
    }
    // A key over several lines (PEM) keeps its armour lines (`-----BEGIN RSA PRIVATE KEY-----`).
    if let (Some(first), Some(last)) = (secret.find('\n'), secret.rfind('\n')) {
        fixed[..first].iter_mut().for_each(|f| *f = true);
        fixed[last..].iter_mut().for_each(|f| *f = true);
    }
    let head = bytes.len().min(16);
    if let Some(sep) = bytes[..head].iter().rposition(|&b| b == b'-' || b == b'_') {
        fixed[..=sep].iter_mut().for_each(|f| *f = true);
    }
    fixed
}

/// `example` with every free character of its secret (at `span`) drawn again from its class:
/// all hex digits when the free characters are all hex (of one case), else a digit for a
/// digit, a lower-case letter for one, an upper-case letter for one. A drawn character stays
/// only if the rule's pattern still matches the same secret: a character the pattern spells
/// out (`AA` at the end of an Anthropic key, `T` and `B` in a Slack webhook's path, the `us` of
/// a Mailchimp data centre) keeps its value, and a narrower class (bech32) is found by drawing.
fn redraw(
    rule: &Rule,
    example: &str,
    span: std::ops::Range<usize>,
    fixed: &[bool],
    rng: &mut Rng,
) -> String {
    const DIGITS: &[u8] = b"0123456789";
    const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const HEX_LOWER: &[u8] = b"0123456789abcdef";
    const HEX_UPPER: &[u8] = b"0123456789ABCDEF";
    /// Draws for one character before it keeps its value.
    const DRAWS: usize = 12;
    let secret = &example.as_bytes()[span.clone()];
    let free = || {
        secret
            .iter()
            .zip(fixed)
            .filter(|(_, &f)| !f)
            .map(|(&b, _)| b)
    };
    let hex_lower =
        free().all(|b| HEX_LOWER.contains(&b)) && free().any(|b| b.is_ascii_lowercase());
    let hex_upper =
        free().all(|b| HEX_UPPER.contains(&b)) && free().any(|b| b.is_ascii_uppercase());
    let regex = rule.regex();
    let matches = |text: &[u8]| {
        regex
            .captures_iter(text)
            .any(|caps| rule.secret_of(&caps).is_some_and(|m| m.range() == span))
    };
    let mut text = example.as_bytes().to_vec();
    for (i, &f) in fixed.iter().enumerate() {
        if f {
            continue;
        }
        let at = span.start + i;
        let original = text[at];
        let alphabet = if hex_lower {
            HEX_LOWER
        } else if hex_upper {
            HEX_UPPER
        } else if original.is_ascii_digit() {
            DIGITS
        } else if original.is_ascii_lowercase() {
            LOWER
        } else {
            UPPER
        };
        let prev = if i > 0 { text[at - 1] } else { 0 };
        let mut kept = false;
        for _ in 0..DRAWS {
            let c = alphabet[rng.below(alphabet.len())];
            // No character twice in a row: runs read as placeholders (`xxxx`, `0000`).
            if c == prev {
                continue;
            }
            text[at] = c;
            if matches(&text) {
                kept = true;
                break;
            }
        }
        if !kept {
            text[at] = original;
        }
    }
    String::from_utf8(text).expect("ASCII characters replaced ASCII characters")
}

/// Recompute what a checksum covers: GitHub's and npm's CRC32 over the 30 random characters.
/// The other validators check structure that [`redraw`] keeps (OpenAI's marker and equal
/// halves, an AWS secret's mix of cases).
fn fix_checksum(checksum: Checksum, secret: String) -> String {
    if checksum != Checksum::GithubCrc32 {
        return secret;
    }
    let Some(us) = secret.find('_') else {
        return secret;
    };
    let body = &secret[us + 1..];
    if body.len() != 36 {
        return secret;
    }
    let random = &body[..30];
    let check = checksum::base62_6(crc32fast::hash(random.as_bytes()));
    format!(
        "{}{random}{}",
        &secret[..=us],
        std::str::from_utf8(&check).expect("base62 is ASCII")
    )
}

/// splitmix64, seeded from the process's random hasher keys (std draws them from the operating
/// system), so each run prints another key.
struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        Rng(h.finish())
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_checksum_is_recomputed() {
        let random = "a".repeat(30);
        let fixed = fix_checksum(Checksum::GithubCrc32, format!("ghp_{random}000000"));
        assert!(checksum::validate(Checksum::GithubCrc32, fixed.as_bytes()));
    }
}
