//! Live-key checks (`--verify`, `keyhound verify`): is each key found still live? Opt-in only;
//! no other path touches the network. Each unique secret is checked once per run, by its own
//! provider's check (`providers.rs`: fixed host, read-only zero-cost request), with bounded
//! concurrency (global and per provider), a per-provider request rate, one deadline per
//! request, and a pause of the whole host when it says to come back later (`limit.rs`); rate
//! limits only delay a check until the run's budget is spent. Verdicts are cached on disk under a hash of the secret
//! (never the secret itself) for [`CACHE_TTL_SECS`]; `unknown` is never cached.

mod limit;
pub(crate) mod providers;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::finding::Finding;
pub use crate::finding::{Status, Verdict};
use crate::rules::RuleSet;
use limit::{backoff, hint, sleep_until, Gate, Pace, Pause};
use providers::{check_for, classify, Auth, Check, Outcome, Response};

/// How long a live or invalid verdict is trusted.
pub const CACHE_TTL_SECS: u64 = 24 * 3600;

/// Settings of a verification run.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Provider -> base URL (scheme and host) replacing the provider's own, from the command line.
    pub endpoints: HashMap<String, String>,
    pub concurrency: usize,
    pub per_provider: usize,
    pub requests_per_second: f64,
    /// Longest one request may take, connect to the last byte of the answer.
    pub timeout: Duration,
    /// Longest the whole verification may take. Rate limits only delay a check; a key is
    /// `unknown` for them only once this is spent (issue 10, #29).
    pub budget: Duration,
    pub cache: bool,
    pub cache_dir: Option<PathBuf>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            endpoints: HashMap::new(),
            concurrency: 4,
            per_provider: 2,
            requests_per_second: 5.0,
            timeout: Duration::from_secs(10),
            budget: Duration::from_secs(120),
            cache: true,
            cache_dir: None,
        }
    }
}

/// Parse `PROVIDER=BASE_URL`. Plain `http://` is only allowed to loopback, so a key can never
/// cross a network in clear text; the path of each check stays the provider's own. The URL is
/// parsed as the HTTP client will read it (WHATWG), so `http://127.0.0.1:1@192.0.2.2`, whose
/// host is 192.0.2.2, is not mistaken for loopback (issue 19 item 15); user info, a path, a
/// query or a fragment are refused.
pub fn parse_endpoint(s: &str) -> Result<(String, String), String> {
    let (provider, base) = s
        .split_once('=')
        .ok_or_else(|| format!("--verify-endpoint {s}: expected PROVIDER=BASE_URL"))?;
    if check_for(provider).is_none() {
        return Err(format!(
            "--verify-endpoint {s}: no check for provider \"{provider}\""
        ));
    }
    let url = reqwest::Url::parse(base).map_err(|e| {
        format!("--verify-endpoint {s}: BASE_URL is not a URL ({e}); expected https://HOST[:PORT]")
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "--verify-endpoint {s}: BASE_URL holds user info (before `@`); give only scheme and host (and port)"
        ));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "--verify-endpoint {s}: give only scheme and host (and port); the path is the provider's"
        ));
    }
    let host = url.host_str().unwrap_or("");
    match url.scheme() {
        "https" if !host.is_empty() => {}
        "http" if is_loopback(host) => {}
        "http" => {
            return Err(format!(
                "--verify-endpoint {s}: plain http is only allowed to loopback (127.0.0.1, localhost, [::1]), not to \"{host}\"; use https"
            ))
        }
        _ => {
            return Err(format!(
                "--verify-endpoint {s}: BASE_URL must start with https:// (or http:// to loopback)"
            ))
        }
    }
    // Scheme, host and port as parsed: what the checks are sent to.
    let base = url.as_str().trim_end_matches('/').to_string();
    Ok((provider.to_string(), base))
}

