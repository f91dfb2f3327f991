//! The working-tree source: a parallel walk (the `ignore` crate) that respects `.gitignore` and
//! `.ignore`, skips (and names) what the policy's `.keyhoundignore` and `[allow] paths` exclude,
//! scans hidden files, never follows symlinks, skips `.git`,
//! binary files and files over the size limit, and hands each file's bytes to the detector.
//! One unreadable file is a diagnostic, not the end of the scan.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};

use super::{decode_utf16, is_binary, scan_blob, Limits, Stats, BINARY_SNIFF};
use crate::detect::Detector;
use crate::diag;
use crate::finding::{Finding, Provenance};
use crate::paths::PathFilter;
use crate::summary::SkipReason;

/// What to walk and how.
#[derive(Debug, Clone)]
pub(crate) struct WalkOptions {
    pub paths: Vec<PathBuf>,
    /// Paths are reported relative to this directory when they are under it.
    pub root: PathBuf,
    pub no_ignore: bool,
    pub limits: Limits,
    pub threads: usize,
    /// The policy's path exclusions (`[allow] paths`, `.keyhoundignore`): skipped unread, and
    /// named in the stats.
    pub exclude: Option<PathFilter>,
}

/// Walk every path and return the findings (unsorted).
pub(crate) fn scan(detector: &Detector, opts: &WalkOptions, stats: &Stats) -> Vec<Finding> {
    let findings = Mutex::new(Vec::new());
    // Paths given by name are not seen by the walker's filter: the policy is checked here (the
    // pre-commit framework passes every file by name).
    let mut paths = Vec::with_capacity(opts.paths.len());
    for p in &opts.paths {
        let is_dir = p.is_dir();
        match &opts.exclude {
            Some(filter) if filter.excludes(p, is_dir) => {
                let mut name = display_path(&opts.root, p);
                if is_dir {
                    name.push('/');
                }
                stats.skip(&name, SkipReason::Ignored, opts.limits.max_file_size);
            }
            _ => paths.push(p),
        }
    }
    let Some((first, rest)) = paths.split_first() else {
        return Vec::new();
    };
    let mut builder = WalkBuilder::new(first);
    for p in rest {
        builder.add(p);
    }
    builder
        .hidden(false)
        .follow_links(false)
        .require_git(false)
        .git_global(false)
        .threads(opts.threads);
    if opts.no_ignore {
        builder.standard_filters(false).hidden(false);
    }
    // `.keyhoundignore` (at the policy's root) and `[allow] paths` are the policy's, so what
    // they exclude is named in the report; `--no-ignore` lifts .gitignore, not the policy.
    let exclude = opts.exclude.clone();
    let ignored: std::sync::Arc<Mutex<Vec<String>>> = Default::default();
    let record = std::sync::Arc::clone(&ignored);
    let root = opts.root.clone();
    builder.filter_entry(move |entry| {
        if entry.file_name() == ".git" {
            return false;
        }
        let Some(filter) = &exclude else {
            return true;
        };
        let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
        if filter.excludes(entry.path(), is_dir) {
            let mut name = display_path(&root, entry.path());
            if is_dir {
                name.push('/');
            }
            record
                .lock()
                .expect("no thread panics while holding the lock")
                .push(name);
            return false;
        }
        true
    });
    builder.build_parallel().run(|| {
        let findings = &findings;
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    diag::warn(&format!("cannot read: {}", one_line(&err.to_string())));
                    stats.error();
                    return WalkState::Continue;
                }
            };
            let is_file = entry.file_type().is_some_and(|t| t.is_file());
            if !is_file {
                return WalkState::Continue;
            }
            let found = scan_file(detector, opts, stats, entry.path());
            if !found.is_empty() {
                findings
                    .lock()
                    .expect("no thread panics while holding the lock")
                    .extend(found);
            }
            WalkState::Continue
        })
    });
    for name in ignored
        .lock()
        .expect("no thread panics while holding the lock")
        .drain(..)
    {
        stats.skip(&name, SkipReason::Ignored, opts.limits.max_file_size);
    }
    findings
        .into_inner()
        .expect("no thread panics while holding the lock")
}

/// Scan one regular file; problems become diagnostics.
pub(crate) fn scan_file(
    detector: &Detector,
    opts: &WalkOptions,
    stats: &Stats,
    path: &Path,
) -> Vec<Finding> {
    let shown = display_path(&opts.root, path);
    let size = match path.metadata() {
        Ok(m) => m.len(),
        Err(err) => {
            diag::warn(&format!("{shown}: cannot read: {err}"));
            stats.error();
            return Vec::new();
        }
    };
    if opts.limits.over(&shown, size, stats) {
        return Vec::new();
    }
    let bytes = match read_text(path, size, &opts.limits) {
        Ok(Some(b)) => b,
        Ok(None) => {
            stats.skip(&shown, SkipReason::Binary, opts.limits.max_file_size);
            return Vec::new();
        }
        Err(err) => {
            diag::warn(&format!("{shown}: cannot read: {err}"));
            stats.error();
            return Vec::new();
        }
    };
    let provenance = Provenance::File { path: shown };
    // `read_text` already sniffed the first block for binary content (and stopped reading a
    // binary file there): sniffing it again would cost a second pass over 8 KiB of every file.
    // An archive's members are sniffed one by one, under the user's `--binary`.
    let sniffed = Limits {
        binary: opts.limits.binary || super::archive::kind(&bytes).is_none(),
        ..opts.limits
    };
    scan_blob(detector, &bytes, &provenance, None, &sniffed, stats)
}

/// Read a file, but stop after the first block when it is binary (`None`) and binary files are
/// not wanted: most of a tree's bytes can be compiled objects that are never scanned. An
/// archive is read whole (its members are scanned). UTF-16 decoding and the final binary check
/// are [`scan_blob`]'s, as for every source.
fn read_text(path: &Path, size: u64, limits: &Limits) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut bytes = Vec::with_capacity(size as usize + 1);
    if !limits.binary {
        (&mut file)
            .take(BINARY_SNIFF as u64)
            .read_to_end(&mut bytes)?;
        let archive = limits.archive_depth > 0 && super::archive::kind(&bytes).is_some();
        if !archive && is_binary(&bytes) && decode_utf16(&bytes).is_none() {
            return Ok(None);
        }
    }
    file.read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}

/// `path` relative to `root` with `/` separators, or as given when it is outside `root`.
pub(crate) fn display_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let rel = rel.strip_prefix("./").unwrap_or(rel);
    let s = rel.to_string_lossy();
    let s = if std::path::MAIN_SEPARATOR == '\\' {
        s.replace('\\', "/")
    } else {
        s.into_owned()
    };
    if s.is_empty() {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| ".".into())
    } else {
        s
    }
}

fn one_line(s: &str) -> String {
    s.lines().collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::display_path;
    use std::path::Path;

    #[test]
    fn display_paths() {
        assert_eq!(
            display_path(Path::new("/r"), Path::new("/r/a/b.txt")),
            "a/b.txt"
        );
        assert_eq!(display_path(Path::new("."), Path::new("./a.txt")), "a.txt");
        assert_eq!(
            display_path(Path::new("/r"), Path::new("/x/a.txt")),
            "/x/a.txt"
        );
        assert_eq!(
            display_path(Path::new("/r/f.env"), Path::new("/r/f.env")),
            "f.env"
        );
    }
}
