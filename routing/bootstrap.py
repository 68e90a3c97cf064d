"""Bootstrap step: the routing state record, `active` at version 1.

A region that comes back empty (a restarted emulator, a rebuilt region)
takes the record its peer holds instead: seeding `active` there after a
failover would let it take writes the other region is taking.
"""

from django.conf import settings
from django.utils import timezone

from mra_site.aws.clients import aws_call, dynamodb_table, other_region
from mra_site.aws.dynamodb import write_stamp
from mra_site.aws.errors import AwsError
from mra_site.resources import table_name

from .states import RoutingState


def _peer_record(region: str) -> dict | None:
    peer = other_region(region)
    try:
        with aws_call(peer, "read the peer's routing state"):
            return (
                dynamodb_table(peer, table_name("state"))
                .get_item(Key={"app_id": settings.MRA_APP_ID}, ConsistentRead=True)
                .get("Item")
            )
    except AwsError:
        return None


def seed_state(*, region: str, demo: bool) -> list[str]:
    table = dynamodb_table(region, table_name("state"))
    with aws_call(region, "seed routing state"):
        existing = table.get_item(Key={"app_id": settings.MRA_APP_ID}, ConsistentRead=True)
        if "Item" in existing:
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
    with aws_call(region, "seed routing state"):
        table.put_item(Item=item, ConditionExpression="attribute_not_exists(app_id)")
    return [change]
