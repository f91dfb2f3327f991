//! Keys inside archives (issue 11, item 4): zip, jar, gzip, tar and tar.gz built at test time
//! with generated keys, found at `archive!member:line` in every source; zip bombs, deep nesting
//! and damaged archives end as named notes with the exit status of the findings.
use std::io::{Cursor, Write};

use crate::harness::{control_line, openai_key, Rng, TestRepo, ALNUM, OPENAI_RULE};

/// A zip of `(name, content)` members, deflated.
fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(false);
    for (name, content) in members {
        w.start_file(*name, opts).unwrap();
        w.write_all(content).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A tar of `(name, content)` members.
fn tar_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, content) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(content.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *content).unwrap();
    }
    b.into_inner().unwrap()
}

/// `bytes` gzipped, with the file name `name` in the header when given.
fn gzip_of(bytes: &[u8], name: Option<&str>) -> Vec<u8> {
    let mut builder = flate2::GzBuilder::new();
    if let Some(n) = name {
        builder = builder.filename(n);
    }
    let mut w = builder.write(Vec::new(), flate2::Compression::default());
    w.write_all(bytes).unwrap();
    w.finish().unwrap()
}

/// (path, line) of each finding of `rule`, sorted.
fn places(run: &crate::harness::Run, rule: &str) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = run
        .report()
        .findings
        .into_iter()
        .filter(|f| f.rule == rule)
        .map(|f| (f.path, f.line))
        .collect();
    v.sort();
    v
}

/// The skipped list of the JSON summary as (path, reason, limit or why).
fn skipped(run: &crate::harness::Run) -> Vec<(String, String, String)> {
    run.json()["summary"]["skipped"]
        .as_array()
        .expect("summary.skipped")
        .iter()
        .map(|s| {
            let detail = s["limit"].as_str().or(s["why"].as_str()).unwrap_or("");
            (
                s["path"].as_str().unwrap().to_string(),
                s["reason"].as_str().unwrap().to_string(),
                detail.to_string(),
            )
        })
        .collect()
}

#[test]
fn issue_11_keys_in_zip_jar_gzip_tar_and_nested_archives_are_found_by_member() {
    let repo = TestRepo::dir();
    let env = |seed| format!("# settings\n{}", control_line(seed));
    let (e1, e2, e3, e4, e5, e6) = (
        env(1101),
        env(1102),
        env(1103),
        env(1104),
        env(1105),
        env(1106),
    );
    repo.write(
        "a.zip",
        zip_of(&[("conf/.env", e1.as_bytes()), ("logo.png", b"\x89PNG\0\0")]),
    );
    repo.write(
        "lib.jar",
        zip_of(&[("META-INF/app.properties", e2.as_bytes())]),
    );
    repo.write("secret.env.gz", gzip_of(e3.as_bytes(), Some("secret.env")));
    repo.write("b.tar", tar_of(&[("c/d.env", e4.as_bytes())]));
    let inner = gzip_of(&tar_of(&[("c/d.env", e5.as_bytes())]), Some("b.tar"));
    repo.write("outer.zip", zip_of(&[("b.tar.gz", &inner)]));
    // Recognised by content, not by name.
    repo.write("data.bin", zip_of(&[("x.txt", e6.as_bytes())]));
    let run = repo.keyhound(&["scan", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        places(&run, OPENAI_RULE),
        vec![
            ("a.zip!conf/.env".to_string(), 2),
            ("b.tar!c/d.env".to_string(), 2),
            ("data.bin!x.txt".to_string(), 2),
            ("lib.jar!META-INF/app.properties".to_string(), 2),
            ("outer.zip!b.tar.gz!c/d.env".to_string(), 2),
            ("secret.env.gz!secret.env".to_string(), 2),
        ]
    );
    let f = run.report().findings.into_iter().next().unwrap();
    assert_eq!((f.column, f.source.as_str()), (16, "file"));
    // Each member counts as a file scanned, the binary one too (its printable runs, issue 19
    // item 12).
    assert_eq!(run.report().summary.files, 7);
    assert!(skipped(&run).is_empty(), "{:?}", skipped(&run));

    // With --archive-depth 0 archives are binary files again, scanned by their printable runs
    // (issue 19 item 12): only the uncompressed tar's key is found, at the tar's own line.
    repo.write("plain.env", control_line(1107));
    let off = repo.keyhound(&["scan", ".", "--format", "json", "--archive-depth", "0"]);
    assert_eq!(off.code, 1, "{}", off.stderr);
    assert_eq!(
        places(&off, OPENAI_RULE),
        vec![("b.tar".to_string(), 2), ("plain.env".to_string(), 1)]
    );
}

#[test]
fn issue_11_archives_on_stdin_and_staged() {
    let repo = TestRepo::git();
    repo.write("README", "x\n");
    repo.commit("start");
    let key_env = control_line(1110);
    let z = zip_of(&[("app/.env", key_env.as_bytes())]);
    let run = repo.keyhound_with_stdin(&["scan", "-", "--format", "json"], Some(&z));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        places(&run, OPENAI_RULE),
        vec![("-!app/.env".to_string(), 1)]
    );

    repo.write("bundle.zip", &z);
    repo.git_ok(&["add", "bundle.zip"]);
    let staged = repo.keyhound(&["staged", "--format", "json"]);
    assert_eq!(staged.code, 1, "{}", staged.stderr);
    assert_eq!(
        places(&staged, OPENAI_RULE),
        vec![("bundle.zip!app/.env".to_string(), 1)]
    );
    repo.commit("add bundle");
    // The archive changes, the key in it does not: not this change's key. A new key is.
    let readme = b"docs\n";
    repo.write(
        "bundle.zip",
        zip_of(&[("app/.env", key_env.as_bytes()), ("README", readme)]),
    );
    repo.git_ok(&["add", "bundle.zip"]);
    let same = repo.keyhound(&["staged", "--format", "json"]);
    assert_eq!(same.code, 0, "{}", same.stdout);
    let new_key = control_line(1111);
    repo.write(
        "bundle.zip",
        zip_of(&[
            ("app/.env", key_env.as_bytes()),
            ("README", new_key.as_bytes()),
        ]),
    );
    repo.git_ok(&["add", "bundle.zip"]);
    let added = repo.keyhound(&["staged", "--format", "json"]);
    assert_eq!(added.code, 1, "{}", added.stderr);
    assert_eq!(
        places(&added, OPENAI_RULE),
        vec![("bundle.zip!README".to_string(), 1)]
    );
}

