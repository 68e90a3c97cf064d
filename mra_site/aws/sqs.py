"""SQS queues: where S3 sends its object events for the media replicator."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .clients import aws_call, client
from .errors import ResourceMissing

if TYPE_CHECKING:
    from types_boto3_sqs.literals import QueueAttributeNameType
    from types_boto3_sqs.type_defs import (
        ChangeMessageVisibilityBatchRequestEntryTypeDef,
        DeleteMessageBatchRequestEntryTypeDef,
    )


@dataclass(frozen=True)
class QueueMessage:
    message_id: str
    receipt_handle: str
    body: dict[str, Any]


def queue_ensure(*, region: str, name: str) -> tuple[str, str, bool]:
    """Create the queue if missing; (url, arn, created)."""
    sqs = client("sqs", region)
    with aws_call(region, f"create queue {name}"):
        created = False
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist:
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            created = True
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    return url, arn, created


def queue_url_get(*, region: str, name: str) -> str:
    """The queue's URL; ResourceMissing until the bootstrap step has created it."""
    sqs = client("sqs", region)
    with aws_call(region, f"find queue {name}"):
        try:
            return sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist as exc:
            raise ResourceMissing(
                f"queue {name} does not exist in {region}; run manage.py mra_bootstrap",
                region=region,
            ) from exc


# The most messages one ReceiveMessage returns (SQS's limit).
RECEIVE_BATCH = 10


def queue_receive(
    *, region: str, url: str, visibility: int, limit: int = RECEIVE_BATCH, wait: int = 0
) -> list[QueueMessage]:
    """Up to `limit` messages; with `wait` (whole seconds, SQS long polling), the
    call returns as soon as one arrives, or empty after `wait` seconds."""
    with aws_call(region, "receive queue messages"):
        response = client("sqs", region).receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=limit,
            VisibilityTimeout=visibility,
            WaitTimeSeconds=wait,
        )
    return [
        QueueMessage(
            message_id=m["MessageId"], receipt_handle=m["ReceiptHandle"], body=json.loads(m["Body"])
        )
        for m in response.get("Messages", [])
    ]


def queue_delete(*, region: str, url: str, receipt_handles: list[str]) -> None:
    if not receipt_handles:
        return
    entries: list[DeleteMessageBatchRequestEntryTypeDef] = [
        {"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(receipt_handles)
    ]
    with aws_call(region, "delete queue messages"):
        for start in range(0, len(entries), 10):
            client("sqs", region).delete_message_batch(
                QueueUrl=url, Entries=entries[start : start + 10]
            )


def queue_release(*, region: str, url: str, receipt_handles: list[str]) -> bool:
    """Make received messages visible again at once (visibility timeout 0); False
    when the queue did not take back every one of them."""
    entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
        {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0}
        for i, h in enumerate(receipt_handles)
    ]
    released = True
    with aws_call(region, "release queue messages"):
        for start in range(0, len(entries), 10):
            answer = client("sqs", region).change_message_visibility_batch(
                QueueUrl=url, Entries=entries[start : start + 10]
            )
            released &= not answer.get("Failed")
    return released


def queue_depth(*, region: str, url: str, in_flight: bool = True) -> int:
    """Messages waiting, plus (with `in_flight`) those received but not yet deleted."""
    names: list[QueueAttributeNameType] = ["ApproximateNumberOfMessages"]
    if in_flight:
        names.append("ApproximateNumberOfMessagesNotVisible")
    with aws_call(region, "queue depth"):
        attributes = client("sqs", region).get_queue_attributes(QueueUrl=url, AttributeNames=names)[
            "Attributes"
        ]
    return sum(int(attributes.get(name, 0)) for name in names)
