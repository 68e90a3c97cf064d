import threading
import time
from collections import Counter

import pytest
from django.conf import settings

from mra_site.aws.clients import dynamodb_table
from mra_site.aws.dynamodb import write_stamp
from mra_site.bootstrap import bootstrap_region
from mra_site.polling import poll
from mra_site.resources import table_name
from replication.status import replication_status_get
from tests.conftest import PRIMARY, SECONDARY

from .helpers import (
    REPLICATED,
    new_id,
    object_get,
    object_put,
    object_versions,
    photo_get,
    photo_put,
    stream_events,
)

# Long scenarios: a steady writer through a crash, an outage and a rebuilt region.
pytestmark = pytest.mark.slow


def _write_steadily(ids: list[str], keys: list[str], seconds: float, rate: float) -> None:
    for _ in range(int(seconds * rate)):
        photo_id = new_id()
        photo_put(PRIMARY, photo_id, f"steady {photo_id}")
        ids.append(photo_id)
        if len(ids) % 5 == 0:
            key = f"media/{photo_id}.jpg"
            object_put(PRIMARY, key, photo_id.encode(), ContentType="image/jpeg")
            keys.append(key)
        time.sleep(1 / rate)


def test_a_killed_replicator_resumes_from_its_checkpoint_without_gap_or_duplicate(replicator):
    ids: list[str] = []
    keys: list[str] = []
    writer = threading.Thread(target=_write_steadily, args=(ids, keys, 4.0, 40))
    writer.start()
    poll(
        lambda: len(ids) > 20 and photo_get(SECONDARY, ids[10]),
        what="replication under way",
        timeout=REPLICATED,
    )
    replicator.kill()
    replicator.start()
    writer.join()

    for photo_id in ids:
        poll(
            lambda photo_id=photo_id: photo_get(SECONDARY, photo_id),
            what=photo_id,
            timeout=REPLICATED,
        )
    for key in keys:
        poll(lambda key=key: object_get(SECONDARY, key), what=key, timeout=REPLICATED)
    events = Counter(stream_events(SECONDARY))
    assert all(events[("INSERT", f"PHOTO#{i}")] == 1 for i in ids)
    assert not [event for event in events if event[0] != "INSERT"], "a record was applied twice"
    assert all(len(object_versions(SECONDARY, key)[0]) == 1 for key in keys)
    # Without the checkpoint the restarted process would replay everything and
    # refuse each replayed record as already applied.
    photos = replication_status_get()["directions"][f"{PRIMARY}-to-{SECONDARY}"]["datasets"]
    assert photos["photos"]["skipped"] < len(ids) / 2


def test_a_region_that_comes_back_empty_is_caught_up(replicator, aws):
    before, during = new_id(), new_id()
    photo_put(PRIMARY, before, "before the outage")
    object_put(PRIMARY, f"media/{before}.jpg", b"before", ContentType="image/jpeg")
    poll(
        lambda: photo_get(SECONDARY, before) and object_get(SECONDARY, f"media/{before}.jpg"),
        timeout=REPLICATED,
        what="the photo written before the outage",
    )

    state_put(PRIMARY, "before the outage")
    poll(
        lambda: state_reason(SECONDARY) == "before the outage",
        timeout=REPLICATED,
        what="the routing state replicated",
    )

    aws[SECONDARY].stop()
    photo_put(PRIMARY, during, "during the outage")
    object_put(PRIMARY, f"media/{during}.jpg", b"during", ContentType="image/jpeg")
    time.sleep(1)
    aws[SECONDARY].start()
    bootstrap_region(region=SECONDARY, demo=False)

    for photo_id in (before, during):
        poll(lambda p=photo_id: photo_get(SECONDARY, p), timeout=30, what=photo_id)
        assert poll(
            lambda p=photo_id: object_get(SECONDARY, f"media/{p}.jpg"),
            timeout=30,
            what=f"media of {photo_id}",
        )
    after = new_id()
    photo_put(SECONDARY, after, "written in the returned region")
    poll(lambda: photo_get(PRIMARY, after), timeout=20, what="new stream of the returned region")
    poll(
        lambda: (
            not any(
                dataset["failing"]
                for direction in replication_status_get()["directions"].values()
                for dataset in direction["datasets"].values()
            )
        ),
        what="every dataset healthy again",
        timeout=REPLICATED,
    )
    # The returned region's bootstrap seeded a newer state item; the survivor's wins.
    assert state_reason(SECONDARY) == "before the outage"
    assert state_reason(PRIMARY) == "before the outage"


def state_put(region: str, reason: str) -> None:
    table = dynamodb_table(region, table_name("state"))
    item = table.get_item(Key={"app_id": settings.MRA_APP_ID}, ConsistentRead=True)["Item"]
    table.put_item(Item={**item, "reason": reason, **write_stamp(region)})


def state_reason(region: str) -> str | None:
    table = dynamodb_table(region, table_name("state"))
    item = table.get_item(Key={"app_id": settings.MRA_APP_ID}, ConsistentRead=True).get("Item")
    return item and item["reason"]
