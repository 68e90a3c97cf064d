"""Reading the routing state from a region's own replica."""

import threading
import time
from dataclasses import dataclass

from django.conf import settings

from mra_site.aws.clients import aws_call, dynamodb_table
from mra_site.aws.errors import ResourceMissing
from mra_site.resources import table_name

from .states import RoutingState


@dataclass(frozen=True)
class StateRecord:
    app_id: str
    state: RoutingState
    version: int
    updated_at: str
    updated_by: str
    reason: str

    @property
    def writable_region(self) -> str | None:
        return self.state.writable_region()


_cache: dict[str, tuple[float, StateRecord]] = {}
_cache_lock = threading.Lock()


def routing_state_get(*, region: str, max_age: float | None = None) -> StateRecord:
    """The state record as `region`'s replica holds it.

    Cached in-process for MRA_STATE_CACHE_SECONDS (pass max_age=0 for a fresh
    read): the transaction's condition check, not this cache, guards writes.
    """
    max_age = settings.MRA_STATE_CACHE_SECONDS if max_age is None else max_age
    now = time.monotonic()
    cached = _cache.get(region)
    if cached and max_age > 0 and now - cached[0] < max_age:
        return cached[1]
    with aws_call(region, "read routing state"):
        item = (
            dynamodb_table(region, table_name("state"))
            .get_item(Key={"app_id": settings.MRA_APP_ID}, ConsistentRead=True)
            .get("Item")
        )
    if not item:
        raise ResourceMissing(
            f"no routing state for {settings.MRA_APP_ID!r} in {region}: "
            "run `python manage.py mra_bootstrap`",
            region=region,
        )
    record = StateRecord(
        app_id=str(item["app_id"]),
        state=RoutingState(item["state"]),
        version=int(item["version"]),
        updated_at=str(item.get("updated_at", "")),
        updated_by=str(item.get("updated_by", "")),
        reason=str(item.get("reason", "")),
    )
    with _cache_lock:
        _cache[region] = (time.monotonic(), record)
    return record


def clear_state_cache() -> None:
    with _cache_lock:
        _cache.clear()
