//! `--format html` (issue 13, item 6) in a real browser: a history audit of a git repository
//! built here, its keys checked against a loopback server playing the providers, written as
//! HTML and rendered by headless Chromium (`KEYHOUND_CHROMIUM` or `chromium` on PATH; `.ci/run`
//! installs Debian's). The rendered DOM must carry the totals, the redacted keys and the revoke
//! links and never a raw key or a script, and the screenshot must be a picture of the page.
//! `KEYHOUND_REPORT_PNG=docs/report.png` keeps the screenshot (README's picture comes from here).
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{google_key, openai_key, require_tool, Rng, Run, TestRepo, ALNUM, BASE64URL};

/// A provider's answer to one key: `(status, JSON body)`.
type Answer = (u16, &'static str);

/// A loopback HTTP server playing every provider: each request is answered by the first key
/// of `answers` found in its request line or headers (where the providers put keys), else 401.
/// Returns the base URL.
fn providers(answers: Vec<(String, Answer)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let (status, body) = answers
                .iter()
                .find(|(key, _)| head.contains(key.as_str()))
                .map_or(
                    (401, r#"{"error":{"code":"invalid_api_key"}}"#),
                    |(_, a)| *a,
                );
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    base
}

/// Headless Chromium with a profile of its own.
struct Browser {
    bin: PathBuf,
    profile: tempfile::TempDir,
}

impl Browser {
    fn new() -> Option<Browser> {
        let bin = require_tool("chromium", "KEYHOUND_CHROMIUM")?;
        Some(Browser {
            bin,
            profile: tempfile::tempdir().expect("profile dir"),
        })
    }

    /// Run chromium on `page`. A watchdog ends a run that hangs (seen once on a loaded machine,
    /// a screenshot that never finished) and tries again: the assertions are on what chromium
    /// produces, never on how long it takes.
    fn run(&self, page: &Path, args: &[&str]) -> Run {
        for attempt in 1..=3 {
            if let Some(run) = self.run_once(page, args, Duration::from_secs(60)) {
                assert_eq!(run.code, 0, "chromium failed:\n{}", run.stderr);
                return run;
            }
            let mut err = std::io::stderr();
            let _ = writeln!(err, "chromium hung (attempt {attempt} of 3); ended it");
        }
        panic!("chromium hung three times on {}", page.display());
    }

    /// One chromium run, or None when it had not ended after `limit`.
    fn run_once(&self, page: &Path, args: &[&str], limit: Duration) -> Option<Run> {
        let out_path = self.profile.path().join("stdout");
        let err_path = self.profile.path().join("stderr");
        let mut child = Command::new(&self.bin)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--disable-background-networking",
                "--hide-scrollbars",
                "--force-device-scale-factor=1",
            ])
            .arg(format!("--user-data-dir={}", self.profile.path().display()))
            .args(args)
            .arg(format!("file://{}", page.display()))
            .env("HOME", self.profile.path())
            .stdin(Stdio::null())
            .stdout(File::create(&out_path).expect("stdout file"))
            .stderr(File::create(&err_path).expect("stderr file"))
            .spawn()
            .expect("run chromium");
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for chromium") {
                break status;
            }
            if started.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Some(Run {
            code: status.code().unwrap_or(-1),
            stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
            stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
        })
    }

    /// The DOM after rendering.
    fn dom(&self, page: &Path) -> String {
        self.run(page, &["--dump-dom"]).stdout
    }

    /// A 1280x1600 screenshot; returns the PNG's bytes.
    fn screenshot(&self, page: &Path, png: &Path) -> Vec<u8> {
        self.run(
            page,
            &[
                &format!("--screenshot={}", png.display()),
                "--window-size=1280,1600",
                // Paint everything before the picture is taken (else tiles can be missing).
                "--run-all-compositor-stages-before-draw",
                "--virtual-time-budget=5000",
            ],
        );
        std::fs::read(png).expect("chromium wrote the screenshot")
    }
}

/// The text a reader sees: tags dropped, the common entities decoded, white space collapsed.
fn text_of(dom: &str) -> String {
    let body = dom.split("</style>").last().unwrap_or(dom);
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(
        png.len() > 24 && png.starts_with(b"\x89PNG\r\n\x1a\n") && &png[12..16] == b"IHDR",
        "not a PNG"
    );
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&png[16..20]), be(&png[20..24]))
}

/// Stage everything and commit with this author on this day.
fn commit_on(repo: &TestRepo, day: &str, author: &str, message: &str) {
    repo.git_ok(&["add", "-A"]);
    let date = format!("{day}T10:30:00+00:00");
    repo.git_ok(&[
        "commit", "-q", "-m", message, "--date", &date, "--author", author,
    ]);
}

