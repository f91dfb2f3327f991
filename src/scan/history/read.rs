//! The scanning threads of the history source (issue 12). Blobs are read in pack order: the
//! ids are cut into one contiguous run per thread ([`split`]), and each thread reads its run
//! (`batch`: libgit2, or its own `git cat-file --batch`) and runs the detector on each blob
//! once, passing over the chunks of text it already found clean in earlier versions
//! (`CleanChunks`),
//! keeping an [`Outcome`] per blob id ([`read`]). For a whole history this starts on the pack's
//! listing while attribution still walks the trees, so both run at once; [`settle`] then gives
//! each wanted blob's outcome its provenance: its findings, copied to each origin
//! (`--all-occurrences`, a tagged blob), and its counts. Outcomes of blobs nobody wants (no ref
//! reaches them, without `--unreachable`) are dropped. Sizes from the listing keep a blob over
//! the size limit from being read at all. In a range, only the lines a commit adds against its
//! first parent count ([`Mode`]). Also the progress line. It does not decide which blobs are
//! wanted (see `attribute`) nor group findings.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use git2::{Oid, Repository};
use memchr::memmem;

use super::super::{
    decode, decode_utf16, inspect, staged, Inspected, Limits, Members, SkipReason, Stats,
};
use super::attribute::{Attribution, Origin};
use super::batch::{self, Blob};
use crate::detect::prefilter::CleanChunks;
use crate::detect::{locate, Detector};
use crate::diag;
use crate::finding::{Finding, Provenance};

/// What reading and scanning one blob gave, before it has a provenance.
pub(super) enum Outcome {
    /// Text of `len` bytes (after UTF-16 decoding) and what the detector found in it, with a
    /// placeholder provenance; in a range with findings, the text too (for the added lines).
    Text {
        len: u64,
        findings: Vec<Finding>,
        /// Findings left out ([`crate::scan::Cap`]).
        more: u64,
        text: Option<Vec<u8>>,
    },
    /// An archive or a notebook: what its members gave (findings on lines of members, so a
    /// range keeps them all).
    Members(Members),
    /// `Mode::Containing`: none of the secrets is in it.
    Passed,
    TooLarge(u64),
    Missing,
    Failed(String),
    /// Read for an earlier repository of the run (`many::Shared`): its findings, not read or
    /// counted again.
    Shared(Vec<Finding>),
}

impl Outcome {
    /// The blob could not be read.
    pub fn failed(&self) -> bool {
        matches!(self, Outcome::Missing | Outcome::Failed(_))
    }
}

/// Chunks each scanning thread remembers as clean: 16 MB of table at most (issue 12: each of
/// two threads learns about half a million on git/git's whole history).
const CLEAN_CHUNKS: usize = 1 << 20;

/// A blob to read: its id and, when the listing gave it, its size.
pub(super) type Want = (Oid, Option<u64>);

/// What a scanning thread needs besides its queue.
pub(super) struct Reader<'a> {
    pub detector: &'a Detector,
    pub limits: Limits,
    pub stats: &'a Stats,
    pub repo_path: &'a Path,
    pub mode: Mode,
    /// A partial clone: the blobs it left out are counted, and said once by the caller, not
    /// warned about one by one.
    pub partial: bool,
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

/// The progress line (see [`crate::diag::Progress`]): blobs done of those wanted, MB/s.
pub(super) fn progress(
    line: crate::diag::Progress,
    stats: &Stats,
    total: &AtomicU64,
    read: &AtomicU64,
    done: &AtomicBool,
) {
    use std::sync::atomic::Ordering::Relaxed;
    let started = std::time::Instant::now();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(250));
        let scanned = read.load(Relaxed);
        let total = total.load(Relaxed);
        let mb = stats.bytes.load(Relaxed) as f64 / 1e6;
        let rate = mb / started.elapsed().as_secs_f64().max(0.001);
        if done.load(Relaxed) {
            line.clear();
            return;
        }
        line.show(&format!(
            "history: {scanned}/{total} blobs, {mb:.0} MB, {rate:.0} MB/s"
        ));
    }
}

/// Every blob in the object database, through libgit2 (when git gave no complete listing).
pub(super) fn odb_blobs(repo: &Repository) -> Vec<Oid> {
    let mut blobs = Vec::new();
    let Ok(odb) = repo.odb() else {
        return blobs;
    };
    let _ = odb.foreach(|oid| {
        if let Ok((_, git2::ObjectType::Blob)) = odb.read_header(*oid) {
            blobs.push(*oid);
        }
        true
    });
    blobs
}

/// Cut `wants` into at most `n` contiguous runs of about equal bytes (blobs of unknown size
/// count as average), so each run is one stretch of the pack.
pub(super) fn split(wants: &[Want], n: usize) -> Vec<&[Want]> {
    let known: Vec<u64> = wants.iter().filter_map(|w| w.1).collect();
    let average = known.iter().sum::<u64>() / (known.len() as u64).max(1);
    let weight = |w: &Want| w.1.unwrap_or(average).max(1);
    let total: u64 = wants.iter().map(weight).sum();
    let share = total.div_ceil(n.max(1) as u64).max(1);
    let mut runs = Vec::new();
    let (mut start, mut acc) = (0, 0);
    for (i, w) in wants.iter().enumerate() {
        acc += weight(w);
        if acc >= share && runs.len() + 1 < n {
            runs.push(&wants[start..=i]);
            (start, acc) = (i + 1, 0);
        }
    }
    if start < wants.len() {
        runs.push(&wants[start..]);
    }
    runs
}

