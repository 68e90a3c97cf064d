"""Idempotency keys of the create endpoints, and commits whose answer may be lost.

A key is scoped to a user and an endpoint. Its record lives in the photos
table, beside what it protects, and commits in the same transaction as the
write, so it replicates with it and a retry finds it in either region:

  key record  pk "IDEMPOTENCY#<user>"  sk "<endpoint>#<key>"
              idem_state "pending" | "done", token (the attempt that owns it),
              fingerprint (a hash of the request), result (the created record,
              JSON), started_at (ms), expires_at (s, the table's TTL attribute)

It carries no index attribute, so the gallery and by_owner queries never see
it. An upload claims its key with a pending record before it writes its media
(a retry meanwhile is told 409); the write's transaction turns the record into
"done" on the condition that the attempt still owns it, so however many
attempts race, one write is stored. A comment has no media: its transaction
puts the "done" record on the condition that the key is free.

Without a key, a write is still never misreported: every record is created
with an id chosen before the first attempt, so a write that fails because
"it already exists" is looked up, and found to be this request's own write
(botocore retried it after a lost answer), is reported as stored.
"""

import contextlib
import enum
import hashlib
import json
import math
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from mra_site.aws.dynamodb import (
    Attr,
    ConditionBase,
    Item,
    Put,
    Write,
    item_delete,
    item_get,
    write_stamp,
)
from mra_site.aws.errors import AwsError, ConditionFailed, RegionUnavailable
from mra_site.errors import ApplicationError
from mra_site.resources import table_name
from routing.fencing import guarded_write

from .errors import InvalidInput

HEADER = "Idempotency-Key"
FORM_FIELD = "idempotency_key"
KEY_MAX_LENGTH = 128
# Printable ASCII, without surrounding space (HTTP would strip it anyway).
_KEY_RE = re.compile(rf"[!-~](?:[ -~]{{0,{KEY_MAX_LENGTH - 2}}}[!-~])?")
KEY_RULE = f"1 to {KEY_MAX_LENGTH} printable ASCII characters"
RECORD_LIFETIME_SECONDS = 24 * 3600
# The longest a request lives (gunicorn's 30 s timeout locally; the Lambda is
# stopped at 60 s, and an attempt still running then loses its claim safely: its
# commit requires that it still owns the key). An older pending record belongs
# to an attempt that died, and a retry may take the key over.
PENDING_ABANDONED_SECONDS = 30
IN_FLIGHT_RETRY_AFTER_SECONDS = 1
IN_FLIGHT_POLL_SECONDS = 0.25
_PREFIX = "IDEMPOTENCY#"
_PENDING = "pending"
_DONE = "done"


class Endpoint(enum.StrEnum):
    PHOTOS = "photos"
    COMMENTS = "comments"


class KeyReused(ApplicationError):
    code = "idempotency_key_reused"
    status = 422
    title = "Key already used"

    def __init__(self) -> None:
        super().__init__(
            f"This {HEADER} was already used for a different request: use a new key for a "
            "new request, and the same key only to retry the same one. On a page, reload "
            "the form and send it again."
        )


class WriteInFlight(ApplicationError):
    code = "write_in_flight"
    status = 409
    title = "Still in progress"
    retry_after = IN_FLIGHT_RETRY_AFTER_SECONDS

    def __init__(self) -> None:
        super().__init__(
            "The same request (same form, or same Idempotency-Key) is still being processed. "
            "Send it again in a moment to get its answer."
        )


class OutcomeUnknown(ApplicationError):
    code = "outcome_unknown"
    status = 503
    title = "Not confirmed"

    def __init__(self, *, region: str, keyed: bool) -> None:
        retry = (
            f"Send it again (the same form, or with the same {HEADER}): it will be stored "
            "exactly once."
            if keyed
            else "Check whether it appears before sending it again."
        )
        super().__init__(
            f"Region {region} did not confirm the write in time, so it may or may not be "
            f"stored. {retry}",
            retry_after=max(1, math.ceil(settings.MRA_AWS_REGION_COOLDOWN)),
            extra={"region": region},
        )


