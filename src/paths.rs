//! Paths the policy and the sources share. [`PathFilter`]: the path exclusions (`[allow] paths`
//! and `.keyhoundignore`, gitignore syntax) anchored at one folder, shared by the policy, which
//! decides with it, and the walk, which prunes excluded folders with the same value before
//! reading them. [`Pinned`]: where a range audit reads one policy file from (the base
//! revision's text, or disk), as history's `BaseFiles` finds it and the policy reads it. A leaf:
//! it does not read config files (`crate::policy` builds and reads from these values).

use std::path::{Path, PathBuf};

use ignore::gitignore::Gitignore;

/// Path exclusions (`[allow] paths` and `.keyhoundignore`), anchored at one folder. Cheap to
/// clone and shareable with the walker's threads.
#[derive(Debug, Clone)]
pub struct PathFilter {
    root: PathBuf,
    cwd: PathBuf,
    matcher: Gitignore,
}

impl PathFilter {
    /// The exclusions `matcher` holds, its patterns relative to `root`; relative paths asked
    /// about are relative to `cwd`.
    pub fn new(root: PathBuf, cwd: PathBuf, matcher: Gitignore) -> PathFilter {
        PathFilter { root, cwd, matcher }
    }

    /// True when `path` (relative to the current directory, or absolute) is excluded. A path
    /// outside the anchor folder is never excluded.
    pub fn excludes(&self, path: &Path, is_dir: bool) -> bool {
        let abs = if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.cwd.join(path)
        };
        // `..` is resolved in the path's own words (issue 19 item 18): `src/../secrets.env` is
        // `secrets.env`, which `src/**` must not allow (nor `/secrets.env` miss), and
        // `docs/examples/../../secrets.env` must not pass for `docs/examples/**`. `./` goes
        // too: `docs/./a.md` (a walk from `.`) is `docs/a.md`.
        let mut parts: Vec<std::path::Component> = Vec::new();
        for part in abs.components() {
            match part {
                std::path::Component::ParentDir => {
                    if matches!(parts.last(), Some(std::path::Component::Normal(_))) {
                        parts.pop();
                    }
                }
                std::path::Component::CurDir => {}
                other => parts.push(other),
            }
        }
        let abs: PathBuf = parts.into_iter().collect();
        let Ok(rel) = abs.strip_prefix(&self.root) else {
            return false;
        };
        let rel = rel.to_path_buf();
        if rel.as_os_str().is_empty() {
            return false;
        }
        self.matcher
            .matched_path_or_any_parents(&rel, is_dir)
            .is_ignore()
    }
}

/// Where a range audit reads one policy file from (`path`s are relative to the repository).
#[derive(Debug, PartialEq, Eq)]
pub enum Pinned {
    /// As the base revision has it; `origin` names it (`BASE:path`), `changed` when the range
    /// changes it.
    Base {
        path: String,
        origin: String,
        text: String,
        changed: bool,
    },
    /// The range adds it (the base has no such file): `path` relative to the repository.
    Added { path: String },
    /// The base has no such file, nor does the range: `path` names it relative to the
    /// repository. A file the range deletes is `Base`.
    Absent { path: String },
    /// Outside the repository, or untracked (the CI job's own file): read from disk.
    Disk(PathBuf),
}
