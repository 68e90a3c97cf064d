"""Bootstrap step: the demo users in the user registry (with --demo only).

The demo users are created in both pools by mra_bootstrap; here each gets a
stable id derived from its name, so both regions and every bootstrap agree,
and the registry records the `sub` of every pool that holds the user. Each
region's table is written directly, as bootstrap seeds the routing state:
this is provisioning, not a user's write, and must not wait for replication.
"""

import hashlib

from django.conf import settings

from mra_site.aws import cognito, dynamodb
from mra_site.aws.clients import regions
from mra_site.aws.errors import AwsError
from mra_site.resources import table_name

from .registry import UserRecord, now, record_items, user_by_name, username_normalise


def demo_user_id(username: str) -> str:
    """The stable id of a demo user, the same in every region and bootstrap."""
    normalised = username_normalise(username)
    return hashlib.sha256(f"mra-demo-user-{normalised}".encode()).hexdigest()[:32]


def demo_usernames() -> list[str]:
    return [settings.MRA_DEMO_USERNAME, settings.MRA_DEMO_OPERATOR_USERNAME]


def register_demo_users(*, region: str, demo: bool) -> list[str]:
    """Record the demo users, with the subs of every pool that holds them, in each
    region whose table exists (the later region's bootstrap completes the earlier's)."""
    if not demo:
        return []
    changes = []
    for username in demo_usernames():
        subs = {}
        for pool_region in regions():
            try:
                sub = cognito.user_sub(region=pool_region, username=username)
            except AwsError:
                sub = None
            if sub:
                subs[pool_region] = sub
        for table_region in regions():
            if not dynamodb.table_exists(region=table_region, table=_table()):
                continue
            current = user_by_name(username=username, region=table_region, consistent=True)
            if current and current.subs == subs:
                continue
            record = UserRecord(
                id=current.id if current else demo_user_id(username),
                username=username,
                normalised=username_normalise(username),
                created_at=current.created_at if current else now(),
                subs=subs,
                pending=tuple(r for r in regions() if r not in subs),
                version=current.version + 1 if current else 1,
            )
            dynamodb.items_put_batch(
                region=table_region,
                table=_table(),
                items=record_items(record, region=table_region),
                action=f"register demo user {username}",
            )
            changes.append(f"registry entry of demo user {username} in {table_region}")
    return changes


def _table() -> str:
    return table_name("users")


def demo_owner_id(*, region: str) -> str:
    """The demo user's stable id as the region's registry records it."""
    current = user_by_name(username=settings.MRA_DEMO_USERNAME, region=region, consistent=True)
    return current.id if current else demo_user_id(settings.MRA_DEMO_USERNAME)
