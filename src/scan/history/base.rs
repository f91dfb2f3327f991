//! [`BaseFiles`]: the files that decide what a `--range` audit reports (`.keyhound.toml`,
//! `.keyhoundignore`, the baseline), read as the base revision has them, so a pull request
//! cannot allow-list its own keys (issue 7). It reads these files and names those the range
//! changes; it does not parse them (see `crate::config`, `crate::baseline`).

use std::path::{Path, PathBuf};

use git2::{Oid, Repository};

use super::{git_err, open, parse_range, HistoryError};

/// The files that decide what is reported, as the base revision of a range has them.
#[derive(Debug, Default)]
pub struct BaseFiles {
    /// The base revision as given.
    pub base: String,
    pub config: Option<String>,
    pub ignore: Option<String>,
    /// Those of `.keyhound.toml`, `.keyhoundignore`, `.keyhound-baseline.json` the range changes.
    pub changed: Vec<String>,
    base_tree: Option<Oid>,
    git_dir: PathBuf,
}

impl BaseFiles {
    /// Read `.keyhound.toml` and `.keyhoundignore` from the base of `range` (`A..B`).
    pub fn read(repo_path: &Path, range: &str) -> Result<BaseFiles, HistoryError> {
        let repo = open(repo_path)?;
        let (from, to) = parse_range(&repo, range)?;
        let from_tree = from.peel_to_tree().map_err(git_err("base revision"))?;
        let to_tree = to.peel_to_tree().map_err(git_err("head revision"))?;
        let read = |tree: &git2::Tree, name: &str| -> Option<(Oid, String)> {
            let entry = tree.get_path(Path::new(name)).ok()?;
            let blob = repo.find_blob(entry.id()).ok()?;
            Some((
                entry.id(),
                String::from_utf8_lossy(blob.content()).into_owned(),
            ))
        };
        let mut changed = Vec::new();
        for name in [
            ".keyhound.toml",
            ".keyhoundignore",
            ".keyhound-baseline.json",
        ] {
            if read(&from_tree, name).map(|x| x.0) != read(&to_tree, name).map(|x| x.0) {
                changed.push(name.to_string());
            }
        }
        Ok(BaseFiles {
            base: range.split("..").next().unwrap_or(range).to_string(),
            config: read(&from_tree, ".keyhound.toml").map(|x| x.1),
            ignore: read(&from_tree, ".keyhoundignore").map(|x| x.1),
            changed,
            base_tree: Some(from_tree.id()),
            git_dir: repo.path().to_path_buf(),
        })
    }

    /// The text of the file at `path` (relative to the work tree, or absolute under
    /// `repo_root`) as the base revision has it; `None` when the base has no such file.
    pub fn file_text(&self, repo_root: &Path, path: &Path) -> Result<Option<String>, String> {
        let repo = Repository::open(&self.git_dir).map_err(|e| e.message().to_string())?;
        let Some(tree) = self.base_tree.and_then(|t| repo.find_tree(t).ok()) else {
            return Ok(None);
        };
        let rel = path.strip_prefix(repo_root).unwrap_or(path);
        let Ok(entry) = tree.get_path(rel) else {
            return Ok(None);
        };
        let blob = repo
            .find_blob(entry.id())
            .map_err(|e| e.message().to_string())?;
        Ok(Some(String::from_utf8_lossy(blob.content()).into_owned()))
    }
}
