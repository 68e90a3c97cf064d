"""Bringing emulated regions back to what their bootstrap left, without
restarting them: far cheaper than a reset and a new bootstrap, and the pool
and client ids stay as they were."""

from typing import Any

from mra_site.aws import provision
from mra_site.aws.clients import client, endpoint_for
from mra_site.resources import REGIONAL_TABLES, TABLES, TableSpec, media_bucket


def _refuse_real_aws(region: str) -> None:
    if not endpoint_for(region):
        raise RuntimeError(f"refusing to empty {region}: it is not an emulated region")


def bucket_empty(*, region: str) -> None:
    """Delete every version and delete marker of the region's media bucket."""
    s3 = client("s3", region)
    bucket = media_bucket(region)
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [
            {"Key": entry["Key"], "VersionId": entry["VersionId"]}
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if doomed:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})


def queues_purge(*, region: str) -> None:
    """Drop the object events the bucket sent (emptying it sends one per version)."""
    # Received and deleted rather than purged: a queue takes one purge a minute.
    sqs = client("sqs", region)
    for url in sqs.list_queues().get("QueueUrls", []):
        while messages := sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages"):
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )


Items = dict[str, list[dict[str, Any]]]


def _items(*, region: str, spec: TableSpec, keys_only: bool) -> list[dict[str, Any]]:
    kwargs: dict[str, Any] = {"TableName": spec.name, "ConsistentRead": True}
    if keys_only:
        names = {
            f"#k{i}": key for i, key in enumerate(k for k in (spec.hash_key, spec.range_key) if k)
        }
        kwargs.update(ProjectionExpression=", ".join(names), ExpressionAttributeNames=names)
    pages = client("dynamodb", region).get_paginator("scan").paginate(**kwargs)
    return [item for page in pages for item in page["Items"]]


def _batch_write(*, region: str, table: str, requests: list[dict[str, Any]]) -> None:
    for start in range(0, len(requests), 25):
        client("dynamodb", region).batch_write_item(
            RequestItems={table: requests[start : start + 25]}
        )


def tables_snapshot(*, region: str) -> Items:
    """Every item of the region's tables, by table name."""
    return {spec.name: _items(region=region, spec=spec, keys_only=False) for spec in TABLES}


def table_empty(*, region: str, spec: TableSpec) -> None:
    doomed = _items(region=region, spec=spec, keys_only=True)
    _batch_write(
        region=region, table=spec.name, requests=[{"DeleteRequest": {"Key": k}} for k in doomed]
    )


def table_recreate(*, region: str, spec: TableSpec) -> None:
    """A new table, hence a new stream: a reader starting at its oldest record
    sees only what was written since."""
    ddb = client("dynamodb", region)
    ddb.delete_table(TableName=spec.name)
    provision.ensure_table(region=region, spec=spec)


def users_delete(*, region: str) -> None:
    from mra_site.aws.cognito import pool_config

    idp = client("cognito-idp", region)
    pool_id = pool_config(region).pool_id
    for page in idp.get_paginator("list_users").paginate(UserPoolId=pool_id):
        for user in page["Users"]:
            idp.admin_delete_user(UserPoolId=pool_id, Username=user["Username"])


def region_data_restore(*, region: str, baseline: Items, fresh_streams: bool = False) -> None:
    """The region's resources kept, its data gone but for the `baseline` items
    (what its bootstrap wrote: the routing state)."""
    _refuse_real_aws(region)
    bucket_empty(region=region)
    queues_purge(region=region)
    for spec in TABLES:
        if fresh_streams:
            table_recreate(region=region, spec=spec)
        else:
            table_empty(region=region, spec=spec)
        items = baseline.get(spec.name, [])
        _batch_write(
            region=region, table=spec.name, requests=[{"PutRequest": {"Item": i}} for i in items]
        )
    for spec in REGIONAL_TABLES:
        table_empty(region=region, spec=spec)
    users_delete(region=region)
