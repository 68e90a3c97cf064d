"""What wakes a direction of the replicator before its idle wait ends."""

import threading

from mra_site.aws.sqs import QueueMessage
from replication.canary import HEARTBEAT_KEY, heartbeat_write
from replication.directions import CANARY_DATASET, Direction
from replication.engine import runner
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


def test_after_a_change_the_rounds_stay_close_until_the_stack_rests(aws, state_dir):
    worker = DirectionWorker(Direction(PRIMARY, SECONDARY), threading.Event(), ResyncRequests())

    def ladder(now: float, rounds: int = 7) -> list[float]:
        waits = []
        for _ in range(rounds):
            worker.idle = worker.next_idle(now=now)
            waits.append(worker.idle)
        return waits

    # At rest, each round that finds nothing waits twice as long, up to IDLE_MAX.
    assert ladder(now=1_000.0) == [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, runner.IDLE_MAX]
    # Soon after a change was read, rounds stay ATTENTIVE_MAX apart at most.
    worker.changed_at, worker.idle = 1_000.0, 0.0
    assert ladder(now=1_001.0) == [0.05, 0.1, 0.2, 0.25, 0.25, 0.25, 0.25]
    assert runner.ATTENTIVE_MAX == 0.25
    # Once no change came for ATTENTIVE_SECONDS, the climb goes on.
    rested = 1_000.0 + runner.ATTENTIVE_SECONDS
    assert ladder(now=rested, rounds=3) == [0.5, 1.0, 2.0]
