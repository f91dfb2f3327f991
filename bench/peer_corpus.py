#!/usr/bin/env python3
"""Per-provider recall and false alarms of one keyhound binary on the shared peer corpus.

usage: bench/peer_corpus.py [--keyhound BIN] [--corpus FILE] [--show PROVIDER|all]

Each corpus text (../shared/peer-examples/peer_examples.jsonl: provider, kind, text, notes) is
scanned on its own with `keyhound scan - --format json -q`. A positive is "found" when keyhound
reports anything, "attributed" when a finding's provider is the corpus provider (names mapped
below). A negative is a false alarm ("FP") when a finding is attributed to its provider, and is
also counted in "any" when keyhound reports anything at all for it. Stdlib only; the corpus is
read where it lies, never copied into the repository.
"""
import argparse, collections, json, os, subprocess
from concurrent.futures import ThreadPoolExecutor

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--corpus", default=os.path.join(here, "..", "..", "shared", "peer-examples", "peer_examples.jsonl"))
ap.add_argument("--keyhound", default=os.environ.get("KEYHOUND", os.path.join(here, "..", "target", "debug", "keyhound")))
ap.add_argument("--show", default=None, help="print misses and false alarms for this provider ('all' for every one)")
ap.add_argument("--jobs", type=int, default=4)
args = ap.parse_args()

# Corpus provider name -> keyhound provider names that count as the right attribution.
ALIASES = {
    "google_api_key": {"google"},
    "google_oauth": {"google"},
    "gcp_service_account": {"gcp"},
    "private_key": {"private-key", "gcp"},
    "azure_openai": {"azure-openai"},
    "x:weightsandbiases": {"wandb"},
    "x:voyageai": {"voyage"},
    "x:kimi": {"moonshot"},
    "x:zhipu": {"zai"},
    "x:exaai": {"exa"},
    "x:stabilityai": {"stability"},
    "x:retellai": {"retell"},
}

def ours(p):
    return ALIASES.get(p, {p.removeprefix("x:")})

def scan(item):
    r = subprocess.run([args.keyhound, "scan", "-", "--format", "json", "-q"],
                       input=item["text"].encode(), capture_output=True)
    try:
        found = json.loads(r.stdout.decode() or "{}").get("findings", [])
    except json.JSONDecodeError:
        found = []
    return item, found

items = [json.loads(l) for l in open(args.corpus) if l.strip()]
stats = collections.defaultdict(collections.Counter)
notes = []
with ThreadPoolExecutor(args.jobs) as ex:
    for item, found in ex.map(scan, items):
        p, s, mine = item["provider"], stats[item["provider"]], ours(item["provider"])
        right = any(f["provider"] in mine for f in found)
        if item["kind"] == "positive":
            s["pos"] += 1
            s["found"] += bool(found)
            s["attrib"] += right
            if not right:
                notes.append(("miss", item, found))
        else:
            s["neg"] += 1
            s["fp"] += right
            s["any"] += bool(found)
            if found:
                notes.append(("false alarm" if right else "other finding", item, found))

tot = collections.Counter()
print(f"{'provider':<20}{'pos':>5}{'found':>7}{'attrib':>8}{'neg':>6}{'FP':>5}{'any':>5}")
for p in sorted(stats):
    s = stats[p]
    tot.update(s)
    print(f"{p:<20}{s['pos']:>5}{s['found']:>7}{s['attrib']:>8}{s['neg']:>6}{s['fp']:>5}{s['any']:>5}")
print(f"{'total':<20}{tot['pos']:>5}{tot['found']:>7}{tot['attrib']:>8}{tot['neg']:>6}{tot['fp']:>5}{tot['any']:>5}")
print(f"recall {tot['found'] / max(tot['pos'], 1):.3f}, attributed {tot['attrib'] / max(tot['pos'], 1):.3f}, "
      f"false alarms {tot['fp']}/{tot['neg']} (any finding on a negative: {tot['any']})")
if args.show:
    for what, item, found in notes:
        if args.show in ("all", item["provider"]):
            rules = ",".join(f["rule"] for f in found)
            print(f"{what}: [{item['provider']}] {item['text'][:140]!r} -> {rules} | {item.get('notes', '')}")
