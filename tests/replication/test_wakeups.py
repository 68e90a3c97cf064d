"""What wakes a direction of the replicator before its idle wait ends."""

import threading

from mra_site.aws.sqs import QueueMessage
from replication.canary import HEARTBEAT_KEY, heartbeat_write
from replication.directions import CANARY_DATASET, Direction
from replication.engine.media import heartbeats_only
from replication.engine.runner import DirectionWorker, ResyncRequests
from tests.conftest import PRIMARY, SECONDARY
from tests.routing.helpers import copy_heartbeat


def _event(*keys: str) -> QueueMessage:
    records = [
        {
            "eventName": "ObjectCreated:Put",
            "eventTime": "2026-12-02T10:00:00.000Z",
            "s3": {"object": {"key": key}},
        }
        for key in keys
    ]
    return QueueMessage(message_id=keys[0], receipt_handle="r", body={"Records": records})


def test_only_heartbeat_events_are_told_apart():
    def only(*messages: QueueMessage) -> bool:
        return heartbeats_only(list(messages), region=PRIMARY)

    assert only(_event(HEARTBEAT_KEY), _event(HEARTBEAT_KEY))
    assert not only(_event(HEARTBEAT_KEY), _event("photos/p1/original.jpg"))
    assert not only(_event(HEARTBEAT_KEY, "photos/p1/thumb.webp"))


def test_a_direction_knows_whether_the_canary_beats_in_its_source(fresh_streams, aws, state_dir):
    back = DirectionWorker(Direction(SECONDARY, PRIMARY), threading.Event(), ResyncRequests())
    canary = next(table for table in back.tables if table.spec.key == CANARY_DATASET)
    # Until a heartbeat was read, every event wakes the direction.
    assert back.beats_here()

    # The canary beats in the primary; the secondary holds the copy replication made.
    heartbeat_write(region=PRIMARY, seq=1)
    copy_heartbeat(source=PRIMARY, target=SECONDARY)
    canary.poll()
    assert not back.beats_here()

    # After a failover the canary beats in the secondary: its events wake again.
    heartbeat_write(region=SECONDARY, seq=2)
    canary.poll()
    assert back.beats_here()
