"""Reachability of a region's bucket, tables and user pool, for /readyz."""

from concurrent.futures import ThreadPoolExecutor

from mra_site.resources import TABLES, media_bucket

from .clients import aws_call, client
from .cognito import pool_config
from .errors import AwsError


def _check_bucket(region: str) -> None:
    bucket = media_bucket(region)
    with aws_call(region, f"head bucket {bucket}"):
        client("s3", region).head_bucket(Bucket=bucket)


def _check_table(region: str, name: str) -> None:
    with aws_call(region, f"describe table {name}"):
        client("dynamodb", region).describe_table(TableName=name)


def _check_pool(region: str) -> None:
    config = pool_config(region)
    with aws_call(region, f"describe user pool {config.pool_id}"):
        client("cognito-idp", region).describe_user_pool(UserPoolId=config.pool_id)


def region_readiness(region: str) -> dict[str, str]:
    """{check name: "ok" or the reason it failed}, checked concurrently."""
    checks = {f"s3:{media_bucket(region)}": lambda: _check_bucket(region)}
    for spec in TABLES:
        checks[f"dynamodb:{spec.name}"] = lambda name=spec.name: _check_table(region, name)
    checks["cognito:user-pool"] = lambda: _check_pool(region)

    def run(fn) -> str:
        try:
            fn()
        except AwsError as exc:
            return str(exc)
        return "ok"

    with ThreadPoolExecutor(max_workers=len(checks)) as pool:
        results = dict(zip(checks, pool.map(run, checks.values()), strict=True))
    return results
