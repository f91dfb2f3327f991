//! Blobs too large to hold at once, and binary blobs (issue 19 item 12). A file over
//! `--max-file-size` is scanned in windows of that size ([`scan_stream`]), each overlapping the
//! next by [`OVERLAP`] bytes; a finding belongs to the window its first byte is in before the
//! overlap, so a key across a window's edge is found whole, once. Memory stays at one window.
//! A binary blob (a NUL in its first 8 KiB: a sqlite database, a `.pyc`, a bundle) is scanned
//! as its printable runs ([`printable_runs`]): each run of [`MIN_RUN`] printable characters or
//! more, a line of its own to the rules, the rest (the bulk of compiled code) never reaching the
//! detector; a finding is placed back at the blob's own offset, line and column.
//!
//! Archives keep their limits: one over `--max-file-size` is not expanded ([`Streamed::Archive`]:
//! the caller names it as too large), as its members are inflated in memory.

use std::io::Read;

use super::{decode_utf16, is_binary, Cap, Limits, SkipReason, Stats};
use crate::detect::{locate, Detector};
use crate::finding::{Finding, Provenance};

/// Bytes each window shares with the next: longer than any key a rule finds on one line, a PEM
/// block, and the context rules read before a key.
pub const OVERLAP: usize = 64 << 10;
/// Smallest window, whatever `--max-file-size` says.
const MIN_WINDOW: usize = 4 * OVERLAP;
/// Shortest run of printable characters in a binary blob that is scanned: shorter runs are
/// the noise of compressed or machine data (`strings` uses 4; a key and its name are longer).
pub const MIN_RUN: usize = 8;
/// How far before a window's first owned byte it starts, for the context of a key there.
const BACK: usize = 4 << 10;

/// What [`scan_stream`] did with a blob.
pub enum Streamed {
    /// Scanned: its findings and how many bytes were read.
    Scanned { findings: Vec<Finding>, bytes: u64 },
    /// An archive over the size limit: not expanded, nothing scanned.
    Archive,
}

/// The window size for `limits`.
pub fn window(limits: &Limits) -> usize {
    usize::try_from(limits.max_file_size)
        .unwrap_or(usize::MAX / 2)
        .max(MIN_WINDOW)
}

/// Read up to `want` more bytes into `buf`; false at the end of the input.
fn fill(input: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> std::io::Result<bool> {
    let target = buf.len() + want;
    while buf.len() < target {
        let n = input.take((target - buf.len()) as u64).read_to_end(buf)?;
        if n == 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Where a window starts in the whole blob: lines before it, and its first byte's column
/// (bytes and code points, 0-based) when it starts inside a line.
#[derive(Default, Clone, Copy)]
struct Origin {
    lines: usize,
    column: usize,
    chars: usize,
}

impl Origin {
    /// The origin of `bytes[at..]`, where `self` is the origin of `bytes`.
    fn advance(self, bytes: &[u8], at: usize) -> Origin {
        match memchr::memrchr(b'\n', &bytes[..at]) {
            Some(nl) => Origin {
                lines: self.lines + memchr::memchr_iter(b'\n', &bytes[..at]).count(),
                column: at - nl - 1,
                chars: chars(&bytes[nl + 1..at]),
            },
            None => Origin {
                lines: self.lines,
                column: self.column + at,
                chars: self.chars + chars(&bytes[..at]),
            },
        }
    }
}

/// Bytes that start a UTF-8 character (invalid bytes count one each), as `locate` counts them.
fn chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b as i8) >= -0x40).count()
}

