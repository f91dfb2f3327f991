//! The page from findings and summaries built here: escaping, redaction, totals, coverage rows,
//! the timeline. The real binary and a real browser render it in `tests/it/html.rs`.

use super::timeline::{date_of, day_number};
use super::*;
use crate::finding::{CommitInfo, Location, Provenance};
use crate::redact::redact;
use crate::report::Format;
use crate::summary::{Coverage, SecretSummary};

/// A key-shaped secret made at run time (the repository holds no key literal).
fn secret(seed: char) -> String {
    [
        "sk-",
        "proj-",
        &seed.to_string().repeat(3),
        &"Qz7k".repeat(20),
    ]
    .concat()
}

fn commit(id: char, summary: &str, date: &str) -> CommitInfo {
    CommitInfo {
        id: id.to_string().repeat(40),
        author: "Ada Lovelace".into(),
        email: "ada@example.com".into(),
        date: date.into(),
        summary: summary.into(),
        time: 0,
    }
}

fn finding(rules: &RuleSet, key: &str, path: &str, c: Option<CommitInfo>) -> Finding {
    let rule = rules.index_of("openai.project-key").expect("built-in rule");
    Finding {
        rule,
        rule_id: "openai.project-key".into(),
        provider: "openai".into(),
        secret: key.into(),
        fingerprint: crate::fingerprint::fingerprint("openai.project-key", key.as_bytes()),
        redacted: redact(key),
        location: Location {
            line: 3,
            column: 7,
            end_line: 3,
            end_column: 90,
            char_column: 7,
            char_end_column: 90,
        },
        snippet: format!("KEY={}", redact(key)),
        encoding: None,
        provenance: match c {
            Some(commit) => Provenance::Commit {
                path: path.into(),
                commit,
            },
            None => Provenance::File { path: path.into() },
        },
        blob: None,
        repository: None,
        verification: None,
        allowed: false,
        suppressed: None,
    }
}

fn page(findings: &[Finding], summary: &Summary, show_secrets: bool) -> String {
    let rules = RuleSet::builtin().expect("built-in rules");
    let mut out = Vec::new();
    let opts = ReportOptions {
        format: Format::Html,
        show_secrets,
        color: false,
    };
    write(&mut out, findings, &rules, summary, &opts).expect("write to a Vec");
    String::from_utf8(out).expect("the page is UTF-8")
}

fn verdict(status: Status, reason: &str) -> Option<crate::finding::Verdict> {
    Some(crate::finding::Verdict {
        status,
        reason: reason.into(),
        metadata: Default::default(),
    })
}

#[test]
fn text_from_the_scan_is_escaped() {
    let rules = RuleSet::builtin().unwrap();
    let mut f = finding(
        &rules,
        &secret('a'),
        "src/<script>alert(1)</script>.py",
        Some(commit(
            'c',
            "<img src=x onerror=alert(2)> \"quoted\"",
            "2024-01-02T03:04:05+00:00",
        )),
    );
    f.repository = Some("<b>org/repo</b>".into());
    f.verification = verdict(Status::Unknown, "HTTP 502 <html>proxy</html>");
    let html = page(&[f], &Summary::default(), false);
    for raw in ["<script", "<img", "<b>", "<html>proxy"] {
        assert!(!html.contains(raw), "{raw} reached the page unescaped");
    }
    for escaped in [
        "src/&lt;script&gt;alert(1)&lt;/script&gt;.py:3:7",
        "&lt;img src=x onerror=alert(2)&gt; &quot;quoted&quot;",
        "&lt;b&gt;org/repo&lt;/b&gt;",
        "HTTP 502 &lt;html&gt;proxy&lt;/html&gt;",
    ] {
        assert!(html.contains(escaped), "missing {escaped}");
    }
}

#[test]
fn escaping_table() {
    let cases = [
        ("plain", "plain"),
        ("a<b>&\"c'", "a&lt;b&gt;&amp;&quot;c&#39;"),
        ("line\nbreak\r", "line\\nbreak\\r"),
        ("bell\u{7}", "bell?"),
        ("rtl\u{202E}txt.exe", "rtl\u{FFFD}txt.exe"),
    ];
    for (input, want) in cases {
        assert_eq!(esc(input), want);
    }
}

#[test]
fn secrets_are_redacted_unless_shown() {
    let rules = RuleSet::builtin().unwrap();
    let key = secret('b');
    let findings = [finding(&rules, &key, "app.env", None)];
    let html = page(&findings, &Summary::default(), false);
    assert!(!html.contains(&key), "raw secret on a redacted page");
    assert!(html.contains(&redact(&key)));
    // Positive control: the same check sees the key when --show-secrets asks for it.
    let shown = page(&findings, &Summary::default(), true);
    assert!(shown.contains(&key));
    assert!(shown.contains("shows secrets in full"));
}

