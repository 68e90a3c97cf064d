"""Reachability of a region's bucket, DynamoDB (its state table) and user pool, for /readyz."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from mra_site.resources import media_bucket, table_name

from . import cognito, dynamodb, s3
from .errors import AwsError

# One check per service, at once, on threads kept between calls: /readyz asks
# every few seconds, and the door and Route 53 ask it all day. A region whose
# DynamoDB answers for the state table answers for the others: which tables
# exist is the deployment's concern (deploy/), not a question for each probe.
_CHECKS = 3
_pool = ThreadPoolExecutor(max_workers=_CHECKS, thread_name_prefix="readyz")


def region_readiness(region: str) -> dict[str, str]:
    """{check name: "ok" or the reason it failed}, checked concurrently."""
    bucket, state = media_bucket(region), table_name("state")
    checks: dict[str, Callable[[], object]] = {
        f"s3:{bucket}": partial(s3.bucket_check, region=region, bucket=bucket),
        f"dynamodb:{state}": partial(dynamodb.table_describe, region=region, table=state),
        "cognito:user-pool": partial(cognito.pool_check, region=region),
    }

    def run(check: Callable[[], object]) -> str:
        try:
            check()
        except AwsError as exc:
            return str(exc)
        return "ok"

    return dict(zip(checks, _pool.map(run, checks.values()), strict=True))
