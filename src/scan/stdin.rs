//! The standard-input source: `keyhound scan -` reads standard input and scans it as one blob
//! named `-`, under the same rules as a file: UTF-16 text is decoded, binary input is scanned as
//! its printable runs, and input over `--max-file-size` is scanned in windows
//! ([`large::scan_stream`]). Input that does not end (`< /dev/zero`, `yes |`) stops after
//! [`STDIN_WINDOWS`] windows, with a warning, and the scan is incomplete (issue 19 item 18).

use std::io::Read;

use super::{large, scan_blob, Limits, Stats};
use crate::detect::Detector;
use crate::diag;
use crate::finding::{Finding, Provenance};

/// Standard input is read to this many windows (`--max-file-size` each) at most: 400 MiB by
/// default.
pub const STDIN_WINDOWS: u64 = 16;

/// Read stdin and scan it.
pub fn scan(detector: &Detector, limits: &Limits, stats: &Stats) -> std::io::Result<Vec<Finding>> {
    let mut bytes = Vec::new();
    let mut input = std::io::stdin().lock();
    (&mut input)
        .take(limits.max_file_size.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 <= limits.max_file_size {
        return Ok(scan_blob(
            detector,
            &bytes,
            &Provenance::Stdin,
            None,
            limits,
            stats,
        ));
    }
    let most = STDIN_WINDOWS.saturating_mul(large::window(limits) as u64);
    let first = bytes.len() as u64;
    let mut stream = std::io::Cursor::new(bytes).chain((&mut input).take(most - first));
    let streamed = large::scan_stream(detector, &mut stream, &Provenance::Stdin, limits, stats)?;
    let findings = match streamed {
        large::Streamed::Scanned { findings, .. } => findings,
        large::Streamed::Archive => {
            // An archive is expanded in memory: over the limit it is not.
            let rest = std::io::copy(&mut stream, &mut std::io::sink())?;
            limits.over("-", first + rest, stats);
            Vec::new()
        }
    };
    if input.read(&mut [0u8; 1])? > 0 {
        diag::warn(&format!(
            "-: standard input stopped after {most} bytes ({STDIN_WINDOWS} windows of \
             --max-file-size); the rest was not scanned (raise --max-file-size, or scan a file)"
        ));
        stats.error();
    }
    Ok(findings)
}
