"""boto3 clients per (service, region), cached per process.

Creating a client costs milliseconds and reads files, so each process builds
one per (service, region) and reuses it; boto3 clients are thread-safe.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
import botocore.exceptions
from botocore.config import Config
from django.conf import settings

from . import calllog, credentials
from .errors import (
    AuthFailed,
    AwsError,
    ConditionFailed,
    InvalidRequest,
    RegionUnavailable,
    ResourceMissing,
)

if TYPE_CHECKING:
    # Type stubs are a development dependency: never imported at run time.
    from types_boto3_cloudwatch import CloudWatchClient
    from types_boto3_cognito_idp import CognitoIdentityProviderClient
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodb.service_resource import DynamoDBServiceResource, Table
    from types_boto3_dynamodbstreams import DynamoDBStreamsClient
    from types_boto3_s3 import S3Client
    from types_boto3_secretsmanager import SecretsManagerClient
    from types_boto3_sqs import SQSClient
    from types_boto3_sts import STSClient


def regions() -> tuple[str, str]:
    """The (primary, secondary) pair."""
    return settings.MRA_PRIMARY_REGION, settings.MRA_SECONDARY_REGION


def other_region(region: str) -> str:
    primary, secondary = regions()
    return secondary if region == primary else primary


def endpoint_for(region: str) -> str:
    """The endpoint override for a region; '' means real AWS."""
    return settings.MRA_AWS_ENDPOINTS.get(region, "")


def is_emulated(region: str | None = None) -> bool:
    """True when the region (any region if None) is served by a local emulator."""
    if region is not None:
        return bool(endpoint_for(region))
    return any(endpoint_for(r) for r in regions())


@overload
def client(service: Literal["s3"], region: str) -> S3Client: ...
@overload
def client(service: Literal["dynamodb"], region: str) -> DynamoDBClient: ...
@overload
def client(service: Literal["dynamodbstreams"], region: str) -> DynamoDBStreamsClient: ...
@overload
def client(service: Literal["sqs"], region: str) -> SQSClient: ...
@overload
def client(service: Literal["cognito-idp"], region: str) -> CognitoIdentityProviderClient: ...
@overload
def client(service: Literal["cloudwatch"], region: str) -> CloudWatchClient: ...
@overload
def client(service: Literal["sts"], region: str) -> STSClient: ...
@overload
def client(service: Literal["secretsmanager"], region: str) -> SecretsManagerClient: ...
@overload
def client(service: str, region: str) -> Any: ...
def client(service: str, region: str) -> Any:
    """A boto3 client for `service` in `region`, honouring the endpoint override."""
    return _build("client", service, *_options(region))


def dynamodb_resource(region: str) -> DynamoDBServiceResource:
    """The DynamoDB resource in `region`: its client takes and gives Python values."""
    return _build("resource", "dynamodb", *_options(region))


def dynamodb_table(region: str, table_name: str) -> Table:
    """A DynamoDB Table resource in `region` (Python types in and out)."""
    return dynamodb_resource(region).Table(table_name)


# A region that has not answered a small request within these (seconds) is
# taken for down by callers that must decide fast (fail_fast below); a live
# region answers a read of one item in milliseconds, even loaded, locally.
PROBE_CONNECT_TIMEOUT = 0.5
PROBE_READ_TIMEOUT = 1.0

# Set while a caller must decide quickly whether a region answers at all (a
# forced transition away from a region that may be hung): its calls get the
# short probe timeouts and are not retried.
_fail_fast: ContextVar[bool] = ContextVar("mra_aws_fail_fast", default=False)


@contextmanager
def fail_fast() -> Iterator[None]:
    """AWS calls made inside wait PROBE_*_TIMEOUT seconds at most and are not
    retried: a region that does not answer in that time counts as down."""
    token = _fail_fast.set(True)
    try:
        yield
    finally:
        _fail_fast.reset(token)


# Calls whose answer grows with the data (every version in a bucket, page by
# page) may take longer than a request for one item without the region being
# down: inside `bulk()` a call waits this long for its answer before the region
# counts as not answering (and its breaker opens for every caller).
BULK_READ_TIMEOUT = 30.0
_bulk: ContextVar[bool] = ContextVar("mra_aws_bulk", default=False)


@contextmanager
def bulk() -> Iterator[None]:
    """AWS calls made inside may answer slowly: they wait BULK_READ_TIMEOUT at least."""
    token = _bulk.set(True)
    try:
        yield
    finally:
        _bulk.reset(token)


def _options(region: str) -> tuple[str, str, float, float, int, str]:
    if _fail_fast.get():
        timeouts = (
            PROBE_CONNECT_TIMEOUT,
            PROBE_READ_TIMEOUT,
            0,  # botocore's max_attempts counts the retries: none
        )
    else:
        read_timeout = settings.MRA_AWS_READ_TIMEOUT
        timeouts = (
            settings.MRA_AWS_CONNECT_TIMEOUT,
            max(read_timeout, BULK_READ_TIMEOUT) if _bulk.get() else read_timeout,
            settings.MRA_AWS_MAX_ATTEMPTS,
        )
    return (region, endpoint_for(region), *timeouts, settings.MRA_AWS_ASSUME_ROLE)


@functools.cache
def _build(
    kind: str,
    service: str,
    region: str,
    endpoint: str,
    connect_timeout: float,
    read_timeout: float,
    max_attempts: int,
    role_name: str,
) -> Any:
    config = Config(
        region_name=region,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"max_attempts": max_attempts, "mode": "standard"},
        # Path-style: an emulator on 127.0.0.1 has no per-bucket host names. On AWS,
        # the regional virtual-hosted name in every region (us-east-1 too): the global
        # name answers a new bucket outside us-east-1 with a redirect that breaks a
        # presigned URL's signature.
        s3=(
            {"addressing_style": "path"}
            if endpoint
            else {"addressing_style": "virtual", "us_east_1_regional_endpoint": "regional"}
        ),
        signature_version="s3v4" if service == "s3" else None,
        max_pool_connections=32,
    )
    kwargs: dict[str, Any] = {"region_name": region, "config": config}
    session = boto3.session.Session()
    if endpoint:
        kwargs["endpoint_url"] = endpoint
        session = credentials.session_for(region=region, endpoint=endpoint, role_name=role_name)
    built = getattr(session, kind)(service, **kwargs)
    calllog.attach_if_on(built.meta.client if kind == "resource" else built)
    return built


def clear_client_cache() -> None:
    _build.cache_clear()


_MISSING_CODES = {
    "ResourceNotFoundException",
    "NoSuchBucket",
    "NoSuchKey",
    "NotFound",
    "404",
    "UserNotFoundException",
    "TableNotFoundException",
}
_AUTH_CODES = {"NotAuthorizedException", "UserNotConfirmedException", "UserNotFoundException"}
_INVALID_CODES = {
    "InvalidPasswordException",
    "InvalidParameterException",
    "UsernameExistsException",
    "ValidationException",
    "CodeMismatchException",
}


_UNANSWERED = (
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.ConnectionClosedError,
)


def translate(exc: Exception, *, region: str, action: str) -> AwsError:
    """Turn a botocore exception into the project's exception for it."""
    if isinstance(exc, _UNANSWERED):
        return RegionUnavailable(f"{action}: region {region} did not answer ({exc})", region=region)
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = f"{action} in {region}: {code}: {error.get('Message', '')}"
        if code in ("ConditionalCheckFailedException", "TransactionCanceledException"):
            reasons = [r.get("Code", "") for r in exc.response.get("CancellationReasons", [])]
            return ConditionFailed(message, region=region, aws_code=code, reasons=reasons)
        if code in _AUTH_CODES:
            return AuthFailed(message, region=region, aws_code=code)
        if code in _MISSING_CODES:
            return ResourceMissing(message, region=region, aws_code=code)
        if code in _INVALID_CODES:
            return InvalidRequest(message, region=region, aws_code=code)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if status >= 500:
            return RegionUnavailable(message, region=region, aws_code=code)
        return AwsError(message, region=region, aws_code=code)
    if isinstance(exc, botocore.exceptions.BotoCoreError):
        return RegionUnavailable(f"{action}: region {region}: {exc}", region=region)
    raise TypeError(f"not an AWS exception: {exc!r}")


