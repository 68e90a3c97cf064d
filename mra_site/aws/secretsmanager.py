"""Secrets Manager: the deployment's one signing key, read from the region's replica.

Read while the settings load, so nothing here may read a Django setting: the
caller passes the region and its endpoint, and the client gets fixed, short
timeouts (a function that cannot read its key must fail at start-up, quickly).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from .clients import AWS_EXCEPTIONS, _build, translate
from .errors import ResourceMissing

if TYPE_CHECKING:
    from types_boto3_secretsmanager import SecretsManagerClient

CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 3.0
MAX_ATTEMPTS = 3


class SecretVersions(NamedTuple):
    current: str
    # The value before the last rotation, None before the first one: signatures
    # made with it stay valid (Django's SECRET_KEY_FALLBACKS).
    previous: str | None


def _client(region: str, endpoint: str) -> SecretsManagerClient:
    return _build(
        "client",
        "secretsmanager",
        region,
        endpoint,
        CONNECT_TIMEOUT,
        READ_TIMEOUT,
        MAX_ATTEMPTS,
        # The administrator's key where emulated: no role is assumed before settings exist.
        "",
    )


def secret_versions_get(*, secret_id: str, region: str, endpoint: str = "") -> SecretVersions:
    """The current and previous string values of `secret_id` in `region` ('' endpoint: AWS)."""
    sm = _client(region, endpoint)
    action = f"read secret {secret_id}"
    try:
        current = sm.get_secret_value(SecretId=secret_id)["SecretString"]
    except AWS_EXCEPTIONS as exc:
        raise translate(exc, region=region, action=action) from exc
    try:
        previous = sm.get_secret_value(SecretId=secret_id, VersionStage="AWSPREVIOUS")
    except AWS_EXCEPTIONS as exc:
        error = translate(exc, region=region, action=action)
        if isinstance(error, ResourceMissing):
            return SecretVersions(current=current, previous=None)
        raise error from exc
    return SecretVersions(current=current, previous=previous["SecretString"])
