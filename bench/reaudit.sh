#!/usr/bin/env bash
# Re-audit of an unchanged repository with --state (issue 19 item 30): beside the commit walk
# (`git rev-list --all`) and a full audit, interleaved (bench/timeit.py), then the targets:
# a re-audit costs at most 2x the commit walk and at most 10% of a full audit.
# usage: bench/reaudit.sh [trufflehog|git|PATH]   (default trufflehog; bench/history.sh
#        prepares target/bench/trufflehog.git and target/bench/git.git)
# Environment: RUNS (default 5), KEYHOUND (default target/release/keyhound).
set -eu
cd "$(dirname "$0")/.."
what=${1:-trufflehog}
kh=${KEYHOUND:-target/release/keyhound}
[ -x "$kh" ] || cargo build --release -q
case $what in
    trufflehog | git) repo=target/bench/$what.git
        [ -d "$repo" ] || { echo "run bench/history.sh $what first (it prepares $repo)" >&2; exit 2; } ;;
    *) repo=$what ;;
esac
state=$(mktemp -d)/state.json
trap 'rm -rf "$(dirname "$state")"' EXIT
# The first audit writes the state (exit 2 is a missing object in the snapshot: still recorded).
"$kh" history "$repo" --state "$state" --format json -o /dev/null -q 2>/dev/null || true
out=$(python3 bench/timeit.py --runs "${RUNS:-5}" --ms --ok 0,1,2 \
    "rev-list=git -C $repo rev-list --all" \
    "reaudit=$kh history $repo --state $state --format json -o /dev/null -q" \
    "full=$kh history $repo --format json -o /dev/null -q")
echo "$out"
python3 - "$out" <<'PY'
import re, sys
med = {}
for line in sys.argv[1].splitlines():
    m = re.match(r"\s*(\S+)\s+([0-9.]+)", line)
    if m:
        med[m.group(1)] = float(m.group(2))
walk, re_, full = med["rev-list"], med["reaudit"], med["full"]
print(f"re-audit / commit walk {re_ / walk:.2f}x (target <= 2), / full audit {re_ / full:.1%} (target <= 10%)")
sys.exit(0 if re_ <= 2 * walk and re_ <= 0.10 * full else 1)
PY
