//! Live-key checks (issue 6) against a real HTTP server on 127.0.0.1 that plays each provider.
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::harness::{openai_key, Rng, TestRepo, ALNUM, BASE64URL};

/// A request the server saw.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    key: String,
    at: Instant,
}

/// What the server answers: status, headers, body, and a delay before answering.
#[derive(Clone)]
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

/// A live key's answer in the shape of OpenAI's, Anthropic's (a model list) and GitHub's
/// (`/user`): only the provider's own JSON makes a key live.
const LIVE: &str = r#"{"object":"list","data":[],"login":"octocat"}"#;

fn json(status: u16, body: &str) -> Answer {
    Answer {
        status,
        headers: vec![("content-type", "application/json".into())],
        body: body.into(),
        delay: Duration::ZERO,
    }
}

struct Server {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// Serve `answer(key, nth request for that key)` on an ephemeral loopback port.
fn serve(answer: impl Fn(&str, usize) -> Answer + Send + Sync + 'static) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let answer = Arc::new(answer);
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let log = Arc::clone(&log);
            let answer = Arc::clone(&answer);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    return;
                }
                let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                let mut key = String::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                    let (name, value) = h.split_once(':').unwrap_or(("", ""));
                    let value = value.trim();
                    match name.to_ascii_lowercase().as_str() {
                        "authorization" => key = value.trim_start_matches("Bearer ").to_string(),
                        "x-api-key" | "private-token" => key = value.to_string(),
                        _ => {}
                    }
                }
                let nth = {
                    let mut seen = log.lock().unwrap();
                    seen.push(Seen {
                        path,
                        key: key.clone(),
                        at: Instant::now(),
                    });
                    seen.iter().filter(|s| s.key == key).count()
                };
                let a = answer(&key, nth);
                std::thread::sleep(a.delay);
                let mut stream = stream;
                let mut head = format!(
                    "HTTP/1.1 {} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                    a.status,
                    a.body.len()
                );
                for (k, v) in &a.headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(a.body.as_bytes());
            });
        }
    });
    Server { base, seen }
}

fn anthropic_key(seed: u64) -> String {
    let mut r = Rng::new(seed);
    format!("sk-ant-api03-{}AA", r.string(BASE64URL, 93))
}

/// Verdicts by key from a JSON report made with --show-secrets.
fn verdicts(run: &crate::harness::Run) -> HashMap<String, serde_json::Value> {
    run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["secret"].as_str().unwrap().to_string(),
                f["verification"].clone(),
            )
        })
        .collect()
}

