#!/usr/bin/env python3
"""Recall and precision of keyhound on the peer scanners' published examples.

usage: bench/corpus.py [CORPUS] [--keyhound BIN] [--show PROVIDER]

CORPUS defaults to ../shared/peer-examples/peer_examples.jsonl (one JSON object a line:
provider, kind positive|negative, text, notes). Each text is scanned on its own through
`keyhound scan -`; a positive counts as found when keyhound reports anything for it, and as
attributed when a reported rule's provider equals the corpus provider. Prints a table per
provider. The corpus is not copied into the repository; it is read where it lies.
"""
import argparse, collections, json, os, subprocess, sys
from concurrent.futures import ThreadPoolExecutor

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("corpus", nargs="?", default=os.path.join(here, "..", "..", "shared", "peer-examples", "peer_examples.jsonl"))
ap.add_argument("--keyhound", default=os.environ.get("KEYHOUND", os.path.join(here, "..", "target", "release", "keyhound")))
ap.add_argument("--show", default=None, help="print misses and false alarms for this provider ('all' for every one)")
args = ap.parse_args()

items = [json.loads(l) for l in open(args.corpus) if l.strip()]

def scan(item):
    r = subprocess.run([args.keyhound, "scan", "-", "--format", "jsonl", "-q"], input=item["text"].encode(),
                       capture_output=True)
    found = [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]
    return item, found

# Corpus provider names that differ from keyhound's.
ALIASES = {"google_api_key": "google", "private_key": "private-key"}

stats = collections.defaultdict(lambda: collections.Counter())
misses = []
with ThreadPoolExecutor(8) as ex:
    for item, found in ex.map(scan, items):
        p, kind = item["provider"], item["kind"]
        ours = ALIASES.get(p, p)
        s = stats[p]
        if kind == "positive":
            s["pos"] += 1
            if found:
                s["found"] += 1
                if any(f["provider"] == ours for f in found):
                    s["attributed"] += 1
            else:
                misses.append(("miss", item, found))
        else:
            # A negative for provider X is "not an X key": reporting it as another provider's key
            # (an Anthropic key listed as an OpenAI negative) is right, so only X counts.
            s["neg"] += 1
            if any(f["provider"] == ours for f in found):
                s["false_alarm"] += 1
                misses.append(("false alarm", item, found))

tot = collections.Counter()
print(f"{'provider':<16}{'pos':>5}{'found':>7}{'attrib':>8}{'neg':>6}{'FP':>5}")
for p in sorted(stats):
    s = stats[p]; tot.update(s)
    print(f"{p:<16}{s['pos']:>5}{s['found']:>7}{s['attributed']:>8}{s['neg']:>6}{s['false_alarm']:>5}")
print(f"{'total':<16}{tot['pos']:>5}{tot['found']:>7}{tot['attributed']:>8}{tot['neg']:>6}{tot['false_alarm']:>5}")
if tot["pos"]:
    print(f"recall {tot['found'] / tot['pos']:.3f}, attributed {tot['attributed'] / tot['pos']:.3f}, "
          f"false alarms on negatives {tot['false_alarm']}/{tot['neg']}")
if args.show:
    for what, item, found in misses:
        if args.show in ("all", item["provider"]):
            rules = ",".join(f["rule"] for f in found)
            print(f"{what}: [{item['provider']}] {item['text'][:100]!r} -> {rules} {item.get('note', '')}")
