"""DynamoDB Streams: a table's stream, its shards and their records.

Records keep the low-level attribute-value format the stream delivers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .clients import aws_call, client
from .dynamodb import table_describe

if TYPE_CHECKING:
    from types_boto3_dynamodbstreams.type_defs import RecordTypeDef


def stream_arn_get(*, region: str, table: str) -> str | None:
    """The table's latest stream ARN, None when the table has no stream."""
    return table_describe(region=region, table=table).get("LatestStreamArn")


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
) -> tuple[list[RecordTypeDef], str | None]:
    """(records, next iterator); the next iterator is None once a shard is closed."""
    with aws_call(region, "get stream records"):
        response = client("dynamodbstreams", region).get_records(
            ShardIterator=iterator, Limit=limit
        )
    return response.get("Records", []), response.get("NextShardIterator")
