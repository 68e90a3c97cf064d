"""Removing media that no photo refers to (an upload that died between its
media and its metadata, or a delete whose media removal failed)."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.conf import settings

from mra_site.aws import s3
from mra_site.aws.dynamodb import item_get
from mra_site.resources import media_bucket, table_name

from .records import META, photo_pk
from .services import media_remove

MEDIA_PREFIX = "photos/"


def orphan_media_delete(
    *, grace: timedelta, region: str | None = None, dry_run: bool = False
) -> list[str]:
    """Delete media under photos/<id>/ whose photo has no metadata in `region`
    and whose newest object is older than `grace`; returns the keys removed.

    The grace period protects uploads in flight, whose media are written
    before their metadata.
    """
    region = region or settings.MRA_REGION
    cutoff = datetime.now(UTC) - grace
    by_photo: dict[str, list[s3.StoredObject]] = defaultdict(list)
    for stored in s3.objects_list(region=region, bucket=media_bucket(region), prefix=MEDIA_PREFIX):
        photo_id = stored.key[len(MEDIA_PREFIX) :].split("/", 1)[0]
        by_photo[photo_id].append(stored)
    removed: list[str] = []
    for photo_id, objects in sorted(by_photo.items()):
        if max(o.last_modified for o in objects) > cutoff:
            continue
        known = item_get(
            region=region,
            table=table_name("photos"),
            key={"pk": photo_pk(photo_id), "sk": META},
            action=f"get photo {photo_id}",
        )
        if known is not None:
            continue
        keys = [o.key for o in objects]
        if not dry_run:
            media_remove(region=region, keys=keys)
        removed += keys
    return removed
