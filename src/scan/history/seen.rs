//! [`Seen`]: the trees and blobs attribution has already met, so each is visited or wanted once.
//! Keyed by object id, or by (id, path) with `--all-occurrences`. A path is built only when
//! it is needed: for the key, or for an object not seen before (on git/git attribution checks
//! some 60 million tree entries, and all but a few hundred thousand are known). Object ids are
//! hashes already, so the sets hash them by their first bytes ([`IdHash`]). [`Seen::mark`]
//! records a tree as known without wanting anything (the base of a range, commits older than
//! `--since`). It reads trees only (see `attribute`).

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use git2::{ObjectType, Oid, Repository};

/// A hasher for object ids: their first eight bytes, which are uniformly distributed already.
#[derive(Default)]
pub(super) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut head = [0u8; 8];
        let n = bytes.len().min(8);
        head[..n].copy_from_slice(&bytes[..n]);
        self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(head);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = self.0.rotate_left(5) ^ n;
    }
}

/// An object id as its bytes, for the sets attribution checks some 60 million times on
/// git/git: compared inline (`git2::Oid`'s equality is a call into libgit2, 4% of an audit's
/// CPU), hashed by its first eight bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Key([u8; 20]);

impl Key {
    fn of(id: Oid) -> Key {
        Key(id.as_bytes().try_into().expect("a SHA-1 object id"))
    }

    fn id(self) -> Oid {
        Oid::from_bytes(&self.0).expect("twenty bytes")
    }
}

impl std::hash::Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(u64::from_le_bytes(
            self.0[..8].try_into().expect("eight bytes"),
        ));
    }
}

/// Build [`IdHasher`]s.
pub(super) type IdHash = BuildHasherDefault<IdHasher>;

/// A set of object ids.
pub(super) type Ids = HashSet<Oid, IdHash>;

/// One set of seen objects: by id, or by id and path.
enum Keys {
    Ids(HashSet<Key, IdHash>),
    Paths(HashSet<(Key, Box<str>)>),
}

impl Keys {
    fn new(by_path: bool) -> Keys {
        if by_path {
            Keys::Paths(HashSet::new())
        } else {
            Keys::Ids(HashSet::default())
        }
    }

    /// True when `id` (at the path `path` gives) was not in the set; it is now.
    fn insert(&mut self, id: Oid, path: impl FnOnce() -> String) -> bool {
        match self {
            Keys::Ids(ids) => ids.insert(Key::of(id)),
            Keys::Paths(pairs) => pairs.insert((Key::of(id), path().into())),
        }
    }
}

/// Trees and blobs already seen, keyed by id, and by path too with `all_occurrences`.
pub(super) struct Seen {
    trees: Keys,
    blobs: Keys,
}

impl Seen {
    /// Nothing seen yet.
    pub fn new(by_path: bool) -> Seen {
        Seen {
            trees: Keys::new(by_path),
            blobs: Keys::new(by_path),
        }
    }

    /// What an earlier audit saw (`--state`): these trees and blobs, by id.
    pub fn known(trees: Ids, blobs: Ids) -> Seen {
        Seen {
            trees: Keys::Ids(trees.into_iter().map(Key::of).collect()),
            blobs: Keys::Ids(blobs.into_iter().map(Key::of).collect()),
        }
    }

    /// True when the tree was not seen before.
    pub fn tree(&mut self, id: Oid, path: impl FnOnce() -> String) -> bool {
        self.trees.insert(id, path)
    }

    /// True when the blob was not seen before.
    pub fn blob(&mut self, id: Oid, path: impl FnOnce() -> String) -> bool {
        self.blobs.insert(id, path)
    }

    /// The ids of every blob seen.
    pub fn blob_ids(&self) -> Ids {
        match &self.blobs {
            Keys::Ids(ids) => ids.iter().map(|k| k.id()).collect(),
            Keys::Paths(pairs) => pairs.iter().map(|(k, _)| k.id()).collect(),
        }
    }

    /// The ids of every tree and blob seen, when keyed by id (for `--state`).
    pub fn into_ids(self) -> Option<(Ids, Ids)> {
        match (self.trees, self.blobs) {
            (Keys::Ids(trees), Keys::Ids(blobs)) => Some((
                trees.into_iter().map(Key::id).collect(),
                blobs.into_iter().map(Key::id).collect(),
            )),
            _ => None,
        }
    }

    /// Mark everything in `root` as seen without wanting it. A subtree seen before is skipped
    /// whole: it was marked (or wanted) in full when first seen, so its blobs are known already.
    /// Without this, `--since` walked every old commit's entire tree (issue 10, #17 there).
    pub fn mark(&mut self, repo: &Repository, root: git2::Tree<'_>) {
        if !self.tree(root.id(), String::new) {
            return;
        }
        let mut stack = vec![(root, String::new())];
        while let Some((tree, prefix)) = stack.pop() {
            for entry in tree.iter() {
                let path = || join(&prefix, entry.name_bytes());
                match entry.kind() {
                    Some(ObjectType::Tree) if self.tree(entry.id(), path) => {
                        if let Ok(sub) = repo.find_tree(entry.id()) {
                            stack.push((sub, join(&prefix, entry.name_bytes())));
                        }
                    }
                    Some(ObjectType::Blob) => {
                        self.blob(entry.id(), path);
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
