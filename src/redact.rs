//! The one place secrets are shortened for display. Every format calls [`redact`]; nothing else
//! decides how much of a secret to show.

/// Show a key's public prefix, four characters of its body and its last four characters:
/// `sk-proj-AbCd…wxyz`. Short secrets keep only two characters; PEM blocks keep their header.
pub fn redact(secret: &str) -> String {
    if let Some(rest) = secret.strip_prefix("-----BEGIN ") {
        let header_end = rest
            .find("-----")
            .map_or(0, |i| i + "-----BEGIN ".len() + 5);
        return format!("{}…", &secret[..header_end.min(secret.len())]);
    }
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < 16 {
        let shown: String = chars.iter().take(2).collect();
        return format!("{shown}…");
    }
    // The prefix is everything up to the last '-' or '_' in the first 16 characters
    // (`sk-proj-`, `ghp_`, `xoxb-`), capped at a third of the secret.
    let limit = 16.min(chars.len() / 3);
    let prefix = chars[..limit]
        .iter()
        .rposition(|&c| c == '-' || c == '_')
        .map_or(0, |i| i + 1);
    let head: String = chars[..prefix + 4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redaction_table() {
        // Built at run time so the repository holds no key-shaped literal.
        let aws_id = format!("AKIA{}", "Z3MQ7VJ5KX2PLW4N");
        let cases = [
            (
                "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123wxyz",
                "sk-proj-AbCd…wxyz",
            ),
            ("ghp_Abcd1234Efgh5678Ijkl9012Mnop3456Qrst", "ghp_Abcd…Qrst"),
            (aws_id.as_str(), "AKIA…LW4N"),
            ("short", "sh…"),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
                "-----BEGIN RSA PRIVATE KEY-----…",
            ),
        ];
        for (secret, want) in cases {
            assert_eq!(redact(secret), want);
        }
    }

    #[test]
    fn redaction_never_shows_most_of_the_secret() {
        let secret = "sk-proj-Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LzXcVbNm";
        let shown = redact(secret);
        assert!(shown.chars().count() <= 18, "{shown}");
        assert!(!shown.contains(&secret[8..20]));
    }
}