#[test]
fn issue_6_each_provider_answer_maps_to_the_right_status() {
    let keys: Vec<String> = (90..98).map(openai_key).collect();
    let k = keys.clone();
    let server = serve(move |key, nth| {
        let i = k.iter().position(|x| x == key).unwrap_or(99);
        match i {
            0 => {
                let mut a = json(200, r#"{"object":"list","data":[]}"#);
                a.headers.push(("openai-organization", "org-acme".into()));
                a.headers.push(("openai-project", "proj_abc".into()));
                a.headers
                    .push(("x-ratelimit-limit-requests", "10000".into()));
                a
            }
            1 => json(
                401,
                r#"{"error":{"code":"invalid_api_key","type":"invalid_request_error"}}"#,
            ),
            2 => json(
                429,
                r#"{"error":{"code":"insufficient_quota","type":"insufficient_quota"}}"#,
            ),
            3 if nth == 1 => {
                let mut a = json(429, r#"{"error":{"code":"rate_limit_exceeded"}}"#);
                a.headers.push(("retry-after", "1".into()));
                a
            }
            3 => json(200, r#"{"data":[]}"#),
            4 => json(
                403,
                r#"{"error":{"code":"missing_scope","message":"insufficient permissions"}}"#,
            ),
            5 => Answer {
                status: 403,
                headers: vec![("content-type", "text/html".into())],
                body: "<html>Blocked by proxy</html>".into(),
                delay: Duration::ZERO,
            },
            6 => json(500, r#"{"error":"server_error"}"#),
            _ => Answer {
                delay: Duration::from_secs(5),
                ..json(200, "{}")
            },
        }
    });
    let repo = TestRepo::dir();
    let text: String = keys.iter().map(|k| format!("K={k}\n")).collect();
    repo.write("keys.env", text);
    let endpoint = format!("openai={}", server.base);
    let run = repo.keyhound(&[
        "scan",
        ".",
        "--verify",
        "--verify-endpoint",
        &endpoint,
        "--verify-timeout",
        "1",
        "--verify-rps",
        "100",
        "--format",
        "json",
        "--show-secrets",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let v = verdicts(&run);
    let status = |i: usize| v[&keys[i]]["status"].as_str().unwrap().to_string();
    assert_eq!(status(0), "live");
    assert_eq!(v[&keys[0]]["metadata"]["openai-organization"], "org-acme");
    assert_eq!(v[&keys[0]]["metadata"]["openai-project"], "proj_abc");
    assert_eq!(status(1), "invalid");
    assert_eq!(status(2), "live");
    assert!(v[&keys[2]]["reason"]
        .as_str()
        .unwrap()
        .contains("insufficient_quota"));
    assert_eq!(status(3), "live", "rate limit honoured, then retried");
    assert_eq!(status(4), "live");
    assert!(v[&keys[4]]["reason"]
        .as_str()
        .unwrap()
        .contains("restricted"));
    assert_eq!(status(5), "unknown", "a proxy page is not an answer");
    assert_eq!(status(6), "unknown");
    assert_eq!(status(7), "unknown", "a hang past the timeout");
    // Live keys are listed first.
    assert_eq!(run.json()["findings"][0]["verification"]["status"], "live");
    let seen = server.seen.lock().unwrap().clone();
    for (i, key) in keys.iter().enumerate() {
        let n = seen.iter().filter(|s| &s.key == key).count();
        assert_eq!(n, if i == 3 { 2 } else { 1 }, "key {i} checked {n} times");
    }
    let retry: Vec<&Seen> = seen.iter().filter(|s| s.key == keys[3]).collect();
    assert!(
        retry[1].at - retry[0].at >= Duration::from_millis(950),
        "Retry-After not honoured"
    );
    assert!(seen.iter().all(|s| s.path == "/v1/models"));
}

#[test]
fn issue_6_keys_only_reach_their_own_provider_and_each_once() {
    let openai = serve(|_, _| json(200, LIVE));
    let anthropic = serve(|_, _| {
        json(
            401,
            r#"{"type":"error","error":{"type":"authentication_error"}}"#,
        )
    });
    let repo = TestRepo::dir();
    let (o, a) = (openai_key(100), anthropic_key(101));
    repo.write("a.env", format!("OPENAI={o}\nANTHROPIC={a}\n"));
    repo.write("b.env", format!("AGAIN={o}\n"));
    let run = repo.keyhound(&[
        "scan",
        ".",
        "--verify",
        "--format",
        "json",
        "--show-secrets",
        "--verify-endpoint",
        &format!("openai={}", openai.base),
        "--verify-endpoint",
        &format!("anthropic={}", anthropic.base),
    ]);
    let v = verdicts(&run);
    assert_eq!(v[&o]["status"], "live");
    assert_eq!(v[&a]["status"], "invalid");
    let so = openai.seen.lock().unwrap().clone();
    let sa = anthropic.seen.lock().unwrap().clone();
    assert_eq!(so.len(), 1, "the OpenAI key found twice is checked once");
    assert!(so.iter().all(|s| s.key == o));
    assert_eq!(sa.len(), 1);
    assert!(sa.iter().all(|s| s.key == a && s.path == "/v1/models"));
}

#[test]
fn issue_6_rate_limit_per_provider_is_honoured() {
    let server = serve(|_, _| json(200, LIVE));
    let repo = TestRepo::dir();
    let text: String = (110..116)
        .map(|i| format!("K={}\n", openai_key(i)))
        .collect();
    repo.write("keys.env", text);
    let started = Instant::now();
    let run = repo.keyhound(&[
        "scan",
        ".",
        "--verify",
        "--verify-rps",
        "4",
        "--verify-concurrency",
        "4",
        "--no-cache",
        "--format",
        "json",
        "--verify-endpoint",
        &format!("openai={}", server.base),
    ]);
    let took = started.elapsed();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(server.seen.lock().unwrap().len(), 6);
    // Paced at 4 a second, the sixth request cannot start before 5 intervals of 250 ms after
    // the first, so the run takes at least 1.25 s (unpaced, six loopback requests take a few
    // milliseconds). A lower bound on the client's own time holds however loaded the machine
    // is; the gaps the server sees between accepts do not (a stalled server thread accepts a
    // queue of paced requests at once), which made the earlier form of this test flaky.
    assert!(
        took >= Duration::from_millis(1200),
        "six requests at 4 a second finished in {took:?}"
    );
}

#[test]
fn issue_6_cache_holds_no_secret_and_saves_requests() {
    let server = serve(|_, _| json(200, LIVE));
    let repo = TestRepo::dir();
    let key = openai_key(120);
    repo.write("a.env", format!("K={key}\n"));
    let args = |extra: &[&'static str]| {
        let mut a = vec!["scan", ".", "--verify", "--format", "json"];
        a.extend_from_slice(extra);
        a
    };
    let endpoint = format!("openai={}", server.base);
    let mut first = args(&["--verify-endpoint"]);
    first.push(&endpoint);
    repo.keyhound(&first);
    repo.keyhound(&first);
    assert_eq!(
        server.seen.lock().unwrap().len(),
        1,
        "the second run used the cache"
    );
    let mut files = Vec::new();
    let mut stack = vec![repo.home.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                files.push(e.path());
            }
        }
    }
    assert!(!files.is_empty(), "no cache written");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(!text.contains(&key), "{} holds the secret", f.display());
    }
    let mut again = args(&["--no-cache", "--verify-endpoint"]);
    again.push(&endpoint);
    repo.keyhound(&again);
    assert_eq!(server.seen.lock().unwrap().len(), 2);
}

#[test]
fn issue_6_only_live_and_fail_on_live() {
    let server = serve(|_, _| json(401, r#"{"error":{"code":"invalid_api_key"}}"#));
    let repo = TestRepo::dir();
    repo.write("a.env", format!("K={}\n", openai_key(130)));
    let endpoint = format!("openai={}", server.base);
    let run = repo.keyhound(&["scan", ".", "--only-live", "--verify-endpoint", &endpoint]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("--only-live hid 1 finding"),
        "{}",
        run.stderr
    );
    let run = repo.keyhound(&[
        "scan",
        ".",
        "--fail-on",
        "live",
        "--no-cache",
        "--verify-endpoint",
        &endpoint,
    ]);
    assert_eq!(
        run.code, 0,
        "a dead key does not fail --fail-on live: {}",
        run.stderr
    );
}

#[test]
fn issue_6_endpoint_override_refuses_plain_http_to_other_hosts() {
    let repo = TestRepo::dir();
    repo.write("a.env", format!("K={}\n", openai_key(131)));
    let run = repo.keyhound(&[
        "scan",
        ".",
        "--verify",
        "--verify-endpoint",
        "openai=http://example.com",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("loopback"), "{}", run.stderr);
}

#[test]
fn issue_6_verify_from_a_report() {
    let server = serve(|_, _| json(200, LIVE));
    let repo = TestRepo::dir();
    repo.write("a.env", format!("K={}\n", openai_key(132)));
    repo.keyhound(&[
        "scan",
        ".",
        "--format",
        "json",
        "--show-secrets",
        "-o",
        "r.json",
    ]);
    let run = repo.keyhound(&[
        "verify",
        "--from",
        "r.json",
        "--format",
        "json",
        "--verify-endpoint",
        &format!("openai={}", server.base),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.json()["findings"][0]["verification"]["status"], "live");
    assert!(run.json()["findings"][0].get("secret").is_none());
    repo.keyhound(&["scan", ".", "--format", "json", "-o", "plain.json"]);
    let run = repo.keyhound(&["verify", "--from", "plain.json"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--show-secrets"), "{}", run.stderr);
}

#[test]
fn issue_6_default_scans_never_touch_the_network() {
    let server = serve(|_, _| json(200, LIVE));
    let repo = TestRepo::dir();
    repo.write("a.env", format!("K={}\n", openai_key(133)));
    // The override alone does not turn checks on.
    let run = repo.keyhound(&[
        "scan",
        ".",
        "--verify-endpoint",
        &format!("openai={}", server.base),
    ]);
    assert_eq!(run.code, 1);
    assert!(server.seen.lock().unwrap().is_empty());
}

/// Where a provider that never finishes its answer stalls.
#[derive(Clone, Copy, Debug)]
enum Stall {
    /// Accepts the connection and never writes a byte (for https: a TLS handshake that never
    /// completes).
    Silent,
    /// Answers 200 with its headers and the first byte of the body, then nothing.
    AfterHeaders,
    /// Sends headers, then one byte of body every 200 ms, never reaching its content-length.
    Trickle,
}

/// A loopback server that stalls each connection at `stall`; returns its address and how
/// many connections it accepted.
fn stalling(stall: Stall) -> (String, Arc<Mutex<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let accepted: Arc<Mutex<usize>> = Arc::default();
    let count = Arc::clone(&accepted);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            *count.lock().unwrap() += 1;
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                if !matches!(stall, Stall::Silent) {
                    let mut line = String::new();
                    while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                        line.clear();
                    }
                    let _ = stream.write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{",
                    );
                }
                if matches!(stall, Stall::Trickle) {
                    while stream.write_all(b" ").is_ok() {
                        std::thread::sleep(Duration::from_millis(200));
                    }
                }
                // Hold the connection until the client gives up on it.
                let mut sink = Vec::new();
                let _ = std::io::Read::read_to_end(&mut reader, &mut sink);
            });
        }
    });
    (addr, accepted)
}

/// Run keyhound on another thread; panic if it has not finished within `guard` (a hang guard,
/// far above any deadline under test, not a speed assertion).
fn keyhound_within(repo: TestRepo, args: Vec<String>, guard: Duration) -> crate::harness::Run {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let _ = tx.send(repo.keyhound(&args));
    });
    rx.recv_timeout(guard)
        .unwrap_or_else(|_| panic!("keyhound still running after {guard:?}: a check hung"))
}

/// Issue 10 (#16): a provider that stalls (no answer at all, over http or inside the TLS
/// handshake, or headers and then a stalled or trickling body) ends the check by its deadline
/// as `unknown` with a reason that says it timed out, once per key (a timeout is not retried).
#[test]
fn issue_10_stalled_provider_ends_by_the_deadline_as_timed_out() {
    for (stall, scheme) in [
        (Stall::Silent, "http"),
        (Stall::Silent, "https"),
        (Stall::AfterHeaders, "http"),
        (Stall::Trickle, "http"),
    ] {
        let (addr, accepted) = stalling(stall);
        let repo = TestRepo::dir();
        let keys: Vec<String> = (140..143).map(openai_key).collect();
        repo.write(
            "keys.env",
            keys.iter().map(|k| format!("K={k}\n")).collect::<String>(),
        );
        let args: Vec<String> = [
            "scan",
            ".",
            "--verify",
            "--no-cache",
            "--verify-timeout",
            "1",
            "--format",
            "json",
            "--show-secrets",
            "--verify-endpoint",
            &format!("openai={scheme}://{addr}"),
        ]
        .map(String::from)
        .to_vec();
        let run = keyhound_within(repo, args, Duration::from_secs(60));
        assert_eq!(run.code, 1, "{stall:?} {scheme}: {}", run.stderr);
        let v = verdicts(&run);
        for key in &keys {
            assert_eq!(v[key]["status"], "unknown", "{stall:?} {scheme}");
            let reason = v[key]["reason"].as_str().unwrap();
            assert!(
                reason.contains("timed out"),
                "{stall:?} {scheme}: reason {reason:?}"
            );
        }
        assert_eq!(
            *accepted.lock().unwrap(),
            keys.len(),
            "{stall:?} {scheme}: one connection per key"
        );
    }
}

/// A fake classic GitHub token: 30 random characters and their CRC32 in base62.
fn github_key(seed: u64) -> String {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let random = Rng::new(seed).string(ALNUM, 30);
    let mut n = crc32fast::hash(random.as_bytes());
    let mut check = [b'0'; 6];
    for slot in check.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    format!("ghp_{random}{}", String::from_utf8_lossy(&check))
}

/// Issue 10 (#29): one API shared by three providers that allows 5 requests in any second
/// (429 + `Retry-After: 1` beyond). Every key ends live in every run, and no key is asked
/// again once it was answered live. Before the fix, each refused request backed off alone,
/// three times at most, and a live key ended unknown in 2 runs of 7.
#[test]
fn issue_10_shared_rate_limit_delays_checks_but_never_gives_up_on_them() {
    let keys: Vec<(&str, String)> = (200..228)
        .map(|i| match i % 3 {
            0 => ("openai", openai_key(i)),
            1 => ("anthropic", anthropic_key(i)),
            _ => ("github", github_key(i)),
        })
        .collect();
    let text: String = keys.iter().map(|(_, k)| format!("K={k}\n")).collect();
    for run_no in 0..3 {
        let repo = TestRepo::dir();
        repo.write("keys.env", &text);
        let window: Arc<Mutex<std::collections::VecDeque<Instant>>> = Arc::default();
        let answered_live: Arc<Mutex<std::collections::HashSet<String>>> = Arc::default();
        let asked_again: Arc<Mutex<Vec<String>>> = Arc::default();
        let refused_at: Arc<Mutex<Vec<Instant>>> = Arc::default();
        let (w, live, again, refused) = (
            Arc::clone(&window),
            Arc::clone(&answered_live),
            Arc::clone(&asked_again),
            Arc::clone(&refused_at),
        );
        let server = serve(move |key, _| {
            if live.lock().unwrap().contains(key) {
                again.lock().unwrap().push(key.to_string());
            }
            let now = Instant::now();
            let mut w = w.lock().unwrap();
            while w
                .front()
                .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
            {
                w.pop_front();
            }
            // Refused requests count too, as in most limiters: hammering extends the limit.
            w.push_back(now);
            if w.len() > 5 {
                refused.lock().unwrap().push(now);
                let mut a = json(429, r#"{"error":{"code":"rate_limit_exceeded"}}"#);
                a.headers.push(("retry-after", "1".into()));
                return a;
            }
            live.lock().unwrap().insert(key.to_string());
            json(200, LIVE)
        });
        let mut args = vec![
            "scan".to_string(),
            ".".into(),
            "--verify".into(),
            "--no-cache".into(),
            "--format".into(),
            "json".into(),
            "--show-secrets".into(),
        ];
        for provider in ["openai", "anthropic", "github"] {
            args.push("--verify-endpoint".into());
            args.push(format!("{provider}={}", server.base));
        }
        let run = keyhound_within(repo, args, Duration::from_secs(120));
        assert_eq!(run.code, 1, "run {run_no}: {}", run.stderr);
        let v = verdicts(&run);
        assert_eq!(v.len(), keys.len(), "run {run_no}: every key found");
        for (provider, key) in &keys {
            assert_eq!(
                v[key]["status"], "live",
                "run {run_no}: a {provider} key: {}",
                v[key]["reason"]
            );
        }
        assert!(
            asked_again.lock().unwrap().is_empty(),
            "run {run_no}: a key was checked again after it was answered live"
        );
        // Retry-After pauses every request to the host: in the second after a 429, only
        // requests already in flight when it was sent arrive, at most 3 besides the refused
        // one (4 checks at a time by default). The client's pause starts when the 429 reaches
        // it, after the server noted it, so a loaded machine only makes this easier to meet.
        let arrivals: Vec<Instant> = server.seen.lock().unwrap().iter().map(|s| s.at).collect();
        for t in refused_at.lock().unwrap().iter() {
            let during = arrivals
                .iter()
                .filter(|a| **a > *t && **a - *t < Duration::from_secs(1))
                .count();
            assert!(
                during <= 3,
                "run {run_no}: {during} requests arrived in the second after a 429 with Retry-After: 1"
            );
        }
    }
}

/// A fake AWS access key id: a key shape with no live check (`unsupported`).
fn aws_key_id(seed: u64) -> String {
    const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    format!("AKIA{}", Rng::new(seed).string(BASE32, 16))
}

/// Every file the runs wrote under the test's home (the verification cache lives there).
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                files.push(e.path());
            }
        }
    }
    files
}

