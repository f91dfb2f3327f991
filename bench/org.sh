#!/usr/bin/env bash
# Organisation audit throughput (issue 13): `keyhound audit --repos-from LIST` over generated
# repositories as 1, 2 and 4 shards, the shards of one run at once (as the pods of an Indexed
# Job would be), then `keyhound merge`; reports repositories per hour per core, the merge time,
# each shard's peak RSS, and checks that every merged report is byte-identical to the one-shard
# report.
#
# usage: bench/org.sh            200 repositories (REPOS=n for another count)
# The repositories are built once under target/bench/org/ (delete it to rebuild): three bases
# of 600, 150 and 30 commits from ../shared/bench/make-history-repo.sh; each repository is a base
# rewritten with its own content (every blob differs: an independent project of that size), or,
# every fifth one, a fork of the one before it (a clone plus a few commits: shared history);
# every seventh gets a generated fake key. Sizes: one in ten large, three medium, six small.
# Environment: KEYHOUND (default target/release/keyhound), REPOS, CORES (default nproc),
# BUILD_ONLY=1 (build the repositories, time nothing).
set -eu
cd "$(dirname "$0")/.."
kh=${KEYHOUND:-target/release/keyhound}
repos=${REPOS:-200}
cores=${CORES:-$(nproc)}
root=target/bench/org
[ -x "$kh" ] || cargo build --release -q

# The generator stops when a random edit changes nothing; let such a commit be empty.
shim=$(mktemp -d); real=$(command -v git)
trap 'rm -rf "$shim"' EXIT
printf '#!/bin/sh\nif [ "$1" = commit ]; then shift; exec %s commit --allow-empty "$@"; fi\nexec %s "$@"\n' "$real" "$real" > "$shim/git"
chmod +x "$shim/git"
mkdir -p "$root/repos"
for n in 600 150 30; do
    [ -d "$root/base-$n" ] || PATH="$shim:$PATH" bash ../shared/bench/make-history-repo.sh "$root/base-$n" "$n" >/dev/null
done

export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com
# Rewrite a base's history with every blob made unique to repository $2 (a line appended), so it
# shares nothing with the other repositories built from that base.
rewrite() {
    python3 - "$1" "$2" <<'PY'
import subprocess, sys
base, tag = sys.argv[1], sys.argv[2].encode()
src = subprocess.Popen(["git", "-C", base, "fast-export", "--all", "--reencode=yes"], stdout=subprocess.PIPE)
out = sys.stdout.buffer
inp = src.stdout
in_blob = False
while True:
    line = inp.readline()
    if not line:
        break
    if line == b"blob\n":
        in_blob = True
    if line.startswith(b"data ") and in_blob:
        n = int(line[5:])
        body = inp.read(n) + b"\n# " + tag + b"\n"
        out.write(b"data %d\n" % len(body) + body)
        in_blob = False
        continue
    if line.startswith(b"data "):
        n = int(line[5:])
        out.write(line + inp.read(n))
        continue
    out.write(line)
src.wait()
PY
}
# A fake key (generated, never stored): sk-proj-, 74, the marker, 74 base64url characters.
fake_key() {
    python3 -c 'import random,sys; r=random.Random(int(sys.argv[1])); a="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"; s=lambda n:"".join(r.choice(a) for _ in range(n)); print("sk-proj-"+s(74)+"T3Blbk"+"FJ"+s(74))' "$1"
}
made=0
for i in $(seq 0 $((repos - 1))); do
    name=$(printf 'r%03d' "$i"); dest="$root/repos/$name.git"
    [ -d "$dest" ] && continue
    case $((i % 10)) in 0) base=600 ;; 1|2|3) base=150 ;; *) base=30 ;; esac
    work=$(mktemp -d)
    if [ $((i % 5)) -eq 4 ]; then
        # A fork of the previous repository: its history and three commits of its own.
        git clone -q "$root/repos/$(printf 'r%03d' $((i - 1))).git" "$work/w"
    else
        git init -q --bare "$work/w.git"
        rewrite "$root/base-$base" "$name" | git -C "$work/w.git" fast-import --quiet
        git -C "$work/w.git" symbolic-ref HEAD refs/heads/main
        git clone -q "$work/w.git" "$work/w"
    fi
    for c in 1 2 3; do
        echo "change $c of $name" > "$work/w/$name-$c.txt"
        git -C "$work/w" add -A && git -C "$work/w" commit -qm "$name $c"
    done
    if [ $((i % 7)) -eq 0 ]; then
        echo "OPENAI_API_KEY=$(fake_key "$i")" > "$work/w/.env"
        git -C "$work/w" add -A && git -C "$work/w" commit -qm "$name settings"
    fi
    git clone -q --bare "$work/w" "$dest"
    rm -rf "$work"; made=$((made + 1))
done
[ "$made" -eq 0 ] || echo "built $made repositories under $root/repos"
[ -z "${BUILD_ONLY:-}" ] || exit 0
list="$root/list-$repos.txt"
ls -d "$PWD/$root"/repos/r*.git | head -n "$repos" > "$list"
bytes=$(cat "$list" | xargs -I{} du -sb {}/objects | awk '{s+=$1} END{print s}')
blobs=$(cat "$list" | xargs -I{} git -C {} rev-list --all --objects | wc -l)
echo "$repos repositories, $((bytes / 1000000)) MB of objects, $blobs objects reachable (summed over repositories); $cores cores"

out=$(mktemp -d)
trap 'rm -rf "$shim" "$out"' EXIT
peak() { awk '/Maximum resident/{print $6}' "$1"; }
echo
echo "| shards | threads each | wall s | repos/hour/core | merge s | peak RSS per shard MB | identical to 1 shard |"
echo "|---|---|---|---|---|---|---|"
for n in 1 2 4; do
    threads=$(( cores / n )); [ "$threads" -ge 1 ] || threads=1
    start=$(date +%s.%N)
    for k in $(seq 0 $((n - 1))); do
        shard=(); [ "$n" -gt 1 ] && shard=(--shard "$k/$n")
        /usr/bin/time -v -o "$out/time-$n-$k" "$kh" audit --repos-from "$list" "${shard[@]}" \
            -j "$threads" --format json --show-secrets -q -o "$out/shard-$n-$k.json" 2>"$out/err-$n-$k" &
    done
    wait || true
    end=$(date +%s.%N)
    wall=$(echo "$end - $start" | bc -l)
    rss=$(for k in $(seq 0 $((n - 1))); do peak "$out/time-$n-$k"; done | sort -n | tail -1)
    if [ "$n" -eq 1 ]; then
        merge_s="-"; same="-"
        "$kh" merge "$out/shard-1-0.json" --format json --show-secrets -q -o "$out/whole.json" || true
    else
        ms=$(date +%s.%N)
        "$kh" merge "$out"/shard-$n-*.json --format json --show-secrets -q -o "$out/merged-$n.json" || true
        me=$(date +%s.%N)
        merge_s=$(printf '%.2f' "$(echo "$me - $ms" | bc -l)")
        if cmp -s "$out/merged-$n.json" "$out/whole.json"; then same=yes; else same=NO; fi
    fi
    rate=$(echo "$repos / ($wall / 3600) / $cores" | bc -l)
    printf '| %d | %d | %.1f | %.0f | %s | %.0f | %s |\n' "$n" "$threads" "$wall" "$rate" "$merge_s" "$(echo "$rss / 1024" | bc -l)" "$same"
done
findings=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$out/whole.json")
echo
echo "findings in the whole report: $findings (one fake key in every seventh repository and its forks)"