/// Runs each scanning thread takes in turn: the pack is cut into this many runs a thread, and
/// a thread done with one takes the next nobody has, so a thread whose stretch costs more
/// (long delta chains, text dense with keywords) does not keep the others waiting (issue 12:
/// on trufflehog's repository, halves of equal bytes took 0.63 and 0.46 s of CPU).
const RUNS_PER_THREAD: usize = 8;

/// Read and scan `wants` in order, `threads` runs at once: each blob's outcome.
pub(super) fn read(
    reader: &Reader,
    wants: &[Want],
    threads: usize,
    done: &AtomicU64,
) -> HashMap<Oid, Outcome> {
    let runs = split(wants, threads * RUNS_PER_THREAD);
    let next = AtomicU64::new(0);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.min(runs.len()))
            .map(|_| {
                let (runs, next) = (&runs, &next);
                scope.spawn(move || {
                    let mut clean = CleanChunks::new(CLEAN_CHUNKS);
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                        let Some(run) = runs.get(i) else {
                            return out;
                        };
                        out.extend(read_run(reader, run, done, &mut clean));
                    }
                })
            })
            .collect();
        let mut all = HashMap::with_capacity(wants.len());
        for worker in workers {
            all.extend(worker.join().expect("a scanning thread does not panic"));
        }
        all
    })
}

/// One run: read through libgit2 (or a `git cat-file --batch` of its own), the detector on
/// each blob, passing over chunks `clean` knows.
fn read_run(
    reader: &Reader,
    run: &[Want],
    done: &AtomicU64,
    clean: &mut CleanChunks,
) -> Vec<(Oid, Outcome)> {
    let max = reader.limits.max_file_size;
    let mut out = Vec::with_capacity(run.len());
    // Blobs the listing says are over the limit are never read.
    let mut ids = Vec::with_capacity(run.len());
    let mut sizes = Vec::with_capacity(run.len());
    for &(id, size) in run {
        match size {
            Some(size) if size > max => out.push((id, Outcome::TooLarge(size))),
            _ => {
                ids.push(id);
                sizes.push(size);
            }
        }
    }
    done.fetch_add(out.len() as u64, Ordering::Relaxed);
    let mut each = |i: usize, blob: Blob| {
        let outcome = match blob {
            Blob::Bytes(content) => scan(reader, content, clean),
            Blob::TooLarge(size) => Outcome::TooLarge(size),
            Blob::Missing => Outcome::Missing,
            Blob::Failed(why) => Outcome::Failed(why),
        };
        done.fetch_add(1, Ordering::Relaxed);
        out.push((ids[i], outcome));
    };
    let by_git = batch::use_git() && batch::read(reader.repo_path, &ids, max, &mut each).is_ok();
    if !by_git {
        if let Err(e) = batch::read_git2(reader.repo_path, &ids, &sizes, max, &mut each) {
            let why = format!("cannot open the repository again: {}", e.message());
            out.extend(ids.iter().map(|&id| (id, Outcome::Failed(why.clone()))));
        }
    }
    out
}

/// Run the detector on one blob's content, as `scan::scan_blob` does (the same
/// `scan::decode`), but before the blob has a provenance, and without counting: [`settle`]
/// counts the wanted ones.
fn scan(reader: &Reader, content: &[u8], clean: &mut CleanChunks) -> Outcome {
    if let Mode::Containing(secrets) = &reader.mode {
        let decoded = decode(content, &reader.limits);
        let hay = decoded.as_deref().unwrap_or(content);
        if !secrets.iter().any(|s| s.find(hay).is_some()) {
            return Outcome::Passed;
        }
    }
    let placeholder = Provenance::Unreachable {
        path: String::new(),
    };
    let (text, (findings, more)) = match inspect(reader.detector, content, &reader.limits) {
        Inspected::Members(members) => return Outcome::Members(members),
        Inspected::Text(text) => {
            let found = locate::findings_counted(reader.detector, &text, &placeholder, Some(clean));
            (text, found)
        }
        // A binary blob's printable runs (issue 19 item 12), at the blob's own lines.
        Inspected::Runs(runs) => (
            std::borrow::Cow::Borrowed(content),
            super::super::binary_findings(reader.detector, content, &runs, &placeholder, None),
        ),
    };
    let keep_text = !findings.is_empty() && matches!(reader.mode, Mode::AddedLines);
    Outcome::Text {
        len: text.len() as u64,
        findings,
        more,
        text: keep_text.then(|| text.to_vec()),
    }
}

