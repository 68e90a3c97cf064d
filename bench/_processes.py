"""What the benchmarks read of a process and its children (psutil)."""

import contextlib

import psutil


def tree(pid: int) -> list[psutil.Process]:
    """The process and its live children; empty once it has gone."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def rss(pid: int) -> int:
    """Resident memory of the process and its live children, bytes."""
    total = 0
    for process in tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total


def cpu_seconds(pid: int) -> float:
    """CPU time of the process and its live children (user + system)."""
    total = 0.0
    for process in tree(pid):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total
