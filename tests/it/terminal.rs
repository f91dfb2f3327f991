//! What reaches a terminal: text from a repository (commit authors, e-mails, subjects, file
//! names) cannot drive it or forge report lines, on stdout or stderr (issue 19 item 14).

use crate::harness::{openai_key, TestRepo};

/// Characters that must never reach a terminal raw: controls other than the line break, and
/// the bidi controls and separators that reorder or break text.
fn raw_controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
        })
        .collect()
}

// issue 19 item 14
#[test]
fn history_human_output_escapes_hostile_authors_subjects_and_file_names() {
    let repo = TestRepo::git();
    let forged = "keyhound: scanned 0 files (0.0 MB) in 0.00 s: 0 findings";
    // A file holding a key, and an archive too large to expand (skipped, so named on stderr), both with names
    // that carry an escape sequence, a bidi override and a line break forging a summary line.
    let key_file = format!("cfg\x1b[2J\u{202e}vne.txt\n{forged}");
    let binary_file = format!("blob\x1b]8;;https://evil.example\x1b\\link\n{forged}.gz");
    repo.write(&key_file, format!("KEY = \"{}\"\n", openai_key(1914)));
    // An archive over --max-file-size: skipped, and named (binaries are scanned now).
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    std::io::Write::write_all(&mut gz, &[b'a'; 300_000]).expect("gzip in memory");
    repo.write(&binary_file, gz.finish().expect("gzip in memory"));
    repo.git_ok(&["add", "-A"]);
    repo.git_ok(&[
        "commit",
        "-q",
        "--author",
        "Mallory\x1b[31m\u{202e}Evil <m\x1b]8;;https://evil.example\x1b\\@example.com>",
        "-m",
        &format!("fix\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\\r\u{202e}{forged}"),
    ]);
    // The commit really carries them (positive control for the set-up).
    let log = repo.git_ok(&["log", "-1", "--format=%an %ae %s"]);
    assert!(log.contains('\x1b') && log.contains('\u{202e}'), "{log:?}");

    let run = repo.keyhound(&[
        "history",
        "--list-skipped",
        "--max-file-size",
        "262144",
        "--color",
        "never",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert_eq!(raw_controls(text), Vec::<char>::new(), "{name}: {text:?}");
        assert!(
            !text.lines().any(|l| l.starts_with(forged)),
            "{name} has a forged summary line: {text}"
        );
    }
    // The finding and its commit are reported, escaped.
    assert!(run.stdout.contains("openai.project-key"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("cfg\\x1b[2J\\u{202e}vne.txt\\nkeyhound"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Mallory\\x1b[31m\\u{202e}Evil"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("blob\\x1b]8;;"), "{}", run.stderr);
}