/// The demo audit's keys, all generated here.
struct Keys {
    openai: String,
    anthropic: String,
    stripe: String,
    slack: String,
    google: String,
    aws: String,
}

impl Keys {
    fn new() -> Keys {
        let mut r = Rng::new(1313);
        let digits = b"0123456789";
        Keys {
            openai: openai_key(1301),
            anthropic: format!("sk-ant-api03-{}AA", r.string(BASE64URL, 93)),
            stripe: format!("sk_live_{}", r.string(ALNUM, 40)),
            slack: format!(
                "xoxb-{}-{}-{}",
                r.string(digits, 12),
                r.string(digits, 13),
                r.string(ALNUM, 24)
            ),
            google: google_key(1302),
            aws: format!("AKIA{}", r.string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
        }
    }

    fn all(&self) -> [&str; 6] {
        [
            &self.openai,
            &self.anthropic,
            &self.stripe,
            &self.slack,
            &self.google,
            &self.aws,
        ]
    }
}

/// A service's history over two years: six keys of six providers, two of them removed later,
/// one committed in two places.
fn demo_repo(k: &Keys) -> TestRepo {
    let repo = TestRepo::git();
    let (ada, grace, linus) = (
        "Ada Lovelace <ada@example.com>",
        "Grace Hopper <grace@example.com>",
        "Linus Pauling <linus@example.com>",
    );
    repo.write("README.md", "# billing-service\n")
        .write("src/app.py", "import os\n");
    commit_on(&repo, "2023-02-06", ada, "Initial service skeleton");
    repo.write(
        "config/settings.py",
        format!("OPENAI_API_KEY = \"{}\"\n", k.openai),
    );
    commit_on(&repo, "2023-03-14", ada, "Add OpenAI client settings");
    repo.write(
        ".env.production",
        format!("STRIPE_SECRET_KEY={}\n", k.stripe),
    );
    commit_on(&repo, "2023-09-02", grace, "Wire up payments");
    repo.write(
        "scripts/notify.sh",
        format!(
            "curl -H 'Authorization: Bearer {}' https://slack.com/api/chat.postMessage\n",
            k.slack
        ),
    );
    commit_on(&repo, "2024-01-18", linus, "Release notifier for #deploys");
    repo.write(
        "notebooks/summarize.py",
        format!("client = Anthropic(api_key=\"{}\")\n", k.anthropic),
    );
    commit_on(
        &repo,
        "2024-05-27",
        grace,
        "Try Claude for invoice summaries",
    );
    repo.write("web/maps.js", format!("const MAPS_KEY = '{}';\n", k.google));
    commit_on(&repo, "2024-08-11", linus, "Store locator map");
    repo.write(
        "deploy/ci.env",
        format!("AWS_ACCESS_KEY_ID={}\nOPENAI_API_KEY={}\n", k.aws, k.openai),
    );
    commit_on(&repo, "2025-02-03", ada, "Deploy from CI");
    repo.remove(".env.production")
        .remove("notebooks/summarize.py");
    commit_on(
        &repo,
        "2025-03-01",
        grace,
        "Remove secrets from env and notebook",
    );
    repo
}

/// `history .` with every key checked against `base`, in `format`.
fn audit(repo: &TestRepo, base: &str, format: &[&str]) -> Run {
    let mut args = vec!["history", ".", "--verify", "--verify-rps", "100"];
    let endpoints: Vec<String> = ["openai", "anthropic", "stripe", "slack", "google"]
        .iter()
        .map(|p| format!("{p}={base}"))
        .collect();
    for e in &endpoints {
        args.extend(["--verify-endpoint", e.as_str()]);
    }
    args.extend_from_slice(format);
    let run = repo.keyhound(&args);
    assert_eq!(run.code, 1, "live keys fail the audit:\n{}", run.stderr);
    run
}

#[test]
fn issue_13_html_audit_renders_in_chromium_with_totals_timeline_and_redacted_keys() {
    let Some(browser) = Browser::new() else {
        return;
    };
    let k = Keys::new();
    let live = (200, r#"{"object":"list","data":[]}"#);
    let base = providers(vec![
        (k.openai.clone(), live),
        (k.anthropic.clone(), live),
        (
            k.slack.clone(),
            (503, r#"{"ok":false,"error":"service_unavailable"}"#),
        ),
    ]);
    let repo = demo_repo(&k);
    let json = audit(&repo, &base, &["--format", "json"]).report();
    assert_eq!(json.findings.len(), 7, "six keys, one of them twice");
    let out = tempfile::tempdir().unwrap();
    let page = out.path().join("report.html");
    let page_arg = page.to_str().unwrap();
    audit(&repo, &base, &["--format", "html", "-o", page_arg]);

    let html = std::fs::read_to_string(&page).unwrap();
    let dom = browser.dom(&page);
    let text = text_of(&dom);
    for key in k.all() {
        assert!(
            !html.contains(key) && !dom.contains(key),
            "raw key on the page"
        );
    }
    for f in &json.findings {
        assert!(text.contains(&f.redacted), "{} not shown", f.redacted);
    }
    for expected in [
        "Secret audit",
        "6 Unique secrets in 7 findings",
        "2 Live accepted by their provider",
        "4 Still at a tip of 6 secrets in history",
        "2 live keys: the provider accepted them",
        "Live the provider accepted the key: revoke it now 2 secrets · 3 findings",
        "Unknown could not be checked: treat as live 1 secret · 1 finding",
        "Invalid the provider rejected the key 2 secrets · 2 findings",
        "Unsupported no verifier for this provider 1 secret · 1 finding",
        "openai 1 secret (1 live) · 2 findings",
        "anthropic 1 secret (1 live) · 1 finding",
        "aws 1 secret · 1 finding",
        "Exposure timeline (6 secrets)",
        "Findings (7)",
        "Commit",
        "Wire up payments · Grace Hopper <grace@example.com>",
    ] {
        assert!(
            text.contains(expected),
            "page text lacks {expected:?}:\n{text}"
        );
    }
    for revoke in [
        "href=\"https://platform.openai.com/api-keys\"",
        "href=\"https://console.anthropic.com/settings/keys\"",
        "href=\"https://dashboard.stripe.com/apikeys\"",
    ] {
        assert!(dom.contains(revoke), "no revoke link {revoke}");
    }
    // Live findings come first and are highlighted.
    let first_live = dom.find("class=\"finding live\"").expect("a live finding");
    let first_other = dom
        .find("class=\"finding unknown\"")
        .expect("an unknown one");
    assert!(first_live < first_other);
    assert!(!dom.contains("<script"));

    // The screenshot is a picture of the page: far more than a blank page's worth of pixels.
    let blank = out.path().join("blank.html");
    std::fs::write(&blank, "<!DOCTYPE html><html><body></body></html>").unwrap();
    let blank_png = browser.screenshot(&blank, &out.path().join("blank.png"));
    let png = browser.screenshot(&page, &out.path().join("report.png"));
    assert_eq!(png_size(&png), (1280, 1600));
    assert_eq!(png_size(&blank_png), (1280, 1600));
    assert!(
        png.len() > 4 * blank_png.len(),
        "screenshot {} bytes, blank page {} bytes",
        png.len(),
        blank_png.len()
    );
    if let Some(keep) = std::env::var_os("KEYHOUND_REPORT_PNG") {
        std::fs::write(keep, &png).expect("write KEYHOUND_REPORT_PNG");
    }
}

#[test]
fn issue_13_html_report_escapes_hostile_paths_and_messages_and_shows_keys_only_when_asked() {
    let Some(browser) = Browser::new() else {
        return;
    };
    let repo = TestRepo::git();
    let key = openai_key(1310);
    repo.write("web/<script>alert(1)<!--.js", format!("KEY='{key}'\n"));
    repo.commit("<img src=x onerror=alert(2)> <script>alert(3)</script>");
    let out = tempfile::tempdir().unwrap();
    // The history audit as a page, rendered: its DOM.
    let render = |name: &str, extra: &[&str]| {
        let page = out.path().join(name);
        let mut args = vec![
            "history",
            ".",
            "--format",
            "html",
            "-o",
            page.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let run = repo.keyhound(&args);
        assert_eq!(run.code, 1, "{}", run.stderr);
        browser.dom(&page)
    };
    let dom = render("hostile.html", &[]);
    let text = text_of(&dom);
    assert!(
        !dom.contains("<script") && !dom.contains("<img"),
        "markup from the repository ran"
    );
    assert!(text.contains("web/<script>alert(1)<!--.js:1:6"), "{text}");
    assert!(
        text.contains("<img src=x onerror=alert(2)> <script>alert(3)</script>"),
        "{text}"
    );
    assert!(!dom.contains(&key), "raw key without --show-secrets");

    // Positive control for the redaction check: with --show-secrets the key is on the page.
    let dom = render("shown.html", &["--show-secrets"]);
    assert!(dom.contains(&key));
    assert!(text_of(&dom).contains("This page shows secrets in full"));
}
