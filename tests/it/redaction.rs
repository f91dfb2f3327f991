//! What a report shows of a secret (redaction) and how it names one (the fingerprint): never
//! enough to search for the key (issue 19 item 3); baselines written with the old fingerprint
//! keep working.

use sha2::{Digest, Sha256};

use crate::harness::{openai_key, Report, Rng, TestRepo, ALNUM, BASE64URL};

/// The fingerprint before issue 19: truncated, unsalted SHA-256 of rule id and secret.
fn legacy_fingerprint(rule: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(rule.as_bytes());
    h.update([0]);
    h.update(secret.as_bytes());
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The fingerprint as README documents it: Argon2id (m = 2 MiB, t = 1, p = 1, 16 bytes out)
/// of rule id, a zero byte and the secret, salted with keyhound's fixed domain string.
fn argon2_fingerprint(rule: &str, secret: &str) -> String {
    let params = argon2::Params::new(2 * 1024, 1, 1, Some(16)).unwrap();
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = [0u8; 16];
    a.hash_password_into(
        format!("{rule}\0{secret}").as_bytes(),
        b"keyhound secret fingerprint v2",
        &mut out,
    )
    .unwrap();
    out.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(serde::Deserialize)]
struct BaselineJson {
    entries: Vec<EntryJson>,
}

#[derive(serde::Deserialize)]
struct EntryJson {
    fingerprint: String,
}

fn report(run: &crate::harness::Run) -> Report {
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    run.report()
}

/// The body characters `redacted` shows after `prefix`, checked to be the body's own start and
/// end.
fn body_shown(redacted: &str, prefix: &str, body: &str) -> usize {
    let rest = redacted
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{redacted} does not start with {prefix}"));
    let (head, tail) = rest
        .split_once('…')
        .unwrap_or_else(|| panic!("{redacted} has no …"));
    assert!(body.starts_with(head) && body.ends_with(tail), "{redacted}");
    head.chars().count() + tail.chars().count()
}

// issue 19 item 3: the old redaction took everything up to the last `-`/`_` of the first 16
// characters as a public prefix, so about one key in five showed 9-12 body characters.
#[test]
fn redaction_of_generated_openai_keys_shows_at_most_eight_body_characters_and_a_quarter() {
    let shapes: [(&str, &[u8], usize); 8] = [
        ("sk-proj-", BASE64URL, 74),
        ("sk-proj-", BASE64URL, 58),
        ("sk-proj-", ALNUM, 20),
        ("sk-svcacct-", BASE64URL, 74),
        ("sk-svcacct-", BASE64URL, 46),
        ("sk-admin-", BASE64URL, 58),
        ("sk-None-", BASE64URL, 74),
        ("sk-", ALNUM, 20),
    ];
    let mut rng = Rng::new(1919);
    let mut keys = Vec::new();
    for i in 0..240 {
        let (prefix, alphabet, n) = shapes[i % shapes.len()];
        let mut first = rng.string(alphabet, n).into_bytes();
        // Every third key has a `-` or `_` early in its body, where the old guess looked.
        if i % 3 == 0 && alphabet == BASE64URL {
            first[(i / 3) % 8] = if i % 2 == 0 { b'-' } else { b'_' };
        }
        let first = String::from_utf8(first).unwrap();
        keys.push((
            prefix,
            format!("{prefix}{first}T3BlbkFJ{}", rng.string(alphabet, n)),
        ));
    }
    let repo = TestRepo::dir();
    let text: String = keys.iter().map(|(_, k)| format!("k = \"{k}\"\n")).collect();
    repo.write("keys.env", text);
    let r = report(&repo.keyhound(&["scan", "--format", "json", "--show-secrets"]));
    assert!(r.findings.len() >= 230, "{} findings", r.findings.len());
    for f in &r.findings {
        let secret = f.secret.as_deref().expect("--show-secrets");
        let (prefix, _) = keys
            .iter()
            .find(|(_, k)| k == secret)
            .expect("a generated key");
        let body = &secret[prefix.len()..];
        let shown = body_shown(&f.redacted, prefix, body);
        assert!(
            shown <= 8 && shown * 4 <= body.len(),
            "{} shows {shown} of {} body characters",
            f.redacted,
            body.len()
        );
        assert!(!f.snippet.contains(&body[..12]), "{}", f.snippet);
    }
}

// issue 19 item 3
#[test]
fn short_and_custom_rule_secrets_show_little_or_nothing() {
    let repo = TestRepo::dir();
    // A custom rule with no fixed prefix: a 16-character secret, a 40-character one (Azure
    // client secrets are 40 characters with `~`/`_` inside) and one under 12 characters.
    repo.write(
        ".keyhound.toml",
        r#"[[rule]]
id = "acme.token"
provider = "acme"
name = "Acme token"
keywords = ["acme_token"]
pattern = 'acme_token\s*=\s*"([A-Za-z0-9_~-]{8,64})"'
examples = ['acme_token = "Zq8Wm3Xr7Tn2Vb5K"']
counter_examples = ['acme_token = "x"']
"#,
    );
    let mut rng = Rng::new(7);
    let s16 = rng.string(ALNUM, 16);
    let azure = format!("{}8Q~{}", rng.string(ALNUM, 3), rng.string(BASE64URL, 34));
    let s10 = rng.string(ALNUM, 10);
    repo.write(
        "app.cfg",
        format!("acme_token = \"{s16}\"\nacme_token = \"{azure}\"\nacme_token = \"{s10}\"\n"),
    );
    let r = report(&repo.keyhound(&["scan", "app.cfg", "--format", "json", "--show-secrets"]));
    let shown = |secret: &str| -> String {
        r.findings
            .iter()
            .find(|f| f.secret.as_deref() == Some(secret))
            .unwrap_or_else(|| panic!("no finding for a secret; {:?}", r.findings))
            .redacted
            .clone()
    };
    assert_eq!(shown(&s16), format!("{}…{}", &s16[..2], &s16[14..]));
    assert_eq!(shown(&azure), format!("{}…{}", &azure[..4], &azure[36..]));
    assert_eq!(shown(&s10), "…");
    // The snippets hide them as well.
    for f in &r.findings {
        let secret = f.secret.as_deref().unwrap();
        assert!(!f.snippet.contains(&secret[..6]), "{}", f.snippet);
    }
}

// issue 19 item 3: the fingerprint is Argon2id, not the fast SHA-256 that let a redacted
// report's secret be found by trying guesses.
#[test]
fn fingerprint_is_the_slow_argon2id_form() {
    let repo = TestRepo::dir();
    let key = openai_key(1901);
    repo.write("a.py", format!("K = \"{key}\"\n"));
    let r = report(&repo.keyhound(&["scan", "--format", "json"]));
    assert_eq!(r.findings.len(), 1);
    let f = &r.findings[0];
    assert_eq!(f.fingerprint, argon2_fingerprint(&f.rule, &key));
    assert_ne!(f.fingerprint, legacy_fingerprint(&f.rule, &key));
    // The same in every run (baselines, --state and shard merges depend on it).
    let again = report(&repo.keyhound(&["scan", "--format", "json"]));
    assert_eq!(again.findings[0].fingerprint, f.fingerprint);
}

// issue 19 item 3: baselines and `[allow] fingerprints` written before the fingerprint changed
// still suppress their findings; a new baseline is written in the new form.
#[test]
fn old_format_baseline_and_allowed_fingerprints_still_suppress() {
    let repo = TestRepo::dir();
    let accepted = openai_key(1902);
    let allowed = openai_key(1903);
    let fresh = openai_key(1904);
    repo.write(
        "a.py",
        format!("A = \"{accepted}\"\nB = \"{allowed}\"\nC = \"{fresh}\"\n"),
    );
    let rule = "openai.project-key";
    let baseline = serde_json::json!({
        "version": 1,
        "entries": [{
            "rule": rule,
            "fingerprint": legacy_fingerprint(rule, &accepted),
            "path": "a.py",
            "line": 1,
            "redacted": "sk-proj-…",
        }],
    });
    repo.write(".keyhound-baseline.json", baseline.to_string());
    repo.write(
        ".keyhound.toml",
        format!(
            "[allow]\nfingerprints = [\"{}\"]\n",
            legacy_fingerprint(rule, &allowed)
        ),
    );
    let run = repo.keyhound(&["scan", "--format", "json", "--show-secrets"]);
    let r = report(&run);
    // Only the key neither names is reported (the positive control).
    let secrets: Vec<&str> = r
        .findings
        .iter()
        .filter_map(|f| f.secret.as_deref())
        .collect();
    assert_eq!(secrets, vec![fresh.as_str()], "{}", run.stderr);
    assert_eq!(run.code, 1);
    // The old entry matches, so prune keeps it, rewritten in the new form, and it still
    // suppresses.
    let run = repo.keyhound(&["baseline", "prune", "--dry-run"]);
    assert!(!run.stdout.contains("stale"), "{}", run.stdout);
    let run = repo.keyhound(&["baseline", "prune"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(repo.path().join(".keyhound-baseline.json")).unwrap();
    let pruned: BaselineJson = serde_json::from_str(&text).unwrap();
    let kept: Vec<&str> = pruned
        .entries
        .iter()
        .map(|e| e.fingerprint.as_str())
        .collect();
    assert_eq!(kept, [argon2_fingerprint(rule, &accepted)]);
    let r = report(&repo.keyhound(&["scan", "--format", "json", "--show-secrets"]));
    assert_eq!(r.findings.len(), 1);
    // No output carries the old form.
    let all = repo.keyhound(&["scan", "--format", "json", "--show-suppressed"]);
    for old in [
        legacy_fingerprint(rule, &accepted),
        legacy_fingerprint(rule, &allowed),
    ] {
        assert!(!all.stdout.contains(&old) && !all.stderr.contains(&old));
    }
    // A new baseline uses the new form.
    std::fs::remove_file(repo.path().join(".keyhound.toml")).unwrap();
    let run = repo.keyhound(&["baseline", "create"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(repo.path().join(".keyhound-baseline.json")).unwrap();
    let written: BaselineJson = serde_json::from_str(&text).unwrap();
    let mut fingerprints: Vec<String> =
        written.entries.into_iter().map(|e| e.fingerprint).collect();
    fingerprints.sort();
    let mut want: Vec<String> = [&accepted, &allowed, &fresh]
        .iter()
        .map(|k| argon2_fingerprint(rule, k))
        .collect();
    want.sort();
    assert_eq!(fingerprints, want);
}
