"""Sign-in and token requests throttled per username and per client address.

Failed attempts are counted in fixed windows of MRA_THROTTLE_WINDOW_SECONDS,
one DynamoDB item per (kind, value, window start) in the serving region's
throttle table, incremented atomically with UpdateItem ADD and expiring by
TTL. A site runs as many processes (Lambda functions have no shared memory),
and they all count in the same table. The table is not replicated: each
region counts its own attempts, so an attacker who can reach both regions'
sites gets twice the attempts.

django-ratelimit would count in Django's cache, and no cache backend on
DynamoDB is maintained; the counting here is two reads and, on a failure,
two updates.

When the throttle table's region does not answer, sign-in is not refused for
it: the attempt goes on unthrottled and the outage is logged.
"""

import logging
import math
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.http import HttpRequest

from mra_site.aws import dynamodb
from mra_site.aws.cognito import Tokens
from mra_site.aws.errors import AwsError
from mra_site.clientaddr import client_address
from mra_site.resources import table_name

from . import services

logger = logging.getLogger(__name__)

TABLE = "throttle"
USERNAME = "user"
ADDRESS = "addr"
# The longest username or address a key carries; longer ones are cut (the
# forms and the API refuse usernames past 128 characters anyway).
_MAX_VALUE = 256

T = TypeVar("T")


class TooManyAttempts(services.AccountError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "Too many failed sign-in attempts. Wait "
            f"{retry_after} second{'s' if retry_after != 1 else ''} and try again, "
            "or reset your password if you have forgotten it.",
            status=429,
        )
        self.retry_after = retry_after


def username_normalised(username: str) -> str:
    """The form a username is counted under: NFKC, case-folded, without surrounding space."""
    return unicodedata.normalize("NFKC", username).casefold().strip()


@dataclass(frozen=True)
class Window:
    start: int
    seconds: int

    @classmethod
    def at(cls, now: float, seconds: int) -> "Window":
        return cls(start=int(now // seconds) * seconds, seconds=seconds)

    @property
    def end(self) -> int:
        return self.start + self.seconds

    def retry_after(self, now: float) -> int:
        """Whole seconds until the window is over, at least one."""
        return max(1, math.ceil(self.end - now))

    @property
    def expires_at(self) -> int:
        # TTL deletes items within days, not at once: one window's grace is only
        # what a reader ignores, and old windows are never read anyway.
        return self.end + self.seconds


def counter_key(kind: str, value: str, window: Window) -> str:
    return f"{kind}#{value[:_MAX_VALUE]}#{window.start}"


def _limits() -> dict[str, int]:
    return {
        USERNAME: settings.MRA_THROTTLE_USERNAME_FAILURES,
        ADDRESS: settings.MRA_THROTTLE_ADDRESS_FAILURES,
    }


def _failures(*, region: str, key: str, now: float) -> int:
    item = dynamodb.item_get(
        region=region,
        table=table_name(TABLE),
        key={"pk": key},
        consistent=True,
        action="read the sign-in throttle",
    )
    if not item or int(item.get("expires_at", 0)) <= now:
        return 0
    return int(item.get("failures", 0))


def _check(*, region: str, subjects: dict[str, str], window: Window, now: float) -> None:
    limits = _limits()
    for kind, value in subjects.items():
        if _failures(region=region, key=counter_key(kind, value, window), now=now) >= limits[kind]:
            logger.info("sign-in throttled", extra={"throttle": kind, "window": window.start})
            raise TooManyAttempts(window.retry_after(now))


def _count_failure(*, region: str, subjects: dict[str, str], window: Window) -> None:
    for kind, value in subjects.items():
        dynamodb.item_add(
            region=region,
            table=table_name(TABLE),
            key={"pk": counter_key(kind, value, window)},
            add={"failures": 1},
            set={"expires_at": window.expires_at},
            action="count a failed sign-in",
        )


def _forget_username(*, region: str, subjects: dict[str, str], window: Window) -> None:
    if USERNAME in subjects:
        dynamodb.item_delete(
            region=region,
            table=table_name(TABLE),
            key={"pk": counter_key(USERNAME, subjects[USERNAME], window)},
            action="reset the sign-in throttle",
        )


def _throttled(request: HttpRequest, subjects: dict[str, str], attempt: Callable[[], T]) -> T:
    region = settings.MRA_REGION
    now = time.time()
    window = Window.at(now, settings.MRA_THROTTLE_WINDOW_SECONDS)
    subjects = {ADDRESS: client_address(request), **subjects}
    counting = _unless_unavailable(
        lambda: _check(region=region, subjects=subjects, window=window, now=now), subjects
    )
    try:
        result = attempt()
    except services.AccountError as exc:
        if exc.status == 401 and counting:
            _unless_unavailable(
                lambda: _count_failure(region=region, subjects=subjects, window=window), subjects
            )
        raise
    if counting:
        _unless_unavailable(
            lambda: _forget_username(region=region, subjects=subjects, window=window), subjects
        )
    return result


def _unless_unavailable(step: Callable[[], None], subjects: dict[str, str]) -> bool:
    """Run a throttle step; False, logged, when the table cannot be used (fail open)."""
    try:
        step()
    except AwsError as exc:
        logger.warning(
            "sign-in throttle unavailable, attempt not throttled: %s",
            exc,
            extra={"client": subjects[ADDRESS]},
        )
        return False
    return True


def throttled_sign_in(request: HttpRequest, *, username: str, password: str) -> Tokens:
    """services.user_sign_in, refused with TooManyAttempts (429) once the username or
    the client's address has had too many failures in the current window."""
    return _throttled(
        request,
        {USERNAME: username_normalised(username)},
        lambda: services.user_sign_in(username=username, password=password),
    )


def throttled_refresh(request: HttpRequest, *, refresh_token: str) -> Tokens:
    """services.user_refresh, throttled per client address."""
    return _throttled(request, {}, lambda: services.user_refresh(refresh_token=refresh_token))