/// A parsed URL host that is this machine: `localhost`, 127.0.0.0/8 or `[::1]`.
fn is_loopback(host: &str) -> bool {
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Verify the secrets of `findings` (found by the rules of `rules`): one check per unique
/// (provider, secret). Returns the verdict of each finding, index-aligned.
pub fn verify(findings: &[Finding], rules: &RuleSet, opts: &VerifyOptions) -> Vec<Verdict> {
    let mut unique: Vec<(String, String)> = findings
        .iter()
        .map(|f| (f.provider.clone(), f.secret.clone()))
        .collect();
    unique.sort();
    unique.dedup();
    let results: Mutex<HashMap<(String, String), Verdict>> = Mutex::new(HashMap::new());
    let (unique, refused) = sendable(unique, findings, rules);
    results.lock().expect("results lock").extend(refused);
    // Each request carries its own deadline, connect to last byte (see `send`). No shorter
    // connect timeout: one of 5 s cut every longer `--verify-timeout` short, then reported the
    // longer one as waited (issue 19 item 25).
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("keyhound/", env!("CARGO_PKG_VERSION")))
        .build();
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            let v = unknown(format!("cannot start an HTTP client: {e}"));
            return findings.iter().map(|_| v.clone()).collect();
        }
    };
    // Far in the future if the budget is absurdly large.
    let deadline = Instant::now()
        .checked_add(opts.budget)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(365 * 24 * 3600));
    let limits: HashMap<&str, Limits> = unique
        .iter()
        .map(|(p, _)| {
            let limits = Limits {
                gate: Gate::new(opts.per_provider),
                pace: Pace::new(opts.requests_per_second),
            };
            (p.as_str(), limits)
        })
        .collect();
    // One pause per host: providers sent to the same host (one proxy, one test server) share
    // its limit.
    let pauses: HashMap<&str, Pause> = unique
        .iter()
        .map(|(p, _)| (base_of(p, opts), Pause::new()))
        .collect();
    let queue = Mutex::new(unique.iter().enumerate());
    std::thread::scope(|s| {
        for _ in 0..opts.concurrency.max(1).min(unique.len().max(1)) {
            s.spawn(|| loop {
                let Some((_, (provider, secret))) = queue.lock().expect("queue lock").next() else {
                    return;
                };
                let verdict =
                    verify_one(&client, provider, secret, opts, &limits, &pauses, deadline);
                results
                    .lock()
                    .expect("results lock")
                    .insert((provider.clone(), secret.clone()), verdict);
            });
        }
    });
    let results = results.into_inner().expect("results lock");
    findings
        .iter()
        .map(|f| {
            results
                .get(&(f.provider.clone(), f.secret.clone()))
                .cloned()
                .unwrap_or_else(|| unknown("not checked".into()))
        })
        .collect()
}

/// A key to check: its provider and the secret.
type Key = (String, String);

