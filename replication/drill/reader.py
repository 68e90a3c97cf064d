"""A reader through the front door: a page and an API read, over and over, as a
visitor clicking around would; what a failover or an outage costs readers."""

import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .client import Stack

READ_INTERVAL = 0.1
# Longer than the door's read timeout plus its one retry on the other region.
READ_TIMEOUT = 5.0
READ_PATHS = ("/", "/api/photos?limit=12")


@dataclass(frozen=True)
class Read:
    path: str
    started: float  # wall clock, seconds
    seconds: float
    status: int  # 0 when no answer came
    region: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def longest_failed_stretch(reads: list[Read]) -> float:
    """The longest time readers saw only failures: from the start of a failed read
    to the start of the next read that succeeded (or the end of the last one)."""
    longest = 0.0
    since: float | None = None
    for read in sorted(reads, key=lambda r: r.started):
        if not read.ok:
            since = read.started if since is None else since
            longest = max(longest, read.started + read.seconds - since)
        elif since is not None:
            longest = max(longest, read.started - since)
            since = None
    return round(longest, 3)


def read_figures(reads: list[Read]) -> dict[str, Any]:
    """Counts, failures by status, the longest failed stretch and latency percentiles."""
    failed = [r for r in reads if not r.ok]
    latencies = sorted(r.seconds for r in reads)
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else latencies * 99
    return {
        "reads": len(reads),
        "failed": len(failed),
        "failed_by_status": dict(sorted(Counter(str(r.status) for r in failed).items())),
        "failed_seconds_total": round(sum(r.seconds for r in failed), 3),
        "longest_failed_stretch": longest_failed_stretch(reads),
        "latency_p50": round(quantiles[49], 3) if quantiles else None,
        "latency_p99": round(quantiles[98], 3) if quantiles else None,
    }


@dataclass(eq=False)
class DoorReader(threading.Thread):
    """GETs each of READ_PATHS through the door every READ_INTERVAL until `stop`."""

    stack: Stack
    stop: threading.Event
    interval: float = READ_INTERVAL
    reads: list[Read] = field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread.__init__(self, name="door-reader", daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            for path in READ_PATHS:
                self.reads.append(self.read(path))
            self.stop.wait(self.interval)

    def read(self, path: str) -> Read:
        started, clock = time.time(), time.monotonic()
        answer = self.stack.through_door("GET", path, timeout=READ_TIMEOUT)
        return Read(path, started, time.monotonic() - clock, answer.status, answer.region)

    def between(self, start: float, end: float) -> list[Read]:
        return [r for r in list(self.reads) if start <= r.started < end]
