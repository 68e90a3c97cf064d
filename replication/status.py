"""What the replicator last reported, for the API, the console and the drain check."""

import time
from datetime import datetime
from typing import Any

from django.conf import settings

from mra_site.aws import cloudwatch
from mra_site.aws.clients import is_emulated
from mra_site.aws.errors import AwsError
from mra_site.resources import TABLES, media_bucket

from .canary import RegionLag, canary_lags
from .directions import directions_all
from .engine.runner import status_file
from .files import json_read


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


def drain_check(*, source: str, target: str, fenced_at: int) -> list[str]:
    """Reasons `target` is not yet drained of `source`'s writes, by the local replicator:
    it must be running and unpaused, have read every stream and the bucket since the
    fence (`fenced_at`, microseconds), and hold nothing pending toward `target`.

    Part of `replication.drain.drain_check`; on AWS (no emulator) it has nothing to say.
    """
    if not is_emulated(target):
        return []
    name = f"{source}-to-{target}"
    status = replication_status_get()["directions"].get(name)
    if not status or not status["running"]:
        return [f"the replicator is not running ({name}); start `python manage.py replicate`"]
    reasons = []
    if status.get("paused"):
        reasons.append(f"replication {name} is paused: `python manage.py replication resume`")
    if status.get("rebuilding_source"):
        reasons.append(f"{source} came back empty and is still being refilled from {target}")
    if (status.get("resync") or {}).get("state") in ("running", "failed"):
        reasons.append(f"{target} is being refilled from {source} (it came back empty)")
    fenced = fenced_at / 1_000_000
    pending = {key: d["pending"] for key, d in status["datasets"].items() if d["pending"]}
    if pending:
        detail = ", ".join(f"{count} {key}" for key, count in sorted(pending.items()))
        reasons.append(f"{sum(pending.values())} changes pending toward {target} ({detail})")
    unread = [
        key
        for key, dataset in status["datasets"].items()
        if not dataset["polled_at"]
        or datetime.fromisoformat(dataset["polled_at"]).timestamp() < fenced
    ]
    if unread:
        reasons.append(
            f"the replicator has not read {', '.join(unread)} of {source} since the fence"
        )
    return reasons


def replication_overview_get(
    *,
    lags: dict[str, RegionLag] | None = None,
    lag_seconds: dict[str, float | None] | None = None,
) -> dict[str, Any]:
    """What GET /api/replication shows: locally the replicator's status, on AWS the
    CloudWatch replication metrics; in both, each region's canary lag (`lags` and
    `lag_seconds` when the caller has read them already: the console shows one
    figure everywhere)."""
    if is_emulated():
        overview = replication_status_get()
    else:
        overview = {"mode": "aws", "directions": {}}
        for direction in directions_all():
            try:
                metrics = cloudwatch.replication_metrics(
                    source=direction.source,
                    target=direction.target,
                    buckets=(media_bucket(direction.source), media_bucket(direction.target)),
                    tables=[spec.name for spec in TABLES],
                )
            except AwsError as exc:
                metrics = {"error": str(exc)}
            overview["directions"][direction.name] = {
                "source": direction.source,
                "target": direction.target,
                **metrics,
            }
    lags = canary_lags() if lags is None else lags
    overview["canary"] = {
        region: {
            "lag_seconds": lag_seconds[region] if lag_seconds else lag.age_seconds(),
            "detail": lag.describe(),
        }
        for region, lag in lags.items()
    }
    return overview
