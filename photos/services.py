"""Changing photos and comments: upload, delete, comment.

Every metadata write commits through routing.fencing.guarded_write, after an
early assert_writable() so that a region that may not write does no work.
"""

import dataclasses
import logging
import random
import time
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings

from mra_site.aws import s3
from mra_site.aws.dynamodb import Attr, Delete, Key, Put, Update, Write, items_query, write_stamp
from mra_site.aws.errors import AwsError, ConditionFailed
from mra_site.resources import media_bucket, table_name
from routing.fencing import WriteRefused, assert_writable, guarded_write

from .errors import ImageRefused, InvalidInput, NotOwner, PhotoNotFound
from .idempotency import (
    Attempt,
    Endpoint,
    OutcomeUnknown,
    Replay,
    attempt_release,
    attempt_start,
    create_commit,
    scope_for,
)
from .images import display_rendition, image_process, read_limited, too_large
from .records import (
    COMMENT_PREFIX,
    META,
    PURGE,
    Comment,
    PendingPurge,
    Photo,
    comment_from_item,
    comment_item,
    display_key,
    is_id,
    media_objects,
    media_prefix,
    new_id,
    now_timestamp,
    photo_from_item,
    photo_item,
    photo_new,
    photo_pk,
    purge_item,
)
from .selectors import MAX_PAGE_SIZE, photo_get, photo_list
from .texts import text_clean

logger = logging.getLogger(__name__)

TITLE_MAX_LENGTH = 200
COMMENT_MAX_LENGTH = 1000
# TransactWriteItems takes 100 items; guarded_write adds its state check.
_DELETE_CHUNK = 99
_CONFLICT_RETRIES = 6


@dataclass(frozen=True)
class _TextRule:
    field: str
    noun: str
    max_length: int
    empty: str

    def clean(self, value: str) -> str:
        """`value` without surrounding space; InvalidInput ("invalid_<field>") when it is
        empty or longer than `max_length`."""
        value = text_clean(value, field=self.field, noun=self.noun)
        if not value:
            raise InvalidInput(f"invalid_{self.field}", self.empty, field=self.field)
        if len(value) > self.max_length:
            raise InvalidInput(
                f"invalid_{self.field}",
                f"The {self.noun} is {len(value)} characters; keep it to {self.max_length}.",
                field=self.field,
            )
        return value


_TITLE = _TextRule("title", "title", TITLE_MAX_LENGTH, "Give the photo a title.")
_MESSAGE = _TextRule("message", "comment", COMMENT_MAX_LENGTH, "Write a comment before sending it.")


def title_clean(title: str) -> str:
    return _TITLE.clean(title)


def message_clean(message: str) -> str:
    return _MESSAGE.clean(message)


def photo_create(
    *,
    owner: str,
    owner_id: str,
    title: str,
    upload: BinaryIO,
    size: int | None = None,
    region: str | None = None,
    idempotency_key: str | None = None,
    in_flight_wait: float = 0.0,
) -> Photo:
    """Validate and store an uploaded image: media first, metadata last.

    `size` is the declared size when known, so an oversized file is refused
    before any of it is read. On any failure nothing is visible and the media
    written so far are removed. With an `idempotency_key`, a retry of a stored
    upload returns the stored photo (see photos.idempotency); a retry while the
    first attempt runs waits up to `in_flight_wait` seconds for its result.
    """
    region = region or settings.MRA_REGION
    assert_writable(region=region)
    raw_title = title
    title = title_clean(title)
    max_bytes = settings.MRA_PHOTO_MAX_BYTES
    if size is not None and size > max_bytes:
        raise too_large(max_bytes)
    data = read_limited(upload, max_bytes=max_bytes)
    image = image_process(data=data, max_pixels=settings.MRA_PHOTO_MAX_PIXELS)
    scope = scope_for(
        key=idempotency_key, user=owner_id, endpoint=Endpoint.PHOTOS, parts=(raw_title, data)
    )
    attempt = attempt_start(scope=scope, region=region, claim=True, wait=in_flight_wait)
    if isinstance(attempt, Replay):
        return photo_from_item(attempt.result)
    photo = photo_new(
        photo_id=new_id(),
        title=title,
        owner=owner,
        owner_id=owner_id,
        created_at=now_timestamp(),
        image=image,
        region=region,
    )
    attempted: list[str] = []
    try:
        for key, body, content_type in media_objects(photo, image):
            # Listed before the put: a put that timed out may still have stored it.
            attempted.append(key)
            s3.object_put(
                region=region,
                bucket=media_bucket(region),
                key=key,
                body=body,
                content_type=content_type,
            )
        replay = _photo_commit(photo=photo, attempt=attempt, region=region)
    except OutcomeUnknown:
        # The metadata may still land: its media must stay (photos_gc removes
        # them after its grace period if it never does), and so must the claim.
        raise
    except Exception:
        media_remove(region=region, keys=attempted)
        attempt_release(attempt=attempt, region=region)
        raise
    if replay is not None:
        # Another attempt with the same key stored the photo meanwhile.
        media_remove(region=region, keys=attempted)
        return photo_from_item(replay.result)
    return photo


