"""DynamoDB helpers: typed attribute values and transactions with domain errors."""

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
