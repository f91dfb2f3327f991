//! Attribution: which blobs the history holds and which commit introduced each. Commits are
//! walked oldest-first (topological, reversed) and each unique tree is visited once, since a tree
//! already seen holds nothing new; so each blob goes to the first commit that has it, at the path
//! it had there. Tags of blobs are wanted too. The result, [`Attribution`], is every wanted blob
//! with its [`Origin`]s, in the order first met; reading them (in pack order) is `read`'s. It
//! reads trees, never blob content. Memory grows with the blobs and paths, not with bytes: a
//! blob's origin is its path and the index of an introducing commit.

use std::collections::{HashMap, HashSet};

use git2::{ObjectType, Oid, Repository, Sort};

use super::seen::{join, Ids, Seen};
use super::state::State;
use super::{git_err, HistoryError};
use crate::dates;
use crate::diag;
use crate::finding::{CommitInfo, Provenance};
use crate::scan::Stats;

/// Which commits to walk.
pub(super) enum Tips {
    /// Every ref: branches, tags, remote-tracking refs, the stash.
    Refs,
    /// `from..to`: commits `to` has and `from` has not; what `from`'s tree has is known.
    Range { from: Oid, to: Oid },
    /// A commit and its ancestors (the history of a range's base).
    Ancestors(Oid),
}

/// What attribution walks.
pub(super) struct Plan {
    pub tips: Tips,
    /// Commits older than this (seconds since the epoch) are walked but not scanned: every
    /// blob (and path) they have is known, not new.
    pub since: Option<i64>,
    /// Attribute each (blob, path) pair, not each blob.
    pub all_occurrences: bool,
    /// Also want blobs no ref reaches (with [`Tips::Refs`] only).
    pub unreachable: bool,
    /// Keep what was seen, for `--state` ([`Attribution::state`]).
    pub keep_seen: bool,
}

/// Where a wanted blob was met: at `path` in the commit `commit` indexes in
/// [`Attribution::commits`], or, without a commit, a tag of the blob or an unreachable blob
/// (`path` then names it).
pub(super) struct Origin {
    pub path: Box<str>,
    pub commit: Option<u32>,
}

/// Every wanted blob and where it was met.
#[derive(Default)]
pub(super) struct Attribution {
    /// The commits walked.
    pub walked: usize,
    /// The refs whose history was walked (the head of a range, or a base: one).
    pub refs: u64,
    /// Objects the history names that the object database does not have: commits and trees
    /// (counted here), blobs (counted by the reading pass).
    pub missing: u64,
    /// Commits that could not be parsed (a malformed header): skipped, their trees not
    /// scanned; their parents are still walked.
    pub skipped: u64,
    /// Set by the reading pass: wanted blobs read and scanned for this repository, wanted
    /// blobs read for an earlier repository of the run, and wanted blobs that could not be read.
    pub scanned: u64,
    pub shared: u64,
    pub unread: u64,
    /// The commits that introduced a wanted blob.
    pub commits: Vec<CommitInfo>,
    /// Each wanted blob's origins: one, or with `all_occurrences` one per path.
    pub blobs: HashMap<Oid, Vec<Origin>>,
    /// The wanted blobs in the order first met (the reading order when pack order is unknown).
    pub order: Vec<Oid>,
    /// Every blob id met (wanted or known), to tell the unreachable ones apart (only with
    /// `--unreachable`).
    pub met: Ids,
    /// With [`Plan::keep_seen`]: every tree and blob seen, known before or met now (`--state`).
    pub state: Option<State>,
}

impl Attribution {
    /// Record an origin of `blob`.
    fn want(&mut self, blob: Oid, origin: Origin) {
        let origins = self.blobs.entry(blob).or_default();
        if origins.is_empty() {
            self.order.push(blob);
        }
        origins.push(origin);
    }

    /// The provenance an origin stands for.
    pub(super) fn provenance(&self, origin: &Origin) -> Provenance {
        match origin.commit {
            Some(i) => Provenance::Commit {
                path: origin.path.to_string(),
                commit: self.commits[i as usize].clone(),
            },
            None => Provenance::Unreachable {
                path: origin.path.to_string(),
            },
        }
    }
}

