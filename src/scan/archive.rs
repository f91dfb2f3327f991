//! Archives, recognised by their first bytes rather than their name: zip (and what is a zip
//! inside: jar, war, whl, apk, nupkg, docx), gzip (`.gz`, and `.tar.gz`/`.tgz` as one
//! archive), and tar (ustar and GNU). [`expand`] scans every member in memory, nothing is
//! written to disk, and names it by the archive's path plus `!member` (`a.zip!b.tar.gz!c.env`).
//! Archives inside archives are expanded down to `--archive-depth` levels.
//!
//! Hostile archives (zip bombs) meet limits, each a named note in the skipped list
//! ([`SkipReason::ArchiveLimit`]), never an error: the depth; [`MAX_ENTRIES`] members per
//! archive; the bytes inflated for one top-level archive (four times `--max-file-size`,
//! counted as they are produced, so a member's declared size is never trusted); each member's
//! size (`--max-file-size`, as for a file); and the inflation ratio of a member past 1 MiB.
//! Memory stays at one member per level, and a member's buffer grows as it is read instead of
//! being allocated from the size its header declares, which is never trusted (issue 19 item
//! 10): a member cut short by damage (a bad CRC or gzip trailer) or a limit is scanned for
//! what inflated, and named. Binary members (class files) are scanned by their printable runs.
//! The findings of one archive are capped as one blob's ([`Cap`]).
//!
//! It does not decide whether a blob is an archive by its name, and it does not read encrypted
//! members or compression methods other than stored and deflate (a note names them).

use std::cell::Cell;
use std::io::{Cursor, Read};
use std::rc::Rc;

use super::{decode, notebook, Cap, Limits, Members, SkipReason};
use crate::detect::{locate, Detector};
use crate::finding::Provenance;

/// Members read from one archive at most; the rest is a note.
pub const MAX_ENTRIES: usize = 20_000;
/// Bytes inflated for one top-level archive, in multiples of `--max-file-size`.
const INFLATED_PER_MAX_FILE_SIZE: u64 = 4;
/// A stream that has produced this many bytes...
const RATIO_FLOOR: u64 = 1 << 20;
/// ...may not have produced more than this many per compressed byte. Deflate cannot do better
/// than about 1032:1; text compresses 3 to 20 times, repetitive logs rarely past 100.
const MAX_RATIO: u64 = 250;
/// Skipped members named per top-level archive; the rest are counted in the notes of a kind.
const MAX_NAMED: usize = 50;

/// What kind of archive a blob is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zip,
    Gzip,
    Tar,
}

/// The archive kind of `bytes`, by magic number: `PK\3\4` (or the end record of an empty zip),
/// `1F 8B`, `ustar` at offset 257.
pub fn kind(bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        Some(Kind::Zip)
    } else if bytes.starts_with(&[0x1f, 0x8b]) {
        Some(Kind::Gzip)
    } else if bytes.get(257..262) == Some(b"ustar") {
        Some(Kind::Tar)
    } else {
        None
    }
}

/// What a limit's name means, for notes.
pub fn limit_text(limit: &str) -> &'static str {
    match limit {
        "depth" => "archives nested deeper than --archive-depth are not opened",
        "entries" => "members past the first 20000 are not read",
        "inflated_size" => {
            "one archive inflates to at most 4 times --max-file-size; the rest is not read"
        }
        "ratio" => "a member inflating more than 250 times past 1 MiB is a zip bomb",
        _ => "see --archive-depth",
    }
}

/// Expand the archive `bytes` of `kind` and scan its members.
pub fn expand(detector: &Detector, bytes: &[u8], kind: Kind, limits: &Limits) -> Members {
    let mut ex = Expander {
        detector,
        limits,
        guard: Rc::new(Guard {
            budget: Cell::new(
                limits
                    .max_file_size
                    .saturating_mul(INFLATED_PER_MAX_FILE_SIZE),
            ),
            tripped: Cell::new(None),
        }),
        out: Members::default(),
        named: Vec::new(),
        cap: Cap::default(),
    };
    ex.archive(bytes, kind, "", 1);
    ex.out.more = ex.cap.more;
    ex.out
}

