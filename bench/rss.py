#!/usr/bin/env python3
"""Peak memory of a shell command: its own largest process and its whole process tree.

usage: bench/rss.py NAME=COMMAND ...

`process` is the largest peak RSS of any one process (getrusage of the children, as
`/usr/bin/time -v` reports it); `tree` is the largest sum of the RSS of every process of the
command at once, sampled every 20 ms from /proc (keyhound's history scan runs `git cat-file`
children beside itself, and their delta-base caches count too).
"""
import os, subprocess, sys, tempfile, time


def tree_rss(root):
    """Sum of VmRSS (KB) of `root` and its descendants."""
    children = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(pid))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


print(f"{'command':<22}{'process MB':>12}{'tree MB':>10}")
for arg in sys.argv[1:]:
    name, cmd = arg.split("=", 1)
    with tempfile.NamedTemporaryFile("r") as out:
        p = subprocess.Popen(["/usr/bin/time", "-o", out.name, "-f", "%M", "sh", "-c", cmd],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        peak = 0
        while p.poll() is None:
            peak = max(peak, tree_rss(p.pid))
            time.sleep(0.02)
        own = int(out.read().split()[-1])
    print(f"{name:<22}{own / 1024:12.0f}{peak / 1024:10.0f}")
