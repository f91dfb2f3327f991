//! Sources of blobs: [`walk`] reads a working tree in parallel, [`stdin`] reads standard input,
//! [`staged`] asks git for the index, [`history`] reads every blob of a repository. Each source
//! finds out a blob's size before reading it: one over `--max-file-size` is streamed through
//! [`large::scan_stream`] in windows; the others' bytes go to [`scan_blob`], the one function
//! that applies the per-blob rules every source shares (UTF-16 decoding, the binary sniff and a
//! binary blob's printable runs, counting, the cap on findings, [`Cap`]) and runs the detector. Archives ([`archive`]: zip, jar,
//! gzip, tar) and Jupyter notebooks ([`notebook`]) are recognised by their content, not their
//! name, and their members are scanned instead ([`inspect`]), so every source, history's
//! pack-order reader included, expands them. Nothing here formats output or decides what is
//! reported (see `crate::policy`).

pub mod archive;
pub mod history;
pub mod large;
pub mod notebook;
pub mod staged;
pub mod stdin;
pub mod walk;

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::detect::{locate, Detector};
pub use crate::detect::{MAX_PER_BLOB, MAX_PER_SECRET};
use crate::finding::{Finding, Provenance};

/// Bytes sniffed for a NUL to call a file binary.
pub const BINARY_SNIFF: usize = 8192;

/// The per-blob limits every source applies.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Blobs larger than this are scanned in windows of this size, archives larger than this
    /// are skipped (`--max-file-size`; see [`large`]).
    pub max_file_size: u64,
    /// Scan binary blobs too (`--binary`).
    pub binary: bool,
    /// How many archives deep members are scanned (`--archive-depth`; 0: archives are
    /// binary files like any other).
    pub archive_depth: u32,
}

impl Limits {
    /// True (and noted in `stats`) when a blob of `size` bytes is over the size limit. Sources
    /// call this with the size from metadata or an object header, before reading the content.
    pub fn over(&self, what: &str, size: u64, stats: &Stats) -> bool {
        if size > self.max_file_size {
            stats.skip(what, SkipReason::TooLarge { size }, self.max_file_size);
            return true;
        }
        false
    }
}

/// Why a blob was not scanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum SkipReason {
    /// An archive (or an archive's member) over `--max-file-size`: archives are expanded in
    /// memory. Other blobs that large are scanned in windows ([`large`]).
    TooLarge { size: u64 },
    /// A NUL byte in the first 8 KiB: no longer given (binary blobs are scanned by their
    /// printable runs since issue 19 item 12), kept to read older reports.
    Binary,
    /// Excluded by `.keyhoundignore` or `[allow] paths`.
    Ignored,
    /// Part of an archive was not expanded: a limit against archive bombs was reached. `limit`
    /// names it: `depth`, `entries`, `inflated_size` or `ratio` (see [`archive`]).
    ArchiveLimit { limit: String },
    /// An archive, or a member of one, could not be read: damaged, encrypted, or compressed
    /// with a method keyhound does not read. A note, not an error: repositories keep broken
    /// archives as test fixtures.
    ArchiveUnreadable { why: String },
    /// Scanned, but `more` of its findings are not listed: past [`MAX_PER_SECRET`] occurrences
    /// of one secret or [`MAX_PER_BLOB`] in all (issue 19 item 11: the report stays bounded).
    NotListed { more: u64 },
}

/// One blob that was not scanned, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub path: String,
    #[serde(flatten)]
    pub reason: SkipReason,
}

/// Counters shared by the threads of one scan, and the names of what was skipped.
#[derive(Debug, Default)]
pub struct Stats {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    pub errors: AtomicU64,
    /// Set when something could not be scanned: the run then exits 2.
    pub incomplete: AtomicBool,
    skipped: Mutex<Vec<Skipped>>,
}

impl Stats {
    pub fn add_file(&self, bytes: usize) {
        self.add_files(1, bytes as u64);
    }

