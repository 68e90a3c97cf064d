"""Removing media that no photo refers to: a deleted photo whose media removal
failed (its pending purge record says so) and an upload that died between its
media and its metadata. Every version goes, not only the current one."""

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from django.conf import settings

from mra_site.aws import s3
from mra_site.aws.dynamodb import Key, item_get, items_query
from mra_site.resources import media_bucket, table_name

from .records import META, PURGE, PendingPurge, media_prefix, photo_pk, purge_from_item
from .services import media_purge

MEDIA_PREFIX = "photos/"
_PAGE = 100


def purges_pending(*, region: str) -> Iterator[PendingPurge]:
    """Every pending purge recorded in `region`, oldest delete first."""
    start: dict | None = None
    while True:
        items = items_query(
            region=region,
            table=table_name("photos"),
            index="gallery",
            key=Key("gallery_pk").eq(PURGE),
            limit=_PAGE,
            start=start,
            action="list pending media purges",
        )
        yield from (purge_from_item(item) for item in items)
        if len(items) < _PAGE:
            return
        last = items[-1]
        start = {name: last[name] for name in ("pk", "sk", "gallery_pk", "gallery_sk")}


def pending_purges_complete(
    *, region: str | None = None, dry_run: bool = False
) -> tuple[list[str], list[str]]:
    """Remove every version of each pending purge's media in `region` and clear the
    record once none is left; returns the photo ids done (or, dry, pending) and
    those whose purge failed again (their records stay for the next run)."""
    region = region or settings.MRA_REGION
    done: list[str] = []
    failed: list[str] = []
    for purge in purges_pending(region=region):
        if dry_run or media_purge(purge=purge, region=region):
            done.append(purge.photo_id)
        else:
            failed.append(purge.photo_id)
    return done, failed


def orphan_media_delete(
    *, grace: timedelta, region: str | None = None, dry_run: bool = False
) -> list[str]:
    """Remove every version of the media under photos/<id>/ whose photo has no
    metadata in `region` and whose newest version (or delete marker) is older than
    `grace`; returns the keys whose bytes were removed.

    The grace period protects uploads in flight, whose media are written before
    their metadata. A key left with only a delete marker loses it too once the
    marker is older than the grace period (it has long been replicated by then).
    """
    region = region or settings.MRA_REGION
    bucket = media_bucket(region)
    cutoff = datetime.now(UTC) - grace
    by_photo: dict[str, list[s3.StoredVersion]] = defaultdict(list)
    for version in s3.object_versions(region=region, bucket=bucket, prefix=MEDIA_PREFIX):
        by_photo[version.key[len(MEDIA_PREFIX) :].split("/", 1)[0]].append(version)
    removed: list[str] = []
    for photo_id, versions in sorted(by_photo.items()):
        if max(v.last_modified for v in versions) > cutoff:
            continue
        known = item_get(
            region=region,
            table=table_name("photos"),
            key={"pk": photo_pk(photo_id), "sk": META},
            action=f"get photo {photo_id}",
        )
        if known is not None:
            continue
        keys = sorted({v.key for v in versions if not v.delete_marker})
        if not dry_run:
            s3.objects_purge(
                region=region,
                bucket=bucket,
                prefix=media_prefix(photo_id),
                keep_delete_marker=bool(keys),
            )
        removed += keys
    return removed
