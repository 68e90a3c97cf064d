"""DynamoDB: items in, items out, as Python values, with the project's errors.

Services name tables, keys, items and conditions (`Attr`, `Key`, re-exported
from boto3); this module turns them into requests. Writes that must commit
together go through `transact` as small typed write objects.

Replica writes (`replica_put_if_newer`, `replica_delete_if_older`) take items
in the low-level attribute-value format, exactly as a stream delivers them,
so nothing is lost converting numbers or binary values on the way through.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, ConditionBase, ConditionExpressionBuilder, Key

from .clients import aws_call, client, dynamodb_resource, dynamodb_table
from .errors import ConditionFailed, ResourceMissing

if TYPE_CHECKING:
    from types_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

__all__ = [
    "Attr",
    "ConditionBase",
    "ConditionCheck",
    "Delete",
    "Item",
    "Key",
    "Put",
    "REPLICA_DELETE_FLAG",
    "Update",
    "Write",
    "item_delete",
    "item_add",
    "item_get",
    "item_put",
    "region_ping",
    "items_put_batch",
    "items_query",
    "items_scan",
    "replica_delete_if_older",
    "replica_put",
    "replica_put_if_newer",
    "table_describe",
    "table_exists",
    "table_items_raw",
    "transact",
    "write_stamp",
]

Item = dict[str, Any]

REPLICA_DELETE_FLAG = "mra_replica_delete"


def write_stamp(region: str) -> Item:
    """Attributes every replicated item carries: when and where it was written.

    Replication between regions resolves conflicting writes by the later
    `mra_written_at` (last writer wins, as DynamoDB global tables do), and
    never sends a change back to `mra_region`.
    """
    return {"mra_written_at": time.time_ns() // 1000, "mra_region": region}


def item_get(
    *, region: str, table: str, key: Item, consistent: bool = False, action: str = ""
) -> Item | None:
    """The item at `key`, None when there is none."""
    with aws_call(region, action or f"get {key} from {table}"):
        response = dynamodb_table(region, table).get_item(Key=key, ConsistentRead=consistent)
    return response.get("Item")


def item_put(
    *,
    region: str,
    table: str,
    item: Item,
    condition: ConditionBase | None = None,
    action: str = "",
) -> None:
    """Write `item`; ConditionFailed when `condition` does not hold."""
    kwargs: dict[str, Any] = {"Item": item}
    if condition is not None:
        kwargs["ConditionExpression"] = condition
    with aws_call(region, action or f"put into {table}"):
        dynamodb_table(region, table).put_item(**kwargs)


def item_delete(
    *,
    region: str,
    table: str,
    key: Item,
    condition: ConditionBase | None = None,
    action: str = "",
) -> None:
    """Delete the item at `key`; ConditionFailed when `condition` does not hold."""
    kwargs: dict[str, Any] = {"Key": key}
    if condition is not None:
        kwargs["ConditionExpression"] = condition
    with aws_call(region, action or f"delete {key} from {table}"):
        dynamodb_table(region, table).delete_item(**kwargs)


def item_add(
    *,
    region: str,
    table: str,
    key: Item,
    add: Mapping[str, int],
    set: Mapping[str, Any] | None = None,
    action: str = "",
) -> Item:
    """ADD each of `add` to the item at `key` (created when missing), SET each of
    `set`, atomically; returns the attributes as they are after the update."""
    update = Update(table=table, key=key, set=dict(set or {}), add=add)
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    expression = _update_expression(update, names, values)
    with aws_call(region, action or f"update {key} in {table}"):
        response = dynamodb_table(region, table).update_item(
            Key=key,
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
    return dict(response.get("Attributes", {}))


def items_put_batch(*, region: str, table: str, items: Iterable[Item], action: str = "") -> None:
    """Write many items, 25 per request, unconditionally (seeding, not user writes)."""
    with (
        aws_call(region, action or f"batch write into {table}"),
        dynamodb_table(region, table).batch_writer() as batch,
    ):
        for item in items:
            batch.put_item(Item=item)


def items_query(
    *,
    region: str,
    table: str,
    key: ConditionBase,
    index: str | None = None,
    forward: bool = True,
    limit: int | None = None,
    start: Item | None = None,
    consistent: bool = False,
    attributes: Sequence[str] = (),
    action: str = "",
) -> list[Item]:
    """One page of a Query: items whose key matches `key`, in key order (or reversed)."""
    kwargs: dict[str, Any] = {"KeyConditionExpression": key, "ScanIndexForward": forward}
    if index:
        kwargs["IndexName"] = index
    if limit is not None:
        kwargs["Limit"] = limit
    if start:
        kwargs["ExclusiveStartKey"] = start
    if consistent:
        kwargs["ConsistentRead"] = True
    if attributes:
        names = {f"#p{i}": name for i, name in enumerate(attributes)}
        kwargs["ProjectionExpression"] = ", ".join(names)
        kwargs["ExpressionAttributeNames"] = names
    with aws_call(region, action or f"query {table}"):
        response = dynamodb_table(region, table).query(**kwargs)
    return response.get("Items", [])


def items_scan(
    *,
    region: str,
    table: str,
    where: ConditionBase,
    attributes: Sequence[str] = (),
    limit: int,
    action: str = "",
) -> tuple[list[Item], bool]:
    """Up to `limit` items matching `where`, reading the whole table page by page;
    and whether that was all of them. For rare operator work, never a request path."""
    kwargs: dict[str, Any] = {"FilterExpression": where}
    if attributes:
        names = {f"#p{i}": name for i, name in enumerate(attributes)}
        kwargs["ProjectionExpression"] = ", ".join(names)
        kwargs["ExpressionAttributeNames"] = names
    found: list[Item] = []
    with aws_call(region, action or f"scan {table}"):
        while True:
            page = dynamodb_table(region, table).scan(**kwargs)
            found += page.get("Items", [])
            if len(found) >= limit:
                return found[:limit], len(found) == limit and "LastEvaluatedKey" not in page
            if "LastEvaluatedKey" not in page:
                return found, True
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@dataclass(frozen=True)
class Put:
    table: str
    item: Item
    condition: ConditionBase | None = None


@dataclass(frozen=True)
class Delete:
    table: str
    key: Item
    condition: ConditionBase | None = None


@dataclass(frozen=True)
class Update:
    """SET each of `set` and ADD each of `add` (a number) on the item at `key`."""

    table: str
    key: Item
    set: Mapping[str, Any] = field(default_factory=dict)
    add: Mapping[str, int] = field(default_factory=dict)
    condition: ConditionBase | None = None


@dataclass(frozen=True)
class ConditionCheck:
    table: str
    key: Item
    condition: ConditionBase


Write = Put | Delete | Update | ConditionCheck


def transact(*, region: str, writes: Sequence[Write], action: str) -> None:
    """Commit `writes` all together or not at all.

    On refusal ConditionFailed.reasons holds one cancellation code per write,
    in order ('None' for writes that passed), so callers tell which one failed.
    """
    items = [_transact_item(write) for write in writes]
    with aws_call(region, action):
        dynamodb_resource(region).meta.client.transact_write_items(TransactItems=items)


def _transact_item(write: Write) -> TransactWriteItemTypeDef:
    # The resource client serialises Python values anywhere in the request, but
    # puts the placeholders of condition objects only at the top level, which a
    # transaction does not have: each write's expression is built here.
    request: dict[str, Any] = {"TableName": write.table}
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    if isinstance(write, Put):
        request["Item"] = write.item
    else:
        request["Key"] = write.key
    if isinstance(write, Update):
        request["UpdateExpression"] = _update_expression(write, names, values)
    if write.condition is not None:
        built = ConditionExpressionBuilder().build_expression(write.condition)
        request["ConditionExpression"] = built.condition_expression
        names.update(built.attribute_name_placeholders)
        values.update(built.attribute_value_placeholders)
    if names:
        request["ExpressionAttributeNames"] = names
    if values:
        request["ExpressionAttributeValues"] = values
    kind = type(write).__name__
    return {kind: request}  # type: ignore[misc]


def _update_expression(write: Update, names: dict[str, str], values: dict[str, Any]) -> str:
    clauses = []
    for verb, attributes, separator in (("SET", write.set, " = "), ("ADD", write.add, " ")):
        if not attributes:
            continue
        parts = []
        for name, value in attributes.items():
            placeholder = f"u{len(names)}"
            names[f"#{placeholder}"] = name
            values[f":{placeholder}"] = value
            parts.append(f"#{placeholder}{separator}:{placeholder}")
        clauses.append(f"{verb} {', '.join(parts)}")
    return " ".join(clauses)


def region_ping(*, region: str) -> bool:
    """True once the region's DynamoDB answers; RegionUnavailable while it does not."""
    with aws_call(region, "list tables"):
        client("dynamodb", region).list_tables(Limit=1)
    return True


