//! The staged source (`keyhound staged`, the pre-commit hook): what the index holds, compared
//! with HEAD. It asks `git` itself, which reads the index through its cache-tree: one
//! `git diff --cached --raw -z` for the changed paths and blob ids, one `git cat-file --batch`
//! for the staged and previous contents. It never walks the working tree or loads history.
//!
//! Only lines the staged change adds are reported: a line counts as added when the staged file
//! holds it more times than the HEAD version did (a multiset difference of lines). So a key that
//! was already committed does not block an unrelated edit of its file, and a moved line is not
//! new; a key in a line the change adds or edits always is. In an archive or a notebook, where
//! lines of the blob are not lines of a member, a key counts as added when the HEAD version did
//! not hold it in the same member or cell.

use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{decode_utf16, inspect, large, scan_blob, Inspected, Limits, Stats};
use crate::detect::Detector;
use crate::finding::{Finding, Provenance};

/// Why the staged changes could not be scanned. The hook refuses the commit on any of these.
#[derive(Debug)]
pub enum StagedError {
    /// `git` could not be started.
    NoGit(std::io::Error),
    /// A git command failed; its stderr, one line.
    Git { command: String, stderr: String },
    /// Output of git that could not be parsed.
    Parse(String),
}

impl fmt::Display for StagedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StagedError::NoGit(e) => write!(f, "cannot run git: {e}"),
            StagedError::Git { command, stderr } => write!(f, "`{command}` failed: {stderr}"),
            StagedError::Parse(what) => write!(f, "unexpected output from git: {what}"),
        }
    }
}

impl std::error::Error for StagedError {}

/// One staged file: its path, the staged blob and the blob it replaces (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedFile {
    pub path: String,
    pub new: String,
    pub old: Option<String>,
}

const NULL_ID: &str = "0000000000000000000000000000000000000000";

fn git(dir: &Path) -> Command {
    let mut cmd = crate::git::command();
    cmd.current_dir(dir)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null());
    cmd
}

/// The files the index changes relative to HEAD (added, copied, modified, renamed, type
/// changed); submodules and deletions are left out.
pub fn staged_files(dir: &Path) -> Result<Vec<StagedFile>, StagedError> {
    let args = [
        "diff",
        "--cached",
        "--raw",
        "-z",
        "--no-abbrev",
        "--no-ext-diff",
        "--no-textconv",
        "-M",
        "--diff-filter=ACMRT",
    ];
    let out = git(dir).args(args).output().map_err(StagedError::NoGit)?;
    if !out.status.success() {
        return Err(StagedError::Git {
            command: format!("git {}", args.join(" ")),
            stderr: one_line(&String::from_utf8_lossy(&out.stderr)),
        });
    }
    parse_raw(&out.stdout)
}

/// Parse `git diff --raw -z` output: `:old_mode new_mode old_id new_id status\0path\0`, with a
/// second path for renames and copies.
fn parse_raw(raw: &[u8]) -> Result<Vec<StagedFile>, StagedError> {
    let mut files = Vec::new();
    let mut fields = raw.split(|&b| b == 0).filter(|f| !f.is_empty());
    while let Some(meta) = fields.next() {
        let meta = String::from_utf8_lossy(meta);
        let parts: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
        let [_, new_mode, old_id, new_id, status] = parts[..] else {
            return Err(StagedError::Parse(format!("raw diff line {meta:?}")));
        };
        let mut path = fields
            .next()
            .ok_or_else(|| StagedError::Parse("raw diff line without a path".into()))?;
        if status.starts_with('R') || status.starts_with('C') {
            path = fields
                .next()
                .ok_or_else(|| StagedError::Parse("rename without a target path".into()))?;
        }
        // Regular files and symlinks only: 160000 is a submodule (a commit id, not content).
        if !(new_mode.starts_with("100") || new_mode == "120000") {
            continue;
        }
        files.push(StagedFile {
            path: String::from_utf8_lossy(path).into_owned(),
            new: new_id.to_string(),
            old: (old_id != NULL_ID && !status.starts_with('A')).then(|| old_id.to_string()),
        });
    }
    Ok(files)
}

/// A blob as `git cat-file --batch` gave it: its content, or only its size when that was over
/// the limit (the content is then read past, never kept).
#[derive(Debug)]
pub enum BlobContent {
    Bytes(Vec<u8>),
    TooLarge(u64),
}