def _photo_commit(*, photo: Photo, attempt: Attempt | None, region: str) -> Replay | None:
    item = photo_item(photo)
    return create_commit(
        writes=[
            Put(
                table=table_name("photos"),
                item={**item, **write_stamp(region)},
                condition=Attr("pk").not_exists(),
            )
        ],
        own_key={"pk": item["pk"], "sk": item["sk"]},
        attempt=attempt,
        result=dataclasses.asdict(photo),
        region=region,
        action=f"create photo {photo.id}",
    )


def photo_delete(*, photo_id: str, owner_id: str, region: str | None = None) -> None:
    """Delete a photo (owner only), then its comments and every version of its media."""
    region = region or settings.MRA_REGION
    assert_writable(region=region)
    photo = photo_get(photo_id=photo_id, region=region)
    # The registry's stable id, never the username: a name is not an identity
    # across two regions' user pools.
    if not owner_id or photo.owner_id != owner_id:
        raise NotOwner()
    # The metadata goes first, so the photo never shows without its bytes; the
    # pending purge is committed with it, so bytes left behind are never forgotten.
    purge = PendingPurge(photo_id=photo_id, deleted_at=now_timestamp())
    try:
        guarded_write(
            writes=[
                Delete(
                    table=table_name("photos"),
                    key={"pk": photo_pk(photo_id), "sk": META},
                    condition=Attr("pk").exists(),
                ),
                Put(table=table_name("photos"), item={**purge_item(purge), **write_stamp(region)}),
            ],
            region=region,
            action=f"delete photo {photo_id}",
        )
    except ConditionFailed as exc:
        raise PhotoNotFound(photo_id) from exc
    # The photo is gone, so no new comment can commit (comment_create requires
    # the photo item): one sweep after the delete finds every comment.
    _comments_delete(photo_id=photo_id, region=region)
    media_purge(purge=purge, region=region)


def comment_create(
    *,
    photo_id: str,
    author: str,
    author_id: str,
    message: str,
    region: str | None = None,
    idempotency_key: str | None = None,
) -> Comment:
    """Add a comment and count it on the photo in one transaction. With an
    `idempotency_key`, a retry of a stored comment returns the stored comment."""
    region = region or settings.MRA_REGION
    assert_writable(region=region)
    raw_message = message
    message = message_clean(message)
    if not is_id(photo_id):
        raise PhotoNotFound(photo_id)
    scope = scope_for(
        key=idempotency_key,
        user=author_id,
        endpoint=Endpoint.COMMENTS,
        parts=(photo_id, raw_message),
    )
    attempt = attempt_start(scope=scope, region=region, claim=False)
    if isinstance(attempt, Replay):
        return comment_from_item(attempt.result)
    comment = Comment(
        id=new_id(),
        photo_id=photo_id,
        author=author,
        author_id=author_id,
        message=message,
        created_at=now_timestamp(),
    )
    stamp = write_stamp(region)
    item = comment_item(comment)
    writes: list[Write] = [
        Update(
            table=table_name("photos"),
            key={"pk": photo_pk(photo_id), "sk": META},
            set=stamp,
            add={"comment_count": 1},
            condition=Attr("pk").exists(),
        ),
        Put(
            table=table_name("photos"),
            item={**item, **stamp},
            condition=Attr("pk").not_exists(),
        ),
    ]
    for attempt_number in range(_CONFLICT_RETRIES):
        try:
            replay = create_commit(
                writes=writes,
                own_key={"pk": item["pk"], "sk": item["sk"]},
                attempt=attempt,
                result=dataclasses.asdict(comment),
                region=region,
                action=f"comment on photo {photo_id}",
            )
            return comment if replay is None else comment_from_item(replay.result)
        except ConditionFailed as exc:
            if exc.reasons and exc.reasons[0] == "ConditionalCheckFailed":
                raise PhotoNotFound(photo_id) from exc
            # Concurrent comments on one photo conflict on its counter; DynamoDB
            # cancels one transaction, which is safe to retry as it committed nothing.
            if "TransactionConflict" not in exc.reasons or attempt_number == _CONFLICT_RETRIES - 1:
                raise
            time.sleep(random.uniform(0, 0.02 * 2**attempt_number))
    raise AssertionError("unreachable")


def media_remove(*, region: str, keys: list[str]) -> None:
    """Remove the media of an upload that failed. Best effort: what is left behind
    has no metadata, and `manage.py photos_gc` removes it after its grace period."""
    try:
        s3.objects_purge(region=region, bucket=media_bucket(region), keys=keys)
    except AwsError:
        logger.warning("could not remove media %s in %s; photos_gc will", keys, region)


