#!/usr/bin/env python3
"""Time shell commands side by side, interleaved, and print medians and ratios.

usage: bench/timeit.py [--runs N] [--bytes B] [--ms] [--ok CODES] NAME=COMMAND ...

Each command runs through `sh -c`, its output discarded; exit codes 0 and 1 count as success
(scanners exit 1 on findings; --ok 0,1,2 also accepts 2, for a repository with a missing object). Runs are interleaved (A B C A B C ...) so machine noise hits every
command alike. The first command is the floor: ratios are to it. With --bytes, MB/s is printed.
Peak RSS comes from getrusage of the children (the largest child of each run).
"""
import argparse, resource, statistics, subprocess, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--runs", type=int, default=5)
ap.add_argument("--bytes", type=int, default=0)
ap.add_argument("--ms", action="store_true", help="print milliseconds")
ap.add_argument("--ok", default="0,1", help="exit codes that count as success")
ap.add_argument("commands", nargs="+")
a = ap.parse_args()
cmds = [c.split("=", 1) for c in a.commands]
times = {n: [] for n, _ in cmds}
rss = {n: 0 for n, _ in cmds}
failed = set()
for n, c in cmds:  # warm-up
    r = subprocess.run(["sh", "-c", c], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode not in {int(c) for c in a.ok.split(",")}:
        print(f"{n}: exit {r.returncode}: {r.stderr.decode(errors='replace')[-300:]}", file=sys.stderr)
        failed.add(n)
for _ in range(a.runs):
    for n, c in cmds:
        if n in failed:
            continue
        t = time.perf_counter()
        subprocess.run(["sh", "-c", c], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times[n].append(time.perf_counter() - t)
        rss[n] = max(rss[n], resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
floor = statistics.median(times[cmds[0][0]]) if times[cmds[0][0]] else None
unit = "ms" if a.ms else "s"
print(f"{'command':<22}{'median ' + unit:>12}{'min':>10}{'MB/s':>9}{'x floor':>9}")
for n, _ in cmds:
    if n in failed or not times[n]:
        print(f"{n:<22}{'failed':>12}")
        continue
    med, lo = statistics.median(times[n]), min(times[n])
    k = 1000 if a.ms else 1
    mbs = f"{a.bytes / med / 1e6:9.0f}" if a.bytes else f"{'':>9}"
    print(f"{n:<22}{med * k:12.3f}{lo * k:10.3f}{mbs}{med / floor:9.2f}")
