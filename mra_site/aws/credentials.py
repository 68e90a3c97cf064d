"""The credentials clients of an emulated region sign with.

On AWS (no endpoint override) clients take the environment's credentials,
the Lambda function's role: nothing here is used. Against an emulator,
clients sign with the local administrator's key (MRA_AWS_LOCAL_ACCESS_KEY_ID)
unless MRA_AWS_ASSUME_ROLE names a role: then with that role's credentials,
from sts:AssumeRole in that region's own emulator (IAM is per emulator), so a
site runs with exactly the policy the CloudFormation template gives it.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import DeferredRefreshableCredentials
from django.conf import settings

# moto creates every resource, roles included, in this account.
EMULATOR_ACCOUNT_ID = "123456789012"
# An hour, as a Lambda's role credentials; botocore refreshes them from 15
# minutes before they expire.
SESSION_SECONDS = 3600


def local_session(region: str) -> boto3.session.Session:
    """A session signing with the local administrator's key.

    Before settings exist (production settings reading their signing key from
    an emulated region), the key comes from the environment."""
    if settings.configured:
        key_id = settings.MRA_AWS_LOCAL_ACCESS_KEY_ID
        secret = settings.MRA_AWS_LOCAL_SECRET_ACCESS_KEY
    else:
        key_id = os.environ.get("MRA_AWS_LOCAL_ACCESS_KEY_ID", "")
        secret = os.environ.get("MRA_AWS_LOCAL_SECRET_ACCESS_KEY", "")
    return boto3.session.Session(
        region_name=region, aws_access_key_id=key_id, aws_secret_access_key=secret
    )


class AssumedRoleCredentials(DeferredRefreshableCredentials):
    """A role's credentials, fetched at first use and refreshed before expiry."""

    def forget(self) -> None:
        """Fetch anew at next use: the emulator that issued them restarted."""
        with self._refresh_lock:  # type: ignore[attr-defined]
            self._expiry_time = datetime.now(UTC) - timedelta(seconds=1)


_assumed: dict[tuple[str, str, str], AssumedRoleCredentials] = {}
_assumed_lock = threading.Lock()


def assumed_role_credentials(
    *, region: str, endpoint: str, role_name: str
) -> AssumedRoleCredentials:
    """Credentials of `role_name` assumed in the emulator at `endpoint`; one set
    per region, so a region that is down delays only its own clients."""
    key = (region, endpoint, role_name)
    with _assumed_lock:
        if key not in _assumed:
            _assumed[key] = AssumedRoleCredentials(
                refresh_using=_fetcher(region=region, endpoint=endpoint, role_name=role_name),
                method="sts-assume-role",
            )
        return _assumed[key]


def _fetcher(*, region: str, endpoint: str, role_name: str) -> Callable[[], dict[str, Any]]:
    config = Config(
        connect_timeout=settings.MRA_AWS_CONNECT_TIMEOUT,
        read_timeout=settings.MRA_AWS_READ_TIMEOUT,
        retries={"max_attempts": settings.MRA_AWS_MAX_ATTEMPTS, "mode": "standard"},
    )
    sts = local_session(region).client("sts", endpoint_url=endpoint, config=config)

    def fetch() -> dict[str, Any]:
        answer = sts.assume_role(
            RoleArn=f"arn:aws:iam::{EMULATOR_ACCOUNT_ID}:role/{role_name}",
            RoleSessionName=f"mra-{settings.MRA_REGION}",
            DurationSeconds=SESSION_SECONDS,
        )["Credentials"]
        expiry = answer["Expiration"]
        if isinstance(expiry, datetime) and expiry.tzinfo is None:
            expiry = expiry.replace(tzinfo=UTC)
        return {
            "access_key": answer["AccessKeyId"],
            "secret_key": answer["SecretAccessKey"],
            "token": answer["SessionToken"],
            "expiry_time": expiry.isoformat() if isinstance(expiry, datetime) else str(expiry),
        }

    return fetch


def session_for(*, region: str, endpoint: str, role_name: str) -> boto3.session.Session:
    """A boto3 session signing for the emulated `region`: `role_name`'s assumed
    credentials (MRA_AWS_ASSUME_ROLE), or the local administrator's if empty."""
    if not role_name:
        return local_session(region)
    credentials = assumed_role_credentials(region=region, endpoint=endpoint, role_name=role_name)
    core = botocore.session.get_session()
    # botocore's way to give a session refreshable credentials of one's own.
    core._credentials = credentials  # type: ignore[attr-defined]
    # A needs-retry handler answers a delay; botocore's stubs type handlers as None.
    retry: Any = functools.partial(_reassume_if_rejected, credentials)
    core.register("needs-retry", retry)
    return boto3.session.Session(botocore_session=core, region_name=region)


# An emulator that restarted no longer knows the role sessions it issued.
_REJECTED_CODES = {"InvalidClientTokenId", "UnrecognizedClientException", "InvalidAccessKeyId"}


def _reassume_if_rejected(
    credentials: AssumedRoleCredentials, response: Any, attempts: int, **_: Any
) -> int | None:
    """Retry a first attempt at once, with the role assumed again, when the
    emulator rejected the session (it restarted); otherwise leave it to the
    client's retry policy."""
    if attempts != 1 or not response:
        return None
    code = response[1].get("Error", {}).get("Code", "")
    # An answer to HEAD has no body, so S3 names no code: botocore gives the bare
    # status, and a 403 may be the same rejection (HeadBucket, HeadObject). A HEAD
    # that is really denied costs one AssumeRole more before it fails.
    if code not in _REJECTED_CODES and code != "403":
        return None
    credentials.forget()
    return 0
