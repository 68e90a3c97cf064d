"""DynamoDB Streams reads and the conditional writes that apply them to a replica.

Items travel in the low-level attribute-value format, exactly as the stream
delivers them, so nothing is lost converting numbers or binary values.
"""

from collections.abc import Iterator
from typing import Any

from .clients import aws_call, client
from .errors import ConditionFailed, ResourceMissing

REPLICA_DELETE_FLAG = "mra_replica_delete"


def stream_arn_get(*, region: str, table: str) -> str | None:
    """The table's latest stream ARN, None when the table has no stream."""
    with aws_call(region, f"describe table {table}"):
        description = client("dynamodb", region).describe_table(TableName=table)["Table"]
    return description.get("LatestStreamArn")


def stream_shard_ids(*, region: str, stream_arn: str) -> list[str]:
    """Shard ids of a stream, parents before children."""
    streams = client("dynamodbstreams", region)
    shard_ids: list[str] = []
    start: str | None = None
    with aws_call(region, "describe stream"):
        while True:
            kwargs: dict[str, Any] = {"StreamArn": stream_arn}
            if start:
                kwargs["ExclusiveStartShardId"] = start
            description = streams.describe_stream(**kwargs)["StreamDescription"]
            shard_ids += [shard["ShardId"] for shard in description.get("Shards", [])]
            start = description.get("LastEvaluatedShardId")
            if not start:
                return shard_ids


def shard_iterator_get(
    *, region: str, stream_arn: str, shard_id: str, after_sequence: str | None
) -> str:
    """An iterator just after `after_sequence`, or at the oldest record when None."""
    kwargs: dict[str, Any] = {"StreamArn": stream_arn, "ShardId": shard_id}
    if after_sequence:
        kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=after_sequence)
    else:
        kwargs["ShardIteratorType"] = "TRIM_HORIZON"
    with aws_call(region, f"get shard iterator {shard_id}"):
        return client("dynamodbstreams", region).get_shard_iterator(**kwargs)["ShardIterator"]


def stream_records_get(
    *, region: str, iterator: str, limit: int = 1000
) -> tuple[list[dict[str, Any]], str | None]:
    """(records, next iterator); the next iterator is None once a shard is closed."""
    with aws_call(region, "get stream records"):
        response = client("dynamodbstreams", region).get_records(
            ShardIterator=iterator, Limit=limit
        )
    return response.get("Records", []), response.get("NextShardIterator")


def item_put_if_newer(
    *, region: str, table: str, hash_key: str, item: dict[str, Any], written_at: int
) -> bool:
    """Put `item` unless the replica holds a write at least as new; True if written.

    Equal stamps count as already applied, which makes a replayed record a no-op.
    """
    try:
        with aws_call(region, f"replicate put into {table}"):
            client("dynamodb", region).put_item(
                TableName=table,
                Item=item,
                ConditionExpression=(
                    "attribute_not_exists(#h) OR attribute_not_exists(#w) OR #w < :w"
                ),
                ExpressionAttributeNames={"#h": hash_key, "#w": "mra_written_at"},
                ExpressionAttributeValues={":w": {"N": str(written_at)}},
            )
    except ConditionFailed:
        return False
    return True


def item_put(*, region: str, table: str, item: dict[str, Any]) -> None:
    with aws_call(region, f"put into {table}"):
        client("dynamodb", region).put_item(TableName=table, Item=item)


def item_delete_if_older(
    *, region: str, table: str, key: dict[str, Any], deleted_at: int, origin: str
) -> bool:
    """Delete the replica's item unless it was written after `deleted_at`; True if deleted.

    The item is first stamped with the delete's time, its origin and a flag, then
    deleted on that exact stamp: the REMOVE record the replica's stream emits then
    carries the flag in its old image, so the delete is recognised as a replica
    and not sent back, and a replay after a crash between the two steps finishes
    the same delete.
    """
    ddb = client("dynamodb", region)
    stamp = {":w": {"N": str(deleted_at)}, ":r": {"S": origin}, ":t": {"BOOL": True}}
    names = {"#w": "mra_written_at", "#r": "mra_region", "#f": REPLICA_DELETE_FLAG}
    first_key = next(iter(key))
    try:
        with aws_call(region, f"replicate delete in {table}"):
            ddb.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="SET #w = :w, #r = :r, #f = :t",
                ConditionExpression=(
                    "attribute_exists(#k) AND (attribute_not_exists(#w) OR #w <= :w)"
                ),
                ExpressionAttributeNames={**names, "#k": first_key},
                ExpressionAttributeValues=stamp,
            )
            ddb.delete_item(
                TableName=table,
                Key=key,
                ConditionExpression="#w = :w AND #f = :t",
                ExpressionAttributeNames={"#w": "mra_written_at", "#f": REPLICA_DELETE_FLAG},
                ExpressionAttributeValues={":w": stamp[":w"], ":t": stamp[":t"]},
            )
    except ConditionFailed:
        return False
    return True


def table_items(*, region: str, table: str) -> Iterator[dict[str, Any]]:
    """Every item of a table (a full scan: for re-synchronising a region only)."""
    paginator = client("dynamodb", region).get_paginator("scan")
    with aws_call(region, f"scan {table}"):
        for page in paginator.paginate(TableName=table, ConsistentRead=True):
            yield from page.get("Items", [])


def table_exists(*, region: str, table: str) -> bool:
    try:
        stream_arn_get(region=region, table=table)
    except ResourceMissing:
        return False
    return True