// issue 19 item 4: a key whose provider has no live check (AWS, private keys, ...) passed
// `--fail-on live` with exit 0 and no word, though `--help` says such keys count as live.
#[test]
fn fail_on_live_fails_on_keys_it_cannot_check() {
    let repo = TestRepo::dir();
    let key = aws_key_id(300);
    repo.write("aws.env", format!("AWS_ACCESS_KEY_ID={key}\n"));
    let run = repo.keyhound(&[
        "scan",
        ".",
        "--fail-on",
        "live",
        "--no-cache",
        "--format",
        "json",
    ]);
    let report = run.report();
    assert_eq!(report.findings.len(), 1, "{}", run.stderr);
    let verdict = report.findings[0].verification.as_ref().expect("a verdict");
    assert_eq!(verdict.status, "unsupported");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("1 key could not be checked (1 unsupported"),
        "{}",
        run.stderr
    );
    // Leaving the key out of the report does not let it pass.
    let hidden = repo.keyhound(&[
        "scan",
        ".",
        "--fail-on",
        "live",
        "--only-live",
        "--no-cache",
    ]);
    assert_eq!(hidden.code, 1, "{}", hidden.stderr);
    assert!(hidden.stderr.contains("1 unsupported"), "{}", hidden.stderr);
    let allowed = repo.keyhound(&[
        "scan",
        ".",
        "--fail-on",
        "live",
        "--allow-unknown",
        "--no-cache",
    ]);
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);
    assert!(
        allowed.stderr.contains("1 unsupported") && allowed.stderr.contains("--allow-unknown"),
        "{}",
        allowed.stderr
    );
}

