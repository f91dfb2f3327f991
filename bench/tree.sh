#!/usr/bin/env bash
# Working-tree scan throughput: keyhound beside the read floor and peers, same run, warm cache.
# usage: bench/tree.sh [DIR]   (default: this machine's Python stdlib with site-packages)
# Floor: `find -type f | xargs cat` reads every file once. Peers, if installed:
#   KINGFISHER (default: kingfisher on PATH), RIPSECRETS (default: ripsecrets on PATH).
#   keyhound: KEYHOUND (default target/release/keyhound). KEYHOUND_BEFORE=path times an older
#   build beside it; KEYHOUND_ARGS adds arguments to both (e.g. `--config extra-rules.toml`, to
#   measure with more rules).
set -eu
cd "$(dirname "$0")/.."
dir=${1:-$(python3 -c 'import sysconfig;print(sysconfig.get_paths()["stdlib"])')}
kh=${KEYHOUND:-target/release/keyhound}
kf=${KINGFISHER:-$(command -v kingfisher || true)}
rs=${RIPSECRETS:-$(command -v ripsecrets || true)}
[ -x "$kh" ] || cargo build --release -q
bytes=$(find "$dir" -type f -print0 | du -cb --files0-from=- | tail -1 | cut -f1)
echo "tree: $dir, $(find "$dir" -type f | wc -l) files, $bytes bytes"
args=${KEYHOUND_ARGS:-}
cmds=("floor=find '$dir' -type f -print0 | xargs -0 -P2 -n 2000 cat >/dev/null"
      "keyhound=$kh scan '$dir' --format json -o /dev/null -q $args")
[ -n "${KEYHOUND_BEFORE:-}" ] && cmds+=("keyhound-before=$KEYHOUND_BEFORE scan '$dir' --format json -o /dev/null -q $args")
[ -x "$kf" ] && cmds+=("kingfisher=$kf scan '$dir' --no-validate --no-update-check --git-history none --format json -o /dev/null -q")
[ -x "$rs" ] && cmds+=("ripsecrets=$rs '$dir'")
python3 bench/timeit.py --runs "${RUNS:-5}" --bytes "$bytes" "${cmds[@]}"
for c in "$kh scan $dir --format json -o /dev/null -q" ; do
    /usr/bin/time -f "keyhound peak RSS %M KB" sh -c "$c" 2>&1 >/dev/null | tail -1 || true
done
