"""The CloudWatch replication metrics the drain check reads on AWS, against the emulator."""

import io
from datetime import UTC, datetime

from django.core.management import call_command

from mra_site.aws import cloudwatch
from mra_site.aws.clients import client
from replication.canary import canary_lag
from tests.conftest import PRIMARY, SECONDARY


def put_metric(namespace: str, name: str, dimensions: dict[str, str], value: float) -> None:
    client("cloudwatch", PRIMARY).put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                "Timestamp": datetime.now(UTC),
                "Value": value,
            }
        ],
    )


def test_metrics_missing_are_none(aws):
    metrics = cloudwatch.replication_metrics(
        source=PRIMARY, target=SECONDARY, buckets=("a", "b"), tables=["mra-photos"]
    )
    assert metrics == {"s3_pending": None, "dynamodb_latency_ms": {"mra-photos": None}}


def test_pending_objects_and_latency_are_read(aws):
    dims = {"SourceBucket": "src", "DestinationBucket": "dst", "RuleId": "all"}
    put_metric("AWS/S3", "OperationsPendingReplication", dims, 7)
    put_metric(
        "AWS/DynamoDB",
        "ReplicationLatency",
        {"TableName": "mra-photos", "ReceivingRegion": SECONDARY},
        420,
    )
    metrics = cloudwatch.replication_metrics(
        source=PRIMARY, target=SECONDARY, buckets=("src", "dst"), tables=["mra-photos"]
    )
    assert metrics["s3_pending"] == 7
    assert metrics["dynamodb_latency_ms"] == {"mra-photos": 420}


def test_canary_command_beats_in_the_writing_region(aws):
    out = io.StringIO()
    call_command("canary", "--interval", "0.1", "--beats", "3", stdout=out)
    assert "stopped after 3 heartbeats" in out.getvalue()
    assert canary_lag(region=PRIMARY).table is not None
    assert canary_lag(region=SECONDARY).table is None
