import pytest

from mra_site.aws.dynamodb import write_stamp
from mra_site.polling import poll
from tests.conftest import PRIMARY, SECONDARY

from .helpers import (
    REPLICATED,
    new_id,
    photo_delete,
    photo_get,
    photo_put,
    settle,
    stream_events,
)


def test_items_replicate_in_both_directions_with_updates_and_deletes(replicator):
    east, west = new_id(), new_id()
    photo_put(PRIMARY, east, "from the east")
    photo_put(SECONDARY, west, "from the west")

    assert (
        poll(lambda: photo_get(SECONDARY, east), timeout=REPLICATED, what="east item in the west")[
            "title"
        ]
        == "from the east"
    )
    assert (
        poll(lambda: photo_get(PRIMARY, west), timeout=REPLICATED, what="west item in the east")[
            "title"
        ]
        == "from the west"
    )

    photo_put(SECONDARY, east, "renamed in the west")
    poll(
        lambda: (photo_get(PRIMARY, east) or {}).get("title") == "renamed in the west",
        timeout=REPLICATED,
        what="rename replicated",
    )

    photo_delete(PRIMARY, west)
    poll(lambda: photo_get(SECONDARY, west) is None, what="delete replicated", timeout=REPLICATED)
    assert photo_get(PRIMARY, east)["mra_region"] == SECONDARY


def test_a_replica_is_never_echoed_back(replicator):
    photo_id = new_id()
    original = photo_put(PRIMARY, photo_id, "once")
    poll(lambda: photo_get(SECONDARY, photo_id), timeout=REPLICATED, what="item replicated")
    photo_delete(PRIMARY, photo_id)
    poll(
        lambda: photo_get(SECONDARY, photo_id) is None, timeout=REPLICATED, what="delete replicated"
    )
    settle()

    pk = f"PHOTO#{photo_id}"
    assert [name for name, key in stream_events(PRIMARY) if key == pk] == ["INSERT", "REMOVE"]
    replica_events = [name for name, key in stream_events(SECONDARY) if key == pk]
    # The replicated delete stamps the item before removing it (see item_delete_if_older).
    assert replica_events == ["INSERT", "MODIFY", "REMOVE"]
    assert original["mra_region"] == PRIMARY


def test_last_writer_wins_whatever_order_the_writes_arrive_in(replicator):
    photo_id = new_id()
    newer = write_stamp(SECONDARY)["mra_written_at"]
    # The newer write lands first; the older one must not overwrite it anywhere.
    photo_put(SECONDARY, photo_id, "newer", written_at=newer)
    photo_put(PRIMARY, photo_id, "older", written_at=newer - 1_000_000)

    for region in (PRIMARY, SECONDARY):
        poll(
            lambda region=region: (photo_get(region, photo_id) or {}).get("title") == "newer",
            what=f"newer write in {region}",
            timeout=REPLICATED,
        )
    settle()
    assert photo_get(PRIMARY, photo_id)["title"] == "newer"


def test_a_delete_does_not_remove_a_newer_write_in_the_other_region(replicator, aws):
    from replication.controls import replication_pause, replication_resume
    from replication.directions import direction_parse

    photo_id = new_id()
    photo_put(PRIMARY, photo_id, "first")
    poll(lambda: photo_get(SECONDARY, photo_id), timeout=REPLICATED, what="item replicated")
    east_to_west = direction_parse(f"{PRIMARY}-to-{SECONDARY}")
    replication_pause(direction=east_to_west)
    photo_delete(PRIMARY, photo_id)
    settle(0.2)
    photo_put(SECONDARY, photo_id, "rewritten after the delete")
    replication_resume(direction=east_to_west)

    poll(
        lambda: (photo_get(PRIMARY, photo_id) or {}).get("title") == "rewritten after the delete",
        timeout=REPLICATED,
        what="the rewrite replicated",
    )
    settle()
    assert photo_get(SECONDARY, photo_id)["title"] == "rewritten after the delete"


def test_writes_after_a_cancelled_transaction_still_replicate(replicator):
    from mra_site.aws.dynamodb import Attr, Put, transact
    from mra_site.aws.errors import ConditionFailed
    from mra_site.resources import table_name

    first, after = new_id(), new_id()
    photo_put(PRIMARY, first, "before")
    poll(lambda: photo_get(SECONDARY, first), timeout=REPLICATED, what="the first write replicated")
    refused = Put(
        table=table_name("photos"),
        item={"pk": f"PHOTO#{new_id()}", "sk": "META", **write_stamp(PRIMARY)},
        condition=Attr("pk").exists(),
    )
    with pytest.raises(ConditionFailed):
        transact(region=PRIMARY, writes=[refused], action="refused write")
    photo_put(PRIMARY, after, "after a refused transaction")
    poll(
        lambda: photo_get(SECONDARY, after),
        what="a write after the refused transaction",
        timeout=REPLICATED,
    )


def test_an_idle_replicator_still_picks_up_a_write(replicator):
    # Long past the short sleeps: the replicator waits on the event queue,
    # which a table write does not reach.
    settle(3)
    photo_id = new_id()
    photo_put(PRIMARY, photo_id, "after a quiet spell")
    poll(lambda: photo_get(SECONDARY, photo_id), timeout=REPLICATED, what="item replicated")