// issue 19 item 26: `--allow-unknown` without `--fail-on live` did nothing, silently.
#[test]
fn allow_unknown_without_fail_on_live_is_refused() {
    let repo = TestRepo::dir();
    repo.write(
        "aws.env",
        format!("AWS_ACCESS_KEY_ID={}\n", aws_key_id(301)),
    );
    for args in [
        &["scan", ".", "--verify", "--allow-unknown", "--no-cache"][..],
        &["scan", ".", "--fail-on", "any", "--allow-unknown"][..],
    ] {
        let run = repo.keyhound(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("--fail-on live"), "{}", run.stderr);
    }
    // Positive control: with --fail-on live it is accepted.
    let run = repo.keyhound(&[
        "scan",
        ".",
        "--fail-on",
        "live",
        "--allow-unknown",
        "--no-cache",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

// issue 19 item 25: a connect that took longer than 5 s gave up at 5 s whatever
// `--verify-timeout` said, then reported the longer timeout as waited. The server holds each
// TLS handshake open and notes how long the client stayed: at least the timeout asked for.
#[test]
fn verify_timeout_longer_than_five_seconds_is_honoured() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let held: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let log = Arc::clone(&held);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let accepted = Instant::now();
                let mut sink = Vec::new();
                let _ = std::io::Read::read_to_end(&mut &stream, &mut sink);
                log.lock().unwrap().push(accepted.elapsed());
            });
        }
    });
    let repo = TestRepo::dir();
    let key = openai_key(302);
    repo.write("a.env", format!("K={key}\n"));
    let args: Vec<String> = [
        "scan",
        ".",
        "--verify",
        "--no-cache",
        "--verify-timeout",
        "7",
        "--format",
        "json",
        "--show-secrets",
        "--verify-endpoint",
        &format!("openai=https://{addr}"),
    ]
    .map(String::from)
    .to_vec();
    let run = keyhound_within(repo, args, Duration::from_secs(60));
    assert_eq!(run.code, 1, "{}", run.stderr);
    let v = verdicts(&run);
    assert_eq!(v[&key]["status"], "unknown");
    assert!(
        v[&key]["reason"]
            .as_str()
            .unwrap()
            .contains("timed out after 7 s"),
        "{}",
        v[&key]["reason"]
    );
    // The client closes the connection when it gives up; the server's thread may note it a
    // moment after keyhound exits.
    let deadline = Instant::now() + Duration::from_secs(5);
    while held.lock().unwrap().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let held = held.lock().unwrap().clone();
    assert_eq!(held.len(), 1, "one connection");
    assert!(
        held[0] >= Duration::from_millis(6500),
        "gave up after {:?}, not the 7 s asked for",
        held[0]
    );
}