    pub fn add_files(&self, files: u64, bytes: u64) {
        self.files.fetch_add(files, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Something could not be read: the scan is incomplete (exit 2).
    pub fn error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.incomplete.store(true, Ordering::Relaxed);
    }

    /// A blob skipped by policy: recorded by name (reports list them), a note for large ones.
    pub fn skip(&self, what: &str, reason: SkipReason, max: u64) {
        match &reason {
            SkipReason::TooLarge { size } => crate::diag::note(&format!(
                "{what}: skipped, {size} bytes is over --max-file-size {max}"
            )),
            SkipReason::ArchiveLimit { limit } => crate::diag::note(&format!(
                "{what}: not expanded, the archive {limit} limit is reached ({})",
                archive::limit_text(limit)
            )),
            SkipReason::ArchiveUnreadable { why } => {
                crate::diag::note(&format!("{what}: archive cannot be read: {why}"))
            }
            SkipReason::NotListed { more } => crate::diag::note(&format!(
                "{what}: {more} more findings not listed (at most {MAX_PER_SECRET} \
                 occurrences of one secret and {MAX_PER_BLOB} findings a file are listed)"
            )),
            SkipReason::Binary | SkipReason::Ignored => {}
        }
        self.skipped
            .lock()
            .expect("no thread panics while holding the lock")
            .push(Skipped {
                path: what.to_string(),
                reason,
            });
    }

    /// Everything skipped so far, sorted by path.
    pub fn skipped(&self) -> Vec<Skipped> {
        let mut v = self
            .skipped
            .lock()
            .expect("no thread panics while holding the lock")
            .clone();
        v.sort_by(|a, b| a.path.cmp(&b.path));
        v
    }

    /// How many blobs were skipped so far (for progress lines).
    pub fn skipped_count(&self) -> u64 {
        self.skipped
            .lock()
            .expect("no thread panics while holding the lock")
            .len() as u64
    }

    pub fn is_incomplete(&self) -> bool {
        self.incomplete.load(Ordering::Relaxed)
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// The bytes of a blob to scan: UTF-16 text decoded; `None` for a binary blob (unless
/// `--binary`). Pure, no counting: the one rule every source applies to text content
/// ([`scan_blob`] counts; history counts once it knows which blobs it wants).
pub fn decode<'a>(bytes: &'a [u8], limits: &Limits) -> Option<Cow<'a, [u8]>> {
    let text = match decode_utf16(bytes) {
        Some(decoded) => Cow::Owned(decoded),
        None => Cow::Borrowed(bytes),
    };
    (limits.binary || !is_binary(&text)).then_some(text)
}

/// What a blob's content is, before it has a name: text to scan, a binary blob to pass over, or
/// an archive or notebook whose members were already scanned. History inspects blobs in pack
/// order and names them later; the other sources at once ([`scan_blob`]).
pub enum Inspected<'a> {
    Text(Cow<'a, [u8]>),
    /// A binary blob's printable runs ([`large::printable_runs`]): scanned as text, its
    /// findings placed at the blob's own lines ([`binary_findings`]).
    Runs(large::Runs),
    Members(Members),
}

/// Tell text, binary, archive and notebook apart by content, and expand the last two.
pub fn inspect<'a>(detector: &Detector, bytes: &'a [u8], limits: &Limits) -> Inspected<'a> {
    if limits.archive_depth > 0 {
        if let Some(kind) = archive::kind(bytes) {
            return Inspected::Members(archive::expand(detector, bytes, kind, limits));
        }
    }
    if let Some(members) = notebook::scan(detector, bytes) {
        return Inspected::Members(members);
    }
    match decode(bytes, limits) {
        Some(text) => Inspected::Text(text),
        None => Inspected::Runs(large::runs(detector, bytes, false, false)),
    }
}

/// The findings of a binary blob `bytes` in its printable `runs` (issue 19 item 12), at the
/// blob's own lines and columns; and how many were left out ([`Cap`]).
pub fn binary_findings(
    detector: &Detector,
    bytes: &[u8],
    runs: &large::Runs,
    provenance: &Provenance,
    clean: Option<&mut crate::detect::prefilter::CleanChunks>,
) -> (Vec<Finding>, u64) {
    let (found, more) = locate::findings_counted(detector, &runs.text, provenance, clean);
    (large::place_all(found, bytes, runs), more)
}

/// What the members of an archive or the cells of a notebook gave, each named by its suffix to
/// the blob's own path (`!inner/path`, `!b.tar.gz!c.env`, `#cell-3`).
#[derive(Debug, Default)]
pub struct Members {
    /// Members scanned as text, and their bytes.
    pub files: u64,
    pub bytes: u64,
    /// Findings, their provenance a placeholder, each with its member's suffix.
    pub findings: Vec<(String, Finding)>,
    /// Members not scanned, by suffix.
    pub skipped: Vec<(String, SkipReason)>,
    /// Findings not listed ([`Cap`]).
    pub more: u64,
}

/// The findings of one blob kept for the report, whatever the parts it is scanned in (archive
/// members, windows of a large file): at most [`MAX_PER_SECRET`] of one secret and
/// [`MAX_PER_BLOB`] in all; the rest are counted (issue 19 item 11).
#[derive(Debug, Default)]
pub struct Cap {
    seen: std::collections::HashMap<String, usize>,
    listed: usize,
    /// Findings left out so far.
    pub more: u64,
}