/// The walk: the repository, what is seen, and what is wanted.
struct Walker<'a, 'r> {
    repo: &'r Repository,
    seen: Seen,
    found: Attribution,
    stats: &'a Stats,
    submodules: HashSet<String>,
}

/// Walk commits oldest-first, visit each new tree once, want each new blob. `seen` is what is
/// known already (empty, or the trees and blobs of an earlier audit: `--state`).
pub(super) fn attribute(
    repo: &Repository,
    plan: &Plan,
    seen: Seen,
    stats: &Stats,
) -> Result<Attribution, HistoryError> {
    let mut w = Walker {
        repo,
        seen,
        found: Attribution::default(),
        stats,
        submodules: HashSet::new(),
    };

    // The commits to start from and those whose history is known (a range's base).
    let mut push = Vec::new();
    let mut hide = Vec::new();
    match plan.tips {
        Tips::Range { from, to } => {
            push.push(to);
            hide.push(from);
            w.found.refs = 1;
            // What the base already has is not the range's doing.
            if let Ok(tree) = repo.find_commit(from).and_then(|c| c.tree()) {
                w.seen.mark(repo, tree);
            }
        }
        Tips::Ancestors(id) => {
            push.push(id);
            w.found.refs = 1;
        }
        Tips::Refs => {
            let refs = repo.references().map_err(git_err("reading refs"))?;
            for r in refs.flatten() {
                let name = r.name().unwrap_or("").to_string();
                w.found.refs += 1;
                match r.peel(ObjectType::Commit) {
                    Ok(obj) => push.push(obj.id()),
                    Err(_) => {
                        // A tag of a blob or tree: scan what it points at directly.
                        if let Ok(obj) = r.peel(ObjectType::Blob) {
                            let path = format!("{name} (blob {})", obj.id()).into();
                            w.found.want(obj.id(), Origin { path, commit: None });
                        } else if let Some(id) = damaged_commit(repo, &r) {
                            // A ref to a commit libgit2 cannot parse: the walk records it.
                            push.push(id);
                        }
                    }
                }
            }
        }
    }
    let walk = match revwalk(repo, &push, &hide) {
        Ok(walk) => walk,
        // libgit2's walk stops at the first commit it cannot parse (issue 19 item 9): walk
        // again, skipping and recording the damaged commits.
        Err(_) => tolerant_walk(repo, &push, &hide, &mut w.found, stats),
    };

    // With --since, every commit older than the date is marked before any newer one is
    // visited: topological order can put an old commit (a side branch with old dates) after a
    // newer one, and what any old commit has is known, whatever the order.
    let mut newer = Vec::new();
    let mut commits = 0;
    for oid in walk {
        let commit = match repo.find_commit(oid) {
            Ok(c) => c,
            Err(e) => {
                diag::warn(&format!("commit {oid} cannot be read: {}", e.message()));
                w.found.missing += u64::from(e.code() == git2::ErrorCode::NotFound);
                stats.error();
                continue;
            }
        };
        commits += 1;
        match plan.since {
            Some(since) if commit.time().seconds() < since => {
                if let Ok(tree) = commit.tree() {
                    w.seen.mark(repo, tree);
                }
            }
            Some(_) => newer.push(oid),
            None => w.visit(&commit)?,
        }
    }
    for oid in newer {
        let commit = repo
            .find_commit(oid)
            .map_err(git_err("commit read a moment ago"))?;
        w.visit(&commit)?;
    }

    let mut found = w.found;
    found.walked = commits;
    if plan.unreachable && matches!(plan.tips, Tips::Refs) {
        found.met = w.seen.blob_ids();
        found.met.extend(found.order.iter().copied());
    }
    if plan.keep_seen {
        found.state = w.seen.into_ids().map(|(trees, blobs)| State {
            trees,
            blobs,
            findings: Vec::new(),
            walked: None,
        });
    }
    Ok(found)
}