/// The inflated-bytes budget of one top-level archive, and which limit stopped a stream.
struct Guard {
    budget: Cell<u64>,
    tripped: Cell<Option<&'static str>>,
}

/// A decompressing reader under the [`Guard`]: it fails once the archive's budget is spent or
/// the stream inflates past [`MAX_RATIO`] of the compressed bytes `input` says were consumed.
struct Guarded<R> {
    inner: R,
    guard: Rc<Guard>,
    out: u64,
    input: Rc<Cell<u64>>,
}

impl<R: Read> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(limit) = self.guard.tripped.get() {
            return Err(std::io::Error::other(limit));
        }
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        let left = self.guard.budget.get();
        let trip = if n as u64 > left {
            Some("inflated_size")
        } else if self.out > RATIO_FLOOR && self.out > MAX_RATIO.saturating_mul(self.input.get()) {
            Some("ratio")
        } else {
            None
        };
        self.guard.budget.set(left.saturating_sub(n as u64));
        if let Some(limit) = trip {
            self.guard.tripped.set(Some(limit));
            return Err(std::io::Error::other(limit));
        }
        Ok(n)
    }
}

/// Counts the compressed bytes a decoder consumed.
struct Counting<'a> {
    inner: &'a [u8],
    count: Rc<Cell<u64>>,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Why a member was not read to its end.
enum Stop {
    TooLarge(u64),
    Limit(&'static str),
    Unreadable(String),
}

struct Expander<'a> {
    detector: &'a Detector,
    limits: &'a Limits,
    guard: Rc<Guard>,
    out: Members,
    /// Limits already named in this top-level archive (each is named once).
    named: Vec<String>,
    /// The findings listed for the whole archive (issue 19 item 11).
    cap: Cap,
}

