from urllib.parse import unquote_plus

from mra_site.aws import sqs
from mra_site.aws.clients import client
from mra_site.polling import poll
from mra_site.resources import media_bucket
from replication.engine.media import message_changes, object_copy, queue_name
from tests.conftest import PRIMARY, SECONDARY

from .helpers import new_id, object_put


def test_a_delete_marker_sends_its_event_to_the_queue(aws):
    # As on AWS: s3:ObjectRemoved:DeleteMarkerCreated, so the replicator
    # learns of a marker without listing the bucket.
    key = f"media/{new_id()}.jpg"
    object_put(PRIMARY, key, b"bytes", ContentType="image/jpeg")
    client("s3", PRIMARY).delete_object(Bucket=media_bucket(PRIMARY), Key=key)
    url = sqs.queue_url_get(region=PRIMARY, name=queue_name(PRIMARY))
    heard: list[tuple[str, str]] = []

    def marker_event() -> bool:
        for message in sqs.queue_receive(region=PRIMARY, url=url, visibility=30):
            heard.extend(
                (record["eventName"], kind)
                for record in message.body.get("Records", [])
                for kind, changed, _ in message_changes({"Records": [record]})
                if changed == key
            )
        return ("ObjectRemoved:DeleteMarkerCreated", "removed") in heard

    poll(marker_event, timeout=10, what="the delete marker's event")
    assert ("ObjectCreated:Put", "created") in heard, heard


def test_events_name_the_version_and_a_copy_of_ours_comes_back_as_no_change(aws):
    key = f"photos/{new_id()}/original.jpg"
    object_put(PRIMARY, key, b"bytes", ContentType="image/jpeg")
    # What the replicator does for the other direction: a copy into the primary.
    object_put(SECONDARY, key, b"theirs", ContentType="image/jpeg")
    assert object_copy(source=SECONDARY, target=PRIMARY, key=key)
    url = sqs.queue_url_get(region=PRIMARY, name=queue_name(PRIMARY))
    records: list[dict] = []

    def both_events() -> bool:
        for message in sqs.queue_receive(region=PRIMARY, url=url, visibility=30):
            records.extend(
                r
                for r in message.body.get("Records", [])
                if unquote_plus(r["s3"]["object"]["key"]) == key
            )
        return len(records) >= 2

    poll(both_events, timeout=10, what="the two versions' events")
    versions = {r["s3"]["object"]["versionId"] for r in records}
    latest = client("s3", PRIMARY).head_object(Bucket=media_bucket(PRIMARY), Key=key)
    assert len(versions) == 2 and latest["VersionId"] in versions
    [copied] = [r for r in records if r["s3"]["object"]["versionId"] == latest["VersionId"]]
    [first] = [r for r in records if r is not copied]
    # The writer's own version is a change; the copy this process made is its echo.
    assert message_changes({"Records": [first]}, region=PRIMARY) != []
    assert message_changes({"Records": [copied]}, region=PRIMARY) == []
    # Without the region (or in another process) it is still read, and found a replica.
    assert message_changes({"Records": [copied]}) != []
    assert not object_copy(source=PRIMARY, target=SECONDARY, key=key)
