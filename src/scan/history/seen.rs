//! [`Seen`]: the trees and blobs attribution has already met, so each is visited or wanted once.
//! Keyed by object id, or by (id, path) with `--all-occurrences`. A path is built only when
//! it is needed: for the key, or for an object not seen before (on git/git attribution checks
//! some 60 million tree entries, and all but a few hundred thousand are known). Object ids are
//! hashes already, so the sets hash them by their first bytes ([`IdHash`]). [`Seen::mark`]
//! records a tree as known without wanting anything (the base of a range, commits older than
//! `--since`). It reads trees only (see `attribute`).

use std::collections::HashSet;

use git2::{ObjectType, Oid, Repository};

/// An object id as its bytes, for the sets attribution checks some 60 million times on
/// git/git: compared inline (`git2::Oid`'s equality is a call into libgit2, 4% of an audit's
/// CPU), hashed by its first eight bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key([u8; 20]);

impl Key {
    fn of(id: Oid) -> Key {
        Key(id.as_bytes().try_into().expect("a SHA-1 object id"))
    }

    fn id(self) -> Oid {
        Oid::from_bytes(&self.0).expect("twenty bytes")
    }

    fn head(&self) -> usize {
        u64::from_le_bytes(self.0[..8].try_into().expect("eight bytes")) as usize
    }
}

/// A set of object ids in one flat table (open addressing, linear probing, at most 70% full;
/// the all-zero id, which names no object, marks an empty slot): a lookup touches one or two
/// adjacent cache lines, where a general hash set touches two apart (issue 12: attribution's
/// lookups miss the cache; with this and the chunk cuts of the same commit, a git/git audit
/// took 13.0 s of user CPU instead of 13.9, three runs each).
#[derive(Default)]
struct IdSet {
    slots: Vec<Key>,
    len: usize,
    /// The all-zero id itself, should a repository hold it.
    zero: bool,
    /// The ids asked for last, one per slot by other bits of the id (1.3 MB, in L2 cache): a
    /// commit's changed trees list mostly the entries the commit before listed, so most
    /// lookups end here without touching the table.
    recent: Vec<Key>,
}

/// Slots of [`IdSet::recent`].
const RECENT: usize = 1 << 16;

impl IdSet {
    /// True when `key` was not in the set; it is now.
    fn insert(&mut self, key: Key) -> bool {
        if key.0 == [0; 20] {
            return !std::mem::replace(&mut self.zero, true);
        }
        if self.recent.is_empty() {
            self.recent = vec![Key([0; 20]); RECENT];
        }
        // Only ids in the table are ever in `recent`.
        let r = (key.head() >> 32) & (RECENT - 1);
        if self.recent[r] == key {
            return false;
        }
        self.recent[r] = key;
        if 10 * (self.len + 1) > 7 * self.slots.len() {
            self.grow();
        }
        self.put(key)
    }

