"""When the media dataset counts as read: what a drain waits for."""

import time

import pytest

from replication.controls import Control
from replication.directions import Direction
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


def test_after_a_failed_round_an_empty_receive_says_nothing_until_the_lost_messages_return(
    aws, state_dir, unswept
):
    media = MediaReplication(direction=Direction(PRIMARY, SECONDARY), checkpoint={})
    control = Control()
    object_put(PRIMARY, f"photos/{new_id()}/original.jpg", b"photo")
    media.poll(control)
    assert media.stats.pending == 1
    fence = time.time()

    # A failed round forgets what it received; the message stays in flight, unseen.
    media.reset()
    media.poll(control)

    assert media.stats.pending == 0
    assert media.stats.polled_at is None or media.stats.polled_at < fence