def table_describe(*, region: str, table: str) -> dict[str, Any]:
    """The table's description; ResourceMissing when it does not exist."""
    with aws_call(region, f"describe table {table}"):
        return dict(client("dynamodb", region).describe_table(TableName=table)["Table"])


def table_exists(*, region: str, table: str) -> bool:
    try:
        table_describe(region=region, table=table)
    except ResourceMissing:
        return False
    return True


def table_items_raw(*, region: str, table: str) -> Iterator[Item]:
    """Every item of a table, low-level (a full scan: for re-synchronising a region only)."""
    paginator = client("dynamodb", region).get_paginator("scan")
    with aws_call(region, f"scan {table}"):
        for page in paginator.paginate(TableName=table, ConsistentRead=True):
            yield from page.get("Items", [])


def replica_put(*, region: str, table: str, item: Item) -> None:
    """Put a low-level `item` unconditionally."""
    with aws_call(region, f"put into {table}"):
        client("dynamodb", region).put_item(TableName=table, Item=item)


def replica_put_if_newer(
    *, region: str, table: str, hash_key: str, item: Item, written_at: int
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


def replica_delete_if_older(
    *, region: str, table: str, key: Item, deleted_at: int, origin: str
) -> bool:
    """Delete the replica's item unless it was written after `deleted_at`; True if deleted.

    The item is first stamped with the delete's time, its origin and a flag, then
    deleted on that exact stamp: the REMOVE record the replica's stream emits then
    carries the flag in its old image, so the delete is recognised as a replica
    and not sent back, and a replay after a crash between the two steps finishes
    the same delete.
    """
    ddb = client("dynamodb", region)
    written: Any = {"N": str(deleted_at)}
    flag: Any = {"BOOL": True}
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
                ExpressionAttributeValues={":w": written, ":r": {"S": origin}, ":t": flag},
            )
            ddb.delete_item(
                TableName=table,
                Key=key,
                ConditionExpression="#w = :w AND #f = :t",
                ExpressionAttributeNames={"#w": "mra_written_at", "#f": REPLICA_DELETE_FLAG},
                ExpressionAttributeValues={":w": written, ":t": flag},
            )
    except ConditionFailed:
        return False
    return True
