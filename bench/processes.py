"""Resident memory and CPU time of benchmarked processes and their children, and which
process listens on a port (the broker, the database server), read from /proc."""

from __future__ import annotations

import contextlib
import os
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children so far (a PostgreSQL server: its postmaster,
    backends and writers). A child that ended in between is missed: a lower bound."""
    total = 0.0
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for each in [pid, *children(pid)]:
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                total += cpu_seconds(each)
    return total


def listener_pid(port: int) -> int | None:
    """The process listening on 127.0.0.1/0.0.0.0 `port` (TCP), if this user can see it."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{inode}]")
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    return int(proc.name)
    return None