#[test]
fn issue_11_an_archive_in_history_is_scanned_once_per_blob() {
    let repo = TestRepo::git();
    let key = openai_key(1120);
    let z = zip_of(&[("conf/.env", format!("K={key}\n").as_bytes())]);
    repo.write("a.zip", &z);
    repo.write("notes.txt", "one\n");
    let first = repo.commit("add archive");
    repo.write("notes.txt", "two\n");
    repo.commit("edit notes");
    repo.git_ok(&["mv", "a.zip", "b.zip"]);
    repo.commit("rename archive");
    let run = repo.keyhound(&["history", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let findings = run.json()["findings"].as_array().unwrap().clone();
    assert_eq!(findings.len(), 1, "{}", run.stdout);
    assert_eq!(findings[0]["path"], "a.zip!conf/.env");
    assert_eq!(findings[0]["commit"]["id"], first.as_str());
    // Blobs scanned: the archive's one member and two versions of notes.txt.
    assert_eq!(run.report().summary.files, 3, "{}", run.stderr);

    // An edited archive is a new blob: read once more, its key reported with its commit.
    repo.write(
        "b.zip",
        zip_of(&[("conf/.env", format!("K={key}\n").as_bytes()), ("x", b"y")]),
    );
    let second = repo.commit("edit archive");
    let again = repo.keyhound(&["history", ".", "--format", "json"]);
    let mut commits: Vec<String> = again.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["commit"]["id"].as_str().unwrap().to_string())
        .collect();
    commits.sort();
    let mut want = vec![first, second];
    want.sort();
    assert_eq!(commits, want, "{}", again.stdout);
    assert_eq!(again.report().summary.files, 5, "{}", again.stderr);
}

#[test]
fn issue_11_zip_bombs_are_notes_and_the_rest_is_scanned() {
    let repo = TestRepo::dir();
    let zeros = vec![0u8; 20 << 20];
    let spaces = vec![b' '; 20 << 20];
    let key_env = control_line(1130);
    // A member that inflates 1000 times: stopped by the ratio; the member after it is read.
    repo.write(
        "ratio.zip",
        zip_of(&[
            ("big.txt", &spaces),
            ("zeros.bin", &zeros),
            ("after.env", key_env.as_bytes()),
        ]),
    );
    // Many members: past the limit they are not read.
    let names: Vec<String> = (0..20_001).map(|i| format!("f{i}")).collect();
    let mut members: Vec<(&str, &[u8])> = vec![("first.env", key_env.as_bytes())];
    members.extend(names.iter().map(|n| (n.as_str(), &b""[..])));
    repo.write("many.zip", zip_of(&members));
    // Nested five deep (as 42.zip): three levels are opened, the fourth is a note.
    let deep_key = control_line(1131);
    let mut nested = zip_of(&[("deepest.env", deep_key.as_bytes())]);
    for level in (1..5).rev() {
        nested = zip_of(&[
            (&format!("level{level}.zip"), &nested),
            ("top.env", key_env.as_bytes()),
        ]);
    }
    repo.write("deep.zip", &nested);
    // A gzip bomb: a gzip of zeros.
    repo.write("zeros.gz", gzip_of(&zeros, None));
    let run = repo.keyhound(&["scan", ".", "--format", "json", "--list-skipped"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let found = places(&run, OPENAI_RULE);
    assert!(
        found.contains(&("ratio.zip!after.env".to_string(), 1)),
        "{found:?}"
    );
    assert!(
        found.contains(&("many.zip!first.env".to_string(), 1)),
        "{found:?}"
    );
    assert!(
        found.contains(&("deep.zip!level1.zip!level2.zip!top.env".to_string(), 1)),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|(p, _)| p.ends_with("deepest.env")),
        "{found:?}"
    );
    let skips = skipped(&run);
    for want in [
        ("ratio.zip!big.txt", "archive_limit", "ratio"),
        ("many.zip", "archive_limit", "entries"),
        (
            "deep.zip!level1.zip!level2.zip!level3.zip",
            "archive_limit",
            "depth",
        ),
        ("zeros.gz", "archive_limit", "ratio"),
    ] {
        assert!(
            skips.contains(&(want.0.into(), want.1.into(), want.2.into())),
            "{want:?} not in {skips:?}"
        );
    }
    assert!(
        run.stderr.contains("the archive depth limit is reached"),
        "{}",
        run.stderr
    );
    assert!(!run.report().summary.incomplete);
}

#[test]
fn issue_11_the_inflated_size_of_one_archive_is_bounded() {
    let repo = TestRepo::dir();
    let mut rng = Rng::new(1140);
    // Members of 900 KB that deflate about 80 times (a random line, repeated): not bombs, but
    // 4 x --max-file-size (1M) is spent by the fifth, while the archive itself is under 1M.
    let bodies: Vec<String> = (0..8)
        .map(|_| format!("{}\n", rng.string(ALNUM, 999)).repeat(900))
        .collect();
    let names: Vec<String> = (0..8).map(|i| format!("m{i}.txt")).collect();
    let key_env = control_line(1141);
    let mut members: Vec<(&str, &[u8])> = vec![("first.env", key_env.as_bytes())];
    members.extend(
        names
            .iter()
            .zip(&bodies)
            .map(|(n, b)| (n.as_str(), b.as_bytes())),
    );
    members.push(("last.env", key_env.as_bytes()));
    repo.write("big.zip", zip_of(&members));
    let run = repo.keyhound(&["scan", ".", "--format", "json", "--max-file-size", "1M"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        places(&run, OPENAI_RULE),
        vec![("big.zip!first.env".to_string(), 1)]
    );
    let skips = skipped(&run);
    assert!(
        skips
            .iter()
            .any(|s| s.1 == "archive_limit" && s.2 == "inflated_size"),
        "{skips:?}"
    );
}

#[test]
fn issue_11_damaged_archives_are_notes_not_errors() {
    let repo = TestRepo::dir();
    let good = zip_of(&[("a.env", control_line(1150).as_bytes())]);
    repo.write("cut.zip", &good[..good.len() / 2]);
    let mut gz = gzip_of(control_line(1151).as_bytes(), None);
    let n = gz.len();
    gz[12..n - 8].iter_mut().for_each(|b| *b = 0xff);
    repo.write("bad.gz", &gz);
    // Positive control: a plain file's key is still found and decides the exit status.
    repo.write("plain.env", control_line(1152));
    let run = repo.keyhound(&["scan", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        places(&run, OPENAI_RULE),
        vec![("plain.env".to_string(), 1)]
    );
    let skips = skipped(&run);
    for path in ["cut.zip", "bad.gz"] {
        assert!(
            skips
                .iter()
                .any(|s| s.0 == path && s.1 == "archive_unreadable"),
            "{path} not in {skips:?}"
        );
    }
    assert!(!run.report().summary.incomplete);
    assert!(
        run.stderr.contains("archive cannot be read"),
        "{}",
        run.stderr
    );
}

#[test]
fn issue_11_an_ignored_archive_is_ignored_in_history_too() {
    let repo = TestRepo::git();
    repo.write(
        "vendor/lib.jar",
        zip_of(&[("app.properties", control_line(1160).as_bytes())]),
    );
    repo.write(
        "own.zip",
        zip_of(&[("app.properties", control_line(1161).as_bytes())]),
    );
    repo.write(".keyhoundignore", "*.jar\n");
    repo.commit("vendored jar");
    let run = repo.keyhound(&["history", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // Positive control: the archive that is not ignored is reported.
    assert_eq!(
        places(&run, OPENAI_RULE),
        vec![("own.zip!app.properties".to_string(), 1)]
    );
    let shown = repo.keyhound(&["history", ".", "--format", "json", "--show-suppressed"]);
    assert!(
        places(&shown, OPENAI_RULE).contains(&("vendor/lib.jar!app.properties".to_string(), 1)),
        "{}",
        shown.stdout
    );
}

/// The parts of a SARIF report a member's finding is checked on.
#[derive(serde::Deserialize)]
struct Sarif {
    runs: Vec<SarifRun>,
}
#[derive(serde::Deserialize)]
struct SarifRun {
    results: Vec<SarifResult>,
}
#[derive(serde::Deserialize)]
struct SarifResult {
    message: SarifText,
    locations: Vec<SarifLocation>,
}
#[derive(serde::Deserialize)]
struct SarifText {
    text: String,
}
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation {
    physical_location: SarifPhysical,
}
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifPhysical {
    artifact_location: SarifArtifact,
    region: SarifRegion,
}
#[derive(serde::Deserialize)]
struct SarifArtifact {
    uri: String,
}
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifRegion {
    start_line: u64,
}

#[test]
fn issue_11_sarif_points_at_the_archive_file_and_names_the_member() {
    let repo = TestRepo::dir();
    repo.write(
        "pkg/a.zip",
        zip_of(&[(
            "conf/.env",
            format!("# x\n{}", control_line(1170)).as_bytes(),
        )]),
    );
    repo.write("plain.env", format!("\n\n{}", control_line(1171)));
    let run = repo.keyhound(&["scan", ".", "--format", "sarif"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let sarif: Sarif = serde_json::from_str(&run.stdout).unwrap();
    let mut got: Vec<(String, u64, bool)> = sarif.runs[0]
        .results
        .iter()
        .map(|r| {
            let p = &r.locations[0].physical_location;
            let named = r.message.text.contains("at pkg/a.zip!conf/.env line 2");
            (p.artifact_location.uri.clone(), p.region.start_line, named)
        })
        .collect();
    got.sort();
    // The member's artifact is the archive (a file code scanning can open); a plain file keeps
    // its own line.
    assert_eq!(
        got,
        vec![
            ("pkg/a.zip".to_string(), 1, true),
            ("plain.env".to_string(), 3, false)
        ]
    );
}

/// Set a zip's declared size (local header and central directory) of its only member, or its
/// CRC when `crc` is true, to `value`.
fn zip_lie(zip: &mut [u8], crc: bool, value: u32) {
    let (local, central) = if crc { (14, 16) } else { (22, 24) };
    zip[local..local + 4].copy_from_slice(&value.to_le_bytes());
    let cd = zip
        .windows(4)
        .position(|w| w == b"PK\x01\x02")
        .expect("a central directory");
    zip[cd + central..cd + central + 4].copy_from_slice(&value.to_le_bytes());
}

#[test]
fn lying_or_damaged_archive_metadata_does_not_hide_a_key() {
    // issue 19 item 10: a zip declaring 30 MB for a 180-byte member was skipped as too large,
    // a bad CRC or gzip trailer dropped a member whose bytes all inflated (exit 0).
    let repo = TestRepo::dir();
    let mut lie = zip_of(&[("a.env", control_line(1901).as_bytes())]);
    zip_lie(&mut lie, false, 30_000_000);
    repo.write("lie.zip", &lie);
    let mut crc = zip_of(&[("b.env", control_line(1902).as_bytes())]);
    zip_lie(&mut crc, true, 0);
    repo.write("crc.zip", &crc);
    let mut gz = gzip_of(control_line(1903).as_bytes(), Some("c.env"));
    let n = gz.len();
    gz[n - 8..n - 4].copy_from_slice(&[0, 0, 0, 0]);
    repo.write("trailer.gz", &gz);
    let run = repo.keyhound(&["scan", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        places(&run, OPENAI_RULE),
        vec![
            ("crc.zip!b.env".to_string(), 1),
            ("lie.zip!a.env".to_string(), 1),
            ("trailer.gz!c.env".to_string(), 1),
        ]
    );
    // The damaged members are named, with what was scanned of them.
    let skips = skipped(&run);
    for path in ["crc.zip!b.env", "trailer.gz!c.env"] {
        assert!(
            skips.iter().any(|s| s.0 == path
                && s.1 == "archive_unreadable"
                && s.2.starts_with("damaged")
                && s.2.ends_with("bytes that inflated were scanned")),
            "{path} not in {skips:?}"
        );
    }
    assert!(!skips.iter().any(|s| s.0 == "lie.zip!a.env"), "{skips:?}");
}