/// Scan `input` in windows (see the module's doc): UTF-16 text (by its byte-order mark) is
/// decoded as it is read; binary input is scanned as its printable runs unless `--binary`.
/// Counts the blob in `stats`, and names it when findings were left out ([`Cap`]).
pub fn scan_stream(
    detector: &Detector,
    input: &mut dyn Read,
    provenance: &Provenance,
    limits: &Limits,
    stats: &Stats,
) -> std::io::Result<Streamed> {
    let size = window(limits);
    let mut buf = Vec::with_capacity(size);
    let mut more = fill(input, &mut buf, size)?;
    if limits.archive_depth > 0 && super::archive::kind(&buf).is_some() {
        return Ok(Streamed::Archive);
    }
    let mut utf16 = decode_utf16(&buf[..buf.len().min(super::BINARY_SNIFF)])
        .is_some()
        .then(|| Utf16::new(buf[0] == 0xFF));
    let binary = utf16.is_none() && !limits.binary && is_binary(&buf);
    if let Some(decoder) = &mut utf16 {
        buf = decoder.decode(&buf[2..], !more);
        while more && buf.len() < size {
            let mut raw = Vec::with_capacity(size - buf.len());
            more = fill(input, &mut raw, size - buf.len())?;
            buf.extend(decoder.decode(&raw, !more));
        }
    }
    let mut total = 0u64;
    let mut origin = Origin::default();
    let mut owned_from = 0;
    let mut cap = Cap::default();
    let mut findings = Vec::new();
    loop {
        let owned_to = if more { buf.len() - OVERLAP } else { buf.len() };
        let runs = binary.then(|| runs(detector, &buf, total > 0, more));
        let text: &[u8] = runs.as_ref().map_or(&buf[..], |r| &r.text[..]);
        let (found, left_out) = locate::findings_counted(detector, text, provenance, None);
        let lines = LineStarts::new(text);
        let map = |t: usize| runs.as_ref().map_or(t, |r| r.original(t));
        let found: Vec<Finding> = found
            .into_iter()
            .filter_map(|f| {
                let start = map(lines.offset(f.location.line, f.location.column));
                (owned_from..owned_to)
                    .contains(&start)
                    .then(|| place(f, &buf, &lines, origin, &map))
            })
            .collect();
        findings.extend(cap.admit(found, left_out, |f| f));
        if !more {
            total += owned_to as u64;
            break;
        }
        // The next window starts a little before its first owned byte, at a line's start when
        // one is near, so a key there has the context its rule reads before it.
        let floor = owned_to - BACK;
        let next = match memchr::memrchr(b'\n', &buf[floor..owned_to]) {
            Some(i) => floor + i + 1,
            None => floor,
        };
        origin = origin.advance(&buf, next);
        total += next as u64;
        owned_from = owned_to - next;
        buf.drain(..next);
        match &mut utf16 {
            Some(decoder) => {
                while more && buf.len() < size {
                    let mut raw = Vec::with_capacity(size - buf.len());
                    more = fill(input, &mut raw, size - buf.len())?;
                    buf.extend(decoder.decode(&raw, !more));
                }
            }
            None => {
                let want = size - buf.len();
                more = fill(input, &mut buf, want)?;
            }
        }
    }
    stats.add_file(0);
    stats
        .bytes
        .fetch_add(total, std::sync::atomic::Ordering::Relaxed);
    if cap.more > 0 {
        stats.skip(
            provenance.path(),
            SkipReason::NotListed { more: cap.more },
            limits.max_file_size,
        );
    }
    Ok(Streamed::Scanned {
        findings,
        bytes: total,
    })
}

/// Line starts of a window's text, to turn a finding's line and column back into an offset.
struct LineStarts(Vec<usize>);

impl LineStarts {
    fn new(text: &[u8]) -> LineStarts {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text).map(|i| i + 1));
        LineStarts(starts)
    }

    fn offset(&self, line: usize, column: usize) -> usize {
        self.0[line - 1] + column - 1
    }
}

/// A finding of a window's text placed in the whole blob: lines and columns counted in the
/// blob's own bytes (a binary blob's runs are lines of their own only to the rules).
fn place(
    mut f: Finding,
    bytes: &[u8],
    lines: &LineStarts,
    origin: Origin,
    map: &dyn Fn(usize) -> usize,
) -> Finding {
    let at = |line: usize, column: usize| -> (usize, usize, usize) {
        let offset = map(lines.offset(line, column));
        let from = memchr::memrchr(b'\n', &bytes[..offset]).map_or(0, |i| i + 1);
        let line = memchr::memchr_iter(b'\n', &bytes[..from]).count() + 1;
        let column = offset - from + 1;
        let chars = chars(&bytes[from..offset]) + 1;
        if line == 1 {
            (
                origin.lines + 1,
                column + origin.column,
                chars + origin.chars,
            )
        } else {
            (origin.lines + line, column, chars)
        }
    };
    let (line, column, char_column) = at(f.location.line, f.location.column);
    let (end_line, end_column, char_end_column) = at(f.location.end_line, f.location.end_column);
    f.location.line = line;
    f.location.column = column;
    f.location.char_column = char_column;
    f.location.end_line = end_line;
    f.location.end_column = end_column;
    f.location.char_end_column = char_end_column;
    f
}

/// [`place`] the findings of a whole binary blob's printable `runs`.
pub fn place_all(found: Vec<Finding>, bytes: &[u8], runs: &Runs) -> Vec<Finding> {
    if found.is_empty() {
        return found;
    }
    let lines = LineStarts::new(&runs.text);
    let map = |t: usize| runs.original(t);
    found
        .into_iter()
        .map(|f| place(f, bytes, &lines, Origin::default(), &map))
        .collect()
}

/// Decodes UTF-16 read in pieces: an odd byte or a lone high surrogate at a piece's end waits
/// for the next.
struct Utf16 {
    little: bool,
    pending: Vec<u8>,
}

