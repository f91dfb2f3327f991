//! Attribution: which blobs the history holds and which commit introduced each. Commits are
//! walked oldest-first (topological, reversed) and each unique tree is visited once, since a tree
//! already seen holds nothing new; so each blob goes to the first commit that has it, at the path
//! it had there, and is sent once to the scanning threads (see `read`). Tags of blobs and, on
//! request, unreachable blobs are sent too. It reads trees, never blob content.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;

use git2::{ObjectType, Oid, Repository, Sort, TreeWalkMode, TreeWalkResult};

use super::read::Job;
use super::seen::{join, Seen};
use super::{dates, git_err, HistoryError};
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
    /// Also send blobs no ref reaches (with [`Tips::Refs`] only).
    pub unreachable: bool,
}

/// What attribution learned besides the blobs it sent.
pub(super) struct Attribution {
    pub commits: usize,
}

/// The walk: the repository, what is seen, and where new blobs go.
struct Walker<'a, 'r> {
    repo: &'r Repository,
    seen: Seen,
    tx: &'a SyncSender<Job>,
    stats: &'a Stats,
    queued: &'a AtomicU64,
    reachable: HashSet<Oid>,
    submodules: HashSet<String>,
}

/// Walk commits oldest-first, visit each new tree once, send each new blob to the workers.
pub(super) fn attribute(
    repo: &Repository,
    plan: &Plan,
    tx: &SyncSender<Job>,
    stats: &Stats,
    queued: &AtomicU64,
) -> Result<Attribution, HistoryError> {
    let mut walk = repo.revwalk().map_err(git_err("revwalk"))?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
        .map_err(git_err("revwalk"))?;
    let mut w = Walker {
        repo,
        seen: Seen {
            trees: HashSet::new(),
            blobs: HashSet::new(),
            by_path: plan.all_occurrences,
        },
        tx,
        stats,
        queued,
        reachable: HashSet::new(),
        submodules: HashSet::new(),
    };

    match plan.tips {
        Tips::Range { from, to } => {
            walk.push(to).map_err(git_err("--range"))?;
            walk.hide(from).map_err(git_err("--range"))?;
            // What the base already has is not the range's doing.
            if let Ok(tree) = repo.find_commit(from).and_then(|c| c.tree()) {
                w.seen.mark(repo, tree);
            }
        }
        Tips::Ancestors(id) => walk.push(id).map_err(git_err("base revision"))?,
        Tips::Refs => {
            let refs = repo.references().map_err(git_err("reading refs"))?;
            for r in refs.flatten() {
                let name = r.name().unwrap_or("").to_string();
                match r.peel(ObjectType::Commit) {
                    Ok(obj) => {
                        let _ = walk.push(obj.id());
                    }
                    Err(_) => {
                        // A tag of a blob or tree: scan what it points at directly.
                        if let Ok(obj) = r.peel(ObjectType::Blob) {
                            let _ = tx.send(Job {
                                blob: obj.id(),
                                provenance: Provenance::Unreachable {
                                    path: format!("{name} (blob {})", obj.id()),
                                },
                            });
                        }
                    }
                }
            }
        }
    }

    // With --since, every commit older than the date is marked before any newer one is
    // visited: topological order can put an old commit (a side branch with old dates) after a
    // newer one, and what any old commit has is known, whatever the order.
    let mut newer = Vec::new();
    let mut commits = 0;
    for oid in walk {
        let oid = match oid {
            Ok(o) => o,
            Err(e) => {
                diag::warn(&format!("history walk: {}", e.message()));
                stats.error();
                continue;
            }
        };
        let commit = match repo.find_commit(oid) {
            Ok(c) => c,
            Err(e) => {
                diag::warn(&format!("commit {oid} cannot be read: {}", e.message()));
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

    if plan.unreachable && matches!(plan.tips, Tips::Refs) {
        scan_unreachable(repo, &w.reachable, &w.seen.blobs, tx)?;
    }
    Ok(Attribution { commits })
}

impl Walker<'_, '_> {
    /// Send the blobs of `commit`'s tree not seen before, attributed to it.
    fn visit(&mut self, commit: &git2::Commit) -> Result<(), HistoryError> {
        let oid = commit.id();
        let tree = match commit.tree() {
            Ok(t) => t,
            Err(e) => {
                diag::warn(&format!(
                    "commit {oid}: tree cannot be read: {}",
                    e.message()
                ));
                self.stats.error();
                return Ok(());
            }
        };
        if !self.seen.tree(tree.id(), "") {
            return Ok(());
        }
        let info = commit_info(commit);
        let mut stack = vec![(tree, String::new())];
        while let Some((tree, prefix)) = stack.pop() {
            for entry in tree.iter() {
                let path = join(&prefix, entry.name_bytes());
                match entry.kind() {
                    Some(ObjectType::Tree) if self.seen.tree(entry.id(), &path) => {
                        match self.repo.find_tree(entry.id()) {
                            Ok(sub) => stack.push((sub, path)),
                            Err(e) => {
                                diag::warn(&format!(
                                    "{path}: tree {} cannot be read: {}",
                                    entry.id(),
                                    e.message()
                                ));
                                self.stats.error();
                            }
                        }
                    }
                    Some(ObjectType::Blob) => {
                        self.reachable.insert(entry.id());
                        if self.seen.blob(entry.id(), &path) {
                            self.queued.fetch_add(1, Ordering::Relaxed);
                            let job = Job {
                                blob: entry.id(),
                                provenance: Provenance::Commit {
                                    path,
                                    commit: info.clone(),
                                },
                            };
                            if self.tx.send(job).is_err() {
                                return Err(HistoryError::Git {
                                    what: "scan".into(),
                                    message: "every scanning thread stopped".into(),
                                });
                            }
                        }
                    }
                    Some(ObjectType::Commit) if self.submodules.insert(path.clone()) => {
                        diag::note(&format!("{path}: submodule, not followed"));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

/// Send every blob in the object database that no ref reaches.
fn scan_unreachable(
    repo: &Repository,
    reachable: &HashSet<Oid>,
    seen: &HashSet<(Oid, String)>,
    tx: &SyncSender<Job>,
) -> Result<(), HistoryError> {
    let odb = repo.odb().map_err(git_err("object database"))?;
    let seen_ids: HashSet<Oid> = seen.iter().map(|(o, _)| *o).collect();
    let mut blobs = Vec::new();
    odb.foreach(|oid| {
        if !reachable.contains(oid) && !seen_ids.contains(oid) {
            if let Ok((_, kind)) = odb.read_header(*oid) {
                if kind == ObjectType::Blob {
                    blobs.push(*oid);
                }
            }
        }
        true
    })
    .map_err(git_err("object database"))?;
    for oid in blobs {
        let job = Job {
            blob: oid,
            provenance: Provenance::Unreachable {
                path: format!("unreachable blob {oid}"),
            },
        };
        if tx.send(job).is_err() {
            break;
        }
    }
    Ok(())
}

/// Blobs in the trees of local and remote branch tips: content still present today.
pub(super) fn tip_blobs(repo: &Repository) -> HashSet<Oid> {
    let mut out = HashSet::new();
    let Ok(refs) = repo.references() else {
        return out;
    };
    for r in refs.flatten() {
        if !(r.is_branch() || r.is_remote()) {
            continue;
        }
        if let Ok(tree) = r.peel_to_tree() {
            let _ = tree.walk(TreeWalkMode::PreOrder, |_, entry| {
                if entry.kind() == Some(ObjectType::Blob) {
                    out.insert(entry.id());
                }
                TreeWalkResult::Ok
            });
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
