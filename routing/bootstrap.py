"""Bootstrap step: the routing state record, `active` at version 1."""

from django.conf import settings
from django.utils import timezone

from mra_site.aws.clients import aws_call, dynamodb_table
from mra_site.aws.dynamodb import write_stamp
from mra_site.resources import table_name

from .states import RoutingState


def seed_state(*, region: str, demo: bool) -> list[str]:
    table = dynamodb_table(region, table_name("state"))
    with aws_call(region, "seed routing state"):
        existing = table.get_item(Key={"app_id": settings.MRA_APP_ID}, ConsistentRead=True)
        if "Item" in existing:
            return []
        table.put_item(
            Item={
                "app_id": settings.MRA_APP_ID,
                "state": RoutingState.ACTIVE.value,
                "version": 1,
                "updated_at": timezone.now().isoformat(),
                "updated_by": "bootstrap",
                "reason": "initial state",
                **write_stamp(region),
            },
            ConditionExpression="attribute_not_exists(app_id)",
        )
    return [f"routing state {RoutingState.ACTIVE.value} (version 1)"]