// issue 19 item 25 (and item 18): `--verify-timeout 1e30` panicked; out-of-range values are
// now a clear error, exit 2 (and a thread per check no longer follows any number given).
#[test]
fn absurd_verify_settings_are_refused() {
    let repo = TestRepo::dir();
    // A key with no live check: nothing is sent anywhere.
    repo.write(
        "aws.env",
        format!("AWS_ACCESS_KEY_ID={}\n", aws_key_id(303)),
    );
    for (flag, value) in [
        ("--verify-timeout", "1e30"),
        ("--verify-timeout", "0"),
        ("--verify-timeout", "NaN"),
        ("--verify-timeout", "-1"),
        ("--verify-budget", "1e30"),
        ("--verify-budget", "inf"),
        ("--verify-rps", "0"),
        ("--verify-concurrency", "100000"),
        ("--verify-concurrency", "0"),
    ] {
        let arg = format!("{flag}={value}");
        let run = repo.keyhound(&["scan", ".", "--verify", "--no-cache", &arg]);
        assert_eq!(run.code, 2, "{flag} {value}: {}", run.stderr);
        assert!(
            run.stderr.contains(flag)
                && (run.stderr.contains("expected") || run.stderr.contains("not in")),
            "{flag} {value}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("internal error"), "{}", run.stderr);
    }
    // Positive control: the bounds themselves are accepted.
    let run = repo.keyhound(&[
        "scan",
        ".",
        "--verify",
        "--no-cache",
        "--verify-timeout=600",
        "--verify-budget=86400",
        "--verify-rps=1000",
        "--verify-concurrency=256",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
}

// issue 19 item 15: a provider's error text that repeats the key (OpenAI's "Incorrect API key
// provided: sk-...") was copied into the verdict, so the full key landed in reports made
// without --show-secrets, and in the cache. Only known codes and plain fields are kept.
#[test]
fn provider_text_that_echoes_the_key_reaches_neither_report_nor_cache() {
    let keys: Vec<String> = (310..314).map(openai_key).collect();
    let k = keys.clone();
    let server = serve(move |key, _| {
        let i = k.iter().position(|x| x == key).unwrap_or(99);
        match i {
            0 => json(
                401,
                &format!(r#"{{"error":"Incorrect API key provided: {key}"}}"#),
            ),
            1 => json(
                401,
                &format!(
                    r#"{{"error":{{"code":"invalid_api_key","message":"Incorrect API key provided: {key}"}}}}"#
                ),
            ),
            2 => {
                let mut a = json(
                    200,
                    &format!(r#"{{"object":"list","data":[],"name":"{key}","login":"octocat"}}"#),
                );
                a.headers.push(("openai-project", key.to_string()));
                a.headers.push(("openai-organization", "org-acme".into()));
                a
            }
            _ => json(403, &format!(r#"{{"error":{{"code":"{key}"}}}}"#)),
        }
    });
    let repo = TestRepo::dir();
    repo.write(
        "keys.env",
        keys.iter().map(|k| format!("K={k}\n")).collect::<String>(),
    );
    let run = repo.keyhound(&[
        "scan",
        ".",
        "--verify",
        "--verify-rps",
        "100",
        "--format",
        "json",
        "--verify-endpoint",
        &format!("openai={}", server.base),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    for key in &keys {
        assert!(!run.stdout.contains(key.as_str()), "the report holds a key");
        assert!(!run.stderr.contains(key.as_str()), "stderr holds a key");
    }
    let report = run.report();
    let by_status = |status: &str| {
        report
            .findings
            .iter()
            .filter_map(|f| f.verification.as_ref())
            .filter(|v| v.status == status)
            .collect::<Vec<_>>()
    };
    assert_eq!(by_status("invalid").len(), 2, "{}", run.stdout);
    assert_eq!(by_status("live").len(), 2, "{}", run.stdout);
    // Positive controls: a known code and plain fields are still recorded.
    assert!(by_status("invalid")
        .iter()
        .any(|v| v.reason.contains("invalid_api_key")));
    assert!(by_status("live").iter().any(|v| {
        v.metadata.get("openai-organization").map(String::as_str) == Some("org-acme")
            && v.metadata.get("login").map(String::as_str) == Some("octocat")
    }));
    let files = files_under(repo.home.path());
    assert!(!files.is_empty(), "no cache written");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for key in &keys {
            assert!(!text.contains(key.as_str()), "{} holds a key", f.display());
        }
    }
}

// issue 19 item 15: the cache ignored `--verify-endpoint`: a test server's "live" stood for the
// provider's answer (and the other way round) for 24 hours.
#[test]
fn verification_cache_is_kept_per_endpoint() {
    let live = serve(|_, _| json(200, LIVE));
    let dead = serve(|_, _| json(401, r#"{"error":{"code":"invalid_api_key"}}"#));
    let repo = TestRepo::dir();
    let key = openai_key(320);
    repo.write("a.env", format!("K={key}\n"));
    let run_with = |server: &Server| {
        let run = repo.keyhound(&[
            "scan",
            ".",
            "--verify",
            "--format",
            "json",
            "--verify-endpoint",
            &format!("openai={}", server.base),
        ]);
        let report = run.report();
        report.findings[0]
            .verification
            .as_ref()
            .unwrap()
            .status
            .clone()
    };
    assert_eq!(run_with(&live), "live");
    assert_eq!(
        run_with(&dead),
        "invalid",
        "another endpoint's cached verdict"
    );
    assert_eq!(dead.seen.lock().unwrap().len(), 1);
    // Positive control: each endpoint's own verdict is still cached.
    assert_eq!(run_with(&live), "live");
    assert_eq!(run_with(&dead), "invalid");
    assert_eq!(live.seen.lock().unwrap().len(), 1);
    assert_eq!(dead.seen.lock().unwrap().len(), 1);
}

// issue 19 item 15: any 2xx counted as live, a captive portal's HTML page included. Only the
// provider's own JSON answer makes a key live.
#[test]
fn a_2xx_answer_without_the_providers_json_is_not_live() {
    let keys: Vec<String> = (330..334).map(openai_key).collect();
    let k = keys.clone();
    let server = serve(move |key, _| match k.iter().position(|x| x == key) {
        Some(0) => Answer {
            status: 200,
            headers: vec![("content-type", "text/html".into())],
            body: "<html>Welcome to the hotel wifi</html>".into(),
            delay: Duration::ZERO,
        },
        Some(1) => json(200, "{}"),
        Some(2) => json(200, r#"{"status":"ok"}"#),
        _ => json(200, r#"{"object":"list","data":[]}"#),
    });
    let repo = TestRepo::dir();
    repo.write(
        "keys.env",
        keys.iter().map(|k| format!("K={k}\n")).collect::<String>(),
    );
    let run = repo.keyhound(&[
        "scan",
        ".",
        "--verify",
        "--no-cache",
        "--verify-rps",
        "100",
        "--format",
        "json",
        "--show-secrets",
        "--verify-endpoint",
        &format!("openai={}", server.base),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let v = verdicts(&run);
    for key in &keys[..3] {
        assert_eq!(v[key]["status"], "unknown", "{}", v[key]["reason"]);
    }
    assert_eq!(
        v[&keys[3]]["status"], "live",
        "the provider's shape is live"
    );
}

// issue 19 item 15: `http://127.0.0.1:1@192.0.2.2` (user "127.0.0.1", host 192.0.2.2) passed
// the loopback check for plain http; the URL is now parsed as the client reads it.
#[test]
fn endpoint_urls_are_parsed_not_pattern_matched() {
    let server = serve(|_, _| json(200, LIVE));
    let repo = TestRepo::dir();
    repo.write("a.env", format!("K={}\n", openai_key(340)));
    for bad in [
        "openai=http://127.0.0.1:1@192.0.2.2",
        "openai=http://localhost@192.0.2.2:80",
        "openai=https://user:pw@proxy.example.com",
        "openai=http://127.0.0.1.nip.io",
        "openai=http://127.0.0.1:8080/v1",
    ] {
        let run = repo.keyhound(&[
            "scan",
            ".",
            "--verify",
            "--no-cache",
            "--verify-endpoint",
            bad,
        ]);
        assert_eq!(run.code, 2, "{bad}: {}", run.stderr);
    }
    assert!(server.seen.lock().unwrap().is_empty());
    // Positive control: loopback by address is accepted and used.
    let run = repo.keyhound(&[
        "scan",
        ".",
        "--verify",
        "--no-cache",
        "--verify-endpoint",
        &format!("openai={}", server.base),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(server.seen.lock().unwrap().len(), 1);
}

// issue 19 item 15: a repository's own rule naming `provider = "openai"` had keyhound send
// whatever it matched (a database password, another company's token) to OpenAI. A key found
// by a user's rule now goes to a provider only when a built-in rule of that provider matches
// the whole secret.
#[test]
fn custom_rule_keys_reach_a_provider_only_in_its_key_shape() {
    let server = serve(|_, _| json(200, LIVE));
    let repo = TestRepo::dir();
    let key = openai_key(350);
    let password = Rng::new(351).string(ALNUM, 32);
    repo.write(
        ".keyhound.toml",
        r#"[allow]
rules = ["openai."]

[[rule]]
id = "acme.vault-entry"
provider = "openai"
name = "A secret in Acme's vault format"
keywords = ["vault("]
pattern = 'vault\(([A-Za-z0-9_-]{20,200})\)'
"#,
    );
    repo.write(
        "secrets.txt",
        format!("a = vault({key})\nb = vault({password})\n"),
    );
    let run = repo.keyhound(&[
        "scan",
        ".",
        "--verify",
        "--no-cache",
        "--format",
        "json",
        "--show-secrets",
        "--verify-endpoint",
        &format!("openai={}", server.base),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let v = verdicts(&run);
    assert_eq!(v.len(), 2, "{}", run.stdout);
    let seen = server.seen.lock().unwrap().clone();
    assert!(
        seen.iter().all(|s| s.key != password),
        "a string that is no OpenAI key was sent to OpenAI"
    );
    assert_eq!(v[&password]["status"], "unsupported");
    assert!(
        v[&password]["reason"]
            .as_str()
            .unwrap()
            .contains("acme.vault-entry"),
        "{}",
        v[&password]["reason"]
    );
    // Positive control: the same rule's match in OpenAI's key shape is checked.
    assert_eq!(seen.len(), 1);
    assert_eq!(v[&key]["status"], "live");
}

// issue 19 item 26: `verify` listed flags that do nothing there (it reads a report: nothing is
// skipped, and it always verifies).
#[test]
fn verify_help_lists_only_flags_that_act() {
    let run = TestRepo::dir().keyhound(&["verify", "--help"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("--only-live"), "{}", run.stdout);
    assert!(run.stdout.contains("--show-suppressed"), "{}", run.stdout);
    for absent in ["--list-skipped", "implies --verify"] {
        assert!(!run.stdout.contains(absent), "{absent}: {}", run.stdout);
    }
    let run = TestRepo::dir().keyhound(&["verify", "--from", "r.json", "--list-skipped"]);
    assert_eq!(run.code, 2);
}

// issue 19 item 26: `verify --from` a file holding `[]` answered in serde's words ("invalid
// length 0, expected struct ReadReport with 3 elements").
#[test]
fn verify_from_what_is_no_report_says_what_is_wrong() {
    let repo = TestRepo::dir();
    for (text, says) in [
        ("[]", "it holds a list"),
        ("{}", "it has no \"version\""),
        ("{\"version\": 1}", "it has no \"findings\""),
        (
            "{\"version\": 9, \"findings\": [], \"summary\": {}}",
            "version 9",
        ),
        ("not json", "not JSON"),
    ] {
        repo.write("r.json", text);
        let run = repo.keyhound(&["verify", "--from", "r.json"]);
        assert_eq!(run.code, 2, "{text}");
        assert!(run.stderr.contains(says), "{text}: {}", run.stderr);
        assert!(!run.stderr.contains("struct"), "{text}: {}", run.stderr);
    }
}

// issue 19 item 26: `verify --show-suppressed` did nothing, and the findings a report marks as
// silenced (made with --show-suppressed) were checked and failed the run. They stay silenced:
// listed, marked and unchecked, only with --show-suppressed.
#[test]
fn verify_keeps_what_the_report_silenced_silenced() {
    let server = serve(|_, _| json(200, LIVE));
    let repo = TestRepo::dir();
    let (reported, allowed) = (openai_key(360), openai_key(361));
    repo.write("a.env", format!("A={reported}\n"));
    repo.write("b.env", format!("B={allowed} # keyhound:allow\n"));
    let make = |path: &str, out: &str| {
        let run = repo.keyhound(&[
            "scan",
            path,
            "--show-suppressed",
            "--show-secrets",
            "--format",
            "json",
            "-o",
            out,
        ]);
        assert!(run.code <= 1, "{}", run.stderr);
    };
    make(".", "both.json");
    make("b.env", "allowed.json");
    let endpoint = format!("openai={}", server.base);
    let verify = |from: &str, extra: &[&str]| {
        let mut args = vec![
            "verify",
            "--from",
            from,
            "--no-cache",
            "--format",
            "json",
            "--show-secrets",
            "--verify-endpoint",
            &endpoint,
        ];
        args.extend_from_slice(extra);
        repo.keyhound(&args)
    };
    let run = verify("allowed.json", &[]);
    assert_eq!(run.code, 0, "only a silenced key: {}", run.stderr);
    assert!(run.report().findings.is_empty());
    let run = verify("both.json", &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.report();
    assert_eq!(report.findings.len(), 1);
    assert_eq!(
        report.findings[0].secret.as_deref(),
        Some(reported.as_str())
    );
    let run = verify("both.json", &["--show-suppressed"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.report();
    assert_eq!(report.findings.len(), 2, "{}", run.stdout);
    let silenced = report
        .findings
        .iter()
        .find(|f| f.secret.as_deref() == Some(allowed.as_str()))
        .expect("the silenced finding, with --show-suppressed");
    assert!(
        silenced.verification.is_none(),
        "a silenced key is not checked"
    );
    let seen = server.seen.lock().unwrap().clone();
    assert!(
        seen.iter().all(|s| s.key == reported),
        "a silenced key was sent"
    );
    assert_eq!(seen.len(), 2, "the reported key, once a run");
}
