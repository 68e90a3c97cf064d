"""Drill controls (pause, resume, extra delay, a lag measurement's start) per direction.

They live in a JSON file in the state directory rather than in a DynamoDB
item: a control item would itself be replicated and would be unreachable in
exactly the drills that stop a region, while the local replicator and the
CLI always share the machine. The replicator re-reads the file when it changes.
"""

import fcntl
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from .directions import Direction, directions_all
from .files import json_read, json_write, state_dir

CONTROL_FILE = "control.json"
# Longer than any drill needs; a typo of an extra digit should not stall replication for a day.
MAX_DELAY_SECONDS = 3600.0


@dataclass(frozen=True)
class Control:
    paused: bool = False
    delay_seconds: float = 0.0
    # Epoch seconds: the status also reports the lag of the changes made since
    # then, so that a drill reads its own lag and not what ran before it.
    lag_since: float = 0.0
    updated_at: str = ""


def replication_controls_get() -> dict[str, Control]:
    """{direction name: Control} for both directions."""
    stored = json_read(CONTROL_FILE, {}).get("directions", {})
    return {
        d.name: Control(**{k: v for k, v in stored.get(d.name, {}).items() if k in _FIELDS})
        for d in directions_all()
    }


def replication_pause(*, direction: Direction | None = None) -> dict[str, Control]:
    """Stop applying changes in one direction (both when None); reading continues."""
    return _update(direction, paused=True)


def replication_resume(*, direction: Direction | None = None) -> dict[str, Control]:
    """Apply changes again, including everything that queued up while paused."""
    return _update(direction, paused=False)


def replication_delay(*, seconds: float, direction: Direction | None = None) -> dict[str, Control]:
    """Hold every change until it is `seconds` old before applying it (0 removes the delay)."""
    if not 0 <= seconds <= MAX_DELAY_SECONDS:  # also false for nan
        raise ValueError(
            f"delay must be between 0 and {MAX_DELAY_SECONDS:g} seconds, got {seconds}"
        )
    return _update(direction, delay_seconds=float(seconds))


def replication_lag_mark(*, at: float, direction: Direction | None = None) -> dict[str, Control]:
    """Start a lag measurement at `at` (epoch seconds): the status reports the p99 lag
    of the changes made since then, alongside its fixed windows."""
    if not math.isfinite(at) or at < 0:
        raise ValueError(f"the measurement's start must be a time in epoch seconds, got {at}")
    return _update(direction, lag_since=float(at))


_FIELDS = set(Control.__dataclass_fields__)


def _update(direction: Direction | None, **changes: object) -> dict[str, Control]:
    chosen = [direction] if direction else directions_all()
    with _locked():
        data = json_read(CONTROL_FILE, {})
        stored = data.setdefault("directions", {})
        now = datetime.now(UTC).isoformat()
        for d in chosen:
            stored[d.name] = {**stored.get(d.name, {}), **changes, "updated_at": now}
        json_write(CONTROL_FILE, data)
    return replication_controls_get()


@contextmanager
def _locked() -> Iterator[None]:
    with (state_dir() / ".control.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def control_as_dict(control: Control) -> dict[str, object]:
    return asdict(control)
