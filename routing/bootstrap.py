"""Bootstrap step: the routing state record, `active` at version 1.

A region that comes back empty (a restarted emulator, a rebuilt region)
takes the record its peer holds instead: seeding `active` there after a
failover would let it take writes the other region is taking.
"""

from typing import Any

from django.conf import settings
from django.utils import timezone

from mra_site.aws.clients import other_region
from mra_site.aws.dynamodb import Attr, item_put, write_stamp
from mra_site.aws.errors import AwsError
from mra_site.resources import table_name

from .selectors import state_item_read
from .states import RoutingState


def _peer_record(region: str) -> dict[str, Any] | None:
    try:
        return state_item_read(region=other_region(region))
    except AwsError:
        return None


def seed_state(*, region: str, demo: bool) -> list[str]:
    if state_item_read(region=region):
        return []
    peer = _peer_record(region)
    if peer:
        item = peer
        change = f"routing state {peer['state']} (version {peer['version']}) copied from its peer"
    else:
        item = {
            "app_id": settings.MRA_APP_ID,
            "state": RoutingState.ACTIVE.value,
            "version": 1,
            "updated_at": timezone.now().isoformat(),
            "updated_by": "bootstrap",
            "reason": "initial state",
            **write_stamp(region),
        }
        change = f"routing state {RoutingState.ACTIVE.value} (version 1)"
    item_put(
        region=region,
        table=table_name("state"),
        item=item,
        condition=Attr("app_id").not_exists(),
        action="seed routing state",
    )
    return [change]
