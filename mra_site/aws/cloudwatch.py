"""CloudWatch replication metrics, read by the drain check on AWS.

S3 publishes OperationsPendingReplication per replication rule once
Replication Time Control metrics are on; DynamoDB publishes
ReplicationLatency per receiving region for global tables. Either may be
missing (metrics off, no traffic in the window), so each is optional.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .clients import aws_call, client

if TYPE_CHECKING:
    from types_boto3_cloudwatch.type_defs import DimensionTypeDef

WINDOW = timedelta(minutes=5)


def _latest_maximum(
    *, region: str, namespace: str, metric: str, dimensions: Sequence[DimensionTypeDef]
) -> float | None:
    now = datetime.now(UTC)
    with aws_call(region, f"read CloudWatch {namespace} {metric}"):
        response = client("cloudwatch", region).get_metric_statistics(
            Namespace=namespace,
            MetricName=metric,
            Dimensions=dimensions,
            StartTime=now - WINDOW,
            # The current, still-filling period holds the newest datapoint.
            EndTime=now + timedelta(minutes=1),
            Period=60,
            Statistics=["Maximum"],
        )
    points = sorted(response.get("Datapoints", []), key=lambda p: p["Timestamp"])
    return float(points[-1]["Maximum"]) if points else None


def s3_operations_pending(
    *, region: str, source_bucket: str, destination_bucket: str
) -> float | None:
    """Objects waiting to replicate from `source_bucket` (summed over its rules)."""
    with aws_call(region, "list S3 replication metrics"):
        listed = client("cloudwatch", region).list_metrics(
            Namespace="AWS/S3",
            MetricName="OperationsPendingReplication",
            Dimensions=[
                {"Name": "SourceBucket", "Value": source_bucket},
                {"Name": "DestinationBucket", "Value": destination_bucket},
            ],
        )
    values = [
        _latest_maximum(
            region=region,
            namespace="AWS/S3",
            metric="OperationsPendingReplication",
            dimensions=metric["Dimensions"],
        )
        for metric in listed.get("Metrics", [])
    ]
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def dynamodb_replication_latency_ms(
    *, region: str, table: str, receiving_region: str
) -> float | None:
    """The latest maximum ReplicationLatency of `table` towards `receiving_region`."""
    return _latest_maximum(
        region=region,
        namespace="AWS/DynamoDB",
        metric="ReplicationLatency",
        dimensions=[
            {"Name": "TableName", "Value": table},
            {"Name": "ReceivingRegion", "Value": receiving_region},
        ],
    )


def replication_metrics(
    *, source: str, target: str, buckets: tuple[str, str], tables: list[str]
) -> dict[str, Any]:
    """{"s3_pending": n|None, "dynamodb_latency_ms": {table: ms|None}} from `source`."""
    return {
        "s3_pending": s3_operations_pending(
            region=source, source_bucket=buckets[0], destination_bucket=buckets[1]
        ),
        "dynamodb_latency_ms": {
            table: dynamodb_replication_latency_ms(
                region=source, table=table, receiving_region=target
            )
            for table in tables
        },
    }
