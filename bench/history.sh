#!/usr/bin/env bash
# History scan throughput: keyhound beside the floor and Kingfisher's history scan, same run.
# usage: bench/history.sh [N]          a repository of N commits (default 5000) built (once) by
#                                      ../shared/bench/make-history-repo.sh under target/bench/
#        bench/history.sh git          deep: a packing bare clone of the git/git snapshot
#        bench/history.sh trufflehog   shallower: trufflesecurity/trufflehog, packed the same way
#        REPO=path bench/history.sh    an existing repository
#        bench/history.sh fork [N]     several repositories (issue 12): the N-commit repository
#                                      and a clone of it with one more commit, audited in one
#                                      run, beside each alone; then the run's coverage records
# Deep mode (issue 12) times the one-thread pack-order floor, the same blobs read by two
# `cat-file --batch` processes in pack order, keyhound (and KEYHOUND_BEFORE=path, an older build)
# (GITCAT=1: and keyhound reading blobs through `git cat-file` instead of libgit2) and Kingfisher, interleaved; then peak RSS (bench/rss.py: the largest process, and the whole
# process tree, as keyhound runs `git cat-file` beside itself), then checks the targets below.
# Snapshots come from MIRROR (default ../.mirror). Environment: RUNS (default 3), KEYHOUND,
# KINGFISHER.
set -eu
cd "$(dirname "$0")/.."
what=${1:-5000}
kh=${KEYHOUND:-target/release/keyhound}
kf=${KINGFISHER:-$(command -v kingfisher || true)}
mirror=${MIRROR:-../.mirror}
[ -x "$kh" ] || cargo build --release -q

# Targets (issue 12), checked at the end of deep mode: keyhound within this many times the
# one-thread pack-order floor, Kingfisher at least this many times slower, keyhound's own peak
# RSS at most this many MB, and so the sum of it and its `git cat-file` children at once.
case $what in
    git) max_floor=2.0 ;;
    *) max_floor=1.5 ;;
esac
min_peer=4.0
max_rss_mb=300

if [ "$what" = fork ]; then
    n=${2:-3000}
    repo=target/bench/history-$n; fork=target/bench/history-$n-fork
    [ -d "$repo" ] || { echo "run bench/history.sh $n first (it builds $repo)" >&2; exit 2; }
    if [ ! -d "$fork" ]; then
        git clone -q "$repo" "$fork"
        echo "fork's own file" > "$fork/FORK.txt"
        git -C "$fork" add FORK.txt
        git -C "$fork" -c user.name=Bench -c user.email=bench@example.com commit -qm fork
    fi
    run() { echo "$kh history $* --format json -o /dev/null -q"; }
    python3 bench/timeit.py --runs "${RUNS:-3}" "one=$(run "$repo")" \
        "both=$(run "$repo" "$fork")" "apart=$(run "$repo"); $(run "$fork")"
    python3 bench/rss.py "one=$(run "$repo")" "both=$(run "$repo" "$fork")"
    "$kh" history "$repo" "$fork" --format json -q | python3 -c '
import json, sys
for c in json.load(sys.stdin)["summary"]["coverage"]:
    print("%(repository)s: %(commits)d commits, %(blobs)d blobs, %(blobs_scanned)d read, "
          "%(blobs_shared)d shared, %(objects_missing)d missing, %(elapsed_ms)d ms" % c)
' || true
    exit 0
fi