def media_purge(*, purge: PendingPurge, region: str) -> bool:
    """Remove every version of a deleted photo's media in `region`, then its pending
    purge record. False when S3 or the record's removal failed: the record stays
    and `manage.py photos_gc` tries again."""
    bucket = media_bucket(region)
    prefix = media_prefix(purge.photo_id)
    try:
        s3.objects_purge(region=region, bucket=bucket, prefix=prefix)
        left = [
            v
            for v in s3.object_versions(region=region, bucket=bucket, prefix=prefix)
            if not v.delete_marker
        ]
        if left:
            logger.warning(
                "%d versions of %s remain in %s; photos_gc will retry", len(left), prefix, region
            )
            return False
        guarded_write(
            writes=[
                Delete(
                    table=table_name("photos"), key={"pk": photo_pk(purge.photo_id), "sk": PURGE}
                )
            ],
            region=region,
            action=f"clear the pending purge of photo {purge.photo_id}",
        )
    except (AwsError, WriteRefused) as exc:
        logger.warning(
            "media of deleted photo %s remain in %s (%s); photos_gc will retry",
            purge.photo_id,
            region,
            exc,
        )
        return False
    return True


def _comments_delete(*, photo_id: str, region: str) -> None:
    while True:
        keys = items_query(
            region=region,
            table=table_name("photos"),
            key=Key("pk").eq(photo_pk(photo_id)) & Key("sk").begins_with(COMMENT_PREFIX),
            attributes=("pk", "sk"),
            limit=_DELETE_CHUNK,
            action=f"list comments of photo {photo_id}",
        )
        if not keys:
            return
        guarded_write(
            writes=[Delete(table=table_name("photos"), key=key) for key in keys],
            region=region,
            action=f"delete {len(keys)} comments of photo {photo_id}",
        )


@dataclass
class RenditionCounts:
    """What `renditions_backfill` did, photo by photo."""

    made: int = 0
    done_before: int = 0  # already had a display size: not touched
    gone: int = 0  # deleted, or given a display size by another run, meanwhile
    no_original: int = 0  # this region's bucket lacks the original (not replicated yet)
    refused: int = 0  # the original could not be read as an image

    @property
    def total(self) -> int:
        return self.made + self.done_before + self.gone + self.no_original + self.refused


def renditions_backfill(*, region: str | None = None, dry_run: bool = False) -> RenditionCounts:
    """Give every photo without a display size one, in the writable `region`.

    Idempotent and resumable: a photo that has one is skipped, so a second run (or
    one after an interruption) writes only what is still missing. The gallery's
    pages are read with Queries, never a Scan."""
    region = region or settings.MRA_REGION
    if not dry_run:
        assert_writable(region=region)
    counts = RenditionCounts()
    cursor: str | None = None
    while True:
        page = photo_list(limit=MAX_PAGE_SIZE, cursor=cursor, region=region)
        for photo in page.results:
            if photo.display_key:
                counts.done_before += 1
            elif dry_run:
                counts.made += 1
            else:
                outcome = photo_rendition_make(photo=photo, region=region)
                setattr(counts, outcome, getattr(counts, outcome) + 1)
        if page.next_cursor is None:
            return counts
        cursor = page.next_cursor


def photo_rendition_make(*, photo: Photo, region: str) -> str:
    """Make and record `photo`'s display size from its stored original, as an upload
    does; the RenditionCounts field the outcome counts in."""
    assert_writable(region=region)
    bucket = media_bucket(region)
    original = s3.object_get(region=region, bucket=bucket, key=photo.original_key)
    if original is None:
        return "no_original"
    try:
        display = display_rendition(data=original.body, max_pixels=settings.MRA_PHOTO_MAX_PIXELS)
    except ImageRefused:
        logger.warning("the original of photo %s in %s cannot be read", photo.id, region)
        return "refused"
    key = display_key(photo.id)
    s3.object_put(
        region=region, bucket=bucket, key=key, body=display.data, content_type="image/webp"
    )
    try:
        guarded_write(
            writes=[
                Update(
                    table=table_name("photos"),
                    key={"pk": photo_pk(photo.id), "sk": META},
                    set={
                        "display_key": key,
                        "display_width": display.width,
                        "display_height": display.height,
                        **write_stamp(region),
                    },
                    condition=Attr("pk").exists() & Attr("display_key").not_exists(),
                )
            ],
            region=region,
            action=f"record the display size of photo {photo.id}",
        )
    except ConditionFailed:
        # Deleted meanwhile (its purge removes every key under its prefix, and
        # photos_gc what a purge that ran first left), or made by a concurrent run.
        return "gone"
    return "made"