def key_parse(raw: str | None) -> str | None:
    """The key a client sent, None when it sent none; InvalidInput when malformed."""
    if raw is None:
        return None
    if not _KEY_RE.fullmatch(raw):
        raise InvalidInput(
            "invalid_idempotency_key",
            f"The {HEADER} must be {KEY_RULE} (no surrounding space), for example a UUID.",
        )
    return raw


def key_new() -> str:
    """A fresh key, for a form rendered by the site."""
    return secrets.token_urlsafe(24)


def fingerprint(*parts: str | bytes) -> str:
    """A hash of what a request asks for: a retry must ask for the same."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class Scope:
    user: str
    endpoint: Endpoint
    key: str
    fingerprint: str

    @property
    def item_key(self) -> Item:
        return {"pk": f"{_PREFIX}{self.user}", "sk": f"{self.endpoint}#{self.key}"}


@dataclass(frozen=True)
class Attempt:
    """This request's use of a key; `claimed` when it holds a pending record."""

    scope: Scope
    token: str
    claimed: bool

    def completion(self, *, result: dict[str, Any], region: str) -> Put:
        """The key record's final state, to commit with the write it protects."""
        condition = Attr("token").eq(self.token) if self.claimed else _free(_now_ms())
        return Put(
            table=table_name("photos"),
            item=_record_item(self, state=_DONE, result=result, region=region),
            condition=condition,
        )


@dataclass(frozen=True)
class Replay:
    """The key's write is already stored: answer with its result."""

    result: dict[str, Any]


def scope_for(
    *, key: str | None, user: str, endpoint: Endpoint, parts: Sequence[str | bytes]
) -> Scope | None:
    if key is None:
        return None
    return Scope(user=user, endpoint=endpoint, key=key, fingerprint=fingerprint(*parts))


def attempt_start(
    *, scope: Scope | None, region: str, claim: bool, wait: float = 0.0
) -> Attempt | Replay | None:
    """Begin a keyed write: its earlier result (Replay), or this request's Attempt.

    With `claim`, a pending record is committed first, so that a retry arriving
    while this attempt writes its media is told it is in flight. Raises
    KeyReused when the key served another request, WriteInFlight when an
    attempt of it is still running after `wait` seconds.
    """
    if scope is None:
        return None
    deadline = time.monotonic() + wait
    for _ in range(3):
        existing = _record_awaited(scope=scope, region=region, deadline=deadline)
        if existing is not None:
            return _settled(existing, scope)
        attempt = Attempt(scope=scope, token=secrets.token_hex(16), claimed=claim)
        if not claim:
            return attempt
        try:
            guarded_write(
                writes=[
                    Put(
                        table=table_name("photos"),
                        item=_record_item(attempt, state=_PENDING, result=None, region=region),
                        condition=_free(_now_ms()),
                    )
                ],
                region=region,
                action=f"claim idempotency key of {scope.user} on {scope.endpoint}",
            )
            return attempt
        except ConditionFailed:
            continue  # another attempt claimed it first
    raise WriteInFlight()


def attempt_release(*, attempt: Attempt | Replay | None, region: str) -> None:
    """Give a claimed key back after a refused write, so that a corrected retry
    proceeds. Best effort: a record left behind is abandoned after its deadline."""
    if not isinstance(attempt, Attempt) or not attempt.claimed:
        return
    # Not through the write gate: a write refused by a fence must still free its
    # key, or the retry after the fence would wait out the deadline. Only this
    # attempt's own pending record can go, which stores nothing a user sees.
    with contextlib.suppress(AwsError):
        item_delete(
            region=region,
            table=table_name("photos"),
            key=attempt.scope.item_key,
            condition=Attr("token").eq(attempt.token) & Attr("idem_state").eq(_PENDING),
            action=f"release idempotency key of {attempt.scope.user}",
        )


