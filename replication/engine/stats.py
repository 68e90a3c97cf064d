"""Per direction and dataset: lag samples over a window, pending work, last apply and error."""

import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

WINDOW_SECONDS = 300.0
# A shorter window as well, so that a drill of half a minute reads its own lag
# and not the one of whatever ran in the minutes before.
RECENT_SECONDS = 60.0


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(fraction * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def _iso(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat() if epoch else None


@dataclass
class DatasetStats:
    samples: deque = field(default_factory=deque)  # (applied at, lag seconds)
    pending: int = 0
    pending_exact: bool = True
    applied: int = 0
    skipped: int = 0
    last_applied_at: float | None = None
    last_error: str = ""
    last_error_at: float | None = None
    polled_at: float | None = None

    def record_applied(self, *, origin_time: float, now: float | None = None) -> None:
        now = now or time.time()
        self.samples.append((now, max(0.0, now - origin_time)))
        self.applied += 1
        self.last_applied_at = now
        self._trim(now)

    def record_error(self, message: str) -> None:
        self.last_error = message
        self.last_error_at = time.time()

    def _trim(self, now: float) -> None:
        while self.samples and self.samples[0][0] < now - WINDOW_SECONDS:
            self.samples.popleft()

    def as_dict(self, *, since: float = 0.0) -> dict[str, object]:
        """The figures; `lag_p99_since_mark_seconds` covers the changes made at or after
        `since` (and applied within the window), when a measurement was started."""
        now = time.time()
        self._trim(now)
        lags = [lag for _, lag in self.samples]
        recent = [lag for at, lag in self.samples if at >= now - RECENT_SECONDS]
        marked = [lag for at, lag in self.samples if at - lag >= since] if since else []
        return {
            "lag_p50_seconds": round(percentile(lags, 0.5), 4) if lags else None,
            "lag_p99_seconds": round(percentile(lags, 0.99), 4) if lags else None,
            "lag_samples": len(lags),
            "lag_p99_recent_seconds": round(percentile(recent, 0.99), 4) if recent else None,
            "lag_recent_samples": len(recent),
            "lag_p99_since_mark_seconds": round(percentile(marked, 0.99), 4) if marked else None,
            "lag_since_mark_samples": len(marked),
            "pending": self.pending,
            "pending_exact": self.pending_exact,
            "applied": self.applied,
            "skipped": self.skipped,
            "last_applied_at": _iso(self.last_applied_at),
            "last_error": self.last_error or None,
            # Still failing: no successful read since the last error.
            "failing": bool(self.last_error_at)
            and (self.polled_at is None or self.polled_at < self.last_error_at),
            "last_error_at": _iso(self.last_error_at),
            "polled_at": _iso(self.polled_at),
        }
