"""Reading photos and comments: DynamoDB queries only, never a Scan."""

import contextvars
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings

from mra_site.aws.dynamodb import ConditionBase, Key, item_get, items_query
from mra_site.resources import table_name

from .cursors import cursor_decode, cursor_encode
from .errors import InvalidCursor, PhotoNotFound
from .records import (
    COMMENT_PREFIX,
    ID_PATTERN,
    META,
    Comment,
    Page,
    Photo,
    comment_from_item,
    gallery_shard_pks,
    is_id,
    owner_pk,
    photo_from_item,
    photo_pk,
)

DEFAULT_PAGE_SIZE = 24
MAX_PAGE_SIZE = 100
# A gallery cursor holds, per shard, the gallery_sk of the last photo a page
# showed from it: "" when none yet, "-" once the shard has nothing left.
_SHARD_FRESH, _SHARD_DONE = "", "-"
_GALLERY_SK_RE = re.compile(rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{6}}Z#({ID_PATTERN})")

# The gallery's shards are read at once, as a merged read of sharded keys is:
# a page waits for its slowest shard, not for the sum of them. Shared by the
# process's request threads; a request's queries are a few of its slots.
_shard_reads = ThreadPoolExecutor(max_workers=16, thread_name_prefix="gallery shard")
T = TypeVar("T")


def _each_shard(read: Callable[[str], T], shards: tuple[str, ...]) -> list[T]:
    """read(shard) for every shard, concurrently, each in a copy of the caller's
    context (its context variables); the results in the shards' order. Returns or
    raises (the first shard's error) only once every read has ended: none is left
    running on behalf of a request that has been answered."""
    if len(shards) <= 1:
        return [read(shard) for shard in shards]
    futures = [_shard_reads.submit(contextvars.copy_context().run, read, shard) for shard in shards]
    wait(futures)
    return [future.result() for future in futures]


def photo_get(*, photo_id: str, region: str | None = None) -> Photo:
    """One photo; PhotoNotFound when the id is malformed or unknown."""
    if not is_id(photo_id):
        raise PhotoNotFound(photo_id)
    region = region or settings.MRA_REGION
    item = item_get(
        region=region,
        table=table_name("photos"),
        key={"pk": photo_pk(photo_id), "sk": META},
        # Consistent: the page a user is sent to right after an upload must find it.
        consistent=True,
        action=f"get photo {photo_id}",
    )
    if not item:
        raise PhotoNotFound(photo_id)
    return photo_from_item(item)


def photo_list(
    *,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
    owner: str | None = None,
    region: str | None = None,
) -> Page[Photo]:
    """Newest first: every photo (the gallery), or one owner's ("My photos")."""
    if owner is None:
        return _gallery_page(region=region or settings.MRA_REGION, limit=limit, cursor=cursor)
    hash_value = owner_pk(owner)
    items, next_cursor = _query(
        region=region,
        scope=f"by_owner:{hash_value}",
        key_fields=("pk", "sk", "owner_pk", "owner_sk"),
        cursor=cursor,
        limit=limit,
        key=Key("owner_pk").eq(hash_value),
        index="by_owner",
        forward=False,
    )
    return Page(results=[photo_from_item(item) for item in items], next_cursor=next_cursor)


def _gallery_page(*, region: str, limit: int, cursor: str | None) -> Page[Photo]:
    """Every shard's next photos, merged newest first: one Query per shard that is
    not yet exhausted. Each shard asks for one photo more than the page, so a
    photo fetched and not shown means another page exists."""
    shards = gallery_shard_pks()
    positions = _gallery_cursor_decode(cursor, shards) if cursor else dict.fromkeys(shards, "")
    open_shards = tuple(shard for shard in shards if positions[shard] != _SHARD_DONE)

    def read(shard: str) -> list[dict[str, Any]]:
        position = positions[shard]
        return items_query(
            region=region,
            table=table_name("photos"),
            key=Key("gallery_pk").eq(shard),
            index="gallery",
            forward=False,
            limit=limit + 1,
            start=_gallery_start_key(shard, position) if position else None,
            action=f"query gallery:{shard}",
        )

    fetched: list[tuple[str, dict[str, Any]]] = []
    for shard, items in zip(open_shards, _each_shard(read, open_shards), strict=True):
        fetched += [(shard, item) for item in items]
        if not items:
            positions[shard] = _SHARD_DONE
    fetched.sort(key=lambda pair: str(pair[1]["gallery_sk"]), reverse=True)
    shown, rest = fetched[:limit], fetched[limit:]
    for shard, item in shown:
        positions[shard] = str(item["gallery_sk"])
    left = {shard for shard, _item in rest}
    for shard, position in positions.items():
        if shard not in left and position != _SHARD_DONE:
            # Its query returned everything it had (at most the page) and all of it is shown.
            positions[shard] = _SHARD_DONE
    next_cursor = cursor_encode(key=positions, scope=_GALLERY_SCOPE) if rest else None
    return Page(results=[photo_from_item(item) for _shard, item in shown], next_cursor=next_cursor)


