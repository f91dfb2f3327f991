//! [`BaseFiles`]: where a `--range A..B` audit reads the files that decide what it reports
//! (`.keyhound.toml`, `.keyhoundignore`, the baseline, and the files named by `--config`,
//! `--rules-from`, `--baseline` and the config's `rules_from`), so a pull request cannot
//! allow-list its own keys (issue 7; issue 19 item 2 for the files named on the command line,
//! which CI jobs point at the repository's own files). A file inside the repository is read as
//! the base revision A has it (`Pinned::Base`); one the range adds is not used
//! (`Pinned::Added`); one outside the repository, or in none of its commits in question (a
//! file the CI job wrote), is read from disk (`Pinned::Disk`). It does not parse these files
//! (see `crate::policy`, `crate::config`, `crate::baseline`).

use std::path::{Path, PathBuf};

use git2::{Oid, Repository};

use super::{git_err, open, parse_range, HistoryError};
use crate::paths::Pinned;

/// The trees a range audit reads its policy files from.
#[derive(Debug)]
pub(crate) struct BaseFiles {
    /// The base revision as given.
    pub base: String,
    /// The folder paths in the trees are relative to (the work tree's top; a bare repository's
    /// folder), as libgit2 names it and with symbolic links resolved.
    tops: Vec<PathBuf>,
    base_tree: Oid,
    /// The range's head, and the commit checked out (when it differs): a file either has is
    /// the pull request's, not the CI job's.
    head_trees: Vec<Oid>,
    git_dir: PathBuf,
}

impl BaseFiles {
    /// Open the repository at `repo_path` and resolve the ends of `range` (`A..B`).
    pub(crate) fn read(repo_path: &Path, range: &str) -> Result<BaseFiles, HistoryError> {
        let repo = open(repo_path)?;
        let (from, to) = parse_range(&repo, range)?;
        let base_tree = from.peel_to_tree().map_err(git_err("base revision"))?.id();
        let mut head_trees = vec![to.peel_to_tree().map_err(git_err("head revision"))?.id()];
        if let Ok(tree) = repo.head().and_then(|h| h.peel_to_tree()) {
            if !head_trees.contains(&tree.id()) {
                head_trees.push(tree.id());
            }
        }
        let top = repo.workdir().unwrap_or(repo.path());
        let mut tops = vec![std::path::absolute(top).unwrap_or_else(|_| top.to_path_buf())];
        if let Ok(real) = std::fs::canonicalize(top) {
            if !tops.contains(&real) {
                tops.push(real);
            }
        }
        Ok(BaseFiles {
            base: range.split("..").next().unwrap_or(range).to_string(),
            tops,
            base_tree,
            head_trees,
            git_dir: repo.path().to_path_buf(),
        })
    }

    /// Where to read `path` (absolute, or relative to the current directory) from.
    pub(crate) fn pin(&self, path: &Path) -> Result<Pinned, String> {
        let Some(rel) = self.inside(path) else {
            return Ok(Pinned::Disk(path.to_path_buf()));
        };
        let repo = Repository::open(&self.git_dir).map_err(|e| e.message().to_string())?;
        let blob_at = |tree: Oid| -> Option<Oid> {
            let tree = repo.find_tree(tree).ok()?;
            let entry = tree.get_path(&rel).ok()?;
            (entry.kind() == Some(git2::ObjectType::Blob)).then(|| entry.id())
        };
        let name = rel.display().to_string();
        let heads: Vec<Option<Oid>> = self.head_trees.iter().map(|&t| blob_at(t)).collect();
        match blob_at(self.base_tree) {
            Some(id) => {
                let blob = repo.find_blob(id).map_err(|e| e.message().to_string())?;
                Ok(Pinned::Base {
                    path: name.clone(),
                    origin: format!("{}:{name}", self.base),
                    text: String::from_utf8_lossy(blob.content()).into_owned(),
                    changed: heads.iter().any(|h| *h != Some(id)),
                })
            }
            None if heads.iter().any(Option::is_some) => Ok(Pinned::Added { path: name }),
            None if path.exists() => Ok(Pinned::Disk(path.to_path_buf())),
            None => Ok(Pinned::Absent { path: name }),
        }
    }

    /// `path` relative to the repository's top, when it is inside it. Judged on the path as
    /// named (made absolute, `.` and `..` resolved by name), so a symbolic link the pull
    /// request commits in place of a policy file does not lead the read elsewhere; only when
    /// that is not inside is the folder's real path tried (a work tree reached through a
    /// linked folder).
    fn inside(&self, path: &Path) -> Option<PathBuf> {
        let abs = std::path::absolute(path).ok()?;
        let mut named = PathBuf::new();
        for c in abs.components() {
            match c {
                std::path::Component::ParentDir => {
                    named.pop();
                }
                std::path::Component::CurDir => {}
                c => named.push(c),
            }
        }
        let real = || {
            let dir = std::fs::canonicalize(named.parent()?).ok()?;
            Some(dir.join(named.file_name()?))
        };
        let rel = self
            .tops
            .iter()
            .find_map(|top| named.strip_prefix(top).ok().map(Path::to_path_buf))
            .or_else(|| {
                let real = real()?;
                self.tops
                    .iter()
                    .find_map(|top| real.strip_prefix(top).ok().map(Path::to_path_buf))
            })?;
        // `.git/...` is no tracked file.
        if rel.as_os_str().is_empty() || rel.starts_with(".git") {
            return None;
        }
        Some(rel)
    }
}
