"""S3: media objects and their versions, presigned URLs, bucket event notifications."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .clients import aws_call, client
from .errors import AwsError, ResourceMissing

if TYPE_CHECKING:
    from types_boto3_s3.type_defs import ObjectIdentifierTypeDef, QueueConfigurationTypeDef

# What a replica carries in its user metadata (S3 lower-cases metadata keys).
REPLICA_OF = "mra-replica-of"
WRITTEN_AT = "mra-written-at"


@dataclass(frozen=True)
class StoredObject:
    key: str
    last_modified: datetime


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


def bucket_check(*, region: str, bucket: str) -> None:
    """Raise an AwsError unless the bucket answers."""
    with aws_call(region, f"head bucket {bucket}"):
        client("s3", region).head_bucket(Bucket=bucket)


def object_put(
    *,
    region: str,
    bucket: str,
    key: str,
    body: bytes,
    content_type: str,
    metadata: Mapping[str, str] | None = None,
) -> str:
    """Write a new version; returns its version id ('' in an unversioned bucket)."""
    with aws_call(region, f"put s3://{bucket}/{key}"):
        response = client("s3", region).put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            Metadata=dict(metadata or {}),
        )
    return response.get("VersionId", "")


def object_get(*, region: str, bucket: str, key: str) -> ObjectVersion | None:
    """The current version with its body; None when missing or deleted."""
    try:
        with aws_call(region, f"get s3://{bucket}/{key}"):
            response = client("s3", region).get_object(Bucket=bucket, Key=key)
            body = response["Body"].read()
    except ResourceMissing:
        return None
    return _version(key, response, body)


def object_head(
    *, region: str, bucket: str, key: str, version_id: str = ""
) -> ObjectVersion | None:
    """The current version (or `version_id`) without its body; None when missing or
    deleted."""
    try:
        with aws_call(region, f"head s3://{bucket}/{key}"):
            if version_id:
                response = client("s3", region).head_object(
                    Bucket=bucket, Key=key, VersionId=version_id
                )
            else:
                response = client("s3", region).head_object(Bucket=bucket, Key=key)
    except ResourceMissing:
        return None
    return _version(key, response, b"")


def object_exists(*, region: str, bucket: str, key: str) -> bool:
    return object_head(region=region, bucket=bucket, key=key) is not None


def object_delete(*, region: str, bucket: str, key: str) -> str:
    """Delete without a version id: a delete marker in a versioned bucket."""
    with aws_call(region, f"delete s3://{bucket}/{key}"):
        response = client("s3", region).delete_object(Bucket=bucket, Key=key)
    return response.get("VersionId", "")


@dataclass(frozen=True)
class StoredVersion:
    """One entry of ListObjectVersions: a version holding bytes or a delete marker."""

    key: str
    version_id: str
    last_modified: datetime
    is_latest: bool
    delete_marker: bool


# DeleteObjects takes at most this many keys or versions a request.
DELETE_BATCH = 1000


def object_versions(
    *, region: str, bucket: str, prefix: str = "", keys: Iterable[str] = ()
) -> list[StoredVersion]:
    """Every version and delete marker under `prefix`, page by page; with `keys`,
    of exactly those keys (listed under their common prefix)."""
    wanted = set(keys)
    if wanted:
        prefix = _common_prefix(sorted(wanted))
    found: list[StoredVersion] = []
    paginator = client("s3", region).get_paginator("list_object_versions")
    with aws_call(region, f"list versions of s3://{bucket}/{prefix}"):
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for entries, marker in (
                (page.get("Versions", []), False),
                (page.get("DeleteMarkers", []), True),
            ):
                found += [
                    StoredVersion(
                        key=e["Key"],
                        version_id=e["VersionId"],
                        last_modified=e["LastModified"],
                        is_latest=bool(e.get("IsLatest")),
                        delete_marker=marker,
                    )
                    for e in entries
                    if not wanted or e["Key"] in wanted
                ]
    return found


def versions_delete(*, region: str, bucket: str, versions: Sequence[StoredVersion]) -> None:
    """Delete these versions and delete markers for good (DeleteObjects with their
    version ids, DELETE_BATCH a request); an AwsError names what S3 refused."""
    s3 = client("s3", region)
    refused: list[str] = []
    code = ""
    for start in range(0, len(versions), DELETE_BATCH):
        batch: list[ObjectIdentifierTypeDef] = [
            {"Key": v.key, "VersionId": v.version_id}
            for v in versions[start : start + DELETE_BATCH]
        ]
        with aws_call(region, f"delete {len(batch)} versions from {bucket}"):
            response = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        for error in response.get("Errors", []):
            code = code or error.get("Code", "")
            refused.append(f"{error.get('Key')}@{error.get('VersionId')}: {error.get('Code')}")
    if refused:
        raise AwsError(
            f"{region}: S3 kept {len(refused)} versions in {bucket} ({', '.join(refused[:5])})",
            region=region,
            aws_code=code,
        )


def objects_purge(
    *,
    region: str,
    bucket: str,
    keys: Iterable[str] = (),
    prefix: str = "",
    keep_delete_marker: bool = True,
) -> int:
    """Remove every version of `keys` (or of every key under `prefix`) that holds
    bytes; returns how many there were.

    With `keep_delete_marker`, a key whose current version holds bytes first gets
    a delete marker, and the newest marker of each key stays: the marker is what
    replication carries to the other region (S3 replicates delete markers, never
    version deletions), and once alone it is an expired delete marker, removed by
    the bucket's lifecycle rule on AWS and by `photos_gc` locally. Without it,
    delete markers go too.
    """
    keys = sorted(set(keys))
    if not keys and not prefix:
        return 0
    listed = object_versions(region=region, bucket=bucket, keys=keys, prefix=prefix)
    if keep_delete_marker:
        live = sorted({v.key for v in listed if v.is_latest and not v.delete_marker})
        if live:
            with aws_call(region, f"put delete markers on {len(live)} objects in {bucket}"):
                response = client("s3", region).delete_objects(
                    Bucket=bucket, Delete={"Objects": [{"Key": k} for k in live], "Quiet": True}
                )
            if response.get("Errors"):
                first = response["Errors"][0]
                raise AwsError(
                    f"{region}: S3 refused to delete {first.get('Key')} in {bucket}: "
                    f"{first.get('Code')} {first.get('Message')}",
                    region=region,
                    aws_code=first.get("Code", ""),
                )
    doomed = [v for v in listed if not (keep_delete_marker and v.delete_marker and v.is_latest)]
    versions_delete(region=region, bucket=bucket, versions=doomed)
    return sum(not v.delete_marker for v in doomed)


def objects_list(*, region: str, bucket: str, prefix: str = "") -> Iterator[StoredObject]:
    """Every current object under `prefix`, page by page."""
    paginator = client("s3", region).get_paginator("list_objects_v2")
    with aws_call(region, f"list s3://{bucket}/{prefix}"):
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                yield StoredObject(key=entry["Key"], last_modified=entry["LastModified"])


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


def presigned_get_url(*, region: str, bucket: str, key: str, expires_in: int) -> str:
    """A GET URL valid for `expires_in` seconds; computed locally, no request to S3."""
    return client("s3", region).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_in
    )


def bucket_notifications_ensure(*, region: str, bucket: str, queue_arn: str) -> bool:
    """Send the bucket's object-created and object-removed events to the queue."""
    s3 = client("s3", region)
    wanted: QueueConfigurationTypeDef = {
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


def _version(key: str, response: Mapping[str, Any], body: bytes) -> ObjectVersion:
    return ObjectVersion(
        key=key,
        version_id=response.get("VersionId", ""),
        content_type=response.get("ContentType", "binary/octet-stream"),
        metadata=dict(response.get("Metadata", {})),
        last_modified=response["LastModified"],
        body=body,
    )


def _common_prefix(keys: list[str]) -> str:
    prefix = keys[0]
    for key in keys[1:]:
        while not key.startswith(prefix):
            prefix = prefix[:-1]
    return prefix
