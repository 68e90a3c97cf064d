"""Helpers for the routing tests."""

from mra_site.aws.clients import client, dynamodb_table
from mra_site.resources import media_bucket, table_name
from replication.canary import HEARTBEAT_KEY, heartbeat_write
from routing.services import routing_replicas_read, routing_state_transition
from routing.states import RoutingState


def replica_states() -> dict[str, tuple[str, int]]:
    """(state, version) as each region's replica holds it."""
    replicas = routing_replicas_read()
    assert not replicas.errors
    return {r: (item["state"], int(item["version"])) for r, item in replicas.items.items()}


def move(target: RoutingState, version: int, *, force: bool = False, actor: str = "ops"):
    return routing_state_transition(
        target=target, expected_version=version, actor=actor, reason="test", force=force
    )


def copy_heartbeat(*, source: str, target: str) -> None:
    """Carry `source`'s newest heartbeat to `target`, as replication would."""
    item = (
        dynamodb_table(source, table_name("canary"))
        .get_item(Key={"app_id": "mra"}, ConsistentRead=True)
        .get("Item")
    )
    dynamodb_table(target, table_name("canary")).put_item(Item=item)
    body = client("s3", source).get_object(Bucket=media_bucket(source), Key=HEARTBEAT_KEY)
    client("s3", target).put_object(
        Bucket=media_bucket(target), Key=HEARTBEAT_KEY, Body=body["Body"].read()
    )


def drain(*, source: str, target: str) -> None:
    """A heartbeat written now in `source` and replicated to `target`."""
    heartbeat_write(region=source, seq=1)
    copy_heartbeat(source=source, target=target)
