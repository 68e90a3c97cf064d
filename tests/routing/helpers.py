"""Helpers for the routing tests."""

import time

from mra_site.aws.clients import client, dynamodb_table
from mra_site.resources import media_bucket, table_name
from replication.canary import HEARTBEAT_KEY, heartbeat_write
from replication.directions import Direction, datasets_all
from replication.engine.runner import status_file
from replication.engine.stats import DatasetStats
from replication.files import json_write
from routing.replicas import routing_replicas_read
from routing.states import RoutingState
from routing.transitions import routing_state_transition


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


def replicator_reports(*, source: str, target: str, pending: int = 0, paused: bool = False):
    """A status report of the local replicator for `source` → `target`, as its runner
    writes it: fresh, every dataset read just now, `pending` changes left for photos."""
    now = time.time()
    datasets = {}
    for key in datasets_all():
        stats = DatasetStats()
        stats.polled_at = now
        stats.pending = pending if key == "photos" else 0
        datasets[key] = stats.as_dict()
    direction = Direction(source, target)
    json_write(
        status_file(direction),
        {
            "direction": direction.name,
            "source": source,
            "target": target,
            "updated_at": now,
            "paused": paused,
            "delay_seconds": 0.0,
            "retrying_in_seconds": 0,
            "rebuilding_source": False,
            "resync": None,
            "datasets": datasets,
        },
    )


def drain(*, source: str, target: str) -> None:
    """A heartbeat written now in `source` and replicated to `target`, the replicator
    reporting nothing left to copy."""
    heartbeat_write(region=source, seq=1)
    copy_heartbeat(source=source, target=target)
    replicator_reports(source=source, target=target)
