//! [`Seen`]: the trees and blobs attribution has already met, so each is visited or sent once.
//! Keyed by object id, or by (id, path) with `--all-occurrences`. [`Seen::mark`] records a tree
//! as known without sending anything (the base of a range, commits older than `--since`). It
//! reads trees only, and sends nothing itself (see `attribute`).

use std::collections::HashSet;

use git2::{ObjectType, Oid, Repository};

/// Trees and blobs already seen, keyed by id, and by path too with `all_occurrences`.
pub(super) struct Seen {
    pub trees: HashSet<(Oid, String)>,
    pub blobs: HashSet<(Oid, String)>,
    pub by_path: bool,
}

impl Seen {
    pub fn key(&self, path: &str) -> String {
        if self.by_path {
            path.to_string()
        } else {
            String::new()
        }
    }

    /// True when the tree was not seen before.
    pub fn tree(&mut self, id: Oid, path: &str) -> bool {
        let key = self.key(path);
        self.trees.insert((id, key))
    }

    /// True when the blob was not seen before.
    pub fn blob(&mut self, id: Oid, path: &str) -> bool {
        let key = self.key(path);
        self.blobs.insert((id, key))
    }

    /// Mark everything in `root` as seen without sending it. A subtree seen before is skipped
    /// whole: it was marked (or sent) in full when first seen, so its blobs are known already.
    /// Without this, `--since` walked every old commit's entire tree (issue 10, #17 there).
    pub fn mark(&mut self, repo: &Repository, root: git2::Tree<'_>) {
        if !self.tree(root.id(), "") {
            return;
        }
        let mut stack = vec![(root, String::new())];
        while let Some((tree, prefix)) = stack.pop() {
            for entry in tree.iter() {
                // Paths matter only when keyed by path; skip building them otherwise.
                let path = if self.by_path {
                    join(&prefix, entry.name_bytes())
                } else {
                    String::new()
                };
                match entry.kind() {
                    Some(ObjectType::Tree) if self.tree(entry.id(), &path) => {
                        if let Ok(sub) = repo.find_tree(entry.id()) {
                            stack.push((sub, path));
                        }
                    }
                    Some(ObjectType::Blob) => {
                        self.blob(entry.id(), &path);
                    }
                    _ => {}
                }
            }
        }
    }
}

pub(super) fn join(prefix: &str, name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    if prefix.is_empty() {
        name.into_owned()
    } else {
        format!("{prefix}/{name}")
    }
}
