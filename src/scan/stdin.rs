//! The standard-input source: `keyhound scan -` reads everything from stdin and scans it as one
//! blob named `-`.

use std::io::Read;

use super::{findings_in, Stats};
use crate::detect::Detector;
use crate::finding::{Finding, Provenance};

/// Read stdin to the end (up to `max` bytes) and scan it.
pub fn scan(detector: &Detector, stats: &Stats, max: u64) -> std::io::Result<Vec<Finding>> {
    let mut bytes = Vec::new();
    std::io::stdin().lock().take(max).read_to_end(&mut bytes)?;
    stats.add_file(bytes.len());
    Ok(findings_in(detector, &bytes, &Provenance::Stdin))
}
