#!/usr/bin/env bash
# `keyhound history --since DATE` beside the full audit of the same repository, same run
# (issue 10, #17 there: --since was slower than the full audit, 5.5 s vs 3.9 s; issue 12 item 4:
# --since and --range cost at most what they read). With BEFORE=path-to-an-older-keyhound, that
# build's two runs are interleaved too. The floor is `git rev-list --objects --all`, the walk of
# every tree that --since needs too (what any older commit has is known, not new); `range` is
# --range over the same newer commits (HEAD~K..HEAD). Then what each read, from the JSON
# coverage record: commits walked, blobs read and scanned, bytes scanned.
# usage: bench/since.sh [N] [DATE]   a repository of N commits (default 3000) from
#   ../shared/bench/make-history-repo.sh under target/bench/ (built once, as bench/history.sh
#   does; its commits are an hour apart from 2020-09-13), DATE default: the middle commit's day.
set -eu
cd "$(dirname "$0")/.."
n=${1:-3000}
repo=${REPO:-target/bench/history-$n}
kh=${KEYHOUND:-target/release/keyhound}
[ -x "$kh" ] || cargo build --release -q
if [ ! -d "$repo" ]; then
    # The generator stops when a random edit changes nothing; let such a commit be empty.
    shim=$(mktemp -d); real=$(command -v git)
    printf '#!/bin/sh\nif [ "$1" = commit ]; then shift; exec %s commit --allow-empty "$@"; fi\nexec %s "$@"\n' "$real" "$real" > "$shim/git"
    chmod +x "$shim/git"
    PATH="$shim:$PATH" bash ../shared/bench/make-history-repo.sh "$repo" "$n" >/dev/null
fi
since=${2:-$(git -C "$repo" log --format=%cs --skip=$((n / 2)) -1)}
newer=$(git -C "$repo" rev-list --all --since="$since" | wc -l)
echo "repo: $repo, $(git -C "$repo" rev-list --all | wc -l) commits, $newer of them since $since"
run() { echo "$1 history '$repo' ${2:-} --format json -o /dev/null -q"; }
k=$(git -C "$repo" rev-list --first-parent --count HEAD --since="$since")
cmds=("walk=git -C '$repo' rev-list --objects --all" "full=$(run "$kh")"
    "since=$(run "$kh" "--since $since")" "range=$(run "$kh" "--range HEAD~$k..HEAD")")
if [ -n "${BEFORE:-}" ]; then
    cmds+=("full-before=$(run "$BEFORE")" "since-before=$(run "$BEFORE" "--since $since")")
fi
python3 bench/timeit.py --runs "${RUNS:-5}" "${cmds[@]}"
for args in "" "--since $since" "--range HEAD~$k..HEAD"; do
    # shellcheck disable=SC2086
    "$kh" history "$repo" $args --format json -q | python3 -c '
import json, sys
label = sys.argv[1] or "full"
s = json.load(sys.stdin)["summary"]
c = s["coverage"][0]
print("%s: %d commits walked, %d blobs wanted, %d read, %.1f MB scanned, %d ms" % (
    label, c["commits"], c["blobs"], c["blobs_scanned"], s["bytes"] / 1e6, c["elapsed_ms"]))
' "$args" || true
done