#[test]
fn the_page_loads_nothing() {
    let rules = RuleSet::builtin().unwrap();
    let findings = [finding(&rules, &secret('c'), "app.env", None)];
    let html = page(&findings, &Summary::default(), false);
    assert!(html.contains(&format!("content=\"{CSP}\"")));
    for banned in [
        "<script", "<link", " src=", "@import", "url(http", "<iframe",
    ] {
        assert!(!html.contains(banned), "page contains {banned}");
    }
    // The only links are the rules' revoke pages.
    let hrefs: Vec<&str> = html.split("href=\"").skip(1).collect();
    assert!(!hrefs.is_empty(), "no revoke link");
    for h in hrefs {
        assert!(h.starts_with("https://platform.openai.com/"), "{h}");
    }
}

#[test]
fn live_keys_come_first_in_totals_and_are_highlighted() {
    let rules = RuleSet::builtin().unwrap();
    let live_key = secret('d');
    let mut live_a = finding(&rules, &live_key, "a.env", None);
    live_a.verification = verdict(Status::Live, "the provider accepted the key");
    let mut live_b = finding(&rules, &live_key, "b.env", None);
    live_b.verification = live_a.verification.clone();
    let mut dead = finding(&rules, &secret('e'), "c.env", None);
    dead.verification = verdict(Status::Invalid, "401");
    let summary = Summary {
        verification: Some(crate::summary::VerificationCounts::default()),
        ..Summary::default()
    };
    let html = page(&[live_a, live_b, dead], &summary, false);
    assert!(html.contains("1 live key: the provider accepted it"));
    assert!(
        html.contains("<div class=\"card live\"><div class=\"n\">1</div><div class=\"label\">Live")
    );
    assert!(html.contains("<article class=\"finding live\""));
    assert!(html.contains("<article class=\"finding invalid\""));
    let live = html.find("<li class=\"live\"").expect("live legend row");
    let invalid = html
        .find("v-invalid\"></span><span><strong>Invalid")
        .expect("invalid legend row");
    assert!(live < invalid, "live is listed first");
    assert!(
        html.contains("1 secret · 2 findings"),
        "live: one key, two places"
    );
    assert!(
        html.contains("2 secrets (1 live) · 3 findings"),
        "the provider row"
    );
}

#[test]
fn coverage_table_shows_each_repository_and_its_gaps() {
    let rules = RuleSet::builtin().unwrap();
    let mut f = finding(&rules, &secret('f'), "a.env", None);
    f.repository = Some("https://git.example/org/alpha.git".into());
    let record = |name: &str| Coverage {
        repository: name.into(),
        refs: 3,
        commits: 120,
        blobs: 400,
        blobs_scanned: 380,
        blobs_shared: 20,
        elapsed_ms: 1500,
        ..Coverage::default()
    };
    let summary = Summary {
        coverage: vec![
            record("https://git.example/org/alpha.git"),
            Coverage {
                objects_missing: 4,
                incomplete: true,
                ..record("https://git.example/org/beta.git")
            },
            Coverage {
                error: Some("git clone failed: <timeout>".into()),
                incomplete: true,
                ..record("https://git.example/org/gamma.git")
            },
        ],
        ..Summary::default()
    };
    let html = page(&[f.clone()], &summary, false);
    assert!(html.contains("Repositories <span class=\"count\">(3)</span>"));
    assert!(html.contains("Coverage gaps: 2 of 3 repositories"));
    assert!(html.contains(
        "<tr><td><code>https://git.example/org/alpha.git</code></td><td><span class=\"status ok\">complete</span></td><td class=\"num\">1</td><td class=\"num\">1</td>"
    ));
    assert!(html.contains(
        "<tr class=\"gap\"><td><code>https://git.example/org/beta.git</code></td><td><span class=\"status gap\">incomplete</span> (4 objects missing)"
    ));
    assert!(html.contains("failed</span> git clone failed: &lt;timeout&gt;"));
    assert!(html.contains("<div class=\"n\">1</div><div class=\"label\">Repositories complete</div><div class=\"sub\">of 3 audited"));
    // Negative: no coverage records, no table (a tree scan has none).
    let plain = page(&[f], &Summary::default(), false);
    assert!(!plain.contains("Repositories <span"));
}

