"""Writes and reads the way the application makes them, and a look at a region's stream."""

import time
import uuid
from typing import Any

from mra_site.aws import dynamodbstreams as streams
from mra_site.aws.clients import client, dynamodb_table
from mra_site.aws.dynamodb import write_stamp
from mra_site.resources import media_bucket, table_name

# Seconds within which the local replicator carries a change across.
REPLICATED = 15


def photo_put(region: str, photo_id: str, title: str, *, written_at: int | None = None) -> dict:
    stamp = write_stamp(region)
    if written_at is not None:
        stamp["mra_written_at"] = written_at
    item = {"pk": f"PHOTO#{photo_id}", "sk": "META", "title": title, **stamp}
    dynamodb_table(region, table_name("photos")).put_item(Item=item)
    return item


def photo_get(region: str, photo_id: str) -> dict[str, Any] | None:
    response = dynamodb_table(region, table_name("photos")).get_item(
        Key={"pk": f"PHOTO#{photo_id}", "sk": "META"}, ConsistentRead=True
    )
    return response.get("Item")


def photo_delete(region: str, photo_id: str) -> None:
    dynamodb_table(region, table_name("photos")).delete_item(
        Key={"pk": f"PHOTO#{photo_id}", "sk": "META"}
    )


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def stream_events(region: str, table_key: str = "photos") -> list[tuple[str, str]]:
    """(event name, pk) of every record in the table's stream so far."""
    arn = streams.stream_arn_get(region=region, table=table_name(table_key))
    events = []
    for shard_id in streams.stream_shard_ids(region=region, stream_arn=arn):
        iterator = streams.shard_iterator_get(
            region=region, stream_arn=arn, shard_id=shard_id, after_sequence=None
        )
        while iterator:
            records, iterator = streams.stream_records_get(region=region, iterator=iterator)
            if not records:
                break
            for record in records:
                keys = record["dynamodb"]["Keys"]
                events.append((record["eventName"], next(iter(keys.values()))["S"]))
    return events


def object_put(region: str, key: str, body: bytes, **kwargs: Any) -> dict:
    return client("s3", region).put_object(
        Bucket=media_bucket(region), Key=key, Body=body, **kwargs
    )


def object_get(region: str, key: str) -> dict | None:
    s3 = client("s3", region)
    try:
        response = s3.get_object(Bucket=media_bucket(region), Key=key)
    except s3.exceptions.NoSuchKey:
        return None
    response["Body"] = response["Body"].read()
    return response


def object_versions(region: str, key: str) -> tuple[list[dict], list[dict]]:
    """(versions, delete markers) of one key."""
    response = client("s3", region).list_object_versions(Bucket=media_bucket(region), Prefix=key)
    return response.get("Versions", []), response.get("DeleteMarkers", [])


def settle(seconds: float = 0.6) -> None:
    """Give the replicator time to do something it must not do (echo, early apply)."""
    time.sleep(seconds)