impl Utf16 {
    fn new(little: bool) -> Utf16 {
        Utf16 {
            little,
            pending: Vec::new(),
        }
    }

    fn decode(&mut self, raw: &[u8], last: bool) -> Vec<u8> {
        self.pending.extend_from_slice(raw);
        let mut units: Vec<u16> = self
            .pending
            .chunks_exact(2)
            .map(|c| {
                if self.little {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        let mut keep = self.pending.len() % 2;
        if !last && units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)) {
            units.pop();
            keep += 2;
        }
        let rest = self.pending.split_off(self.pending.len() - keep);
        self.pending = rest;
        char::decode_utf16(units)
            .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect::<String>()
            .into_bytes()
    }
}

/// [`printable_runs`], with keys glued to the binary format cut loose ([`Detector::unglue`]).
pub fn runs(detector: &Detector, bytes: &[u8], continued: bool, cut: bool) -> Runs {
    let mut runs = printable_runs(bytes, continued, cut);
    detector.unglue(&mut runs.text);
    runs
}

/// The printable runs of a binary blob: their text, one run a line, and where each run starts
/// in the text and in the blob.
#[derive(Debug, Default)]
pub struct Runs {
    pub text: Vec<u8>,
    starts: Vec<(usize, usize)>,
}

impl Runs {
    /// The blob's offset of the text's offset `t`.
    pub fn original(&self, t: usize) -> usize {
        let i = self.starts.partition_point(|&(at, _)| at <= t);
        match i.checked_sub(1).map(|i| self.starts[i]) {
            Some((at, from)) => from + (t - at),
            None => t,
        }
    }
}

/// Printable ASCII: graphic characters, space, tab and line breaks.
const PRINTABLE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0x20;
    while b < 0x7f {
        t[b] = true;
        b += 1;
    }
    t[b'\t' as usize] = true;
    t[b'\n' as usize] = true;
    t[b'\r' as usize] = true;
    t
};

/// The runs of at least [`MIN_RUN`] printable characters (printable ASCII and UTF-8 sequences)
/// of binary `bytes`. A run touching the start (when `continued`) or the end (when `cut`) may go
/// on beyond this piece, so it is kept whatever its length.
pub fn printable_runs(bytes: &[u8], continued: bool, cut: bool) -> Runs {
    let mut runs = Runs::default();
    let n = bytes.len();
    let mut i = 0;
    while i < n {
        // Noise first: the bulk of compiled code, passed over in a tight loop.
        let start = match bytes[i..]
            .iter()
            .position(|&b| PRINTABLE[b as usize] || b >= 0xC2)
        {
            Some(p) => i + p,
            None => break,
        };
        i = start;
        let mut chars = 0;
        loop {
            let stop = bytes[i..]
                .iter()
                .position(|&b| !PRINTABLE[b as usize])
                .map_or(n, |p| i + p);
            chars += stop - i;
            i = stop;
            match (i < n).then(|| utf8_len(bytes, i)) {
                Some(len) if len > 0 => {
                    i += len;
                    chars += 1;
                }
                _ => break,
            }
        }
        if i == start {
            i += 1;
            continue;
        }
        if chars >= MIN_RUN || (start == 0 && continued) || (i == n && cut) {
            runs.starts.push((runs.text.len(), start));
            runs.text.extend_from_slice(&bytes[start..i]);
            runs.text.push(b'\n');
        }
    }
    runs
}

/// The length of the UTF-8 sequence of two bytes or more at `bytes[i]`, 0 when there is none.
fn utf8_len(bytes: &[u8], i: usize) -> usize {
    let n = match bytes[i] {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return 0,
    };
    match bytes.get(i..i + n) {
        Some(seq) if std::str::from_utf8(seq).is_ok() => n,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_runs_keep_long_runs_and_their_offsets() {
        let bytes = b"\x00\x01key=abcdefgh\x00ab\x00\x02\x03token_v\xc3\xa9lue\x00";
        let runs = printable_runs(bytes, false, false);
        assert_eq!(runs.text, "key=abcdefgh\ntoken_v\u{e9}lue\n".as_bytes());
        assert_eq!(runs.original(0), 2);
        assert_eq!(runs.original(4), 6);
        assert_eq!(runs.original(13), 20);
        // A short run at an edge of a piece may continue beyond it.
        assert_eq!(printable_runs(b"ab\x00cd", true, true).text, b"ab\ncd\n");
    }

    #[test]
    fn utf16_pieces_decode_as_a_whole() {
        let text = "a\u{1F600}b key";
        let raw: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        for cut in 0..raw.len() {
            let mut d = Utf16::new(true);
            let mut out = d.decode(&raw[..cut], false);
            out.extend(d.decode(&raw[cut..], true));
            assert_eq!(String::from_utf8(out).unwrap(), text, "cut at {cut}");
        }
    }
}