impl Cap {
    /// Keep what fits of a part's findings, of which the part itself left out `more`.
    pub fn admit<T>(
        &mut self,
        found: Vec<T>,
        more: u64,
        finding: impl Fn(&T) -> &Finding,
    ) -> Vec<T> {
        self.more += more;
        let mut kept = Vec::with_capacity(found.len());
        for f in found {
            let n = self
                .seen
                .entry(finding(&f).fingerprint.clone())
                .or_default();
            if *n >= MAX_PER_SECRET || self.listed >= MAX_PER_BLOB {
                self.more += 1;
                continue;
            }
            *n += 1;
            self.listed += 1;
            kept.push(f);
        }
        kept
    }
}

impl Members {
    /// Count the members and name the skipped ones, under the blob's name `what`.
    pub fn record(&self, what: &str, limits: &Limits, stats: &Stats) {
        stats.add_files(self.files, self.bytes);
        if self.more > 0 {
            stats.skip(
                what,
                SkipReason::NotListed { more: self.more },
                limits.max_file_size,
            );
        }
        for (suffix, reason) in &self.skipped {
            stats.skip(
                &format!("{what}{suffix}"),
                reason.clone(),
                limits.max_file_size,
            );
        }
    }

    /// The findings, seen in the blob at `outer`.
    pub fn findings_at(&self, outer: &Provenance) -> Vec<Finding> {
        self.findings
            .iter()
            .map(|(suffix, f)| Finding {
                provenance: outer.inside(suffix),
                ..f.clone()
            })
            .collect()
    }
}

/// Scan one blob: [`inspect`] it, count it (or name it as skipped), run the detector; each
/// finding carries `provenance` (with an archive member's or notebook cell's suffix) and, from
/// git sources, the blob id.
pub fn scan_blob(
    detector: &Detector,
    bytes: &[u8],
    provenance: &Provenance,
    blob: Option<&str>,
    limits: &Limits,
    stats: &Stats,
) -> Vec<Finding> {
    let mut found = match inspect(detector, bytes, limits) {
        Inspected::Text(text) => {
            stats.add_file(text.len());
            let (found, more) = locate::findings_counted(detector, &text, provenance, None);
            if more > 0 {
                stats.skip(
                    provenance.path(),
                    SkipReason::NotListed { more },
                    limits.max_file_size,
                );
            }
            found
        }
        Inspected::Runs(runs) => {
            stats.add_file(bytes.len());
            let (found, more) = binary_findings(detector, bytes, &runs, provenance, None);
            if more > 0 {
                stats.skip(
                    provenance.path(),
                    SkipReason::NotListed { more },
                    limits.max_file_size,
                );
            }
            found
        }
        Inspected::Members(members) => {
            members.record(provenance.path(), limits, stats);
            members.findings_at(provenance)
        }
    };
    if let Some(id) = blob {
        for f in &mut found {
            f.blob = Some(id.to_string());
        }
    }
    found
}

/// Text in UTF-16 (a byte-order mark says so, as PowerShell and some Windows editors write it)
/// decoded to UTF-8, so its keys are found. A mark alone is not enough: `FF FE` also starts
/// Latin-1 text, so the first block must hold the NULs of ASCII in UTF-16 too.
pub fn decode_utf16(bytes: &[u8]) -> Option<Vec<u8>> {
    let little = match bytes {
        [0xFF, 0xFE, ..] => true,
        [0xFE, 0xFF, ..] => false,
        _ => return None,
    };
    if !is_binary(bytes) {
        return None;
    }
    let units = bytes[2..].chunks_exact(2).map(|c| {
        if little {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    let text: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    Some(text.into_bytes())
}

/// True when the first bytes hold a NUL: the file is binary.
pub fn is_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(BINARY_SNIFF)]).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_with_a_bom_is_decoded() {
        let mut le = vec![0xFF, 0xFE];
        le.extend("key=sk".encode_utf16().flat_map(|u| u.to_le_bytes()));
        assert_eq!(decode_utf16(&le).unwrap(), b"key=sk");
        let mut be = vec![0xFE, 0xFF];
        be.extend("ab".encode_utf16().flat_map(|u| u.to_be_bytes()));
        assert_eq!(decode_utf16(&be).unwrap(), b"ab");
        assert!(decode_utf16(b"plain").is_none());
        assert!(decode_utf16(b"\xff\xfe latin-1 text").is_none());
    }

    #[test]
    fn binary_sniff() {
        assert!(is_binary(b"abc\0def"));
        assert!(!is_binary(b"plain text\n"));
    }
}
