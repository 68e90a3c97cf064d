"""Reading photos and comments: DynamoDB queries only, never a Scan."""

from typing import Any

from django.conf import settings

from mra_site.aws.dynamodb import ConditionBase, Key, item_get, items_query
from mra_site.resources import table_name

from .cursors import cursor_decode, cursor_encode
from .errors import PhotoNotFound
from .records import (
    COMMENT_PREFIX,
    GALLERY,
    META,
    Comment,
    Page,
    Photo,
    comment_from_item,
    is_id,
    owner_pk,
    photo_from_item,
    photo_pk,
)

DEFAULT_PAGE_SIZE = 24
MAX_PAGE_SIZE = 100


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
        index, hash_name, hash_value, range_name = "gallery", "gallery_pk", GALLERY, "gallery_sk"
    else:
        index, hash_name, hash_value, range_name = (
            "by_owner",
            "owner_pk",
            owner_pk(owner),
            "owner_sk",
        )
    items, next_cursor = _query(
        region=region,
        scope=f"{index}:{hash_value}",
        key_fields=("pk", "sk", hash_name, range_name),
        cursor=cursor,
        limit=limit,
        key=Key(hash_name).eq(hash_value),
        index=index,
        forward=False,
    )
    return Page(results=[photo_from_item(item) for item in items], next_cursor=next_cursor)


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
