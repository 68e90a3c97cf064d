from mra_site.aws import sqs
from mra_site.aws.clients import client
from mra_site.polling import poll
from mra_site.resources import media_bucket
from replication.engine.media import message_changes, queue_name
from tests.conftest import PRIMARY

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