#[test]
fn timeline_runs_from_first_commit_to_the_audit_day() {
    let rules = RuleSet::builtin().unwrap();
    let (k1, k2) = (secret('g'), secret('h'));
    let f1 = finding(
        &rules,
        &k1,
        "a.env",
        Some(commit('1', "add", "2024-01-01T10:00:00+00:00")),
    );
    let f2 = finding(
        &rules,
        &k2,
        "b.env",
        Some(commit('2', "add", "2024-06-01T10:00:00+02:00")),
    );
    let summary_of = |f: &Finding, present: bool, days: i64| SecretSummary {
        rule: f.rule_id.clone(),
        provider: f.provider.clone(),
        redacted: f.redacted.clone(),
        fingerprint: f.fingerprint.clone(),
        present_at_tip: present,
        first_commit: f.provenance.commit().unwrap().id.clone(),
        first_author: "Ada Lovelace <ada@example.com>".into(),
        first_date: f.provenance.commit().unwrap().date.clone(),
        exposed_days: days,
        paths: vec![f.provenance.path().into()],
        repositories: Vec::new(),
        locations: Vec::new(),
    };
    let summary = Summary {
        secrets: vec![summary_of(&f1, true, 366), summary_of(&f2, false, 214)],
        ..Summary::default()
    };
    let html = page(&[f1, f2], &summary, false);
    assert!(html.contains("exposure as of 2025-01-01"));
    assert!(html.contains("Exposure timeline <span class=\"count\">(2 secrets)</span>"));
    assert!(html.contains(">2024-01-01</text>") && html.contains(">2025-01-01</text>"));
    let tip = html
        .find("<rect class=\"tip\"")
        .expect("a still-present bar");
    let history = html.find("<rect class=\"history\"").expect("a removed bar");
    assert!(
        tip < history,
        "still-present first, as the summary orders them"
    );
    assert!(html.contains("fill=\"url(#hatch)\""));
    assert!(html.contains(">366 d</text>") && html.contains(">214 d</text>"));
    assert!(html.contains("<div class=\"n\">1</div><div class=\"label\">Still at a tip"));
    assert!(!html.contains(&k1) && html.contains(&redact(&k1)));
}

#[test]
fn calendar_days_round_trip() {
    for (date, day) in [
        ("1970-01-01", 0),
        ("2000-02-29", 11_016),
        ("2024-12-31T23:59:59+05:00", 20_088),
    ] {
        assert_eq!(day_number(date), Some(day), "{date}");
        assert_eq!(date_of(day), date[..10]);
    }
    assert_eq!(day_number("2024-13-01"), None);
    assert_eq!(day_number("90d"), None);
}

#[test]
fn live_findings_are_listed_first_and_suppressed_ones_last_and_uncounted() {
    let rules = RuleSet::builtin().unwrap();
    let mut dead = finding(&rules, &secret('i'), "a.env", None);
    dead.verification = verdict(Status::Invalid, "401");
    let mut silenced = finding(&rules, &secret('j'), "b.env", None);
    silenced.suppressed = Some(crate::finding::Suppression::Baseline);
    silenced.verification = verdict(Status::Live, "accepted");
    let mut live = finding(&rules, &secret('k'), "c.env", None);
    live.verification = verdict(Status::Live, "accepted");
    // The report's order (as a merged report may have it): invalid, suppressed, live.
    let html = page(&[dead, silenced, live], &Summary::default(), false);
    let at = |path: &str| html.find(&format!("{path}:3:7")).expect(path);
    assert!(at("c.env") < at("a.env") && at("a.env") < at("b.env"));
    assert!(html.contains("suppressed by baseline"));
    assert!(html.contains("<div class=\"n\">2</div><div class=\"label\">Unique secrets"));
    assert!(
        html.contains("1 live key:"),
        "the suppressed live key is not counted"
    );
    assert!(html.contains("Findings <span class=\"count\">(3)</span>"));
}

#[test]
fn a_clean_scan_says_so_and_an_incomplete_one_does_not() {
    let summary = Summary {
        files: 12,
        ..Summary::default()
    };
    let html = page(&[], &summary, false);
    assert!(html.contains("No secrets found in 12 files."));
    assert!(html.contains("<p class=\"note\">No findings.</p>"));
    let incomplete = Summary {
        files: 12,
        errors: 1,
        incomplete: true,
        ..Summary::default()
    };
    let html = page(&[], &incomplete, false);
    assert!(!html.contains("banner ok"));
    assert!(html.contains("Incomplete: 1 item could not be read"));
}
