//! The working-tree source: a parallel walk (the `ignore` crate) that respects `.gitignore` and
//! `.ignore`, skips (and names) what the policy's `.keyhoundignore` and `[allow] paths` exclude,
//! scans hidden files, never follows symlinks (not even one named on the command line), skips
//! `.git`, and hands each file's bytes to the detector: a file over the size limit in windows
//! ([`large`]), a binary file as its printable runs.
//! One unreadable file is a diagnostic, not the end of the scan.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};

use super::{large, scan_blob, Limits, SkipReason, Stats};
use crate::detect::Detector;
use crate::diag;
use crate::finding::{Finding, Provenance};
use crate::policy::PathFilter;

/// What a tree scan is asked (`keyhound scan PATH... --no-ignore`): built once from the command
/// line and carried unchanged to the walk.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Files and folders to scan; none: the current directory.
    pub paths: Vec<PathBuf>,
    /// `--no-ignore`: every path is walked and reported (no ignore files, no `[allow] paths`).
    pub no_ignore: bool,
}

/// What to walk and how.
#[derive(Debug, Clone)]
pub struct WalkOptions<'a> {
    pub request: &'a Request,
    /// Paths are reported relative to this directory when they are under it.
    pub root: PathBuf,
    pub limits: Limits,
    pub threads: usize,
    /// The policy's path exclusions (`[allow] paths`, `.keyhoundignore`): skipped unread, and
    /// named in the stats.
    pub exclude: Option<PathFilter>,
}

/// Walk every path and return the findings (unsorted).
pub fn scan(detector: &Detector, opts: &WalkOptions, stats: &Stats) -> Vec<Finding> {
    let findings = Mutex::new(Vec::new());
    // Paths given by name are not seen by the walker's filter: the policy is checked here (the
    // pre-commit framework passes every file by name).
    let here = [PathBuf::from(".")];
    let given = match opts.request.paths.as_slice() {
        [] => &here[..],
        paths => paths,
    };
    let mut paths = Vec::with_capacity(given.len());
    for p in given {
        // A link named on the command line is not followed, as the walk follows none (issue
        // 19 item 18): `keyhound scan $(git ls-files)` must not read a committed link to
        // `~/.aws/credentials`. A trailing `/` (`link/`) names the folder it points to.
        if p.symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
        {
            diag::note(&format!(
                "{}: a symbolic link, not followed (name its target to scan it)",
                display_path(&opts.root, p)
            ));
            continue;
        }
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
    if opts.request.no_ignore {
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

/// Scan one regular file; problems become diagnostics. A file over `--max-file-size` is
/// scanned in windows ([`large::scan_stream`]), unless it is an archive (which is noted as too
/// large, as archives are expanded in memory).
pub fn scan_file(
    detector: &Detector,
    opts: &WalkOptions,
    stats: &Stats,
    path: &Path,
) -> Vec<Finding> {
    let shown = display_path(&opts.root, path);
    let cannot = |err: std::io::Error| {
        diag::warn(&format!("{shown}: cannot read: {err}"));
        stats.error();
        Vec::new()
    };
    let size = match path.metadata() {
        Ok(m) => m.len(),
        Err(err) => return cannot(err),
    };
    let provenance = Provenance::File {
        path: shown.clone(),
    };
    if size > opts.limits.max_file_size {
        let streamed = std::fs::File::open(path).and_then(|mut file| {
            large::scan_stream(detector, &mut file, &provenance, &opts.limits, stats)
        });
        return match streamed {
            Ok(large::Streamed::Scanned { findings, .. }) => findings,
            Ok(large::Streamed::Archive) => {
                opts.limits.over(&shown, size, stats);
                Vec::new()
            }
            Err(err) => cannot(err),
        };
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(err) => return cannot(err),
    };
    scan_blob(detector, &bytes, &provenance, None, &opts.limits, stats)
}

/// `path` relative to `root` with `/` separators, or as given when it is outside `root`.
pub fn display_path(root: &Path, path: &Path) -> String {
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
