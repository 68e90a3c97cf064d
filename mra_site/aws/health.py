"""Reachability of a region's bucket, tables and user pool, for /readyz."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from mra_site.resources import TABLES, media_bucket

from . import cognito, dynamodb, s3
from .errors import AwsError


def region_readiness(region: str) -> dict[str, str]:
    """{check name: "ok" or the reason it failed}, checked concurrently."""
    bucket = media_bucket(region)
    checks: dict[str, Callable[[], object]] = {
        f"s3:{bucket}": partial(s3.bucket_check, region=region, bucket=bucket)
    }
    for spec in TABLES:
        checks[f"dynamodb:{spec.name}"] = partial(
            dynamodb.table_describe, region=region, table=spec.name
        )
    checks["cognito:user-pool"] = partial(cognito.pool_check, region=region)

    def run(check: Callable[[], object]) -> str:
        try:
            check()
        except AwsError as exc:
            return str(exc)
        return "ok"

    with ThreadPoolExecutor(max_workers=len(checks)) as pool:
        return dict(zip(checks, pool.map(run, checks.values()), strict=True))
