//! The fingerprint of a finding: a stable, slow hash of its rule id and secret ([`fingerprint`],
//! Argon2id), the key of baselines, `[allow] fingerprints`, `--state`, SARIF and GitLab
//! identities and audit summaries; and the form keyhound used before issue 19
//! ([`legacy_fingerprint`]), still honoured when read. A leaf beside `crate::finding`: bytes in,
//! hex out; it knows nothing of rules, detectors or reports.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

/// Memory of one fingerprint computation, in KiB (Argon2id `m`): 2 MiB, one pass (`t` = 1,
/// `p` = 1). Lighter than a password store's setting (OWASP: 19 MiB, t = 2) on purpose: a
/// report can hold thousands of distinct secrets (a leaked dump, a hostile file), each costing
/// one computation (about 1 ms of a core: 5,000 distinct secrets cost 5 s of CPU), and a scan
/// must stay minutes, not hours. It is still memory-hard: a guess moves about 6 MiB of memory,
/// so a GPU tries some hundred thousand a second where it tries ten billion SHA-256
/// (docs/redaction.md, "What a report gives away").
const FINGERPRINT_MEMORY_KIB: u32 = 2 * 1024;
/// Passes over that memory (Argon2id `t`).
const FINGERPRINT_PASSES: u32 = 1;
/// Argon2's salt: fixed, so the fingerprint is the same on every machine and in every run (a
/// baseline, `--state`, shard merge and SARIF depend on that); it separates keyhound's
/// fingerprints from any other use of Argon2id, so no table built for another tool applies.
const FINGERPRINT_SALT: &[u8] = b"keyhound secret fingerprint v2";
/// What a fingerprint's definition is, for files that keep fingerprints across runs (the
/// `--state` file's rule key, SARIF's `partialFingerprints` key): change it with the definition.
pub(crate) const FINGERPRINT_VERSION: &str = "argon2id-m2048-t1-p1-v2";

/// Stable hash of rule id and secret, independent of position: the key of baselines,
/// `[allow] fingerprints`, SARIF and GitLab identities and audit summaries. 32 hex digits of
/// Argon2id over rule id and secret (issue 19 item 3): each guess at a secret costs an attacker
/// holding a report milliseconds of a CPU core and 2 MiB of memory, so a fingerprint cannot
/// confirm guesses cheaply the way a plain SHA-256 could. Computed once per distinct (rule,
/// secret) in a process (memoized): an audit has many findings of few secrets.
pub(crate) fn fingerprint(rule_id: &str, secret: &[u8]) -> String {
    static MEMO: OnceLock<Mutex<Memo>> = OnceLock::new();
    // The memo's key is a hash, so the table holds no secret.
    let key: [u8; 32] = {
        let mut h = Sha256::new();
        h.update(b"keyhound fingerprint memo\0");
        h.update(rule_id.as_bytes());
        h.update([0]);
        h.update(secret);
        h.finalize().into()
    };
    let cell = {
        let mut memo = MEMO
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        Arc::clone(memo.entry(key).or_default())
    };
    // Outside the table's lock: threads wait only for the secret they also want.
    cell.get_or_init(|| slow_fingerprint(rule_id, secret))
        .clone()
}

/// Each (rule, secret)'s fingerprint, by a hash of them, filled once by whoever asks first.
type Memo = HashMap<[u8; 32], Arc<OnceLock<String>>>;

fn slow_fingerprint(rule_id: &str, secret: &[u8]) -> String {
    let params = argon2::Params::new(FINGERPRINT_MEMORY_KIB, FINGERPRINT_PASSES, 1, Some(16))
        .expect("fixed Argon2 parameters are valid");
    let blocks_needed = params.block_count();
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut input = Vec::with_capacity(rule_id.len() + 1 + secret.len());
    input.extend_from_slice(rule_id.as_bytes());
    input.push(0);
    input.extend_from_slice(secret);
    // Each thread keeps its 2 MiB of Argon2 memory: a fresh allocation per secret costs page
    // faults and, with glibc, heap that is not given back (5,000 secrets: 128 MB resident).
    thread_local! {
        static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> = const {
            std::cell::RefCell::new(Vec::new())
        };
    }
    let mut out = [0u8; 16];
    BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        blocks.resize(blocks_needed, argon2::Block::default());
        argon
            .hash_password_into_with_memory(&input, FINGERPRINT_SALT, &mut out, &mut blocks[..])
            .expect("fixed Argon2 parameters and a 16-byte output are valid");
    });
    hex(&out)
}

/// The fingerprint of keyhound before issue 19 (truncated, unsalted SHA-256 of rule id and
/// secret). Computed in memory only, to let baselines and `[allow] fingerprints` written then
/// keep suppressing their findings; never written to any output.
pub(crate) fn legacy_fingerprint(rule_id: &str, secret: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update([0]);
    h.update(secret);
    hex(&h.finalize()[..16])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
#[cfg(test)]
mod tests {
    use super::*;

    // issue 19 item 3
    #[test]
    fn fingerprint_is_argon2id_and_the_legacy_form_is_the_old_sha256() {
        let new = fingerprint("a.b", b"s1");
        assert_eq!(new, slow_fingerprint("a.b", b"s1"));
        assert_ne!(new, legacy_fingerprint("a.b", b"s1"));
        let mut h = Sha256::new();
        h.update(b"a.b\0s1");
        assert_eq!(legacy_fingerprint("a.b", b"s1"), hex(&h.finalize()[..16]));
    }

    #[test]
    fn fingerprint_depends_on_rule_and_secret_only() {
        assert_eq!(fingerprint("a.b", b"s1"), fingerprint("a.b", b"s1"));
        assert_ne!(fingerprint("a.b", b"s1"), fingerprint("a.c", b"s1"));
        assert_ne!(fingerprint("a.b", b"s1"), fingerprint("a.b", b"s2"));
        assert_eq!(fingerprint("a.b", b"s1").len(), 32);
    }
}
