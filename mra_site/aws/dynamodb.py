"""DynamoDB helpers: typed attribute values and transactions with domain errors."""

import time
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from .clients import aws_call, client

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def serialize(item: dict[str, Any]) -> dict[str, Any]:
    """Python values to DynamoDB attribute values (use Decimal, not float)."""
    return {key: _serializer.serialize(value) for key, value in item.items()}


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def transact_write(*, region: str, items: list[dict[str, Any]], action: str) -> None:
    """TransactWriteItems (low-level item format); ConditionFailed.reasons holds
    one cancellation code per item, '' or 'None' for items that passed."""
    with aws_call(region, action):
        client("dynamodb", region).transact_write_items(TransactItems=items)


def write_stamp(region: str) -> dict[str, Any]:
    """Attributes every replicated item carries: when and where it was written.

    Replication between regions resolves conflicting writes by the later
    `mra_written_at` (last writer wins, as DynamoDB global tables do), and
    never sends a change back to `mra_region`.
    """
    return {"mra_written_at": time.time_ns() // 1000, "mra_region": region}