/// Give a wanted blob's outcome its origins: count it, note why it was passed over or could not
/// be read, and return its findings, one copy per origin, with the blob's id. `repo` is opened
/// on first need (the parent version of a file in a range).
pub(super) fn settle(
    reader: &Reader,
    found: &Attribution,
    blob: Oid,
    origins: &[Origin],
    outcome: Outcome,
    repo: &mut Option<Repository>,
) -> Vec<Finding> {
    let stats = reader.stats;
    // Where a blob passed over is named: built only then (nearly every blob is only counted).
    let first = || found.provenance(&origins[0]);
    let (findings, text) = match outcome {
        Outcome::Text {
            len,
            findings,
            more,
            text,
        } => {
            stats.add_file(len as usize);
            if more > 0 {
                let what = format!("{} (blob {blob})", first().path());
                let more = SkipReason::NotListed { more };
                stats.skip(&what, more, reader.limits.max_file_size);
            }
            (findings, text)
        }
        Outcome::Shared(findings) => (findings, None),
        Outcome::Passed => return Vec::new(),
        Outcome::Members(members) => {
            let at: Vec<Provenance> = origins.iter().map(|o| found.provenance(o)).collect();
            members.record(at[0].path(), &reader.limits, stats);
            let id = blob.to_string();
            let mut all = Vec::new();
            for at in &at {
                all.extend(members.findings_at(at).into_iter().map(|f| Finding {
                    blob: Some(id.clone()),
                    repository: None,
                    ..f
                }));
            }
            return all;
        }
        Outcome::TooLarge(size) => {
            if matches!(reader.mode, Mode::Containing(_)) {
                return Vec::new();
            }
            // Scanned in windows (issue 19 item 12); an archive this large is not expanded.
            match large_blob(reader, blob, &first()) {
                Some(findings) => (findings, None),
                None => {
                    let what = format!("{} (blob {blob})", first().path());
                    reader.limits.over(&what, size, stats);
                    return Vec::new();
                }
            }
        }
        Outcome::Missing | Outcome::Failed(_) => {
            let why = match outcome {
                Outcome::Failed(why) => why,
                _ if reader.partial => {
                    stats.error();
                    return Vec::new();
                }
                _ => "not in the object database".to_string(),
            };
            diag::warn(&format!(
                "{}: blob {blob} cannot be read: {why}",
                first().path()
            ));
            stats.error();
            return Vec::new();
        }
    };
    if findings.is_empty() {
        return findings;
    }
    let id = blob.to_string();
    let mut all = Vec::new();
    for origin in origins {
        let provenance = found.provenance(origin);
        let mut these: Vec<Finding> = findings
            .iter()
            .map(|f| Finding {
                provenance: provenance.clone(),
                blob: Some(id.clone()),
                repository: None,
                ..f.clone()
            })
            .collect();
        if let (Mode::AddedLines, Some(text)) = (&reader.mode, &text) {
            // In a range, only lines the commit adds count: a key the file already had (on the
            // base branch, or earlier in the range) is not this commit's doing.
            if repo.is_none() {
                *repo = Repository::open(reader.repo_path).ok();
            }
            if let Some(parent) = repo.as_ref().and_then(|r| parent_version(r, &provenance)) {
                let added = staged::added_lines(&parent, text);
                these.retain(|f| staged::adds(f, &added));
            }
        }
        all.extend(these);
    }
    all
}

/// A blob over the size limit, read from `git cat-file blob` and scanned in windows
/// (`scan::large`); `None` for an archive, or when git cannot give it (then noted as too large).
fn large_blob(reader: &Reader, blob: Oid, at: &Provenance) -> Option<Vec<Finding>> {
    let mut child = batch::git(reader.repo_path)
        .args(["cat-file", "blob", &blob.to_string()])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let mut out = child.stdout.take()?;
    let streamed = crate::scan::large::scan_stream(
        reader.detector,
        &mut out,
        at,
        &reader.limits,
        reader.stats,
    );
    drop(out);
    let ok = child.wait().is_ok_and(|s| s.success());
    match streamed {
        Ok(crate::scan::large::Streamed::Scanned { findings, .. }) if ok => Some(findings),
        _ => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_contiguous_and_about_equal_in_bytes() {
        let id = |n: u8| Oid::from_bytes(&[n; 20]).unwrap();
        let wants: Vec<Want> = (0..10)
            .map(|n| (id(n), Some(if n == 0 { 100 } else { 10 })))
            .collect();
        let runs = split(&wants, 2);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].len(), 1, "the large first blob is a run of its own");
        assert_eq!(runs.iter().map(|r| r.len()).sum::<usize>(), 10);
        assert_eq!(split(&wants, 1).len(), 1);
        assert_eq!(split(&wants[..1], 4).len(), 1);
        assert!(split(&[], 2).is_empty());
        // Unknown sizes count as the average of the known ones.
        let unknown: Vec<Want> = (0..4).map(|n| (id(n), None)).collect();
        assert_eq!(
            split(&unknown, 2)
                .iter()
                .map(|r| r.len())
                .collect::<Vec<_>>(),
            [2, 2]
        );
    }
}
