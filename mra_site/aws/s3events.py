"""S3 event notifications through SQS, and the object reads and writes that replicate them."""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .clients import aws_call, client
from .errors import ResourceMissing

# What a replica carries in its user metadata (S3 lower-cases metadata keys).
REPLICA_OF = "mra-replica-of"
WRITTEN_AT = "mra-written-at"


@dataclass(frozen=True)
class ObjectVersion:
    key: str
    version_id: str
    content_type: str
    metadata: dict[str, str]
    last_modified: datetime
    body: bytes = field(default=b"", repr=False)

    @property
    def replica_of(self) -> str:
        return self.metadata.get(REPLICA_OF, "")

    @property
    def written_at(self) -> int:
        """Microseconds since the epoch of the original write (S3 keeps only seconds)."""
        stamped = self.metadata.get(WRITTEN_AT, "")
        if stamped.isdigit():
            return int(stamped)
        return int(self.last_modified.timestamp()) * 1_000_000


@dataclass(frozen=True)
class DeleteMarker:
    key: str
    version_id: str
    last_modified: datetime


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


def queue_receive(*, region: str, url: str, visibility: int, limit: int = 10) -> list[QueueMessage]:
    with aws_call(region, "receive queue messages"):
        response = client("sqs", region).receive_message(
            QueueUrl=url, MaxNumberOfMessages=limit, VisibilityTimeout=visibility, WaitTimeSeconds=0
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
    entries = [{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(receipt_handles)]
    with aws_call(region, "delete queue messages"):
        for start in range(0, len(entries), 10):
            client("sqs", region).delete_message_batch(
                QueueUrl=url, Entries=entries[start : start + 10]
            )


def queue_depth(*, region: str, url: str, in_flight: bool = True) -> int:
    """Messages waiting, plus (with `in_flight`) those received but not yet deleted."""
    names = ["ApproximateNumberOfMessages"]
    if in_flight:
        names.append("ApproximateNumberOfMessagesNotVisible")
    with aws_call(region, "queue depth"):
        attributes = client("sqs", region).get_queue_attributes(QueueUrl=url, AttributeNames=names)[
            "Attributes"
        ]
    return sum(int(attributes.get(name, 0)) for name in names)


def bucket_notifications_ensure(*, region: str, bucket: str, queue_arn: str) -> bool:
    """Send the bucket's object-created and object-removed events to the queue."""
    s3 = client("s3", region)
    wanted = {
        "QueueArn": queue_arn,
        "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
    }
    with aws_call(region, f"configure notifications of {bucket}"):
        current = s3.get_bucket_notification_configuration(Bucket=bucket)
        for config in current.get("QueueConfigurations", []):
            if config.get("QueueArn") == queue_arn and sorted(config.get("Events", [])) == sorted(
                wanted["Events"]
            ):
                return False
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [wanted]}
        )
    return True


def object_get(*, region: str, bucket: str, key: str) -> ObjectVersion | None:
    """The current version with its body; None when missing or deleted."""
    s3 = client("s3", region)
    try:
        with aws_call(region, f"get {bucket}/{key}"):
            response = s3.get_object(Bucket=bucket, Key=key)
            body = response["Body"].read()
    except ResourceMissing:
        return None
    return _version(key, response, body)


def object_head(*, region: str, bucket: str, key: str) -> ObjectVersion | None:
    """The current version without its body; None when missing or deleted."""
    try:
        with aws_call(region, f"head {bucket}/{key}"):
            response = client("s3", region).head_object(Bucket=bucket, Key=key)
    except ResourceMissing:
        return None
    return _version(key, response, b"")


def object_put(
    *, region: str, bucket: str, key: str, body: bytes, content_type: str, metadata: dict[str, str]
) -> str:
    """Write a new version; returns its version id."""
    with aws_call(region, f"put {bucket}/{key}"):
        response = client("s3", region).put_object(
            Bucket=bucket, Key=key, Body=body, ContentType=content_type, Metadata=metadata
        )
    return response.get("VersionId", "")


def object_delete(*, region: str, bucket: str, key: str) -> str:
    """Delete without a version id: a delete marker in a versioned bucket."""
    with aws_call(region, f"delete {bucket}/{key}"):
        response = client("s3", region).delete_object(Bucket=bucket, Key=key)
    return response.get("VersionId", "")


def delete_markers_latest(*, region: str, bucket: str) -> list[DeleteMarker]:
    """Delete markers that are the current version of their key."""
    paginator = client("s3", region).get_paginator("list_object_versions")
    markers = []
    with aws_call(region, f"list versions of {bucket}"):
        for page in paginator.paginate(Bucket=bucket):
            markers += [
                DeleteMarker(
                    key=m["Key"], version_id=m["VersionId"], last_modified=m["LastModified"]
                )
                for m in page.get("DeleteMarkers", [])
                if m.get("IsLatest")
            ]
    return markers


def object_keys(*, region: str, bucket: str) -> Iterator[str]:
    """Keys whose current version is an object."""
    paginator = client("s3", region).get_paginator("list_objects_v2")
    with aws_call(region, f"list {bucket}"):
        for page in paginator.paginate(Bucket=bucket):
            yield from (item["Key"] for item in page.get("Contents", []))


def _version(key: str, response: dict[str, Any], body: bytes) -> ObjectVersion:
    return ObjectVersion(
        key=key,
        version_id=response.get("VersionId", ""),
        content_type=response.get("ContentType", "binary/octet-stream"),
        metadata=dict(response.get("Metadata", {})),
        last_modified=response["LastModified"],
        body=body,
    )
