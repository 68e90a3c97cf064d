"""What the replicator last reported, for the API, the console and the drain check."""

import time
from typing import Any

from django.conf import settings

from .directions import directions_all
from .engine.runner import status_file
from .files import json_read


class ReplicatorNotRunning(Exception):
    """No fresh status: the replicator is not running, so nothing is known to be drained."""


def replication_status_get() -> dict[str, Any]:
    """{"running", "directions": {name: status}}; a direction without a fresh status
    is reported with "running": false."""
    directions = {}
    now = time.time()
    for direction in directions_all():
        status = json_read(status_file(direction), None)
        fresh = (
            bool(status) and now - status["updated_at"] <= settings.MRA_REPLICATION_STATUS_MAX_AGE
        )
        directions[direction.name] = {
            "source": direction.source,
            "target": direction.target,
            **(status or {}),
            "running": fresh,
            "age_seconds": round(now - status["updated_at"], 3) if status else None,
        }
    return {
        "mode": "emulated",
        "running": all(d["running"] for d in directions.values()),
        "directions": directions,
    }


def pending_toward(region: str) -> int:
    """Records and objects read from the other region but not yet applied to `region`.

    Raises ReplicatorNotRunning when the replicator has not reported within
    MRA_REPLICATION_STATUS_MAX_AGE seconds.
    """
    for direction in directions_all():
        if direction.target != region:
            continue
        status = replication_status_get()["directions"][direction.name]
        if not status["running"]:
            raise ReplicatorNotRunning(
                f"the replicator has not reported for {direction.name}; start it with "
                "`python manage.py replicate` (Procfile process `replicate`)"
            )
        return sum(dataset["pending"] for dataset in status["datasets"].values())
    raise ValueError(f"{region} is not one of the replicated regions")