AWS_EXCEPTIONS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)


class RegionBreaker:
    """Remembers, per process, a region that just did not answer.

    A region that is down (or hung: its connections open, then nothing comes
    back) costs every call the full read timeout. After one such failure the
    region's calls fail at once for MRA_AWS_REGION_COOLDOWN seconds, then one
    call is let through to find out whether it is back, so that a forced
    failover or a page that reads both regions is not held up call by call.
    """

    def __init__(self) -> None:
        self._down_until: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def check(self, region: str, action: str) -> None:
        key = (region, endpoint_for(region))
        until = self._down_until.get(key)
        if until is None:
            return
        now = time.monotonic()
        if now < until:
            raise RegionUnavailable(
                f"{action}: region {region} did not answer moments ago; not asked again for "
                f"{until - now:.1f} s",
                region=region,
            )
        with self._lock:
            # Half-open: this caller probes, the others keep failing fast meanwhile.
            if self._down_until.get(key) == until:
                self._down_until[key] = now + settings.MRA_AWS_REGION_COOLDOWN

    def failed(self, region: str) -> None:
        with self._lock:
            self._down_until[(region, endpoint_for(region))] = (
                time.monotonic() + settings.MRA_AWS_REGION_COOLDOWN
            )

    def succeeded(self, region: str) -> None:
        key = (region, endpoint_for(region))
        if key in self._down_until:
            with self._lock:
                self._down_until.pop(key, None)

    def reset(self) -> None:
        with self._lock:
            self._down_until.clear()


region_breaker = RegionBreaker()


@contextmanager
def aws_call(region: str, action: str) -> Iterator[None]:
    """Run AWS calls, raising the project's exceptions instead of botocore's."""
    region_breaker.check(region, action)
    try:
        yield
    except AWS_EXCEPTIONS as exc:
        if isinstance(exc, _UNANSWERED):
            region_breaker.failed(region)
        raise translate(exc, region=region, action=action) from exc
    region_breaker.succeeded(region)