_GALLERY_SCOPE = f"gallery:{len(gallery_shard_pks())}-shards"


def _gallery_cursor_decode(cursor: str, shards: tuple[str, ...]) -> dict[str, str]:
    positions = cursor_decode(cursor=cursor, scope=_GALLERY_SCOPE, fields=shards)
    for position in positions.values():
        if position not in (_SHARD_FRESH, _SHARD_DONE) and not _GALLERY_SK_RE.fullmatch(position):
            raise InvalidCursor()
    return positions


def _gallery_start_key(shard: str, gallery_sk: str) -> dict[str, str]:
    """The index key of the photo at `gallery_sk`: its id ends the sort key."""
    photo_id = gallery_sk.rsplit("#", 1)[1]
    return {"pk": photo_pk(photo_id), "sk": META, "gallery_pk": shard, "gallery_sk": gallery_sk}


@dataclass(frozen=True)
class Neighbour:
    id: str
    title: str


def photo_neighbour(*, photo: Photo, newer: bool, region: str | None = None) -> Neighbour | None:
    """The photo next to `photo` in the gallery's newest-first order, on the newer
    or the older side. Per shard, one Query of one item from the photo's position;
    asked only when a visitor steps, so a photo page costs none of them."""
    region = region or settings.MRA_REGION
    position = f"{photo.created_at}#{photo.id}"
    side = Key("gallery_sk").gt(position) if newer else Key("gallery_sk").lt(position)

    def read(shard: str) -> list[dict[str, Any]]:
        return items_query(
            region=region,
            table=table_name("photos"),
            key=Key("gallery_pk").eq(shard) & side,
            index="gallery",
            forward=newer,
            limit=1,
            attributes=("id", "title", "gallery_sk"),
            action=f"query gallery:{shard} next to photo {photo.id}",
        )

    found = [item for items in _each_shard(read, gallery_shard_pks()) for item in items]
    nearest = min if newer else max
    return _neighbour(nearest(found, key=_gallery_order, default=None))


def _gallery_order(item: dict[str, Any]) -> str:
    return str(item["gallery_sk"])


def _neighbour(item: dict[str, Any] | None) -> Neighbour | None:
    return Neighbour(id=str(item["id"]), title=str(item["title"])) if item else None


def comment_list(
    *,
    photo_id: str,
    limit: int = MAX_PAGE_SIZE,
    cursor: str | None = None,
    region: str | None = None,
) -> Page[Comment]:
    """A photo's comments, oldest first."""
    items, next_cursor = _query(
        region=region,
        scope=f"comments:{photo_id}",
        key_fields=("pk", "sk"),
        cursor=cursor,
        limit=limit,
        key=Key("pk").eq(photo_pk(photo_id)) & Key("sk").begins_with(COMMENT_PREFIX),
        consistent=True,
    )
    return Page(results=[comment_from_item(item) for item in items], next_cursor=next_cursor)


def _query(
    *,
    region: str | None,
    scope: str,
    key_fields: tuple[str, ...],
    cursor: str | None,
    limit: int,
    key: ConditionBase,
    index: str | None = None,
    forward: bool = True,
    consistent: bool = False,
) -> tuple[list[dict[str, Any]], str | None]:
    """One Query call for one page. Asking for one item more than the page tells
    whether another page exists, so the last page never hands out a cursor."""
    items = items_query(
        region=region or settings.MRA_REGION,
        table=table_name("photos"),
        key=key,
        index=index,
        forward=forward,
        consistent=consistent,
        limit=limit + 1,
        start=cursor_decode(cursor=cursor, scope=scope, fields=key_fields) if cursor else None,
        action=f"query {scope}",
    )
    if len(items) <= limit:
        return items, None
    items = items[:limit]
    last = {field: str(items[-1][field]) for field in key_fields}
    return items, cursor_encode(key=last, scope=scope)