/// Split the keys into those that may go to their provider's check and the verdicts of those
/// that may not. A key goes to a provider only if a built-in rule of that provider found it,
/// or, found by a user's rule (a repository's `.keyhound.toml`, `--rules-from`, a rule that
/// overrides a built-in one), if a built-in rule of that provider matches the whole secret on
/// its own: a config rule naming `provider = "openai"` must not send arbitrary strings (a
/// database password, another company's token) to OpenAI (issue 19 item 15). Providers
/// without a check are left to [`verify_one`].
fn sendable(
    unique: Vec<Key>,
    findings: &[Finding],
    rules: &RuleSet,
) -> (Vec<Key>, Vec<(Key, Verdict)>) {
    let builtin = crate::rules::builtin().unwrap_or_default();
    // Which rules of the run are built-in ones, unchanged (by index, as findings name them).
    let is_builtin: Vec<bool> = rules
        .rules
        .iter()
        .map(|r| {
            builtin
                .iter()
                .any(|b| b.id == r.id && b.provider == r.provider && b.pattern == r.pattern)
        })
        .collect();
    // Each key: whether a built-in rule found it, and the first rule that did find it.
    let mut found: HashMap<(&str, &str), (bool, &str)> = HashMap::new();
    for f in findings {
        let entry = found
            .entry((f.provider.as_str(), f.secret.as_str()))
            .or_insert((false, f.rule_id.as_str()));
        entry.0 |= is_builtin.get(f.rule).copied().unwrap_or(false);
    }
    let shaped = |provider: &str, secret: &str| {
        builtin.iter().filter(|b| b.provider == provider).any(|b| {
            b.regex().captures_iter(secret.as_bytes()).any(|caps| {
                b.secret_of(&caps)
                    .is_some_and(|m| m.start() == 0 && m.end() == secret.len())
            })
        })
    };
    let mut refused = Vec::new();
    let mut send = Vec::new();
    for (provider, secret) in unique {
        let (by_builtin, rule) = found
            .get(&(provider.as_str(), secret.as_str()))
            .copied()
            .unwrap_or((false, ""));
        if check_for(&provider).is_none() || by_builtin || shaped(&provider, &secret) {
            send.push((provider, secret));
            continue;
        }
        let verdict = Verdict {
            status: Status::Unsupported,
            reason: format!(
                "found by the custom rule {rule}, and no built-in {provider} rule recognises it as a {provider} key: keyhound sends a provider only keys in its own shape; rotate it to be safe"
            ),
            metadata: BTreeMap::new(),
        };
        refused.push(((provider, secret), verdict));
    }
    (send, refused)
}

/// Drop from a provider's verdict anything that repeats the key (an error message or a field
/// that echoes it): verdicts go into reports made without `--show-secrets`, and into the cache.
fn scrub(mut verdict: Verdict, secret: &str) -> Verdict {
    // Any 8 characters of the key in a row: more than any rule's public prefix gives away
    // beyond the prefix itself, and a redacted echo (`sk-...abcd`) keeps less.
    let echoes = |text: &str| {
        let bytes = secret.as_bytes();
        let n = bytes.len().min(8);
        n > 0
            && bytes
                .windows(n)
                .any(|w| text.as_bytes().windows(n).any(|t| t == w))
    };
    verdict.metadata.retain(|_, value| !echoes(value));
    if echoes(&verdict.reason) {
        verdict.reason = format!(
            "{} (the provider's words are left out: they repeat the key)",
            verdict.status.as_str()
        );
    }
    verdict
}

fn unknown(reason: String) -> Verdict {
    Verdict {
        status: Status::Unknown,
        reason,
        metadata: BTreeMap::new(),
    }
}

/// A provider's share of the rate limits.
struct Limits {
    gate: Gate,
    pace: Pace,
}

/// Where a provider's checks go: its own host, or the `--verify-endpoint` override.
fn base_of<'a>(provider: &str, opts: &'a VerifyOptions) -> &'a str {
    opts.endpoints
        .get(provider)
        .map(String::as_str)
        .or_else(|| check_for(provider).map(|c| c.base))
        .unwrap_or("")
}

fn budget_spent(opts: &VerifyOptions, when: &str) -> Verdict {
    unknown(format!(
        "the verification budget ({} s) was spent {when}; try again later",
        opts.budget.as_secs_f64()
    ))
}

