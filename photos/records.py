"""Photos and comments as stored in the `photos` table, and their keys.

One table, designed for the queries the site makes (see the `photos` TableSpec):
  photo    pk "PHOTO#<id>"  sk "META"
           gallery_pk "GALLERY#<n>"       gallery_sk "<created_at>#<id>"  (all photos by time,
                                          written across GALLERY_SHARDS keys; n from the id)
           owner_pk "OWNER#<owner_id>"    owner_sk "<created_at>#<id>"    (one user's photos)
  comment  pk "PHOTO#<id>"  sk "COMMENT#<created_at>#<comment id>"         (a photo's comments)
  purge    pk "PHOTO#<id>"  sk "PURGE"  (a deleted photo whose media may remain)
           gallery_pk "PURGE"             gallery_sk "<deleted_at>#<id>"  (every pending purge)
Comments carry no index attributes, and the gallery index keeps pending purges
apart under their own hash key, so the gallery and by_owner queries see photos only.
"""

import dataclasses
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from .images import ProcessedImage

ID_PATTERN = r"[0-9a-f]{32}"
_ID_RE = re.compile(ID_PATTERN)
META = "META"
COMMENT_PREFIX = "COMMENT#"
GALLERY = "GALLERY"
# The gallery index is write-sharded: a photo's gallery_pk is one of
# GALLERY_SHARDS keys, so uploads spread over as many DynamoDB partitions
# instead of all hitting one, and a page merges one query per shard
# (photos.selectors). Changing the count needs `manage.py gallery_backfill`.
GALLERY_SHARDS = 4
PURGE = "PURGE"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

T = TypeVar("T")


class _Created:
    created_at: str

    @property
    def created(self) -> datetime:
        return parse_timestamp(self.created_at)

    @property
    def created_ago(self) -> str:
        return time_ago(self.created, datetime.now(UTC))


@dataclass(frozen=True)
class Photo(_Created):
    id: str
    title: str
    owner: str  # the username, shown
    created_at: str
    width: int
    height: int
    content_type: str
    original_key: str
    thumbnail_key: str
    comment_count: int
    media_region: str
    owner_id: str  # the user registry's stable id: ownership
    # The display size (photos.images.DISPLAY_LONGEST_SIDE, WebP); "" and 0 for a
    # photo stored before it existed, until `manage.py photos_renditions` makes it.
    display_key: str = ""
    display_width: int = 0
    display_height: int = 0


@dataclass(frozen=True)
class Comment(_Created):
    id: str
    photo_id: str
    author: str
    message: str
    created_at: str
    author_id: str


@dataclass(frozen=True)
class PendingPurge:
    """A deleted photo whose media (every key under its media_prefix) may remain:
    recorded with the delete, cleared once no version of them is left."""

    photo_id: str
    deleted_at: str


@dataclass(frozen=True)
class Page(Generic[T]):
    results: list[T]
    next_cursor: str | None


def parse_timestamp(value: str) -> datetime:
    return datetime.strptime(value, TIMESTAMP_FORMAT).replace(tzinfo=UTC)


# (seconds in the unit, its name): static/js/photo.js words it the same way.
_AGO_UNITS = (
    (365 * 86400, "year"),
    (30 * 86400, "month"),
    (86400, "day"),
    (3600, "hour"),
    (60, "minute"),
)


def time_ago(then: datetime, now: datetime) -> str:
    """ "3 minutes ago": the largest whole unit; "just now" under a minute (or ahead of now)."""
    seconds = (now - then).total_seconds()
    for size, name in _AGO_UNITS:
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {name}{'' if count == 1 else 's'} ago"
    return "just now"


def new_id() -> str:
    return secrets.token_hex(16)


def is_id(value: str) -> bool:
    return bool(_ID_RE.fullmatch(value))


def now_timestamp() -> str:
    """UTC with microseconds, fixed width, so that string order is time order."""
    return datetime.now(UTC).strftime(TIMESTAMP_FORMAT)


def photo_pk(photo_id: str) -> str:
    return f"PHOTO#{photo_id}"


def gallery_shard_pks() -> tuple[str, ...]:
    return tuple(f"{GALLERY}#{n}" for n in range(GALLERY_SHARDS))


