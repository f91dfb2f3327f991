//! Which shard audits which repository: [`plan`] spreads the list over N shards, balanced by
//! size (greedy longest-processing-time: largest first, each to the least loaded shard), so N
//! pods finish at about the same time instead of one pod getting all the monorepos.
//!
//! Every shard computes the whole plan on its own and audits its part, so the plan must come
//! out the same in every pod, whatever its cache holds: a repository's weight comes from the
//! list (`size=` hints), else, for a local path, the size of its object database rounded down
//! to a power of two (a push between two pods' starts rarely changes the plan; `keyhound merge`
//! notices when it did), else a fixed [`UNKNOWN_SIZE`]. A mirror already in one pod's cache is
//! never weighed: another pod may not have it. Ties go by display name, then list position.

use std::path::Path;

use super::list::{Entry, Location};

/// The weight of a repository whose size nothing tells: a typical repository of an
/// organisation's long tail. With only such repositories, the plan deals them out in name order.
pub const UNKNOWN_SIZE: u64 = 8 << 20;

/// The shard (0-based) of each entry of `entries`, for `count` shards.
pub fn plan(entries: &[Entry], count: usize) -> Vec<usize> {
    let weights: Vec<u64> = entries.iter().map(weight).collect();
    assign(entries, &weights, count)
}

/// Greedy LPT on fixed weights: heaviest first (ties by name, then position), each to the
/// shard with the least total so far (ties to the lowest index).
fn assign(entries: &[Entry], weights: &[u64], count: usize) -> Vec<usize> {
    let count = count.max(1);
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| {
        weights[b]
            .cmp(&weights[a])
            .then_with(|| entries[a].name.cmp(&entries[b].name))
            .then(a.cmp(&b))
    });
    let mut load = vec![0u64; count];
    let mut shard_of = vec![0usize; entries.len()];
    for i in order {
        let (least, _) = load
            .iter()
            .enumerate()
            .min_by_key(|&(k, &l)| (l, k))
            .expect("count is at least 1");
        shard_of[i] = least;
        // Every repository costs at least a little (starting git, walking refs).
        load[least] += weights[i].max(1);
    }
    shard_of
}

/// What a repository weighs in the plan (see the module documentation).
fn weight(entry: &Entry) -> u64 {
    if let Some(hint) = entry.size_hint {
        return hint;
    }
    match &entry.location {
        Location::Path(path) => object_bytes(path)
            .map(floor_power_of_two)
            .unwrap_or(UNKNOWN_SIZE),
        Location::Url(_) => UNKNOWN_SIZE,
    }
}

fn floor_power_of_two(n: u64) -> u64 {
    if n == 0 {
        0
    } else {
        1 << (63 - n.leading_zeros())
    }
}

/// Bytes in the object database of the repository at `path` (loose objects and packs), without
/// running git: `.git/objects` of a work tree, or `objects` of a bare repository.
fn object_bytes(path: &Path) -> Option<u64> {
    let git_dir = match std::fs::read_to_string(path.join(".git")) {
        // A linked work tree or submodule: `.git` is a file naming the git directory.
        Ok(text) => {
            let dir = text.trim().strip_prefix("gitdir:")?.trim().to_string();
            path.join(dir)
        }
        Err(_) if path.join(".git").is_dir() => path.join(".git"),
        Err(_) => path.to_path_buf(),
    };
    let objects = git_dir.join("objects");
    if !objects.is_dir() {
        return None;
    }
    let mut total = 0u64;
    let mut stack = vec![objects];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).ok()?.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    Some(total)
}

/// Parse `--shard K/N` (K from 0 to N-1).
pub fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || {
        format!("\"{s}\" is not a shard; expected K/N with K from 0 to N-1 (e.g. 0/4), as JOB_COMPLETION_INDEX counts")
    };
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (k, n) = (
        k.trim().parse::<usize>().map_err(|_| bad())?,
        n.trim().parse::<usize>().map_err(|_| bad())?,
    );
    if n == 0 || k >= n {
        return Err(bad());
    }
    Ok((k, n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn entry(name: &str, size: Option<u64>) -> Entry {
        Entry {
            location: Location::Url(name.into()),
            name: name.into(),
            size_hint: size,
        }
    }

    #[test]
    fn heaviest_first_to_the_least_loaded() {
        let entries = [
            entry("a", Some(10)),
            entry("b", Some(7)),
            entry("c", Some(5)),
            entry("d", Some(4)),
            entry("e", Some(3)),
            entry("f", Some(1)),
        ];
        // 10 -> 0; 7 -> 1; 5 -> 1 (12); 4 -> 0 (14); 3 -> 1 (15); 1 -> 0 (15).
        assert_eq!(plan(&entries, 2), [0, 1, 1, 0, 1, 0]);
        assert_eq!(plan(&entries, 1), [0; 6]);
        // More shards than repositories: each gets at most one.
        assert_eq!(plan(&entries[..2], 4), [0, 1]);
    }

    #[test]
    fn unknown_sizes_deal_out_by_name_whatever_the_order() {
        let a = [
            entry("r3", None),
            entry("r1", None),
            entry("r2", None),
            entry("r0", None),
        ];
        let shards = plan(&a, 2);
        // r0 -> 0, r1 -> 1, r2 -> 0, r3 -> 1.
        assert_eq!(shards, [1, 1, 0, 0]);
    }

    #[test]
    fn local_sizes_weigh_and_missing_paths_use_the_estimate() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.git");
        std::fs::create_dir_all(big.join("objects/pack")).unwrap();
        std::fs::write(big.join("objects/pack/p.pack"), vec![0u8; 40 << 20]).unwrap();
        let local = |p: PathBuf| Entry {
            name: p.display().to_string(),
            location: Location::Path(p),
            size_hint: None,
        };
        let entries = [
            local(dir.path().join("missing")),
            local(big.clone()),
            entry("z", None),
        ];
        assert_eq!(weight(&entries[0]), UNKNOWN_SIZE);
        assert_eq!(weight(&entries[1]), 32 << 20);
        // The big one alone on shard 0, the two unknown ones share shard 1.
        assert_eq!(plan(&entries, 2), [1, 0, 1]);
    }

    #[test]
    fn shard_syntax() {
        assert_eq!(parse_shard("0/4"), Ok((0, 4)));
        assert_eq!(parse_shard("3/4"), Ok((3, 4)));
        for bad in ["4/4", "1/0", "x/2", "2", "-1/3"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }
}
