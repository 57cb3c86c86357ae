"""Resident memory of benchmarked processes and their children, read from /proc."""

from __future__ import annotations

import contextlib
from pathlib import Path


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(child) for child in text)
    return found


def max_rss_mb(pids: list[int]) -> float:
    """The largest RSS among these processes and their children (each is one process)."""
    sizes = []
    for pid in pids:
        for each in [pid, *children(pid)]:
            with contextlib.suppress(FileNotFoundError):  # it exited meanwhile
                sizes.append(rss_mb(each))
    return round(max(sizes, default=0.0), 1)