/// Read blobs with one `git cat-file --batch`; a missing object is an error. The size in each
/// object's header is checked before its content is read: content over `max` is skipped.
pub fn read_blobs(
    dir: &Path,
    ids: &[&str],
    max: u64,
) -> Result<HashMap<String, BlobContent>, StagedError> {
    let mut child = git(dir)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(StagedError::NoGit)?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let request: String = ids.iter().map(|id| format!("{id}\n")).collect();
    // Write on another thread: git answers while we still write, and both pipes have limits.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(request.as_bytes());
    });
    let mut reader = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut blobs = HashMap::new();
    let cut = |e: std::io::Error| StagedError::Parse(format!("cat-file: {e}"));
    for id in ids {
        let mut header = String::new();
        reader.read_line(&mut header).map_err(cut)?;
        let parts: Vec<&str> = header.split_whitespace().collect();
        if parts.len() != 3 {
            return Err(StagedError::Git {
                command: "git cat-file --batch".into(),
                stderr: format!("object {id}: {}", header.trim()),
            });
        }
        let size: u64 = parts[2]
            .parse()
            .map_err(|_| StagedError::Parse(format!("cat-file header {header:?}")))?;
        let content = if size > max {
            let skipped =
                std::io::copy(&mut (&mut reader).take(size), &mut std::io::sink()).map_err(cut)?;
            if skipped != size {
                return Err(StagedError::Parse(format!("cat-file: object {id} cut off")));
            }
            BlobContent::TooLarge(size)
        } else {
            let mut content = Vec::with_capacity(size as usize);
            (&mut reader)
                .take(size)
                .read_to_end(&mut content)
                .map_err(cut)?;
            if content.len() as u64 != size {
                return Err(StagedError::Parse(format!("cat-file: object {id} cut off")));
            }
            BlobContent::Bytes(content)
        };
        let mut newline = [0u8; 1];
        let _ = reader.read_exact(&mut newline);
        blobs.insert(id.to_string(), content);
    }
    let _ = writer.join();
    let _ = child.wait();
    Ok(blobs)
}

/// Options of a staged scan.
#[derive(Debug, Clone)]
pub struct StagedOptions {
    pub dir: PathBuf,
    pub limits: Limits,
}

/// Scan the lines the staged change adds.
pub fn scan(
    detector: &Detector,
    opts: &StagedOptions,
    stats: &Stats,
) -> Result<Vec<Finding>, StagedError> {
    let files = staged_files(&opts.dir)?;
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<&str> = Vec::new();
    for f in &files {
        ids.push(&f.new);
        if let Some(old) = &f.old {
            ids.push(old);
        }
    }
    ids.sort_unstable();
    ids.dedup();
    let blobs = read_blobs(&opts.dir, &ids, opts.limits.max_file_size)?;
    let mut findings = Vec::new();
    for f in &files {
        let new = match blobs.get(&f.new) {
            Some(BlobContent::Bytes(b)) => b,
            Some(BlobContent::TooLarge(size)) => {
                // Scanned in windows (issue 19 item 12); a key counts as added when the HEAD
                // version did not hold it (lines of a file this large are not compared).
                let provenance = Provenance::Staged {
                    path: f.path.clone(),
                };
                let Some(found) = scan_large(detector, opts, &f.new, &provenance, stats)? else {
                    opts.limits.over(&f.path, *size, stats);
                    continue;
                };
                let quiet = Stats::default();
                let old: Vec<String> = match f.old.as_ref().map(|id| (id, blobs.get(id))) {
                    Some((_, Some(BlobContent::Bytes(b)))) => {
                        scan_blob(detector, b, &provenance, None, &opts.limits, &quiet)
                    }
                    Some((id, Some(BlobContent::TooLarge(_)))) => {
                        scan_large(detector, opts, id, &provenance, &quiet)?.unwrap_or_default()
                    }
                    _ => Vec::new(),
                }
                .into_iter()
                .map(|o| o.fingerprint)
                .collect();
                findings.extend(
                    found
                        .into_iter()
                        .filter(|n| !old.contains(&n.fingerprint))
                        .map(|n| Finding {
                            blob: Some(f.new.clone()),
                            ..n
                        }),
                );
                continue;
            }
            None => continue,
        };
        let provenance = Provenance::Staged {
            path: f.path.clone(),
        };
        let found = scan_blob(
            detector,
            new,
            &provenance,
            Some(&f.new),
            &opts.limits,
            stats,
        );
        if found.is_empty() {
            continue;
        }
        let old_bytes = match f.old.as_ref().and_then(|id| blobs.get(id)) {
            Some(BlobContent::Bytes(b)) => Some(b),
            _ => None,
        };
        let (members, found): (Vec<Finding>, Vec<Finding>) = found
            .into_iter()
            .partition(|found| found.provenance.path() != f.path);
        if !members.is_empty() {
            let known: Vec<(String, String)> =
                match old_bytes.map(|b| inspect(detector, b, &opts.limits)) {
                    Some(Inspected::Members(old)) => old
                        .findings
                        .into_iter()
                        .map(|(suffix, o)| (format!("{}{suffix}", f.path), o.fingerprint))
                        .collect(),
                    _ => Vec::new(),
                };
            findings.extend(members.into_iter().filter(|m| {
                !known
                    .iter()
                    .any(|(p, fp)| p == m.provenance.path() && *fp == m.fingerprint)
            }));
        }
        let old = match old_bytes {
            Some(b) => decode_utf16(b).unwrap_or_else(|| b.clone()),
            None => Vec::new(),
        };
        let new = decode_utf16(new).unwrap_or_else(|| new.clone());
        let added = added_lines(&old, &new);
        findings.extend(found.into_iter().filter(|f| adds(f, &added)));
    }
    Ok(findings)
}

