"""Bootstrap step: each media bucket sends its object events to a queue the replicator reads."""

from mra_site.aws import s3, sqs
from mra_site.aws.clients import endpoint_for
from mra_site.resources import media_bucket

from .engine.media import queue_name


def media_events(*, region: str, demo: bool) -> list[str]:
    if not endpoint_for(region):
        # On AWS, S3 replication copies the bucket; no queue is needed.
        return []
    changes = []
    name = queue_name(region)
    _, arn, created = sqs.queue_ensure(region=region, name=name)
    if created:
        changes.append(f"queue {name}")
    bucket = media_bucket(region)
    if s3.bucket_notifications_ensure(region=region, bucket=bucket, queue_arn=arn):
        changes.append(f"object events of {bucket} to {name}")
    return changes