fn verify_one(
    client: &reqwest::blocking::Client,
    provider: &str,
    secret: &str,
    opts: &VerifyOptions,
    limits: &HashMap<&str, Limits>,
    pauses: &HashMap<&str, Pause>,
    deadline: Instant,
) -> Verdict {
    let Some(check) = check_for(provider) else {
        return Verdict {
            status: Status::Unsupported,
            reason: match providers::unsupported_reason(provider) {
                Some(why) => {
                    format!("no live check for {provider} keys: {why}; rotate it to be safe")
                }
                None => format!("no live check for {provider} keys; rotate it to be safe"),
            },
            metadata: BTreeMap::new(),
        };
    };
    let base = base_of(provider, opts);
    let cache = opts
        .cache
        .then(|| cache_path(opts, base, provider, secret))
        .flatten();
    if let Some(v) = cache.as_ref().and_then(|p| read_cache(p)) {
        return v;
    }
    let (limits, pause) = (&limits[provider], &pauses[base]);
    let mut attempt = 0;
    let verdict = loop {
        if !take_turn(limits, pause, deadline) {
            break budget_spent(opts, "waiting for the provider's rate limit");
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let limit = opts.timeout.min(left);
        let response = send(client, &check, base, secret, limit);
        limits.gate.release();
        let response = match response {
            Ok(r) => r,
            Err(NoAnswer::TimedOut(_)) if limit < opts.timeout => {
                break budget_spent(opts, "before the provider answered")
            }
            Err(NoAnswer::TimedOut(phase)) => {
                break unknown(format!(
                    "timed out after {} s {phase} (--verify-timeout)",
                    opts.timeout.as_secs_f64()
                ))
            }
            Err(NoAnswer::Failed(reason)) => break unknown(reason),
        };
        match classify(&check, &response) {
            Outcome::Done(v) => break scrub(v, secret),
            // Rate limited: the provider's hint holds back every request to its host; without
            // one, this request alone backs off. Either way it tries again until the budget
            // is spent, however many times others took the window first.
            Outcome::Retry => match hint(&response) {
                Some(wait) => pause.extend(Instant::now() + wait),
                None => {
                    let at = Instant::now() + backoff(attempt);
                    if at > deadline {
                        break budget_spent(opts, "while the provider was rate limiting");
                    }
                    sleep_until(at);
                    attempt += 1;
                }
            },
        }
    };
    if let Some(p) = cache {
        if verdict.status != Status::Unknown {
            write_cache(&p, &verdict);
        }
    }
    verdict
}

/// Wait until this provider may send: no pause on its host, a free slot, its pace. Holds
/// the gate on success (release it after the request); false once `deadline` would pass.
fn take_turn(limits: &Limits, pause: &Pause, deadline: Instant) -> bool {
    loop {
        let until = pause.until();
        if until > deadline {
            return false;
        }
        sleep_until(until);
        if !limits.gate.acquire_by(deadline) {
            return false;
        }
        if !limits.pace.wait_by(deadline) {
            limits.gate.release();
            return false;
        }
        // A pause may have begun while this request waited for its slot or its pace.
        if pause.until() <= Instant::now() {
            return true;
        }
        limits.gate.release();
    }
}

/// Why a request got no answer.
enum NoAnswer {
    /// Its deadline passed; the phase it was in ("waiting for the provider", ...).
    TimedOut(&'static str),
    /// Anything else; the reason names only the kind of failure.
    Failed(String),
}

/// The most of an answer that is read: classification needs the status, headers and the start
/// of a JSON error, never megabytes.
const MAX_BODY: u64 = 64 * 1024;

/// Send one check and read its answer, all of it within `limit` (issue 10, #16). reqwest's
/// blocking `Client::timeout` bounds only `send()`, up to the headers; reading the body then
/// gets a fresh timeout of its own, and a body that stalls came back as "cut off". A
/// per-request timeout is one deadline over connect, TLS, headers and body alike.
fn send(
    client: &reqwest::blocking::Client,
    check: &Check,
    base: &str,
    secret: &str,
    limit: Duration,
) -> Result<Response, NoAnswer> {
    let deadline = Instant::now() + limit;
    let url = format!("{base}{}", check.path);
    let mut req = match check.method {
        "POST" => client.post(&url),
        _ => client.get(&url),
    };
    req = match check.auth {
        Auth::Bearer => req.bearer_auth(secret),
        Auth::Header(name) => req.header(name, secret),
        Auth::Scheme(scheme) => req.header("authorization", format!("{scheme} {secret}")),
    };
    for (k, v) in check.headers {
        req = req.header(*k, *v);
    }
    // The error text of reqwest names the URL, never the key; keep only its kind.
    let resp = req.timeout(limit).send().map_err(|e| {
        if e.is_timeout() || timed_out(&e, deadline) {
            NoAnswer::TimedOut("waiting for the provider")
        } else if e.is_connect() {
            NoAnswer::Failed("could not connect to the provider (DNS, TLS or network)".into())
        } else {
            NoAnswer::Failed("the request to the provider failed".into())
        }
    })?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(resp, MAX_BODY), &mut body).map_err(
        |e| {
            if timed_out(&e, deadline) {
                NoAnswer::TimedOut("reading the provider's answer")
            } else {
                NoAnswer::Failed("the provider's answer was cut off".into())
            }
        },
    )?;
    Ok(Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Whether an error is a timeout: reqwest's or the OS's anywhere in its chain (reqwest's
/// `Read` wraps its errors in `io::Error`), or simply the deadline having passed.
fn timed_out(e: &(dyn std::error::Error + 'static), deadline: Instant) -> bool {
    let mut next = Some(e);
    while let Some(e) = next {
        if e.downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_timeout)
        {
            return true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::TimedOut {
                return true;
            }
            if let Some(inner) = io.get_ref() {
                next = Some(inner);
                continue;
            }
        }
        next = e.source();
    }
    Instant::now() >= deadline
}

/// The cache file of a key: a hash of where it was checked (`base`: the provider's host or the
/// `--verify-endpoint` override, issue 19 item 15: a test server's answer must not stand for
/// the provider's), provider and secret, never the secret.
fn cache_path(opts: &VerifyOptions, base: &str, provider: &str, secret: &str) -> Option<PathBuf> {
    let dir = opts.cache_dir.clone().or_else(default_cache_dir)?;
    let mut h = Sha256::new();
    h.update(b"keyhound-verify-v2\0");
    h.update(base.as_bytes());
    h.update([0]);
    h.update(provider.as_bytes());
    h.update([0]);
    h.update(secret.as_bytes());
    let name: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Some(dir.join(format!("{name}.json")))
}

fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("keyhound").join("verify"))
}

#[derive(Serialize, Deserialize)]
struct CacheEntry {
    checked_at: u64,
    verdict: Verdict,
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn read_cache(path: &std::path::Path) -> Option<Verdict> {
    let entry: CacheEntry = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    (now_secs().saturating_sub(entry.checked_at) < CACHE_TTL_SECS).then_some(entry.verdict)
}

fn write_cache(path: &std::path::Path, verdict: &Verdict) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let entry = CacheEntry {
        checked_at: now_secs(),
        verdict: verdict.clone(),
    };
    if let Ok(text) = serde_json::to_vec(&entry) {
        let _ = std::fs::write(path, text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_refuse_plain_http_off_loopback() {
        assert_eq!(
            parse_endpoint("openai=http://127.0.0.1:8080/"),
            Ok(("openai".into(), "http://127.0.0.1:8080".into()))
        );
        assert!(parse_endpoint("openai=http://localhost:1").is_ok());
        assert!(parse_endpoint("openai=http://[::1]:1").is_ok());
        // Issue 19 item 15: the host is what the client connects to, not a prefix.
        for bad in [
            "openai=http://127.0.0.1:1@192.0.2.2",
            "openai=http://127.0.0.1.nip.io",
            "openai=http://127.0.0.1\\@192.0.2.2",
            "openai=https://u:p@proxy.example.com",
            "openai=https://proxy.example.com/v1",
            "openai=https://proxy.example.com?x=1",
            "openai=https://",
        ] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
        assert!(parse_endpoint("openai=https://proxy.example.com").is_ok());
        assert!(parse_endpoint("openai=http://evil.example.com").is_err());
        assert!(parse_endpoint("openai=ftp://x").is_err());
        assert!(parse_endpoint("nosuch=https://x").is_err());
        assert!(parse_endpoint("openai").is_err());
    }
}
