"""The routing audit log: every transition attempt (changed, refused, or unknown when
its write went unanswered), the later record that resolves an unknown one, and every
replication drill control, whichever door it came through, in every region's audit
table."""

import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings

from mra_site.aws.clients import regions
from mra_site.aws.dynamodb import item_put, write_stamp
from mra_site.aws.errors import AwsError
from mra_site.resources import table_name


def audit_transition_record(
    *,
    actor: str,
    via_region: str,
    outcome: str,
    from_state: str,
    to_state: str,
    expected_version: int,
    reason: str,
    forced: bool,
    lag_seconds: float | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Record one transition attempt, `changed`, `refused` or `unknown`, with the version
    it expected and the one it found (`found_version` in `details`); or, with
    `resolves` in `details`, what became of an earlier attempt of unknown outcome."""
    event: dict[str, Any] = {
        "actor": actor,
        "via_region": via_region,
        "outcome": outcome,
        "from_state": from_state,
        "to_state": to_state,
        "expected_version": expected_version,
        "reason": reason,
        "forced": forced,
        **(details or {}),
    }
    if lag_seconds is not None:
        event["lag_seconds"] = Decimal(str(round(lag_seconds, 3)))
    _audit_put(event)


def audit_control_record(
    *, actor: str, action: str, direction: str, detail: str, reason: str = ""
) -> None:
    """Record a replication drill control (pause, resume, delay) beside the transitions
    it affects; `kind` tells the two apart."""
    _audit_put(
        {
            "kind": "replication_control",
            "actor": actor,
            "via_region": settings.MRA_REGION,
            "outcome": "changed",
            "from_state": "",
            "to_state": "",
            "expected_version": 0,
            "forced": False,
            "action": action,
            "direction": direction,
            "detail": detail,
            "reason": reason,
        }
    )


def _audit_put(event: dict[str, Any]) -> None:
    """The event into every region's audit table that answers; the log must not block a
    change in a drill where a region is down."""
    now_us = time.time_ns() // 1000
    event = {
        "app_id": settings.MRA_APP_ID,
        "event_id": f"{now_us:020d}#{uuid.uuid4().hex[:8]}",
        "at": datetime.fromtimestamp(now_us / 1_000_000, tz=UTC).isoformat(timespec="milliseconds"),
        **event,
    }
    for region in regions():
        try:
            item_put(
                region=region,
                table=table_name("audit"),
                item={**event, **write_stamp(region), "mra_written_at": now_us},
                action="write routing audit event",
            )
        except AwsError:
            continue
