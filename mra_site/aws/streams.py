"""Former home of the stream reads; they live in `dynamodbstreams` now."""

from .dynamodbstreams import (
    shard_iterator_get,
    stream_arn_get,
    stream_records_get,
    stream_shard_ids,
)

__all__ = ["shard_iterator_get", "stream_arn_get", "stream_records_get", "stream_shard_ids"]
