#!/usr/bin/env bash
# Agent-hook latency (issue 14): `keyhound agent-hook` start to exit on one recorded event of each
# kind (fixtures/agent-events, with a generated key or none), beside the floor `true` (starting
# a process at all). The agent waits for this on every write, command and tool output, so the
# target is under 10 ms per event. Events run from a folder with a .keyhound.toml, so the
# policy is read as it is in a real project.
set -eu
cd "$(dirname "$0")/.."
kh=$(realpath "${KEYHOUND:-target/release/keyhound}")
[ -x "$kh" ] || cargo build --release -q
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '[allow]\npaths = ["fixtures/**"]\n' > "$work/.keyhound.toml"
# A fake key in the shape of an OpenAI project key, made here so no key is stored anywhere.
key=$(python3 -c 'import random,string;r=random.Random(14);a=string.ascii_letters+string.digits;print("sk-proj-"+"".join(r.choice(a) for _ in range(74))+"T3BlbkFJ"+"".join(r.choice(a) for _ in range(74)))')
cmds=("floor=true")
for f in claude-code/pre-write-key claude-code/pre-write-clean claude-code/post-bash-key \
         codex/pre-apply-patch-key cursor/before-shell-clean cursor/before-read-file-key; do
    agent=${f%%/*}
    out="$work/${f//\//-}.json"
    sed -e "s|__KEY__|$key|g" -e "s|__CWD__|$work|g" "fixtures/agent-events/$f.json" > "$out"
    cmds+=("$f=cd '$work' && '$kh' agent-hook --agent $agent < '$out'")
done
python3 bench/timeit.py --ms --runs "${RUNS:-50}" "${cmds[@]}"
