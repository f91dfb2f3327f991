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
use super::{dates, git_err, parse_range, HistoryError, HistoryOptions};
use crate::diag;
use crate::finding::{CommitInfo, Provenance};
use crate::scan::Stats;

/// What attribution learned besides the blobs it sent.
pub(super) struct Attribution {
    pub commits: usize,
}

/// Walk commits oldest-first, visit each new tree once, send each new blob to the workers.
pub(super) fn attribute(
    repo: &Repository,
    opts: &HistoryOptions,
    tx: &SyncSender<Job>,
    stats: &Stats,
    queued: &AtomicU64,
) -> Result<Attribution, HistoryError> {
    let mut walk = repo.revwalk().map_err(git_err("revwalk"))?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
        .map_err(git_err("revwalk"))?;
    let mut seen_trees: HashSet<(Oid, String)> = HashSet::new();
    let mut seen_blobs: HashSet<(Oid, String)> = HashSet::new();
    let mut submodules: HashSet<String> = HashSet::new();
    let path_key = |p: &str| {
        if opts.all_occurrences {
            p.to_string()
        } else {
            String::new()
        }
    };

    match &opts.range {
        Some(range) => {
            let (from, to) = parse_range(repo, range)?;
            walk.push(to.id()).map_err(git_err("--range"))?;
            walk.hide(from.id()).map_err(git_err("--range"))?;
            // What the base already has is not the range's doing.
            if let Ok(tree) = from.peel_to_tree() {
                mark_tree(&tree, &mut seen_trees, &mut seen_blobs, &path_key);
            }
        }
        None => {
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

    let mut reachable: HashSet<Oid> = HashSet::new();
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
        if let Some(since) = opts.since {
            if commit.time().seconds() < since {
                // Older than --since: its content is known, not new.
                if let Ok(tree) = commit.tree() {
                    mark_tree(&tree, &mut seen_trees, &mut seen_blobs, &path_key);
                }
                continue;
            }
        }
        let tree = match commit.tree() {
            Ok(t) => t,
            Err(e) => {
                diag::warn(&format!(
                    "commit {oid}: tree cannot be read: {}",
                    e.message()
                ));
                stats.error();
                continue;
            }
        };
        if !seen_trees.insert((tree.id(), path_key(""))) {
            continue;
        }
        let info = commit_info(&commit);
        let mut stack = vec![(tree, String::new())];
        while let Some((tree, prefix)) = stack.pop() {
            for entry in tree.iter() {
                let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
                let path = if prefix.is_empty() {
                    name
                } else {
                    format!("{prefix}/{name}")
                };
                match entry.kind() {
                    Some(ObjectType::Tree) if seen_trees.insert((entry.id(), path_key(&path))) => {
                        match repo.find_tree(entry.id()) {
                            Ok(sub) => stack.push((sub, path)),
                            Err(e) => {
                                diag::warn(&format!(
                                    "{path}: tree {} cannot be read: {}",
                                    entry.id(),
                                    e.message()
                                ));
                                stats.error();
                            }
                        }
                    }
                    Some(ObjectType::Blob) => {
                        reachable.insert(entry.id());
                        if seen_blobs.insert((entry.id(), path_key(&path))) {
                            queued.fetch_add(1, Ordering::Relaxed);
                            let job = Job {
                                blob: entry.id(),
                                provenance: Provenance::Commit {
                                    path,
                                    commit: info.clone(),
                                },
                            };
                            if tx.send(job).is_err() {
                                return Err(HistoryError::Git {
                                    what: "scan".into(),
                                    message: "every scanning thread stopped".into(),
                                });
                            }
                        }
                    }
                    Some(ObjectType::Commit) if submodules.insert(path.clone()) => {
                        diag::note(&format!("{path}: submodule, not followed"));
                    }
                    _ => {}
                }
            }
        }
    }

    if opts.unreachable && opts.range.is_none() {
        scan_unreachable(repo, &reachable, &seen_blobs, tx)?;
    }
    Ok(Attribution { commits })
}

/// Mark everything in `tree` as seen without scanning it.
fn mark_tree(
    tree: &git2::Tree,
    seen_trees: &mut HashSet<(Oid, String)>,
    seen_blobs: &mut HashSet<(Oid, String)>,
    path_key: &dyn Fn(&str) -> String,
) {
    seen_trees.insert((tree.id(), path_key("")));
    let _ = tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
        let path = format!("{dir}{}", String::from_utf8_lossy(entry.name_bytes()));
        match entry.kind() {
            Some(ObjectType::Blob) => {
                seen_blobs.insert((entry.id(), path_key(&path)));
            }
            Some(ObjectType::Tree) => {
                seen_trees.insert((entry.id(), path_key(&path)));
            }
            _ => {}
        }
        TreeWalkResult::Ok
    });
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
