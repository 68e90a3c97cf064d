"""Both regions' replicas of the routing state: reading them together and bringing a
stale one up to date.

Each region reads the state from its own replica of the state table. Until
replication carries the state item between regions (locally nothing does; on
AWS global tables do, within about a second), a transition writes the item in
BOTH regions itself, and `routing_state_reconcile` (run at every canary round)
repairs a region that missed one while it was down, before the region's own
stale replica can let it take writes.
"""

from dataclasses import dataclass
from typing import Any

from mra_site.aws.clients import regions
from mra_site.aws.dynamodb import Attr, item_put
from mra_site.aws.errors import AwsError
from mra_site.resources import table_name

from .selectors import StateRecord, clear_state_cache, state_item_read, state_record_from_item


@dataclass(frozen=True)
class Replicas:
    """Each region's state item as read just now; `errors` names the regions that failed."""

    items: dict[str, dict[str, Any] | None]
    errors: dict[str, str]

    def newest(self) -> dict[str, Any] | None:
        present = [item for item in self.items.values() if item]
        return max(present, key=lambda item: int(item["version"]), default=None)


def routing_replicas_read() -> Replicas:
    """Read the state item from both regions' replicas, noting which did not answer."""
    items: dict[str, dict[str, Any] | None] = {}
    errors: dict[str, str] = {}
    for region in regions():
        try:
            items[region] = state_item_read(region=region)
        except AwsError as exc:
            errors[region] = str(exc)
    return Replicas(items=items, errors=errors)


def routing_state_reconcile() -> StateRecord | None:
    """Copy the newest state record to any replica holding an older one; return it.

    This is what a global table does on AWS; locally it repairs a region that
    missed a transition while it was down.
    """
    replicas = routing_replicas_read()
    newest = replicas.newest()
    if newest is None:
        return None
    for region, item in replicas.items.items():
        if item is not None and int(item["version"]) >= int(newest["version"]):
            continue
        try:
            replica_catch_up_put(region=region, item=newest)
        except AwsError:
            # Updated meanwhile, still down, or not provisioned yet: next round.
            continue
        clear_state_cache()
    return state_record_from_item(newest)


def routing_writer_region() -> str | None:
    """The region writing now (or, while fenced, the one that was), after reconciling."""
    record = routing_state_reconcile()
    return record.writer_region if record else None


def replica_catch_up_put(*, region: str, item: dict[str, Any]) -> None:
    """Write `item` into `region`'s replica unless it already holds that version or newer."""
    item_put(
        region=region,
        table=table_name("state"),
        item=item,
        condition=Attr("app_id").not_exists() | Attr("version").lt(item["version"]),
        action="update routing state replica",
    )


def replica_holds_at_least(*, region: str, version: int) -> bool:
    try:
        item = state_item_read(region=region)
    except AwsError:
        return False
    return item is not None and int(item["version"]) >= version
