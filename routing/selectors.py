"""Reading the routing state from a region's own replica."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings

from mra_site.aws.dynamodb import Key, item_get, items_query
from mra_site.aws.errors import AwsError, ResourceMissing
from mra_site.cache import SingleFlightCache
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
    # While fenced: the region whose writes are being drained (the last
    # writable one) and when the fence was written (microseconds since the
    # epoch), so the drain check knows its source and what "after" means.
    fenced_from: str | None = None
    fenced_at: int | None = None
    # The random id of the transition that wrote this record, so that a transition
    # whose answer was lost can recognise its own write on re-reading (None for a
    # record from before write ids, such as the bootstrap's).
    write_id: str | None = None

    @property
    def writable_region(self) -> str | None:
        return self.state.writable_region()

    @property
    def writer_region(self) -> str:
        """The region writes are coming from or were last coming from."""
        if self.state is RoutingState.FENCED and self.fenced_from:
            return self.fenced_from
        return self.state.writable_region() or settings.MRA_PRIMARY_REGION


_cache: SingleFlightCache[StateRecord] = SingleFlightCache()
# How old a cached fenced state may be when the door's checks ask for it: at
# most one read per process per this many seconds while a transition runs.
FENCED_MAX_AGE_SECONDS = 0.1


def routing_state_get(*, region: str, max_age: float | None = None) -> StateRecord:
    """The state record as `region`'s replica holds it.

    Cached in-process for MRA_STATE_CACHE_SECONDS (pass max_age=0 for a fresh
    read): the transaction's condition check, not this cache, guards writes.
    The refresh is single-flight: however many threads ask at once (the write
    gate, pages, /writablez polled by the front door), a process reads the
    item at most once per MRA_STATE_CACHE_SECONDS.
    """
    max_age = settings.MRA_STATE_CACHE_SECONDS if max_age is None else max_age
    return _cache.get(region, max_age=max_age, load=lambda: _state_record_read(region=region))


def _state_record_read(*, region: str) -> StateRecord:
    item = state_item_read(region=region)
    if not item:
        raise StateMissing(region=region)
    return state_record_from_item(item)


class StateMissing(ResourceMissing):
    """The region has no routing state record (not bootstrapped): 503, naming the fix."""

    code = "state_missing"

    def __init__(self, *, region: str) -> None:
        message = (
            f"no routing state for {settings.MRA_APP_ID!r} in {region}: "
            "run `python manage.py mra_bootstrap`"
        )
        super().__init__(message, region=region)
        self.detail = message


def state_item_read(*, region: str) -> dict[str, Any] | None:
    """The raw state item of `region`'s replica (strongly consistent), None if absent."""
    return item_get(
        region=region,
        table=table_name("state"),
        key={"app_id": settings.MRA_APP_ID},
        consistent=True,
        action="read routing state",
    )


def state_record_from_item(item: dict[str, Any]) -> StateRecord:
    return StateRecord(
        app_id=str(item["app_id"]),
        state=RoutingState(item["state"]),
        version=int(item["version"]),
        updated_at=str(item.get("updated_at", "")),
        updated_by=str(item.get("updated_by", "")),
        reason=str(item.get("reason", "")),
        fenced_from=str(item["fenced_from"]) if item.get("fenced_from") else None,
        fenced_at=int(item["fenced_at"]) if item.get("fenced_at") is not None else None,
        write_id=str(item["write_id"]) if item.get("write_id") else None,
    )


def clear_state_cache() -> None:
    _cache.clear()


@dataclass(frozen=True)
class WritableStatus:
    """What GET /writablez tells the front door about one region."""

    region: str
    writable: bool
    # Where writes belong now: the writable region, or while fenced the region
    # that was writable before the fence; the door sends writes and reads there.
    home: bool
    state: str | None
    version: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "writable": self.writable,
            "home": self.home,
            "state": self.state,
            "version": self.version,
        }


def routing_writable_status(*, region: str) -> WritableStatus:
    """Whether `region` takes writes now, from the same cached state the write gate reads.

    When the region's own AWS does not answer (or holds no state), it is neither
    writable nor home, and `state` and `version` are None: a region that cannot
    read its state cannot commit a write either, and a stale answer must not
    draw the door's writes to it.
    """
    try:
        record = routing_state_get(region=region)
        if record.state is RoutingState.FENCED:
            # A fence lasts only until the promotion (or unfence) that follows it:
            # read it afresh, so that the door moves writes as soon as it ends.
            record = routing_state_get(region=region, max_age=FENCED_MAX_AGE_SECONDS)
    except AwsError:
        return WritableStatus(region=region, writable=False, home=False, state=None, version=None)
    return WritableStatus(
        region=region,
        writable=record.writable_region == region,
        home=record.writer_region == region,
        state=record.state.value,
        version=record.version,
    )


def routing_state_public(*, record: StateRecord, serving_region: str) -> dict[str, Any]:
    """The record as GET /api/state shows it to anyone (DESIGN.md field names):
    who changed it and the operator's reason are for operators only."""
    primary, secondary = settings.MRA_PRIMARY_REGION, settings.MRA_SECONDARY_REGION
    return {
        "app_id": record.app_id,
        "state": record.state.value,
        "version": record.version,
        "writable_region": record.writable_region,
        "primary_region": primary,
        "secondary_region": secondary,
        "serving_region": serving_region,
        "regions": {
            region: {"url": settings.MRA_REGION_URLS.get(region, ""), "role": role}
            for region, role in ((primary, "primary"), (secondary, "secondary"))
        },
        "updated_at": record.updated_at,
    }


def routing_state_for_operators(*, record: StateRecord, serving_region: str) -> dict[str, Any]:
    """The public record, with who changed it last and why."""
    return {
        **routing_state_public(record=record, serving_region=serving_region),
        "updated_by": record.updated_by,
        "reason": record.reason,
    }


HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 200


def routing_history_list(
    *, region: str, limit: int = HISTORY_DEFAULT_LIMIT
) -> list[dict[str, Any]]:
    """Audit events from `region`'s replica, newest first."""
    items = items_query(
        region=region,
        table=table_name("audit"),
        key=Key("app_id").eq(settings.MRA_APP_ID),
        forward=False,
        limit=limit,
        action="read routing audit log",
    )
    return [_plain(item) for item in items]


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB's Decimals as ints or floats, for JSON and templates."""
    result: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, Decimal):
            value = int(value) if value == value.to_integral_value() else float(value)
        elif isinstance(value, dict):
            value = _plain(value)
        elif isinstance(value, list):
            value = [_plain(v) if isinstance(v, dict) else v for v in value]
        result[key] = value
    return result