impl Expander<'_> {
    fn archive(&mut self, bytes: &[u8], kind: Kind, prefix: &str, depth: u32) {
        match kind {
            Kind::Zip => self.zip(bytes, prefix, depth),
            Kind::Gzip => self.gzip(bytes, prefix, depth),
            Kind::Tar => self.tar(Cursor::new(bytes), prefix, depth),
        }
    }

    /// Whether the expansion must stop: the budget is spent.
    fn spent(&self) -> bool {
        self.guard.tripped.get() == Some("inflated_size")
    }

    fn skip(&mut self, suffix: &str, reason: SkipReason) {
        if let SkipReason::ArchiveLimit { limit } = &reason {
            if self.named.contains(limit) {
                return;
            }
            self.named.push(limit.clone());
        }
        if self.out.skipped.len() < MAX_NAMED {
            self.out.skipped.push((suffix.to_string(), reason));
        }
    }

    fn stop(&mut self, suffix: &str, stop: Stop) {
        if matches!(stop, Stop::Limit("ratio")) {
            // The ratio stops one stream (a zip member, a gzip stream), not the archive.
            self.guard.tripped.set(None);
        }
        let reason = match stop {
            Stop::TooLarge(size) => SkipReason::TooLarge { size },
            Stop::Limit(limit) => SkipReason::ArchiveLimit {
                limit: limit.to_string(),
            },
            Stop::Unreadable(why) => SkipReason::ArchiveUnreadable { why },
        };
        self.skip(suffix, reason);
    }

    /// Read a member to its end, within the size limit: its bytes, and what stopped it before
    /// its end, if anything. A member's declared size is never trusted (issue 19 item 10: a
    /// zip may declare 30 MB for 180 bytes): only the bytes that inflate count, and what
    /// inflated before damage or a limit is kept.
    fn read(&self, r: &mut dyn Read) -> (Vec<u8>, Option<Stop>) {
        let max = self.limits.max_file_size;
        let mut buf = Vec::with_capacity(64 << 10);
        match r.take(max + 1).read_to_end(&mut buf) {
            Ok(_) if buf.len() as u64 > max => {
                let n = buf.len() as u64;
                (Vec::new(), Some(Stop::TooLarge(n)))
            }
            Ok(_) => (buf, None),
            Err(e) => {
                let stop = match self.guard.tripped.get() {
                    Some(limit) => Stop::Limit(limit),
                    None => Stop::Unreadable(one_line(&e.to_string())),
                };
                (buf, Some(stop))
            }
        }
    }

    /// A member read to its end is scanned; one cut short by damage or a limit too, for what
    /// inflated (a bad CRC or gzip trailer comes after every byte did), and named in a note.
    fn read_member(&mut self, suffix: &str, (bytes, stop): (Vec<u8>, Option<Stop>), depth: u32) {
        let stop = match stop {
            None => return self.member(suffix, &bytes, depth),
            Some(Stop::TooLarge(n)) => return self.stop(suffix, Stop::TooLarge(n)),
            Some(stop) if bytes.is_empty() => return self.stop(suffix, stop),
            Some(stop) => stop,
        };
        let n = bytes.len();
        self.member(suffix, &bytes, depth);
        self.stop(
            suffix,
            match stop {
                Stop::Unreadable(why) => Stop::Unreadable(format!(
                    "damaged ({why}); the {n} bytes that inflated were scanned"
                )),
                other => other,
            },
        );
    }

    /// One member's content: an archive goes one level deeper (or is noted at the depth limit),
    /// a notebook is read by cell, text goes to the detector, binary is passed over.
    fn member(&mut self, suffix: &str, bytes: &[u8], depth: u32) {
        if let Some(kind) = kind(bytes) {
            if depth >= self.limits.archive_depth {
                self.skip(
                    suffix,
                    SkipReason::ArchiveLimit {
                        limit: "depth".into(),
                    },
                );
            } else {
                self.archive(bytes, kind, suffix, depth + 1);
            }
            return;
        }
        if let Some(cells) = notebook::scan(self.detector, bytes) {
            self.out.files += cells.files;
            self.out.bytes += cells.bytes;
            let found = cells
                .findings
                .into_iter()
                .map(|(cell, f)| (format!("{suffix}{cell}"), f))
                .collect();
            let kept = self.cap.admit(found, cells.more, |(_, f)| f);
            self.out.findings.extend(kept);
            return;
        }
        self.out.files += 1;
        let placeholder = Provenance::Unreachable {
            path: String::new(),
        };
        let (found, more) = match decode(bytes, self.limits) {
            Some(text) => {
                self.out.bytes += text.len() as u64;
                locate::findings_counted(self.detector, &text, &placeholder, None)
            }
            None => {
                // A binary member (a class file, a compiled module): its printable runs.
                self.out.bytes += bytes.len() as u64;
                let runs = super::large::runs(self.detector, bytes, false, false);
                super::binary_findings(self.detector, bytes, &runs, &placeholder, None)
            }
        };
        let found = found.into_iter().map(|f| (suffix.to_string(), f)).collect();
        let kept = self.cap.admit(found, more, |(_, f)| f);
        self.out.findings.extend(kept);
    }

    fn zip(&mut self, bytes: &[u8], prefix: &str, depth: u32) {
        let mut zip = match zip::ZipArchive::new(Cursor::new(bytes)) {
            Ok(z) => z,
            Err(e) => {
                return self.stop(prefix, Stop::Unreadable(format!("not a readable zip: {e}")))
            }
        };
        for i in 0..zip.len() {
            if self.spent() {
                return;
            }
            if i == MAX_ENTRIES {
                return self.stop(prefix, Stop::Limit("entries"));
            }
            let name = zip
                .name_for_index(i)
                .map(member_name)
                .unwrap_or_else(|| format!("#{i}"));
            let suffix = format!("{prefix}!{name}");
            let read = match zip.by_index(i) {
                Ok(file) if file.is_dir() => continue,
                Ok(file) => {
                    let input = Rc::new(Cell::new(file.compressed_size()));
                    let mut guarded = Guarded {
                        inner: file,
                        guard: Rc::clone(&self.guard),
                        out: 0,
                        input,
                    };
                    self.read(&mut guarded)
                }
                Err(zip::result::ZipError::UnsupportedArchive(why)) => {
                    (Vec::new(), Some(Stop::Unreadable(why.to_string())))
                }
                Err(e) => (Vec::new(), Some(Stop::Unreadable(one_line(&e.to_string())))),
            };
            self.read_member(&suffix, read, depth);
        }
    }

    /// A gzip stream: a tar inside is this same archive (`.tar.gz`); anything else is its one
    /// member, named by the file name the gzip header keeps (`!name`), or the archive's own
    /// path when it keeps none.
    fn gzip(&mut self, bytes: &[u8], prefix: &str, depth: u32) {
        let count = Rc::new(Cell::new(0));
        let decoder = flate2::read::MultiGzDecoder::new(Counting {
            inner: bytes,
            count: Rc::clone(&count),
        });
        let name = decoder.header().and_then(|h| h.filename()).map(member_name);
        let mut guarded = Guarded {
            inner: decoder,
            guard: Rc::clone(&self.guard),
            out: 0,
            input: count,
        };
        let suffix = match &name {
            Some(n) => format!("{prefix}!{n}"),
            None => prefix.to_string(),
        };
        // The first block tells a tar from anything else.
        let mut head = Vec::with_capacity(512);
        if let Err(e) = (&mut guarded).take(512).read_to_end(&mut head) {
            // A short member with a bad trailer ends here, every byte inflated.
            let stop = match self.guard.tripped.get() {
                Some(limit) => Stop::Limit(limit),
                None if head.is_empty() => {
                    Stop::Unreadable(format!("not a readable gzip: {}", one_line(&e.to_string())))
                }
                None => Stop::Unreadable(one_line(&e.to_string())),
            };
            return self.read_member(&suffix, (head, Some(stop)), depth);
        }
        let mut stream = Cursor::new(head).chain(guarded);
        let first = stream.get_ref().0.get_ref();
        if kind(first) == Some(Kind::Tar) {
            return self.tar(stream, prefix, depth);
        }
        let read = self.read(&mut stream);
        self.read_member(&suffix, read, depth);
    }

    fn tar(&mut self, reader: impl Read, prefix: &str, depth: u32) {
        let mut archive = tar::Archive::new(reader);
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => {
                return self.stop(
                    prefix,
                    Stop::Unreadable(format!("not a readable tar: {}", one_line(&e.to_string()))),
                )
            }
        };
        for (i, entry) in entries.enumerate() {
            if self.spent() {
                return;
            }
            if i == MAX_ENTRIES {
                return self.stop(prefix, Stop::Limit("entries"));
            }
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let stop = match self.guard.tripped.get() {
                        Some(limit) => Stop::Limit(limit),
                        None => Stop::Unreadable(format!(
                            "not a readable tar: {}",
                            one_line(&e.to_string())
                        )),
                    };
                    return self.stop(prefix, stop);
                }
            };
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = member_name(entry.path_bytes());
            let suffix = format!("{prefix}!{name}");
            let read = self.read(&mut entry);
            // A tar stream cannot resume after a failed read.
            let fatal = matches!(read.1, Some(Stop::Limit(_) | Stop::Unreadable(_)));
            self.read_member(&suffix, read, depth);
            if fatal {
                return;
            }
        }
    }
}

/// A member's name as shown: lossy UTF-8, control characters replaced so a name cannot drive
/// the terminal, `!` and `#` kept (they are legal in names; the first `!` after the archive's
/// path is the separator).
fn member_name(raw: impl AsRef<[u8]>) -> String {
    String::from_utf8_lossy(raw.as_ref())
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn one_line(s: &str) -> String {
    s.lines().collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_magic() {
        assert_eq!(kind(b"PK\x03\x04rest"), Some(Kind::Zip));
        assert_eq!(kind(b"PK\x05\x06"), Some(Kind::Zip));
        assert_eq!(kind(&[0x1f, 0x8b, 8, 0]), Some(Kind::Gzip));
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(kind(&tar), Some(Kind::Tar));
        assert_eq!(kind(b"PK is a word"), None);
        assert_eq!(kind(b""), None);
    }

    #[test]
    fn member_names_are_printable() {
        assert_eq!(member_name(b"a/b\x1b[31m.env"), "a/b?[31m.env");
        assert_eq!(member_name(b"ok.txt"), "ok.txt");
    }
}
