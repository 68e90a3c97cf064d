"""The user registry: one identity per username across both regions' pools.

Items of the replicated `users` table (hash key `pk`):
  USER#<id>           id (stable), username (as signed up), normalised,
                      created_at, subs {region: the sub the app created or
                      verified in that region's pool}, pending [regions whose
                      pool does not hold the user yet], version
  NAME#<normalised>   user_id: the claim on a name, written with its USER item
                      in one conditional transaction
Cognito's own username is not trusted across pools: a pool that could not be
reached at sign-up may later hold someone else under the same name. A token
maps to a user only through the pool and `sub` recorded here.
"""

import secrets
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from mra_site.aws.dynamodb import Attr, Delete, Put, item_get, transact, write_stamp
from mra_site.aws.errors import AwsError, ConditionFailed
from mra_site.cache import SingleFlightCache
from mra_site.resources import table_name

from . import gate
from .gate import guarded_write

# How long a process trusts what it read about a token's (pool, sub).
LOOKUP_MAX_AGE_SECONDS = 15.0


class NameTaken(Exception):
    """The normalised name is claimed already."""


@dataclass(frozen=True)
class UserRecord:
    id: str
    username: str
    normalised: str
    created_at: str
    subs: dict[str, str] = field(default_factory=dict)
    pending: tuple[str, ...] = ()
    version: int = 1

    def recorded(self, region: str, sub: str) -> bool:
        return bool(sub) and self.subs.get(region) == sub


def username_normalise(username: str) -> str:
    """NFKC then case-folded: `DEMO`, `Demo` and full-width `ｄｅｍｏ` are one name."""
    return unicodedata.normalize("NFKC", username).casefold()


def _table() -> str:
    return table_name("users")


def _user_key(user_id: str) -> dict[str, str]:
    return {"pk": f"USER#{user_id}"}


def _name_key(normalised: str) -> dict[str, str]:
    return {"pk": f"NAME#{normalised}"}


def new_user_id() -> str:
    return secrets.token_hex(16)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _record_item(record: UserRecord, region: str) -> dict[str, Any]:
    return {
        **_user_key(record.id),
        "id": record.id,
        "username": record.username,
        "normalised": record.normalised,
        "created_at": record.created_at,
        "subs": dict(record.subs),
        "pending": list(record.pending),
        "version": record.version,
        **write_stamp(region),
    }


def record_items(record: UserRecord, *, region: str) -> list[dict[str, Any]]:
    """The USER item and the NAME claim of a record, as stored."""
    return [
        {**_name_key(record.normalised), "user_id": record.id, **write_stamp(region)},
        _record_item(record, region),
    ]


def _record_from_item(item: dict[str, Any]) -> UserRecord:
    return UserRecord(
        id=str(item["id"]),
        username=str(item["username"]),
        normalised=str(item["normalised"]),
        created_at=str(item["created_at"]),
        subs={str(k): str(v) for k, v in (item.get("subs") or {}).items()},
        pending=tuple(str(r) for r in item.get("pending") or ()),
        version=int(item.get("version", 1)),
    )


def _get(key: dict[str, str], *, region: str, consistent: bool, action: str) -> dict | None:
    return item_get(region=region, table=_table(), key=key, consistent=consistent, action=action)


def user_get(*, user_id: str, region: str, consistent: bool = False) -> UserRecord | None:
    item = _get(
        _user_key(user_id), region=region, consistent=consistent, action=f"read user {user_id}"
    )
    return _record_from_item(item) if item else None


def user_by_name(*, username: str, region: str, consistent: bool = False) -> UserRecord | None:
    """The user who holds `username` (any case or NFKC variant) in `region`'s replica."""
    normalised = username_normalise(username)
    claim = _get(
        _name_key(normalised),
        region=region,
        consistent=consistent,
        action=f"look up user name {normalised!r}",
    )
    if not claim:
        return None
    return user_get(user_id=str(claim["user_id"]), region=region, consistent=consistent)


def writable_region() -> str:
    """Where names are claimed: the writable region (this one when none is)."""
    return gate.writable_region() or settings.MRA_REGION


def user_find(*, username: str) -> UserRecord | None:
    """The user holding the name: this region's replica first, then (from a
    read-only region the claim has not reached yet) the writable region, where
    names are claimed."""
    region = settings.MRA_REGION
    record = user_by_name(username=username, region=region)
    if record:
        return record
    home = writable_region()
    if home == region:
        return None
    try:
        return user_by_name(username=username, region=home, consistent=True)
    except AwsError:
        return None


def user_claim(
    *, username: str, created_at: str, subs: dict[str, str], pending: tuple[str, ...]
) -> UserRecord:
    """Claim the name and create the user's record, in one transaction gated by the
    routing state (WriteRefused outside the writable region); NameTaken if claimed."""
    region = settings.MRA_REGION
    record = UserRecord(
        id=new_user_id(),
        username=username,
        normalised=username_normalise(username),
        created_at=created_at,
        subs=subs,
        pending=pending,
    )
    try:
        guarded_write(
            writes=[
                Put(
                    table=_table(),
                    item={
                        **_name_key(record.normalised),
                        "user_id": record.id,
                        **write_stamp(region),
                    },
                    condition=Attr("pk").not_exists(),
                ),
                Put(
                    table=_table(),
                    item=_record_item(record, region),
                    condition=Attr("pk").not_exists(),
                ),
            ],
            region=region,
            action=f"claim user name {record.normalised!r}",
        )
    except ConditionFailed as exc:
        raise NameTaken(record.normalised) from exc
    lookup_cache.clear()
    return record


def user_release(*, record: UserRecord) -> None:
    """Undo a claim whose user could not be created in the serving pool."""
    region = settings.MRA_REGION
    transact(
        region=region,
        writes=[
            Delete(
                table=_table(),
                key=_name_key(record.normalised),
                condition=Attr("user_id").eq(record.id),
            ),
            Delete(
                table=_table(),
                key=_user_key(record.id),
                condition=Attr("version").eq(record.version),
            ),
        ],
        action=f"release user name {record.normalised!r}",
    )
    lookup_cache.clear()


def user_pool_record(*, record: UserRecord, pool_region: str, sub: str) -> UserRecord:
    """Record the user's `sub` in `pool_region`'s pool (no longer pending there);
    ConditionFailed if the record changed meanwhile."""
    region = settings.MRA_REGION
    updated = replace(
        record,
        subs={**record.subs, pool_region: sub},
        pending=tuple(r for r in record.pending if r != pool_region),
        version=record.version + 1,
    )
    guarded_write(
        writes=[
            Put(
                table=_table(),
                item=_record_item(updated, region),
                condition=Attr("version").eq(record.version),
            )
        ],
        region=region,
        action=f"record user {record.id} in {pool_region}'s pool",
    )
    lookup_cache.clear()
    return updated


lookup_cache: SingleFlightCache[UserRecord | None] = SingleFlightCache()


def user_for_token(*, username: str, pool_region: str, sub: str) -> UserRecord | None:
    """The registered user a verified token belongs to, or None: the token's pool
    and `sub` must be the ones recorded for the name it carries."""
    if not username or not sub or not pool_region:
        return None
    region = settings.MRA_REGION

    def load() -> UserRecord | None:
        record = user_find(username=username)
        return record if record and record.recorded(pool_region, sub) else None

    return lookup_cache.get(
        (region, pool_region, sub, username), max_age=LOOKUP_MAX_AGE_SECONDS, load=load
    )