    /// Put `key` in the table: true when it was not there.
    fn put(&mut self, key: Key) -> bool {
        let mask = self.slots.len() - 1;
        let mut i = key.head() & mask;
        loop {
            let slot = &mut self.slots[i];
            if *slot == key {
                return false;
            }
            if slot.0 == [0; 20] {
                *slot = key;
                self.len += 1;
                return true;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let size = (2 * self.slots.len()).max(1 << 10);
        let old = std::mem::replace(&mut self.slots, vec![Key([0; 20]); size]);
        self.len = 0;
        for key in old.into_iter().filter(|k| k.0 != [0; 20]) {
            self.put(key);
        }
    }

    fn iter(&self) -> impl Iterator<Item = Key> + '_ {
        let zero = self.zero.then_some(Key([0; 20]));
        self.slots
            .iter()
            .copied()
            .filter(|k| k.0 != [0; 20])
            .chain(zero)
    }
}

impl FromIterator<Key> for IdSet {
    /// The table sized once for all of them (a re-audit loads 600,000 ids of git/git).
    fn from_iter<I: IntoIterator<Item = Key>>(keys: I) -> IdSet {
        let keys: Vec<Key> = keys.into_iter().collect();
        let mut set = IdSet {
            slots: vec![Key([0; 20]); (keys.len() * 10 / 7 + 1).next_power_of_two().max(1 << 10)],
            ..IdSet::default()
        };
        for key in keys {
            if key.0 == [0; 20] {
                set.zero = true;
            } else {
                set.put(key);
            }
        }
        set
    }
}

/// Object ids are hashes already: hashed by their first eight bytes.
pub(super) type IdHash = crate::detect::prefilter::PrehashedBuild;

/// A set of object ids.
pub(super) type Ids = HashSet<Oid, IdHash>;

/// One set of seen objects: by id, or by id and path.
enum Keys {
    Ids(IdSet),
    Paths(HashSet<(Key, Box<str>)>),
}

impl Keys {
    fn new(by_path: bool) -> Keys {
        if by_path {
            Keys::Paths(HashSet::new())
        } else {
            Keys::Ids(IdSet::default())
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
    pub(super) fn new(by_path: bool) -> Seen {
        Seen {
            trees: Keys::new(by_path),
            blobs: Keys::new(by_path),
        }
    }

    /// What an earlier audit saw (`--state`): these trees and blobs, by id.
    pub(super) fn known(trees: Ids, blobs: Ids) -> Seen {
        Seen {
            trees: Keys::Ids(trees.into_iter().map(Key::of).collect()),
            blobs: Keys::Ids(blobs.into_iter().map(Key::of).collect()),
        }
    }

    /// True when the tree was not seen before.
    pub(super) fn tree(&mut self, id: Oid, path: impl FnOnce() -> String) -> bool {
        self.trees.insert(id, path)
    }

    /// True when the blob was not seen before.
    pub(super) fn blob(&mut self, id: Oid, path: impl FnOnce() -> String) -> bool {
        self.blobs.insert(id, path)
    }

    /// The ids of every blob seen.
    pub(super) fn blob_ids(&self) -> Ids {
        match &self.blobs {
            Keys::Ids(ids) => ids.iter().map(Key::id).collect(),
            Keys::Paths(pairs) => pairs.iter().map(|(k, _)| k.id()).collect(),
        }
    }

    /// The ids of every tree and blob seen, when keyed by id (for `--state`).
    pub(super) fn into_ids(self) -> Option<(Ids, Ids)> {
        match (self.trees, self.blobs) {
            (Keys::Ids(trees), Keys::Ids(blobs)) => Some((
                trees.iter().map(Key::id).collect(),
                blobs.iter().map(Key::id).collect(),
            )),
            _ => None,
        }
    }

    /// Mark everything in `root` as seen without wanting it. A subtree seen before is skipped
    /// whole: it was marked (or wanted) in full when first seen, so its blobs are known already.
    /// Without this, `--since` walked every old commit's entire tree (issue 10, #17 there).
    pub(super) fn mark(&mut self, repo: &Repository, root: git2::Tree<'_>) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The flat table is a set: each id inserted once says so once, through growth, including
    /// ids that share their first eight bytes (one probe chain) and the all-zero id.
    #[test]
    fn id_set_is_a_set() {
        let mut set = IdSet::default();
        let key = |n: u64, tail: u8| {
            let mut b = [tail; 20];
            b[..8].copy_from_slice(&n.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes());
            Key(b)
        };
        for n in 0..5000 {
            assert!(set.insert(key(n, 1)), "{n}");
            // Seven heads, 200 tails: new until the pairs repeat (7 * 200 = 1400).
            let shared_head = key(n % 7, 2 + (n % 200) as u8);
            assert_eq!(set.insert(shared_head), n < 1400, "{n}");
        }
        for n in 0..5000 {
            assert!(!set.insert(key(n, 1)), "{n} again");
        }
        // Every id is in the table itself, not only among the recent ones.
        for n in 0..5000 {
            assert!(!set.put(key(n, 1)), "{n} in the table");
        }
        assert!(set.insert(Key([0; 20])));
        assert!(!set.insert(Key([0; 20])));
        let all: HashSet<[u8; 20]> = set.iter().map(|k| k.0).collect();
        assert_eq!(all.len(), set.len + 1);
        assert!(all.contains(&[0; 20]) && all.contains(&key(4999, 1).0));
    }
}
