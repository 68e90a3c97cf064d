"""S3 media helpers: put, delete, presign, and listing for garbage collection."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .clients import aws_call, client
from .errors import ResourceMissing


@dataclass(frozen=True)
class StoredObject:
    key: str
    last_modified: datetime


def object_put(*, region: str, bucket: str, key: str, body: bytes, content_type: str) -> None:
    with aws_call(region, f"put s3://{bucket}/{key}"):
        client("s3", region).put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)


def object_exists(*, region: str, bucket: str, key: str) -> bool:
    try:
        with aws_call(region, f"head s3://{bucket}/{key}"):
            client("s3", region).head_object(Bucket=bucket, Key=key)
    except ResourceMissing:
        return False
    return True


def objects_delete(*, region: str, bucket: str, keys: list[str]) -> None:
    """Delete `keys` for good: a delete marker (which replication carries to the
    other region) and every stored version of the bytes in this region."""
    if not keys:
        return
    s3 = client("s3", region)
    with aws_call(region, f"delete {len(keys)} objects from {bucket}"):
        s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True}
        )
        wanted = set(keys)
        prefix = _common_prefix(keys)
        versions: list[dict[str, Any]] = []
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
            versions += [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", [])
                if v["Key"] in wanted
            ]
        for start in range(0, len(versions), 1000):
            s3.delete_objects(
                Bucket=bucket, Delete={"Objects": versions[start : start + 1000], "Quiet": True}
            )


def presigned_get_url(*, region: str, bucket: str, key: str, expires_in: int) -> str:
    """A GET URL valid for `expires_in` seconds; computed locally, no request to S3."""
    return client("s3", region).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_in
    )


def objects_list(*, region: str, bucket: str, prefix: str) -> Iterator[StoredObject]:
    """Every current object under `prefix`, page by page."""
    with aws_call(region, f"list s3://{bucket}/{prefix}"):
        for page in (
            client("s3", region)
            .get_paginator("list_objects_v2")
            .paginate(Bucket=bucket, Prefix=prefix)
        ):
            for entry in page.get("Contents", []):
                yield StoredObject(key=entry["Key"], last_modified=entry["LastModified"])


def _common_prefix(keys: list[str]) -> str:
    prefix = keys[0]
    for key in keys[1:]:
        while not key.startswith(prefix):
            prefix = prefix[:-1]
    return prefix
