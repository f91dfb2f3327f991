//! The scanning threads of the history source: each opens its own repository handle, takes
//! [`Job`]s (a blob id and the provenance attribution gave it) from the bounded queue, asks the
//! blob's size before inflating it, and runs the detector through `scan::scan_blob`. In a range,
//! only the lines a commit adds against its first parent count ([`Mode`]). Also the progress
//! line. It does
//! not decide which blobs to read (see `attribute`) nor group findings.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::mpsc::Receiver;
use std::sync::Mutex;

use git2::{Oid, Repository};
use memchr::memmem;

use super::super::{decode_utf16, scan_blob, staged, Limits, Stats};
use crate::detect::Detector;
use crate::diag;
use crate::finding::{Finding, Provenance};

/// A blob to scan and where it was first seen.
pub(super) struct Job {
    pub blob: Oid,
    pub provenance: Provenance,
}

/// What a scanning thread needs besides its queue.
pub(super) struct Reader<'a> {
    pub detector: &'a Detector,
    pub limits: Limits,
    pub stats: &'a Stats,
    pub repo_path: &'a Path,
    pub mode: Mode,
}

/// Which findings a scanning thread keeps.
pub(super) enum Mode {
    /// Every finding.
    All,
    /// Only those on lines the commit adds against its first parent (`--range`).
    AddedLines,
    /// Only from blobs that hold one of these secrets as they are (dating a range's secrets in
    /// the base's history); other blobs never reach the detector, and blobs over the size limit
    /// are passed over without a note (the main scan noted them).
    Containing(Vec<memmem::Finder<'static>>),
}

/// The progress line on stderr (only on a terminal): blobs done of those found so far, MB/s.
pub(super) fn progress(stats: &Stats, queued: &AtomicU64, done: &AtomicBool) {
    use std::io::Write;
    use std::sync::atomic::Ordering::Relaxed;
    let started = std::time::Instant::now();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(250));
        let scanned =
            stats.files.load(Relaxed) + stats.skipped_count() + stats.errors.load(Relaxed);
        let total = queued.load(Relaxed);
        let mb = stats.bytes.load(Relaxed) as f64 / 1e6;
        let rate = mb / started.elapsed().as_secs_f64().max(0.001);
        let mut err = std::io::stderr().lock();
        if done.load(Relaxed) {
            let _ = write!(err, "\r\x1b[2K");
            return;
        }
        let _ = write!(
            err,
            "\r\x1b[2Kkeyhound: history: {scanned}/{total} blobs, {mb:.0} MB, {rate:.0} MB/s"
        );
        let _ = err.flush();
    }
}

/// A scanning thread: its own repository handle, blobs from the queue.
pub(super) fn worker(reader: &Reader, rx: &Mutex<Receiver<Job>>, found: &Mutex<Vec<Finding>>) {
    let stats = reader.stats;
    let repo = match Repository::open(reader.repo_path) {
        Ok(r) => r,
        Err(e) => {
            diag::warn(&format!(
                "cannot open the repository again: {}",
                e.message()
            ));
            stats.error();
            return;
        }
    };
    loop {
        let job = match rx.lock().expect("queue lock").recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        // Ask the size first: a 500 MB blob over the limit is never inflated into memory.
        let size = repo
            .odb()
            .and_then(|odb| odb.read_header(job.blob))
            .map(|(size, _)| size as u64);
        if let Ok(size) = size {
            let what = format!("{} (blob {})", job.provenance.path(), job.blob);
            let over = match reader.mode {
                Mode::Containing(_) => size > reader.limits.max_file_size,
                _ => reader.limits.over(&what, size, stats),
            };
            if over {
                continue;
            }
        }
        let blob = match repo.find_blob(job.blob) {
            Ok(b) => b,
            Err(e) => {
                diag::warn(&format!(
                    "{}: blob {} cannot be read: {}",
                    job.provenance.path(),
                    job.blob,
                    e.message()
                ));
                stats.error();
                continue;
            }
        };
        if let Mode::Containing(secrets) = &reader.mode {
            let content = blob.content();
            let text = decode_utf16(content);
            let text = text.as_deref().unwrap_or(content);
            if !secrets.iter().any(|s| s.find(text).is_some()) {
                continue;
            }
        }
        let id = job.blob.to_string();
        let mut findings = scan_blob(
            reader.detector,
            blob.content(),
            &job.provenance,
            Some(&id),
            &reader.limits,
            stats,
        );
        if !findings.is_empty() && matches!(reader.mode, Mode::AddedLines) {
            // In a range, only lines the commit adds count: a key the file already had (on the
            // base branch, or earlier in the range) is not this commit's doing.
            if let Some(parent) = parent_version(&repo, &job.provenance) {
                let content = blob.content();
                let text = decode_utf16(content);
                let added = staged::added_lines(&parent, text.as_deref().unwrap_or(content));
                findings.retain(|f| staged::adds(f, &added));
            }
        }
        if !findings.is_empty() {
            let mut found = found.lock().expect("findings lock");
            found.extend(findings);
        }
    }
}

/// The content the same path had in the first parent of the commit that introduced a blob.
fn parent_version(repo: &Repository, provenance: &Provenance) -> Option<Vec<u8>> {
    let Provenance::Commit { path, commit } = provenance else {
        return None;
    };
    let commit = repo.find_commit(Oid::from_str(&commit.id).ok()?).ok()?;
    let parent = commit.parent(0).ok()?;
    let entry = parent.tree().ok()?.get_path(Path::new(path)).ok()?;
    let blob = repo.find_blob(entry.id()).ok()?;
    let content = blob.content();
    Some(decode_utf16(content).unwrap_or_else(|| content.to_vec()))
}