impl Walker<'_, '_> {
    /// Want the blobs of `commit`'s tree not seen before, attributed to it.
    fn visit(&mut self, commit: &git2::Commit) -> Result<(), HistoryError> {
        let oid = commit.id();
        // A known root tree is not even read (a re-audit meets only known ones).
        if !self.seen.tree(commit.tree_id(), String::new) {
            return Ok(());
        }
        let tree = match commit.tree() {
            Ok(t) => t,
            Err(e) => {
                diag::warn(&format!(
                    "commit {oid}: tree cannot be read: {}",
                    e.message()
                ));
                self.found.missing += u64::from(e.code() == git2::ErrorCode::NotFound);
                self.stats.error();
                return Ok(());
            }
        };
        let mut index = None;
        let mut stack = vec![(tree, String::new())];
        while let Some((tree, prefix)) = stack.pop() {
            for entry in tree.iter() {
                // Most entries are known: their path is built only when needed.
                let path = || join(&prefix, entry.name_bytes());
                match entry.kind() {
                    Some(ObjectType::Tree) if self.seen.tree(entry.id(), path) => {
                        let path = path();
                        match self.repo.find_tree(entry.id()) {
                            Ok(sub) => stack.push((sub, path)),
                            Err(e) => {
                                diag::warn(&format!(
                                    "{path}: tree {} cannot be read: {}",
                                    entry.id(),
                                    e.message()
                                ));
                                self.found.missing +=
                                    u64::from(e.code() == git2::ErrorCode::NotFound);
                                self.stats.error();
                            }
                        }
                    }
                    Some(ObjectType::Blob) if self.seen.blob(entry.id(), path) => {
                        let path = path();
                        let commits = &mut self.found.commits;
                        let i = *index.get_or_insert_with(|| {
                            commits.push(commit_info(commit));
                            (commits.len() - 1) as u32
                        });
                        let origin = Origin {
                            path: path.into(),
                            commit: Some(i),
                        };
                        self.found.want(entry.id(), origin);
                    }
                    Some(ObjectType::Commit) if self.submodules.insert(path()) => {
                        diag::note(&format!("{}: submodule, not followed", path()));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

/// The commits `push` reaches and `hide` does not, parents before children (libgit2's walk).
/// Fails as a whole on the first commit it cannot parse.
fn revwalk(repo: &Repository, push: &[Oid], hide: &[Oid]) -> Result<Vec<Oid>, git2::Error> {
    let mut walk = repo.revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    for &id in push {
        walk.push(id)?;
    }
    for &id in hide {
        walk.hide(id)?;
    }
    walk.collect()
}

/// [`revwalk`] for a history with damaged commits: each commit's parents are read from its raw
/// header (`parent <id>` lines), so a commit libgit2 cannot parse is skipped (one warning,
/// counted in [`Attribution::skipped`], the run incomplete) while its ancestors are still
/// walked. Missing commits are counted in [`Attribution::missing`] (not in a shallow clone:
/// its cut-off parents are counted apart). Parents come before children (depth-first, in
/// post-order), as in libgit2's topological order.
fn tolerant_walk(
    repo: &Repository,
    push: &[Oid],
    hide: &[Oid],
    found: &mut Attribution,
    stats: &Stats,
) -> Vec<Oid> {
    let Ok(odb) = repo.odb() else {
        stats.error();
        return Vec::new();
    };
    let shallow = repo.is_shallow();
    // The raw parents of a commit; `None` when the object is missing or not a commit.
    let parents = |id: Oid| -> Option<Vec<Oid>> {
        let object = odb.read(id).ok()?;
        if object.kind() != ObjectType::Commit {
            return None;
        }
        Some(raw_parents(object.data()))
    };
    // Everything the base reaches is known.
    let mut hidden: HashSet<Oid> = HashSet::new();
    let mut stack: Vec<Oid> = hide.to_vec();
    while let Some(id) = stack.pop() {
        if hidden.insert(id) {
            stack.extend(parents(id).unwrap_or_default());
        }
    }
    let mut order = Vec::new();
    let mut visited: HashSet<Oid> = HashSet::new();
    // (commit, whether its parents are on the stack already)
    let mut stack: Vec<(Oid, bool)> = push.iter().rev().map(|&id| (id, false)).collect();
    while let Some((id, expanded)) = stack.pop() {
        if expanded {
            order.push(id);
            continue;
        }
        if hidden.contains(&id) || !visited.insert(id) {
            continue;
        }
        let Some(ids) = parents(id) else {
            if !shallow {
                diag::warn(&format!(
                    "commit {id} is missing; its history is not scanned"
                ));
                found.missing += 1;
                stats.error();
            }
            continue;
        };
        match repo.find_commit(id) {
            Ok(_) => stack.push((id, true)),
            Err(e) => {
                diag::warn(&format!(
                    "commit {id} is damaged and was skipped ({}); its parents are still scanned",
                    e.message()
                ));
                found.skipped += 1;
                stats.error();
            }
        }
        stack.extend(
            ids.into_iter()
                .rev()
                .filter(|p| !visited.contains(p))
                .map(|p| (p, false)),
        );
    }
    order
}

/// The `parent <id>` lines of a raw commit's header (which ends at the first empty line).
fn raw_parents(data: &[u8]) -> Vec<Oid> {
    data.split(|&b| b == b'\n')
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.strip_prefix(b"parent "))
        .filter_map(|hex| std::str::from_utf8(hex).ok())
        .filter_map(|hex| Oid::from_str(hex.trim()).ok())
        .collect()
}

/// The commit a ref names, directly or through annotated tags, when libgit2 cannot parse it
/// (a damaged commit object), else `None`.
fn damaged_commit(repo: &Repository, r: &git2::Reference) -> Option<Oid> {
    let odb = repo.odb().ok()?;
    let mut id = r.resolve().ok()?.target()?;
    // A tag names its object on its first line; a chain of tags ends (each names an older one).
    for _ in 0..16 {
        let object = odb.read(id).ok()?;
        match object.kind() {
            ObjectType::Commit => return Some(id),
            ObjectType::Tag => {
                let first = object.data().split(|&b| b == b'\n').next()?;
                let hex = std::str::from_utf8(first.strip_prefix(b"object ")?).ok()?;
                id = Oid::from_str(hex.trim()).ok()?;
            }
            _ => return None,
        }
    }
    None
}

/// Blobs in the trees of local and remote branch tips: content still present today. Each
/// subtree is walked once, however many branches share it.
pub(super) fn tip_blobs(repo: &Repository) -> HashSet<Oid> {
    let mut out = HashSet::new();
    let Ok(refs) = repo.references() else {
        return out;
    };
    let mut trees = HashSet::new();
    for r in refs.flatten() {
        if !(r.is_branch() || r.is_remote()) {
            continue;
        }
        let Ok(root) = r.peel_to_tree() else {
            continue;
        };
        let mut stack = vec![root];
        while let Some(tree) = stack.pop() {
            if !trees.insert(tree.id()) {
                continue;
            }
            for entry in tree.iter() {
                match entry.kind() {
                    Some(ObjectType::Blob) => {
                        out.insert(entry.id());
                    }
                    Some(ObjectType::Tree) if !trees.contains(&entry.id()) => {
                        if let Ok(sub) = repo.find_tree(entry.id()) {
                            stack.push(sub);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

fn commit_info(commit: &git2::Commit) -> CommitInfo {
    let author = commit.author();
    let time = author.when();
    CommitInfo {
        id: commit.id().to_string(),
        author: String::from_utf8_lossy(author.name_bytes()).into_owned(),
        email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
        date: dates::rfc3339(time.seconds(), time.offset_minutes()),
        summary: commit
            .summary_bytes()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .unwrap_or_default(),
        time: time.seconds(),
    }
}

#[cfg(test)]
mod tests {
    use super::raw_parents;
    use git2::Oid;

    #[test]
    fn raw_parents_reads_the_header_only() {
        let a = "1111111111111111111111111111111111111111";
        let b = "2222222222222222222222222222222222222222";
        let oid = |s: &str| Oid::from_str(s).unwrap();
        let cases: [(String, Vec<Oid>); 4] = [
            (
                format!("tree {a}\nparent {a}\nparent {b}\nauthor x\n\nmsg\n"),
                vec![oid(a), oid(b)],
            ),
            (format!("tree {a}\nauthor x\n\nparent {b}\n"), vec![]),
            (
                format!("tree {a}\nparent nothex\nparent {b}\n\n"),
                vec![oid(b)],
            ),
            ("".to_string(), vec![]),
        ];
        for (raw, want) in cases {
            assert_eq!(raw_parents(raw.as_bytes()), want, "{raw:?}");
        }
    }
}
