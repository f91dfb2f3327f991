#!/usr/bin/env bash
# Pre-commit latency: `keyhound staged` (process start to exit) beside the floor
# (`git diff --cached --name-only`) and Kingfisher's `--staged`, in a repository of ~46,000 files
# (a copy of this machine's Python stdlib, committed once, cached under target/bench/) with a
# typical change staged: three files edited. KEYHOUND_BEFORE=path times an older build beside it;
# KEYHOUND_ARGS adds arguments to both (e.g. `--config /abs/extra-rules.toml`).
set -eu
cd "$(dirname "$0")/.."
repo=${REPO:-target/bench/staged-repo}
kh=$(realpath "${KEYHOUND:-target/release/keyhound}")
kf=${KINGFISHER:-$(command -v kingfisher || true)}
[ -x "$kh" ] || cargo build --release -q
if [ ! -d "$repo/.git" ]; then
    src=$(python3 -c 'import sysconfig;print(sysconfig.get_paths()["stdlib"])')
    mkdir -p "$repo"
    cp -r "$src/." "$repo/"
    git -C "$repo" init -q -b main
    git -C "$repo" add -A
    git -C "$repo" -c user.name=Bench -c user.email=bench@example.com commit -qm import
fi
git -C "$repo" reset -q --hard
for f in $(git -C "$repo" ls-files '*.py' | head -3); do echo "# edited $RANDOM" >> "$repo/$f"; done
git -C "$repo" add -u
echo "repo: $repo, $(git -C "$repo" ls-files | wc -l) files, $(git -C "$repo" diff --cached --name-only | wc -l) staged"
args=${KEYHOUND_ARGS:-}
cmds=("floor=cd '$repo' && git diff --cached --name-only"
      "keyhound=cd '$repo' && '$kh' staged -q $args")
[ -n "${KEYHOUND_BEFORE:-}" ] && cmds+=("keyhound-before=cd '$repo' && '$(realpath "$KEYHOUND_BEFORE")' staged -q $args")
[ -x "$kf" ] && cmds+=("kingfisher=cd '$repo' && $kf scan . --staged --no-validate --no-update-check -q")
python3 bench/timeit.py --ms --runs "${RUNS:-20}" "${cmds[@]}"
git -C "$repo" reset -q --hard
