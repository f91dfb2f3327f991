#!/usr/bin/env bash
# History scan throughput: keyhound beside the floor (`git cat-file --batch-all-objects --batch`,
# merely inflating every object) and Kingfisher's history scan, same run.
# usage: bench/history.sh [N]   builds (once) a repository of N commits (default 5000) with
#   ../shared/bench/make-history-repo.sh under target/bench/. REPO=path uses an existing one.
set -eu
cd "$(dirname "$0")/.."
n=${1:-5000}
repo=${REPO:-target/bench/history-$n}
kh=${KEYHOUND:-target/release/keyhound}
kf=${KINGFISHER:-/work/peers/venv/bin/kingfisher}
[ -x "$kh" ] || cargo build --release -q
if [ ! -d "$repo" ]; then
    # The generator stops when a random edit changes nothing; let such a commit be empty.
    shim=$(mktemp -d); real=$(command -v git)
    printf '#!/bin/sh\nif [ "$1" = commit ]; then shift; exec %s commit --allow-empty "$@"; fi\nexec %s "$@"\n' "$real" "$real" > "$shim/git"
    chmod +x "$shim/git"
    PATH="$shim:$PATH" bash ../shared/bench/make-history-repo.sh "$repo" "$n" >/dev/null
fi
blob_bytes=$(git -C "$repo" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)' | awk '$1=="blob"{s+=$2} END{print s}')
objects=$(git -C "$repo" count-objects -v | awk '/^(count|in-pack):/{s+=$2} END{print s}')
echo "repo: $repo, $(git -C "$repo" rev-list --all | wc -l) commits, $objects objects, $blob_bytes blob bytes"
cmds=("floor=git -C '$repo' cat-file --batch-all-objects --batch >/dev/null"
      "keyhound=$kh history '$repo' --format json -o /dev/null -q")
[ -x "$kf" ] && cmds+=("kingfisher=$kf scan '$repo' --git-history full --no-validate --no-update-check --format json -o /dev/null -q")
python3 bench/timeit.py --runs "${RUNS:-3}" --bytes "$blob_bytes" "${cmds[@]}"
/usr/bin/time -f "keyhound peak RSS %M KB" "$kh" history "$repo" --format json -o /dev/null -q 2>&1 | tail -1 || true
