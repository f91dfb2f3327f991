//! The standard-input source: `keyhound scan -` reads everything from stdin and scans it as one
//! blob named `-`, under the same rules as a file: over `--max-file-size` it is skipped with a
//! note, UTF-16 text is decoded, binary input is skipped unless `--binary`.

use std::io::Read;

use super::{scan_blob, Limits, Stats};
use crate::detect::Detector;
use crate::finding::{Finding, Provenance};

/// Read stdin to the end and scan it (nothing when it is over the size limit).
pub(crate) fn scan(
    detector: &Detector,
    limits: &Limits,
    stats: &Stats,
) -> std::io::Result<Vec<Finding>> {
    let mut bytes = Vec::new();
    let mut input = std::io::stdin().lock();
    (&mut input)
        .take(limits.max_file_size.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limits.max_file_size {
        // The whole size is unknown without reading it all; count what is left, in constant memory.
        let rest = std::io::copy(&mut input, &mut std::io::sink())?;
        limits.over("-", bytes.len() as u64 + rest, stats);
        return Ok(Vec::new());
    }
    Ok(scan_blob(
        detector,
        &bytes,
        &Provenance::Stdin,
        None,
        limits,
        stats,
    ))
}