deep=
case $what in
    git)
        repo=${REPO:-target/bench/git.git}; deep=1
        # --no-local packs what branches and tags reach into one fresh pack, as a network
        # clone does (the snapshot also holds pull-request refs).
        [ -d "$repo" ] || git clone -q --bare --no-local "$mirror/git+git/repo" "$repo"
        ;;
    trufflehog)
        repo=${REPO:-target/bench/trufflehog.git}; deep=1
        if [ ! -d "$repo" ]; then
            # The snapshot lacks one blob (files of 4 MiB and more are not stored), so a packing
            # clone fails: clone locally, then pack what branches and tags reach, allowing it.
            git clone -q --bare --local "$mirror/trufflesecurity+trufflehog/repo" "$repo"
            old=$(ls "$repo"/objects/pack/*.pack)
            git -C "$repo" pack-objects -q --revs --all --missing=allow-any --delta-base-offset \
                objects/pack/pack </dev/null >/dev/null
            rm -f "${old%.pack}".*
        fi
        ;;
    *)
        repo=${REPO:-target/bench/history-$what}
        if [ ! -d "$repo" ]; then
            # The generator stops when a random edit changes nothing; let such a commit be empty.
            shim=$(mktemp -d); real=$(command -v git)
            printf '#!/bin/sh\nif [ "$1" = commit ]; then shift; exec %s commit --allow-empty "$@"; fi\nexec %s "$@"\n' "$real" "$real" > "$shim/git"
            chmod +x "$shim/git"
            PATH="$shim:$PATH" bash ../shared/bench/make-history-repo.sh "$repo" "$what" >/dev/null
        fi
        ;;
esac

blob_bytes=$(git -C "$repo" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)' | awk '$1=="blob"{s+=$2} END{printf "%.0f\n", s}')
objects=$(git -C "$repo" count-objects -v | awk '/^(count|in-pack):/{s+=$2} END{print s}')
echo "repo: $repo, $(git -C "$repo" rev-list --all | wc -l) commits, $objects objects, $blob_bytes blob bytes"

if [ -z "$deep" ]; then
    cmds=("floor=git -C '$repo' cat-file --batch-all-objects --batch >/dev/null"
          "keyhound=$kh history '$repo' --format json -o /dev/null -q")
    [ -x "$kf" ] && cmds+=("kingfisher=$kf scan '$repo' --git-history full --no-validate --no-update-check --format json -o /dev/null -q")
    python3 bench/timeit.py --runs "${RUNS:-3}" --bytes "$blob_bytes" "${cmds[@]}"
    /usr/bin/time -f "keyhound peak RSS %M KB" "$kh" history "$repo" --format json -o /dev/null -q 2>&1 | tail -1 || true
    exit 0
fi

# The blobs in pack order, cut in two halves of equal bytes: the two-process floor.
lists=$(mktemp -d); trap 'rm -rf "$lists"' EXIT
git -C "$repo" cat-file --batch-all-objects --unordered --batch-check='%(objectname) %(objecttype) %(objectsize)' |
    awk -v dir="$lists" '$2=="blob"{id[n]=$1; size[n]=$3; total+=$3; n++}
        END{for(i=0;i<n;i++){acc+=size[i]; print id[i] > (dir "/" (acc <= total/2 ? 1 : 2))}}'
cmds=("floor=git -C '$repo' cat-file --batch-all-objects --unordered --batch >/dev/null"
      "floor-2proc=git -C '$repo' cat-file --batch <'$lists/1' >/dev/null & git -C '$repo' cat-file --batch <'$lists/2' >/dev/null; wait"
      "keyhound=$kh history '$repo' --format json -o /dev/null -q")
[ -n "${KEYHOUND_BEFORE:-}" ] && cmds+=("keyhound-before=$KEYHOUND_BEFORE history '$repo' --format json -o /dev/null -q")
# GITCAT=1: keyhound reading the same pack order through `git cat-file` instead of libgit2.
[ -n "${GITCAT:-}" ] && cmds+=("keyhound-gitcat=KEYHOUND_HISTORY_READER=git $kh history '$repo' --format json -o /dev/null -q")
[ -x "$kf" ] && cmds+=("kingfisher=$kf scan '$repo' --git-history full --no-validate --no-update-check --format json -o /dev/null -q")
table=$(python3 bench/timeit.py --ok 0,1,2,200 --runs "${RUNS:-3}" --bytes "$blob_bytes" "${cmds[@]}")
echo "$table"
rss=$(python3 bench/rss.py "${cmds[@]}")
echo "$rss"

# Side by side, the issue's table: each command's median wall time, its ratio to the one-thread
# floor, its own peak RSS and that of it and its children at once.
echo
{ echo "$table"; echo "--"; echo "$rss"; } | awk '
    $1=="--" {rss=1; next}
    !rss && $1!="command" {order[n++]=$1; wall[$1]=$2; x[$1]=$NF}
    rss && $1!="command" {main[$1]=$2; proc[$1]=$3; all[$1]=$4}
    END {
        printf "| command | median s | x floor | peak RSS, largest process MB | peak RSS, with children MB |\n|---|---|---|---|---|\n"
        for (i = 0; i < n; i++) { c = order[i]
            printf "| %s | %s | %s | %s | %s |\n", c, wall[c], x[c], proc[c], all[c] }
    }'

# Check the targets against this run's medians and peaks.
med() { echo "$table" | awk -v n="$1" '$1==n{print $2}'; }
own() { echo "$rss" | awk -v n="$1" '$1==n{print $2}'; }
tree() { echo "$rss" | awk -v n="$1" '$1==n{print $4}'; }
check() { if awk "BEGIN{exit !($2)}"; then echo "ok    $1"; else echo "MISS  $1"; fi; }
floor=$(med floor); k=$(med keyhound); f=$(med kingfisher)
check "keyhound $k s <= $max_floor x floor $floor s" "$k <= $max_floor * $floor"
case $f in ""|failed) ;; *) check "kingfisher $f s >= $min_peer x keyhound" "$f >= $min_peer * $k" ;; esac
check "keyhound peak RSS $(own keyhound) MB <= $max_rss_mb MB" "$(own keyhound) <= $max_rss_mb"
check "keyhound and its git children at once $(tree keyhound) MB <= $max_rss_mb MB" "$(tree keyhound) <= $max_rss_mb"
