#!/usr/bin/env python3
"""Peak memory of a shell command: its main process, its largest process and its whole tree.

usage: bench/rss.py NAME=COMMAND ...

`main` is the peak RSS of the command's largest process that is not `git` or `sh` (the scanner
itself), sampled every 20 ms from /proc; `process` is the largest peak RSS of any one process
(`/usr/bin/time`'s %M: for keyhound that can be a `git cat-file` child); `tree` is the largest
sum of the RSS of every process of the command at once (keyhound's history scan runs `git
cat-file` children beside itself, and their delta-base caches and mapped pack count too).
"""
import os, subprocess, sys, tempfile, time


def tree_rss(root):
    """Sum of VmRSS (KB) of `root` and its descendants, and the largest of a non-git one."""
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
    total, main, todo = 0, 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status") as f:
                name = ""
                for line in f:
                    if line.startswith("Name:"):
                        name = line.split()[1]
                    if line.startswith("VmRSS:"):
                        kb = int(line.split()[1])
                        total += kb
                        if name not in ("git", "sh", "time"):
                            main = max(main, kb)
        except OSError:
            pass
    return total, main


print(f"{'command':<22}{'main MB':>10}{'process MB':>12}{'tree MB':>10}")
for arg in sys.argv[1:]:
    name, cmd = arg.split("=", 1)
    with tempfile.NamedTemporaryFile("r") as out:
        p = subprocess.Popen(["/usr/bin/time", "-o", out.name, "-f", "%M", "sh", "-c", cmd],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        peak = main = 0
        while p.poll() is None:
            tree, largest = tree_rss(p.pid)
            peak, main = max(peak, tree), max(main, largest)
            time.sleep(0.02)
        own = int(out.read().split()[-1])
    print(f"{name:<22}{main / 1024:10.0f}{own / 1024:12.0f}{peak / 1024:10.0f}")