def gallery_pk(photo_id: str) -> str:
    """The gallery shard of a photo: from its random id, so it never changes."""
    return f"{GALLERY}#{int(photo_id[:8], 16) % GALLERY_SHARDS}"


def owner_pk(owner_id: str) -> str:
    return f"OWNER#{owner_id}"


def media_prefix(photo_id: str) -> str:
    """Where every object of a photo lives: the random id makes it the photo's alone,
    never reused, so a purge of it cannot touch another photo's bytes."""
    return f"photos/{photo_id}/"


def media_keys(photo_id: str, extension: str) -> tuple[str, str]:
    """(original, thumbnail) object keys: from the random id only, never user input."""
    prefix = media_prefix(photo_id)
    return f"{prefix}original.{extension}", f"{prefix}thumb.webp"


def display_key(photo_id: str) -> str:
    """The display size's object key: from the random id only, under the photo's
    media prefix, so deletion and replication treat it as the others."""
    return f"{media_prefix(photo_id)}display.webp"


def photo_new(
    *,
    photo_id: str,
    title: str,
    owner: str,
    owner_id: str,
    created_at: str,
    image: "ProcessedImage",
    region: str,
) -> Photo:
    """A photo about to be stored in `region`, with keys derived from its id."""
    original_key, thumbnail_key = media_keys(photo_id, image.extension)
    return Photo(
        id=photo_id,
        title=title,
        owner=owner,
        created_at=created_at,
        width=image.width,
        height=image.height,
        content_type=image.content_type,
        original_key=original_key,
        thumbnail_key=thumbnail_key,
        comment_count=0,
        media_region=region,
        owner_id=owner_id,
        display_key=display_key(photo_id),
        display_width=image.display.width,
        display_height=image.display.height,
    )


def media_objects(photo: Photo, image: "ProcessedImage") -> list[tuple[str, bytes, str]]:
    """(key, body, content type) of each object a new photo stores."""
    return [
        (photo.original_key, image.original, photo.content_type),
        (photo.thumbnail_key, image.thumbnail, "image/webp"),
        (photo.display_key, image.display.data, "image/webp"),
    ]


def photo_item(photo: Photo) -> dict[str, Any]:
    order = f"{photo.created_at}#{photo.id}"
    return {
        "pk": photo_pk(photo.id),
        "sk": META,
        "gallery_pk": gallery_pk(photo.id),
        "gallery_sk": order,
        "owner_pk": owner_pk(photo.owner_id),
        "owner_sk": order,
        **dataclasses.asdict(photo),
    }


def photo_from_item(item: dict[str, Any]) -> Photo:
    return _record_from_item(Photo, item)


def purge_item(purge: PendingPurge) -> dict[str, Any]:
    return {
        "pk": photo_pk(purge.photo_id),
        "sk": PURGE,
        "gallery_pk": PURGE,
        "gallery_sk": f"{purge.deleted_at}#{purge.photo_id}",
        "photo_id": purge.photo_id,
        "deleted_at": purge.deleted_at,
    }


def purge_from_item(item: dict[str, Any]) -> PendingPurge:
    return PendingPurge(photo_id=str(item["photo_id"]), deleted_at=str(item["deleted_at"]))


def comment_item(comment: Comment) -> dict[str, Any]:
    return {
        "pk": photo_pk(comment.photo_id),
        "sk": f"{COMMENT_PREFIX}{comment.created_at}#{comment.id}",
        **dataclasses.asdict(comment),
    }


def comment_from_item(item: dict[str, Any]) -> Comment:
    return _record_from_item(Comment, item)


# Attributes that items written before they existed lack.
_ITEM_DEFAULTS: dict[str, Any] = {
    "comment_count": 0,
    "media_region": "",
    "owner_id": "",
    "author_id": "",
    "display_key": "",
    "display_width": 0,
    "display_height": 0,
}
R = TypeVar("R", Photo, Comment)


def _record_from_item(record: type[R], item: dict[str, Any]) -> R:
    """Each field converted to its declared type: DynamoDB gives numbers as Decimal."""
    values: dict[str, Any] = {}
    for field in dataclasses.fields(record):
        raw: Any = item[field.name] if field.name in item else _ITEM_DEFAULTS[field.name]
        values[field.name] = int(raw) if field.type is int else str(raw)
    return record(**values)
