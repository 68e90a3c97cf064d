"""When the media dataset counts as read: what a drain waits for."""

import time

import pytest

from mra_site.aws.s3 import object_versions
from mra_site.resources import media_bucket
from replication.canary import HEARTBEAT_KEY, heartbeat_in_bucket, heartbeat_write
from replication.controls import Control
from replication.directions import Direction
from replication.engine import media as media_module
from replication.engine.media import MediaReplication, Sweeper
from tests.conftest import PRIMARY, SECONDARY

from .helpers import new_id, object_put


@pytest.fixture
def unswept(monkeypatch) -> None:
    """A sweep of the bucket's delete markers that never reports (a large bucket's)."""
    monkeypatch.setattr(Sweeper, "_run", lambda self: None)


def test_a_receive_that_empties_the_queue_counts_as_a_read_without_a_sweep(aws, state_dir, unswept):
    media = MediaReplication(direction=Direction(PRIMARY, SECONDARY), checkpoint={})
    control = Control()
    media.poll(control)
    fence = time.time()
    object_put(PRIMARY, f"photos/{new_id()}/original.jpg", b"photo")

    media.poll(control)
    # The queue was read after the fence, and what it held is counted.
    assert media.stats.polled_at is not None and media.stats.polled_at >= fence
    assert media.stats.pending == 1

    media.apply_due(control)
    media.poll(control)
    assert media.stats.pending == 0


def _one_received() -> tuple[MediaReplication, Control, float]:
    """A direction that received one new object's event; and a fence just after."""
    media = MediaReplication(direction=Direction(PRIMARY, SECONDARY), checkpoint={})
    control = Control()
    object_put(PRIMARY, f"photos/{new_id()}/original.jpg", b"photo")
    media.poll(control)
    assert media.stats.pending == 1
    return media, control, time.time()


def test_a_failed_round_hands_back_what_it_received_and_the_next_receive_gets_it(
    aws, state_dir, unswept
):
    media, control, fence = _one_received()

    # The round failed on the target: the source takes the message back at once.
    media.reset()
    media.poll(control)

    assert media.stats.pending == 1
    assert media.stats.polled_at is not None and media.stats.polled_at >= fence


def test_after_a_failed_round_an_empty_receive_says_nothing_until_the_lost_messages_return(
    aws, state_dir, unswept, monkeypatch
):
    media, control, fence = _one_received()

    # The source did not take the message back: it stays in flight, unseen.
    monkeypatch.setattr(media_module.sqs, "queue_release", lambda **_: False)
    media.reset()
    media.poll(control)

    assert media.stats.pending == 0
    assert media.stats.polled_at is None or media.stats.polled_at < fence


def test_heartbeat_copies_are_pruned_in_the_target_every_so_many(
    aws, state_dir, unswept, monkeypatch
):
    monkeypatch.setattr(media_module, "HEARTBEAT_PRUNE_EVERY", 3)
    media = MediaReplication(direction=Direction(PRIMARY, SECONDARY), checkpoint={})

    def beat_and_copy(seq: int) -> list:
        heartbeat_write(region=PRIMARY, seq=seq)
        outcome = media._apply_key((HEARTBEAT_KEY, [("created", time.time(), f"m{seq}")]))
        assert outcome.error is None and outcome.results[0][0] is True
        return object_versions(
            region=SECONDARY, bucket=media_bucket(SECONDARY), keys=[HEARTBEAT_KEY]
        )

    assert len(beat_and_copy(1)) == 1
    assert len(beat_and_copy(2)) == 2  # kept until the next prune
    [kept] = beat_and_copy(3)  # the third copy prunes: only the newest is left
    assert kept.is_latest
    assert heartbeat_in_bucket(region=SECONDARY).seq == 3