def create_commit(
    *,
    writes: Sequence[Write],
    own_key: Item,
    attempt: Attempt | None,
    result: dict[str, Any],
    region: str,
    action: str,
) -> Replay | None:
    """Commit the writes of a create, whose first write puts the record at `own_key`.

    None when this request's write is stored, including when an earlier try of
    the same call committed and only its answer was lost; Replay when another
    attempt with the same key stored its write. Raises OutcomeUnknown when the
    region did not answer and the write may land later, ConditionFailed (with
    the reasons of `writes`) when the write was refused, WriteRefused when fenced.
    """
    all_writes = [*writes]
    if attempt is not None:
        all_writes.append(attempt.completion(result=result, region=region))
    try:
        guarded_write(writes=all_writes, region=region, action=action)
        return None
    except RegionUnavailable as exc:
        if _stored(key=own_key, region=region):
            return None
        raise OutcomeUnknown(region=region, keyed=attempt is not None) from exc
    except ConditionFailed:
        if _stored(key=own_key, region=region):
            return None
        if attempt is not None:
            found = _record_get(scope=attempt.scope, region=region)
            if found is not None and found.get("token") != attempt.token:
                return _settled(found, attempt.scope)
        raise


def _stored(*, key: Item, region: str) -> bool:
    try:
        return (
            item_get(
                region=region,
                table=table_name("photos"),
                key=key,
                consistent=True,
                action="check whether a write whose answer was lost is stored",
            )
            is not None
        )
    except AwsError:
        return False


def _record_get(*, scope: Scope, region: str) -> Item | None:
    """The key's record, None when there is none or it has expired or been abandoned."""
    item = item_get(
        region=region,
        table=table_name("photos"),
        key=scope.item_key,
        consistent=True,
        action=f"get idempotency key of {scope.user} on {scope.endpoint}",
    )
    now_ms = _now_ms()
    if item is None or int(item.get("expires_at", 0)) * 1000 < now_ms:
        return None
    if item.get("idem_state") == _PENDING and int(item.get("started_at", 0)) < _abandoned(now_ms):
        return None
    return item


def _record_awaited(*, scope: Scope, region: str, deadline: float) -> Item | None:
    """The key's record, once no attempt of the same request is pending or at `deadline`."""
    record = _record_get(scope=scope, region=region)
    while (
        record is not None
        and record.get("idem_state") == _PENDING
        and record.get("fingerprint") == scope.fingerprint
        and time.monotonic() < deadline
    ):
        time.sleep(IN_FLIGHT_POLL_SECONDS)
        record = _record_get(scope=scope, region=region)
    return record


def _settled(item: Item, scope: Scope) -> Replay:
    if item.get("fingerprint") != scope.fingerprint:
        raise KeyReused()
    if item.get("idem_state") != _DONE:
        raise WriteInFlight()
    return Replay(result=json.loads(str(item["result"])))


def _record_item(
    attempt: Attempt, *, state: str, result: dict[str, Any] | None, region: str
) -> Item:
    now_ms = _now_ms()
    item: Item = {
        **attempt.scope.item_key,
        "idem_state": state,
        "token": attempt.token,
        "fingerprint": attempt.scope.fingerprint,
        "started_at": now_ms,
        "expires_at": now_ms // 1000 + RECORD_LIFETIME_SECONDS,
        **write_stamp(region),
    }
    if result is not None:
        item["result"] = json.dumps(result, sort_keys=True)
    return item


def _free(now_ms: int) -> ConditionBase:
    """The key is free: no record, an expired one (TTL deletes it within days, not at
    once), or a pending one whose attempt died."""
    return (
        Attr("pk").not_exists()
        | Attr("expires_at").lt(now_ms // 1000)
        | (Attr("idem_state").eq(_PENDING) & Attr("started_at").lt(_abandoned(now_ms)))
    )


def _abandoned(now_ms: int) -> int:
    return now_ms - PENDING_ABANDONED_SECONDS * 1000


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