/// A blob over the size limit, read from `git cat-file blob` and scanned in windows
/// ([`large::scan_stream`]); `None` for an archive, which is not expanded at that size.
fn scan_large(
    detector: &Detector,
    opts: &StagedOptions,
    id: &str,
    provenance: &Provenance,
    stats: &Stats,
) -> Result<Option<Vec<Finding>>, StagedError> {
    let mut child = git(&opts.dir)
        .args(["cat-file", "blob", id])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(StagedError::NoGit)?;
    let mut out = child.stdout.take().expect("stdout is piped");
    let streamed = large::scan_stream(detector, &mut out, provenance, &opts.limits, stats);
    drop(out);
    let status = child.wait().map_err(StagedError::NoGit)?;
    let cut = |e: std::io::Error| StagedError::Parse(format!("cat-file blob {id}: {e}"));
    match streamed.map_err(cut)? {
        large::Streamed::Archive => Ok(None),
        large::Streamed::Scanned { .. } if !status.success() => Err(StagedError::Git {
            command: format!("git cat-file blob {id}"),
            stderr: format!("exited with {status}"),
        }),
        large::Streamed::Scanned { findings, .. } => Ok(Some(findings)),
    }
}

/// True when `finding` touches a line that `added` (from [`added_lines`]) marks as added. A
/// line past the end of `added` counts as added: a match can end on a final newline that
/// [`added_lines`] does not count as a line of its own.
pub fn adds(finding: &Finding, added: &[bool]) -> bool {
    (finding.location.line..=finding.location.end_line)
        .any(|l| added.get(l.wrapping_sub(1)).copied().unwrap_or(true))
}

/// For each line of `new` (index = line - 1), whether the change adds it: the staged file holds
/// that line more often than the old one did. Occurrences are matched in order.
pub fn added_lines(old: &[u8], new: &[u8]) -> Vec<bool> {
    let mut remaining: HashMap<&[u8], usize> = HashMap::new();
    for line in lines(old) {
        *remaining.entry(line).or_default() += 1;
    }
    lines(new)
        .map(|line| match remaining.get_mut(line) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .collect()
}

/// Lines without their terminator (`\n` or `\r\n`); a final line without one counts.
fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let trimmed = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let empty = bytes.is_empty();
    trimmed
        .split(|&b| b == b'\n')
        .filter(move |_| !empty)
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_lines_are_the_multiset_difference() {
        let old = b"a\nkey\nb\n";
        let new = b"a\nkey\nb changed\nc\nkey\n";
        assert_eq!(added_lines(old, new), vec![false, false, true, true, true]);
        assert_eq!(added_lines(b"", b"x\ny"), vec![true, true]);
        assert_eq!(added_lines(b"x\r\n", b"x\n"), vec![false]);
    }

    #[test]
    fn raw_diff_parses_adds_modifies_renames_and_skips_submodules() {
        let raw = concat!(
            ":000000 100644 0000000000000000000000000000000000000000 1111111111111111111111111111111111111111 A\0new.txt\0",
            ":100644 100644 2222222222222222222222222222222222222222 3333333333333333333333333333333333333333 M\0dir/mod.py\0",
            ":100644 100644 4444444444444444444444444444444444444444 5555555555555555555555555555555555555555 R087\0old name\0new name\0",
            ":000000 160000 0000000000000000000000000000000000000000 6666666666666666666666666666666666666666 A\0vendor/sub\0",
        );
        let files = parse_raw(raw.as_bytes()).unwrap();
        assert_eq!(files.len(), 3);
        assert_eq!(files[0].old, None);
        assert_eq!(files[1].path, "dir/mod.py");
        assert_eq!(files[2].path, "new name");
        assert_eq!(
            files[2].old.as_deref(),
            Some("4444444444444444444444444444444444444444")
        );
    }
}
